//! Argument extraction: the Python layer (`python/alvh`) has already normalized the
//! arguments, and these helpers only borrow them as the core's types (slices,
//! columns, flags, leg kinds), or say which argument is not what the kernel takes.

use alvh_core::legs::LegKind;
use alvh_core::{Column, ErrorMode, Flags, Model, OptionBatch};
use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A numeric argument as it arrives from Python.
pub(crate) enum NumArg<'py> {
    Scalar(f64),
    Array(PyReadonlyArray1<'py, f64>),
}

/// The call/put flag as it arrives from Python.
pub(crate) enum FlagArg<'py> {
    Scalar(bool),
    Array(PyReadonlyArray1<'py, bool>),
}

pub(crate) fn num_arg<'py>(name: &str, value: &Bound<'py, PyAny>) -> PyResult<NumArg<'py>> {
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

pub(crate) fn flag_arg<'py>(value: &Bound<'py, PyAny>) -> PyResult<FlagArg<'py>> {
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

pub(crate) fn column<'a>(name: &str, arg: &'a NumArg<'_>) -> PyResult<Column<'a>> {
    Ok(match arg {
        NumArg::Scalar(x) => Column::Scalar(*x),
        NumArg::Array(a) => Column::Values(
            a.as_slice().map_err(|_| PyValueError::new_err(format!("{name} must be C-contiguous")))?,
        ),
    })
}

pub(crate) fn flags<'a>(arg: &'a FlagArg<'_>) -> PyResult<Flags<'a>> {
    Ok(match arg {
        FlagArg::Scalar(x) => Flags::Scalar(*x),
        FlagArg::Array(a) => {
            Flags::Values(a.as_slice().map_err(|_| PyValueError::new_err("is_call must be C-contiguous"))?)
        }
    })
}

pub(crate) fn model(name: &str) -> PyResult<Model> {
    match name {
        "bsm" => Ok(Model::Bsm),
        "black76" => Ok(Model::Black76),
        other => Err(PyValueError::new_err(format!("model must be 'bsm' or 'black76', got {other:?}"))),
    }
}

pub(crate) fn mode(errors_nan: bool) -> ErrorMode {
    if errors_nan {
        ErrorMode::Nan
    } else {
        ErrorMode::Raise
    }
}

/// The seven option columns of `price` and `greeks`.
pub(crate) struct OptionArgs<'py> {
    is_call: FlagArg<'py>,
    spot: NumArg<'py>,
    strike: NumArg<'py>,
    t: NumArg<'py>,
    rate: NumArg<'py>,
    div: NumArg<'py>,
    vol: NumArg<'py>,
}

impl<'py> OptionArgs<'py> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn extract(
        is_call: &Bound<'py, PyAny>,
        spot: &Bound<'py, PyAny>,
        strike: &Bound<'py, PyAny>,
        t: &Bound<'py, PyAny>,
        rate: &Bound<'py, PyAny>,
        div: &Bound<'py, PyAny>,
        vol: &Bound<'py, PyAny>,
    ) -> PyResult<Self> {
        Ok(OptionArgs {
            is_call: flag_arg(is_call)?,
            spot: num_arg("spot", spot)?,
            strike: num_arg("strike", strike)?,
            t: num_arg("t", t)?,
            rate: num_arg("rate", rate)?,
            div: num_arg("div", div)?,
            vol: num_arg("vol", vol)?,
        })
    }

    pub(crate) fn batch(&self) -> PyResult<OptionBatch<'_>> {
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

pub(crate) fn out_slice<'a>(
    name: &str,
    array: &'a mut PyReadwriteArray1<'_, f64>,
) -> PyResult<&'a mut [f64]> {
    array
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous float64 array")))
}

pub(crate) fn readonly<'a, T: numpy::Element>(
    name: &str,
    array: &'a PyReadonlyArray1<'_, T>,
) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous 1-D array")))
}

pub(crate) fn leg_kinds(kind: &PyReadonlyArray1<'_, u8>) -> PyResult<Vec<LegKind>> {
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
