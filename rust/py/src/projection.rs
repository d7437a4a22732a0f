//! The projection kernels: `monte_carlo` and `pnl_statistics` (see
//! `alvh_core::projection` and docs/projection_engine.md).
//!
//! `monte_carlo(inputs, out)` takes its ~40 inputs as one object and its seven output
//! buffers as another, built in Python as the frozen dataclasses
//! `alvh._core.kernel_inputs.ProjectionInputs` and `ProjectionBuffers` and read here
//! attribute by attribute (`#[derive(FromPyObject)]`). Not a `#[pyclass]`: the numpy
//! fallback takes the very same objects and must work without this extension, so
//! the type is defined once, in Python, for both backends; and extraction borrows
//! each array in place (numpy's borrow checks, as for positional arguments) instead
//! of copying it into an object the extension owns.

use crate::args::{leg_kinds, out_slice, readonly};
use crate::errors::run_detached;
use alvh_core::legs::LegKind;
use alvh_core::projection::{
    monte_carlo as core_monte_carlo, pnl_statistics as core_pnl_statistics, ProjectionInputs, ProjectionOut,
    VolDynamics,
};
use alvh_core::smile::{Ssvi, SviSmiles};
use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// `dynamics` code: the smile (SSVI, or SVI per leg) moves with the spot, read at
/// the path's forward.
pub(crate) const STICKY_MONEYNESS: u8 = 0;
/// `dynamics` code: `max(base_vol + tabulated change, floor_ratio * atm)` (sticky
/// strike, parallel).
pub(crate) const ADDITIVE: u8 = 1;

/// `ProjectionInputs.smile`: the SSVI smile (`alvh_core::smile::Ssvi`) and the floor
/// ratio of additive dynamics.
#[derive(FromPyObject)]
pub(crate) struct SmileArg {
    rho: f64,
    eta: f64,
    gamma: f64,
    floor_ratio: f64,
}

/// `ProjectionInputs.svi`: per-leg SVI slices (`alvh_core::smile::SviSmiles`).
#[derive(FromPyObject)]
pub(crate) struct SviArg<'py> {
    shapes: PyReadonlyArray1<'py, f64>,
    floor_ratio: f64,
    moneyness_limit: f64,
}

/// The attributes of `alvh._core.kernel_inputs.ProjectionInputs` (the field list and
/// meanings of `alvh_core::projection::ProjectionInputs`, plus the smile options).
#[derive(FromPyObject)]
pub(crate) struct ProjectionArgs<'py> {
    kind: PyReadonlyArray1<'py, u8>,
    is_call: PyReadonlyArray1<'py, bool>,
    strike: PyReadonlyArray1<'py, f64>,
    weight: PyReadonlyArray1<'py, f64>,
    expiry_day: PyReadonlyArray1<'py, i64>,
    spot: f64,
    rate: f64,
    div: f64,
    vix: f64,
    base_value: f64,
    drift: PyReadonlyArray1<'py, f64>,
    diffusion_vol: PyReadonlyArray1<'py, f64>,
    vix_beta: PyReadonlyArray1<'py, f64>,
    vol_of_vix: PyReadonlyArray1<'py, f64>,
    vix_kappa: PyReadonlyArray1<'py, f64>,
    vix_theta: PyReadonlyArray1<'py, f64>,
    atm_vix_ratio: f64,
    jump_mean: PyReadonlyArray1<'py, f64>,
    jump_std: PyReadonlyArray1<'py, f64>,
    vix_jump_mean: PyReadonlyArray1<'py, f64>,
    vix_jump_std: PyReadonlyArray1<'py, f64>,
    days: usize,
    paths: usize,
    seed: u64,
    greek_paths: usize,
    vix_lo: f64,
    vix_step: f64,
    n_nodes: usize,
    table_atm: PyReadonlyArray1<'py, f64>,
    table_change: PyReadonlyArray1<'py, f64>,
    table_vvol: PyReadonlyArray1<'py, f64>,
    fut_a: PyReadonlyArray1<'py, f64>,
    fut_b: PyReadonlyArray1<'py, f64>,
    dynamics: u8,
    smile: SmileArg,
    svi: Option<SviArg<'py>>,
    base_vol: PyReadonlyArray1<'py, f64>,
    barrier_low: f64,
    barrier_high: f64,
    scenario_offset: usize,
    first_valued_day: usize,
}

/// The attributes of `alvh._core.kernel_inputs.ProjectionBuffers`: the outputs,
/// overwritten (`spot_out` and `vix_out` None unless the paths are kept).
#[derive(FromPyObject)]
pub(crate) struct ProjectionBuffers<'py> {
    pnl_out: PyReadwriteArray1<'py, f64>,
    touch_sum_out: PyReadwriteArray1<'py, f64>,
    touch_sumsq_out: PyReadwriteArray1<'py, f64>,
    greek_sum_out: PyReadwriteArray1<'py, f64>,
    greek_sumsq_out: PyReadwriteArray1<'py, f64>,
    spot_out: Option<PyReadwriteArray1<'py, f64>>,
    vix_out: Option<PyReadwriteArray1<'py, f64>>,
}

impl ProjectionArgs<'_> {
    /// How the SPX vol of a live leg is found: `svi` (when given) or the SSVI `smile`
    /// under sticky moneyness; the smile's floor ratio under additive dynamics.
    fn dynamics(&self) -> PyResult<VolDynamics<'_>> {
        let SmileArg { rho, eta, gamma, floor_ratio } = self.smile;
        match (self.dynamics, &self.svi) {
            (STICKY_MONEYNESS, Some(svi)) => Ok(VolDynamics::StickyMoneynessSvi(SviSmiles {
                shapes: readonly("svi.shapes", &svi.shapes)?,
                floor_ratio: svi.floor_ratio,
                moneyness_limit: svi.moneyness_limit,
            })),
            (STICKY_MONEYNESS, None) => Ok(VolDynamics::StickyMoneyness(Ssvi { rho, eta, gamma })),
            (ADDITIVE, _) => Ok(VolDynamics::Additive { floor_ratio }),
            (other, _) => Err(PyValueError::new_err(format!(
                "dynamics must be 0 (sticky moneyness) or 1 (additive), got {other}"
            ))),
        }
    }

    /// The core's view of the inputs: slices borrowed from the arrays.
    fn borrow<'a>(&'a self, kind: &'a [LegKind]) -> PyResult<ProjectionInputs<'a>> {
        let dynamics = self.dynamics()?;
        Ok(ProjectionInputs {
            kind,
            is_call: readonly("is_call", &self.is_call)?,
            strike: readonly("strike", &self.strike)?,
            weight: readonly("weight", &self.weight)?,
            expiry_day: readonly("expiry_day", &self.expiry_day)?,
            spot: self.spot,
            rate: self.rate,
            div: self.div,
            vix: self.vix,
            base_value: self.base_value,
            drift: readonly("drift", &self.drift)?,
            diffusion_vol: readonly("diffusion_vol", &self.diffusion_vol)?,
            vix_beta: readonly("vix_beta", &self.vix_beta)?,
            vol_of_vix: readonly("vol_of_vix", &self.vol_of_vix)?,
            vix_kappa: readonly("vix_kappa", &self.vix_kappa)?,
            vix_theta: readonly("vix_theta", &self.vix_theta)?,
            atm_vix_ratio: self.atm_vix_ratio,
            jump_mean: readonly("jump_mean", &self.jump_mean)?,
            jump_std: readonly("jump_std", &self.jump_std)?,
            vix_jump_mean: readonly("vix_jump_mean", &self.vix_jump_mean)?,
            vix_jump_std: readonly("vix_jump_std", &self.vix_jump_std)?,
            days: self.days,
            paths: self.paths,
            seed: self.seed,
            greek_paths: self.greek_paths,
            vix_lo: self.vix_lo,
            vix_step: self.vix_step,
            n_nodes: self.n_nodes,
            table_atm: readonly("table_atm", &self.table_atm)?,
            table_change: readonly("table_change", &self.table_change)?,
            table_vvol: readonly("table_vvol", &self.table_vvol)?,
            fut_a: readonly("fut_a", &self.fut_a)?,
            fut_b: readonly("fut_b", &self.fut_b)?,
            dynamics,
            base_vol: readonly("base_vol", &self.base_vol)?,
            barrier_low: self.barrier_low,
            barrier_high: self.barrier_high,
            scenario_offset: self.scenario_offset,
            first_valued_day: self.first_valued_day,
        })
    }
}

impl ProjectionBuffers<'_> {
    /// The core's view of the outputs: mutable slices of the arrays.
    fn borrow(&mut self) -> PyResult<ProjectionOut<'_>> {
        Ok(ProjectionOut {
            pnl: out_slice("pnl_out", &mut self.pnl_out)?,
            touch_sum: out_slice("touch_sum_out", &mut self.touch_sum_out)?,
            touch_sumsq: out_slice("touch_sumsq_out", &mut self.touch_sumsq_out)?,
            greek_sum: out_slice("greek_sum_out", &mut self.greek_sum_out)?,
            greek_sumsq: out_slice("greek_sumsq_out", &mut self.greek_sumsq_out)?,
            spot: match self.spot_out.as_mut() {
                Some(a) => Some(out_slice("spot_out", a)?),
                None => None,
            },
            vix: match self.vix_out.as_mut() {
                Some(a) => Some(out_slice("vix_out", a)?),
                None => None,
            },
        })
    }
}

/// The Monte Carlo projection (see `alvh_core::projection` and
/// docs/projection_engine.md): fills `out.pnl_out` (scenarios, days, paths), the
/// touch and Greek sums, and optionally the SPX and VIX paths, from `inputs`.
#[pyfunction]
pub(crate) fn monte_carlo<'py>(
    py: Python<'py>,
    inputs: ProjectionArgs<'py>,
    mut out: ProjectionBuffers<'py>,
) -> PyResult<()> {
    let kinds = leg_kinds(&inputs.kind)?;
    let inputs = inputs.borrow(&kinds)?;
    let out = out.borrow()?;
    run_detached(py, || core_monte_carlo(&inputs, out))
}

/// Statistics of a P&L cube (see `alvh_core::projection::pnl_statistics`).
#[pyfunction]
pub(crate) fn pnl_statistics<'py>(
    py: Python<'py>,
    pnl: PyReadonlyArray1<'py, f64>,
    probability: PyReadonlyArray1<'py, f64>,
    days: usize,
    paths: usize,
    mut per_scenario: PyReadwriteArray1<'py, f64>,
    mut mixture: PyReadwriteArray1<'py, f64>,
) -> PyResult<()> {
    let pnl = readonly("pnl", &pnl)?;
    let probability = readonly("probability", &probability)?;
    let per_scenario = out_slice("per_scenario", &mut per_scenario)?;
    let mixture = out_slice("mixture", &mut mixture)?;
    run_detached(py, || core_pnl_statistics(pnl, probability, days, paths, per_scenario, mixture))
}
