"""Shared argument checks: finite numbers, ranges, plain dates, and the one factory of
`InvalidInputError` that sets ``.arg`` / ``.index`` / ``.value`` the same way everywhere."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

from alvh.errors import InputTypeError, InvalidInputError

__all__ = ["bad", "check_fields", "finite_number", "in_range", "plain_date"]

# --------------------------------------------------------------------------- checks


def bad(arg: str, value: Any, requirement: str, index: int | None = None) -> InvalidInputError:
    where = arg if index is None else f"{arg}[{index}]"
    err = InvalidInputError(f"{arg} must be {requirement}; got {where} = {value!r}")
    err.arg, err.index = arg, index
    err.value = value if isinstance(value, float) else None
    return err


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
