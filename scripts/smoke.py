"""Smoke suite for an installed alvh (a built wheel or the sdist): what a wheel must do
on its platform before it is published.

Run it with the interpreter the wheel is installed in, from a checkout (it reads the
examples/ of the repository it sits in): ``python scripts/smoke.py``. It needs only
alvh and alvh's own dependencies (no pytest), so that it runs as it is under qemu
emulation, on every release-workflow runner and from `.ci/run`. Checks:

- the installed alvh is the compiled one (native backend), and its version is the
  distribution's;
- pricing parity: prices and all eight Greeks of 10,000 random SPX options, native
  against the numpy fallback, within 1e-12 relative (values that are zero to double
  precision, below 1e-15 of their natural scale S^k, compared absolutely there);
- implied-vol round trips on both backends: price -> vol -> price;
- one scenario grid and one small Monte Carlo projection of the example condor, native
  against the numpy fallback (the tolerances of tests/test_grid.py, test_projection.py);
- ``alvh info`` names the SIMD path this CPU runs (``neon`` on aarch64).

Each check prints its time; the last line is ``N passed, N failed``; exit status 1 on
any failure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import platform
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np

import alvh

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EPS = np.finfo(float).eps
OPTIONS = 10_000
#: Power of the spot in each field's natural scale (price ~ S, gamma ~ 1/S, ...).
SCALE_POWER = {
    "price": 1,
    "delta": 0,
    "gamma": -1,
    "vega": 1,
    "theta": 1,
    "rho": 1,
    "vanna": 0,
    "volga": 1,
    "charm": 0,
}
#: The SIMD paths `alvh info` may report, by `platform.machine()`.
SIMD_PATHS = {
    "x86_64": {"avx512", "avx2+fma", "baseline"},
    "amd64": {"avx512", "avx2+fma", "baseline"},
    "aarch64": {"neon"},
    "arm64": {"neon"},
}


class SmokeCheckError(AssertionError):
    """A smoke check's result is wrong (not a crash)."""


def _random_options(n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` SPX options: strikes 0.6x-1.6x spot, 1 day to 2 years, vols 5 %-120 %,
    rates -1 %..6 %, dividend yields 0-4 %, calls and puts."""
    rng = np.random.default_rng(seed)
    spot = rng.uniform(3000.0, 6500.0, n)
    return {
        "is_call": rng.random(n) < 0.5,
        "spot": spot,
        "strike": spot * np.exp(rng.uniform(np.log(0.6), np.log(1.6), n)),
        "t": np.exp(rng.uniform(np.log(1.0 / 365.0), np.log(2.0), n)),
        "rate": rng.uniform(-0.01, 0.06, n),
        "div": rng.uniform(0.0, 0.04, n),
        "vol": np.exp(rng.uniform(np.log(0.05), np.log(1.2), n)),
    }


def _on(backend: str, fn: Callable, *args, **kwargs):
    with alvh.use_backend(backend):
        return fn(*args, **kwargs)


def check_installed_native() -> str:
    info = alvh.build_info()
    if not info["native_available"] or alvh.backend() != "native":
        raise SmokeCheckError(f"the compiled core is not in use: {info}")
    if alvh.__version__ != version("alvh"):
        raise SmokeCheckError(f"alvh.__version__ {alvh.__version__} != distribution {version('alvh')}")
    return f"alvh {alvh.__version__} from {Path(alvh.__file__).parent}"


def check_pricing_parity() -> str:
    options = _random_options(OPTIONS, seed=17)
    native = _on("native", alvh.bsm.greeks, **options)
    python = _on("python", alvh.bsm.greeks, **options)
    worst = {}
    for name, power in SCALE_POWER.items():
        a, b = getattr(native, name), getattr(python, name)
        floor = 1e-15 * options["spot"] ** power
        error = np.abs(a - b)
        bad = ~(error <= 1e-12 * np.abs(b) + floor)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SmokeCheckError(
                f"{name}: {int(bad.sum())} differ; row {i}: native {a[i]!r}, numpy {b[i]!r}"
            )
        significant = np.abs(b) > floor
        worst[name] = float((error[significant] / np.abs(b[significant])).max())
    largest = max(worst, key=worst.get)
    return f"{OPTIONS} options x 9 fields agree; largest relative difference {worst[largest]:.1e} ({largest})"


def check_implied_vol_round_trip() -> str:
    options = _random_options(OPTIONS, seed=18)
    price = _on("native", alvh.bsm.price, **options)
    vega = _on("native", alvh.bsm.greeks, **options).vega
    true_vol = options.pop("vol")
    forward_leg = options["spot"] * np.exp(-options["div"] * options["t"])
    strike_leg = options["strike"] * np.exp(-options["rate"] * options["t"])
    scale = forward_leg + strike_leg
    intrinsic = np.where(options["is_call"], forward_leg - strike_leg, strike_leg - forward_leg)
    upper = np.where(options["is_call"], forward_leg, strike_leg)
    # Prices inside their no-arbitrage bounds by more than rounding must all solve.
    valid = np.minimum(price - np.maximum(intrinsic, 0.0), upper - price) > 1e-14 * scale
    report = []
    for backend in ("native", "python"):
        vol = _on(backend, alvh.bsm.implied_vol, price=price, errors="nan", **options)
        solved = np.isfinite(vol)
        if (valid & ~solved).any():
            raise SmokeCheckError(f"{backend}: no vol for {int((valid & ~solved).sum())} valid prices")
        repriced = _on("native", alvh.bsm.price, vol=np.where(solved, vol, 1.0), **options)
        # As tests/test_implied_vol.py: the vol reprices within 1e-12 of S e^-qT + K e^-rT,
        # and is within 1e-10 of the true vol where the vega makes it well defined.
        if (np.abs(repriced - price) > 1e-12 * scale)[solved].any():
            raise SmokeCheckError(f"{backend}: a solved vol does not reprice its price")
        well_defined = solved & (vega > 0.01)
        with np.errstate(over="ignore", divide="ignore"):
            allowed = 1e-10 + 4 * EPS * price / np.where(vega > 0, vega, 1.0)
        bad = well_defined & ~(np.abs(vol - true_vol) <= allowed)
        if bad.any() or well_defined.sum() < OPTIONS // 2:
            raise SmokeCheckError(
                f"{backend}: {int(bad.sum())} vols off, {int(well_defined.sum())} well defined"
            )
        report.append(f"{backend} {int(solved.sum())}")
    return f"{int(valid.sum())} valid prices, solved: " + ", ".join(report)


def _example_book_and_market() -> tuple[alvh.Position, alvh.Market]:
    market = alvh.Market.from_toml(EXAMPLES / "market.toml")
    # As tests/test_grid.py: the example market moved to the condor's entry day, with
    # mean-reverting VIX futures (the listed curve in market.toml ends before the hedge).
    market = dataclasses.replace(
        market, as_of=dt.date(2025, 2, 3), spot=5994.57, futures=alvh.VixFutures.mean_reverting()
    )
    return alvh.Position.from_toml(EXAMPLES / "condor_vix_hedge.toml"), market


def check_grid() -> str:
    book, market = _example_book_and_market()
    axes = {
        "spot_moves": np.linspace(-0.1, 0.1, 21),
        "vol_shifts": [-3.0, 0.0, 5.0, 15.0],
        "days": [0, 5, 20],
    }
    native = _on("native", alvh.scenario_grid, book, market, **axes)
    python = _on("python", alvh.scenario_grid, book, market, **axes)
    for name in ("value", "pnl", "delta", "gamma", "vega", "theta", "vix_delta"):
        a, b = getattr(native, name), getattr(python, name)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-10 * np.abs(b).max()):
            raise SmokeCheckError(f"grid {name}: native and numpy differ by {np.abs(a - b).max():.3e}")
    return f"grid {native.pnl.shape} agrees; worst P&L {native.pnl.min():,.0f}"


def check_projection() -> str:
    book, market = _example_book_and_market()
    kwargs = {"days": 5, "paths": 1000, "seed": 21, "greek_paths": 200, "keep_paths": True}
    native = _on("native", alvh.project, book, market, **kwargs)
    again = _on("native", alvh.project, book, market, **kwargs)
    python = _on("python", alvh.project, book, market, **kwargs)
    if not np.array_equal(native.pnl, again.pnl):
        raise SmokeCheckError("the same seed gave different paths")
    for name in ("pnl", "spot_paths", "vix_paths", "stats", "mixture", "touch", "greeks"):
        a, b = getattr(native, name), getattr(python, name)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-10 * np.abs(b).max()):
            raise SmokeCheckError(f"projection {name}: native and numpy differ by {np.abs(a - b).max():.3e}")
    return f"{len(native.names)} scenarios x {native.paths} paths x {native.days} days agree"


def check_cli_info() -> str:
    script = shutil.which("alvh", path=str(Path(sys.executable).parent))
    command = [script, "info"] if script else [sys.executable, "-m", "alvh.cli", "info"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    expected = SIMD_PATHS.get(platform.machine().lower())
    if lines.get("backend") != "native" or "simd" not in lines:
        raise SmokeCheckError(f"alvh info: {out!r}")
    if expected is not None and lines["simd"] not in expected:
        raise SmokeCheckError(
            f"alvh info: simd {lines['simd']!r} on {platform.machine()}, expected one of {expected}"
        )
    return f"simd: {lines['simd']}, arch: {lines.get('arch')}, threads: {lines.get('threads')}"


CHECKS = (
    check_installed_native,
    check_pricing_parity,
    check_implied_vol_round_trip,
    check_grid,
    check_projection,
    check_cli_info,
)


def main() -> int:
    print(f"alvh smoke on {platform.machine()} {platform.system()}, Python {platform.python_version()}")
    passed = failed = 0
    start = time.perf_counter()
    for check in CHECKS:
        began = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:  # report every check, then fail the run
            failed += 1
            outcome = "FAIL"
            detail = f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, SmokeCheckError):
                traceback.print_exc()
        else:
            passed += 1
            outcome = "ok"
        print(f"{outcome:4} {check.__name__:30} {time.perf_counter() - began:7.1f} s  {detail}", flush=True)
    print(f"total {time.perf_counter() - start:.1f} s")
    print(f"smoke: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
