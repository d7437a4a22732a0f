"""The instruments a book holds: SPX options, VIX futures and VIX options.

Each is a frozen dataclass with an expiry date, a signed ``quantity`` in whole
contracts (negative = short), and an ``entry_price`` per unit of the
underlying, i.e. in index points as quoted (dollars per contract =
``entry_price * multiplier``). ``entry_price`` defaults to 0.0, meaning "not
recorded". Contract multipliers follow DESIGN.md: SPX options 100, VIX futures
1000, VIX options 100 (`MULTIPLIER` class constant, `multiplier` property).

What construction enforces (`alvh.errors.InvalidInputError` naming the field
and the value; `alvh.errors.InputTypeError` for a wrong type):

- ``expiry`` a ``datetime.date`` (not a ``datetime``) that is an exchange
  business day (`alvh.calendar.is_business_day`); any business day is allowed,
  since SPXW lists daily expiries and VIX has weeklies.
- ``strike`` finite, > 0 and on the listed grid: SPX strikes are multiples of
  5 points; VIX strikes multiples of 0.5 (Cboe lists VIX strikes in 0.5, 1,
  2.5 and 5 point steps, all on the 0.5 grid).
- ``quantity`` a non-zero whole number (an integral float such as ``-2.0`` is
  accepted and stored as an int).
- ``entry_price`` finite and >= 0.
- ``is_call`` a bool.

VIX options are European on the VIX future of the same expiry (Black-76),
never on VIX spot; pricing lives elsewhere, these are plain records.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from alvh._core.checks import input_error
from alvh.calendar import is_business_day
from alvh.errors import InputTypeError, InvalidInputError

__all__ = ["Instrument", "SpxOption", "VixFuture", "VixOption", "instrument_types"]


def _invalid(owner: str, field: str, value: Any, requirement: str) -> InvalidInputError:
    return input_error(
        f"{owner}.{field} must be {requirement}; got {field} = {value!r}", arg=field, value=value
    )


def _wrong_type(owner: str, field: str, value: Any, expected: str) -> InputTypeError:
    return input_error(
        f"{owner}.{field} must be {expected}; got {type(value).__name__} {value!r}",
        arg=field,
        kind=InputTypeError,
    )


def _real(owner: str, field: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _wrong_type(owner, field, value, "a number")
    return float(value)


def _check_expiry(owner: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise _wrong_type(owner, "expiry", value, "a datetime.date")
    if not is_business_day(value):
        raise _invalid(owner, "expiry", value, "an exchange business day")
    return value


def _check_quantity(owner: str, value: Any) -> int:
    number = _real(owner, "quantity", value)
    if not math.isfinite(number) or not number.is_integer():
        raise _invalid(owner, "quantity", value, "a whole number of contracts")
    if number == 0:
        raise _invalid(owner, "quantity", value, "non-zero (negative = short)")
    return int(number)


def _check_entry_price(owner: str, value: Any) -> float:
    price = _real(owner, "entry_price", value)
    if not math.isfinite(price) or price < 0.0:
        raise _invalid(owner, "entry_price", value, "finite and >= 0")
    return price


def _check_strike(owner: str, value: Any, step: float) -> float:
    strike = _real(owner, "strike", value)
    if not math.isfinite(strike) or strike <= 0.0:
        raise _invalid(owner, "strike", value, "finite and > 0")
    if not (strike / step).is_integer():
        raise _invalid(owner, "strike", value, f"a multiple of {step:g} (the listed strike grid)")
    return strike


def _check_is_call(owner: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise _wrong_type(owner, "is_call", value, "a bool")
    return bool(value)


class _Leg:
    """Shared behaviour of the instruments (no fields of its own)."""

    MULTIPLIER: ClassVar[int]
    KIND: ClassVar[str]
    expiry: dt.date
    quantity: int
    entry_price: float

    @property
    def multiplier(self) -> int:
        """Dollars per point of price, per contract."""
        return self.MULTIPLIER

    @property
    def kind(self) -> str:
        """The instrument type as written in position files (``"spx_option"`` ...)."""
        return self.KIND

    @property
    def is_long(self) -> bool:
        return self.quantity > 0

    @property
    def entry_cost(self) -> float:
        """Dollars paid at entry (negative = premium received); 0 for futures."""
        return float(self.quantity) * self.entry_price * self.MULTIPLIER

    def with_quantity(self, quantity: int) -> Any:
        """The same contract with another (validated) quantity."""
        return replace(self, quantity=quantity)  # type: ignore[type-var]


@dataclass(frozen=True)
class _Option(_Leg):
    """The fields and validation SPX and VIX options share."""

    expiry: dt.date
    strike: float
    is_call: bool
    quantity: int
    entry_price: float = 0.0

    STRIKE_STEP: ClassVar[float]

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "expiry", _check_expiry(owner, self.expiry))
        object.__setattr__(self, "strike", _check_strike(owner, self.strike, self.STRIKE_STEP))
        object.__setattr__(self, "is_call", _check_is_call(owner, self.is_call))
        object.__setattr__(self, "quantity", _check_quantity(owner, self.quantity))
        object.__setattr__(self, "entry_price", _check_entry_price(owner, self.entry_price))

    @property
    def right(self) -> str:
        """``"call"`` or ``"put"``."""
        return "call" if self.is_call else "put"

    def __str__(self) -> str:
        root = "SPX" if self.KIND == "spx_option" else "VIX"
        return (
            f"{self.quantity:+d} {root} {self.expiry.isoformat()} {self.strike:g} "
            f"{'C' if self.is_call else 'P'} @ {self.entry_price:g}"
        )


@dataclass(frozen=True)
class SpxOption(_Option):
    """A European SPX index option (BSM with dividend yield), 100 $ per point."""

    MULTIPLIER: ClassVar[int] = 100
    KIND: ClassVar[str] = "spx_option"
    #: SPX strikes are listed in 5-point steps.
    STRIKE_STEP: ClassVar[float] = 5.0


@dataclass(frozen=True)
class VixOption(_Option):
    """A European VIX option on the VIX future of the same expiry (Black-76), 100 $ per point."""

    MULTIPLIER: ClassVar[int] = 100
    KIND: ClassVar[str] = "vix_option"
    #: Every listed VIX strike (0.5, 1, 2.5 and 5 point steps) is a multiple of 0.5.
    STRIKE_STEP: ClassVar[float] = 0.5


@dataclass(frozen=True)
class VixFuture(_Leg):
    """A VIX future (VX), 1000 $ per VIX point; ``entry_price`` is the traded futures price."""

    expiry: dt.date
    quantity: int
    entry_price: float = 0.0

    MULTIPLIER: ClassVar[int] = 1000
    KIND: ClassVar[str] = "vix_future"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "expiry", _check_expiry(owner, self.expiry))
        object.__setattr__(self, "quantity", _check_quantity(owner, self.quantity))
        object.__setattr__(self, "entry_price", _check_entry_price(owner, self.entry_price))

    @property
    def entry_cost(self) -> float:
        """0: a future costs nothing to enter (margin is not premium)."""
        return 0.0

    def __str__(self) -> str:
        return f"{self.quantity:+d} VX {self.expiry.isoformat()} @ {self.entry_price:g}"


#: Any leg a `Position` can hold.
Instrument = SpxOption | VixFuture | VixOption


def instrument_types() -> dict[str, type[SpxOption] | type[VixFuture] | type[VixOption]]:
    """Instrument classes by the ``type`` name used in position files."""
    return {cls.KIND: cls for cls in (SpxOption, VixFuture, VixOption)}
