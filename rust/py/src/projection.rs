//! The projection kernels: `monte_carlo` and `pnl_statistics` (see
//! `alvh_core::projection` and docs/projection_engine.md).

use crate::args::{leg_kinds, out_slice, readonly};
use crate::errors::run_detached;
use alvh_core::projection::{
    monte_carlo as core_monte_carlo, pnl_statistics as core_pnl_statistics, ProjectionInputs, ProjectionOut,
    VolDynamics,
};
use alvh_core::smile::{Smile, SviSmiles};
use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The Monte Carlo projection (see `alvh_core::projection` and
/// docs/projection_engine.md): fills `pnl_out` (scenarios, days, paths), the touch
/// and Greek sums, and optionally the SPX and VIX paths. With `dynamics` 0 and
/// `svi` = (flat (a, b, rho, m, sigma, w0) per leg, floor_ratio, moneyness_limit),
/// each SPX leg's smile is its SVI slice instead of the quadratic `smile`.
#[pyfunction]
#[pyo3(signature = (kind, is_call, strike, weight, expiry_day, spot, rate, div, vix, base_value,
    drift, diffusion_vol, vix_beta, vol_of_vix, vix_kappa, vix_theta, atm_vix_ratio,
    jump_mean, jump_std, vix_jump_mean, vix_jump_std, days, paths, seed, greek_paths,
    vix_lo, vix_step, n_nodes, table_atm, table_change, table_vvol, fut_a, fut_b,
    dynamics, smile, base_vol, barrier_low, barrier_high,
    pnl_out, touch_sum_out, touch_sumsq_out, greek_sum_out, greek_sumsq_out, spot_out=None, vix_out=None,
    scenario_offset=0, svi=None, first_valued_day=1))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn monte_carlo<'py>(
    py: Python<'py>,
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
    smile: (f64, f64, f64, f64),
    base_vol: PyReadonlyArray1<'py, f64>,
    barrier_low: f64,
    barrier_high: f64,
    mut pnl_out: PyReadwriteArray1<'py, f64>,
    mut touch_sum_out: PyReadwriteArray1<'py, f64>,
    mut touch_sumsq_out: PyReadwriteArray1<'py, f64>,
    mut greek_sum_out: PyReadwriteArray1<'py, f64>,
    mut greek_sumsq_out: PyReadwriteArray1<'py, f64>,
    mut spot_out: Option<PyReadwriteArray1<'py, f64>>,
    mut vix_out: Option<PyReadwriteArray1<'py, f64>>,
    scenario_offset: usize,
    svi: Option<(PyReadonlyArray1<'py, f64>, f64, f64)>,
    first_valued_day: usize,
) -> PyResult<()> {
    let kinds = leg_kinds(&kind)?;
    let (skew, curvature, floor_ratio, moneyness_limit) = smile;
    let dynamics = match (dynamics, &svi) {
        (0, Some((shapes, floor_ratio, moneyness_limit))) => VolDynamics::StickyMoneynessSvi(SviSmiles {
            shapes: readonly("svi.shapes", shapes)?,
            floor_ratio: *floor_ratio,
            moneyness_limit: *moneyness_limit,
        }),
        (0, None) => VolDynamics::StickyMoneyness(Smile { skew, curvature, floor_ratio, moneyness_limit }),
        (1, _) => VolDynamics::Additive { floor_ratio },
        (other, _) => {
            return Err(PyValueError::new_err(format!(
                "dynamics must be 0 (sticky moneyness) or 1 (additive), got {other}"
            )))
        }
    };
    let inputs = ProjectionInputs {
        kind: &kinds,
        is_call: readonly("is_call", &is_call)?,
        strike: readonly("strike", &strike)?,
        weight: readonly("weight", &weight)?,
        expiry_day: readonly("expiry_day", &expiry_day)?,
        spot,
        rate,
        div,
        vix,
        base_value,
        drift: readonly("drift", &drift)?,
        diffusion_vol: readonly("diffusion_vol", &diffusion_vol)?,
        vix_beta: readonly("vix_beta", &vix_beta)?,
        vol_of_vix: readonly("vol_of_vix", &vol_of_vix)?,
        vix_kappa: readonly("vix_kappa", &vix_kappa)?,
        vix_theta: readonly("vix_theta", &vix_theta)?,
        atm_vix_ratio,
        jump_mean: readonly("jump_mean", &jump_mean)?,
        jump_std: readonly("jump_std", &jump_std)?,
        vix_jump_mean: readonly("vix_jump_mean", &vix_jump_mean)?,
        vix_jump_std: readonly("vix_jump_std", &vix_jump_std)?,
        days,
        paths,
        seed,
        greek_paths,
        vix_lo,
        vix_step,
        n_nodes,
        table_atm: readonly("table_atm", &table_atm)?,
        table_change: readonly("table_change", &table_change)?,
        table_vvol: readonly("table_vvol", &table_vvol)?,
        fut_a: readonly("fut_a", &fut_a)?,
        fut_b: readonly("fut_b", &fut_b)?,
        dynamics,
        base_vol: readonly("base_vol", &base_vol)?,
        barrier_low,
        barrier_high,
        scenario_offset,
        first_valued_day,
    };
    let out = ProjectionOut {
        pnl: out_slice("pnl_out", &mut pnl_out)?,
        touch_sum: out_slice("touch_sum_out", &mut touch_sum_out)?,
        touch_sumsq: out_slice("touch_sumsq_out", &mut touch_sumsq_out)?,
        greek_sum: out_slice("greek_sum_out", &mut greek_sum_out)?,
        greek_sumsq: out_slice("greek_sumsq_out", &mut greek_sumsq_out)?,
        spot: match spot_out.as_mut() {
            Some(a) => Some(out_slice("spot_out", a)?),
            None => None,
        },
        vix: match vix_out.as_mut() {
            Some(a) => Some(out_slice("vix_out", a)?),
            None => None,
        },
    };
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
