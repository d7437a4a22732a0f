"""The exception classes alvh raises, on either backend.

Each subclasses the built-in class a user would catch (``ValueError`` for bad
values and shapes, ``TypeError`` for wrong types), so ``except ValueError`` works.
Input errors carry ``arg``, ``index`` and ``value`` attributes naming the first
offending element.
"""

from __future__ import annotations

__all__ = [
    "AlvhError",
    "BackendError",
    "DataError",
    "InputTypeError",
    "InvalidInputError",
    "NoSolutionError",
    "ShapeError",
]


class AlvhError(Exception):
    """Base class of every alvh error."""


class InvalidInputError(AlvhError, ValueError):
    """An argument value outside its domain (e.g. a negative strike)."""

    arg: str | None = None
    index: int | None = None
    value: float | None = None


class NoSolutionError(InvalidInputError):
    """An option price outside the no-arbitrage bounds: no volatility reproduces it."""


class DataError(InvalidInputError):
    """A bad market-data file or frame (`alvh.backtesting.data`). ``file`` is the file (or the frame's
    name), ``column`` the offending column, ``row`` the first bad row: its CSV line number
    for a CSV file, its 1-based data row otherwise; ``date`` is that row's date when it
    parsed. ``arg`` is the column and ``index`` the 0-based data row, as for other input
    errors. Any of them is None when the problem has no such place (a missing file)."""

    file: str | None = None
    column: str | None = None
    row: int | None = None
    date: object | None = None


class ShapeError(AlvhError, ValueError):
    """Arguments whose shapes do not broadcast together, or a wrong ``out=`` shape."""

    arg: str | None = None
    index: int | None = None
    value: float | None = None


class InputTypeError(AlvhError, TypeError):
    """An argument of the wrong type (e.g. a string where a number belongs)."""

    arg: str | None = None
    index: int | None = None
    value: float | None = None


class BackendError(AlvhError, RuntimeError):
    """The requested backend is unknown or not available in this installation."""
