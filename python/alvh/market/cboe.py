"""The Cboe VIX calculation (`vix_index`) (Cboe, "VIX White Paper", the 2019+ methodology) on any SPX
option chain: a user's quotes (`alvh.market.chain.load_chain`) or a model's own options
(`model_chain`).

**Per term** (an expiry, ``T`` years to it, risk-free rate ``R``):

1. the forward ``F = K* + e^(RT) (C - P)`` at the strike ``K*`` where the call and put
   mids differ least (both quoted with a bid);
2. ``K0``, the first listed strike at or below ``F``;
3. the out-of-the-money options: puts below ``K0`` going down and calls above ``K0``
   going up, each kept if its bid is positive, the walk stopping at the first **two
   consecutive zero bids** (strikes past them are never used); at ``K0`` the average of
   the put and call mids;
4. ``sigma^2 = 2/T sum_i dK_i / K_i^2 e^(RT) Q(K_i) - 1/T (F / K0 - 1)^2``, with ``Q``
   the mid and ``dK_i`` half the distance between the neighbouring *kept* strikes (the
   distance to the one neighbour at either end).

**The index**: the near and next terms bracketing 30 days (``N1 <= 30 <= N2`` calendar
days), by the white paper's rule the expiries with more than 23 and less than 37 days;
``VIX = 100 sqrt((T1 s1^2 w1 + T2 s2^2 w2) * 365 / 30)`` with ``w1 = (N2 - 30) / (N2 - N1)``,
``w2 = (30 - N1) / (N2 - N1)`` (a term of exactly 30 days is used alone). When no expiry
of the chain lies inside 23-37 days on one side of 30 (a chain of monthly expiries only),
the nearest expiries bracketing 30 days are used and the result says which.

**Time.** Cboe counts minutes to the settlement time (9:30 ET for AM-settled monthly SPX,
16:00 for PM-settled SPXW). A daily snapshot has no clock: ``T`` is calendar days / 365
from the close to the expiry's close (DESIGN.md's ACT/365), which for an AM-settled term
overstates ``T`` by 6.5 hours. Measured on the same quotes (an SSVI market of 2016-02-04,
VIX 20): counting the near term 6.5 hours shorter gives 20.08 instead of 20.00, both terms
20.09. PM-settled weeklies at the close are exact to the minute.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh import bsm
from alvh._core import backend as _backend
from alvh._core.checks import finite_number, input_error, plain_date
from alvh._core.types import FloatArray, IntArray
from alvh.calendar import spx_weekly_expiry
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.chain import is_loaded_chain, load_chain
from alvh.market.ssvi import SsviSurface

if TYPE_CHECKING:
    import polars as pl

    from alvh.market.snapshot import Market

#: `solve_vix_ratio` accepts a ratio whose model VIX is this close (points) when the
#: formula's jumps leave none within its tolerance (a tenth of the 0.1-point target).
MAX_VIX_ERROR = 1e-2

__all__ = [
    "MAX_DAYS",
    "MAX_VIX_ERROR",
    "MIN_DAYS",
    "TARGET_DAYS",
    "VixIndex",
    "VixTerm",
    "model_chain",
    "model_prices",
    "model_vix",
    "solve_vix_ratio",
    "strike_grid_of",
    "term_variance",
    "vix_index",
]

#: The white paper's window of expiries (calendar days, exclusive) and its target tenor.
MIN_DAYS, MAX_DAYS, TARGET_DAYS = 23, 37, 30


@dataclass(frozen=True)
class VixTerm:
    """One term of the calculation: ``expiry``, ``days`` and ``years`` to it, ``rate``,
    the ``forward`` and ``k0``, the ``variance`` (sigma^2, annualized), and the kept
    ``strikes`` with their ``prices`` (the Q(K) used) and ``contributions``
    (``2/T dK/K^2 e^(RT) Q``; their sum minus the forward term is the variance)."""

    expiry: date
    days: int
    years: float
    rate: float
    forward: float
    k0: float
    variance: float
    strikes: FloatArray
    prices: FloatArray
    contributions: FloatArray


@dataclass(frozen=True)
class VixIndex:
    """The index (``value``, in points) and its terms: ``near`` and ``next`` (the same
    term twice when one expiry has exactly 30 days), ``in_window`` whether both are inside
    the white paper's 23-37-day window."""

    value: float
    near: VixTerm
    next: VixTerm
    in_window: bool

    def to_polars(self) -> pl.DataFrame:
        """One row per kept strike and term: term (near/next), expiry, strike, price,
        contribution."""
        import polars as pl

        frames = []
        for name, term in (("near", self.near), ("next", self.next)):
            frames.append(
                pl.DataFrame(
                    {
                        "term": [name] * term.strikes.size,
                        "expiry": [term.expiry] * term.strikes.size,
                        "strike": term.strikes,
                        "price": term.prices,
                        "contribution": term.contributions,
                    }
                )
            )
        return pl.concat(frames)


def term_variance(
    strikes: Any,
    call_bid: Any,
    call_ask: Any,
    put_bid: Any,
    put_ask: Any,
    *,
    years: float,
    rate: float,
) -> tuple[float, float, float, FloatArray, FloatArray, FloatArray]:
    """sigma^2 of one term from its quotes on ascending ``strikes`` (NaN = not quoted):
    ``(variance, forward, k0, kept strikes, their Q, their contributions)``; steps 1-4 of
    the module doc."""
    k = np.asarray(strikes, dtype=np.float64)
    cb, ca, pb, pa = (np.asarray(x, dtype=np.float64) for x in (call_bid, call_ask, put_bid, put_ask))
    if k.ndim != 1 or k.size < 3 or np.any(np.diff(k) <= 0.0):
        raise input_error("strikes must be at least 3 ascending values", arg="strikes")
    call_mid, put_mid = (cb + ca) / 2.0, (pb + pa) / 2.0
    both = (cb > 0.0) & (pb > 0.0) & np.isfinite(call_mid) & np.isfinite(put_mid)
    if not both.any():
        raise input_error("no strike has both a call and a put with a bid: no forward", arg="bid")
    growth = math.exp(rate * years)
    at = int(np.argmin(np.where(both, np.abs(call_mid - put_mid), np.inf)))
    forward = float(k[at] + growth * (call_mid[at] - put_mid[at]))
    below = np.flatnonzero(k <= forward)
    if below.size == 0:
        raise input_error(f"no strike at or below the forward {forward:.2f}", arg="strike", value=forward)
    i0 = int(below[-1])
    # Puts down from K0, calls up, each side ending at its first two consecutive zero
    # bids (vectorized: a model's VIX solve calls this a few times a day).
    puts = i0 - 1 - _until_two_zero_bids(pb[:i0][::-1])
    calls = i0 + 1 + _until_two_zero_bids(cb[i0 + 1 :])
    idx = np.concatenate((puts[::-1], [i0], calls)).astype(np.int64)
    kept = k[idx]
    q = np.where(kept < k[i0], put_mid[idx], call_mid[idx])
    q[kept == k[i0]] = (put_mid[i0] + call_mid[i0]) / 2.0
    if kept.size < 2:
        raise input_error("fewer than 2 out-of-the-money quotes with a bid around the forward", arg="bid")
    dk = np.empty_like(kept)
    dk[1:-1] = (kept[2:] - kept[:-2]) / 2.0
    dk[0], dk[-1] = kept[1] - kept[0], kept[-1] - kept[-2]
    contributions = 2.0 / years * dk / kept**2 * growth * q
    variance = float(contributions.sum() - (forward / k[i0] - 1.0) ** 2 / years)
    return variance, forward, float(k[i0]), kept, q, contributions


def _until_two_zero_bids(bids: FloatArray) -> IntArray:
    """Positions (in walk order) of the quoted strikes before the first two consecutive
    zero (or missing) bids."""
    quoted = (bids > 0.0) & np.isfinite(bids)
    pairs = np.flatnonzero(~quoted[:-1] & ~quoted[1:])
    end = int(pairs[0]) if pairs.size else quoted.size
    return np.flatnonzero(quoted[:end])


def _rate_of(rate: Any, expiry: date) -> float:
    if isinstance(rate, Mapping):
        if expiry not in rate:
            raise input_error(f"rate has no entry for expiry {expiry.isoformat()}", arg="rate")
        return finite_number(f"rate[{expiry.isoformat()}]", rate[expiry])
    return finite_number("rate", rate)


def _terms(days_by_expiry: Mapping[date, int]) -> tuple[date, date, bool]:
    """The near and next expiries (module doc) and whether both are in the window."""
    below = sorted((d, e) for e, d in days_by_expiry.items() if 0 < d <= TARGET_DAYS)
    above = sorted((d, e) for e, d in days_by_expiry.items() if d >= TARGET_DAYS)
    if not below or not above:
        listed = ", ".join(f"{e.isoformat()} ({d} d)" for e, d in sorted(days_by_expiry.items()))
        raise input_error(
            f"the chain needs expiries on both sides of {TARGET_DAYS} days to "
            f"give the VIX; it has {listed or 'none'}",
            arg="expiry",
        )
    near_days, near = below[-1]
    next_days, nxt = above[0]
    in_window = near_days > MIN_DAYS and next_days < MAX_DAYS
    return near, nxt, in_window


def _quotes(frame: pl.DataFrame, expiry: date) -> tuple[FloatArray, ...]:
    """Strikes and the call/put bid/ask on them (NaN where one side is not quoted)."""
    import polars as pl

    rows = frame.filter(pl.col("expiry") == expiry)
    strikes = np.unique(rows["strike"].to_numpy())
    out = []
    for kind in ("call", "put"):
        side = rows.filter(pl.col("type") == kind)
        pos = np.searchsorted(strikes, side["strike"].to_numpy())
        for column in ("bid", "ask"):
            values = np.full(strikes.size, np.nan)
            values[pos] = side[column].to_numpy()
            out.append(values)
    return (strikes, *out)


def vix_index(
    chain: str | os.PathLike[str] | pl.DataFrame,
    *,
    as_of: date,
    rate: Any = 0.0,
) -> VixIndex:
    """The Cboe VIX of ``chain`` (a CSV path or a frame in `load_chain`'s format, or
    `model_chain`'s) as of ``as_of`` (module doc). ``rate``: continuously compounded,
    one number or ``{expiry: rate}`` (Cboe uses the Treasury yield to each expiry)."""
    as_of = plain_date("as_of", as_of)
    frame = chain if is_loaded_chain(chain) else load_chain(chain)
    days = {e: (e - as_of).days for e in frame["expiry"].unique().to_list()}
    near, nxt, in_window = _terms(days)
    terms = []
    for expiry in dict.fromkeys((near, nxt)):
        years = days[expiry] / 365.0
        r = _rate_of(rate, expiry)
        try:
            variance, forward, k0, kept, q, contrib = term_variance(
                *_quotes(frame, expiry), years=years, rate=r
            )
        except InvalidInputError as exc:
            raise input_error(f"expiry {expiry.isoformat()}: {exc}", arg="chain") from None
        terms.append(VixTerm(expiry, days[expiry], years, r, forward, k0, variance, kept, q, contrib))
    first, second = terms[0], terms[-1]
    return VixIndex(_index(first, second), first, second, in_window)


def _index(first: VixTerm, second: VixTerm) -> float:
    """The white paper's 30-day interpolation of two terms' variances, in index points."""
    if first.days == second.days:
        total = first.variance
    else:
        w1 = (second.days - TARGET_DAYS) / (second.days - first.days)
        total = first.years * first.variance * w1 + second.years * second.variance * (1.0 - w1)
        total *= 365.0 / TARGET_DAYS
    if not total > 0.0:
        raise input_error(
            f"the chain's 30-day variance is not positive ({total!r})", arg="chain", value=total
        )
    return 100.0 * math.sqrt(total)


def model_vix(
    market: Market,
    *,
    strike_step: float = 5.0,
    low: float = 0.3,
    high: float = 2.0,
    tick: float = 0.05,
) -> VixIndex:
    """`vix_index` of the market's own options (`model_chain`'s quotes), computed on
    arrays without building the chain: the same number, about 100 times faster (a
    market solving its VIX ratio calls it a few times)."""
    as_of = market.as_of
    days = {e: (e - as_of).days for e in _default_expiries(as_of)}
    near, nxt, in_window = _terms(days)
    strikes = strike_grid_of(market.spot, strike_step, low, high)
    expiries = list(dict.fromkeys((near, nxt)))
    # Both terms' calls and puts in one vol call and one pricing call (`model_prices`
    # per expiry, element for element): the solve calls this a few times a day.
    column = np.array(expiries, dtype="datetime64[D]")[:, None]
    prices = np.asarray(
        bsm.price(
            is_call=np.array([True, False])[:, None, None],
            spot=market.spot,
            strike=strikes,
            t=market.t(column),
            rate=market.rate,
            div=market.div,
            vol=market.spx_vol(strikes, column),
        ),
        dtype=np.float64,
    )
    terms = []
    for e, expiry in enumerate(expiries):
        years = days[expiry] / 365.0
        quotes = []
        for price in (prices[0, e], prices[1, e]):
            quoted = price >= tick / 2.0
            quotes += [np.where(quoted, price, 0.0), np.where(quoted, price, tick)]
        variance, forward, k0, kept, q, contrib = term_variance(
            strikes, *quotes, years=years, rate=market.rate
        )
        terms.append(
            VixTerm(expiry, days[expiry], years, market.rate, forward, k0, variance, kept, q, contrib)
        )
    return VixIndex(_index(terms[0], terms[-1]), terms[0], terms[-1], in_window)


def _index_of_ratio(market: Market) -> Callable[[float], float]:
    """The model VIX of ``market`` with its surface's ``atm_vix_ratio`` set to a trial
    value, as a function of that value (what `solve_vix_ratio` finds the root of).

    For an SSVI base market under the native backend: the Rust kernel
    (``alvh_core::cboe``, the same steps as `model_vix`; a test holds them equal), with
    everything but the ATM vols built once, the ATM vols being the ratio times those
    at ratio 1 (the term structure's total variance scales with the ratio squared).
    Otherwise `model_vix` of the market rebuilt with the trial ratio."""
    from dataclasses import replace

    model: Any = market.vol_model
    if (
        _backend.backend() != "native"
        or not isinstance(model, SsviSurface)
        or market.scenario_base is not None
    ):
        return lambda ratio: model_vix(replace(market, vol_model=replace(model, atm_vix_ratio=ratio))).value
    as_of = market.as_of
    days = {e: (e - as_of).days for e in _default_expiries(as_of)}
    near, nxt, _in_window = _terms(days)
    unit = replace(market, vol_model=replace(model, atm_vix_ratio=1.0))
    atm = unit.atm_vol(np.array([near, nxt], dtype="datetime64[D]"))
    (y1, d1), (y2, d2) = ((days[e] / 365.0, float(days[e])) for e in (near, nxt))
    strikes = strike_grid_of(market.spot, 5.0, 0.3, 2.0)
    spot, rate, div = float(market.spot), float(market.rate), float(market.div)
    smile = (model.rho, model.eta, model.gamma)
    kernel = _backend.kernels().model_vix
    a1, a2 = float(atm[0]), float(atm[1])

    def index(ratio: float) -> float:
        return float(
            kernel(spot, rate, div, strikes, (y1, d1, ratio * a1), (y2, d2, ratio * a2), smile, 0.05)
        )

    return index


def solve_vix_ratio(market: Market, *, tolerance: float = 1e-3) -> float:
    """The ``atm_vix_ratio`` of ``market``'s vol model for which `model_vix` of the market
    equals ``market.vix`` (within ``tolerance`` points): secant steps on the ratio, which
    scales the model's VIX almost proportionally (2-3 evaluations of about 0.5 ms;
    ``tolerance`` 1e-3 points, a hundredth of the 0.1-point target).
    ``market.vol_model`` must have an ``atm_vix_ratio`` to replace (any value: the start).

    The Cboe formula on a chain is not smooth in the level: a strike enters or leaves the
    sum with its bid (two consecutive zero bids end the wing), so the model VIX jumps as
    the ratio moves: by ~1e-5 points at SPX 2000-5000, by up to ~5e-3 points at SPX 850
    (2002), where the 5-point grid holds fewer strikes per vol point. When the secant
    cannot get within ``tolerance``, the bracket it found is bisected down to the jump and
    the closer side is taken; the error is then at most `MAX_VIX_ERROR` points (a tenth
    of the 0.1-point target), or raised."""
    index = _index_of_ratio(market)
    tried: dict[float, float] = {}

    def gap(ratio: float) -> float:
        if ratio not in tried:
            tried[ratio] = index(ratio) - market.vix
        return tried[ratio]

    low_ratio, high_ratio = 1e-3, 5.0
    x0 = 0.8
    g0 = gap(x0)
    x1 = x0 * market.vix / (market.vix + g0)
    for _ in range(30):
        x1 = min(max(x1, low_ratio), high_ratio)
        g1 = gap(x1)
        if abs(g1) <= tolerance:
            return x1
        if g1 == g0:
            break
        x0, x1, g0 = x1, x1 - g1 * (x1 - x0) / (g1 - g0), g1
    below = [r for r, g in tried.items() if g < 0.0]
    above = [r for r, g in tried.items() if g > 0.0]
    if below and above:  # the model VIX rises with the ratio: bisect the tightest bracket
        lo, hi = max(below), min(above)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi or abs(gap(mid)) <= tolerance:
                break
            lo, hi = (mid, hi) if gap(mid) < 0.0 else (lo, mid)
    best_error, best_ratio = min((abs(g), r) for r, g in tried.items())
    if best_error <= MAX_VIX_ERROR:
        return best_ratio
    raise input_error(
        f"no SPX surface of this shape reproduces VIX {market.vix:g} with the Cboe formula on "
        f"its own options (the ATM/VIX ratio would leave [{low_ratio:g}, {high_ratio:g}])",
        arg="vix",
        value=market.vix,
    )


def model_prices(market: Market, strikes: FloatArray, expiry: date) -> tuple[FloatArray, FloatArray]:
    """The market's call and put prices on ``strikes`` at ``expiry`` (Black-Scholes at
    `Market.spx_vol`): what `model_chain`, `model_vix` and `check_arbitrage` quote."""
    vols = market.spx_vol(strikes, expiry)
    t = float(market.t(expiry))
    calls, puts = (
        np.asarray(
            bsm.price(
                is_call=is_call,
                spot=market.spot,
                strike=strikes,
                t=t,
                rate=market.rate,
                div=market.div,
                vol=vols,
            ),
            dtype=np.float64,
        )
        for is_call in (True, False)
    )
    return calls, puts


def strike_grid_of(spot: float, step: float, low: float, high: float) -> FloatArray:
    """Multiples of ``step`` from ``low`` to ``high`` times ``spot`` (listed SPX strikes)."""
    first, last = math.ceil(low * spot / step), math.floor(high * spot / step)
    return np.arange(first, last + 1, dtype=np.float64) * step


def _default_expiries(as_of: date) -> list[date]:
    """The weekly SPX expiries (holiday-adjusted Fridays) from 16 to 44 days out: the
    white paper's window and a week either side."""
    out: list[date] = []
    day = as_of + timedelta(days=16)
    while (day - as_of).days <= 44:
        expiry = spx_weekly_expiry(day)
        if expiry not in out and (expiry - as_of).days >= 16:
            out.append(expiry)
        day += timedelta(days=7)
    return out


def model_chain(
    market: Market,
    *,
    expiries: Iterable[date] | None = None,
    strike_step: float = 5.0,
    low: float = 0.3,
    high: float = 2.0,
    tick: float = 0.05,
) -> pl.DataFrame:
    """The model's own options as a chain in `load_chain`'s format: calls and puts on the
    ``strike_step`` grid from ``low`` to ``high`` times spot, at ``expiries`` (default: the
    weekly expiries 16-44 days out), bid = ask = the model price; a price below half a
    ``tick`` is quoted 0 bid / ``tick`` ask, as a market maker would (so the zero-bid
    rule of `vix_index` ends the strike walk where a real chain's would)."""
    import polars as pl

    step = finite_number("strike_step", strike_step)
    if step <= 0.0:
        raise input_error(f"strike_step must be positive; got {step!r}", arg="strike_step", value=step)
    if not 0.0 < low < 1.0 < high:
        raise input_error(f"need 0 < low < 1 < high; got low = {low!r}, high = {high!r}", arg="low")
    if isinstance(expiries, (str, bytes)):
        raise InputTypeError("expiries must be dates, not a string")
    wanted = _default_expiries(market.as_of) if expiries is None else list(expiries)
    strikes = strike_grid_of(market.spot, step, low, high)
    rows: dict[str, list[Any]] = {c: [] for c in ("expiry", "strike", "type", "bid", "ask")}
    for expiry in wanted:
        for kind, price in zip(("call", "put"), model_prices(market, strikes, expiry)):
            quoted = price >= tick / 2.0
            rows["expiry"] += [expiry] * strikes.size
            rows["strike"] += strikes.tolist()
            rows["type"] += [kind] * strikes.size
            rows["bid"] += np.where(quoted, price, 0.0).tolist()
            rows["ask"] += np.where(quoted, price, tick).tolist()
    return load_chain(
        pl.DataFrame(
            rows,
            schema={
                "expiry": pl.Date,
                "strike": pl.Float64,
                "type": pl.String,
                "bid": pl.Float64,
                "ask": pl.Float64,
            },
        )
    )
