"""The kernels' structured argument types: what the Python layer hands a backend's
kernel when the kernel takes more than a handful of inputs (STYLE.md, "Configuration
crosses the boundary as one object").

Both backends take the very same objects: the Rust binding reads them attribute by
attribute (``rust/py/src/projection.rs``), the numpy fallback reads the same fields
(`alvh._fallback.projection`). They are frozen dataclasses built once per kernel call;
the arrays they hold are the caller's, already normalized (1-D, C-contiguous, the
dtype noted below), never copied. Nothing here checks a value: the kernels do, and
name the field in their errors.

``monte_carlo(inputs: ProjectionInputs, out: ProjectionBuffers)`` is the projection
kernel (docs/projection_engine.md is its contract). Index conventions, with ``L``
legs, ``S`` scenarios, ``H`` days, ``P`` paths and ``N`` table nodes: per leg ``l``;
per scenario ``s``; per (scenario, day) ``s * H + (d - 1)``; tables ``((d - 1) * L +
l) * N + i``; futures coefficients ``(d - 1) * L + l``; path cubes ``(s * H + d - 1) *
P + p``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alvh._core.types import BoolArray, FloatArray, IntArray

__all__ = ["ProjectionBuffers", "ProjectionInputs", "Smile", "SviSmiles"]


@dataclass(frozen=True, eq=False)
class Smile:
    """The SSVI SPX smile (`alvh.market.ssvi.SsviSurface`: ``rho``, ``eta``, ``gamma`` of
    the power-law ``phi``), sticky in log-moneyness around the tabulated ATM vol, and
    ``floor_ratio``: under additive dynamics (sticky strike, parallel) no vol below
    ``floor_ratio * atm`` (the only field read then)."""

    rho: float
    eta: float
    gamma: float
    floor_ratio: float


@dataclass(frozen=True, eq=False)
class SviSmiles:
    """Each SPX leg's raw SVI slice, sticky in standardized moneyness (`alvh.market.svi`):
    ``shapes`` holds ``(a, b, rho, m, sigma, w0)`` per leg, flat (length 6 L; the shapes
    of VIX legs are not read), with the floor and the clip of the smile."""

    shapes: FloatArray
    floor_ratio: float
    moneyness_limit: float


@dataclass(frozen=True, eq=False)
class ProjectionInputs:
    """Everything the projection kernel reads (docs/projection_engine.md).

    Legs (length L): ``kind`` uint8 (0 SPX option, 1 VIX future, 2 VIX option),
    ``is_call``, ``strike``, ``weight`` (signed quantity times multiplier),
    ``expiry_day`` int64 (calendar days from day 0, >= 1), ``base_vol`` (additive
    dynamics: the SPX leg's vol today).

    Market on day 0: ``spot``, ``rate``, ``div``, ``vix``; ``base_value`` is subtracted
    from every path's value (the P&L's origin).

    Scenarios (length S): ``drift``, ``diffusion_vol`` (NaN: ``atm_vix_ratio * V /
    100``), ``vix_beta``, ``vol_of_vix``, ``vix_kappa``, ``vix_theta``; per (scenario,
    day), length S H: ``jump_mean``, ``jump_std``, ``vix_jump_mean``, ``vix_jump_std``.

    Simulation: ``days`` (H), ``paths`` (P), ``seed`` (the Philox key), ``greek_paths``
    (the first paths carrying Greeks, <= P), ``scenario_offset`` (the scenario number of
    row 0 in the random streams), ``first_valued_day`` (1..H: live legs are valued from
    that day on; before it only settlements are booked).

    Tables along the VIX (node i at ``vix_lo + i * vix_step``, ``n_nodes`` nodes; length
    H L N): ``table_atm`` (SPX ATM vol), ``table_change`` (additive dynamics: the vol
    change), ``table_vvol`` (VIX option vol); affine futures ``fut_a``, ``fut_b``
    (length H L: the future of leg l on day d is ``fut_a + fut_b * V``).

    Vol dynamics: ``dynamics`` is the kernel module's ``STICKY_MONEYNESS`` (the smile
    moves with the spot: ``svi`` when given, else ``smile``) or ``ADDITIVE`` (``max(
    base_vol + change, smile.floor_ratio * atm)``: sticky strike, parallel).

    Barriers: ``barrier_low`` / ``barrier_high`` (the short put / call strike), NaN when
    absent (never touched).
    """

    kind: NDArray[np.uint8]
    is_call: BoolArray
    strike: FloatArray
    weight: FloatArray
    expiry_day: IntArray
    spot: float
    rate: float
    div: float
    vix: float
    base_value: float
    drift: FloatArray
    diffusion_vol: FloatArray
    vix_beta: FloatArray
    vol_of_vix: FloatArray
    vix_kappa: FloatArray
    vix_theta: FloatArray
    atm_vix_ratio: float
    jump_mean: FloatArray
    jump_std: FloatArray
    vix_jump_mean: FloatArray
    vix_jump_std: FloatArray
    days: int
    paths: int
    seed: int
    greek_paths: int
    vix_lo: float
    vix_step: float
    n_nodes: int
    table_atm: FloatArray
    table_change: FloatArray
    table_vvol: FloatArray
    fut_a: FloatArray
    fut_b: FloatArray
    dynamics: int
    smile: Smile
    base_vol: FloatArray
    barrier_low: float
    barrier_high: float
    scenario_offset: int = 0
    svi: SviSmiles | None = None
    first_valued_day: int = 1


@dataclass(frozen=True, eq=False)
class ProjectionBuffers:
    """The projection kernel's outputs, overwritten (1-D, C-contiguous, writeable
    float64): ``pnl_out`` (S H P: each path's value minus ``base_value``), the touch
    sums ``touch_sum_out`` / ``touch_sumsq_out`` (S H ``TOUCH_KINDS``: lower, upper,
    either barrier), the Greek sums ``greek_sum_out`` / ``greek_sumsq_out`` (S H
    ``GREEKS``: delta, gamma, vega, theta, vix_delta over the first ``greek_paths``
    paths), and ``spot_out`` / ``vix_out`` (S H P, the closes; None: not recorded).
    ``TOUCH_KINDS`` and ``GREEKS`` are constants of the kernel module."""

    pnl_out: FloatArray
    touch_sum_out: FloatArray
    touch_sumsq_out: FloatArray
    greek_sum_out: FloatArray
    greek_sumsq_out: FloatArray
    spot_out: FloatArray | None = None
    vix_out: FloatArray | None = None
