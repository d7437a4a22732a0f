"""The scenario grid (risk graph): a position's value, P&L and Greeks over SPX moves x
VIX shifts x days forward.

``scenario_grid(position, market, spot_moves=..., vol_shifts=..., days=...)`` values
every leg in each scenario market ``market.bump(spot_move=m, vix_shift=v, days=d,
dynamics=dynamics)`` (`alvh.Market.bump`) and returns a `Grid` of numpy cubes shaped
``(len(days), len(vol_shifts), len(spot_moves))``. The work runs in the backend's
``scenario_grid`` kernel (Rust natively, numpy in the fallback); this module turns
the position and the market into the kernel's flat arrays:

- ``tau``: years ACT/365 from the scenario date ``as_of + d`` to each leg's expiry.
  A leg that expires inside the horizon (``tau <= 0``) is settled at intrinsic value:
  SPX options on the scenario spot, VIX legs on their future's price on their expiry
  day (the market bumped by the same VIX shift to that day), as `Market.bump` would
  quote it then.
- SPX vols: with ``"sticky_moneyness"`` (default) the ATM vol of the leg's expiry in
  the scenario market, the kernel applying the market's smile at each scenario
  forward (the SSVI smile of `alvh.market.ssvi.SsviSurface`, or under an `alvh.market.svi.SviSurface` the
  ATM ratio of the leg's expiry times the model ATM, and the shape of the leg's
  slice); with ``"sticky_strike"`` or
  ``"parallel"`` the scenario market's ``spx_vol(strike, expiry)``, which does not
  depend on the spot move.
- VIX legs: the scenario market's ``vix_future(expiry)`` and ``vix_option_vol(expiry)``
  (Black-76 on the future of the same expiry).

Units of the `Grid` cubes (raw kernel units, summed over legs with ``N = quantity *
multiplier``):

====================  ========================================================================
``value``             $ mark-to-model of the legs, as `alvh.book.analytics` (VIX futures as
                      ``N * (F - entry_price)``); ``cash`` is not included
``pnl``               $ ``value - base_value``: the change from today's market (no move, no
                      shift, day 0)
``delta``             $ per SPX index point (``N * dV/dS`` over SPX legs)
``gamma``             $ per SPX point, per SPX point (``N * d2V/dS2`` over SPX legs)
``vega``              $ per 1.00 of vol (SPX implied vol and VIX options' vol of vol)
``theta``             $ per year of calendar time (option legs)
``vix_delta``         $ per VIX point of each VIX leg's own future (``N * dV/dF``)
====================  ========================================================================

Trader-unit views (DESIGN.md "Conventions"): ``delta_dollars_per_1pct = 0.01 * S' *
delta``, ``gamma_dollars_per_1pct = gamma * (0.01 * S')**2`` with ``S'`` the scenario
spot of the cell, ``vega_dollars_per_vol_point = vega / 100``, ``theta_dollars_per_day =
theta / 365``. ``delta`` and ``gamma`` are the derivatives of ``value`` along the spot
axis under the grid's dynamics: with sticky moneyness the smile moves with the spot,
so they are the smile-adjusted Greeks ``delta + vega * dsigma/dS`` and ``gamma +
2 vanna dsigma/dS + volga (dsigma/dS)**2 + vega d2sigma/dS2`` (with a put skew the vol at a
fixed strike rises with the spot, so a short-vega condor's smile-adjusted delta sits below the
Black-Scholes delta that `alvh.book.analytics` reports per leg); with sticky strike and parallel
dynamics the vols do not move with the spot and they are the Black-Scholes Greeks. ``vega`` and
``theta`` are partial derivatives at each cell's vols.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from alvh._core import backend as _backend
from alvh._core.checks import bad, input_error
from alvh._core.types import FloatArray, IntArray
from alvh.book.analytics import check_live
from alvh.book.instruments import SpxOption, VixFuture, VixOption
from alvh.book.position import Position
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.conventions import DAYS_PER_YEAR, DYNAMICS
from alvh.market.snapshot import Market
from alvh.market.ssvi import SsviSurface
from alvh.market.svi import SviSurface

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Grid", "scenario_grid"]


#: Kernel leg kinds.
_SPX_OPTION, _VIX_FUTURE, _VIX_OPTION = 0, 1, 2

#: A positive stand-in where the kernel ignores an input (the vol of an expired leg or
#: of a future, the strike of a future, the underlying of an SPX leg).
_UNUSED = 1.0


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class Grid:
    """A position's value, P&L and Greeks over ``days`` x ``vol_shifts`` x ``spot_moves``.

    Every cube is a float64 array shaped ``(len(days), len(vol_shifts), len(spot_moves))``:
    ``grid.pnl[i, j, k]`` is the P&L ``days[i]`` calendar days forward, with the VIX
    moved by ``vol_shifts[j]`` points and the SPX by ``spot_moves[k]`` (relative). Units
    are in the module docstring of `alvh.risk.grid`.
    """

    spot_moves: FloatArray
    vol_shifts: FloatArray
    days: IntArray
    dynamics: str
    as_of: dt.date
    spot: float
    vix: float
    base_value: float
    value: FloatArray
    pnl: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    vix_delta: FloatArray
    backend: str
    position: Position = field(repr=False)
    market: Market = field(repr=False)

    def __repr__(self) -> str:
        n_days, n_shifts, n_moves = self.shape
        return (
            f"Grid({n_days} days x {n_shifts} VIX shifts x {n_moves} spot moves, "
            f"as_of={self.as_of.isoformat()}, dynamics={self.dynamics!r}, "
            f"base_value={self.base_value:,.2f} $, "
            f"pnl {self.pnl.min():,.2f}..{self.pnl.max():,.2f} $, "
            f"backend={self.backend!r})"
        )

    # -- axes ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """(days, vol shifts, spot moves)."""
        return (self.days.size, self.vol_shifts.size, self.spot_moves.size)

    @property
    def spots(self) -> FloatArray:
        """SPX level of each spot move: ``spot * (1 + move)``."""
        return np.asarray(self.spot * (1.0 + self.spot_moves), dtype=np.float64)

    @property
    def vix_levels(self) -> FloatArray:
        """VIX spot of each shift: ``vix + shift`` (points)."""
        return np.asarray(self.vix + self.vol_shifts, dtype=np.float64)

    @property
    def dates(self) -> tuple[dt.date, ...]:
        """The scenario date of each day: ``as_of + day``."""
        return tuple(self.as_of + dt.timedelta(days=int(d)) for d in self.days)

    # -- trader units ----------------------------------------------------------------
    @property
    def delta_dollars_per_1pct(self) -> FloatArray:
        """$ for a +1 % SPX move from each cell, first order: ``0.01 * S' * delta``."""
        return np.asarray(0.01 * self.spots * self.delta, dtype=np.float64)

    @property
    def gamma_dollars_per_1pct(self) -> FloatArray:
        """Change of ``delta_dollars_per_1pct`` over a +1 % move: ``gamma * (0.01 * S')**2``."""
        return np.asarray(self.gamma * (0.01 * self.spots) ** 2, dtype=np.float64)

    @property
    def vega_dollars_per_vol_point(self) -> FloatArray:
        """$ per +1 vol point (0.01) of every option's vol: ``vega / 100``."""
        return np.asarray(self.vega / 100.0, dtype=np.float64)

    @property
    def theta_dollars_per_day(self) -> FloatArray:
        """$ per calendar day passing, all else equal: ``theta / 365``."""
        return np.asarray(self.theta / DAYS_PER_YEAR, dtype=np.float64)

    @property
    def delta_dollars_per_vix_point(self) -> FloatArray:
        """$ per +1 point of each VIX leg's future (the raw ``vix_delta``)."""
        return self.vix_delta

    def vix_linked_pnl(
        self, spot_moves: Any, *, vix_beta: float | None = None, vix_max: float = 150.0
    ) -> tuple[FloatArray, FloatArray]:
        """``(vix, pnl)`` at each of ``spot_moves`` today (T+0) with the VIX moving with
        the SPX: ``VIX = VIX_0 (1 + move)^vix_beta`` (ln VIX moving by ``vix_beta`` times
        the SPX log-return, the projection's link; default the calibrated
        `alvh.risk.scenarios.VIX_BETA`, -8.04), kept at or below ``vix_max`` points.
        ``pnl`` is from today's mark, as ``self.pnl``: each value is the cell of a
        `scenario_grid` of this grid's position, market and dynamics at that move and
        that VIX shift."""
        from alvh.risk.scenarios import VIX_BETA

        beta = VIX_BETA if vix_beta is None else float(vix_beta)
        moves = np.asarray(spot_moves, dtype=np.float64).reshape(-1)
        vix = np.minimum(self.vix * (1.0 + moves) ** beta, vix_max)
        cube = scenario_grid(
            self.position,
            self.market,
            spot_moves=moves,
            vol_shifts=vix - self.vix,
            days=[0],
            dynamics=self.dynamics,
        )
        diagonal = np.arange(moves.size)
        return vix, np.asarray(cube.pnl[0, diagonal, diagonal], dtype=np.float64)

    def plot(self, path: str | os.PathLike[str], **kw: Any) -> Path:
        """Write the risk graph PNG (`alvh.risk.plots.risk_graph`); needs matplotlib."""
        from alvh.risk.plots import risk_graph

        return risk_graph(self, path, **kw)

    def to_polars(self) -> pl.DataFrame:
        """The grid in long form, one row per cell (days, then shifts, then moves):

        day, date, vix_shift, vix, spot_move, spot, value, pnl ($), delta_spx_points ($ per
        SPX point), delta_dollars_per_1pct, gamma_dollars_per_1pct, vega_dollars_per_vol_point,
        theta_dollars_per_day, delta_dollars_per_vix_point.
        """
        import polars as pl

        n_days, n_shifts, n_moves = self.shape
        cube = (n_days, n_shifts, n_moves)

        def spread(axis_values: NDArray[Any], axis: int) -> NDArray[Any]:
            shape = [1, 1, 1]
            shape[axis] = -1
            return np.broadcast_to(np.asarray(axis_values).reshape(shape), cube).ravel()

        dates = np.array(self.dates, dtype="datetime64[D]") if n_days else np.array([], dtype="datetime64[D]")
        columns: dict[str, Any] = {
            "day": spread(self.days, 0),
            "date": spread(dates, 0),
            "vix_shift": spread(self.vol_shifts, 1),
            "vix": spread(self.vix_levels, 1),
            "spot_move": spread(self.spot_moves, 2),
            "spot": spread(self.spots, 2),
            "value": self.value.ravel(),
            "pnl": self.pnl.ravel(),
            "delta_spx_points": self.delta.ravel(),
            "delta_dollars_per_1pct": self.delta_dollars_per_1pct.ravel(),
            "gamma_dollars_per_1pct": self.gamma_dollars_per_1pct.ravel(),
            "vega_dollars_per_vol_point": self.vega_dollars_per_vol_point.ravel(),
            "theta_dollars_per_day": self.theta_dollars_per_day.ravel(),
            "delta_dollars_per_vix_point": self.vix_delta.ravel(),
        }
        frame = pl.DataFrame(columns)
        return frame.with_columns(pl.col("day").cast(pl.Int64), pl.col("date").cast(pl.Date))


# --------------------------------------------------------------------------- validation


def _axis(arg: str, values: Any, *, integer: bool) -> NDArray[Any]:
    """A non-empty 1-D axis of numbers (ints for ``days``)."""
    example = "range(0, 11)" if integer else "[-0.05, 0.0, 0.05]"
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        raise InputTypeError(
            f"{arg} must be a 1-D sequence of {'ints' if integer else 'numbers'} "
            f"(e.g. {example}); got {type(values).__name__} {values!r}"
        )
    raw = np.asarray(values)
    if raw.size == 0:
        raise input_error(f"{arg} must not be empty (e.g. {example})", arg=arg)
    allowed = "iu" if integer else "iuf"
    if raw.dtype.kind not in allowed:
        wanted = "ints (whole calendar days)" if integer else "real numbers"
        raise InputTypeError(f"{arg} must hold {wanted}; got an array of {raw.dtype}: {values!r}")
    return raw.astype(np.int64 if integer else np.float64)


#: The longest horizon a grid takes, calendar days.
MAX_GRID_DAYS = 3650
#: What one grid cell may cost in memory: its outputs (P&L, value and the $ Greeks,
#: float64) and the kernel's working arrays. Measured: 2.46 M cells of a 7-leg book took
#: 188 MB of peak RSS in all (about 40 bytes a cell above the interpreter): 4x headroom.
GRID_BYTES_PER_CELL = 160
#: A grid needing more memory than this is refused before anything is allocated.
GRID_MEMORY_BUDGET = 2 * 2**30


def _check_axes(
    market: Market, spot_moves: Any, vol_shifts: Any, days: Any, dynamics: Any
) -> tuple[FloatArray, FloatArray, IntArray, str]:
    if dynamics not in DYNAMICS:
        raise input_error(f"dynamics must be one of {', '.join(DYNAMICS)}; got {dynamics!r}", arg="dynamics")
    moves = _axis("spot_moves", spot_moves, integer=False)
    for i, move in enumerate(moves.tolist()):
        if not math.isfinite(move):
            raise bad("spot_moves", move, "finite (relative moves, -0.05 = -5 %)", i)
        if move <= -1.0:
            raise bad("spot_moves", move, "greater than -1 (relative moves, -0.05 = -5 %)", i)
    shifts = _axis("vol_shifts", vol_shifts, integer=False)
    for i, shift in enumerate(shifts.tolist()):
        if not math.isfinite(shift):
            raise bad("vol_shifts", shift, "finite (VIX points)", i)
        if market.vix + shift <= 0.0:
            raise bad(
                "vol_shifts",
                shift,
                f"greater than -{market.vix:g} VIX points (the VIX must stay positive)",
                i,
            )
    day_axis = _axis("days", days, integer=True)
    for i, day in enumerate(day_axis.tolist()):
        if day < 0:
            raise bad("days", day, "zero or positive (calendar days forward)", i)
        if day > MAX_GRID_DAYS:
            raise bad("days", day, f"at most {MAX_GRID_DAYS} (ten years of calendar days)", i)
    cells = moves.size * shifts.size * day_axis.size
    need = cells * GRID_BYTES_PER_CELL
    if need > GRID_MEMORY_BUDGET:
        raise input_error(
            f"the grid spot_moves ({moves.size:,}) x vol_shifts ({shifts.size:,}) x days "
            f"({day_axis.size:,}) = {cells:,} cells needs about {need / 2**30:.1f} GiB, over the "
            f"{GRID_MEMORY_BUDGET / 2**30:g} GiB budget (alvh.risk.grid.GRID_MEMORY_BUDGET): "
            "use fewer points",
            arg="spot_moves",
            value=float(moves.size),
        )
    return moves, shifts, day_axis, str(dynamics)


def _bumped(market: Market, shift: float, day: int, dynamics: str, j: int, k: int) -> Market:
    """``market.bump(vix_shift=shift, days=day)``; an error names the axis entry."""
    try:
        return market.bump(vix_shift=shift, days=day, dynamics=dynamics)
    except InvalidInputError as exc:
        value: float
        if getattr(exc, "arg", None) == "days" or "expires before" in str(exc):
            name, index, value = "days", k, float(day)
        else:
            name, index, value = "vol_shifts", j, shift
        shown = day if name == "days" else shift
        raise input_error(f"{name}[{index}] = {shown!r}: {exc}", arg=name, index=index, value=value) from None


def _leg_error(i: int, leg: Any, exc: InvalidInputError) -> InvalidInputError:
    return input_error(f"legs[{i}] ({leg}): {exc}", arg=f"legs[{i}]", index=i)


# --------------------------------------------------------------------------- the grid


def _fast_scenarios(
    market: Market,
    kind: NDArray[np.uint8],
    strike: FloatArray,
    expiry: NDArray[Any],
    shifts: FloatArray,
    days: IntArray,
    dynamics: str,
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """(tau, vol, underlying), shaped (legs, shifts, days), through the market's
    ``scenario_*`` methods (vectorized over the VIX shifts of each day): the same numbers
    as bumping the market once per (shift, day), which costs ~0.1 ms of Python per
    scenario. None where a scenario is invalid (the VIX or a future pushed to zero, a
    listed curve that runs out, a VIX leg whose future is not listed, a market that is
    itself a scenario): the per-scenario path then raises the error that names the axis
    entry or the leg."""
    n_legs, n_shifts, n_days = kind.size, shifts.size, days.size
    spx = kind == _SPX_OPTION
    vix_option = kind == _VIX_OPTION
    vix_leg = ~spx
    tau = np.empty((n_legs, n_shifts, n_days))
    vol = np.full((n_legs, n_shifts, n_days), _UNUSED)
    underlying = np.full((n_legs, n_shifts, n_days), float(market.spot))
    vix = market.vix + shifts
    try:
        for k, day in enumerate(days.tolist()):
            as_of = np.datetime64(market.as_of, "D") + np.timedelta64(int(day), "D")
            left = (expiry - as_of).astype(np.int64)
            leg_tau = left / DAYS_PER_YEAR
            tau[:, :, k] = leg_tau[:, None]
            alive = left >= 0  # expiring on the scenario date counts: t = 0 prices
            spx_alive = spx & alive
            if spx_alive.any():
                if dynamics == "sticky_moneyness":  # the kernel applies the smile per move
                    rows = market.scenario_atm_vols(expiry[spx_alive], shifts=shifts, day=day)
                else:
                    rows = market.scenario_spx_vols(
                        strike[spx_alive],
                        expiry[spx_alive],
                        shifts=shifts,
                        day=day,
                        dynamics=dynamics,
                    )
                vol[spx_alive, :, k] = rows.T
            option_alive = vix_option & alive
            if option_alive.any():
                vol[option_alive, :, k] = market.vol_of_vol.vol(
                    leg_tau[option_alive][:, None], vix=vix[None, :]
                )
            if vix_leg.any():
                futures = market.scenario_vix_futures(expiry[vix_leg], shifts=shifts, day=day)
                underlying[vix_leg, :, k] = futures.T
    except InvalidInputError:
        return None
    return tau, vol, underlying


def _scenario_arrays(
    position: Position,
    market: Market,
    kind: NDArray[np.uint8],
    strike: FloatArray,
    expiry: NDArray[Any],
    shifts: FloatArray,
    days: IntArray,
    dynamics: str,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(tau, vol, underlying) by bumping the market once per (shift, day): the reference
    semantics, and the path whose errors name the axis entry or the leg."""
    legs = position.legs
    n_legs, n_shifts, n_days = len(legs), shifts.size, days.size
    spx = np.flatnonzero(kind == _SPX_OPTION)
    vix_legs = np.flatnonzero(kind != _SPX_OPTION)
    vix_opt = np.flatnonzero(kind == _VIX_OPTION)
    tau = np.empty((n_legs, n_shifts, n_days))
    vol = np.full((n_legs, n_shifts, n_days), _UNUSED)
    underlying = np.full((n_legs, n_shifts, n_days), float(market.spot))
    settlement: dict[tuple[int, dt.date], float] = {}
    for j, shift in enumerate(shifts.tolist()):
        for k, day in enumerate(days.tolist()):
            bumped = _bumped(market, shift, day, dynamics, j, k)
            left = (expiry - np.datetime64(bumped.as_of, "D")).astype(np.int64)
            tau[:, j, k] = left / DAYS_PER_YEAR
            alive = left >= 0  # expiring on the scenario date counts: t = 0 prices
            spx_alive = spx[alive[spx]]
            if spx_alive.size:
                if dynamics == "sticky_moneyness":
                    vol[spx_alive, j, k] = bumped.atm_vol(expiry[spx_alive])
                else:
                    vol[spx_alive, j, k] = bumped.spx_vol(strike[spx_alive], expiry[spx_alive])
            opt_alive = vix_opt[alive[vix_opt]]
            if opt_alive.size:
                vol[opt_alive, j, k] = bumped.vix_option_vol(expiry[opt_alive])
            futures: dict[dt.date, float] = {}
            for i in vix_legs.tolist():
                leg_expiry = legs[i].expiry
                try:
                    if alive[i]:
                        if leg_expiry not in futures:
                            futures[leg_expiry] = float(bumped.vix_future(leg_expiry))
                        underlying[i, j, k] = futures[leg_expiry]
                    else:  # settled on its expiry day, in the market of that day
                        key = (j, leg_expiry)
                        if key not in settlement:
                            to_expiry = (leg_expiry - market.as_of).days
                            on_expiry = _bumped(market, shift, to_expiry, dynamics, j, k)
                            settlement[key] = float(on_expiry.vix_future(leg_expiry))
                        underlying[i, j, k] = settlement[key]
                except InvalidInputError as exc:
                    if getattr(exc, "arg", None) in ("days", "vol_shifts"):
                        raise
                    raise _leg_error(i, legs[i], exc) from None
    return tau, vol, underlying


def _kernel_inputs(
    position: Position, market: Market, shifts: FloatArray, days: IntArray, dynamics: str
) -> dict[str, Any]:
    """The kernel's leg arrays and per-(leg, shift, day) arrays."""
    legs = position.legs
    kind = np.array(
        [
            _SPX_OPTION
            if isinstance(leg, SpxOption)
            else _VIX_OPTION
            if isinstance(leg, VixOption)
            else _VIX_FUTURE
            for leg in legs
        ],
        dtype=np.uint8,
    )
    is_call = np.array([bool(getattr(leg, "is_call", False)) for leg in legs], dtype=np.bool_)
    strike = np.array([float(getattr(leg, "strike", _UNUSED)) for leg in legs], dtype=np.float64)
    weight = np.array([float(leg.quantity * leg.multiplier) for leg in legs], dtype=np.float64)
    expiry = np.array([leg.expiry for leg in legs], dtype="datetime64[D]")
    fast = _fast_scenarios(market, kind, strike, expiry, shifts, days, dynamics)
    if fast is not None:
        tau, vol, underlying = fast
    else:
        tau, vol, underlying = _scenario_arrays(
            position, market, kind, strike, expiry, shifts, days, dynamics
        )
    vm = market.vol_model
    smile = svi = None
    if dynamics == "sticky_moneyness" and isinstance(vm, SviSurface):
        # Each leg's slice shape around its ATM vol (`alvh.market.svi`).
        shapes = np.ascontiguousarray(vm.shapes(expiry).ravel())
        svi = (shapes, vm.floor_ratio, vm.moneyness_limit)
    elif dynamics == "sticky_moneyness" and isinstance(vm, SsviSurface):
        smile = (vm.rho, vm.eta, vm.gamma)
    return {
        "kind": kind,
        "is_call": is_call,
        "strike": strike,
        "weight": weight,
        "tau": tau.ravel(),
        "vol": vol.ravel(),
        "underlying": underlying.ravel(),
        "smile": smile,
        "svi": svi,
    }


def _cubes(
    position: Position,
    market: Market,
    moves: FloatArray,
    shifts: FloatArray,
    days: IntArray,
    dynamics: str,
) -> list[FloatArray]:
    """[value, delta, gamma, vega, theta, vix_delta] cubes from the backend's kernel."""
    cells = days.size * shifts.size * moves.size
    out = [np.zeros(cells) for _ in range(6)]
    if position.legs:
        inputs = _kernel_inputs(position, market, shifts, days, dynamics)
        _backend.kernels().scenario_grid(
            inputs["kind"],
            inputs["is_call"],
            inputs["strike"],
            inputs["weight"],
            float(market.spot),
            float(market.rate),
            float(market.div),
            np.ascontiguousarray(moves, dtype=np.float64),
            int(shifts.size),
            int(days.size),
            inputs["tau"],
            inputs["vol"],
            inputs["underlying"],
            inputs["smile"],
            out,
            svi=inputs["svi"],
        )
    # A future is worth N * (F - entry_price) (variation margin), as in `alvh.book.analytics`.
    futures_entry = math.fsum(
        leg.quantity * leg.multiplier * leg.entry_price for leg in position.legs if isinstance(leg, VixFuture)
    )
    out[0] -= futures_entry
    shape = (days.size, shifts.size, moves.size)
    return [array.reshape(shape) for array in out]


def scenario_grid(
    position: Position,
    market: Market,
    *,
    spot_moves: Any,
    vol_shifts: Any,
    days: Any,
    dynamics: str = "sticky_moneyness",
) -> Grid:
    """The position over SPX ``spot_moves`` (relative, -0.05 = -5 %) x VIX ``vol_shifts``
    (points) x ``days`` forward (whole calendar days), under the vol ``dynamics``
    (``"sticky_moneyness"``, ``"sticky_strike"`` or ``"parallel"``, see `Market.bump`).

    Each cell equals pricing the legs one by one in ``market.bump(spot_move=m,
    vix_shift=v, days=d, dynamics=dynamics)``; legs expiring inside the horizon settle
    at intrinsic value. ``pnl`` is measured from the value in ``market`` itself (move 0,
    shift 0, day 0). Runs on the current backend (`alvh.backend()`).

    Errors (`alvh.errors.InvalidInputError` / `InputTypeError`, naming the argument and
    the first bad entry): empty or non-1-D axes, non-finite moves or shifts, a move
    ``<= -1``, a shift taking the VIX to zero or below, negative or non-integer days, an
    unknown ``dynamics``; a leg that expired before ``market.as_of`` or whose VIX future
    the market cannot price names the leg.
    """
    check_live(position, market, "building a grid")
    moves, shifts, day_axis, dynamics = _check_axes(market, spot_moves, vol_shifts, days, dynamics)
    cubes = _cubes(position, market, moves, shifts, day_axis, dynamics)
    zero = np.zeros(1)
    base = _cubes(position, market, zero, zero, np.zeros(1, dtype=np.int64), dynamics)
    base_value = float(base[0].ravel()[0])
    value, delta, gamma, vega, theta, vix_delta = cubes
    for cube in cubes:
        cube.flags.writeable = False
    pnl = value - base_value
    pnl.flags.writeable = False
    for axis in (moves, shifts, day_axis):
        axis.flags.writeable = False
    return Grid(
        spot_moves=moves,
        vol_shifts=shifts,
        days=day_axis,
        dynamics=dynamics,
        as_of=market.as_of,
        spot=float(market.spot),
        vix=float(market.vix),
        base_value=base_value,
        value=value,
        pnl=pnl,
        delta=delta,
        gamma=gamma,
        vega=vega,
        theta=theta,
        vix_delta=vix_delta,
        backend=_backend.backend(),
        position=position,
        market=market,
    )
