//! alvh-core: the numerical core of alvh. Pure Rust (no Python): flat slices in,
//! flat slices out, `Result<_, AlvhError>` on bad input.
//!
//! - [`kernels`]: BSM and Black-76 prices and Greeks, vectorized and parallel.
//! - [`implied`]: implied volatility: a vectorized Householder stage, and Jäckel's
//!   "Let's Be Rational" for every row it does not accept.
//! - [`legs`]: what a leg is ([`legs::LegKind`]), shared by the position kernels.
//! - [`smile`]: the SPX smiles both position kernels share: the VIX-linked quadratic
//!   and per-leg SVI slices, sticky in standardized moneyness, with their spot slopes.
//! - [`cboe`]: the Cboe VIX formula on the SSVI model's own options (a `Market`'s
//!   VIX-ratio solve).
//! - [`grid`]: the scenario grid (risk graph): value and Greeks over SPX moves x VIX
//!   shifts x days.
//! - [`projection`]: the Monte Carlo projection (input checks, path generation, leg
//!   valuation, P&L statistics, one file each).
//! - [`simd_math`]: branch-free exp/ln/normal CDF that auto-vectorize.
//! - [`simd`]: the run-time choice of SIMD path (AVX-512, AVX2+FMA, baseline).
//! - [`error`]: the one error type, [`AlvhError`].

#[macro_use]
pub mod simd;
pub mod cboe;
pub mod error;
pub mod grid;
pub mod implied;
pub mod kernels;
pub mod legs;
pub mod projection;
pub mod simd_math;
pub mod smile;

pub use error::{AlvhError, Result};
pub use kernels::{Column, ErrorMode, Flags, GreeksOut, Model, OptionBatch};

static PARALLEL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Allow or forbid the rayon thread pool. A forked child process must forbid it:
/// the pool's threads do not survive `fork`, and a call into it would hang.
pub fn set_parallel(enabled: bool) {
    PARALLEL.store(enabled, std::sync::atomic::Ordering::Relaxed);
}

/// Whether batches large enough may run on the rayon pool.
pub fn parallel_allowed() -> bool {
    PARALLEL.load(std::sync::atomic::Ordering::Relaxed)
}

/// Threads the parallel kernels use (rayon's global pool; `RAYON_NUM_THREADS` sets it).
pub fn threads() -> usize {
    rayon::current_num_threads()
}
