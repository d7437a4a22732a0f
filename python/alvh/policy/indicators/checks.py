"""Argument checks shared by the indicator builders and frame helpers.

Every failure is an `alvh.errors.InvalidInputError` (a ``ValueError``) or an
`alvh.errors.InputTypeError` (a ``TypeError``) whose message names the argument;
``err.arg`` holds the argument's name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import polars as pl

from alvh._core.checks import input_error
from alvh.errors import InputTypeError, InvalidInputError

__all__ = [
    "expr",
    "frame",
    "invalid",
    "named",
    "number",
    "ohlc_consistent",
    "positive_prices",
    "window",
    "check_dates",
]


def invalid(arg: str, message: str, value: Any = None) -> InvalidInputError:
    return input_error(message, arg=arg, value=value)


def window(arg: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``: a rolling window or a period (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise invalid(arg, f"{arg} must be an integer >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise invalid(arg, f"{arg} must be an integer >= {minimum}, got {value!r}", value)
    return int(value)


def number(arg: str, value: Any, *, minimum: float | None = None) -> float:
    """``value`` as a finite float (>= ``minimum`` when given): a threshold or a tolerance."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise invalid(arg, f"{arg} must be a finite number, got {type(value).__name__} {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise invalid(arg, f"{arg} must be a finite number, got {value!r}", result)
    if minimum is not None and result < minimum:
        raise invalid(arg, f"{arg} must be >= {minimum}, got {value!r}", result)
    return result


def expr(arg: str, value: Any) -> pl.Expr:
    """A column name or a Polars expression, as an expression (cast to Float64)."""
    if isinstance(value, str):
        return pl.col(value).cast(pl.Float64)
    if isinstance(value, pl.Expr):
        return value.cast(pl.Float64)
    raise InputTypeError(f"{arg} must be a column name or a polars expression, got {type(value).__name__}")


def frame(data: Any, columns: Mapping[str, str | None], date: str | None = None) -> pl.DataFrame:
    """Check that ``data`` is a DataFrame holding every named column (argument -> column name;
    ``None`` = not used) and, when ``date`` is given, that its dates are unique and ascending."""
    if not isinstance(data, pl.DataFrame):
        raise InputTypeError(f"frame must be a polars DataFrame, got {type(data).__name__}")
    wanted = dict(columns)
    if date is not None:
        wanted["date"] = date
    available = data.columns
    for arg, name in wanted.items():
        if name is None:
            continue
        if not isinstance(name, str):
            raise InputTypeError(f"{arg} must be a column name (str), got {type(name).__name__}")
        if name not in available:
            raise invalid(arg, f"{arg}: column {name!r} is not in the frame; available columns: {available}")
        dtype = data.schema[name]
        if arg != "date" and not (dtype.is_numeric() or dtype == pl.Null):
            raise InputTypeError(f"{arg}: column {name!r} must be numeric, got {dtype}")
    if date is not None:
        check_dates(data[date], date)
    return data


def check_dates(dates: pl.Series, name: str) -> None:
    if dates.dtype == pl.Object:
        raise InputTypeError(f"date column {name!r} holds Python objects; cast it to pl.Date or pl.Datetime")
    nulls = dates.is_null()
    if nulls.any():
        first = int(nulls.arg_true()[0])
        raise invalid("date", f"date column {name!r} has a missing date at row {first}")
    if len(dates) < 2:
        return
    previous, current = dates[:-1], dates[1:]
    duplicate = (current == previous).arg_true()
    if len(duplicate):
        row = int(duplicate[0]) + 1
        raise invalid("date", f"date column {name!r} has a duplicate date {dates[row]} at row {row}")
    backwards = (current < previous).arg_true()
    if len(backwards):
        row = int(backwards[0]) + 1
        raise invalid(
            "date",
            f"date column {name!r} is not sorted ascending: row {row} ({dates[row]}) comes "
            f"after {dates[row - 1]}; sort the frame by date first",
        )


def positive_prices(data: pl.DataFrame, columns: Mapping[str, str | None]) -> None:
    """Every non-null value of each named column (argument -> column) finite and > 0:
    the estimators take logs of these prices. Nulls pass (they give null rows)."""
    for arg, name in columns.items():
        if name is None:
            continue
        values = data[name].cast(pl.Float64)
        bad = (values.is_nan() | values.is_infinite() | (values <= 0)).fill_null(False)
        if bad.any():
            row = int(bad.arg_true()[0])
            raise invalid(
                arg,
                f"{arg}: column {name!r} must hold finite prices > 0; got {values[row]!r} at row {row}",
                values[row],
            )


def ohlc_consistent(
    data: pl.DataFrame, open: str | None, high: str | None, low: str | None, close: str | None
) -> None:
    """``low <= open, close <= high`` and ``low <= high`` on every row where the values are
    present: a bar outside its own range gives a negative Garman-Klass variance."""
    if high is None or low is None:
        return
    h, lo = data[high].cast(pl.Float64), data[low].cast(pl.Float64)
    checks: list[tuple[str, str, pl.Series]] = [("high", "below low", h < lo)]
    for arg, name in (("open", open), ("close", close)):
        if name is not None:
            value = data[name].cast(pl.Float64)
            checks += [(arg, "above high", value > h), (arg, "below low", value < lo)]
    for arg, relation, bad in checks:
        bad = bad.fill_null(False)
        if bad.any():
            row = int(bad.arg_true()[0])
            raise invalid(arg, f"{arg} is {relation} at row {row}: each bar needs low <= open, close <= high")


def named(result: pl.Expr, first_input: str | pl.Expr) -> pl.Expr:
    """``result`` named after the builder's first input (a column name, or the output name
    of an expression), as Polars' own expressions are; unnamed inputs leave it as is."""
    if isinstance(first_input, str):
        return result.alias(first_input)
    if isinstance(first_input, pl.Expr):
        name = first_input.meta.output_name(raise_if_undetermined=False)
        if name is not None:
            return result.alias(name)
    return result
