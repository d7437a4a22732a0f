"""The projection's input checks (the twin of ``rust/core/src/projection/checks.rs``):
every length, type and value the kernel reads, before any work, so a bad input is an
error naming the field and its first offending element, never a NaN in the output.

`checked` reads ``ProjectionInputs`` / ``ProjectionBuffers`` into the normalized
arguments the other parts take (`Checked`): every length and type first, then every
value, each in a fixed order, so the error a bad input raises does not depend on what
else is wrong with it. Table rows are checked only where they are read (live legs
on valued days, a VIX leg's futures on its expiry day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alvh._core.kernel_inputs import ProjectionBuffers, ProjectionInputs, Smile, SviSmiles
from alvh._core.types import FloatArray
from alvh._fallback.grid import (
    SPX_OPTION,
    VIX_FUTURE,
    VIX_OPTION,
    _array,
    _count,
    _first_bad,
    _float,
    _invalid,
    _smile,
    _svi,
)
from alvh._fallback.projection.constants import ADDITIVE, GREEKS, STICKY_MONEYNESS, TOUCH_KINDS

#: Days of the horizon the kernel accepts.
MAX_DAYS = 30

_PER_LEG = "one entry per leg"
_PER_SCENARIO = "one entry per scenario"
_PER_SCENARIO_DAY = "scenarios * days, index s * days + (d - 1)"
_PER_PATH = "scenarios * days * paths, index (s * days + d - 1) * paths + p"


# --------------------------------------------------------------------------- the checked arguments


@dataclass(frozen=True)
class LegArrays:
    """The legs (length L); ``base_vol`` is read with the dynamics (`Dynamics`)."""

    kind: NDArray[np.uint8]
    is_call: NDArray[np.bool_]
    strike: FloatArray
    weight: FloatArray
    expiry_day: NDArray[np.int64]


@dataclass(frozen=True)
class Market:
    """The market on day 0 and the P&L's origin."""

    spot: float
    rate: float
    div: float
    vix: float
    base_value: float


@dataclass(frozen=True)
class ScenarioArrays:
    """Per scenario (length S); ``atm_vix_ratio`` turns a NaN diffusion vol into the VIX's."""

    drift: FloatArray
    diffusion_vol: FloatArray
    vix_beta: FloatArray
    vol_of_vix: FloatArray
    vix_kappa: FloatArray
    vix_theta: FloatArray
    atm_vix_ratio: float


@dataclass(frozen=True)
class Jumps:
    """The event jumps per (scenario, day), length S H, index ``s * H + (d - 1)``."""

    jump_mean: FloatArray
    jump_std: FloatArray
    vix_jump_mean: FloatArray
    vix_jump_std: FloatArray


@dataclass(frozen=True)
class Simulation:
    days: int
    paths: int
    seed: int
    greek_paths: int
    first_valued_day: int
    scenario_offset: int


@dataclass(frozen=True)
class TableArrays:
    """The revaluation tables along the VIX axis and the affine futures, flat."""

    vix_lo: float
    vix_step: float
    n_nodes: int
    atm: FloatArray
    change: FloatArray
    vvol: FloatArray
    fut_a: FloatArray
    fut_b: FloatArray


@dataclass(frozen=True)
class Dynamics:
    """How the SPX vol follows: ``kind`` (`STICKY_MONEYNESS` or `ADDITIVE`), the
    SSVI smile ``(rho, eta, gamma)`` and the additive dynamics' ``floor_ratio``, the SVI slices
    ``(shapes (L, 6), floor_ratio, moneyness_limit)`` (sticky moneyness only, or None)
    and each SPX leg's vol today (additive only)."""

    kind: int
    smile: tuple[float, float, float]
    floor_ratio: float
    svi: tuple[FloatArray, float, float] | None
    base_vol: FloatArray


@dataclass(frozen=True)
class Buffers:
    """The output buffers (`ProjectionBuffers`), checked writeable and of their length."""

    pnl: FloatArray
    touch_sum: FloatArray
    touch_sumsq: FloatArray
    greek_sum: FloatArray
    greek_sumsq: FloatArray
    spot: FloatArray | None
    vix: FloatArray | None


@dataclass(frozen=True)
class Checked:
    legs: LegArrays
    market: Market
    scenarios: ScenarioArrays
    jumps: Jumps
    simulation: Simulation
    tables: TableArrays
    dynamics: Dynamics
    barriers: tuple[float, float]
    buffers: Buffers


def checked(inputs: ProjectionInputs, out: ProjectionBuffers) -> Checked:
    """``inputs`` and ``out`` checked and normalized (see the module doc)."""
    legs = _leg_arrays(inputs)
    market = _market(inputs)
    scenarios = _scenario_arrays(inputs)
    days, paths, seed, greek_paths = _simulation_counts(inputs)
    n_scen = len(scenarios.drift)
    jumps = _jumps(inputs, n_scen * days)
    tables = _table_arrays(inputs, days, len(legs.kind))
    dynamics = _dynamics(inputs, legs.kind)
    barriers = (_barrier("barrier_low", inputs.barrier_low), _barrier("barrier_high", inputs.barrier_high))
    buffers = _buffers(out, n_scen, days, paths)

    _check_market(market)
    _check_legs(legs)
    _check_scenarios(scenarios, jumps)
    _check_axis(tables)
    first_valued_day = _first_valued_day(inputs, days)
    _check_rows_in_use(tables, legs, dynamics, first_valued_day, days)
    scenario_offset = _scenario_offset(inputs, n_scen)
    simulation = Simulation(days, paths, seed, greek_paths, first_valued_day, scenario_offset)
    return Checked(legs, market, scenarios, jumps, simulation, tables, dynamics, barriers, buffers)


# --------------------------------------------------------------------------- scalar checks


def _seed(value: Any) -> int:
    seed = _count("seed", value)
    if seed >= 1 << 64:
        raise _invalid("seed", None, seed, "below 2**64 (an unsigned 64-bit integer)")
    return seed


def _out(arg: str, value: Any, length: int, what: str) -> FloatArray:
    array = _array(arg, value, np.float64, length, what)
    if not array.flags.writeable:
        raise ValueError(f"{arg} must be writeable")
    return array


def _finite_scalar(arg: str, value: float) -> None:
    if not math.isfinite(value):
        raise _invalid(arg, None, value, "finite")


def _positive_scalar(arg: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise _invalid(arg, None, value, "positive and finite")


def _barrier(arg: str, value: Any) -> float:
    barrier = _float(arg, value)
    if not (math.isnan(barrier) or (math.isfinite(barrier) and barrier > 0.0)):
        raise _invalid(arg, None, barrier, "positive and finite, or NaN (no barrier)")
    return barrier


def _smile_params(smile: Any) -> tuple[tuple[float, float, float], float]:
    """The checked ``inputs.smile``: ``(rho, eta, gamma)`` and ``floor_ratio``."""
    if not isinstance(smile, Smile):
        raise TypeError(f"smile must be a kernel_inputs.Smile, got {type(smile).__name__}")
    params = _smile((smile.rho, smile.eta, smile.gamma))
    assert params is not None  # _smile returns None only for None
    floor_ratio = _float("smile.floor_ratio", smile.floor_ratio)
    if not (math.isfinite(floor_ratio) and floor_ratio > 0.0):
        raise _invalid("smile.floor_ratio", None, floor_ratio, "positive and finite")
    return params, floor_ratio


def _svi_fields(svi: Any) -> tuple[Any, Any, Any] | None:
    """``inputs.svi`` as the ``(shapes, floor_ratio, moneyness_limit)`` the grid's SVI
    check (`alvh._fallback.grid._svi`) takes, or None."""
    if svi is None:
        return None
    if not isinstance(svi, SviSmiles):
        raise TypeError(f"svi must be None or a kernel_inputs.SviSmiles, got {type(svi).__name__}")
    return svi.shapes, svi.floor_ratio, svi.moneyness_limit


def _check_used(
    arg: str,
    table: FloatArray,
    used_rows: NDArray[np.bool_],
    width: int,
    bad: NDArray[np.bool_],
    requirement: str,
) -> None:
    """The first bad entry of ``table`` among the rows (of ``width`` entries) in use."""
    _first_bad(arg, table, np.repeat(used_rows, width) & bad, requirement)


# --------------------------------------------------------------------------- lengths and types


def _leg_arrays(inputs: ProjectionInputs) -> LegArrays:
    kind = _array("kind", inputs.kind, np.uint8, None, "")
    n_legs = len(kind)
    return LegArrays(
        kind=kind,
        is_call=_array("is_call", inputs.is_call, np.bool_, n_legs, _PER_LEG),
        strike=_array("strike", inputs.strike, np.float64, n_legs, _PER_LEG),
        weight=_array("weight", inputs.weight, np.float64, n_legs, _PER_LEG),
        expiry_day=_array("expiry_day", inputs.expiry_day, np.int64, n_legs, _PER_LEG),
    )


def _market(inputs: ProjectionInputs) -> Market:
    return Market(
        spot=_float("spot", inputs.spot),
        rate=_float("rate", inputs.rate),
        div=_float("div", inputs.div),
        vix=_float("vix", inputs.vix),
        base_value=_float("base_value", inputs.base_value),
    )


def _scenario_arrays(inputs: ProjectionInputs) -> ScenarioArrays:
    drift = _array("drift", inputs.drift, np.float64, None, "")
    n_scen = len(drift)

    def per_scenario(arg: str, value: Any) -> FloatArray:
        return _array(arg, value, np.float64, n_scen, _PER_SCENARIO)

    return ScenarioArrays(
        drift=drift,
        diffusion_vol=per_scenario("diffusion_vol", inputs.diffusion_vol),
        vix_beta=per_scenario("vix_beta", inputs.vix_beta),
        vol_of_vix=per_scenario("vol_of_vix", inputs.vol_of_vix),
        vix_kappa=per_scenario("vix_kappa", inputs.vix_kappa),
        vix_theta=per_scenario("vix_theta", inputs.vix_theta),
        atm_vix_ratio=_float("atm_vix_ratio", inputs.atm_vix_ratio),
    )


def _simulation_counts(inputs: ProjectionInputs) -> tuple[int, int, int, int]:
    """``(days, paths, seed, greek_paths)``."""
    n_days = _count("days", inputs.days)
    if not 1 <= n_days <= MAX_DAYS:
        raise _invalid("days", None, n_days, f"between 1 and {MAX_DAYS}")
    n_paths = _count("paths", inputs.paths)
    if n_paths > 1 << 32:
        raise _invalid("paths", None, n_paths, "at most 2**32 (path numbers are 32-bit)")
    seed = _seed(inputs.seed)
    n_greek = _count("greek_paths", inputs.greek_paths)
    if n_greek > n_paths:
        raise _invalid("greek_paths", None, n_greek, f"at most paths ({n_paths})")
    return n_days, n_paths, seed, n_greek


def _jumps(inputs: ProjectionInputs, n_sd: int) -> Jumps:
    def per_scenario_day(arg: str, value: Any) -> FloatArray:
        return _array(arg, value, np.float64, n_sd, _PER_SCENARIO_DAY)

    return Jumps(
        jump_mean=per_scenario_day("jump_mean", inputs.jump_mean),
        jump_std=per_scenario_day("jump_std", inputs.jump_std),
        vix_jump_mean=per_scenario_day("vix_jump_mean", inputs.vix_jump_mean),
        vix_jump_std=per_scenario_day("vix_jump_std", inputs.vix_jump_std),
    )


def _table_arrays(inputs: ProjectionInputs, n_days: int, n_legs: int) -> TableArrays:
    vix_lo = _float("vix_lo", inputs.vix_lo)
    vix_step = _float("vix_step", inputs.vix_step)
    n_nodes = _count("n_nodes", inputs.n_nodes)
    if n_nodes < 1:
        raise _invalid("n_nodes", None, n_nodes, "at least 1")
    table_what = "days * legs * n_nodes, index ((d - 1) * legs + l) * n_nodes + i"
    n_table = n_days * n_legs * n_nodes
    atm = _array("table_atm", inputs.table_atm, np.float64, n_table, table_what)
    change = _array("table_change", inputs.table_change, np.float64, n_table, table_what)
    vvol = _array("table_vvol", inputs.table_vvol, np.float64, n_table, table_what)
    fut_what = "days * legs, index (d - 1) * legs + l"
    fut_a = _array("fut_a", inputs.fut_a, np.float64, n_days * n_legs, fut_what)
    fut_b = _array("fut_b", inputs.fut_b, np.float64, n_days * n_legs, fut_what)
    return TableArrays(vix_lo, vix_step, n_nodes, atm, change, vvol, fut_a, fut_b)


def _dynamics(inputs: ProjectionInputs, kind: NDArray[np.uint8]) -> Dynamics:
    dynamics = inputs.dynamics
    if isinstance(dynamics, (bool, np.bool_)) or not isinstance(dynamics, (int, np.integer)):
        raise TypeError(f"dynamics must be an int (0 or 1), got {type(dynamics).__name__}")
    dynamics = int(dynamics)
    if dynamics not in (STICKY_MONEYNESS, ADDITIVE):
        raise _invalid("dynamics", None, dynamics, "0 (sticky moneyness) or 1 (sticky strike)")
    smile, floor_ratio = _smile_params(inputs.smile)
    svi = _svi(_svi_fields(inputs.svi), kind) if dynamics == STICKY_MONEYNESS else None
    base_vol = _array("base_vol", inputs.base_vol, np.float64, len(kind), _PER_LEG)
    return Dynamics(dynamics, smile, floor_ratio, svi, base_vol)


def _buffers(out: ProjectionBuffers, n_scen: int, n_days: int, n_paths: int) -> Buffers:
    n_out = n_scen * n_days * n_paths
    n_touch, n_greek_sums = n_scen * n_days * TOUCH_KINDS, n_scen * n_days * GREEKS
    touch_what = f"scenarios * days * {TOUCH_KINDS} (low, high, either)"
    greek_what = f"scenarios * days * {GREEKS} (delta, gamma, vega, theta, vix_delta)"
    return Buffers(
        pnl=_out("pnl_out", out.pnl_out, n_out, _PER_PATH),
        touch_sum=_out("touch_sum_out", out.touch_sum_out, n_touch, touch_what),
        touch_sumsq=_out("touch_sumsq_out", out.touch_sumsq_out, n_touch, touch_what),
        greek_sum=_out("greek_sum_out", out.greek_sum_out, n_greek_sums, greek_what),
        greek_sumsq=_out("greek_sumsq_out", out.greek_sumsq_out, n_greek_sums, greek_what),
        spot=None if out.spot_out is None else _out("spot_out", out.spot_out, n_out, _PER_PATH),
        vix=None if out.vix_out is None else _out("vix_out", out.vix_out, n_out, _PER_PATH),
    )


# --------------------------------------------------------------------------- values


def _check_market(market: Market) -> None:
    _positive_scalar("spot", market.spot)
    _positive_scalar("vix", market.vix)
    for name, number in (("rate", market.rate), ("div", market.div), ("base_value", market.base_value)):
        _finite_scalar(name, number)


def _check_legs(legs: LegArrays) -> None:
    kind, strike, expiry_day = legs.kind, legs.strike, legs.expiry_day
    if len(kind):
        bad_kind = kind > VIX_OPTION
        if bad_kind.any():
            i = int(np.flatnonzero(bad_kind)[0])
            raise _invalid("kind", i, int(kind[i]), "0 (SPX option), 1 (VIX future) or 2 (VIX option)")
    option = kind != VIX_FUTURE
    _first_bad("strike", strike, option & ~(np.isfinite(strike) & (strike > 0.0)), "positive and finite")
    _first_bad("weight", legs.weight, ~np.isfinite(legs.weight), "finite")
    if len(kind) and (expiry_day < 1).any():
        i = int(np.flatnonzero(expiry_day < 1)[0])
        raise _invalid(
            "expiry_day",
            i,
            int(expiry_day[i]),
            "at least 1 (legs expiring on day 0 are settled before the projection)",
        )


def _check_scenarios(scenarios: ScenarioArrays, jumps: Jumps) -> None:
    sc = scenarios
    _first_bad("drift", sc.drift, ~np.isfinite(sc.drift), "finite")
    _first_bad(
        "diffusion_vol",
        sc.diffusion_vol,
        np.isfinite(sc.diffusion_vol) & (sc.diffusion_vol < 0.0),
        "zero or positive, or NaN (from the VIX)",
    )
    if (~np.isfinite(sc.diffusion_vol)).any():
        _positive_scalar("atm_vix_ratio", sc.atm_vix_ratio)
    _first_bad("vix_beta", sc.vix_beta, ~np.isfinite(sc.vix_beta), "finite")
    _first_bad(
        "vol_of_vix",
        sc.vol_of_vix,
        ~(np.isfinite(sc.vol_of_vix) & (sc.vol_of_vix >= 0.0)),
        "zero or positive and finite",
    )
    _first_bad("vix_kappa", sc.vix_kappa, ~np.isfinite(sc.vix_kappa), "finite")
    _first_bad(
        "vix_theta",
        sc.vix_theta,
        ~(np.isfinite(sc.vix_theta) & (sc.vix_theta > 0.0)),
        "positive and finite (VIX points)",
    )
    for name, array in (("jump_mean", jumps.jump_mean), ("vix_jump_mean", jumps.vix_jump_mean)):
        _first_bad(name, array, ~np.isfinite(array), "finite")
    for name, array in (("jump_std", jumps.jump_std), ("vix_jump_std", jumps.vix_jump_std)):
        _first_bad(name, array, ~(np.isfinite(array) & (array >= 0.0)), "zero or positive and finite")


def _check_axis(tables: TableArrays) -> None:
    _positive_scalar("vix_lo", tables.vix_lo)
    if tables.n_nodes > 1:
        _positive_scalar("vix_step", tables.vix_step)
        top = tables.vix_lo + (tables.n_nodes - 1) * tables.vix_step
        _positive_scalar("vix_lo + (n_nodes - 1) * vix_step", top)


def _first_valued_day(inputs: ProjectionInputs, n_days: int) -> int:
    first_valued = _count("first_valued_day", inputs.first_valued_day)
    if not 1 <= first_valued <= n_days:
        raise _invalid("first_valued_day", None, first_valued, "between 1 and days")
    return first_valued


def _check_rows_in_use(
    tables: TableArrays, legs: LegArrays, dynamics: Dynamics, first_valued: int, n_days: int
) -> None:
    """The table rows the kernel reads: live legs on valued days; futures also on a VIX
    leg's expiry day."""
    kind, expiry_day, n_nodes = legs.kind, legs.expiry_day, tables.n_nodes
    spx = kind == SPX_OPTION
    day_index = np.arange(1, n_days + 1)[:, None]  # (H, 1)
    live = (day_index < expiry_day[None, :]) & (day_index >= first_valued)  # (H, L)
    spx_live = (live & spx[None, :]).ravel()
    _check_used(
        "table_atm",
        tables.atm,
        spx_live,
        n_nodes,
        ~(np.isfinite(tables.atm) & (tables.atm > 0.0)),
        "positive and finite (1.0 = 100%)",
    )
    if dynamics.kind == ADDITIVE:
        _check_used("table_change", tables.change, spx_live, n_nodes, ~np.isfinite(tables.change), "finite")
        _first_bad("base_vol", dynamics.base_vol, spx & ~np.isfinite(dynamics.base_vol), "finite")
    vix_option_live = (live & (kind == VIX_OPTION)[None, :]).ravel()
    _check_used(
        "table_vvol",
        tables.vvol,
        vix_option_live,
        n_nodes,
        ~(np.isfinite(tables.vvol) & (tables.vvol > 0.0)),
        "positive and finite (1.0 = 100%)",
    )
    vix_used = ((live | (day_index == expiry_day[None, :])) & ~spx[None, :]).ravel()
    for name, array in (("fut_a", tables.fut_a), ("fut_b", tables.fut_b)):
        _first_bad(name, array, vix_used & ~np.isfinite(array), "finite")


def _scenario_offset(inputs: ProjectionInputs, n_scen: int) -> int:
    """The scenario number of row 0 in the random streams (stream numbers are 32-bit)."""
    offset = _count("scenario_offset", inputs.scenario_offset)
    if offset + n_scen > 1 << 32:
        raise _invalid("scenario_offset", None, offset, "below 2**32 - scenarios")
    return offset
