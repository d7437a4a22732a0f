"""The time-shifted projection: the position revalued on every path and day of a
Monte Carlo simulation of SPX and the VIX, per scenario (DESIGN.md "Time-shifting
projection").

``project(position, market, scenarios=..., days=10, paths=..., seed=...)`` resolves
the scenario set (`alvh.risk.scenarios`) against ``market.as_of``, tabulates the market
model along the VIX (the SPX ATM vol of every leg's expiry, the vol change under
sticky-strike / parallel dynamics, the VIX options' vol, the VIX futures as affine
functions of the VIX) for each day, and runs the backend's ``monte_carlo`` kernel;
``docs/projection_engine.md`` is the kernel's contract (random streams, the step
model, revaluation, outputs). The result is a `Projection`: per (scenario, day) and
for the probability-weighted mixture, the P&L distribution (mean, std, quantiles,
VaR/CVaR, P(profit)), the probability that the SPX has touched a short strike, and
the mean position Greeks, with Monte Carlo standard errors where they exist.

P&L is measured from today's mark of the position (as `alvh.Grid.pnl`), in $.

Tables: the VIX axis has nodes every ``VIX_STEP`` points from ``VIX_LOW`` (raised,
for a listed futures curve, until every future stays positive) to ``VIX_HIGH``;
the kernel interpolates linearly between nodes and clamps the VIX to the axis. The
interpolation error of the vols is below 1e-6 (tests compare with exact
revaluation in ``Market.bump``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from alvh._core import backend as _backend
from alvh._core.checks import input_error
from alvh._core.kernel_inputs import ProjectionBuffers, ProjectionInputs, Smile, SviSmiles
from alvh._core.types import FloatArray
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

    from alvh.risk.scenarios import ResolvedScenarios, ScenarioSet

__all__ = [
    "DEFAULT_GREEK_PATHS",
    "GREEK_NAMES",
    "QUANTILES",
    "STAT_NAMES",
    "TOUCH_NAMES",
    "Projection",
    "horizon_statistics",
    "project",
]


#: The VIX axis of the kernel's tables (points).
VIX_LOW, VIX_HIGH, VIX_STEP = 1.0, 200.0, 0.25
#: The VIX range the kernel's paths are clamped to each day (rust/core/src/projection/
#: paths.rs, LN_VIX_MIN and LN_VIX_MAX): 1 to 150 points (the record close is 82.69).
PATH_VIX_MIN, PATH_VIX_MAX = 1.0, 150.0
#: Quantile levels reported, in percent (docs/projection_engine.md).
QUANTILES = (1, 5, 25, 50, 75, 95, 99)
#: The statistics per (scenario, day), in the kernel's order.
STAT_NAMES = (
    "mean",
    "std",
    *(f"q{q:02d}" for q in QUANTILES),
    "var95",
    "var99",
    "cvar95",
    "cvar99",
    "p_profit",
    *(f"q{q:02d}_se" for q in QUANTILES),
    "cvar95_se",
    "cvar99_se",
)
#: The touch probabilities per (scenario, day), in the kernel's order.
TOUCH_NAMES = ("touch_put", "touch_call", "touch_any")
#: The mean position Greeks per (scenario, day), raw kernel units, in the kernel's order.
GREEK_NAMES = ("delta", "gamma", "vega", "theta", "vix_delta")
#: Paths per scenario on which the Greeks are averaged (the first ones), by default.
DEFAULT_GREEK_PATHS = 4096

_SPX_OPTION, _VIX_FUTURE, _VIX_OPTION = 0, 1, 2


@dataclass(frozen=True)
class Projection:
    """The projection's results (see the module doc). Arrays are read-only.

    ``stats`` (S, H, len(STAT_NAMES)) and ``mixture`` (H, len(STAT_NAMES)) in $ (VaR
    and CVaR as positive losses; ``p_profit`` a probability; the ``*_se`` columns are
    the Monte Carlo standard errors of the quantiles (VaR's are its quantile's) and
    of CVaR: docs/projection_engine.md); ``touch`` (S, H, 3)
    probabilities with ``touch_se`` their Monte Carlo standard errors; ``greeks`` (S,
    H, 5) mean position Greeks over the first ``greek_paths`` paths (delta $ per SPX
    point, gamma $ per point^2, vega $ per 1.00 vol, theta $ per year, vix_delta $
    per VIX-future point) with ``greeks_se``. ``pnl`` (S, H, paths) is kept when
    asked for (``keep_paths=True``), else None.
    """

    names: tuple[str, ...]
    probability: FloatArray
    days: int
    paths: int
    seed: int
    dynamics: str
    as_of: dt.date
    stats: FloatArray
    mixture: FloatArray
    touch: FloatArray
    touch_se: FloatArray
    greeks: FloatArray
    greeks_se: FloatArray
    greek_paths: int
    backend: str
    pnl: FloatArray | None = field(default=None, repr=False)
    spot_paths: FloatArray | None = field(default=None, repr=False)
    vix_paths: FloatArray | None = field(default=None, repr=False)
    #: The names of the last axis of ``stats`` / ``mixture``, in order.
    stat_names: ClassVar[tuple[str, ...]] = STAT_NAMES

    def plot(self, path: str | os.PathLike[str], **kw: Any) -> Path:
        """Write the fan chart (`alvh.risk.fan.projection_fan`) to ``path`` (PNG)."""
        from alvh.risk.fan import projection_fan

        return projection_fan(self, path, **kw)

    def representative_paths(self) -> pl.DataFrame:
        """Each scenario's expected path, revalued: per (scenario, day) the SPX and VIX
        of the path with every random draw at zero (drift and event jump means only;
        the VIX mean-reverting and following the drift through ``vix_beta``) and the
        book's P&L and Greeks (trader units) there, priced exactly in
        ``market.bump(...)`` through the scenario grid. The one-glance view: what each
        scenario does to the book if it plays out as expected."""
        import polars as pl

        rep = self.representative
        if not rep:
            raise InvalidInputError("this projection was run with representative=False: no expected paths")
        rows: dict[str, list[Any]] = {
            k: []
            for k in (
                "scenario",
                "probability",
                "day",
                "date",
                "spx",
                "vix",
                "pnl",
                "delta_dollars_per_1pct",
                "gamma_dollars_per_1pct",
                "vega_dollars_per_vol_point",
                "theta_dollars_per_day",
            )
        }
        for s, name in enumerate(self.names):
            for d in range(self.days):
                rows["scenario"].append(name)
                rows["probability"].append(float(self.probability[s]))
                rows["day"].append(d + 1)
                rows["date"].append(self.as_of + dt.timedelta(days=d + 1))
                for key in (
                    "spx",
                    "vix",
                    "pnl",
                    "delta_dollars_per_1pct",
                    "gamma_dollars_per_1pct",
                    "vega_dollars_per_vol_point",
                    "theta_dollars_per_day",
                ):
                    rows[key].append(float(rep[key][s, d]))
        return pl.DataFrame(rows)

    def tail_sources(self, level: float = 0.95) -> pl.DataFrame:
        """Where the projected tail comes from, at the horizon: per scenario, its
        probability, its share of the mixture's worst ``1 - level`` of outcomes (the
        probability-weighted paths of every scenario pooled: the paths the mixture's
        CVaR averages), and the mean P&L, SPX move (%) and VIX change (points) of its
        own worst ``1 - level`` of paths; a last row ``mixture`` for the pooled tail.
        Needs the paths (``project(..., keep_paths=True)``)."""
        import polars as pl

        if self.pnl is None or self.spot_paths is None or self.vix_paths is None:
            raise InvalidInputError("tail_sources needs the paths: project(..., keep_paths=True)")
        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.5 <= level < 1.0:
            raise _error("level", level, "in [0.5, 1)")
        pnl = np.asarray(self.pnl[:, -1, :])
        move = 100.0 * (np.asarray(self.spot_paths[:, -1, :]) / self._spot - 1.0)
        vix = np.asarray(self.vix_paths[:, -1, :]) - self.start_vix
        n_scen, paths = pnl.shape
        tail = 1.0 - level
        # the pooled tail: paths sorted by P&L, each weighing its scenario's probability / paths
        weight = np.repeat(self.probability / paths, paths)
        order = np.argsort(pnl.reshape(-1), kind="stable")
        cumulative = np.cumsum(weight[order])
        chosen = order[: int(np.searchsorted(cumulative, tail * cumulative[-1] * (1 - 1e-12))) + 1]
        in_tail = np.zeros(n_scen * paths, dtype=bool)
        in_tail[chosen] = True
        in_tail = in_tail.reshape(n_scen, paths)
        tail_weight = float(weight[chosen].sum())
        rows = []
        k = max(1, round(tail * paths))
        for i, name in enumerate(self.names):
            worst = np.argsort(pnl[i], kind="stable")[:k]
            rows.append(
                {
                    "scenario": name,
                    "probability": float(self.probability[i]),
                    "share_of_tail": float(in_tail[i].sum() * self.probability[i] / paths / tail_weight),
                    "tail_pnl": float(pnl[i, worst].mean()),
                    "tail_spx_move_pct": float(move[i, worst].mean()),
                    "tail_vix_change": float(vix[i, worst].mean()),
                }
            )
        w = np.broadcast_to((self.probability / paths)[:, None], pnl.shape)[in_tail]
        rows.append(
            {
                "scenario": "mixture",
                "probability": float(self.probability.sum()),
                "share_of_tail": 1.0,
                "tail_pnl": float(np.average(pnl[in_tail], weights=w)),
                "tail_spx_move_pct": float(np.average(move[in_tail], weights=w)),
                "tail_vix_change": float(np.average(vix[in_tail], weights=w)),
            }
        )
        return pl.DataFrame(rows)

    def stat(self, name: str) -> FloatArray:
        """One statistic (S, H) by name (`STAT_NAMES`)."""
        return np.asarray(self.stats[..., STAT_NAMES.index(name)])

    @property
    def mean_se(self) -> FloatArray:
        """Monte Carlo standard error of the mean P&L, (S, H): std / sqrt(paths)."""
        return np.asarray(self.stat("std") / math.sqrt(self.paths))

    @property
    def p_profit_se(self) -> FloatArray:
        """Standard error of P(profit), (S, H): sqrt(p (1 - p) / paths)."""
        p = self.stat("p_profit")
        return np.asarray(np.sqrt(p * (1.0 - p) / self.paths))

    def to_polars(self) -> pl.DataFrame:
        """Long form: one row per (scenario, day) and one per day for the mixture
        (scenario ``"mixture"``), with every statistic, the touch probabilities, the
        mean Greeks (trader units: $ per 1 % SPX move, $ per vol point, $ per day)
        and the standard errors."""
        import polars as pl

        rows: dict[str, list[Any]] = {"scenario": [], "probability": [], "day": [], "date": []}
        for name in (
            *STAT_NAMES,
            "mean_se",
            "p_profit_se",
            *TOUCH_NAMES,
            *(f"{t}_se" for t in TOUCH_NAMES),
            "delta_dollars_per_1pct",
            "vega_dollars_per_vol_point",
            "theta_dollars_per_day",
        ):
            rows[name] = []
        spot = self._spot
        for s, scenario in enumerate((*self.names, "mixture")):
            for d in range(self.days):
                mixture = s == len(self.names)
                rows["scenario"].append(scenario)
                rows["probability"].append(1.0 if mixture else float(self.probability[s]))
                rows["day"].append(d + 1)
                rows["date"].append(self.as_of + dt.timedelta(days=d + 1))
                values = self.mixture[d] if mixture else self.stats[s, d]
                for k, name in enumerate(STAT_NAMES):
                    rows[name].append(float(values[k]))
                if mixture:
                    w = self.probability[:, None]
                    mean_se = math.sqrt(float(np.sum((w[:, 0] * self.mean_se[:, d]) ** 2)))
                    # Stratified by scenario: each scenario's error weighted by its probability.
                    p_se = math.sqrt(float(np.sum((w[:, 0] * self.p_profit_se[:, d]) ** 2)))
                    touch = (w * self.touch[:, d]).sum(axis=0)
                    touch_se = np.sqrt(((w * self.touch_se[:, d]) ** 2).sum(axis=0))
                    greeks = (w * self.greeks[:, d]).sum(axis=0)
                else:
                    mean_se = float(self.mean_se[s, d])
                    p_se = float(self.p_profit_se[s, d])
                    touch, touch_se = self.touch[s, d], self.touch_se[s, d]
                    greeks = self.greeks[s, d]
                rows["mean_se"].append(mean_se)
                rows["p_profit_se"].append(p_se)
                for k, name in enumerate(TOUCH_NAMES):
                    rows[name].append(float(touch[k]))
                    rows[f"{name}_se"].append(float(touch_se[k]))
                rows["delta_dollars_per_1pct"].append(float(greeks[0]) * 0.01 * spot)
                rows["vega_dollars_per_vol_point"].append(float(greeks[2]) / 100.0)
                rows["theta_dollars_per_day"].append(float(greeks[3]) / DAYS_PER_YEAR)
        return pl.DataFrame(rows)

    _spot: float = field(default=0.0, repr=False)
    representative: dict[str, FloatArray] = field(default_factory=dict, repr=False)
    #: The market's VIX (points) at the start: day 0 of the expected VIX paths.
    start_vix: float = field(default=math.nan, repr=False)


def _error(arg: str, value: Any, requirement: str) -> InvalidInputError:
    return input_error(f"{arg} must be {requirement}; got {value!r}", arg=arg, value=value)


def _count(arg: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(f"{arg} must be an int, got {type(value).__name__} {value!r}")
    if not low <= int(value) <= high:
        raise _error(arg, int(value), f"between {low} and {high}")
    return int(value)


def _scenario_set(scenarios: Any, as_of: dt.date) -> ScenarioSet:
    from alvh.risk.scenarios import ScenarioSet, by_name

    if isinstance(scenarios, ScenarioSet):
        return scenarios
    if isinstance(scenarios, str):
        return by_name(scenarios, as_of)
    raise InputTypeError(
        f"scenarios must be a ScenarioSet or a built-in name, got {type(scenarios).__name__}"
    )


def _vix_axis(market: Market, days: int) -> FloatArray:
    """The table's VIX nodes: from VIX_LOW (raised until a listed curve's futures all
    stay positive on every day) to VIX_HIGH."""
    low = VIX_LOW
    futures = market.futures
    if futures.is_explicit:
        for day in range(days + 1):
            as_of = market.as_of + dt.timedelta(days=day)
            for expiry, price in zip(futures.expiries, futures.prices):
                tau = max((expiry - as_of).days, 0) / DAYS_PER_YEAR
                # price + (v - vix) * exp(-kappa tau) > 0
                low = max(low, market.vix - price * math.exp(futures.kappa * tau) + VIX_STEP)
    start = math.ceil(low / VIX_STEP) * VIX_STEP
    return np.arange(start, VIX_HIGH + 0.5 * VIX_STEP, VIX_STEP)


def _tables(
    position: Position,
    market: Market,
    days: int,
    dynamics: str,
    nodes: FloatArray,
    first_valued_day: int = 1,
) -> dict[str, Any]:
    """The kernel's tables. Rows the kernel does not read stay zero: expired legs, and
    before ``first_valued_day`` every row but a VIX leg's futures on its expiry day."""
    legs = position.legs
    n_legs, n_nodes = len(legs), nodes.size
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
    strike = np.array([float(getattr(leg, "strike", 1.0)) for leg in legs], dtype=np.float64)
    expiry = np.array([leg.expiry for leg in legs], dtype="datetime64[D]")
    expiry_day = (expiry - np.datetime64(market.as_of, "D")).astype(np.int64)
    atm = np.zeros((days, n_legs, n_nodes))
    change = np.zeros((days, n_legs, n_nodes))
    vvol = np.zeros((days, n_legs, n_nodes))
    fut_a = np.zeros((days, n_legs))
    fut_b = np.zeros((days, n_legs))
    vm = market.vol_model
    svi = None
    # The kernel's SSVI smile: the market's, or under SVI slices (which replace it) the
    # defaults, only checked; the floor ratio of additive dynamics is the model's.
    ssvi = vm if isinstance(vm, SsviSurface) else SsviSurface()
    smile = Smile(rho=ssvi.rho, eta=ssvi.eta, gamma=ssvi.gamma, floor_ratio=vm.floor_ratio)
    if isinstance(vm, SviSurface) and dynamics == "sticky_moneyness":
        # each SPX leg's slice around its ATM vol
        svi = SviSmiles(
            shapes=np.ascontiguousarray(vm.shapes(expiry).ravel()),
            floor_ratio=vm.floor_ratio,
            moneyness_limit=vm.moneyness_limit,
        )
    shifts = nodes - market.vix
    spx = kind == _SPX_OPTION
    vix_leg = ~spx
    base_vol = np.zeros(n_legs)
    if spx.any() and dynamics != "sticky_moneyness":
        base_vol[spx] = market.own_smile_vol(strike[spx], expiry[spx])
        base_atm = market.atm_vol(expiry[spx])
    for d in range(1, days + 1):
        valued = d >= first_valued_day
        live = (expiry_day > d) & valued
        spx_live = spx & live
        if spx_live.any():
            rows = market.scenario_atm_vols(expiry[spx_live], shifts=shifts, day=d)  # (V, L')
            atm[d - 1][spx_live] = rows.T
            if dynamics == "sticky_strike":
                before = base_atm[live[spx]]
                change[d - 1][spx_live] = (rows - before[None, :]).T
            elif dynamics == "parallel":
                ratio = market.vol_model.ratio
                change[d - 1][spx_live] = (ratio * shifts / 100.0)[None, :]
        option_live = (kind == _VIX_OPTION) & live
        if option_live.any():
            tau = (expiry_day[option_live] - d) / DAYS_PER_YEAR
            vvol[d - 1][option_live] = market.vol_of_vol.vol(tau[:, None], vix=nodes[None, :])
        if (vix_leg & (valued | (expiry_day == d))).any():
            # Affine in the VIX in both curves: two points give it exactly.
            f = market.scenario_vix_futures(expiry[vix_leg], shifts=[0.0, 1.0], day=d)
            slope = f[1] - f[0]
            fut_b[d - 1][vix_leg] = slope
            fut_a[d - 1][vix_leg] = f[0] - slope * market.vix
    return {
        "kind": kind,
        "strike": strike,
        "expiry_day": expiry_day,
        "table_atm": atm.ravel(),
        "table_change": change.ravel(),
        "table_vvol": vvol.ravel(),
        "fut_a": fut_a.ravel(),
        "fut_b": fut_b.ravel(),
        "base_vol": base_vol,
        "smile": smile,
        "svi": svi,
    }


def _barriers(position: Position) -> tuple[float, float]:
    """(the highest short SPX put strike, the lowest short SPX call strike), NaN if none."""
    puts = [
        leg.strike
        for leg in position.legs
        if isinstance(leg, SpxOption) and not leg.is_call and leg.quantity < 0
    ]
    calls = [
        leg.strike for leg in position.legs if isinstance(leg, SpxOption) and leg.is_call and leg.quantity < 0
    ]
    return (max(puts) if puts else math.nan, min(calls) if calls else math.nan)


@dataclass(frozen=True)
class _Run:
    """One kernel run and the statistics of its valued days (see `_simulate`)."""

    resolved: ResolvedScenarios
    days: int
    paths: int
    greek_paths: int
    pnl: FloatArray
    touch_sum: FloatArray
    touch_sumsq: FloatArray
    greek_sum: FloatArray
    greek_sumsq: FloatArray
    spot_paths: FloatArray | None
    vix_paths: FloatArray | None
    stats: FloatArray
    mixture: FloatArray


def _simulate(
    position: Position,
    market: Market,
    *,
    scenarios: Any,
    days: int,
    paths: int,
    seed: int,
    dynamics: str,
    greek_paths: int,
    keep_paths: bool,
    progress: Callable[[int, int], None] | None,
    horizon_only: bool,
) -> _Run:
    """Validates the arguments, runs the kernel (the book valued every day, or on the
    last day only) and computes the statistics of the valued days."""
    if not isinstance(position, Position):
        raise InputTypeError(f"position must be a Position, got {type(position).__name__}")
    if not isinstance(market, Market):
        raise InputTypeError(f"market must be a Market, got {type(market).__name__}")
    check_live(position, market, "projecting")
    for i, leg in enumerate(position.legs):
        if leg.expiry <= market.as_of:
            raise input_error(
                f"legs[{i}] ({leg}) expires on the market's as_of {market.as_of.isoformat()}: "
                "settle it before projecting",
                arg=f"legs[{i}]",
                index=i,
            )
    days = _count("days", days, 1, 30)
    first_valued_day = days if horizon_only else 1
    paths = _count("paths", paths, 1, 10_000_000)
    greek_paths = min(_count("greek_paths", greek_paths, 0, 10_000_000), paths)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InputTypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**64:
        raise _error("seed", int(seed), "between 0 and 2**64 - 1")
    if dynamics not in DYNAMICS:
        raise _error("dynamics", dynamics, f"one of {', '.join(DYNAMICS)}")
    scenario_set = _scenario_set(scenarios, market.as_of)
    resolved: ResolvedScenarios = scenario_set.resolve(
        market.as_of, days, vix_theta_default=market.futures.theta
    )
    n_scen = len(resolved.names)
    if market.vix > PATH_VIX_MAX:
        raise _error(
            "market.vix",
            float(market.vix),
            f"at most {PATH_VIX_MAX:g}, the highest VIX the projection's paths model (each day's "
            "VIX is clamped to 1-150; the record close is 82.69)",
        )
    nodes = _vix_axis(market, days)
    tables = _tables(position, market, days, dynamics, nodes, first_valued_day)
    legs = position.legs
    weight = np.array([float(leg.quantity * leg.multiplier) for leg in legs], dtype=np.float64)
    is_call = np.array([bool(getattr(leg, "is_call", False)) for leg in legs], dtype=np.bool_)
    futures_entry = math.fsum(
        leg.quantity * leg.multiplier * leg.entry_price for leg in legs if isinstance(leg, VixFuture)
    )
    from alvh.risk.grid import scenario_grid

    today = scenario_grid(position, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0], dynamics=dynamics)
    base_value = today.base_value + futures_entry  # the kernel values futures at F
    low, high = _barriers(position)
    kernels = _backend.kernels()
    touch_kinds, n_greeks = kernels.TOUCH_KINDS, kernels.GREEKS
    cube = n_scen * days * paths
    pnl = np.empty(cube)
    touch_sum = np.empty(n_scen * days * touch_kinds)
    touch_sumsq = np.empty(n_scen * days * touch_kinds)
    greek_sum, greek_sumsq = np.empty(n_scen * days * n_greeks), np.empty(n_scen * days * n_greeks)
    spot_paths = np.empty(cube) if keep_paths else None
    vix_paths = np.empty(cube) if keep_paths else None
    vol_dynamics = kernels.STICKY_MONEYNESS if dynamics == "sticky_moneyness" else kernels.ADDITIVE

    def flat(a: Any) -> FloatArray:
        return np.ascontiguousarray(a, dtype=np.float64).ravel()

    per_day = ("jump_mean", "jump_std", "vix_jump_mean", "vix_jump_std")
    per_scenario_fields = ("drift", "diffusion_vol", "vix_beta", "vol_of_vix", "vix_kappa", "vix_theta")
    # With a progress callback, one kernel call per scenario, to report between them;
    # without, one call for all (less overhead per call: a decision projects small
    # books many times). The streams are keyed by the scenario number, so the numbers
    # are the same either way.
    groups = [(s, s + 1) for s in range(n_scen)] if progress is not None else [(0, n_scen)]
    for first, last in groups:
        one: dict[str, Any] = {
            name: flat(getattr(resolved, name))[first:last] for name in per_scenario_fields
        }
        days_of: dict[str, Any] = {
            name: flat(getattr(resolved, name))[first * days : last * days] for name in per_day
        }
        cube_rows = slice(first * days * paths, last * days * paths)
        touch_rows = slice(first * days * touch_kinds, last * days * touch_kinds)
        greek_rows = slice(first * days * n_greeks, last * days * n_greeks)
        inputs = ProjectionInputs(
            kind=tables["kind"],
            is_call=is_call,
            strike=tables["strike"],
            weight=weight,
            expiry_day=tables["expiry_day"],
            spot=float(market.spot),
            rate=float(market.rate),
            div=float(market.div),
            vix=float(market.vix),
            base_value=base_value,
            **one,
            atm_vix_ratio=market.vol_model.ratio,
            **days_of,
            days=days,
            paths=paths,
            seed=int(seed),
            greek_paths=greek_paths,
            vix_lo=float(nodes[0]),
            vix_step=VIX_STEP,
            n_nodes=int(nodes.size),
            table_atm=tables["table_atm"],
            table_change=tables["table_change"],
            table_vvol=tables["table_vvol"],
            fut_a=tables["fut_a"],
            fut_b=tables["fut_b"],
            dynamics=vol_dynamics,
            smile=tables["smile"],
            svi=tables["svi"],
            base_vol=tables["base_vol"],
            barrier_low=low,
            barrier_high=high,
            scenario_offset=first,
            first_valued_day=first_valued_day,
        )
        kernels.monte_carlo(
            inputs,
            ProjectionBuffers(
                pnl_out=pnl[cube_rows],
                touch_sum_out=touch_sum[touch_rows],
                touch_sumsq_out=touch_sumsq[touch_rows],
                greek_sum_out=greek_sum[greek_rows],
                greek_sumsq_out=greek_sumsq[greek_rows],
                spot_out=None if spot_paths is None else spot_paths[cube_rows],
                vix_out=None if vix_paths is None else vix_paths[cube_rows],
            ),
        )
        if progress is not None:
            progress(last, n_scen)
    n_stats = kernels.STATS
    valued = days - first_valued_day + 1
    per_scenario = np.empty(n_scen * valued * n_stats)
    mixture = np.empty(valued * n_stats)
    # Statistics of the valued days only (all of them unless first_valued_day > 1).
    valued_pnl = (
        pnl if valued == days else np.ascontiguousarray(pnl.reshape(n_scen, days, paths)[:, -valued:]).ravel()
    )
    kernels.pnl_statistics(valued_pnl, flat(resolved.probability), valued, paths, per_scenario, mixture)
    return _Run(
        resolved,
        days,
        paths,
        greek_paths,
        pnl,
        touch_sum,
        touch_sumsq,
        greek_sum,
        greek_sumsq,
        spot_paths,
        vix_paths,
        per_scenario.reshape(n_scen, valued, n_stats),
        mixture.reshape(valued, n_stats),
    )


def project(
    position: Position,
    market: Market,
    *,
    scenarios: Any = "gdp_x_earnings",
    days: int = 10,
    paths: int = 20_000,
    seed: int = 0,
    dynamics: str = "sticky_moneyness",
    greek_paths: int = DEFAULT_GREEK_PATHS,
    keep_paths: bool = False,
    progress: Callable[[int, int], None] | None = None,
    representative: bool = True,
) -> Projection:
    """Project ``position`` ``days`` calendar days forward under each scenario of
    ``scenarios`` (a `ScenarioSet` or a built-in name: ``"gdp"``, ``"earnings"``,
    ``"gdp_x_earnings"``) with ``paths`` Monte Carlo paths per scenario, reproducible
    from ``seed`` whatever the thread count. See the module doc; runs on the current
    backend. ``keep_paths`` keeps the P&L, SPX and VIX cubes (S, H, paths) on the
    result (memory: 24 bytes per path and day and scenario). ``progress(done, total)``
    is called after each scenario (the CLI's progress bar). ``representative=False``
    skips the expected-path revaluation (`Projection.representative_paths` is then
    empty).

    A leg expiring inside the horizon settles on its expiry day; a leg expiring on
    ``market.as_of`` (nothing left to project) or before it is an error naming it.
    """
    run = _simulate(
        position,
        market,
        scenarios=scenarios,
        days=days,
        paths=paths,
        seed=seed,
        dynamics=dynamics,
        greek_paths=greek_paths,
        keep_paths=keep_paths,
        progress=progress,
        horizon_only=False,
    )
    resolved, days, paths, greek_paths = run.resolved, run.days, run.paths, run.greek_paths
    pnl, spot_paths, vix_paths = run.pnl, run.spot_paths, run.vix_paths
    n_scen = len(resolved.names)
    # The last axes (the kernel's TOUCH_KINDS and GREEKS) follow from the sums' sizes.
    touch = (run.touch_sum / paths).reshape(n_scen, days, -1)
    touch_var = np.maximum(run.touch_sumsq.reshape(n_scen, days, -1) / paths - touch**2, 0.0)
    n_g = max(greek_paths, 1)
    greeks = (run.greek_sum / n_g).reshape(n_scen, days, -1)
    greek_var = np.maximum(run.greek_sumsq.reshape(n_scen, days, -1) / n_g - greeks**2, 0.0)
    if greek_paths == 0:
        greeks = np.full_like(greeks, np.nan)
    result_arrays = {
        "stats": run.stats,
        "mixture": run.mixture,
        "touch": touch,
        "touch_se": np.sqrt(touch_var / paths),
        "greeks": greeks,
        "greeks_se": np.sqrt(greek_var / n_g),
    }
    kept = {}
    if keep_paths:
        assert spot_paths is not None and vix_paths is not None
        kept = {
            "pnl": pnl.reshape(n_scen, days, paths),
            "spot_paths": spot_paths.reshape(n_scen, days, paths),
            "vix_paths": vix_paths.reshape(n_scen, days, paths),
        }
    for array in (*result_arrays.values(), *kept.values()):
        array.flags.writeable = False
    expected_paths = (
        _representative(position, market, resolved, days, dynamics, float(_vix_axis(market, days)[0]))
        if representative
        else {}
    )
    probability = np.array(resolved.probability, dtype=np.float64)
    probability.flags.writeable = False
    return Projection(
        names=tuple(resolved.names),
        probability=probability,
        days=days,
        paths=paths,
        seed=int(seed),
        dynamics=dynamics,
        as_of=market.as_of,
        greek_paths=greek_paths,
        backend=_backend.backend(),
        **result_arrays,
        **kept,
        _spot=float(market.spot),
        representative=expected_paths,
        start_vix=float(market.vix),
    )


def horizon_statistics(
    position: Position,
    market: Market,
    *,
    scenarios: Any = "gdp_x_earnings",
    days: int = 10,
    paths: int = 20_000,
    seed: int = 0,
    dynamics: str = "sticky_moneyness",
) -> tuple[FloatArray, FloatArray]:
    """The statistics of the last day only, ``(stats (S, len(STAT_NAMES)), mixture
    (len(STAT_NAMES),))``: the same numbers as ``project(...).stats[:, -1]`` and
    ``.mixture[-1]`` with the same arguments, for about 1/``days`` of the revaluation
    (the paths are simulated every day, and legs expiring inside the horizon still
    settle, but the book is valued on day ``days`` only). For callers that need only
    the horizon, such as a decision's time-shift check."""
    run = _simulate(
        position,
        market,
        scenarios=scenarios,
        days=days,
        paths=paths,
        seed=seed,
        dynamics=dynamics,
        greek_paths=0,
        keep_paths=False,
        progress=None,
        horizon_only=True,
    )
    stats, mixture = run.stats[:, -1].copy(), run.mixture[-1].copy()
    stats.flags.writeable = False
    mixture.flags.writeable = False
    return stats, mixture


def _representative(
    position: Position,
    market: Market,
    resolved: ResolvedScenarios,
    days: int,
    dynamics: str,
    vix_floor: float,
) -> dict[str, FloatArray]:
    """Each scenario's path with all draws at zero (ln VIX following the drift
    through ``vix_beta``, as on the Monte Carlo paths), revalued exactly with the grid (one
    grid a day over every scenario's SPX move x VIX shift; each scenario reads its own
    diagonal cell). The VIX is clamped each day as the Monte Carlo clamps it (1-150
    points, and not below ``vix_floor``, the table's lowest node, where a listed futures
    curve stays positive): a mean reversion faster than a day (``vix_kappa`` 1000)
    overshoots, as the Euler step does in the kernel, but stays in range."""
    from alvh.risk.grid import scenario_grid

    n_scen = len(resolved.names)
    dt_year = 1.0 / DAYS_PER_YEAR
    out = {
        k: np.zeros((n_scen, days))
        for k in (
            "spx",
            "vix",
            "pnl",
            "delta_dollars_per_1pct",
            "gamma_dollars_per_1pct",
            "vega_dollars_per_vol_point",
            "theta_dollars_per_day",
        )
    }
    ratio = market.vol_model.atm_vix_ratio
    drift = np.asarray(resolved.drift, dtype=np.float64)
    given = np.asarray(resolved.diffusion_vol, dtype=np.float64)
    kappa = np.asarray(resolved.vix_kappa, dtype=np.float64)
    beta = np.asarray(resolved.vix_beta, dtype=np.float64)
    ln_theta = np.log(np.asarray(resolved.vix_theta, dtype=np.float64))
    ln_s = np.full(n_scen, math.log(market.spot))
    ln_v = np.full(n_scen, math.log(market.vix))
    diagonal = np.arange(n_scen)
    for d in range(days):
        sigma = np.where(np.isfinite(given), given, ratio * np.exp(ln_v) / 100.0)
        diffusion_return = (drift - 0.5 * sigma * sigma) * dt_year  # its draw at zero
        ln_s = ln_s + diffusion_return + resolved.jump_mean[:, d]
        ln_v = ln_v + kappa * (ln_theta - ln_v) * dt_year + beta * diffusion_return
        ln_v = ln_v + resolved.vix_jump_mean[:, d]
        ln_v = np.clip(ln_v, math.log(PATH_VIX_MIN), math.log(PATH_VIX_MAX))
        spot, vix = np.exp(ln_s), np.maximum(np.exp(ln_v), vix_floor)
        grid = scenario_grid(
            position,
            market,
            spot_moves=spot / market.spot - 1.0,
            vol_shifts=vix - market.vix,
            days=[d + 1],
            dynamics=dynamics,
        )
        cell = (0, diagonal, diagonal)
        out["spx"][:, d], out["vix"][:, d] = spot, vix
        out["pnl"][:, d] = grid.pnl[cell]
        out["delta_dollars_per_1pct"][:, d] = grid.delta_dollars_per_1pct[cell]
        out["gamma_dollars_per_1pct"][:, d] = grid.gamma_dollars_per_1pct[cell]
        out["vega_dollars_per_vol_point"][:, d] = grid.vega_dollars_per_vol_point[cell]
        out["theta_dollars_per_day"][:, d] = grid.theta_dollars_per_day[cell]
    for array in out.values():
        array.flags.writeable = False
    return out
