"""Shared argument checks: the one factory of input errors (`input_error`), which sets
``.arg`` / ``.index`` / ``.value`` the same way everywhere, and the checks built on it:
finite numbers, ranges, plain dates, dataclass fields in range.

Every module's errors come from `input_error` (directly, or through `bad` for the
standard "ARG must be REQUIREMENT; got ARG[i] = VALUE" message), so a user's handler
reads the same attributes whichever layer raised:

- ``arg``: the argument's name (a dotted field for a file: ``spx_vol.skew``);
- ``index``: the 0-based position of the first bad element of an array or a list,
  None for a scalar;
- ``value``: the offending number as a float, None when it is not a real number.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar, overload

import numpy as np

from alvh.errors import AlvhError, InputTypeError, InvalidInputError

__all__ = [
    "bad",
    "check_fields",
    "finite_number",
    "in_range",
    "input_error",
    "kernel_error",
    "plain_date",
]

E = TypeVar("E", bound=AlvhError)

# --------------------------------------------------------------------------- checks


@overload
def input_error(
    message: str, *, arg: str | None = ..., index: int | None = ..., value: Any = ...
) -> InvalidInputError: ...


@overload
def input_error(
    message: str, *, arg: str | None = ..., index: int | None = ..., value: Any = ..., kind: type[E]
) -> E: ...


def input_error(
    message: str,
    *,
    arg: str | None = None,
    index: int | None = None,
    value: Any = None,
    kind: type[AlvhError] = InvalidInputError,
) -> AlvhError:
    """An input error of class ``kind`` (an `InvalidInputError` by default) with the
    attributes of the module doc set."""
    err = kind(message)
    real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    err.arg, err.index, err.value = arg, index, float(value) if real else None  # type: ignore[attr-defined]
    return err


def bad(arg: str, value: Any, requirement: str, index: int | None = None) -> InvalidInputError:
    """``ARG must be REQUIREMENT; got ARG[INDEX] = VALUE`` (``got ARG = VALUE`` for a scalar)."""
    where = arg if index is None else f"{arg}[{index}]"
    return input_error(
        f"{arg} must be {requirement}; got {where} = {value!r}", arg=arg, index=index, value=value
    )


def kernel_error(arg: str, index: int, value: float, requirement: str) -> InvalidInputError:
    """The error both backends raise for an out-of-domain value (the core's text, and
    ``.value`` exactly the offending float, NaN included)."""
    return input_error(
        f"{arg} must be {requirement}; got {arg}[{index}] = {value!r}", arg=arg, index=index, value=value
    )


def finite_number(arg: str, value: Any) -> float:
    """A finite float; bools and non-numbers are type errors."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise InputTypeError(f"{arg} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise bad(arg, number, "finite")
    return number


def in_range(arg: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    number = finite_number(arg, value)
    below = number <= low if low_open else number < low
    if below or number > high:
        bracket = "(" if low_open else "["
        raise bad(arg, number, f"in {bracket}{low:g}, {high:g}]")
    return number


def check_fields(obj: Any, limits: Mapping[str, tuple[float, float, bool]]) -> None:
    """Range-check (and store as float) each field: name -> (low, high, low end open)."""
    for name, (low, high, low_open) in limits.items():
        value = in_range(name, getattr(obj, name), low, high, low_open=low_open)
        object.__setattr__(obj, name, value)


def plain_date(arg: str, value: Any) -> date:
    # datetime subclasses date; a time of day has no place in ACT/365 day counts.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InputTypeError(f"{arg} must be a datetime.date, got {type(value).__name__} {value!r}")
    return value
