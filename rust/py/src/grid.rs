//! The scenario grid kernel, `scenario_grid` (see `alvh_core::grid`).

use crate::args::{leg_kinds, out_slice, readonly};
use crate::errors::run_detached;
use alvh_core::grid::{scenario_grid as core_scenario_grid, GridInputs, GridOut, GridSmile};
use alvh_core::smile::{Ssvi, SviSmiles};
use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The scenario grid (see `alvh_core::grid`): fills the six cubes of `out` (value,
/// delta, gamma, vega, theta, vix_delta), each (days, shifts, moves) in C order.
/// The SPX smile is the SSVI `smile` = (rho, eta, gamma), or the per-leg SVI `svi` = (flat
/// (a, b, rho, m, sigma, w0) per leg, floor_ratio, moneyness_limit), or neither.
#[pyfunction]
#[pyo3(signature = (kind, is_call, strike, weight, spot, rate, div, spot_moves, n_shifts, n_days, tau, vol, underlying, smile, out, svi=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn scenario_grid<'py>(
    py: Python<'py>,
    kind: PyReadonlyArray1<'py, u8>,
    is_call: PyReadonlyArray1<'py, bool>,
    strike: PyReadonlyArray1<'py, f64>,
    weight: PyReadonlyArray1<'py, f64>,
    spot: f64,
    rate: f64,
    div: f64,
    spot_moves: PyReadonlyArray1<'py, f64>,
    n_shifts: usize,
    n_days: usize,
    tau: PyReadonlyArray1<'py, f64>,
    vol: PyReadonlyArray1<'py, f64>,
    underlying: PyReadonlyArray1<'py, f64>,
    smile: Option<(f64, f64, f64)>,
    out: [PyReadwriteArray1<'py, f64>; 6],
    svi: Option<(PyReadonlyArray1<'py, f64>, f64, f64)>,
) -> PyResult<()> {
    let kinds = leg_kinds(&kind)?;
    let smile = match (smile, &svi) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err("smile and svi are exclusive: give one or neither"))
        }
        (Some((rho, eta, gamma)), None) => GridSmile::Ssvi(Ssvi { rho, eta, gamma }),
        (None, Some((shapes, floor_ratio, moneyness_limit))) => GridSmile::Svi(SviSmiles {
            shapes: readonly("svi.shapes", shapes)?,
            floor_ratio: *floor_ratio,
            moneyness_limit: *moneyness_limit,
        }),
        (None, None) => GridSmile::Flat,
    };
    let inputs = GridInputs {
        kind: &kinds,
        is_call: readonly("is_call", &is_call)?,
        strike: readonly("strike", &strike)?,
        weight: readonly("weight", &weight)?,
        spot,
        rate,
        div,
        spot_moves: readonly("spot_moves", &spot_moves)?,
        n_shifts,
        n_days,
        tau: readonly("tau", &tau)?,
        vol: readonly("vol", &vol)?,
        underlying: readonly("underlying", &underlying)?,
        smile,
    };
    let [mut v, mut d, mut g, mut ve, mut th, mut vd] = out;
    let out = GridOut {
        value: out_slice("out.value", &mut v)?,
        delta: out_slice("out.delta", &mut d)?,
        gamma: out_slice("out.gamma", &mut g)?,
        vega: out_slice("out.vega", &mut ve)?,
        theta: out_slice("out.theta", &mut th)?,
        vix_delta: out_slice("out.vix_delta", &mut vd)?,
    };
    run_detached(py, || core_scenario_grid(&inputs, out))
}
