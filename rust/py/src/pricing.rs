//! The pricing kernels: `price`, `greeks` and `implied_vol` (BSM and Black-76), each
//! a batch of options in, one or nine output arrays filled.

use crate::args::{self, column, flag_arg, flags, mode, num_arg, out_slice, OptionArgs};
use crate::errors::run_detached;
use alvh_core::implied::{implied_vol as core_implied_vol, PriceBatch};
use alvh_core::{kernels, GreeksOut};
use numpy::PyReadwriteArray1;
use pyo3::prelude::*;

/// Prices into `out`. `model` is "bsm" or "black76" (then `spot` is the forward).
#[pyfunction]
#[pyo3(signature = (model, is_call, spot, strike, t, rate, div, vol, out, errors_nan))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn price<'py>(
    py: Python<'py>,
    model: &str,
    is_call: &Bound<'py, PyAny>,
    spot: &Bound<'py, PyAny>,
    strike: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    rate: &Bound<'py, PyAny>,
    div: &Bound<'py, PyAny>,
    vol: &Bound<'py, PyAny>,
    mut out: PyReadwriteArray1<'py, f64>,
    errors_nan: bool,
) -> PyResult<()> {
    let model = args::model(model)?;
    let inputs = OptionArgs::extract(is_call, spot, strike, t, rate, div, vol)?;
    let batch = inputs.batch()?;
    let out = out_slice("out", &mut out)?;
    run_detached(py, || kernels::price(&batch, model, mode(errors_nan), out))
}

/// Price and eight Greeks into the nine arrays of `out` (in the order price,
/// delta, gamma, vega, theta, rho, vanna, volga, charm).
#[pyfunction]
#[pyo3(signature = (model, is_call, spot, strike, t, rate, div, vol, out, errors_nan))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn greeks<'py>(
    py: Python<'py>,
    model: &str,
    is_call: &Bound<'py, PyAny>,
    spot: &Bound<'py, PyAny>,
    strike: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    rate: &Bound<'py, PyAny>,
    div: &Bound<'py, PyAny>,
    vol: &Bound<'py, PyAny>,
    out: [PyReadwriteArray1<'py, f64>; 9],
    errors_nan: bool,
) -> PyResult<()> {
    let model = args::model(model)?;
    let inputs = OptionArgs::extract(is_call, spot, strike, t, rate, div, vol)?;
    let batch = inputs.batch()?;
    let [mut p, mut d, mut g, mut v, mut th, mut rh, mut va, mut vo, mut ch] = out;
    let out = GreeksOut {
        price: out_slice("out.price", &mut p)?,
        delta: out_slice("out.delta", &mut d)?,
        gamma: out_slice("out.gamma", &mut g)?,
        vega: out_slice("out.vega", &mut v)?,
        theta: out_slice("out.theta", &mut th)?,
        rho: out_slice("out.rho", &mut rh)?,
        vanna: out_slice("out.vanna", &mut va)?,
        volga: out_slice("out.volga", &mut vo)?,
        charm: out_slice("out.charm", &mut ch)?,
    };
    run_detached(py, || kernels::greeks(&batch, model, mode(errors_nan), out))
}

/// Implied volatilities into `out` (NaN where no volatility reproduces the price).
#[pyfunction]
#[pyo3(signature = (model, price, is_call, spot, strike, t, rate, div, out, errors_nan))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn implied_vol<'py>(
    py: Python<'py>,
    model: &str,
    price: &Bound<'py, PyAny>,
    is_call: &Bound<'py, PyAny>,
    spot: &Bound<'py, PyAny>,
    strike: &Bound<'py, PyAny>,
    t: &Bound<'py, PyAny>,
    rate: &Bound<'py, PyAny>,
    div: &Bound<'py, PyAny>,
    mut out: PyReadwriteArray1<'py, f64>,
    errors_nan: bool,
) -> PyResult<()> {
    let model = args::model(model)?;
    let price = num_arg("price", price)?;
    let is_call = flag_arg(is_call)?;
    let (spot, strike) = (num_arg("spot", spot)?, num_arg("strike", strike)?);
    let (t, rate, div) = (num_arg("t", t)?, num_arg("rate", rate)?, num_arg("div", div)?);
    let batch = PriceBatch {
        price: column("price", &price)?,
        is_call: flags(&is_call)?,
        spot: column("spot", &spot)?,
        strike: column("strike", &strike)?,
        t: column("t", &t)?,
        rate: column("rate", &rate)?,
        div: column("div", &div)?,
    };
    let out = out_slice("out", &mut out)?;
    run_detached(py, || core_implied_vol(&batch, model, mode(errors_nan), out))
}
