//! alvh._native: the thin PyO3 binding of alvh-core.
//!
//! Only argument extraction, the GIL release and error mapping live here; every
//! formula is in `alvh-core`. The Python layer (`python/alvh`) has already
//! normalized the arguments: each numeric one is a float or a 1-D C-contiguous
//! float64 array, `is_call` is a bool or a 1-D bool array, outputs are 1-D
//! C-contiguous writeable float64 arrays of the batch length.
//!
//! - `args.rs`: argument extraction (numbers, flags, slices, output buffers, leg kinds);
//! - `errors.rs`: the core's errors as `alvh.errors` exceptions, and `run_detached`;
//! - one file per kernel family: `pricing.rs` (price, greeks, implied_vol), `grid.rs`
//!   (scenario_grid), `projection.rs` (monte_carlo, pnl_statistics), `cboe.rs`
//!   (model_vix).

mod args;
mod cboe;
mod errors;
mod grid;
mod pricing;
mod projection;

use alvh_core::kernels;
use alvh_core::simd::{self, SimdLevel};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// How this build runs: the SIMD path chosen for this CPU, threads, versions.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = PyDict::new(py);
    info.set_item("simd", simd::level().name())?;
    info.set_item("simd_detected", simd::detected().name())?;
    info.set_item("arch", std::env::consts::ARCH)?;
    info.set_item("threads", rayon_threads())?;
    info.set_item("parallel", alvh_core::parallel_allowed())?;
    info.set_item("parallel_threshold", kernels::PARALLEL_THRESHOLD)?;
    info.set_item("core_version", env!("CARGO_PKG_VERSION"))?;
    info.set_item("debug", cfg!(debug_assertions))?;
    Ok(info)
}

/// Pins the SIMD path ("avx512", "avx2", "baseline"; capped at what the CPU
/// supports; "neon" is aarch64's baseline) and returns the one now in use.
#[pyfunction]
fn set_simd(level: &str) -> PyResult<&'static str> {
    let requested = SimdLevel::parse(level).ok_or_else(|| {
        let aliases = match simd::BASELINE_NAME {
            "baseline" => String::new(),
            name => format!(" ('{name}' here)"),
        };
        PyValueError::new_err(format!(
            "simd level must be 'avx512', 'avx2' or 'baseline'{aliases}, got {level:?}"
        ))
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

/// The extension module. Besides the kernels it exports their constants, which the
/// Python layer reads from the active backend's kernel module (the numpy fallback
/// defines the same names) instead of retyping them.
#[pymodule]
mod _native {
    /// Touch probabilities per (scenario, day) in `monte_carlo`'s touch sums: lower
    /// barrier, upper barrier, either.
    #[pymodule_export]
    const TOUCH_KINDS: usize = alvh_core::projection::TOUCH_KINDS;
    /// Greeks per (scenario, day) in `monte_carlo`'s Greek sums: delta, gamma, vega,
    /// theta, vix_delta.
    #[pymodule_export]
    const GREEKS: usize = alvh_core::projection::GREEKS;
    /// Statistics per (scenario, day) row of `pnl_statistics`.
    #[pymodule_export]
    const STATS: usize = alvh_core::projection::STATS;
    /// `ProjectionInputs.dynamics`: the smile moves with the spot (sticky moneyness).
    #[pymodule_export]
    const STICKY_MONEYNESS: u8 = super::projection::STICKY_MONEYNESS;
    /// `ProjectionInputs.dynamics`: an additive vol change (sticky strike, parallel).
    #[pymodule_export]
    const ADDITIVE: u8 = super::projection::ADDITIVE;

    #[pymodule_export]
    use super::cboe::model_vix;
    #[pymodule_export]
    use super::grid::scenario_grid;
    #[pymodule_export]
    use super::pricing::{greeks, implied_vol, price};
    #[pymodule_export]
    use super::projection::{monte_carlo, pnl_statistics};
    #[pymodule_export]
    use super::{build_info, set_parallel, set_simd};
}
