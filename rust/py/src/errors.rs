//! Errors mapped in one place: every core error becomes an exception of
//! `alvh.errors` (the classes the numpy fallback raises too, so a user's `except`
//! works whichever backend ran), with the offending argument, index and value as
//! its `.arg`, `.index` and `.value`; and the one way a core call runs, without the
//! GIL and with a panic caught.

use alvh_core::AlvhError as CoreError;
use pyo3::prelude::*;

// The Python classes as Rust types. `alvh.errors` is imported by `alvh/__init__.py`
// before this extension module (`alvh._native`) can be, so the import these types do
// on first use finds it loaded.
pyo3::import_exception!(alvh.errors, AlvhError);
pyo3::import_exception!(alvh.errors, InvalidInputError);
pyo3::import_exception!(alvh.errors, NoSolutionError);
pyo3::import_exception!(alvh.errors, ShapeError);

/// Maps a core error onto its `alvh.errors` class: a value outside its domain is an
/// `InvalidInputError`, a price without an implied vol a `NoSolutionError`, a length
/// mismatch a `ShapeError` (`.value` the length found, `.index` 0).
pub(crate) fn to_py_err(py: Python<'_>, err: CoreError) -> PyErr {
    let message = err.to_string();
    let (exception, arg, index, value) = match err {
        CoreError::InvalidValue { arg, index, value, .. } => {
            (InvalidInputError::new_err(message), arg, index, value)
        }
        CoreError::PriceOutOfBounds { index, value, .. }
        | CoreError::PriceUnresolvable { index, value, .. } => {
            (NoSolutionError::new_err(message), "price", index, value)
        }
        CoreError::LengthMismatch { arg, len, .. } => (ShapeError::new_err(message), arg, 0, len as f64),
    };
    let instance = exception.value(py);
    let attributes = (|| -> PyResult<()> {
        instance.setattr("arg", arg)?;
        instance.setattr("index", index)?;
        instance.setattr("value", value)
    })();
    match attributes {
        Ok(()) => exception,
        Err(failed) => failed,
    }
}

/// Runs a core computation without the GIL. A panic would be a bug in the core
/// (it returns errors for every bad input); it is still caught here so that it
/// reaches Python as an ordinary `alvh.errors.AlvhError`, never as PyO3's
/// `PanicException` (a `BaseException` that `except Exception` misses).
pub(crate) fn run_detached<F>(py: Python<'_>, compute: F) -> PyResult<()>
where
    F: FnOnce() -> Result<(), CoreError> + Send,
{
    let outcome = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(compute)));
    match outcome {
        Ok(result) => result.map_err(|e| to_py_err(py, e)),
        Err(_) => {
            Err(AlvhError::new_err("internal error in the alvh core (please report it with the inputs)"))
        }
    }
}
