//! `model_vix`: the Cboe VIX formula on the SSVI model's own options (see
//! `alvh_core::cboe`).

use crate::args::readonly;
use crate::errors::run_detached;
use alvh_core::cboe::{model_vix as core_model_vix, ModelTerm};
use alvh_core::smile::Ssvi;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

/// The index (points) of the SSVI `smile` = (rho, eta, gamma) on the ascending
/// `strikes`, for the `near` and `next` terms, each (years, days, atm vol).
#[pyfunction]
#[pyo3(signature = (spot, rate, div, strikes, near, next, smile, tick))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn model_vix<'py>(
    py: Python<'py>,
    spot: f64,
    rate: f64,
    div: f64,
    strikes: PyReadonlyArray1<'py, f64>,
    near: (f64, f64, f64),
    next: (f64, f64, f64),
    smile: (f64, f64, f64),
    tick: f64,
) -> PyResult<f64> {
    let strikes = readonly("strikes", &strikes)?;
    let term = |(years, days, atm): (f64, f64, f64)| ModelTerm { years, days, atm };
    let (near, next) = (term(near), term(next));
    let smile = Ssvi { rho: smile.0, eta: smile.1, gamma: smile.2 };
    let mut index = 0.0;
    run_detached(py, || {
        index = core_model_vix(spot, rate, div, strikes, near, next, smile, tick)?;
        Ok(())
    })?;
    Ok(index)
}
