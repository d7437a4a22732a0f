"""The two backends: agreement, selection, thread safety, build information.

Parity tolerances.
- Prices, where price >= 1e-12 S: 1e-12 relative (the issue's target), plus the
  rounding both backends cannot avoid where the price is a small difference of two
  large legs, S e^{-qT} N(d1) - K e^{-rT} N(d2): 8 eps x (|leg 1| + |leg 2|). That term
  is ~2e-15 of the price for an ordinary option and only matters in the far wings.
  Below 1e-12 S a price is a few ulps of its legs at most, so there the backends are
  compared absolutely, to 1e-14 S, far inside the accuracy target (1e-11 S).
- Greeks: each backend meets the accuracy target of test_reference_values.py
  (1e-10 relative, 1e-11 of the natural scale absolutely), so they agree to twice it.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.special import ndtr

import alvh
from alvh.errors import AlvhError, BackendError, InvalidInputError
from conftest import Cases, edge_cases, spx_like_cases

NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")
EPS = np.finfo(float).eps
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


def _on(backend: str, fn, *args, **kwargs):
    with alvh.use_backend(backend):
        return fn(*args, **kwargs)


def _all_cases() -> Cases:
    parts = [spx_like_cases(5000, seed=99), edge_cases()]
    return Cases(*(np.concatenate([getattr(p, f) for p in parts]) for f in Cases.__dataclass_fields__))


def _legs(c: Cases) -> np.ndarray:
    total_vol = c.vol * np.sqrt(c.t)
    d1 = (np.log(c.spot / c.strike) + (c.rate - c.div + 0.5 * c.vol**2) * c.t) / total_vol
    sign = np.where(c.is_call, 1.0, -1.0)
    forward_leg = c.spot * np.exp(-c.div * c.t) * ndtr(sign * d1)
    strike_leg = c.strike * np.exp(-c.rate * c.t) * ndtr(sign * (d1 - total_vol))
    return forward_leg + strike_leg


def test_backends_agree_on_prices_to_1e_minus_12_relative():
    cases = _all_cases()
    native = _on("native", alvh.bsm.price, **cases.kwargs())
    python = _on("python", alvh.bsm.price, **cases.kwargs())
    significant = np.abs(native) >= 1e-12 * cases.spot
    assert significant.sum() > 4000
    tolerance = np.where(significant, 1e-12 * np.abs(native) + 8 * EPS * _legs(cases), 1e-14 * cases.spot)
    error = np.abs(native - python)
    bad = ~(error <= tolerance)
    assert not bad.any(), (
        f"{int(bad.sum())} prices differ; row {np.flatnonzero(bad)[0]}: "
        f"native {native[bad][0]!r}, python {python[bad][0]!r}"
    )


@pytest.mark.parametrize("model", ["bsm", "black76"])
def test_backends_agree_on_greeks_within_twice_the_accuracy_target(model):
    cases = _all_cases()
    if model == "bsm":

        def compute():
            return alvh.bsm.greeks(**cases.kwargs())
    else:

        def compute():
            return alvh.black76.greeks(
                is_call=cases.is_call,
                forward=cases.spot,
                strike=cases.strike,
                t=cases.t,
                rate=cases.rate,
                vol=cases.vol,
            )

    native, python = _on("native", compute), _on("python", compute)
    for name in NAMES:
        a, b = getattr(native, name), getattr(python, name)
        scale = np.maximum(cases.spot ** SCALE_POWER[name], np.abs(a))
        bad = ~(np.abs(a - b) <= 2e-10 * np.abs(a) + 2e-11 * scale)
        assert not bad.any(), (
            f"{name}: row {np.flatnonzero(bad)[0]}: native {a[bad][0]!r}, python {b[bad][0]!r}"
        )


def test_backends_agree_on_implied_vol():
    cases = spx_like_cases(5000, seed=5)
    kwargs = cases.kwargs()
    price = _on("native", alvh.bsm.price, **kwargs)
    vega = _on("native", alvh.bsm.greeks, **kwargs).vega
    del kwargs["vol"]
    native = _on("native", alvh.bsm.implied_vol, price=price, errors="nan", **kwargs)
    python = _on("python", alvh.bsm.implied_vol, price=price, errors="nan", **kwargs)
    both = np.isfinite(native) & np.isfinite(python) & (vega > 0.01)
    assert both.sum() > 2000
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        allowed = 2e-10 + 8 * EPS * price / vega
    assert (np.abs(native - python)[both] <= allowed[both]).all()


@pytest.mark.parametrize(
    "bad",
    [
        {"spot": [4500.0, -1.0, 4500.0]},
        {"strike": [4500.0, 4500.0, np.nan]},
        {"t": [0.0, 0.1, 0.1]},
        {"vol": [0.2, np.inf, -0.2]},
        {"rate": [0.04, 0.04, -np.inf]},
        {"div": [np.nan, 0.0, 0.0]},
    ],
)
def test_backends_raise_the_same_error_for_the_same_bad_input(bad):
    kwargs = dict(is_call=True, spot=4500.0, strike=4500.0, t=0.1, rate=0.04, div=0.015, vol=0.2)
    kwargs.update({k: np.array(v) for k, v in bad.items()})
    errors = []
    for name in ("native", "python"):
        with alvh.use_backend(name), pytest.raises(InvalidInputError) as info:
            alvh.bsm.greeks(**kwargs)
        errors.append(info.value)
    native, python = errors
    assert type(native) is type(python)
    assert (native.arg, native.index) == (python.arg, python.index)
    assert native.value == python.value or (math.isnan(native.value) and math.isnan(python.value))


KERNEL_CONSTANTS = ("TOUCH_KINDS", "GREEKS", "STATS", "STICKY_MONEYNESS", "ADDITIVE")


def test_both_kernel_modules_export_the_same_constants_and_the_names_match_them():
    from alvh import _native
    from alvh._fallback import kernels as fallback
    from alvh.risk.projection import GREEK_NAMES, STAT_NAMES, TOUCH_NAMES

    for name in KERNEL_CONSTANTS:
        assert getattr(_native, name) == getattr(fallback, name), name
    assert (len(TOUCH_NAMES), len(GREEK_NAMES), len(STAT_NAMES)) == (
        _native.TOUCH_KINDS,
        _native.GREEKS,
        _native.STATS,
    )
    assert {_native.STICKY_MONEYNESS, _native.ADDITIVE} == {0, 1}


def _projection_case(strike: float = 4400.0):
    """One SPX put and one VIX call over 3 days, 2 scenarios, 50 paths: the two
    structured arguments of ``monte_carlo`` (a fresh set of output buffers each call)."""
    from alvh._core.kernel_inputs import ProjectionBuffers, ProjectionInputs, Smile

    legs, scenarios, days, paths, nodes = 2, 2, 3, 50, 5
    inputs = ProjectionInputs(
        kind=np.array([0, 2], dtype=np.uint8),
        is_call=np.array([False, True]),
        strike=np.array([strike, 25.0]),
        weight=np.array([-100.0, 300.0]),
        expiry_day=np.array([30, 20], dtype=np.int64),
        spot=4500.0,
        rate=0.04,
        div=0.01,
        vix=18.0,
        base_value=0.0,
        drift=np.full(scenarios, 0.03),
        diffusion_vol=np.array([0.16, np.nan]),
        vix_beta=np.full(scenarios, -5.0),
        vol_of_vix=np.full(scenarios, 0.9),
        vix_kappa=np.full(scenarios, 4.0),
        vix_theta=np.full(scenarios, 19.0),
        atm_vix_ratio=0.9,
        jump_mean=np.zeros(scenarios * days),
        jump_std=np.zeros(scenarios * days),
        vix_jump_mean=np.zeros(scenarios * days),
        vix_jump_std=np.zeros(scenarios * days),
        days=days,
        paths=paths,
        seed=7,
        greek_paths=10,
        vix_lo=10.0,
        vix_step=5.0,
        n_nodes=nodes,
        table_atm=np.linspace(0.1, 0.3, days * legs * nodes),
        table_change=np.zeros(days * legs * nodes),
        table_vvol=np.full(days * legs * nodes, 0.9),
        fut_a=np.full(days * legs, 1.0),
        fut_b=np.full(days * legs, 0.95),
        dynamics=0,
        smile=Smile(rho=-0.7, eta=1.15, gamma=0.5, floor_ratio=0.5),
        base_vol=np.zeros(legs),
        barrier_low=4400.0,
        barrier_high=float("nan"),
    )
    cube, per_day = scenarios * days * paths, scenarios * days
    out = ProjectionBuffers(
        pnl_out=np.empty(cube),
        touch_sum_out=np.empty(per_day * 3),
        touch_sumsq_out=np.empty(per_day * 3),
        greek_sum_out=np.empty(per_day * 5),
        greek_sumsq_out=np.empty(per_day * 5),
        spot_out=np.empty(cube),
        vix_out=None,
    )
    return inputs, out


def test_both_projection_kernels_take_the_same_two_objects():
    from alvh import _native
    from alvh._fallback import kernels as fallback

    results = []
    for kernels in (_native, fallback):
        inputs, out = _projection_case()
        kernels.monte_carlo(inputs, out)
        results.append(out)
    native, python = results
    for name in ("pnl_out", "touch_sum_out", "greek_sum_out", "spot_out"):
        want = getattr(python, name)
        np.testing.assert_allclose(
            getattr(native, name), want, rtol=1e-9, atol=1e-9 * np.abs(want).max(), err_msg=name
        )
    errors = []
    for kernels in (_native, fallback):
        with pytest.raises(InvalidInputError) as info:
            kernels.monte_carlo(*_projection_case(strike=-1.0))
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1])
    assert [(e.arg, e.index, e.value) for e in errors] == [("strike", 0, -1.0)] * 2


def test_use_backend_as_context_manager_restores_the_previous_backend():
    before = alvh.backend()
    with alvh.use_backend("python"):
        assert alvh.backend() == "python"
        with alvh.use_backend("native"):
            assert alvh.backend() == "native"
        assert alvh.backend() == "python"
    assert alvh.backend() == before


def test_use_backend_restores_after_an_exception():
    before = alvh.backend()
    with pytest.raises(KeyError), alvh.use_backend("python"):
        raise KeyError("inside the block")
    assert alvh.backend() == before


def test_use_backend_as_a_call_switches_until_switched_back():
    before = alvh.backend()
    try:
        alvh.use_backend("python")
        assert alvh.backend() == "python"
        alvh.use_backend("native")
        assert alvh.backend() == "native"
    finally:
        alvh.use_backend(before)
    assert alvh.backend() == before


@pytest.mark.parametrize("name", ["numba", "", "rust"])
def test_unknown_backend_raises_backend_error_and_keeps_the_current_one(name):
    before = alvh.backend()
    with pytest.raises(BackendError) as info:
        alvh.use_backend(name)
    assert isinstance(info.value, AlvhError)
    assert repr(name) in str(info.value)
    assert alvh.backend() == before


def _run_python(code: str, backend_env: str | None, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("ALVH_BACKEND", None)
    if backend_env is not None:
        env["ALVH_BACKEND"] = backend_env
    # From an empty directory, so that the installed wheel is imported.
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("requested", ["python", "native"])
def test_alvh_backend_environment_variable_selects_the_backend(requested, tmp_path):
    code = (
        "import alvh\n"
        "print(alvh.backend())\n"
        "print(float(alvh.bsm.price(is_call=True, spot=100.0, strike=100.0, t=1.0, rate=0.05, "
        "div=0.0, vol=0.2)))\n"
    )
    result = _run_python(code, requested, tmp_path)
    assert result.returncode == 0, result.stderr
    backend, price = result.stdout.split()
    assert backend == requested
    # S = K = 100, T = 1, r = 5 %, vol = 20 %: the closed form gives 10.4505835721856.
    assert float(price) == pytest.approx(10.4505835721856, rel=1e-12)


def test_default_backend_without_the_environment_variable_is_native(tmp_path):
    result = _run_python("import alvh; print(alvh.backend())", None, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "native"


def test_unknown_alvh_backend_environment_variable_raises_backend_error(tmp_path):
    result = _run_python("import alvh", "cuda", tmp_path)
    assert result.returncode != 0
    assert "BackendError" in result.stderr
    assert "cuda" in result.stderr
    assert "panick" not in result.stderr.lower()


def test_eight_threads_at_once_get_the_same_results_as_one_call(backend):
    """Large batches (above the parallel threshold) from eight threads at once give
    bit-identical results to the same calls made one at a time."""
    threshold = int(alvh.build_info().get("parallel_threshold", 16384))
    n = max(2 * threshold + 1234, 40_000)
    batches = [spx_like_cases(n, seed=1000 + k) for k in range(8)]

    def work(cases: Cases, barrier: threading.Barrier | None = None):
        if barrier is not None:
            barrier.wait(timeout=120)  # a broken barrier fails instead of hanging
        with alvh.use_backend(backend):  # a backend switch is per thread
            return compute(cases)

    def compute(cases: Cases):
        kwargs = cases.kwargs()
        greeks = alvh.bsm.greeks(**kwargs)
        price = alvh.bsm.price(**kwargs)
        del kwargs["vol"]
        vol = alvh.bsm.implied_vol(
            price=price[:20_000], errors="nan", **{k: v[:20_000] for k, v in kwargs.items()}
        )
        return [price, vol, *greeks.arrays()]

    expected = [work(cases) for cases in batches]
    barrier = threading.Barrier(8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: work(c, barrier), batches))
    for k, (want, got) in enumerate(zip(expected, results)):
        for w, g in zip(want, got):
            np.testing.assert_array_equal(g, w, err_msg=f"thread {k}")


def test_build_info_reports_the_simd_path_and_the_backend():
    info = alvh.build_info()
    assert info["native_available"] is True
    assert info["simd"] in {"avx512", "avx2+fma", "baseline", "neon"}
    assert info["arch"] == platform.machine().lower().replace("arm64", "aarch64").replace("amd64", "x86_64")
    assert info["backend"] == alvh.backend()
    assert int(info["threads"]) >= 1
    with alvh.use_backend("python"):
        assert alvh.build_info()["backend"] == "python"


def test_use_backend_in_overlapping_threads_leaves_each_its_own():
    # issue 16 point 14: two threads with overlapping `with use_backend("python")` blocks
    # left the process at "python" after both had exited.
    import threading

    default = alvh.backend()
    inside = threading.Barrier(2)
    seen: dict[str, tuple[str, str]] = {}

    def work(name: str, first_out: bool) -> None:
        with alvh.use_backend("python"):
            inside.wait()  # both blocks are open at once
            during = alvh.backend()
            if not first_out:
                inside.wait()  # the other thread leaves its block first
        after = alvh.backend()
        if first_out:
            inside.wait()
        seen[name] = (during, after)

    threads = [
        threading.Thread(target=work, args=("a", True)),
        threading.Thread(target=work, args=("b", False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert seen == {"a": ("python", default), "b": ("python", default)}
    assert alvh.backend() == default
    with alvh.use_backend("python"):  # a switch in one thread is not seen by another
        other: list[str] = []
        t = threading.Thread(target=lambda: other.append(alvh.backend()))
        t.start()
        t.join(timeout=30)
        assert alvh.backend() == "python" and other == [default]
