"""Position analytics against a `Market`: per-leg Greeks in trader units and a book summary.

- `leg_greeks(position, market)`: a Polars frame, one row per leg.
- `summary(position, market)`: a frozen `Summary` (value, P&L, credit, Greek totals,
  max profit / max loss / margin, breakevens at expiry and at T+N days, probability
  of profit, touch probabilities of the short strikes, expected moves,
  beta-weighted delta), with ``to_polars()`` in long form (metric, value, unit).
- `expiry_pnl(position, spots)`: the P&L at expiry of a one-expiry SPX book.

Pricing is vectorized over legs (and spot grids) through `alvh.bsm` (SPX options,
BSM with dividend yield, vol ``market.spx_vol(K, expiry)``) and `alvh.black76` (VIX
options on ``market.vix_future(expiry)`` with vol ``market.vix_option_vol(expiry)``).

Units (DESIGN.md "Conventions"); ``N = quantity * multiplier`` (signed, short < 0):

===============================  ==============================================================
column / field                   meaning
===============================  ==============================================================
``price``                        model price per unit of the underlying (index or VIX points);
                                 for a VIX future the futures price
``value``                        $ mark-to-model: ``N * price`` for options; for a VIX future
                                 ``N * (F - entry_price)`` (a future is worth 0 at entry, its
                                 value is the variation margin since)
``entry_cost``                   $ paid at entry, ``N * entry_price`` (negative = premium
                                 received; 0 for futures), as `Position`
``pnl``                          $ ``value - entry_cost``: positive = profit
``delta_spx_points``             $ per 1 SPX index point = ``N * delta``: the number of index
                                 units the leg is equivalent to (thinkorswim "delta" of an SPX
                                 position). 0 for VIX legs (see ``beta_weighted_*``)
``delta_dollars_per_1pct``       $ for a +1 % SPX move, first order: ``0.01 * S * N * delta``
``gamma_dollars_per_1pct``       change of ``delta_dollars_per_1pct`` over a +1 % move:
                                 ``N * gamma * (0.01 * S)**2``; a 1 % move (either way) earns
                                 about ``0.5 * gamma_dollars_per_1pct`` beyond delta
``vega_dollars_per_vol_point``   $ per +1 vol point (0.01) of the row's ``vol``: SPX implied
                                 vol for SPX legs, the Black-76 vol of vol for VIX options,
                                 0 for VIX futures
``theta_dollars_per_day``        $ per calendar day passing, all else equal: ``N * theta / 365``
                                 (0 for VIX futures: the curve is sticky by expiry)
``delta_dollars_per_vix_point``  $ per +1 point of the leg's VIX future (VIX legs; 0 for SPX):
                                 ``N * delta`` (Black-76 delta w.r.t. F; 1 for a future)
``gamma_dollars_per_vix_point``  change of ``delta_dollars_per_vix_point`` per +1 VIX point
``beta_weighted_delta_spx_points``  ``delta_spx_points`` of the leg as seen from the SPX:
                                 1 for SPX legs (beta 1); for VIX legs
                                 ``delta_dollars_per_vix_point * vix_beta * exp(-kappa * tau)
                                 / (0.01 * S)`` (see ``vix_beta``)
===============================  ==============================================================

Greeks are the model's analytic derivatives with each leg's vol held fixed (the
sticky-strike view); under the default sticky-moneyness dynamics the smile also
moves with the spot, which `alvh.Market.bump` scenarios include and these do not.

``vix_beta``: VIX **spot points per +1 % SPX move** (default `DEFAULT_VIX_BETA` = -1.0,
the rule of thumb "the VIX rises about a point when the SPX falls 1 %"; calibrate it
to your data). A VIX future of tenor ``tau`` moves by ``vix_beta * exp(-kappa * tau)``
points, as the market's futures curve propagates a VIX shift (``market.futures.kappa``).

Legs that expire on ``market.as_of`` (t == 0) are valued at intrinsic (SPX on
``market.spot``, VIX options on the future of their expiry) with delta 1 / 0 when
in / out of the money (0.5 at the money) and zero gamma, vega and theta. A leg that
expired before ``as_of`` is an `InvalidInputError` naming the leg.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from alvh import black76, bsm
from alvh._core.checks import input_error
from alvh._core.types import FloatArray
from alvh.book.instruments import SpxOption, VixFuture, VixOption
from alvh.book.position import Position
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.conventions import DAYS_PER_YEAR
from alvh.market.snapshot import Market

if TYPE_CHECKING:  # polars and scipy are imported on first use (import time of `alvh`)
    import polars as pl

__all__ = [
    "DEFAULT_VIX_BETA",
    "Summary",
    "TouchProbability",
    "expiry_pnl",
    "leg_greeks",
    "summary",
    "touch_probability",
]


#: VIX spot points per +1 % SPX move (rule of thumb; negative: the VIX rises as SPX falls).
DEFAULT_VIX_BETA = -1.0

#: The T+N horizons (calendar days) `summary` finds breakevens for by default.
DEFAULT_BREAKEVEN_DAYS = (0, 5, 10)

#: Points of the spot grid that brackets the T+N breakevens (geometric spacing, about
#: 0.3 % apart; the strikes, where a leg settling inside the shift has its kink, are added).
_GRID_POINTS = 401
#: Points of the finer grid laid over a coarse cell where the P&L may dip through zero.
_DIP_POINTS = 41


# --------------------------------------------------------------------------- helpers


def _ncdf(x: Any) -> Any:
    from scipy.special import ndtr

    return ndtr(x)


def check_live(position: Any, market: Any, purpose: str = "analysing the position") -> None:
    """The arguments are a Position and a Market, and every leg expires on or after
    ``market.as_of``; else an error naming the leg (``purpose`` ends the message)."""
    if not isinstance(position, Position):
        raise InputTypeError(f"position must be an alvh.Position; got {type(position).__name__}")
    if not isinstance(market, Market):
        raise InputTypeError(f"market must be an alvh.Market; got {type(market).__name__}")
    for i, leg in enumerate(position.legs):
        if leg.expiry < market.as_of:
            raise input_error(
                f"legs[{i}] ({leg}) expired on {leg.expiry.isoformat()}, before market.as_of "
                f"{market.as_of.isoformat()}: settle or remove it before {purpose}",
                arg=f"legs[{i}]",
                index=i,
            )


def _years(expiry: dt.date, as_of: dt.date) -> float:
    return (expiry - as_of).days / DAYS_PER_YEAR


def _intrinsic(is_call: Any, underlying: Any, strike: Any) -> FloatArray:
    diff = np.asarray(underlying, dtype=np.float64) - np.asarray(strike, dtype=np.float64)
    return np.asarray(np.maximum(np.where(is_call, diff, -diff), 0.0), dtype=np.float64)


def _expiry_delta(is_call: Any, underlying: Any, strike: Any) -> FloatArray:
    """Delta of an option at expiry: +-1 in the money, +-0.5 at the money, 0 out."""
    under = np.asarray(underlying, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    itm = np.where(is_call, under > k, under < k).astype(np.float64)
    itm = np.where(under == k, 0.5, itm)
    return np.asarray(np.where(is_call, itm, -itm), dtype=np.float64)


def _options_block(
    model: str,
    is_call: NDArray[np.bool_],
    underlying: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: float,
    div: float,
    vol: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """(price, delta, gamma, vega, theta) raw per unit; t == 0 rows at intrinsic."""
    n = is_call.size
    price, delta = np.zeros(n), np.zeros(n)
    gamma, vega, theta = np.zeros(n), np.zeros(n), np.zeros(n)
    live = t > 0.0
    if live.any():
        if model == "bsm":
            g = bsm.greeks(
                is_call=is_call[live],
                spot=underlying[live],
                strike=strike[live],
                t=t[live],
                rate=rate,
                div=div,
                vol=vol[live],
            )
        else:
            g = black76.greeks(
                is_call=is_call[live],
                forward=underlying[live],
                strike=strike[live],
                t=t[live],
                rate=rate,
                vol=vol[live],
            )
        price[live], delta[live], gamma[live] = g.price, g.delta, g.gamma
        vega[live], theta[live] = g.vega, g.theta
    dead = ~live
    if dead.any():
        price[dead] = _intrinsic(is_call[dead], underlying[dead], strike[dead])
        delta[dead] = _expiry_delta(is_call[dead], underlying[dead], strike[dead])
    return price, delta, gamma, vega, theta


def _vix_futures(market: Market, expiries: list[dt.date]) -> FloatArray:
    """The VIX futures price per expiry (one look-up per distinct expiry)."""
    cache = {e: float(market.vix_future(e)) for e in set(expiries)}
    return np.array([cache[e] for e in expiries], dtype=np.float64)


# --------------------------------------------------------------------------- legs


def _leg_table(position: Position, market: Market, vix_beta: float) -> dict[str, Any]:
    """The columns of `leg_greeks` as numpy arrays / lists (shared with `summary`)."""
    check_live(position, market)
    legs = position.legs
    n = len(legs)
    spot = float(market.spot)
    qty = np.array([leg.quantity for leg in legs], dtype=np.float64)
    mult = np.array([leg.multiplier for leg in legs], dtype=np.float64)
    scale = qty * mult
    t = np.array([_years(leg.expiry, market.as_of) for leg in legs], dtype=np.float64)
    strike = np.full(n, np.nan)
    under, vol = np.full(n, np.nan), np.zeros(n)
    price, delta, gamma, vega, theta = (np.zeros(n) for _ in range(5))
    entry = np.array([leg.entry_price for leg in legs], dtype=np.float64)

    spx = np.array([isinstance(leg, SpxOption) for leg in legs], dtype=bool)
    vix_opt = np.array([isinstance(leg, VixOption) for leg in legs], dtype=bool)
    vix_fut = np.array([isinstance(leg, VixFuture) for leg in legs], dtype=bool)
    is_call = np.array([bool(getattr(leg, "is_call", False)) for leg in legs], dtype=bool)
    for i, leg in enumerate(legs):
        if isinstance(leg, (SpxOption, VixOption)):
            strike[i] = leg.strike

    if spx.any():
        idx = np.flatnonzero(spx)
        expiries = np.array([legs[i].expiry for i in idx], dtype="datetime64[D]")
        vol[idx] = market.spx_vol(strike[idx], expiries)
        under[idx] = spot
        price[idx], delta[idx], gamma[idx], vega[idx], theta[idx] = _options_block(
            "bsm",
            is_call[idx],
            under[idx],
            strike[idx],
            t[idx],
            float(market.rate),
            float(market.div),
            vol[idx],
        )
    vix = vix_opt | vix_fut
    if vix.any():
        idx = np.flatnonzero(vix)
        under[idx] = _vix_futures(market, [legs[i].expiry for i in idx])
    if vix_opt.any():
        idx = np.flatnonzero(vix_opt)
        expiries = np.array([legs[i].expiry for i in idx], dtype="datetime64[D]")
        vol[idx] = market.vix_option_vol(expiries)
        price[idx], delta[idx], gamma[idx], vega[idx], theta[idx] = _options_block(
            "black76",
            is_call[idx],
            under[idx],
            strike[idx],
            t[idx],
            float(market.rate),
            0.0,
            vol[idx],
        )
    if vix_fut.any():
        idx = np.flatnonzero(vix_fut)
        price[idx], delta[idx] = under[idx], 1.0

    value = np.where(vix_fut, scale * (price - entry), scale * price)
    entry_cost = np.array([leg.entry_cost for leg in legs], dtype=np.float64)
    one_pct = 0.01 * spot
    spx_f = spx.astype(np.float64)
    vix_f = vix.astype(np.float64)
    delta_points = spx_f * scale * delta
    vix_delta = vix_f * scale * delta
    pass_through = np.exp(-float(market.futures.kappa) * t)
    beta_weighted = delta_points + vix_delta * float(vix_beta) * pass_through / one_pct
    return {
        "leg": list(range(n)),
        "type": [leg.kind for leg in legs],
        "expiry": [leg.expiry for leg in legs],
        "strike": [None if math.isnan(k) else float(k) for k in strike],
        "right": [getattr(leg, "right", None) for leg in legs],
        "quantity": [leg.quantity for leg in legs],
        "multiplier": [leg.multiplier for leg in legs],
        "t_years": t,
        "underlying": under,
        "vol": vol,
        "price": price,
        "entry_price": entry,
        "entry_cost": entry_cost,
        "value": value,
        "pnl": value - entry_cost,
        "delta_spx_points": delta_points,
        "delta_dollars_per_1pct": one_pct * delta_points,
        "gamma_dollars_per_1pct": spx_f * scale * gamma * one_pct**2,
        "vega_dollars_per_vol_point": scale * vega / 100.0,
        "theta_dollars_per_day": scale * theta / DAYS_PER_YEAR,
        "delta_dollars_per_vix_point": vix_delta,
        "gamma_dollars_per_vix_point": vix_f * scale * gamma,
        "beta_weighted_delta_spx_points": beta_weighted,
        "_spx": spx,
        "_vix_opt": vix_opt,
    }


def leg_greeks(position: Position, market: Market, *, vix_beta: float = DEFAULT_VIX_BETA) -> pl.DataFrame:
    """One row per leg: what it is, the model inputs and value, and its Greeks in trader units.

    Columns: leg, type, expiry, strike / right (null for futures), quantity,
    multiplier, t_years, underlying (SPX spot, or the VIX future of the leg's
    expiry), vol (SPX: ``market.spx_vol(K, expiry)``; VIX options: ``market.
    vix_option_vol(expiry)``; futures 0), price, entry_price, entry_cost, value, pnl
    and the Greek columns; every unit is in the module docstring.
    """
    import polars as pl

    table = _leg_table(position, market, vix_beta)
    schema: dict[str, Any] = {
        "leg": pl.Int64,
        "type": pl.String,
        "expiry": pl.Date,
        "strike": pl.Float64,
        "right": pl.String,
        "quantity": pl.Int64,
        "multiplier": pl.Int64,
    }
    data = {k: v for k, v in table.items() if not k.startswith("_")}
    for name in data:
        schema.setdefault(name, pl.Float64)
    return pl.DataFrame(
        {k: list(v) if isinstance(v, np.ndarray) else v for k, v in data.items()}, schema=schema
    )


# --------------------------------------------------------------------------- expiry payoff


def _single_spx_expiry(position: Position) -> dt.date | None:
    """The common expiry when every leg is an SPX option of one expiry, else None."""
    if not position.legs or not all(isinstance(leg, SpxOption) for leg in position.legs):
        return None
    expiries = position.expiries
    return expiries[0] if len(expiries) == 1 else None


def expiry_pnl(position: Position, spots: Any) -> FloatArray:
    """$ P&L at expiry (payoff minus entry cost, ``cash`` excluded) at SPX settlement ``spots``.

    Only for a book of SPX options sharing one expiry (`InvalidInputError` otherwise).
    Vectorized over ``spots``; piecewise linear in the spot with kinks at the strikes.
    """
    if _single_spx_expiry(position) is None:
        raise InvalidInputError(
            "expiry_pnl needs a position whose legs are all SPX options of one expiry; got "
            f"expiries {[e.isoformat() for e in position.expiries]} and types "
            f"{sorted({leg.kind for leg in position.legs})}"
        )
    s = np.asarray(spots, dtype=np.float64)
    legs = position.legs
    k = np.array([leg.strike for leg in legs if isinstance(leg, SpxOption)])
    call = np.array([leg.is_call for leg in legs if isinstance(leg, SpxOption)])
    scale = np.array([leg.quantity * leg.multiplier for leg in legs], dtype=np.float64)
    payoff = _intrinsic(call, s[..., None], k) @ scale
    cost = math.fsum(leg.entry_cost for leg in legs)
    return np.asarray(payoff - cost, dtype=np.float64)


def _expiry_profile(position: Position) -> tuple[FloatArray, FloatArray, float]:
    """(knots 0, strikes..., P&L at the knots, slope beyond the last strike in $ per point)."""
    strikes = sorted({leg.strike for leg in position.legs if isinstance(leg, SpxOption)})
    knots = np.array([0.0, *strikes])
    slope = math.fsum(
        leg.quantity * leg.multiplier for leg in position.legs if isinstance(leg, SpxOption) and leg.is_call
    )
    return knots, expiry_pnl(position, knots), slope


def _expiry_breakevens(knots: FloatArray, pnl: FloatArray, slope: float) -> tuple[float, ...]:
    """Exact roots of the piecewise-linear P&L (segments between knots, then the last ray)."""
    roots: list[float] = []
    for a, b, fa, fb in zip(knots[:-1], knots[1:], pnl[:-1], pnl[1:]):
        if fa == 0.0 and a > 0.0:
            roots.append(float(a))
        if (fa < 0.0 < fb) or (fb < 0.0 < fa):
            roots.append(float(a + (b - a) * fa / (fa - fb)))
    last, f_last = float(knots[-1]), float(pnl[-1])
    if f_last == 0.0 and last > 0.0:
        roots.append(last)
    if slope != 0.0:
        x = last - f_last / slope
        if x > last:
            roots.append(x)
    return tuple(sorted(set(roots)))


# --------------------------------------------------------------------------- T+N values


def _shift(market: Market, days: int) -> Market:
    return market.bump(days=days, dynamics=market.dynamics) if days else market


def value_at_spots(position: Position, market: Market, spots: FloatArray, shifted: Market) -> FloatArray:
    """$ value of the legs (no cash) in ``shifted`` (``market`` some days later) when the
    SPX is at each of ``spots`` then, everything else as `Market.bump` (days=) leaves it.

    Legs that expire inside the shift are settled at intrinsic (SPX at the grid spot,
    VIX legs on their future in ``market`` bumped to their expiry day, the
    settlement the scenario grid uses). The SPX smile follows the spot
    under the market's dynamics (sticky moneyness: the forward scales with the spot).
    """
    return _spot_valuer(position, market, shifted)(spots)


def _spot_valuer(position: Position, market: Market, shifted: Market) -> Callable[[Any], FloatArray]:
    """`value_at_spots` as a function of the spots alone: the legs' arrays, forwards,
    ATM vols and the VIX legs' value (constant in the spot) built once, for a root
    search that values the same book at a few new spots per step."""
    spx_legs = [leg for leg in position.legs if isinstance(leg, SpxOption)]
    k = np.array([leg.strike for leg in spx_legs])
    call = np.array([leg.is_call for leg in spx_legs])
    scale = np.array([leg.quantity * leg.multiplier for leg in spx_legs], dtype=np.float64)
    t = np.array([_years(leg.expiry, shifted.as_of) for leg in spx_legs])
    live = t > 0.0
    kl, tl = k[live], t[live]
    forward = atm = fixed_vol = expiries = None
    if spx_legs and live.any():
        expiries = np.array([leg.expiry for leg in spx_legs], dtype="datetime64[D]")[live]
        if shifted.scenario_base is None or shifted.dynamics == "sticky_moneyness":
            forward, atm = shifted.forward(expiries), shifted.atm_vol(expiries)
        else:  # sticky strike / parallel: the vol at a strike does not follow the spot
            fixed_vol = shifted.spx_vol(kl, expiries)
    vix_total = _vix_legs_value(position, market, shifted)
    smile = shifted.vol_model.smile
    level = float(shifted.spot)

    def value(spots: Any) -> FloatArray:
        spots = np.asarray(spots, dtype=np.float64).reshape(-1)
        total = np.zeros(spots.size)
        if spx_legs:
            values = _intrinsic(call, spots[:, None], k)  # (grid, legs)
            if live.any():
                if fixed_vol is None:
                    ratio = spots[:, None] / level
                    vol = smile(strike=kl, forward=forward * ratio, tau=tl, atm=atm, expiry=expiries)
                else:
                    vol = np.broadcast_to(fixed_vol, (spots.size, kl.size))
                values[:, live] = bsm.price(
                    is_call=call[live],
                    spot=spots[:, None],
                    strike=kl,
                    t=tl,
                    rate=float(shifted.rate),
                    div=float(shifted.div),
                    vol=vol,
                )
            total += values @ scale
        for amount in vix_total:
            total += amount
        return total

    return value


def _vix_legs_value(position: Position, market: Market, shifted: Market) -> list[float]:
    """Each VIX leg's $ value in ``shifted`` (VIX futures as ``N (F - entry)``), in leg
    order: constants in the SPX spot."""
    as_of = shifted.as_of
    out: list[float] = []
    for leg in position.legs:  # VIX legs: constants in the spot (a handful, not an array)
        if isinstance(leg, SpxOption):
            continue
        if leg.expiry >= as_of:
            future = float(shifted.vix_future(leg.expiry))
        else:  # settled on its expiry day, in the market of that day (as the grid does)
            on_expiry = _shift(market, (leg.expiry - market.as_of).days)
            future = float(on_expiry.vix_future(leg.expiry))
        n = leg.quantity * leg.multiplier
        if isinstance(leg, VixFuture):
            out.append(n * (future - leg.entry_price))
            continue
        t_leg = _years(leg.expiry, as_of)
        if t_leg > 0.0:
            p = float(
                black76.price(
                    is_call=leg.is_call,
                    forward=future,
                    strike=leg.strike,
                    t=t_leg,
                    rate=float(shifted.rate),
                    vol=shifted.vix_option_vol(leg.expiry),
                )
            )
        else:
            p = float(_intrinsic(leg.is_call, future, leg.strike))
        out.append(n * p)
    return out


def _t_plus_breakevens(position: Position, market: Market, days: int, entry_cost: float) -> tuple[float, ...]:
    """Spots where the T+``days`` model P&L crosses zero: sign changes on a fine
    geometric grid, all refined together by the Illinois method (regula falsi that
    halves a stale end's value) until the P&L there is within 1e-6 $ of zero or the
    bracket within 1e-7 points. Hand-written rather than
    `scipy.optimize.brentq` because one vectorized `value_at_spots` call per step for
    every root at once is 3-4 times faster than brentq's one call per point per root,
    and a backtest computes these twice per decision."""
    strikes = [leg.strike for leg in position.legs if isinstance(leg, SpxOption)]
    if not strikes:
        return ()
    spot = float(market.spot)
    shifted = _shift(market, days)
    lo, hi = 0.5 * min(spot, *strikes), 1.5 * max(spot, *strikes)
    grid = np.union1d(np.geomspace(lo, hi, _GRID_POINTS), np.asarray(strikes, dtype=np.float64))
    value = _spot_valuer(position, market, shifted)
    pnl = value(grid) - entry_cost
    grid, pnl = _with_dips(value, entry_cost, grid, pnl)
    roots: list[float] = [float(x) for x, f in zip(grid, pnl) if f == 0.0]
    change = np.flatnonzero(np.sign(pnl[:-1]) * np.sign(pnl[1:]) < 0)
    if change.size:
        a, b = grid[change], grid[change + 1]
        fa, fb = pnl[change], pnl[change + 1]
        root = b.copy()
        live = np.ones(change.size, dtype=bool)
        for _ in range(200):
            c = b[live] - fb[live] * (b[live] - a[live]) / (fb[live] - fa[live])
            fc = value(c) - entry_cost
            idx = np.flatnonzero(live)
            flip = np.sign(fc) != np.sign(fb[idx])  # the root is between c and the old b
            a[idx] = np.where(flip, b[idx], a[idx])
            fa[idx] = np.where(flip, fb[idx], 0.5 * fa[idx])
            b[idx], fb[idx] = c, fc
            root[idx] = c
            done = (np.abs(fc) <= 1e-6) | (np.abs(b[idx] - a[idx]) <= 1e-7)
            live[idx[done]] = False
            if not live.any():
                break
        roots.extend(float(x) for x in root)
    return tuple(sorted(roots))


def _with_dips(
    value: Callable[[Any], FloatArray], entry_cost: float, grid: FloatArray, pnl: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The grid with a finer one (spacing about 0.015 % of the spot) laid over the two
    coarse cells around each local minimum of ``|pnl|`` that has no sign change next to
    it: where the P&L could dip through zero and back between coarse points. Between
    strikes (grid knots) the P&L is smooth, and such minima are few (the tent's top and
    bottom), so this costs one more vectorized valuation. A dip narrower than the fine
    spacing (well under a point) can still be missed, as on any grid."""
    inner = np.arange(1, grid.size - 1)
    p0, p1, p2 = pnl[inner - 1], pnl[inner], pnl[inner + 1]
    same = (np.sign(p0) == np.sign(p1)) & (np.sign(p1) == np.sign(p2)) & (p1 != 0.0)
    local = (np.abs(p1) <= np.abs(p0)) & (np.abs(p1) <= np.abs(p2))
    # The parabola through the three points (the grid is geometric with a ~0.3 % step,
    # near enough to even) has its extremum at p1 - (p2 - p0)^2 / (8 curvature): refine
    # only where that extremum crosses zero or gets within half of |p1| of it. A flat top
    # far from zero (the condor's tent) is left alone, which saves most fine valuations.
    curvature = p0 - 2.0 * p1 + p2
    with np.errstate(divide="ignore", invalid="ignore"):
        extremum = np.where(curvature != 0.0, p1 - (p2 - p0) ** 2 / (8.0 * curvature), p1)
    near = (np.sign(extremum) != np.sign(p1)) | (np.abs(extremum) <= 0.5 * np.abs(p1))
    suspect = inner[same & local & near]
    if not suspect.size:
        return grid, pnl
    fine = np.concatenate([np.linspace(grid[i - 1], grid[i + 1], _DIP_POINTS)[1:-1] for i in suspect])
    fine = np.setdiff1d(fine, grid)
    values = value(fine) - entry_cost
    order = np.argsort(np.concatenate((grid, fine)), kind="stable")
    return np.concatenate((grid, fine))[order], np.concatenate((pnl, values))[order]


# --------------------------------------------------------------------------- probabilities


@dataclass(frozen=True)
class TouchProbability:
    """A short SPX strike: the probability that the SPX touches it before the leg's
    expiry (``p_touch``) and that it finishes beyond it, i.e. in the money
    (``p_finish_beyond``: above a call strike, below a put strike), under the lognormal
    of `summary` (see `touch_probability`; a strike already breached has p_touch 1)."""

    leg: int
    strike: float
    right: str
    expiry: dt.date
    vol: float
    p_touch: float
    p_finish_beyond: float


def touch_probability(
    *,
    spot: float,
    barrier: float,
    t: float,
    vol: float,
    rate: float,
    div: float,
    direction: str | None = None,
) -> tuple[float, float]:
    """(P(touch barrier before t), P(finish beyond barrier at t)) for a geometric
    Brownian motion ``dS/S = (rate - div) dt + vol dW`` (risk-neutral drift).

    ``direction``: ``"up"`` (the SPX rising to a short call strike), ``"down"`` (falling
    to a short put strike), or None: up if ``barrier > spot``, else down.

    With ``X = ln(S_t/S_0) = nu t + vol W_t``, ``nu = rate - div - vol**2/2``, and
    ``m = ln(barrier/S_0) > 0`` (up), the reflection principle for Brownian motion
    with drift (Shreve, *Stochastic Calculus for Finance II*, 2004, Corollary 7.2.2,
    the distribution of the running maximum of drifted Brownian motion) gives

        P(max_{u<=t} X_u >= m) = N((-m + nu t)/(vol sqrt t))
                                 + exp(2 nu m / vol**2) N((-m - nu t)/(vol sqrt t)),

    and down is the same for ``-X`` (``m = ln(S_0/barrier)``, ``nu -> -nu``). The first
    term alone is P(X_t >= m), so ``p_touch >= p_finish_beyond`` always. A barrier
    already reached (up: spot >= barrier; down: spot <= barrier) gives ``p_touch = 1``
    and ``p_finish_beyond`` = the probability of ending beyond it. At ``t == 0`` both
    say whether the spot is beyond the barrier (0 or 1).
    """
    if direction is None:
        direction = "up" if barrier > spot else "down"
    if direction not in ("up", "down"):
        raise InvalidInputError(f"direction must be 'up', 'down' or None; got {direction!r}")
    sign = 1.0 if direction == "up" else -1.0
    m = sign * math.log(barrier / spot)  # > 0: the barrier is still ahead
    nu = sign * (rate - div - 0.5 * vol * vol)
    if t <= 0.0 or vol <= 0.0:
        beyond = 1.0 if m <= 0.0 else 0.0
        return beyond, beyond
    sd = vol * math.sqrt(t)
    finish = float(_ncdf((-m + nu * t) / sd))
    if m <= 0.0:
        return 1.0, finish
    reflected = math.exp(2.0 * nu * m / (vol * vol)) * float(_ncdf((-m - nu * t) / sd))
    return min(1.0, finish + reflected), finish


def _probability_of_profit(
    position: Position,
    breakevens: tuple[float, ...],
    *,
    spot: float,
    t: float,
    vol: float,
    rate: float,
    div: float,
) -> float:
    """P(expiry P&L > 0) when ln S_T ~ N(ln S0 + (r - q - vol^2/2) t, vol^2 t)."""
    if t <= 0.0:
        return float(expiry_pnl(position, spot) > 0.0)
    edges = np.array([0.0, *breakevens, np.inf])
    lo, hi = edges[:-1], edges[1:]
    probe = np.where(np.isinf(hi), 2.0 * lo + 1.0, np.where(lo == 0.0, 0.5 * hi, 0.5 * (lo + hi)))
    profitable = expiry_pnl(position, probe) > 0.0
    sd = vol * math.sqrt(t)
    mean = math.log(spot) + (rate - div - 0.5 * vol * vol) * t
    with np.errstate(divide="ignore"):
        cdf = _ncdf((np.log(edges) - mean) / sd)
    return float(np.sum((cdf[1:] - cdf[:-1])[profitable]))


# --------------------------------------------------------------------------- summary

_UNITS = {
    "value": "$",
    "cash": "$",
    "entry_cost": "$",
    "credit": "$",
    "pnl": "$",
    "delta_spx_points": "$ per SPX point (index units)",
    "delta_dollars_per_1pct": "$ per +1 % SPX",
    "gamma_dollars_per_1pct": "$ delta per 1 % SPX",
    "vega_dollars_per_vol_point": "$ per SPX vol point",
    "vix_vega_dollars_per_vol_point": "$ per VIX-option vol point",
    "theta_dollars_per_day": "$ per calendar day",
    "delta_dollars_per_vix_point": "$ per VIX futures point",
    "beta_weighted_delta_spx_points": "$ per SPX point (index units)",
    "beta_weighted_delta_dollars_per_1pct": "$ per +1 % SPX",
    "vix_beta": "VIX points per +1 % SPX",
    "max_profit": "$",
    "max_loss": "$ (positive = loss)",
    "margin": "$",
    "probability_of_profit": "probability",
}


@dataclass(frozen=True)
class Summary:
    """The book against one market (units in the module docstring and `to_polars`).

    - ``value``: $ mark-to-model of the legs; ``cash`` separately.
    - ``entry_cost``: $ paid at entry (negative = net credit); ``credit = -entry_cost``
      of the options (`Position.credit`).
    - ``pnl = value - entry_cost``: $, positive = profit (0 when the entry prices are
      the model prices).
    - Greek totals: sums of the `leg_greeks` columns, except ``vega_dollars_per_vol_point``
      (SPX legs: $ per SPX vol point) and ``vix_vega_dollars_per_vol_point`` (VIX options:
      $ per vol-of-vol point), kept apart because they are different risk factors.
    - ``expiry``, ``max_profit``, ``max_loss``, ``breakevens_expiry``,
      ``probability_of_profit``, ``margin``: only for books of SPX options with one
      common expiry, else None / (). The expiry P&L (payoff minus entry cost) is
      piecewise linear: it is evaluated at 0 and every strike, and beyond the last
      strike its slope (the sum of the calls' ``quantity * multiplier``) decides the far
      end. ``max_loss`` is positive for a loss, ``inf`` if unbounded (``max_profit``
      likewise ``inf``); the breakevens are the exact roots of that line. ``margin`` is
      the capital at risk of a defined-risk book: its max loss (for a condor or vertical ``width * 100 * qty -
      credit``; Reg-T brokers hold the full width and let the credit pay part of it);
      None when the loss is unbounded.
    - ``breakevens_t_plus``: ((days, (spots...)), ...) where the model P&L ``days``
      calendar days later (market bumped by ``days``, SPX at the root) is zero.
    - ``touch``: per short SPX option leg, see `TouchProbability` (lognormal with that
      expiry's ATM vol and risk-neutral drift).
    - ``expected_moves``: ((expiry, spot * atm_vol * sqrt(t)), ...) per SPX expiry, points.
    """

    as_of: dt.date
    spot: float
    value: float
    cash: float
    entry_cost: float
    credit: float
    pnl: float
    delta_spx_points: float
    delta_dollars_per_1pct: float
    gamma_dollars_per_1pct: float
    vega_dollars_per_vol_point: float
    vix_vega_dollars_per_vol_point: float
    theta_dollars_per_day: float
    delta_dollars_per_vix_point: float
    beta_weighted_delta_spx_points: float
    beta_weighted_delta_dollars_per_1pct: float
    vix_beta: float
    expiry: dt.date | None
    max_profit: float | None
    max_loss: float | None
    margin: float | None
    breakevens_expiry: tuple[float, ...]
    breakevens_t_plus: tuple[tuple[int, tuple[float, ...]], ...]
    probability_of_profit: float | None
    touch: tuple[TouchProbability, ...]
    expected_moves: tuple[tuple[dt.date, float], ...]

    def to_polars(self) -> pl.DataFrame:
        """Long form: one row per number, columns ``metric``, ``value``, ``unit``."""
        import polars as pl

        rows: list[tuple[str, float | None, str]] = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _UNITS:
                rows.append((f.name, None if v is None else float(v), _UNITS[f.name]))
        for i, b in enumerate(self.breakevens_expiry):
            rows.append((f"breakeven_expiry_{i + 1}", b, "SPX points"))
        for days, roots in self.breakevens_t_plus:
            for i, b in enumerate(roots):
                rows.append((f"breakeven_t_plus_{days}d_{i + 1}", b, "SPX points"))
        for tp in self.touch:
            tag = f"{tp.expiry.isoformat()}_{tp.strike:g}_{tp.right}"
            rows.append((f"p_touch_{tag}", tp.p_touch, "probability"))
            rows.append((f"p_finish_beyond_{tag}", tp.p_finish_beyond, "probability"))
        for expiry, move in self.expected_moves:
            rows.append((f"expected_move_{expiry.isoformat()}", move, "SPX points (1 sd)"))
        return pl.DataFrame(
            {"metric": [r[0] for r in rows], "value": [r[1] for r in rows], "unit": [r[2] for r in rows]},
            schema={"metric": pl.String, "value": pl.Float64, "unit": pl.String},
        )


def summary(
    position: Position,
    market: Market,
    *,
    vix_beta: float = DEFAULT_VIX_BETA,
    breakeven_days: tuple[int, ...] = DEFAULT_BREAKEVEN_DAYS,
) -> Summary:
    """Value, P&L, Greek totals and the expiry / probability analytics of ``position``.

    ``breakeven_days``: the T+N horizons (calendar days, each >= 0) for
    ``breakevens_t_plus``. ``vix_beta``: VIX points per +1 % SPX (module docstring).
    """
    table = _leg_table(position, market, vix_beta)
    spx, vix_opt = table["_spx"], table["_vix_opt"]
    spot, rate, div = float(market.spot), float(market.rate), float(market.div)
    entry_cost = math.fsum(table["entry_cost"])
    value = math.fsum(table["value"])

    def total(name: str, mask: Any = None) -> float:
        column = table[name] if mask is None else table[name][mask]
        return math.fsum(column)

    expiry = _single_spx_expiry(position)
    max_profit = max_loss = margin = pop = None
    breakevens: tuple[float, ...] = ()
    if expiry is not None:
        knots, pnl_knots, slope = _expiry_profile(position)
        max_profit = math.inf if slope > 0.0 else float(np.max(pnl_knots))
        max_loss = math.inf if slope < 0.0 else float(-np.min(pnl_knots))
        margin = max_loss if math.isfinite(max_loss) else None
        breakevens = _expiry_breakevens(knots, pnl_knots, slope)
        t_exp = _years(expiry, market.as_of)
        pop = _probability_of_profit(
            position,
            breakevens,
            spot=spot,
            t=t_exp,
            vol=float(market.atm_vol(expiry)),
            rate=rate,
            div=div,
        )

    t_plus = []
    for days in breakeven_days:
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 0:
            raise InvalidInputError(f"breakeven_days must be whole days >= 0; got {days!r}")
        t_plus.append((int(days), _t_plus_breakevens(position, market, int(days), entry_cost)))

    touch = []
    for i, leg in enumerate(position.legs):
        if isinstance(leg, SpxOption) and leg.quantity < 0:
            vol = float(market.atm_vol(leg.expiry))
            p_touch, p_beyond = touch_probability(
                spot=spot,
                barrier=leg.strike,
                t=_years(leg.expiry, market.as_of),
                vol=vol,
                rate=rate,
                div=div,
                direction="up" if leg.is_call else "down",
            )
            touch.append(TouchProbability(i, leg.strike, leg.right, leg.expiry, vol, p_touch, p_beyond))

    spx_expiries = sorted({leg.expiry for leg in position.legs if isinstance(leg, SpxOption)})
    moves = tuple(
        (e, spot * float(market.atm_vol(e)) * math.sqrt(_years(e, market.as_of))) for e in spx_expiries
    )
    bw = total("beta_weighted_delta_spx_points")
    return Summary(
        as_of=market.as_of,
        spot=spot,
        value=value,
        cash=position.cash,
        entry_cost=entry_cost,
        credit=position.credit,
        pnl=value - entry_cost,
        delta_spx_points=total("delta_spx_points"),
        delta_dollars_per_1pct=total("delta_dollars_per_1pct"),
        gamma_dollars_per_1pct=total("gamma_dollars_per_1pct"),
        vega_dollars_per_vol_point=total("vega_dollars_per_vol_point", spx),
        vix_vega_dollars_per_vol_point=total("vega_dollars_per_vol_point", vix_opt),
        theta_dollars_per_day=total("theta_dollars_per_day"),
        delta_dollars_per_vix_point=total("delta_dollars_per_vix_point"),
        beta_weighted_delta_spx_points=bw,
        beta_weighted_delta_dollars_per_1pct=0.01 * spot * bw,
        vix_beta=float(vix_beta),
        expiry=expiry,
        max_profit=max_profit,
        max_loss=max_loss,
        margin=margin,
        breakevens_expiry=breakevens,
        breakevens_t_plus=tuple(t_plus),
        probability_of_profit=pop,
        touch=tuple(touch),
        expected_moves=moves,
    )
