//! The one error type of the core. The binding maps each variant onto a Python
//! exception class of `alvh.errors` (see `rust/py/src/errors.rs`).

use thiserror::Error;

/// Everything that can go wrong inside the core.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AlvhError {
    /// An input value outside its domain; `index` is the first offending element
    /// (0 for a scalar argument).
    #[error("{arg} must be {requirement}; got {arg}[{index}] = {value}")]
    InvalidValue { arg: &'static str, index: usize, value: f64, requirement: &'static str },
    /// An option price outside the no-arbitrage bounds, so no volatility reproduces it.
    #[error(
        "price[{index}] = {value} has no implied volatility: it must lie strictly between the \
         no-arbitrage bounds {lower} (discounted intrinsic value) and {upper}"
    )]
    PriceOutOfBounds { index: usize, value: f64, lower: f64, upper: f64 },
    /// An option price inside the bounds but within rounding of one: double
    /// precision cannot resolve its implied volatility.
    #[error(
        "price[{index}] = {value} has no resolvable implied volatility: it is within rounding \
         of a no-arbitrage bound ({lower} discounted intrinsic value, {upper} upper bound)"
    )]
    PriceUnresolvable { index: usize, value: f64, lower: f64, upper: f64 },
    /// Array arguments whose lengths differ from the batch length.
    #[error("{arg} has length {len}, expected {expected} (all array arguments must have one length)")]
    LengthMismatch { arg: &'static str, len: usize, expected: usize },
}

impl AlvhError {
    /// An [`AlvhError::InvalidValue`]: argument, first offending index, its value, and
    /// what it must be.
    pub fn invalid(arg: &'static str, index: usize, value: f64, requirement: &'static str) -> AlvhError {
        AlvhError::InvalidValue { arg, index, value, requirement }
    }
}

pub type Result<T> = std::result::Result<T, AlvhError>;
