"""Path generation (the twin of ``rust/core/src/projection/paths.rs``): the random
streams, the daily step of the SPX and the VIX on a block of paths, and the
Brownian-bridge touches of the barriers.

- `philox4x32_10`: the Random123 Philox4x32-10 block function, vectorized;
- `uniforms` / `normals`: the words of one block turned into two open uniforms and
  two standard normals (Box–Muller), counter ``[path, scenario, day, block]``;
- `Scenario`: one scenario's dynamics, as floats;
- `Paths`: a block of paths of one scenario, stepped a day at a time: diffusion
  normals (block 0), event jumps (block 1, drawn only on days with a jump
  dispersion), the VIX kept in [1, 150] points, and the probability that each path
  has not yet touched the lower, the upper, or either barrier.

A path's numbers depend only on (seed, scenario, path, day), never on the blocking.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alvh._core.types import FloatArray
from alvh._fallback.projection.checks import Jumps, Market, ScenarioArrays, _seed

U32Array = NDArray[np.uint32]

#: One calendar day in years (ACT/365).
DT = 1.0 / 365.0
_SQRT_DT = math.sqrt(DT)
_LN_VIX_MAX = 5.010635294096256  # ln 150, as native

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


def _unit(hi: U32Array, lo: U32Array) -> FloatArray:
    """``((((hi << 32) | lo) >> 11) + 0.5) * 2**-53`` (the contract's uniform)."""
    bits = (hi.astype(np.uint64) << _SHIFT32) | lo.astype(np.uint64)
    return ((bits >> _SHIFT11).astype(np.float64) + 0.5) * _TWO_POW_M53


def uniforms(seed: int, scenario: int, paths: Any, day: int, block: int) -> tuple[FloatArray, FloatArray]:
    """``(u_a, u_b)`` of block ``block`` at counter ``[path, scenario, day, block]``
    for every path of ``paths`` (uint32 array), key ``[seed & 0xffffffff, seed >> 32]``."""
    w0, w1, w2, w3 = philox4x32_10(
        (np.asarray(paths, dtype=np.uint32), scenario, day, block), _key(_seed(seed))
    )
    return _unit(w0, w1), _unit(w2, w3)


def normals(seed: int, scenario: int, paths: Any, day: int, block: int) -> tuple[FloatArray, FloatArray]:
    """``(z_a, z_b)`` by Box–Muller from `uniforms`: ``r = sqrt(-2 ln u_a)``,
    ``z_a = r cos(2 pi u_b)``, ``z_b = r sin(2 pi u_b)``. Block 0: (SPX, VIX)
    diffusion normals; block 1: (SPX, VIX) event-jump normals."""
    return _box_muller(*uniforms(seed, scenario, paths, day, block))


def _box_muller(u_a: FloatArray, u_b: FloatArray) -> tuple[FloatArray, FloatArray]:
    radius = np.sqrt(-2.0 * np.log(u_a))
    angle = (2.0 * math.pi) * u_b
    return radius * np.cos(angle), radius * np.sin(angle)


# --------------------------------------------------------------------------- the daily step


class Scenario:
    """Scenario ``s``'s dynamics as floats, and its event jumps per day."""

    def __init__(self, scenarios: ScenarioArrays, jumps: Jumps, s: int, stream: int, n_days: int) -> None:
        self.s = s
        self.stream = stream  # the scenario number in the random streams' counters
        self.drift = float(scenarios.drift[s])
        self.diffusion_vol = float(scenarios.diffusion_vol[s])
        self.from_vix = not math.isfinite(self.diffusion_vol)  # NaN: atm_vix_ratio * V / 100
        self.atm_vix_ratio = scenarios.atm_vix_ratio
        self.vix_beta = float(scenarios.vix_beta[s])
        self.vol_of_vix = float(scenarios.vol_of_vix[s])
        self.vix_kappa = float(scenarios.vix_kappa[s])
        self.ln_vix_theta = math.log(float(scenarios.vix_theta[s]))
        rows = slice(s * n_days, (s + 1) * n_days)
        self.jump_mean = [float(x) for x in jumps.jump_mean[rows]]
        self.jump_std = [float(x) for x in jumps.jump_std[rows]]
        self.vix_jump_mean = [float(x) for x in jumps.vix_jump_mean[rows]]
        self.vix_jump_std = [float(x) for x in jumps.vix_jump_std[rows]]


class Paths:
    """Paths ``start..stop`` of one scenario: the closes of the day (``spot``, ``vix``)
    and the probability that each path has not touched a barrier so far."""

    def __init__(
        self,
        scenario: Scenario,
        start: int,
        stop: int,
        market: Market,
        seed: int,
        barriers: tuple[float, float],
    ) -> None:
        n = stop - start
        self.scenario = scenario
        self.ids = np.arange(start, stop, dtype=np.uint32)
        self.key = _key(seed)
        self.barrier_low, self.barrier_high = barriers
        self.spot = np.full(n, market.spot)
        self.ln_vix = np.full(n, math.log(market.vix))
        self.vix = np.full(n, market.vix)
        self.no_low = np.ones(n)
        self.no_high = np.ones(n)
        self.no_any = np.ones(n)

    def step(self, day: int) -> None:
        """Moves every path to the close of ``day``, updating the touches on the way."""
        sigma, log_return, ln_vix_next = self._moves(day)
        spot_next = self.spot * np.exp(log_return)
        self._touch(spot_next, sigma * sigma * DT)
        # The VIX kept in [1, 150] points, as native (LN_VIX_MIN / LN_VIX_MAX): the
        # spot-vol coupling can run away to infinity on a far-tail daily path.
        self.spot = spot_next
        self.ln_vix = np.minimum(np.maximum(ln_vix_next, 0.0), _LN_VIX_MAX)
        self.vix = np.exp(self.ln_vix)

    def touched(self) -> Iterator[FloatArray]:
        """Per path, the probability of a touch so far: lower, upper, either barrier."""
        for survive in (self.no_low, self.no_high, self.no_any):
            yield 1.0 - survive

    def _normals(self, day: int, block: int) -> tuple[FloatArray, FloatArray]:
        w0, w1, w2, w3 = philox4x32_10((self.ids, self.scenario.stream, day, block), self.key)
        return _box_muller(_unit(w0, w1), _unit(w2, w3))

    def _moves(self, day: int) -> tuple[Any, FloatArray, FloatArray]:
        """``(sigma, log return of the SPX, ln VIX at the close)`` of ``day``, jumps in."""
        sc = self.scenario
        z1, z2 = self._normals(day, 0)
        sigma: Any = sc.atm_vix_ratio * self.vix / 100.0 if sc.from_vix else sc.diffusion_vol
        # The diffusion return, drift included: ln VIX follows it through vix_beta
        # (docs/scenarios.md), so a falling-market scenario lifts the expected VIX path.
        r_diff = (sc.drift - sigma * sigma / 2.0) * DT + sigma * _SQRT_DT * z1
        r = r_diff + sc.jump_mean[day - 1]
        ln_v = self.ln_vix
        ln_v_next = (
            ln_v
            + sc.vix_kappa * (sc.ln_vix_theta - ln_v) * DT
            + sc.vix_beta * r_diff
            + sc.vol_of_vix * _SQRT_DT * z2
            + sc.vix_jump_mean[day - 1]
        )
        if sc.jump_std[day - 1] != 0.0 or sc.vix_jump_std[day - 1] != 0.0:
            j1, j2 = self._normals(day, 1)
            r = r + sc.jump_std[day - 1] * j1
            ln_v_next = ln_v_next + sc.vix_jump_std[day - 1] * j2
        return sigma, r, ln_v_next

    def _touch(self, spot_next: FloatArray, variance: Any) -> None:
        p_low = _bridge(self.spot, spot_next, self.barrier_low, True, variance)
        p_high = _bridge(self.spot, spot_next, self.barrier_high, False, variance)
        self.no_low *= 1.0 - p_low
        self.no_high *= 1.0 - p_high
        self.no_any *= (1.0 - p_low) * (1.0 - p_high)


def _bridge(before: FloatArray, after: FloatArray, barrier: float, below: bool, variance: Any) -> FloatArray:
    """Probability that the path touched ``barrier`` between two closes (Brownian
    bridge with ``variance = sigma^2 dt``): 1 when a close is at or beyond it."""
    if math.isnan(barrier):
        return np.zeros(before.shape)
    p = np.exp(-2.0 * np.log(before / barrier) * np.log(after / barrier) / variance)
    if below:
        return np.where((before <= barrier) | (after <= barrier), 1.0, p)
    return np.where((before >= barrier) | (after >= barrier), 1.0, p)
