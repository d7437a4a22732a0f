"""Static-arbitrage check of a market's SPX surface (`check_arbitrage`): the model's own
option prices on a strike grid and a set of expiries, tested for the three violations an
options desk checks first.

- **vertical**: a call spread (``C(K1) - C(K2)``, ``K1 < K2``) must be worth between 0 and
  the discounted width ``e^(-rT) (K2 - K1)``; a put spread likewise (``P(K2) - P(K1)``).
  A put whose price falls as the strike rises is a negative put spread.
- **butterfly**: prices are convex in the strike: on three neighbouring strikes
  ``(C(K2) - C(K1)) / (K2 - K1) <= (C(K3) - C(K2)) / (K3 - K2)`` (calls; puts alike),
  i.e. a butterfly has a non-negative value.
- **calendar**: at a fixed log-moneyness ``k = ln(K / F)``, the total implied variance
  ``w = vol^2 T`` does not fall from one expiry to the next (Gatheral & Jacquier 2014,
  with a deterministic rate and dividend yield).

A difference within ``tolerance`` (index points for prices, variance units for ``w``)
is rounding, not arbitrage. Prices are Black-Scholes at `Market.spx_vol` (`alvh.market.cboe.model_prices`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh._core.checks import finite_number, input_error
from alvh._core.types import FloatArray
from alvh.errors import InputTypeError
from alvh.market.cboe import model_prices

if TYPE_CHECKING:
    import polars as pl

    from alvh.market.snapshot import Market

__all__ = ["DEFAULT_DAYS", "KINDS", "ArbitrageReport", "check_arbitrage", "strike_grid"]

#: Expiries checked by default: calendar days from the market's date.
DEFAULT_DAYS = (1, 3, 7, 14, 30, 45, 60, 90, 180, 365)
#: The kinds of violation, in report order.
KINDS = ("vertical", "butterfly", "calendar")


@dataclass(frozen=True)
class ArbitrageReport:
    """``counts``: violations per kind; ``violations``: one row each (kind, option type,
    expiry, strike or log-moneyness, the amount by which the condition fails); the grid
    checked (``expiries``, ``strikes``)."""

    counts: dict[str, int]
    expiries: tuple[date, ...]
    strikes: FloatArray = field(repr=False)
    rows: tuple[dict[str, Any], ...] = field(repr=False)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return self.total == 0

    def to_polars(self) -> pl.DataFrame:
        """The violations: kind, right (call/put, None for calendar), expiry, next_expiry
        (calendar), strike (or the strike of ``k`` at the first expiry), k, amount."""
        import polars as pl

        schema = {
            "kind": pl.String,
            "right": pl.String,
            "expiry": pl.Date,
            "next_expiry": pl.Date,
            "strike": pl.Float64,
            "k": pl.Float64,
            "amount": pl.Float64,
        }
        return pl.DataFrame(list(self.rows), schema=schema, orient="row")


def strike_grid(spot: float, *, step: float = 5.0, low: float = 0.3, high: float = 2.0) -> FloatArray:
    """The listed-strike grid: multiples of ``step`` from ``low`` to ``high`` times spot."""
    first, last = np.ceil(low * spot / step), np.floor(high * spot / step)
    return np.arange(first, last + 1.0) * step


def _expiries(market: Market, expiries: Iterable[date] | None) -> tuple[date, ...]:
    if expiries is None:
        return tuple(market.as_of + timedelta(days=d) for d in DEFAULT_DAYS)
    if isinstance(expiries, (str, bytes)):
        raise InputTypeError("expiries must be dates, not a string")
    out = tuple(sorted(set(expiries)))
    for expiry in out:
        if not isinstance(expiry, date) or expiry <= market.as_of:
            raise input_error(
                f"expiries must be dates after the market's as_of {market.as_of.isoformat()}; got {expiry!r}",
                arg="expiries",
            )
    if not out:
        raise input_error("expiries must not be empty", arg="expiries")
    return out


def _row(
    kind: str,
    right: str | None,
    expiry: date,
    strike: float,
    amount: float,
    *,
    next_expiry: date | None = None,
    k: float | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "right": right,
        "expiry": expiry,
        "next_expiry": next_expiry,
        "strike": strike,
        "k": k,
        "amount": amount,
    }


def _strike_checks(market: Market, expiry: date, strikes: FloatArray, tol: float) -> list[dict[str, Any]]:
    t = float(market.t(expiry))
    width = np.diff(strikes)
    bound = np.exp(-market.rate * t) * width
    rows = []
    for (is_call, right), price in zip(
        ((True, "call"), (False, "put")), model_prices(market, strikes, expiry)
    ):
        spread = -np.diff(price) if is_call else np.diff(price)
        slope = np.diff(price) / width
        for i in np.flatnonzero(spread < -tol):
            rows.append(_row("vertical", right, expiry, float(strikes[i]), float(-spread[i])))
        for i in np.flatnonzero(spread > bound + tol):
            rows.append(_row("vertical", right, expiry, float(strikes[i]), float(spread[i] - bound[i])))
        convexity = np.diff(slope)  # >= 0 for a convex price
        for i in np.flatnonzero(convexity * width[1:] < -tol):
            rows.append(
                _row("butterfly", right, expiry, float(strikes[i + 1]), float(-convexity[i] * width[i + 1]))
            )
    return rows


def _calendar_checks(
    market: Market, expiries: Sequence[date], strikes: FloatArray, tol: float
) -> list[dict[str, Any]]:
    rows = []
    first_forward = float(market.forward(expiries[0]))
    k = np.log(strikes / first_forward)
    previous: FloatArray | None = None
    for j, expiry in enumerate(expiries):
        t = float(market.t(expiry))
        at_k = float(market.forward(expiry)) * np.exp(k)
        w = np.asarray(market.spx_vol(at_k, expiry), dtype=np.float64) ** 2 * t
        if previous is not None:
            drop = previous - w
            for i in np.flatnonzero(drop > tol):
                rows.append(
                    _row(
                        "calendar",
                        None,
                        expiries[j - 1],
                        float(strikes[i]),
                        float(drop[i]),
                        next_expiry=expiry,
                        k=float(k[i]),
                    )
                )
        previous = w
    return rows


def check_arbitrage(
    market: Market,
    *,
    expiries: Iterable[date] | None = None,
    strikes: Any = None,
    price_tolerance: float = 1e-9,
    variance_tolerance: float = 1e-12,
) -> ArbitrageReport:
    """Count and list the static-arbitrage violations of ``market``'s SPX surface (module
    doc) on ``strikes`` (default `strike_grid` of the spot: every 5 points from 0.3 to 2
    times it) at ``expiries`` (default `DEFAULT_DAYS` from ``market.as_of``)."""
    dated = _expiries(market, expiries)
    grid = strike_grid(market.spot) if strikes is None else np.unique(np.asarray(strikes, dtype=np.float64))
    if grid.ndim != 1 or grid.size < 3 or not np.all(np.isfinite(grid) & (grid > 0.0)):
        raise input_error("strikes must hold at least 3 positive finite values", arg="strikes")
    price_tol = finite_number("price_tolerance", price_tolerance)
    var_tol = finite_number("variance_tolerance", variance_tolerance)
    rows: list[dict[str, Any]] = []
    for expiry in dated:
        rows += _strike_checks(market, expiry, grid, price_tol)
    rows += _calendar_checks(market, dated, grid, var_tol)
    counts = {kind: sum(1 for r in rows if r["kind"] == kind) for kind in KINDS}
    return ArbitrageReport(counts, dated, grid, tuple(rows))
