"""Argument normalization shared by the vectorized pricing functions.

Turns what a user passes (floats, lists, numpy arrays of any numeric dtype or
stride, call/put flags as bools or strings) into what both backends take: one
broadcast shape, and per argument either a Python float or a 1-D C-contiguous
float64 array of the full batch length (no copy when the input already is one).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from alvh._core.types import FloatArray
from alvh.errors import InputTypeError, InvalidInputError, ShapeError


@dataclass(frozen=True)
class Batch:
    """Normalized arguments: ``shape`` of the result, ``size`` rows, ``args`` by name."""

    shape: tuple[int, ...]
    size: int
    args: dict[str, Any]


def check_errors_mode(errors: str) -> bool:
    """True for ``errors="nan"``, False for ``"raise"``; anything else is an error."""
    if errors == "raise":
        return False
    if errors == "nan":
        return True
    raise InvalidInputError(f"errors must be 'raise' or 'nan', got {errors!r}")


def _numeric(name: str, value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be a number or an array of numbers, got bool {value!r}")
    if isinstance(value, Real):
        return float(value)
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise InputTypeError(f"{name} must be a number or an array of numbers: {exc}") from exc
    if array.dtype.kind in "fiu":
        return array
    raise InputTypeError(
        f"{name} must be a number or an array of numbers, got {type(value).__name__} with dtype {array.dtype}"
    )


_CALL_WORDS = {"call": True, "c": True, "put": False, "p": False}


def _flags(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        try:
            return _CALL_WORDS[value.strip().lower()]
        except KeyError:
            raise InvalidInputError(f"is_call must be True/False or 'call'/'put', got {value!r}") from None
    array = np.asarray(value)
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind in "US":
        words = np.char.lower(np.char.strip(array.astype(str)))
        is_call = np.isin(words, ("call", "c"))
        bad = ~(is_call | np.isin(words, ("put", "p")))
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise InvalidInputError(
                f"is_call must be True/False or 'call'/'put'; got is_call[{i}] = {array.ravel()[i]!r}"
            )
        return is_call
    raise InputTypeError(
        f"is_call must be a bool, 'call'/'put', or an array of them, got dtype {array.dtype}"
    )


def normalize(flag_name: str, **named: Any) -> Batch:
    """Broadcast the arguments together; ``flag_name`` is the call/put argument."""
    converted: dict[str, Any] = {}
    for name, value in named.items():
        converted[name] = _flags(value) if name == flag_name else _numeric(name, value)
    arrays = {n: v for n, v in converted.items() if isinstance(v, np.ndarray)}
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in arrays.items())
        raise ShapeError(f"argument shapes do not broadcast together: {shapes}") from None
    size = int(np.prod(shape, dtype=np.int64))
    args: dict[str, Any] = {}
    for name, value in converted.items():
        if not isinstance(value, np.ndarray):
            args[name] = value
        elif value.size == 1 and size != 0:
            args[name] = bool(value.item()) if value.dtype.kind == "b" else float(value.item())
        else:
            dtype = np.bool_ if value.dtype.kind == "b" else np.float64
            if value.shape != shape:
                value = np.broadcast_to(value, shape)
            args[name] = np.ascontiguousarray(value, dtype=dtype).reshape(-1)
    return Batch(shape=tuple(shape), size=size, args=args)


def output(name: str, out: Any, shape: tuple[int, ...]) -> FloatArray:
    """A caller's output buffer, checked, as a flat view; or a fresh array."""
    if out is None:
        return np.empty(shape, dtype=np.float64).reshape(-1)
    if not isinstance(out, np.ndarray):
        raise InputTypeError(f"{name} must be a numpy float64 array, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise InputTypeError(f"{name} must have dtype float64, got {out.dtype}")
    if out.shape != shape:
        raise ShapeError(f"{name} has shape {out.shape}, the result has shape {shape}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ShapeError(f"{name} must be a writeable C-contiguous array")
    return out.reshape(-1)
