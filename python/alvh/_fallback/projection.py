"""The Monte Carlo projection kernel of the numpy backend: ``monte_carlo`` and
``pnl_statistics``, the contract of docs/projection_engine.md (``alvh._native``
implements the same functions and constants; `alvh.project` calls whichever backend
is active). ``monte_carlo`` takes the same two objects as the native kernel, the
frozen dataclasses of `alvh._core.kernel_inputs`.

- `philox4x32_10`: the Random123 Philox4x32-10 block function, vectorized;
- `uniforms` / `normals`: the words of one block turned into two open uniforms and
  two standard normals (Box–Muller), counter ``[path, scenario, day, block]``;
- `monte_carlo`: daily steps of (SPX, VIX) per scenario and path, the position
  revalued every day on the tables of the moved surface, legs expiring inside the
  horizon settled on their expiry day, touch probabilities of the short strikes
  (Brownian bridge) and the position's Greeks over the first ``greek_paths`` paths;
- `pnl_statistics`: per (scenario, day) and probability-weighted mixture per day.

Paths are processed in blocks of `PATH_BLOCK` (vectorized over the block, looping
over scenarios, days and legs), so memory does not grow with ``paths``; a path's
numbers depend only on (seed, scenario, path, day), never on the blocking.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alvh._core.kernel_inputs import ProjectionBuffers, ProjectionInputs, Smile, SviSmiles
from alvh._core.types import FloatArray
from alvh._fallback.grid import (
    SPX_OPTION, VIX_FUTURE, VIX_OPTION, _array, _count, _first_bad, _float, _intrinsic, _invalid, _smile, _smile_vol, _svi, _svi_vol,
)
from alvh._fallback import pricing
from alvh.errors import InvalidInputError

U32Array = NDArray[np.uint32]

#: Paths per block: bounds the temporaries (a few dozen arrays of this length).
PATH_BLOCK = 1 << 16

#: One calendar day in years (ACT/365).
DT = 1.0 / 365.0

#: Days of the horizon the kernel accepts.
MAX_DAYS = 30

#: The quantiles of `pnl_statistics`, in percent, and their keys.
QUANTILE_PERCENTS = (1, 5, 25, 50, 75, 95, 99)
_LN_VIX_MAX = 5.010635294096256  # ln 150, as native

STAT_KEYS = (
    "mean", "std", "q01", "q05", "q25", "q50", "q75", "q95", "q99",
    "var95", "var99", "cvar95", "cvar99", "p_profit",
    "q01_se", "q05_se", "q25_se", "q50_se", "q75_se", "q95_se", "q99_se",
    "cvar95_se", "cvar99_se",
)

# The kernel's constants, the names and values of the native module's.
#: Touch probabilities per (scenario, day) in the touch sums: lower barrier, upper
#: barrier, either.
TOUCH_KINDS = 3
#: Greeks per (scenario, day) in the Greek sums: delta, gamma, vega, theta, vix_delta.
GREEKS = 5
#: Statistics per row of `pnl_statistics` (`STAT_KEYS`).
STATS = len(STAT_KEYS)
#: ``ProjectionInputs.dynamics``: the smile moves with the spot (sticky moneyness), or
#: an additive vol change (sticky strike, parallel).
STICKY_MONEYNESS, ADDITIVE = 0, 1

# --------------------------------------------------------------------------- Philox

# Hand-written because numpy's bit generators ship Philox4x64-10 only (and not its
# bare block function): the native core draws with the `rand_philox` crate's
# `philox4x32_10`, and both backends must produce the same words bit for bit.
_PHILOX_M0 = np.uint64(0xD2511F53)
_PHILOX_M1 = np.uint64(0xCD9E8D57)
_PHILOX_W0 = 0x9E3779B9
_PHILOX_W1 = 0xBB67AE85
_MASK32 = 0xFFFFFFFF
_SHIFT32 = np.uint64(32)
_SHIFT11 = np.uint64(11)
_TWO_POW_M53 = 2.0**-53


def philox4x32_10(
    counter: tuple[Any, Any, Any, Any], key: tuple[int, int]
) -> tuple[U32Array, U32Array, U32Array, U32Array]:
    """Random123's Philox4x32-10 of ``counter`` (four uint32 arrays or ints that
    broadcast together) under ``key = (k0, k1)``: the four uint32 output words.

    A round: ``hi0, lo0 = mulhilo(0xD2511F53, c0)``, ``hi1, lo1 = mulhilo(0xCD9E8D57,
    c2)``, ``c = [hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0]``; round 0 with the key as
    given, rounds 1..9 after bumping it by ``(0x9E3779B9, 0xBB67AE85)`` mod 2**32.
    """
    words = np.broadcast_arrays(*(np.asarray(c, dtype=np.uint32) for c in counter))
    c0, c1, c2, c3 = (w.astype(np.uint32) for w in words)  # own (writable) copies
    k0, k1 = int(key[0]) & _MASK32, int(key[1]) & _MASK32
    for round_ in range(10):
        if round_:
            k0 = (k0 + _PHILOX_W0) & _MASK32
            k1 = (k1 + _PHILOX_W1) & _MASK32
        product0 = _PHILOX_M0 * c0.astype(np.uint64)  # exact: < 2**64
        product1 = _PHILOX_M1 * c2.astype(np.uint64)
        hi0 = (product0 >> _SHIFT32).astype(np.uint32)
        lo0 = product0.astype(np.uint32)  # the low 32 bits (astype truncates mod 2**32)
        hi1 = (product1 >> _SHIFT32).astype(np.uint32)
        lo1 = product1.astype(np.uint32)
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint32(k0), lo1, hi0 ^ c3 ^ np.uint32(k1), lo0
    return c0, c1, c2, c3


def _key(seed: int) -> tuple[int, int]:
    return seed & _MASK32, seed >> 32


def _seed(value: Any) -> int:
    seed = _count("seed", value)
    if seed >= 1 << 64:
        raise _invalid("seed", None, seed, "below 2**64 (an unsigned 64-bit integer)")
    return seed


def _unit(hi: U32Array, lo: U32Array) -> FloatArray:
    """``((((hi << 32) | lo) >> 11) + 0.5) * 2**-53`` (the contract's uniform)."""
    bits = (hi.astype(np.uint64) << _SHIFT32) | lo.astype(np.uint64)
    return ((bits >> _SHIFT11).astype(np.float64) + 0.5) * _TWO_POW_M53


def uniforms(
    seed: int, scenario: int, paths: Any, day: int, block: int
) -> tuple[FloatArray, FloatArray]:
    """``(u_a, u_b)`` of block ``block`` at counter ``[path, scenario, day, block]``
    for every path of ``paths`` (uint32 array), key ``[seed & 0xffffffff, seed >> 32]``."""
    w0, w1, w2, w3 = philox4x32_10(
        (np.asarray(paths, dtype=np.uint32), scenario, day, block), _key(_seed(seed))
    )
    return _unit(w0, w1), _unit(w2, w3)


def normals(
    seed: int, scenario: int, paths: Any, day: int, block: int
) -> tuple[FloatArray, FloatArray]:
    """``(z_a, z_b)`` by Box–Muller from `uniforms`: ``r = sqrt(-2 ln u_a)``,
    ``z_a = r cos(2 pi u_b)``, ``z_b = r sin(2 pi u_b)``. Block 0: (SPX, VIX)
    diffusion normals; block 1: (SPX, VIX) event-jump normals."""
    return _box_muller(*uniforms(seed, scenario, paths, day, block))


# --------------------------------------------------------------------------- checks


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


def _smile_params(smile: Any) -> tuple[float, float, float, float]:
    """The checked ``inputs.smile`` as ``(skew, curvature, floor_ratio, moneyness_limit)``."""
    if not isinstance(smile, Smile):
        raise TypeError(f"smile must be a kernel_inputs.Smile, got {type(smile).__name__}")
    params = _smile((smile.skew, smile.curvature, smile.floor_ratio, smile.moneyness_limit))
    assert params is not None  # _smile returns None only for None
    return params


def _svi_fields(svi: Any) -> tuple[Any, Any, Any] | None:
    """``inputs.svi`` as the ``(shapes, floor_ratio, moneyness_limit)`` the grid's SVI
    check (`alvh._fallback.grid._svi`) takes, or None."""
    if svi is None:
        return None
    if not isinstance(svi, SviSmiles):
        raise TypeError(f"svi must be None or a kernel_inputs.SviSmiles, got {type(svi).__name__}")
    return svi.shapes, svi.floor_ratio, svi.moneyness_limit


def _check_used(
    arg: str, table: FloatArray, used_rows: NDArray[np.bool_], width: int,
    bad: NDArray[np.bool_], requirement: str,
) -> None:
    """The first bad entry of ``table`` among the rows (of ``width`` entries) in use."""
    _first_bad(arg, table, np.repeat(used_rows, width) & bad, requirement)


# --------------------------------------------------------------------------- kernel


class _Tables:
    """The revaluation tables (views per day and leg) and their interpolation in V."""

    def __init__(
        self, atm: FloatArray, change: FloatArray, vvol: FloatArray, fut_a: FloatArray,
        fut_b: FloatArray, n_legs: int, n_nodes: int, vix_lo: float, vix_step: float,
    ) -> None:
        self.atm = atm.reshape(-1, n_legs, n_nodes)
        self.change = change.reshape(-1, n_legs, n_nodes)
        self.vvol = vvol.reshape(-1, n_legs, n_nodes)
        self.fut_a = fut_a.reshape(-1, n_legs)
        self.fut_b = fut_b.reshape(-1, n_legs)
        self.n_nodes = n_nodes
        self.vix_lo = vix_lo
        self.vix_step = vix_step
        self.vix_hi = vix_lo + (n_nodes - 1) * vix_step

    def position(self, vix: FloatArray) -> tuple[NDArray[np.intp], FloatArray]:
        """Node index ``i`` (0 <= i <= n_nodes - 2) and weight ``w`` in [0, 1] of each V:
        the table value is ``t[i] + w * (t[i+1] - t[i])``."""
        if self.n_nodes == 1:
            return np.zeros(vix.shape, dtype=np.intp), np.zeros(vix.shape)
        x = (np.clip(vix, self.vix_lo, self.vix_hi) - self.vix_lo) / self.vix_step
        node = np.minimum(np.floor(x), self.n_nodes - 2).astype(np.intp)
        return node, x - node

    def interpolate(
        self, table: FloatArray, day: int, leg: int,
        where: tuple[NDArray[np.intp], FloatArray],
    ) -> FloatArray:
        node, weight = where
        row = table[day - 1, leg]
        if self.n_nodes == 1:
            return np.full(node.shape, row[0])
        low = row[node]
        return low + weight * (row[node + 1] - low)

    def future(self, day: int, leg: int, vix: FloatArray) -> FloatArray:
        return self.fut_a[day - 1, leg] + self.fut_b[day - 1, leg] * vix


def monte_carlo(inputs: ProjectionInputs, out: ProjectionBuffers) -> None:
    """Simulates the position over ``inputs.days`` daily steps for every scenario and
    path and fills the buffers of ``out`` (docs/projection_engine.md is the reference;
    `ProjectionInputs` and `ProjectionBuffers` list the fields, their lengths and
    index conventions). ``alvh._native.monte_carlo`` takes the same two objects.

    Greeks: SPX legs give delta and gamma ($ per SPX point, per point^2; under
    sticky moneyness the smile-adjusted total derivatives along the spot, as the
    grid's), option legs vega (per 1.00 vol) and theta (per year), VIX legs vix_delta
    (Black-76 delta w.r.t. the leg's own future, 1 for a future). A leg settled
    (day >= its expiry day) is cash: no Greeks.
    """
    kind = _array("kind", inputs.kind, np.uint8, None, "")
    n_legs = len(kind)
    legs_what = "one entry per leg"
    is_call = _array("is_call", inputs.is_call, np.bool_, n_legs, legs_what)
    strike = _array("strike", inputs.strike, np.float64, n_legs, legs_what)
    weight = _array("weight", inputs.weight, np.float64, n_legs, legs_what)
    expiry_day = _array("expiry_day", inputs.expiry_day, np.int64, n_legs, legs_what)
    spot = _float("spot", inputs.spot)
    rate = _float("rate", inputs.rate)
    div = _float("div", inputs.div)
    vix = _float("vix", inputs.vix)
    base_value = _float("base_value", inputs.base_value)
    drift = _array("drift", inputs.drift, np.float64, None, "")
    n_scen = len(drift)
    scen_what = "one entry per scenario"
    diffusion_vol = _array("diffusion_vol", inputs.diffusion_vol, np.float64, n_scen, scen_what)
    vix_beta = _array("vix_beta", inputs.vix_beta, np.float64, n_scen, scen_what)
    vol_of_vix = _array("vol_of_vix", inputs.vol_of_vix, np.float64, n_scen, scen_what)
    vix_kappa = _array("vix_kappa", inputs.vix_kappa, np.float64, n_scen, scen_what)
    vix_theta = _array("vix_theta", inputs.vix_theta, np.float64, n_scen, scen_what)
    atm_vix_ratio = _float("atm_vix_ratio", inputs.atm_vix_ratio)
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
    sd_what = "scenarios * days, index s * days + (d - 1)"
    n_sd = n_scen * n_days
    jump_mean = _array("jump_mean", inputs.jump_mean, np.float64, n_sd, sd_what)
    jump_std = _array("jump_std", inputs.jump_std, np.float64, n_sd, sd_what)
    vix_jump_mean = _array("vix_jump_mean", inputs.vix_jump_mean, np.float64, n_sd, sd_what)
    vix_jump_std = _array("vix_jump_std", inputs.vix_jump_std, np.float64, n_sd, sd_what)
    vix_lo = _float("vix_lo", inputs.vix_lo)
    vix_step = _float("vix_step", inputs.vix_step)
    n_nodes = _count("n_nodes", inputs.n_nodes)
    if n_nodes < 1:
        raise _invalid("n_nodes", None, n_nodes, "at least 1")
    table_what = "days * legs * n_nodes, index ((d - 1) * legs + l) * n_nodes + i"
    n_table = n_days * n_legs * n_nodes
    table_atm = _array("table_atm", inputs.table_atm, np.float64, n_table, table_what)
    table_change = _array("table_change", inputs.table_change, np.float64, n_table, table_what)
    table_vvol = _array("table_vvol", inputs.table_vvol, np.float64, n_table, table_what)
    fut_what = "days * legs, index (d - 1) * legs + l"
    fut_a = _array("fut_a", inputs.fut_a, np.float64, n_days * n_legs, fut_what)
    fut_b = _array("fut_b", inputs.fut_b, np.float64, n_days * n_legs, fut_what)
    dynamics = inputs.dynamics
    if isinstance(dynamics, (bool, np.bool_)) or not isinstance(dynamics, (int, np.integer)):
        raise TypeError(f"dynamics must be an int (0 or 1), got {type(dynamics).__name__}")
    dynamics = int(dynamics)
    if dynamics not in (STICKY_MONEYNESS, ADDITIVE):
        raise _invalid("dynamics", None, dynamics, "0 (sticky moneyness) or 1 (sticky strike)")
    params = _smile_params(inputs.smile)
    svi_params = _svi(_svi_fields(inputs.svi), kind) if dynamics == STICKY_MONEYNESS else None
    base_vol = _array("base_vol", inputs.base_vol, np.float64, n_legs, legs_what)
    barrier_low = _barrier("barrier_low", inputs.barrier_low)
    barrier_high = _barrier("barrier_high", inputs.barrier_high)
    n_out = n_scen * n_days * n_paths
    pnl_what = "scenarios * days * paths, index (s * days + d - 1) * paths + p"
    pnl_out = _out("pnl_out", out.pnl_out, n_out, pnl_what)
    n_touch, n_greek_sums = n_scen * n_days * TOUCH_KINDS, n_scen * n_days * GREEKS
    touch_what = f"scenarios * days * {TOUCH_KINDS} (low, high, either)"
    touch_sum_out = _out("touch_sum_out", out.touch_sum_out, n_touch, touch_what)
    touch_sumsq_out = _out("touch_sumsq_out", out.touch_sumsq_out, n_touch, touch_what)
    greek_what = f"scenarios * days * {GREEKS} (delta, gamma, vega, theta, vix_delta)"
    greek_sum_out = _out("greek_sum_out", out.greek_sum_out, n_greek_sums, greek_what)
    greek_sumsq_out = _out("greek_sumsq_out", out.greek_sumsq_out, n_greek_sums, greek_what)
    spot_path = None if out.spot_out is None else _out("spot_out", out.spot_out, n_out, pnl_what)
    vix_path = None if out.vix_out is None else _out("vix_out", out.vix_out, n_out, pnl_what)

    # -- validation: every value that is used
    _positive_scalar("spot", spot)
    _positive_scalar("vix", vix)
    for name, number in (("rate", rate), ("div", div), ("base_value", base_value)):
        _finite_scalar(name, number)
    if n_legs:
        bad_kind = kind > VIX_OPTION
        if bad_kind.any():
            i = int(np.flatnonzero(bad_kind)[0])
            raise _invalid(
                "kind", i, int(kind[i]), "0 (SPX option), 1 (VIX future) or 2 (VIX option)"
            )
    option = kind != VIX_FUTURE
    spx = kind == SPX_OPTION
    _first_bad("strike", strike, option & ~(np.isfinite(strike) & (strike > 0.0)),
               "positive and finite")
    _first_bad("weight", weight, ~np.isfinite(weight), "finite")
    if n_legs and (expiry_day < 1).any():
        i = int(np.flatnonzero(expiry_day < 1)[0])
        raise _invalid("expiry_day", i, int(expiry_day[i]),
                       "at least 1 (legs expiring on day 0 are settled before the projection)")
    _first_bad("drift", drift, ~np.isfinite(drift), "finite")
    _first_bad("diffusion_vol", diffusion_vol,
               np.isfinite(diffusion_vol) & (diffusion_vol < 0.0),
               "zero or positive, or NaN (from the VIX)")
    if (~np.isfinite(diffusion_vol)).any():
        _positive_scalar("atm_vix_ratio", atm_vix_ratio)
    _first_bad("vix_beta", vix_beta, ~np.isfinite(vix_beta), "finite")
    _first_bad("vol_of_vix", vol_of_vix, ~(np.isfinite(vol_of_vix) & (vol_of_vix >= 0.0)),
               "zero or positive and finite")
    _first_bad("vix_kappa", vix_kappa, ~np.isfinite(vix_kappa), "finite")
    _first_bad("vix_theta", vix_theta, ~(np.isfinite(vix_theta) & (vix_theta > 0.0)),
               "positive and finite (VIX points)")
    for name, array in (("jump_mean", jump_mean), ("vix_jump_mean", vix_jump_mean)):
        _first_bad(name, array, ~np.isfinite(array), "finite")
    for name, array in (("jump_std", jump_std), ("vix_jump_std", vix_jump_std)):
        _first_bad(name, array, ~(np.isfinite(array) & (array >= 0.0)),
                   "zero or positive and finite")
    _positive_scalar("vix_lo", vix_lo)
    if n_nodes > 1:
        _positive_scalar("vix_step", vix_step)
        _positive_scalar("vix_lo + (n_nodes - 1) * vix_step", vix_lo + (n_nodes - 1) * vix_step)
    first_valued = _count("first_valued_day", inputs.first_valued_day)
    if not 1 <= first_valued <= n_days:
        raise _invalid("first_valued_day", None, first_valued, "between 1 and days")
    day_index = np.arange(1, n_days + 1)[:, None]  # (H, 1)
    # Rows read: live legs on valued days; futures also on a VIX leg's expiry day.
    live = (day_index < expiry_day[None, :]) & (day_index >= first_valued)  # (H, L)
    spx_live = (live & spx[None, :]).ravel()
    _check_used("table_atm", table_atm, spx_live, n_nodes,
                ~(np.isfinite(table_atm) & (table_atm > 0.0)), "positive and finite (1.0 = 100%)")
    if dynamics == ADDITIVE:
        _check_used("table_change", table_change, spx_live, n_nodes,
                    ~np.isfinite(table_change), "finite")
        _first_bad("base_vol", base_vol, spx & ~np.isfinite(base_vol), "finite")
    vix_option_live = (live & (kind == VIX_OPTION)[None, :]).ravel()
    _check_used("table_vvol", table_vvol, vix_option_live, n_nodes,
                ~(np.isfinite(table_vvol) & (table_vvol > 0.0)), "positive and finite (1.0 = 100%)")
    vix_used = ((live | (day_index == expiry_day[None, :])) & ~spx[None, :]).ravel()
    for name, array in (("fut_a", fut_a), ("fut_b", fut_b)):
        _first_bad(name, array, vix_used & ~np.isfinite(array), "finite")

    # -- computation
    for array in (touch_sum_out, touch_sumsq_out, greek_sum_out, greek_sumsq_out):
        array[...] = 0.0
    if n_out == 0:
        return
    tables = _Tables(table_atm, table_change, table_vvol, fut_a, fut_b, n_legs, n_nodes,
                     vix_lo, vix_step)
    legs = _Legs(kind, is_call, strike, weight, expiry_day, base_vol)
    market = (spot, rate, div, vix, base_value, atm_vix_ratio)
    outs = (pnl_out, touch_sum_out, touch_sumsq_out, greek_sum_out, greek_sumsq_out,
            spot_path, vix_path)
    stream_offset = _count("scenario_offset", inputs.scenario_offset)
    if stream_offset + n_scen > 1 << 32:
        raise _invalid("scenario_offset", None, stream_offset, "below 2**32 - scenarios")
    with np.errstate(all="ignore"):
        for s in range(n_scen):
            scenario = _Scenario(
                s, stream_offset + s, n_days, float(drift[s]), float(diffusion_vol[s]), float(vix_beta[s]),
                float(vol_of_vix[s]), float(vix_kappa[s]), float(vix_theta[s]),
                jump_mean, jump_std, vix_jump_mean, vix_jump_std,
            )
            for start in range(0, n_paths, PATH_BLOCK):
                stop = min(start + PATH_BLOCK, n_paths)
                _simulate_block(
                    scenario, start, stop, n_paths, n_greek, n_days, seed, market, legs,
                    tables, dynamics, params, svi_params, barrier_low, barrier_high, outs,
                    first_valued,
                )


class _Legs:
    def __init__(
        self, kind: NDArray[np.uint8], is_call: NDArray[np.bool_], strike: FloatArray,
        weight: FloatArray, expiry_day: NDArray[np.int64], base_vol: FloatArray,
    ) -> None:
        self.n = len(kind)
        self.kind = [int(k) for k in kind]
        self.is_call = [bool(c) for c in is_call]
        self.strike = [float(k) for k in strike]
        self.weight = [float(w) for w in weight]
        self.expiry_day = [int(e) for e in expiry_day]
        self.base_vol = [float(v) for v in base_vol]


class _Scenario:
    def __init__(
        self, s: int, stream: int, n_days: int, drift: float, diffusion_vol: float, vix_beta: float,
        vol_of_vix: float, vix_kappa: float, vix_theta: float, jump_mean: FloatArray,
        jump_std: FloatArray, vix_jump_mean: FloatArray, vix_jump_std: FloatArray,
    ) -> None:
        self.s = s
        self.stream = stream  # the scenario number in the random streams' counters
        self.drift = drift
        self.diffusion_vol = diffusion_vol
        self.vix_beta = vix_beta
        self.vol_of_vix = vol_of_vix
        self.vix_kappa = vix_kappa
        self.ln_vix_theta = math.log(vix_theta)
        rows = slice(s * n_days, (s + 1) * n_days)
        self.jump_mean = [float(x) for x in jump_mean[rows]]
        self.jump_std = [float(x) for x in jump_std[rows]]
        self.vix_jump_mean = [float(x) for x in vix_jump_mean[rows]]
        self.vix_jump_std = [float(x) for x in vix_jump_std[rows]]


def _bridge(
    before: FloatArray, after: FloatArray, barrier: float, below: bool, variance: Any
) -> FloatArray:
    """Probability that the path touched ``barrier`` between two closes (Brownian
    bridge with ``variance = sigma^2 dt``): 1 when a close is at or beyond it."""
    if math.isnan(barrier):
        return np.zeros(before.shape)
    p = np.exp(-2.0 * np.log(before / barrier) * np.log(after / barrier) / variance)
    if below:
        beyond = (before <= barrier) | (after <= barrier)
    else:
        beyond = (before >= barrier) | (after >= barrier)
    return np.where(beyond, 1.0, p)


def _simulate_block(
    sc: _Scenario, start: int, stop: int, n_paths: int, n_greek: int, n_days: int, seed: int,
    market: tuple[float, float, float, float, float, float], legs: _Legs, tables: _Tables,
    dynamics: int, params: tuple[float, float, float, float],
    svi_params: tuple[FloatArray, float, float] | None,
    barrier_low: float, barrier_high: float,
    outs: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray,
                FloatArray | None, FloatArray | None],
    first_valued: int,
) -> None:
    """Paths ``start..stop`` of one scenario over every day (live legs valued from day
    ``first_valued`` on; before it only settlements are booked)."""
    spot, rate, div, vix, base_value, atm_vix_ratio = market
    pnl_out, touch_sum, touch_sumsq, greek_sum, greek_sumsq, spot_out, vix_out = outs
    n = stop - start
    n_g = max(0, min(n_greek, stop) - start)  # the block's first n_g paths carry Greeks
    path_ids = np.arange(start, stop, dtype=np.uint32)
    key = _key(seed)
    sqrt_dt = math.sqrt(DT)
    s_now = np.full(n, spot)
    ln_v = np.full(n, math.log(vix))
    v_now = np.full(n, vix)
    no_low = np.ones(n)
    no_high = np.ones(n)
    no_any = np.ones(n)
    settled: list[FloatArray | None] = [None] * legs.n  # price-level values, per path
    from_vix = not math.isfinite(sc.diffusion_vol)
    for d in range(1, n_days + 1):
        row = sc.s * n_days + (d - 1)
        w0, w1, w2, w3 = philox4x32_10((path_ids, sc.stream, d, 0), key)
        z1, z2 = _box_muller(_unit(w0, w1), _unit(w2, w3))
        sigma: Any = atm_vix_ratio * v_now / 100.0 if from_vix else sc.diffusion_vol
        e = sigma * sqrt_dt * z1
        r = (sc.drift - sigma * sigma / 2.0) * DT + e + sc.jump_mean[d - 1]
        ln_v_next = (
            ln_v + sc.vix_kappa * (sc.ln_vix_theta - ln_v) * DT + sc.vix_beta * e
            + sc.vol_of_vix * sqrt_dt * z2 + sc.vix_jump_mean[d - 1]
        )
        if sc.jump_std[d - 1] != 0.0 or sc.vix_jump_std[d - 1] != 0.0:
            w0, w1, w2, w3 = philox4x32_10((path_ids, sc.stream, d, 1), key)
            j1, j2 = _box_muller(_unit(w0, w1), _unit(w2, w3))
            r = r + sc.jump_std[d - 1] * j1
            ln_v_next = ln_v_next + sc.vix_jump_std[d - 1] * j2
        s_next = s_now * np.exp(r)
        variance = sigma * sigma * DT
        p_low = _bridge(s_now, s_next, barrier_low, True, variance)
        p_high = _bridge(s_now, s_next, barrier_high, False, variance)
        no_low *= 1.0 - p_low
        no_high *= 1.0 - p_high
        no_any *= (1.0 - p_low) * (1.0 - p_high)
        # The VIX kept in [1, 150] points, as native (LN_VIX_MIN / LN_VIX_MAX): the
        # spot-vol coupling can run away to infinity on a far-tail daily path.
        s_now, ln_v = s_next, np.minimum(np.maximum(ln_v_next, 0.0), _LN_VIX_MAX)
        v_now = np.exp(ln_v)
        for k, survive in enumerate((no_low, no_high, no_any)):
            touched = 1.0 - survive
            touch_sum[row * TOUCH_KINDS + k] += touched.sum()
            touch_sumsq[row * TOUCH_KINDS + k] += (touched * touched).sum()

        value = np.zeros(n)
        greeks = np.zeros((GREEKS, n_g))
        where = tables.position(v_now)
        for leg in range(legs.n):
            if d < first_valued and d < legs.expiry_day[leg]:
                continue  # live and not valued today
            _value_leg(leg, d, legs, tables, where, s_now, v_now, rate, div, dynamics, params,
                       svi_params, settled, value, greeks, n_g, sc.s)
        pnl_out[row * n_paths + start:row * n_paths + stop] = value - base_value
        if n_g:
            greek_sum[row * GREEKS:(row + 1) * GREEKS] += greeks.sum(axis=1)
            greek_sumsq[row * GREEKS:(row + 1) * GREEKS] += (greeks * greeks).sum(axis=1)
        if spot_out is not None:
            spot_out[row * n_paths + start:row * n_paths + stop] = s_now
        if vix_out is not None:
            vix_out[row * n_paths + start:row * n_paths + stop] = v_now


def _box_muller(u_a: FloatArray, u_b: FloatArray) -> tuple[FloatArray, FloatArray]:
    radius = np.sqrt(-2.0 * np.log(u_a))
    angle = (2.0 * math.pi) * u_b
    return radius * np.cos(angle), radius * np.sin(angle)


def _value_leg(
    leg: int, d: int, legs: _Legs, tables: _Tables, where: tuple[NDArray[np.intp], FloatArray],
    s_now: FloatArray, v_now: FloatArray, rate: float, div: float, dynamics: int,
    params: tuple[float, float, float, float],
    svi_params: tuple[FloatArray, float, float] | None, settled: list[FloatArray | None],
    value: FloatArray, greeks: FloatArray, n_g: int, scenario: int,
) -> None:
    """Adds leg ``leg``'s value on day ``d`` to ``value`` and its Greeks (first ``n_g``
    paths) to ``greeks`` (delta, gamma, vega, theta, vix_delta)."""
    kind, is_call, strike = legs.kind[leg], legs.is_call[leg], legs.strike[leg]
    weight, expiry = legs.weight[leg], legs.expiry_day[leg]
    if d > expiry:  # settled on an earlier day: a constant
        held = settled[leg]
        assert held is not None
        value += weight * held
        return
    if kind != SPX_OPTION:
        future = tables.future(d, leg, v_now)
    if d == expiry:  # settles today, at intrinsic / on the future with tenor 0
        if kind == SPX_OPTION:
            price = _intrinsic(is_call, s_now, strike)
        elif kind == VIX_FUTURE:
            price = future
        else:
            price = _intrinsic(is_call, future, strike)
        settled[leg] = price
        value += weight * price
        return
    tau = (expiry - d) / 365.0
    if kind == VIX_FUTURE:
        value += weight * future
        greeks[4] += weight
        return
    if kind == VIX_OPTION:
        if not (future > 0.0).all():
            i = int(np.flatnonzero(~(future > 0.0))[0])
            err = InvalidInputError(
                f"fut_a/fut_b must give a positive VIX future for a VIX option; got "
                f"{float(future[i])!r} for leg {leg} on day {d} (scenario {scenario}, "
                f"VIX {float(v_now[i])!r})"
            )
            err.arg, err.index, err.value = "fut_a", (d - 1) * legs.n + leg, float(future[i])
            raise err
        vol = tables.interpolate(tables.vvol, d, leg, where)
        price, out = _priced("black76", is_call, future, strike, tau, rate, rate, vol, n_g)
        value += weight * price
        if out is not None:
            greeks[2] += weight * out[3]
            greeks[3] += weight * out[4]
            greeks[4] += weight * out[1]
        return
    atm = tables.interpolate(tables.atm, d, leg, where)
    tau_arr = np.full(s_now.shape, tau)
    if dynamics == STICKY_MONEYNESS and svi_params is not None:
        shapes, floor_ratio, limit = svi_params
        vol, vol_s, vol_ss = _svi_vol(
            (shapes[leg], floor_ratio, limit), strike, s_now, tau_arr, rate, div, atm
        )
    elif dynamics == STICKY_MONEYNESS:
        vol, vol_s, vol_ss = _smile_vol(params, strike, s_now, tau_arr, rate, div, atm)
    else:
        change = tables.interpolate(tables.change, d, leg, where)
        vol = np.maximum(legs.base_vol[leg] + change, params[2] * atm)
    price, out = _priced("bsm", is_call, s_now, strike, tau, rate, div, vol, n_g)
    value += weight * price
    if out is not None:
        delta, gamma, vega, theta = out[1], out[2], out[3], out[4]
        if dynamics == STICKY_MONEYNESS:  # total derivatives along the spot, the vol moving with the smile
            vanna, volga = out[6], out[7]
            sig_s, sig_ss = vol_s[:n_g], vol_ss[:n_g]
            delta = delta + vega * sig_s
            gamma = gamma + 2.0 * vanna * sig_s + (volga * sig_s * sig_s + vega * sig_ss)
        greeks[0] += weight * delta
        greeks[1] += weight * gamma
        greeks[2] += weight * vega
        greeks[3] += weight * theta


def _priced(
    model: str, is_call: bool, under: FloatArray, strike: float, tau: float, rate: float,
    div: float, vol: FloatArray, n_g: int,
) -> tuple[FloatArray, list[FloatArray] | None]:
    """Prices of every path; the nine outputs of `kernels.greeks` for the first ``n_g``."""

    n = under.size
    prices = np.empty(n)
    out: list[FloatArray] | None = None
    if n_g:
        out = [np.empty(n_g) for _ in range(9)]
        pricing.greeks(model, is_call, np.ascontiguousarray(under[:n_g]), strike, tau, rate, div,
                       np.ascontiguousarray(vol[:n_g]), out, False)
        prices[:n_g] = out[0]
    if n_g < n:
        pricing.price(model, is_call, np.ascontiguousarray(under[n_g:]), strike, tau, rate, div,
                      np.ascontiguousarray(vol[n_g:]), prices[n_g:], False)
    return prices, out


# --------------------------------------------------------------------------- statistics


def pnl_statistics(
    pnl: Any, probability: Any, days: Any, paths: Any, per_scenario: Any, mixture: Any
) -> None:
    """The kernel form of `statistics` (``alvh._native.pnl_statistics``'s contract):
    fills ``per_scenario`` (length S*H*STATS, index ``(s*H + d)*STATS + k``) and
    ``mixture`` (length H*STATS, index ``d*STATS + k``), ``k`` over `STAT_KEYS`."""
    probs = np.asarray(probability, dtype=np.float64).reshape(-1)
    table = statistics(pnl, probs, probs.size, days, paths)
    n_days = int(days)
    per = _out("per_scenario", per_scenario, probs.size * n_days * STATS, f"S * days * {STATS}")
    mix = _out("mixture", mixture, n_days * STATS, f"days * {STATS}")
    per.reshape(probs.size, n_days, STATS)[...] = np.stack(
        [table[key] for key in STAT_KEYS], axis=-1
    )
    mix.reshape(n_days, STATS)[...] = np.stack(
        [table[f"mixture_{key}"] for key in STAT_KEYS], axis=-1
    )


def _rank(p: float, n: int) -> int:
    """The 0-based index of the inverted-CDF quantile at probability ``p`` of ``n``
    sorted samples: ``ceil(p n)`` clamped to 1..n, minus one."""
    return int(min(max(math.ceil(p * n), 1), n)) - 1


def statistics(
    pnl: Any, probability: Any, n_scenarios: Any, days: Any, paths: Any
) -> dict[str, FloatArray]:
    """Statistics of the P&L cube ``pnl`` (length S*H*P, index ``(s*H + d-1)*P + p``)
    per (scenario, day), shape (S, H), and of the probability-weighted mixture per
    day, shape (H,), keys prefixed ``mixture_``.

    Keys: mean, std, q01, q05, q25, q50, q75, q95, q99, var95, var99, cvar95,
    cvar99, p_profit (and ``mixture_<key>``). Per (s, d), with ``x_(1) <= ... <=
    x_(P)`` the sorted sample:

    - ``mean = sum x / P``; ``std = sqrt(sum (x - mean)^2 / P)`` (population);
    - ``q_k = x_(ceil(k P / 100))`` for k in (1, 5, 25, 50, 75, 95, 99) (inverted
      CDF, numpy ``method="inverted_cdf"``; the rank in exact integer arithmetic);
    - ``var95 = -q05``, ``var99 = -q01``;
    - ``cvar_a = -(x_(1) + ... + x_(n) + f x_(n+1)) / (m P)`` with tail mass ``m = 1
      - a`` (0.05, 0.01), ``n = floor(m P)``, ``f = m P - n`` (exact: ``m P = k P /
      100`` in integers, ``k`` = 5 or 1): the mean of the worst ``m`` of the mass,
      the boundary sample counted fractionally;
    - ``p_profit = #{x > 0} / P``.

    Mixture on day d, sample (s, p) weighing ``w = probability[s] / P`` (scenarios of
    probability 0 left out): ``mean = sum_s probability[s] mean[s, d]``, ``std =
    sqrt(sum_s probability[s] (std[s, d]^2 + (mean[s, d] - mean)^2))``, ``p_profit =
    sum_s probability[s] p_profit[s, d]``. The samples are sorted by value (stable,
    ties in (s, p) order) and ``c_i`` is the running float64 sum of their weights in
    that order: ``q = x_i`` at the first ``i`` with ``c_i >= q`` (the last sample if
    rounding leaves ``c`` short of ``q``); ``var95 = -q05``, ``var99 = -q01``;
    ``cvar_a = -(sum_{j < i} w_j x_j + (m - c_{i-1}) x_i) / m`` at the first ``i``
    with ``c_i >= m`` (``m`` = 0.05, 0.01 as literals, never ``1 - a``).

    ``probability`` (length S) must be non-negative and sum to 1 within 1e-9.
    """
    n_scen = _count("n_scenarios", n_scenarios)
    n_days = _count("days", days)
    n_paths = _count("paths", paths)
    pnl = _array("pnl", pnl, np.float64, n_scen * n_days * n_paths,
                 "n_scenarios * days * paths, index (s * days + d - 1) * paths + p")
    probability = _array("probability", probability, np.float64, n_scen,
                         "one entry per scenario")
    if n_paths == 0:
        raise _invalid("paths", None, n_paths, "at least 1")
    _first_bad("pnl", pnl, ~np.isfinite(pnl), "finite")
    _first_bad("probability", probability, ~(np.isfinite(probability) & (probability >= 0.0)),
               "zero or positive and finite")
    total = float(probability.sum())
    if n_scen and abs(total - 1.0) > 1e-9:
        raise _invalid("probability", None, total, "a distribution (its sum is 1 within 1e-9)")

    cube = pnl.reshape(n_scen, n_days, n_paths)
    stats: dict[str, FloatArray] = {key: np.empty((n_scen, n_days)) for key in STAT_KEYS}
    ranks = [-(-pct * n_paths // 100) - 1 for pct in QUANTILE_PERCENTS]
    for s in range(n_scen):
        ordered = np.sort(cube[s], axis=1)  # (H, P)
        stats["mean"][s] = ordered.mean(axis=1)
        stats["std"][s] = ordered.std(axis=1)
        for pct, rank in zip(QUANTILE_PERCENTS, ranks):
            stats[f"q{pct:02d}"][s] = ordered[:, rank]
        for level, tail_pct in ((95, 5), (99, 1)):
            whole, rest = divmod(tail_pct * n_paths, 100)
            tail = ordered[:, :whole].sum(axis=1)
            if rest:
                tail = tail + (rest / 100.0) * ordered[:, whole]
            stats[f"cvar{level}"][s] = -tail / (tail_pct * n_paths / 100.0)
        stats["p_profit"][s] = (ordered > 0.0).sum(axis=1) / n_paths
        # Standard errors (as native): a quantile's is half the distance between the
        # order statistics at q -+ sqrt(q (1 - q) / P); CVaR's is sqrt(Var(U) / P) / m
        # with U = max(VaR point - x, 0).
        for pct in QUANTILE_PERCENTS:
            q = pct / 100.0
            z = math.sqrt(q * (1.0 - q) / n_paths)
            hi = _rank(q + z, n_paths)
            lo = _rank(q - z, n_paths)
            stats[f"q{pct:02d}_se"][s] = 0.5 * (ordered[:, hi] - ordered[:, lo])
        for level, tail_pct in ((95, 5), (99, 1)):
            v = stats[f"q{tail_pct:02d}"][s][:, None]
            u = np.maximum(v - ordered, 0.0)
            mean_u = u.sum(axis=1) / n_paths
            var_u = np.maximum((u * u).sum(axis=1) / n_paths - mean_u**2, 0.0)
            stats[f"cvar{level}_se"][s] = np.sqrt(var_u / n_paths) / (tail_pct / 100.0)
    stats["var95"] = -stats["q05"]
    stats["var99"] = -stats["q01"]

    mixture: dict[str, FloatArray] = {
        f"mixture_{key}": np.full(n_days, np.nan) for key in STAT_KEYS
    }
    present = np.flatnonzero(probability > 0.0)
    if present.size:
        prob = probability[present][:, None]  # (S', 1)
        mean = (prob * stats["mean"][present]).sum(axis=0)
        mixture["mixture_mean"] = mean
        spread = stats["std"][present] ** 2 + (stats["mean"][present] - mean) ** 2
        mixture["mixture_std"] = np.sqrt((prob * spread).sum(axis=0))
        mixture["mixture_p_profit"] = (prob * stats["p_profit"][present]).sum(axis=0)
        weights = np.repeat(probability[present] / n_paths, n_paths)
        for d in range(n_days):
            sample = cube[present, d, :].ravel()
            order = np.argsort(sample, kind="stable")
            x = sample[order]
            w = weights[order]
            cum = np.cumsum(w)
            for pct in QUANTILE_PERCENTS:
                i = min(int(np.searchsorted(cum, pct / 100.0, side="left")), x.size - 1)
                mixture[f"mixture_q{pct:02d}"][d] = x[i]
            for level, mass in ((95, 0.05), (99, 0.01)):
                i = min(int(np.searchsorted(cum, mass, side="left")), x.size - 1)
                before = float(cum[i - 1]) if i else 0.0
                tail = float(np.dot(w[:i], x[:i])) + (mass - before) * float(x[i])
                mixture[f"mixture_cvar{level}"][d] = -tail / mass
            # Standard errors, stratified by scenario (as native).
            columns = cube[present, d, :]
            weights_s = probability[present]
            for pct in QUANTILE_PERCENTS:
                at = mixture[f"mixture_q{pct:02d}"][d]
                f = (columns <= at).sum(axis=1) / n_paths
                z = math.sqrt(float((weights_s**2 * f * (1.0 - f)).sum()) / n_paths)
                q = pct / 100.0
                lo = min(int(np.searchsorted(cum, max(q - z, 5e-324), side="left")), x.size - 1)
                hi = min(int(np.searchsorted(cum, min(q + z, 1.0), side="left")), x.size - 1)
                mixture[f"mixture_q{pct:02d}_se"][d] = 0.5 * (x[hi] - x[lo])
            for level, tail_pct in ((95, 5), (99, 1)):
                v = mixture[f"mixture_q{tail_pct:02d}"][d]
                u = np.maximum(v - columns, 0.0)
                mean_u = u.sum(axis=1) / n_paths
                var_u = np.maximum((u * u).sum(axis=1) / n_paths - mean_u**2, 0.0)
                variance = float((weights_s**2 * var_u).sum()) / n_paths
                mixture[f"mixture_cvar{level}_se"][d] = math.sqrt(variance) / (tail_pct / 100.0)
        mixture["mixture_var95"] = -mixture["mixture_q05"]
        mixture["mixture_var99"] = -mixture["mixture_q01"]
    stats.update(mixture)
    return stats
