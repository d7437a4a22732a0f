"""`Position`: an immutable book of legs (SPX options, VIX futures, VIX options) plus cash.

Builders create the structures of an ALVH book with the right signs:
`Position.iron_condor` (by strikes) and `Position.iron_condor_by_delta` (short
strikes by BSM delta on the 5-point SPX grid), `vertical`, `conversion` /
`reversal`, `vix_call`, `vix_call_spread`, `vix_future`. Positions combine
with ``+`` and load from / save to TOML (format: docs/position_format.md).

Units: ``entry_price`` per unit of the underlying (points, as quoted); ``cash``
and ``credit`` in dollars (multiplier included). When a builder is given no
prices, every leg's ``entry_price`` is 0.0 ("not recorded").
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from alvh import bsm
from alvh._core import toml
from alvh._core.checks import input_error
from alvh._core.io import atomic_write
from alvh.book.instruments import Instrument, SpxOption, VixFuture, VixOption, instrument_types
from alvh.errors import InputTypeError, InvalidInputError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["MarketLike", "Position", "add_legs_to_file"]

_INSTRUMENTS = (SpxOption, VixFuture, VixOption)
_SPX_STEP = SpxOption.STRIKE_STEP

#: Keys of a ``[[legs]]`` table per instrument type (all required).
LEG_KEYS: dict[str, tuple[str, ...]] = {
    "spx_option": ("type", "expiry", "strike", "right", "quantity", "entry_price"),
    "vix_option": ("type", "expiry", "strike", "right", "quantity", "entry_price"),
    "vix_future": ("type", "expiry", "quantity", "entry_price"),
}
_POSITION_KEYS = ("name", "cash")
_TOP_KEYS = ("position", "legs")


class MarketLike(Protocol):
    """What the delta builder needs from a market (`alvh.Market` provides it)."""

    @property
    def spot(self) -> float: ...
    @property
    def rate(self) -> float: ...
    @property
    def div(self) -> float: ...
    @property
    def as_of(self) -> dt.date: ...
    def t(self, expiry: Any) -> Any: ...
    def spx_vol(self, strike: Any, expiry: Any) -> Any: ...


def _invalid(arg: str, value: Any, message: str) -> InvalidInputError:
    return input_error(message, arg=arg, value=value)


def _whole(arg: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InputTypeError(f"{arg} must be a whole number; got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number) or not number.is_integer() or number == 0.0:
        raise _invalid(arg, value, f"{arg} must be a non-zero whole number; got {arg} = {value!r}")
    return int(number)


def _on_grid(role: str, strike: Any, step: float = _SPX_STEP) -> float:
    if isinstance(strike, (bool, np.bool_)) or not isinstance(strike, numbers.Real):
        raise InputTypeError(f"{role} must be a number; got {type(strike).__name__} {strike!r}")
    value = float(strike)
    if not math.isfinite(value) or value <= 0.0 or not (value / step).is_integer():
        raise _invalid(
            role,
            strike,
            f"{role} must be a positive multiple of {step:g} (the listed strike grid); "
            f"got {role} = {strike!r}",
        )
    return value


def _leg_prices(roles: tuple[str, ...], prices: Any) -> dict[str, float]:
    """Entry prices per leg role from None (all 0.0), a mapping by role, or a sequence in role order."""
    if prices is None:
        return dict.fromkeys(roles, 0.0)
    if isinstance(prices, Mapping):
        unknown = sorted(set(prices) - set(roles))
        missing = [role for role in roles if role not in prices]
        if unknown or missing:
            raise _invalid(
                "prices",
                None,
                f"prices must have exactly the keys {list(roles)}; missing {missing}, unknown {unknown}",
            )
        return {role: prices[role] for role in roles}
    if isinstance(prices, (str, bytes)) or not isinstance(prices, Sequence):
        raise InputTypeError(
            f"prices must be None, a mapping by leg ({list(roles)}) or a sequence in that order; "
            f"got {type(prices).__name__}"
        )
    if len(prices) != len(roles):
        raise _invalid(
            "prices",
            None,
            f"prices must have {len(roles)} entries ({list(roles)}); got {len(prices)}",
        )
    return dict(zip(roles, prices))


@dataclass(frozen=True)
class Position:
    """Legs (a tuple of `SpxOption` / `VixFuture` / `VixOption`) plus ``cash`` in dollars.

    Immutable: every method returns a new position. Iterating yields the legs.
    """

    legs: tuple[Instrument, ...] = ()
    cash: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.legs, (str, bytes)) or not isinstance(self.legs, Iterable):
            raise InputTypeError(f"legs must be an iterable of instruments; got {self.legs!r}")
        legs = tuple(self.legs)
        for index, leg in enumerate(legs):
            if not isinstance(leg, _INSTRUMENTS):
                raise InputTypeError(
                    f"legs[{index}] must be an SpxOption, VixFuture or VixOption; "
                    f"got {type(leg).__name__} {leg!r}"
                )
        if isinstance(self.cash, (bool, np.bool_)) or not isinstance(self.cash, numbers.Real):
            raise InputTypeError(f"cash must be a number; got {type(self.cash).__name__} {self.cash!r}")
        if not math.isfinite(float(self.cash)):
            raise _invalid("cash", self.cash, f"cash must be finite; got cash = {self.cash!r}")
        if not isinstance(self.name, str):
            raise InputTypeError(f"name must be a str; got {type(self.name).__name__} {self.name!r}")
        object.__setattr__(self, "legs", legs)
        object.__setattr__(self, "cash", float(self.cash))

    # -- container ---------------------------------------------------------------
    def __iter__(self) -> Iterator[Instrument]:
        return iter(self.legs)

    def __len__(self) -> int:
        return len(self.legs)

    def __add__(self, other: Position) -> Position:
        """Both books together: legs concatenated, cash summed, the first non-empty name."""
        if not isinstance(other, Position):
            return NotImplemented
        return Position(self.legs + other.legs, self.cash + other.cash, self.name or other.name)

    def with_leg(self, leg: Instrument) -> Position:
        """This position with one more leg."""
        return Position((*self.legs, leg), self.cash, self.name)

    def with_name(self, name: str) -> Position:
        return Position(self.legs, self.cash, name)

    def scaled(self, k: int) -> Position:
        """Every quantity (and the cash) times the non-zero whole number ``k``; -1 flips the book."""
        factor = _whole("k", k)
        legs = tuple(leg.with_quantity(leg.quantity * factor) for leg in self.legs)
        return Position(legs, self.cash * factor, self.name)

    # -- summaries ---------------------------------------------------------------
    @property
    def credit(self) -> float:
        """Net option premium received at entry, in dollars (negative = net debit).

        ``-sum(quantity * entry_price * multiplier)`` over the option legs; VIX
        futures cost nothing to enter and do not count; ``cash`` is not included.
        """
        return -math.fsum(leg.entry_cost for leg in self.legs)

    @property
    def expiries(self) -> tuple[dt.date, ...]:
        """The distinct leg expiries, earliest first."""
        return tuple(sorted({leg.expiry for leg in self.legs}))

    def legs_frame(self) -> pl.DataFrame:
        """One row per leg: leg, type, expiry, strike, right (null for futures), quantity,
        entry_price, multiplier, entry_cost ($ paid at entry, negative = received)."""
        import polars as pl

        def option_field(leg: Instrument, field: str) -> Any:
            return getattr(leg, field) if isinstance(leg, (SpxOption, VixOption)) else None

        return pl.DataFrame(
            {
                "leg": list(range(len(self.legs))),
                "type": [leg.kind for leg in self.legs],
                "expiry": [leg.expiry for leg in self.legs],
                "strike": [option_field(leg, "strike") for leg in self.legs],
                "right": [option_field(leg, "right") for leg in self.legs],
                "quantity": [leg.quantity for leg in self.legs],
                "entry_price": [leg.entry_price for leg in self.legs],
                "multiplier": [leg.multiplier for leg in self.legs],
                "entry_cost": [leg.entry_cost for leg in self.legs],
            },
            schema={
                "leg": pl.Int64,
                "type": pl.String,
                "expiry": pl.Date,
                "strike": pl.Float64,
                "right": pl.String,
                "quantity": pl.Int64,
                "entry_price": pl.Float64,
                "multiplier": pl.Int64,
                "entry_cost": pl.Float64,
            },
        )

    def __str__(self) -> str:
        head = f"Position {self.name!r}" if self.name else "Position"
        lines = [f"{head}: {len(self)} legs, credit {self.credit:,.2f} $, cash {self.cash:,.2f} $"]
        lines += [f"  {leg}" for leg in self.legs]
        return "\n".join(lines)

    # -- builders ----------------------------------------------------------------
    @classmethod
    def iron_condor(
        cls,
        expiry: dt.date,
        *,
        short_put: float,
        long_put: float,
        short_call: float,
        long_call: float,
        quantity: int = 1,
        prices: Any = None,
        name: str = "",
    ) -> Position:
        """An SPX iron condor by strikes: long put < short put < short call < long call.

        ``quantity > 0`` sells the condor (short the inner strikes, a credit);
        negative buys it. ``prices``: entry prices per unit, a mapping with keys
        ``short_put, long_put, short_call, long_call`` or a sequence in that
        order; None = 0.0 for all. Legs are ordered by strike (long put first).
        """
        strikes = {
            role: _on_grid(role, strike)
            for role, strike in (
                ("short_put", short_put),
                ("long_put", long_put),
                ("short_call", short_call),
                ("long_call", long_call),
            )
        }
        order = ("long_put", "short_put", "short_call", "long_call")
        if not all(strikes[a] < strikes[b] for a, b in zip(order, order[1:])):
            raise _invalid(
                "strikes",
                None,
                "iron condor strikes must satisfy long_put < short_put < short_call < long_call; "
                f"got long_put={strikes['long_put']:g}, short_put={strikes['short_put']:g}, "
                f"short_call={strikes['short_call']:g}, long_call={strikes['long_call']:g}",
            )
        q = _whole("quantity", quantity)
        price = _leg_prices(("short_put", "long_put", "short_call", "long_call"), prices)
        signs = {"long_put": 1, "short_put": -1, "short_call": -1, "long_call": 1}
        legs = tuple(
            SpxOption(expiry, strikes[role], role.endswith("call"), signs[role] * q, price[role])
            for role in order
        )
        return cls(legs, name=name)

    @classmethod
    def iron_condor_by_delta(
        cls,
        expiry: dt.date,
        *,
        market: MarketLike,
        short_delta: float = 0.16,
        wing_width: float = 50.0,
        quantity: int = 1,
        name: str = "",
        wing_delta: float | None = None,
    ) -> Position:
        """An SPX iron condor whose short strikes have BSM spot delta nearest ±``short_delta``.

        Strikes are on the 5-point grid. Walking outward from the at-the-money
        strike (nearest the forward), the short put is the first strike whose
        put |delta| is <= ``short_delta`` or the strike just inside it, whichever
        is closer to the target (a tie goes to the farther one); the same for the
        short call. Long strikes are ``wing_width`` points further out, or with
        ``wing_delta`` (below ``short_delta``; the Cboe CNDR index's 5-delta wings) the
        strikes found the same way for that delta, walking out from the shorts (at least
        one strike beyond them). Deltas and
        entry prices are `alvh.bsm` with ``market.spx_vol`` per strike,
        ``market.spot``, ``market.rate``, ``market.div`` and ``market.t(expiry)``
        (model mid prices, not rounded to a tick).
        """
        target = float(short_delta)
        if not 0.0 < target < 0.5:
            raise _invalid(
                "short_delta", short_delta, f"short_delta must be in (0, 0.5); got {short_delta!r}"
            )
        wing = _on_grid("wing_width", wing_width)
        t = float(market.t(expiry))
        if not t > 0.0:
            raise _invalid(
                "expiry",
                None,
                f"expiry {expiry} must be after market.as_of {market.as_of} (t = {t!r} years)",
            )
        spot, rate, div = float(market.spot), float(market.rate), float(market.div)
        forward = spot * math.exp((rate - div) * t)
        atm = max(_SPX_STEP, round(forward / _SPX_STEP) * _SPX_STEP)
        # Candidates from 5 points to 4x the forward: every realistic 0.01-0.49 delta
        # lies inside (a 2-year 80 %-vol 16-delta put is near 0.3x the forward).
        strikes = np.arange(_SPX_STEP, 4.0 * forward + _SPX_STEP, _SPX_STEP)
        vols = np.asarray(market.spx_vol(strikes, expiry), dtype=np.float64)
        common: dict[str, Any] = {
            "spot": spot,
            "strike": strikes,
            "t": t,
            "rate": rate,
            "div": div,
            "vol": vols,
        }
        put_delta = np.abs(bsm.greeks(is_call=False, **common).delta)
        call_delta = np.abs(bsm.greeks(is_call=True, **common).delta)
        i_atm = int(np.searchsorted(strikes, atm))
        short_put = _first_crossing(strikes[i_atm::-1], put_delta[i_atm::-1], target, "put")
        short_call = _first_crossing(strikes[i_atm:], call_delta[i_atm:], target, "call")
        if wing_delta is None:
            long_put, long_call = short_put - wing, short_call + wing
        else:
            far = float(wing_delta)
            if not 0.0 < far < target:
                raise _invalid(
                    "wing_delta",
                    wing_delta,
                    f"wing_delta must be in (0, short_delta = {target:g}); got {wing_delta!r}",
                )
            i_put = int(np.searchsorted(strikes, short_put)) - 1
            i_call = int(np.searchsorted(strikes, short_call)) + 1
            if i_put < 0 or i_call >= strikes.size:
                raise _invalid("wing_delta", wing_delta, "no strike beyond the short strikes for the wings")
            long_put = _first_crossing(strikes[i_put::-1], put_delta[i_put::-1], far, "put")
            long_call = _first_crossing(strikes[i_call:], call_delta[i_call:], far, "call")
        if long_put <= 0.0:
            raise _invalid(
                "wing_width",
                wing_width,
                f"wing_width {wing:g} puts the long put at {long_put:g} (short put {short_put:g})",
            )
        chosen = np.array([short_put, long_put, short_call, long_call])
        is_call = np.array([False, False, True, True])
        entry = bsm.price(
            is_call=is_call,
            spot=spot,
            strike=chosen,
            t=t,
            rate=rate,
            div=div,
            vol=np.asarray(market.spx_vol(chosen, expiry), dtype=np.float64),
        )
        return cls.iron_condor(
            expiry,
            short_put=short_put,
            long_put=long_put,
            short_call=short_call,
            long_call=long_call,
            quantity=quantity,
            prices=[float(p) for p in entry],
            name=name,
        )

    @classmethod
    def vertical(
        cls,
        expiry: dt.date,
        *,
        long_strike: float,
        short_strike: float,
        is_call: bool,
        quantity: int = 1,
        prices: Any = None,
        name: str = "",
    ) -> Position:
        """An SPX vertical spread: +``quantity`` at ``long_strike``, -``quantity`` at ``short_strike``.

        A put spread hedge is ``long_strike > short_strike`` with ``is_call=False``.
        ``prices``: keys ``long, short`` (or a sequence in that order).
        """
        long_k, short_k = _on_grid("long_strike", long_strike), _on_grid("short_strike", short_strike)
        if long_k == short_k:
            raise _invalid(
                "short_strike",
                short_strike,
                f"a vertical needs two strikes; got long_strike = short_strike = {long_k:g}",
            )
        q = _whole("quantity", quantity)
        price = _leg_prices(("long", "short"), prices)
        legs = (
            SpxOption(expiry, long_k, is_call, q, price["long"]),
            SpxOption(expiry, short_k, is_call, -q, price["short"]),
        )
        return cls(legs, name=name)

    @classmethod
    def conversion(
        cls,
        expiry: dt.date,
        *,
        strike: float,
        quantity: int = 1,
        prices: Any = None,
        name: str = "",
    ) -> Position:
        """The option legs of a conversion: long put + short call at one strike.

        Only the options are represented, no stock or futures leg: together they
        are a synthetic *short* SPX (delta about -100 $ per point per unit,
        i.e. -1 index unit times the multiplier), which is what a conversion adds
        against a long underlying; in an ALVH book it offsets positive delta.
        ``prices``: keys ``put, call``.
        """
        return cls._synthetic(expiry, strike, -_whole("quantity", quantity), prices, name)

    @classmethod
    def reversal(
        cls,
        expiry: dt.date,
        *,
        strike: float,
        quantity: int = 1,
        prices: Any = None,
        name: str = "",
    ) -> Position:
        """The option legs of a reversal: short put + long call at one strike.

        Only the options are represented: a synthetic *long* SPX (delta about
        +100 $ per point per unit); in an ALVH book it offsets the negative delta
        of a condor whose put side is threatened. ``prices``: keys ``put, call``.
        """
        return cls._synthetic(expiry, strike, _whole("quantity", quantity), prices, name)

    @classmethod
    def _synthetic(
        cls, expiry: dt.date, strike: float, call_quantity: int, prices: Any, name: str
    ) -> Position:
        k = _on_grid("strike", strike)
        price = _leg_prices(("put", "call"), prices)
        legs = (
            SpxOption(expiry, k, False, -call_quantity, price["put"]),
            SpxOption(expiry, k, True, call_quantity, price["call"]),
        )
        return cls(legs, name=name)

    @classmethod
    def vix_call(
        cls,
        expiry: dt.date,
        *,
        strike: float,
        quantity: int = 1,
        price: float = 0.0,
        name: str = "",
    ) -> Position:
        """A VIX call (long for ``quantity > 0``) on the VIX future of ``expiry``."""
        k = _on_grid("strike", strike, VixOption.STRIKE_STEP)
        return cls((VixOption(expiry, k, True, _whole("quantity", quantity), price),), name=name)

    @classmethod
    def vix_call_spread(
        cls,
        expiry: dt.date,
        *,
        long_strike: float,
        short_strike: float,
        quantity: int = 1,
        prices: Any = None,
        name: str = "",
    ) -> Position:
        """A VIX bull call spread: long the lower strike, short the higher (``long_strike <
        short_strike``); ``quantity < 0`` sells it. ``prices``: keys ``long, short``."""
        step = VixOption.STRIKE_STEP
        long_k = _on_grid("long_strike", long_strike, step)
        short_k = _on_grid("short_strike", short_strike, step)
        if not long_k < short_k:
            raise _invalid(
                "short_strike",
                short_strike,
                f"a VIX call spread needs long_strike < short_strike; "
                f"got long_strike={long_k:g}, short_strike={short_k:g}",
            )
        q = _whole("quantity", quantity)
        price = _leg_prices(("long", "short"), prices)
        legs = (
            VixOption(expiry, long_k, True, q, price["long"]),
            VixOption(expiry, short_k, True, -q, price["short"]),
        )
        return cls(legs, name=name)

    @classmethod
    def vix_future(
        cls, expiry: dt.date, *, quantity: int = 1, price: float = 0.0, name: str = ""
    ) -> Position:
        """VIX futures (long for ``quantity > 0``, the usual vega hedge of a short condor)."""
        return cls((VixFuture(expiry, _whole("quantity", quantity), price),), name=name)

    # -- TOML --------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Position:
        """Load a position file (format: docs/position_format.md).

        Every problem raises `alvh.errors.InvalidInputError` (or `InputTypeError`
        for a wrong value type) whose message starts with the file name, then the
        place (``legs[2].strike``); unknown keys and types are errors, never skipped.
        """
        path = Path(path)
        _, doc = toml.load(path)
        return _position_from_doc(doc, str(path))

    def leg_records(self) -> list[dict[str, Any]]:
        """The legs as plain tables: ``type``, ``expiry`` (a date), ``strike`` and
        ``right`` (options), ``quantity``, ``entry_price`` -- the TOML file's ``[[legs]]``."""
        records = []
        for leg in self.legs:
            table: dict[str, Any] = {"type": leg.kind, "expiry": leg.expiry}
            if isinstance(leg, (SpxOption, VixOption)):
                table["strike"] = leg.strike
                table["right"] = leg.right
            table["quantity"] = leg.quantity
            table["entry_price"] = leg.entry_price
            records.append(table)
        return records

    @classmethod
    def from_leg_records(cls, records: Any, *, name: str = "") -> Position:
        """The inverse of `leg_records` (errors name ``legs[i].field``)."""
        return cls(tuple(_leg_from_table(dict(r), f"legs[{i}]") for i, r in enumerate(records)), name=name)

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write the position as TOML, atomically (temporary file in the same
        directory, fsync, ``os.replace``): a crash never leaves a partial file."""
        import tomli_w

        legs = self.leg_records()
        doc: dict[str, Any] = {"position": {"name": self.name, "cash": self.cash}}
        if legs:
            doc["legs"] = legs
        atomic_write(Path(path), tomli_w.dumps(doc).encode("utf-8"))


def add_legs_to_file(path: str | os.PathLike[str], legs: Position, *, comment: str = "") -> Position:
    """Append ``legs`` to the position file at ``path`` as ``[[legs]]`` tables (their
    ``entry_price`` the fill), keeping the file's own text and comments, and return the
    whole position as read back. The new text is parsed and checked (`Position.from_toml`'s
    rules) before the file is replaced, atomically: a bad leg or a crash leaves the file
    as it was. ``comment`` (one line) goes above the added legs."""
    import tomli_w

    from alvh._core.io import tomllib

    target = Path(path)
    old = Position.from_toml(target)  # the file as it is must be a valid position
    text = target.read_text(encoding="utf-8")
    note = f"# {' '.join(comment.split())}\n" if comment.strip() else ""
    # One [[legs]] table per leg, spelled out: tomli_w writes a short array of tables
    # inline ("legs = [{...}]"), which after the file's last [[legs]] would become a key
    # of that leg.
    added = "\n".join(f"[[legs]]\n{tomli_w.dumps(record)}" for record in legs.leg_records())
    new_text = f"{text.rstrip()}\n\n{note}{added}"
    merged = _position_from_doc(tomllib.loads(new_text), str(target))
    if len(merged.legs) != len(old.legs) + len(legs.legs):
        raise InvalidInputError(
            f"{target}: the legs could not be appended (the file's legs are not [[legs]] tables)"
        )
    atomic_write(target, new_text.encode("utf-8"))
    return merged


def _first_crossing(strikes: np.ndarray, abs_delta: np.ndarray, target: float, side: str) -> float:
    """Walking outward from the money: the strike whose |delta| is nearest ``target``
    at the first crossing (tie -> the farther strike)."""
    finite = np.isfinite(abs_delta)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise _invalid(
            "market",
            None,
            f"the {side} delta at strike {strikes[bad]:g} is not finite (check market.spx_vol)",
        )
    below = np.nonzero(abs_delta <= target)[0]
    if below.size == 0:
        raise _invalid(
            "short_delta",
            target,
            f"no {side} strike on the grid has |delta| <= {target} (search ended at "
            f"{strikes[-1]:g}); check short_delta and market.spx_vol",
        )
    i = int(below[0])
    if i > 0 and abs(abs_delta[i - 1] - target) < abs(abs_delta[i] - target):
        i -= 1
    return float(strikes[i])


def _file_error(where: str, field: str | None, exc: Exception) -> Exception:
    cls = InputTypeError if isinstance(exc, TypeError) else InvalidInputError
    return input_error(f"{where}: {exc}", arg=field, kind=cls)


def _position_from_doc(doc: dict[str, Any], file: str) -> Position:
    unknown = sorted(set(doc) - set(_TOP_KEYS))
    if unknown:
        raise _invalid(
            unknown[0],
            None,
            f"{file}: unknown top-level key {unknown[0]!r} (allowed: [position], [[legs]])",
        )
    header = doc.get("position", {})
    if not isinstance(header, dict):
        raise _invalid("position", None, f"{file}: 'position' must be a table [position]")
    unknown = sorted(set(header) - set(_POSITION_KEYS))
    if unknown:
        raise _invalid(
            unknown[0],
            None,
            f"{file}: position.{unknown[0]}: unknown key (allowed: {', '.join(_POSITION_KEYS)})",
        )
    name = header.get("name", "")
    cash = header.get("cash", 0.0)
    if not isinstance(name, str):
        raise _invalid("name", None, f"{file}: position.name must be a string; got {name!r}")
    if isinstance(cash, bool) or not isinstance(cash, (int, float)) or not math.isfinite(cash):
        raise _invalid("cash", None, f"{file}: position.cash must be a finite number; got {cash!r}")
    raw_legs = doc.get("legs", [])
    if not isinstance(raw_legs, list) or not all(isinstance(item, dict) for item in raw_legs):
        raise _invalid("legs", None, f"{file}: 'legs' must be an array of tables [[legs]]")
    legs = [_leg_from_table(table, f"{file}: legs[{index}]") for index, table in enumerate(raw_legs)]
    return Position(tuple(legs), float(cash), name)


def _leg_from_table(table: dict[str, Any], where: str) -> Instrument:
    kinds = instrument_types()
    kind = table.get("type")
    if kind is None:
        raise _invalid("type", None, f"{where}.type: missing (one of {', '.join(kinds)})")
    if kind not in kinds:
        raise _invalid(
            "type", None, f"{where}.type: unknown instrument type {kind!r} (one of {', '.join(kinds)})"
        )
    allowed = LEG_KEYS[kind]
    unknown = [key for key in table if key not in allowed]
    if unknown:
        raise _invalid(
            unknown[0],
            None,
            f"{where}.{unknown[0]}: unknown key for a {kind} (allowed: {', '.join(allowed)})",
        )
    missing = [key for key in allowed if key not in table]
    if missing:
        raise _invalid(
            missing[0], None, f"{where}.{missing[0]}: missing (a {kind} needs {', '.join(allowed)})"
        )
    expiry = table["expiry"]
    if isinstance(expiry, dt.datetime) or not isinstance(expiry, dt.date):
        raise _invalid(
            "expiry",
            None,
            f"{where}.expiry: must be a TOML date such as 2025-03-21 (no quotes, no time); got {expiry!r}",
        )
    for key in ("strike", "quantity", "entry_price"):
        value = table.get(key)
        if key in table and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise _invalid(key, None, f"{where}.{key}: must be a number; got {value!r}")
    try:
        if kind == "vix_future":
            return VixFuture(expiry, table["quantity"], table["entry_price"])
        right = table["right"]
        if right not in ("call", "put"):
            raise _invalid("right", None, f'{where}.right: must be "call" or "put"; got {right!r}')
        option_cls = SpxOption if kind == "spx_option" else VixOption
        return option_cls(expiry, table["strike"], right == "call", table["quantity"], table["entry_price"])
    except (InvalidInputError, InputTypeError) as exc:
        if str(exc).startswith(where):
            raise
        field = getattr(exc, "arg", None)
        raise _file_error(f"{where}.{field}" if field else where, field, exc) from exc
