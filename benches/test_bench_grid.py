"""Scenario grid (issue 3 target): 8 legs x 201 spot moves x 41 VIX shifts x 11 days
(about 726,000 leg valuations, each with its Greeks), native vs the numpy fallback.

Timed at the kernel (the per-(leg, shift, day) market arrays are resolved once,
outside the timing, as `alvh.scenario_grid` does before calling it) and through the
public `alvh.scenario_grid` where it exists. Sticky-moneyness dynamics: the smile is
evaluated in every cell.
"""

from __future__ import annotations

import numpy as np
import pytest

import alvh
from alvh import _native

LEGS = 8
MOVES, SHIFTS, DAYS = 201, 41, 11


def _kernel_arguments() -> tuple:
    # A 10-lot condor, a put-spread hedge, a VIX call and a VIX future.
    kind = np.array([0, 0, 0, 0, 0, 0, 2, 1], dtype=np.uint8)
    is_call = np.array([False, False, True, True, False, False, True, False])
    strike = np.array([5575.0, 5625.0, 6300.0, 6350.0, 5500.0, 5400.0, 25.0, 0.0])
    weight = np.array([1000.0, -1000.0, -1000.0, 1000.0, 200.0, -200.0, 500.0, 1000.0])
    spot, rate, div = 5994.57, 0.043, 0.013
    moves = np.linspace(-0.10, 0.10, MOVES)
    shifts = np.linspace(-10.0, 10.0, SHIFTS)
    days = np.arange(DAYS)
    tau = np.empty((LEGS, SHIFTS, DAYS))
    vol = np.empty_like(tau)
    underlying = np.empty_like(tau)
    for leg in range(LEGS):
        expiry_days = 46 if kind[leg] == 0 else 43
        tau[leg] = (expiry_days - days)[None, :] / 365.0
        atm = 0.9 * (16.0 + shifts) / 100.0
        vol[leg] = (atm[:, None] if kind[leg] == 0 else 1.0) * np.ones((1, DAYS))
        underlying[leg] = (18.0 + shifts * np.exp(-2.0 * 43 / 365))[:, None] * np.ones((1, DAYS))
    smile = (-0.7, 1.15, 0.5)  # the default SSVI smile (rho, eta, gamma)
    out = [np.empty(DAYS * SHIFTS * MOVES) for _ in range(6)]
    return (
        kind,
        is_call,
        strike,
        weight,
        spot,
        rate,
        div,
        moves,
        SHIFTS,
        DAYS,
        tau.ravel(),
        vol.ravel(),
        underlying.ravel(),
        smile,
        out,
    )


def _fallback_kernels():
    from alvh._fallback import kernels

    if not hasattr(kernels, "scenario_grid"):
        pytest.skip("the fallback has no scenario_grid yet")
    return kernels


@pytest.mark.benchmark(group="scenario_grid")
def test_grid_kernel_native(benchmark):
    args = _kernel_arguments()
    benchmark.extra_info.update(
        task="scenario_grid", implementation="alvh native", options=LEGS * MOVES * SHIFTS * DAYS
    )
    benchmark.pedantic(_native.scenario_grid, args=args, rounds=100, iterations=1, warmup_rounds=2)


@pytest.mark.benchmark(group="scenario_grid")
def test_grid_kernel_fallback(benchmark):
    kernels = _fallback_kernels()
    args = _kernel_arguments()
    reference = [np.empty_like(a) for a in args[-1]]
    _native.scenario_grid(*args[:-1], reference)
    benchmark.extra_info.update(
        task="scenario_grid", implementation="alvh fallback (numpy)", options=LEGS * MOVES * SHIFTS * DAYS
    )
    benchmark.pedantic(kernels.scenario_grid, args=args, rounds=3, iterations=1, warmup_rounds=1)
    for got, want in zip(args[-1], reference):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def _public_grid_arguments():
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "examples"
    market = alvh.Market.from_toml(examples / "market_2025-02-03.toml")
    book = alvh.Position.from_toml(examples / "condor_put_spread_hedge.toml")  # 7 legs
    axes = dict(
        spot_moves=np.linspace(-0.10, 0.10, MOVES),
        vol_shifts=np.linspace(-10.0, 10.0, SHIFTS),
        days=list(range(DAYS)),
    )
    return book, market, axes


@pytest.mark.benchmark(group="scenario_grid")
@pytest.mark.parametrize("backend_name", ["native", "python"])
def test_grid_public_api(benchmark, backend_name):
    book, market, axes = _public_grid_arguments()
    name = "alvh native" if backend_name == "native" else "alvh fallback (numpy)"
    benchmark.extra_info.update(
        task="scenario_grid",
        implementation=f"{name}, alvh.scenario_grid end to end",
        options=len(book) * MOVES * SHIFTS * DAYS,
    )

    def run():
        with alvh.use_backend(backend_name):
            return alvh.scenario_grid(book, market, **axes)

    benchmark.pedantic(run, rounds=30 if backend_name == "native" else 3, iterations=1, warmup_rounds=1)
