//! alvh._native: the thin PyO3 binding of alvh-core.
//!
//! Only argument extraction, the GIL release and error mapping live here; every
//! formula is in `alvh-core`. The Python layer (`python/alvh`) has already
//! normalized the arguments: each numeric one is a float or a 1-D C-contiguous
//! float64 array, `is_call` is a bool or a 1-D bool array, outputs are 1-D
//! C-contiguous writeable float64 arrays of the batch length.

use alvh_core::grid::{scenario_grid as core_scenario_grid, GridInputs, GridOut, GridSmile, LegKind};
use alvh_core::implied::{implied_vol as core_implied_vol, PriceBatch};
use alvh_core::kernels;
use alvh_core::projection::{
    monte_carlo as core_monte_carlo, pnl_statistics as core_pnl_statistics, ProjectionInputs, ProjectionOut,
    VolDynamics,
};
use alvh_core::simd::{self, SimdLevel};
use alvh_core::smile::{Smile, SviSmiles};
use alvh_core::{AlvhError, Column, ErrorMode, Flags, GreeksOut, Model, OptionBatch};
use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A numeric argument as it arrives from Python.
enum NumArg<'py> {
    Scalar(f64),
    Array(PyReadonlyArray1<'py, f64>),
}

/// The call/put flag as it arrives from Python.
enum FlagArg<'py> {
    Scalar(bool),
    Array(PyReadonlyArray1<'py, bool>),
}

fn num_arg<'py>(name: &str, value: &Bound<'py, PyAny>) -> PyResult<NumArg<'py>> {
    if let Ok(array) = value.extract::<PyReadonlyArray1<'py, f64>>() {
        return Ok(NumArg::Array(array));
    }
    match value.extract::<f64>() {
        Ok(x) => Ok(NumArg::Scalar(x)),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{name} must be a float or a 1-D float64 array, got {}",
            value.get_type().name()?
        ))),
    }
}

fn flag_arg<'py>(value: &Bound<'py, PyAny>) -> PyResult<FlagArg<'py>> {
    if let Ok(array) = value.extract::<PyReadonlyArray1<'py, bool>>() {
        return Ok(FlagArg::Array(array));
    }
    match value.extract::<bool>() {
        Ok(x) => Ok(FlagArg::Scalar(x)),
        Err(_) => Err(PyTypeError::new_err(format!(
            "is_call must be a bool or a 1-D bool array, got {}",
            value.get_type().name()?
        ))),
    }
}

fn column<'a>(name: &str, arg: &'a NumArg<'_>) -> PyResult<Column<'a>> {
    Ok(match arg {
        NumArg::Scalar(x) => Column::Scalar(*x),
        NumArg::Array(a) => Column::Values(
            a.as_slice().map_err(|_| PyValueError::new_err(format!("{name} must be C-contiguous")))?,
        ),
    })
}

fn flags<'a>(arg: &'a FlagArg<'_>) -> PyResult<Flags<'a>> {
    Ok(match arg {
        FlagArg::Scalar(x) => Flags::Scalar(*x),
        FlagArg::Array(a) => {
            Flags::Values(a.as_slice().map_err(|_| PyValueError::new_err("is_call must be C-contiguous"))?)
        }
    })
}

fn model(name: &str) -> PyResult<Model> {
    match name {
        "bsm" => Ok(Model::Bsm),
        "black76" => Ok(Model::Black76),
        other => Err(PyValueError::new_err(format!("model must be 'bsm' or 'black76', got {other:?}"))),
    }
}

fn mode(errors_nan: bool) -> ErrorMode {
    if errors_nan {
        ErrorMode::Nan
    } else {
        ErrorMode::Raise
    }
}

/// Maps a core error onto the exception classes of `alvh.errors`, with the
/// offending argument, index and value as attributes.
fn to_py_err(py: Python<'_>, err: AlvhError) -> PyErr {
    let message = err.to_string();
    let build = || -> PyResult<PyErr> {
        let errors = py.import("alvh.errors")?;
        let (class, arg, index, value) = match &err {
            AlvhError::InvalidValue { arg, index, value, .. } => ("InvalidInputError", *arg, *index, *value),
            AlvhError::PriceOutOfBounds { index, value, .. }
            | AlvhError::PriceUnresolvable { index, value, .. } => {
                ("NoSolutionError", "price", *index, *value)
            }
            AlvhError::LengthMismatch { arg, len, .. } => ("ShapeError", *arg, 0, *len as f64),
        };
        let exc = errors.getattr(class)?.call1((message.clone(),))?;
        exc.setattr("arg", arg)?;
        exc.setattr("index", index)?;
        exc.setattr("value", value)?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// Runs a core computation without the GIL. A panic would be a bug in the core
/// (it returns errors for every bad input); it is still caught here so that it
/// reaches Python as an ordinary `alvh.errors.AlvhError`, never as PyO3's
/// `PanicException` (a `BaseException` that `except Exception` misses).
fn run_detached<F>(py: Python<'_>, compute: F) -> PyResult<()>
where
    F: FnOnce() -> Result<(), AlvhError> + Send,
{
    let outcome = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(compute)));
    match outcome {
        Ok(result) => result.map_err(|e| to_py_err(py, e)),
        Err(_) => {
            let errors = py.import("alvh.errors")?;
            let exc = errors
                .getattr("AlvhError")?
                .call1(("internal error in the alvh core (please report it with the inputs)",))?;
            Err(PyErr::from_value(exc))
        }
    }
}

struct Inputs<'py> {
    is_call: FlagArg<'py>,
    spot: NumArg<'py>,
    strike: NumArg<'py>,
    t: NumArg<'py>,
    rate: NumArg<'py>,
    div: NumArg<'py>,
    vol: NumArg<'py>,
}

impl<'py> Inputs<'py> {
    #[allow(clippy::too_many_arguments)]
    fn extract(
        is_call: &Bound<'py, PyAny>,
        spot: &Bound<'py, PyAny>,
        strike: &Bound<'py, PyAny>,
        t: &Bound<'py, PyAny>,
        rate: &Bound<'py, PyAny>,
        div: &Bound<'py, PyAny>,
        vol: &Bound<'py, PyAny>,
    ) -> PyResult<Self> {
        Ok(Inputs {
            is_call: flag_arg(is_call)?,
            spot: num_arg("spot", spot)?,
            strike: num_arg("strike", strike)?,
            t: num_arg("t", t)?,
            rate: num_arg("rate", rate)?,
            div: num_arg("div", div)?,
            vol: num_arg("vol", vol)?,
        })
    }

    fn batch(&self) -> PyResult<OptionBatch<'_>> {
        Ok(OptionBatch {
            is_call: flags(&self.is_call)?,
            spot: column("spot", &self.spot)?,
            strike: column("strike", &self.strike)?,
            t: column("t", &self.t)?,
            rate: column("rate", &self.rate)?,
            div: column("div", &self.div)?,
            vol: column("vol", &self.vol)?,
        })
    }
}

fn out_slice<'a>(name: &str, array: &'a mut PyReadwriteArray1<'_, f64>) -> PyResult<&'a mut [f64]> {
    array
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous float64 array")))
}

/// Prices into `out`. `model` is "bsm" or "black76" (then `spot` is the forward).
#[pyfunction]
#[pyo3(signature = (model, is_call, spot, strike, t, rate, div, vol, out, errors_nan))]
#[allow(clippy::too_many_arguments)]
fn price<'py>(
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
    let model = self::model(model)?;
    let inputs = Inputs::extract(is_call, spot, strike, t, rate, div, vol)?;
    let batch = inputs.batch()?;
    let out = out_slice("out", &mut out)?;
    run_detached(py, || kernels::price(&batch, model, mode(errors_nan), out))
}

/// Price and eight Greeks into the nine arrays of `out` (in the order price,
/// delta, gamma, vega, theta, rho, vanna, volga, charm).
#[pyfunction]
#[pyo3(signature = (model, is_call, spot, strike, t, rate, div, vol, out, errors_nan))]
#[allow(clippy::too_many_arguments)]
fn greeks<'py>(
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
    let model = self::model(model)?;
    let inputs = Inputs::extract(is_call, spot, strike, t, rate, div, vol)?;
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
fn implied_vol<'py>(
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
    let model = self::model(model)?;
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

fn readonly<'a, T: numpy::Element>(name: &str, array: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous 1-D array")))
}

fn leg_kinds(kind: &PyReadonlyArray1<'_, u8>) -> PyResult<Vec<LegKind>> {
    readonly("kind", kind)?
        .iter()
        .enumerate()
        .map(|(i, &code)| {
            LegKind::from_code(code).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "kind[{i}] = {code} is not a leg kind (0 SPX option, 1 VIX future, 2 VIX option)"
                ))
            })
        })
        .collect()
}

/// The scenario grid (see `alvh_core::grid`): fills the six cubes of `out` (value,
/// delta, gamma, vega, theta, vix_delta), each (days, shifts, moves) in C order.
/// The SPX smile is the quadratic `smile`, or the per-leg SVI `svi` = (flat
/// (a, b, rho, m, sigma, w0) per leg, floor_ratio, moneyness_limit), or neither.
#[pyfunction]
#[pyo3(signature = (kind, is_call, strike, weight, spot, rate, div, spot_moves, n_shifts, n_days, tau, vol, underlying, smile, out, svi=None))]
#[allow(clippy::too_many_arguments)]
fn scenario_grid<'py>(
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
    smile: Option<(f64, f64, f64, f64)>,
    out: [PyReadwriteArray1<'py, f64>; 6],
    svi: Option<(PyReadonlyArray1<'py, f64>, f64, f64)>,
) -> PyResult<()> {
    let kinds = leg_kinds(&kind)?;
    let smile = match (smile, &svi) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err("smile and svi are exclusive: give one or neither"))
        }
        (Some((skew, curvature, floor_ratio, moneyness_limit)), None) => {
            GridSmile::Quadratic(Smile { skew, curvature, floor_ratio, moneyness_limit })
        }
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
fn monte_carlo<'py>(
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
fn pnl_statistics<'py>(
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

/// How this build runs: the SIMD path chosen for this CPU, threads, versions.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = PyDict::new(py);
    info.set_item("simd", simd::level().name())?;
    info.set_item("simd_detected", simd::detected().name())?;
    info.set_item("threads", rayon_threads())?;
    info.set_item("parallel", alvh_core::parallel_allowed())?;
    info.set_item("parallel_threshold", kernels::PARALLEL_THRESHOLD)?;
    info.set_item("core_version", env!("CARGO_PKG_VERSION"))?;
    info.set_item("debug", cfg!(debug_assertions))?;
    Ok(info)
}

/// Pins the SIMD path ("avx512", "avx2", "baseline"; capped at what the CPU
/// supports) and returns the one now in use.
#[pyfunction]
fn set_simd(level: &str) -> PyResult<&'static str> {
    let requested = SimdLevel::parse(level).ok_or_else(|| {
        PyValueError::new_err(format!("simd level must be 'avx512', 'avx2' or 'baseline', got {level:?}"))
    })?;
    Ok(simd::set_level(requested).name())
}

/// Allow or forbid the thread pool (alvh forbids it in forked children).
#[pyfunction]
fn set_parallel(enabled: bool) {
    alvh_core::set_parallel(enabled);
}

fn rayon_threads() -> usize {
    alvh_core::threads()
}

#[pymodule]
mod _native {
    #[pymodule_export]
    use super::{
        build_info, greeks, implied_vol, monte_carlo, pnl_statistics, price, scenario_grid, set_parallel,
        set_simd,
    };
}
