"""The numpy fallback of the projection kernel (`alvh._fallback.projection`) against
its contract (docs/projection_engine.md): the Philox4x32-10 streams, the normals,
closed forms of small `monte_carlo` cases and brute-force statistics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.special import ndtr

from alvh._core.kernel_inputs import ProjectionBuffers, ProjectionInputs, Smile
from alvh._fallback import projection
from alvh._fallback.pricing import greeks as kernel_greeks
from alvh._fallback.pricing import price as kernel_price
from alvh.errors import InvalidInputError, ShapeError

# --------------------------------------------------------------------------- Philox


@pytest.mark.parametrize(
    ("counter", "key", "expected"),
    [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ],
)
def test_philox_known_answers(
    counter: tuple[int, ...], key: tuple[int, int], expected: tuple[int, ...]
) -> None:
    """Random123's known-answer vectors of philox4x32_10 (kat_vectors)."""
    words = projection.philox4x32_10((counter[0], counter[1], counter[2], counter[3]), key)
    assert tuple(int(w) for w in words) == expected
    assert all(w.dtype == np.uint32 for w in words)
    # Vectorized: the same block in every row of a broadcast counter.
    rows = projection.philox4x32_10(
        (np.full(3, counter[0], dtype=np.uint32), counter[1], counter[2], counter[3]), key
    )
    assert all(tuple(int(r) for r in row) == (e,) * 3 for row, e in zip(rows, expected))


def test_uniforms_open_and_from_the_words() -> None:
    paths = np.arange(100_000, dtype=np.uint32)
    seed = (7 << 32) | 12345
    u_a, u_b = projection.uniforms(seed, 2, paths, 3, 0)
    for u in (u_a, u_b):
        assert np.all(u > 0.0) and np.all(u < 1.0)
    w0, w1, w2, w3 = projection.philox4x32_10((paths, 2, 3, 0), (12345, 7))
    for u, hi, lo in ((u_a, w0, w1), (u_b, w2, w3)):
        x = (hi[:50].astype(object) << 32) | lo[:50].astype(object)  # exact Python ints
        expected = [((int(v) >> 11) + 0.5) * 2.0**-53 for v in x]
        assert u[:50].tolist() == expected


def test_normals_moments_and_box_muller() -> None:
    paths = np.arange(100_000, dtype=np.uint32)
    z_a, z_b = projection.normals(42, 0, paths, 1, 0)
    n = paths.size
    for z in (z_a, z_b):
        assert abs(z.mean()) < 4.0 / math.sqrt(n)
        assert abs(z.var() - 1.0) < 4.0 * math.sqrt(2.0 / n)
    assert abs(np.corrcoef(z_a, z_b)[0, 1]) < 4.0 / math.sqrt(n)
    u_a, u_b = projection.uniforms(42, 0, paths[:10], 1, 0)
    r = np.sqrt(-2.0 * np.log(u_a))
    np.testing.assert_array_equal(z_a[:10], r * np.cos(2.0 * math.pi * u_b))
    np.testing.assert_array_equal(z_b[:10], r * np.sin(2.0 * math.pi * u_b))
    # Other blocks, days and scenarios are other streams.
    assert not np.array_equal(z_a, projection.normals(42, 0, paths, 1, 1)[0])
    assert not np.array_equal(z_a, projection.normals(42, 0, paths, 2, 0)[0])
    assert not np.array_equal(z_a, projection.normals(42, 1, paths, 1, 0)[0])


# --------------------------------------------------------------------------- statistics

QS = (1, 5, 25, 50, 75, 95, 99)


def _tail_mean_step(values: np.ndarray, weights: np.ndarray, mass: float) -> float:
    """Mean of the worst ``mass`` of a weighted sample: the integral of its quantile
    function over (0, mass), by walking the sorted samples one at a time."""
    order = np.argsort(values, kind="stable")
    taken = 0.0
    total = 0.0
    for v, w in zip(values[order], weights[order]):
        share = min(w, mass - taken)
        if share <= 0.0:
            break
        total += share * v
        taken += share
    return total / mass


@pytest.mark.parametrize("paths", [20, 1010, 1024])
def test_pnl_statistics_per_scenario(paths: int) -> None:
    rng = np.random.default_rng(5)
    n_scen, n_days = 3, 2
    cube = rng.normal(1.0, 3.0, (n_scen, n_days, paths)).round(3)  # ties included
    stats = projection.statistics(cube.ravel(), np.array([0.5, 0.25, 0.25]), n_scen, n_days, paths)
    for s in range(n_scen):
        for d in range(n_days):
            x = cube[s, d]
            assert stats["mean"][s, d] == pytest.approx(x.mean(), rel=1e-13, abs=1e-13)
            assert stats["std"][s, d] == pytest.approx(x.std(), rel=1e-13)
            for q in QS:
                assert stats[f"q{q:02d}"][s, d] == np.quantile(x, q / 100, method="inverted_cdf")
            assert stats["var95"][s, d] == -np.quantile(x, 0.05, method="inverted_cdf")
            assert stats["var99"][s, d] == -np.quantile(x, 0.01, method="inverted_cdf")
            # Brute force: 100 copies of each sample make the tail a whole number of them.
            copies = np.sort(np.repeat(x, 100))
            for level, k in ((95, 5), (99, 1)):
                expected = -copies[: k * paths].mean()
                assert stats[f"cvar{level}"][s, d] == pytest.approx(expected, rel=1e-12)
            assert stats["p_profit"][s, d] == (x > 0).mean()


def test_pnl_statistics_mixture() -> None:
    rng = np.random.default_rng(11)
    n_scen, n_days, paths = 3, 2, 1024
    cube = np.stack(
        [rng.normal(mu, sd, (n_days, paths)) for mu, sd in ((2.0, 1.0), (-1.0, 4.0), (0.0, 2.0))]
    ).round(4)
    prob = np.array([0.5, 0.25, 0.25])
    stats = projection.statistics(cube.ravel(), prob, n_scen, n_days, paths)
    for d in range(n_days):
        # Binary weights: the weighted sample is scenario 0 twice, 1 and 2 once.
        expanded = np.concatenate([cube[0, d], cube[0, d], cube[1, d], cube[2, d]])
        assert stats["mixture_mean"][d] == pytest.approx(expanded.mean(), rel=1e-12, abs=1e-12)
        assert stats["mixture_std"][d] == pytest.approx(expanded.std(), rel=1e-12)
        assert stats["mixture_p_profit"][d] == pytest.approx((expanded > 0).mean(), rel=1e-15)
        for q in QS:
            assert stats[f"mixture_q{q:02d}"][d] == np.quantile(expanded, q / 100, method="inverted_cdf")
        assert stats["mixture_var95"][d] == -stats["mixture_q05"][d]
        assert stats["mixture_var99"][d] == -stats["mixture_q01"][d]
        values = cube[:, d, :].ravel()
        weights = np.repeat(prob / paths, paths)
        for level, mass in ((95, 0.05), (99, 0.01)):
            expected = -_tail_mean_step(values, weights, mass)
            assert stats[f"mixture_cvar{level}"][d] == pytest.approx(expected, rel=1e-11)


def test_pnl_statistics_mixture_general_weights() -> None:
    rng = np.random.default_rng(3)
    n_scen, n_days, paths = 3, 1, 333
    cube = rng.normal(0.0, 1.0, (n_scen, n_days, paths))
    prob = np.array([0.2, 0.3, 0.5])
    stats = projection.statistics(cube.ravel(), prob, n_scen, n_days, paths)
    values = cube[:, 0, :].ravel()
    weights = np.repeat(prob / paths, paths)
    order = np.argsort(values)
    cdf = np.cumsum(weights[order])
    for q in QS:  # the smallest x with F(x) >= q
        expected = values[order][np.argmax(cdf >= q / 100 - 1e-12)]
        assert stats[f"mixture_q{q:02d}"][0] == expected
    for level, mass in ((95, 0.05), (99, 0.01)):
        expected = -_tail_mean_step(values, weights, mass)
        assert stats[f"mixture_cvar{level}"][0] == pytest.approx(expected, rel=1e-10)
    assert stats["mixture_mean"][0] == pytest.approx(np.dot(weights, values), abs=1e-14)
    assert stats["mean"].shape == (3, 1) and stats["mixture_mean"].shape == (1,)


def test_pnl_statistics_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="probability"):
        projection.statistics(np.zeros(4), np.array([0.5, 0.6]), 2, 1, 2)
    with pytest.raises(ShapeError, match="pnl"):
        projection.statistics(np.zeros(5), np.array([0.5, 0.5]), 2, 1, 2)
    with pytest.raises(InvalidInputError, match=r"pnl\[1\]"):
        projection.statistics(np.array([0.0, np.nan, 0, 0]), np.array([0.5, 0.5]), 2, 1, 2)


# --------------------------------------------------------------------------- monte_carlo

SPOT, RATE, DIV, VIX = 5000.0, 0.04, 0.01, 20.0


def _case(
    legs: list[tuple[int, bool, float, float, int]],
    *,
    days: int,
    paths: int,
    scenarios: int = 1,
    vol: float = 0.2,
    **override: Any,
) -> dict[str, Any]:
    """The fields of `monte_carlo`'s two arguments, flat (`_run` makes the objects), for
    ``legs`` (kind, is_call, strike, weight, expiry_day): constant tables (ATM ``vol``,
    VIX option vol 0.9, futures = VIX), no events, drift = rate - div, outputs
    allocated; ``override`` replaces any."""
    n_legs, n_nodes = len(legs), 3
    n, h = scenarios, days
    args: dict[str, Any] = dict(
        kind=np.array([leg[0] for leg in legs], dtype=np.uint8),
        is_call=np.array([leg[1] for leg in legs], dtype=np.bool_),
        strike=np.array([leg[2] for leg in legs], dtype=np.float64),
        weight=np.array([leg[3] for leg in legs], dtype=np.float64),
        expiry_day=np.array([leg[4] for leg in legs], dtype=np.int64),
        spot=SPOT,
        rate=RATE,
        div=DIV,
        vix=VIX,
        base_value=0.0,
        drift=np.full(n, RATE - DIV),
        diffusion_vol=np.full(n, vol),
        vix_beta=np.zeros(n),
        vol_of_vix=np.zeros(n),
        vix_kappa=np.zeros(n),
        vix_theta=np.full(n, VIX),
        atm_vix_ratio=0.9,
        jump_mean=np.zeros(n * h),
        jump_std=np.zeros(n * h),
        vix_jump_mean=np.zeros(n * h),
        vix_jump_std=np.zeros(n * h),
        days=days,
        paths=paths,
        seed=20_261_124,
        greek_paths=min(paths, 1000),
        vix_lo=10.0,
        vix_step=10.0,
        n_nodes=n_nodes,
        table_atm=np.full(h * n_legs * n_nodes, vol),
        table_change=np.zeros(h * n_legs * n_nodes),
        table_vvol=np.full(h * n_legs * n_nodes, 0.9),
        fut_a=np.zeros(h * n_legs),
        fut_b=np.ones(h * n_legs),
        dynamics=0,
        smile=(-0.7, 0.0, 0.5, 0.5),  # eta = 0: a flat smile
        base_vol=np.full(n_legs, vol),
        barrier_low=float("nan"),
        barrier_high=float("nan"),
        pnl_out=np.empty(n * h * paths),
        touch_sum_out=np.empty(n * h * 3),
        touch_sumsq_out=np.empty(n * h * 3),
        greek_sum_out=np.empty(n * h * 5),
        greek_sumsq_out=np.empty(n * h * 5),
        spot_out=np.empty(n * h * paths),
        vix_out=np.empty(n * h * paths),
    )
    args.update(override)
    return args


_OUTPUTS = (
    "pnl_out",
    "touch_sum_out",
    "touch_sumsq_out",
    "greek_sum_out",
    "greek_sumsq_out",
    "spot_out",
    "vix_out",
)


def _run(args: dict[str, Any]) -> None:
    """Calls `monte_carlo` with ``args`` (the flat form of `_case`) as its two structured
    arguments; the outputs are the arrays of ``args``."""
    inputs = {k: v for k, v in args.items() if k not in _OUTPUTS}
    inputs["smile"] = Smile(*inputs["smile"])
    projection.monte_carlo(
        ProjectionInputs(**inputs), ProjectionBuffers(**{k: args[k] for k in _OUTPUTS if k in args})
    )


def _bsm(is_call: bool, spot: Any, strike: float, t: float, vol: float) -> np.ndarray:
    spot = np.ascontiguousarray(spot, dtype=np.float64).ravel()
    out = np.empty(spot.size)
    kernel_price("bsm", is_call, spot, strike, t, RATE, DIV, np.full(spot.size, vol), out, False)
    return out


def test_call_mean_grows_at_the_rate() -> None:
    """Under drift = rate - div the discounted option price is a martingale:
    E[V_d] = V_0 exp(rate d / 365)."""
    days, paths, strike, expiry, weight = 5, 20_000, 5050.0, 30, 100.0
    v0 = weight * float(_bsm(True, SPOT, strike, expiry / 365, 0.2)[0])
    args = _case([(0, True, strike, weight, expiry)], days=days, paths=paths, base_value=v0)
    _run(args)
    pnl = args["pnl_out"].reshape(days, paths)
    spots = args["spot_out"].reshape(days, paths)
    for d in range(1, days + 1):
        expected = v0 * math.expm1(RATE * d / 365)
        se = pnl[d - 1].std() / math.sqrt(paths)
        assert abs(pnl[d - 1].mean() - expected) < 4.0 * se
        # The revaluation is BSM at the path's spot with the remaining time.
        np.testing.assert_allclose(
            pnl[d - 1, :100] + v0,
            weight * _bsm(True, spots[d - 1, :100], strike, (expiry - d) / 365, 0.2),
            rtol=1e-13,
        )
    # Log returns: mean (mu - s^2/2) dt and sd s sqrt(dt) per day.
    log_ret = np.diff(np.log(np.vstack([np.full(paths, SPOT), spots])), axis=0)
    dt = 1 / 365
    assert abs(log_ret.mean() - (RATE - DIV - 0.02) * dt) < 4 * 0.2 * math.sqrt(dt / log_ret.size)
    assert log_ret.std() == pytest.approx(0.2 * math.sqrt(dt), rel=0.01)
    # VIX stays put (no coupling, no vol of vol, no mean reversion).
    np.testing.assert_allclose(args["vix_out"], VIX, rtol=1e-15)
    # Greeks over the first greek_paths paths: the position's BSM delta, summed.
    g = args["greek_paths"]
    sums = args["greek_sum_out"].reshape(days, 5)
    for d in (1, days):
        out = [np.empty(g) for _ in range(9)]
        kernel_greeks(
            "bsm",
            True,
            np.ascontiguousarray(spots[d - 1, :g]),
            strike,
            (expiry - d) / 365,
            RATE,
            DIV,
            np.full(g, 0.2),
            out,
            False,
        )
        for k, name in ((0, 1), (1, 2), (2, 3), (3, 4)):
            assert sums[d - 1, k] == pytest.approx(weight * out[name].sum(), rel=1e-12)
        assert sums[d - 1, 4] == 0.0
        assert args["greek_sumsq_out"][(d - 1) * 5] == pytest.approx(
            (weight * out[1]) @ (weight * out[1]), rel=1e-12
        )


def test_vix_future_follows_the_mean_reversion() -> None:
    days, paths, kappa, theta, weight = 5, 50, 6.0, 16.0, 1000.0
    fut_a = np.linspace(1.0, 2.0, days)
    fut_b = np.linspace(0.9, 1.0, days)
    args = _case(
        [(1, False, float("nan"), weight, 40)],
        days=days,
        paths=paths,
        vix_kappa=np.array([kappa]),
        vix_theta=np.array([theta]),
        fut_a=fut_a,
        fut_b=fut_b,
        base_value=weight * 21.0,
    )
    _run(args)
    ln_v = math.log(VIX)
    vix = args["vix_out"].reshape(days, paths)
    pnl = args["pnl_out"].reshape(days, paths)
    for d in range(1, days + 1):
        ln_v = ln_v + kappa * (math.log(theta) - ln_v) / 365
        np.testing.assert_allclose(vix[d - 1], math.exp(ln_v), rtol=1e-14)
        np.testing.assert_allclose(
            pnl[d - 1], weight * (fut_a[d - 1] + fut_b[d - 1] * math.exp(ln_v)) - weight * 21.0, rtol=1e-13
        )
    sums = args["greek_sum_out"].reshape(days, 5)
    np.testing.assert_array_equal(sums[:, 4], weight * paths)
    np.testing.assert_array_equal(sums[:, :4], 0.0)


def test_legs_expiring_inside_the_horizon_settle() -> None:
    """An SPX put and a VIX future expiring on day 3 of 5 settle on day 3 (intrinsic,
    the future at tenor 0) and keep that value on days 4 and 5."""
    days, paths = 5, 2000
    # Index (d - 1) * 2 + leg: the future's (leg 1) affine map per day; unused at 4, 5.
    fut_a = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 7.0, 0.0, 7.0])
    fut_b = np.array([1.0, 1.0, 1.0, 0.95, 1.0, 0.9, 1.0, 0.5, 1.0, 0.5])
    args = _case(
        [(0, False, 4990.0, 100.0, 3), (1, False, float("nan"), 1000.0, 3)],
        days=days,
        paths=paths,
        fut_a=fut_a,
        fut_b=fut_b,
        vol_of_vix=np.array([1.0]),
        vix_beta=np.array([-3.0]),
    )
    _run(args)
    pnl = args["pnl_out"].reshape(days, paths)
    spots = args["spot_out"].reshape(days, paths)
    vix = args["vix_out"].reshape(days, paths)
    settled = 100.0 * np.maximum(4990.0 - spots[2], 0.0) + 1000.0 * (0.5 + 0.9 * vix[2])
    np.testing.assert_allclose(pnl[2], settled, rtol=1e-14)
    np.testing.assert_array_equal(pnl[3], pnl[2])
    np.testing.assert_array_equal(pnl[4], pnl[2])
    assert (spots[2] < 4990.0).any() and (spots[2] > 4990.0).any()
    assert not np.array_equal(spots[4], spots[2]) and not np.array_equal(vix[4], vix[2])
    # Live on days 1, 2: the future at (fut_a, fut_b) of the day; settled legs have no Greeks.
    np.testing.assert_allclose(
        pnl[1], 100.0 * _bsm(False, spots[1], 4990.0, 1 / 365, 0.2) + 1000.0 * (0.95 * vix[1]), rtol=1e-12
    )
    sums = args["greek_sum_out"].reshape(days, 5)
    np.testing.assert_array_equal(sums[2:], 0.0)
    assert sums[1, 4] == 1000.0 * args["greek_paths"]


def _touch_below(b: float, s0: float, mu: float, sigma: float, t: float) -> float:
    nu = mu - sigma * sigma / 2
    x = math.log(b / s0)
    st = sigma * math.sqrt(t)
    return float(ndtr((x - nu * t) / st) + (b / s0) ** (2 * nu / sigma**2) * ndtr((x + nu * t) / st))


def _touch_above(b: float, s0: float, mu: float, sigma: float, t: float) -> float:
    nu = mu - sigma * sigma / 2
    x = math.log(b / s0)
    st = sigma * math.sqrt(t)
    return float(ndtr((-x + nu * t) / st) + (b / s0) ** (2 * nu / sigma**2) * ndtr((-x - nu * t) / st))


@pytest.mark.parametrize("drift", [0.0, 3.0])
def test_touch_probabilities_match_the_reflection_principle(drift: float) -> None:
    """Continuous monitoring through the bridge: the daily closes alone would miss
    about a third of the touches."""
    days, paths, sigma = 5, 20_000, 0.25
    low, high = 0.97 * SPOT, 1.03 * SPOT
    args = _case(
        [(0, True, 5100.0, -100.0, 30)],
        days=days,
        paths=paths,
        vol=sigma,
        drift=np.array([drift]),
        barrier_low=low,
        barrier_high=high,
    )
    _run(args)
    sums = args["touch_sum_out"].reshape(days, 3)
    sumsq = args["touch_sumsq_out"].reshape(days, 3)
    for d in (1, 3, 5):
        t = d / 365
        for k, expected in (
            (0, _touch_below(low, SPOT, drift, sigma, t)),
            (1, _touch_above(high, SPOT, drift, sigma, t)),
        ):
            mean = sums[d - 1, k] / paths
            se = math.sqrt(max(sumsq[d - 1, k] / paths - mean * mean, 0.0) / paths)
            assert abs(mean - expected) < 4 * se + 1e-12, (d, k, mean, expected, se)
        assert sums[d - 1, 2] >= max(sums[d - 1, 0], sums[d - 1, 1])
        assert sums[d - 1, 2] <= sums[d - 1, 0] + sums[d - 1, 1] + 1e-9
    assert np.all(np.diff(sums, axis=0) >= 0)  # touched by day d: nondecreasing
    # An absent barrier (NaN) is never touched.
    args = _case([(0, True, 5100.0, -100.0, 30)], days=days, paths=200, barrier_high=high)
    _run(args)
    sums = args["touch_sum_out"].reshape(days, 3)
    np.testing.assert_array_equal(sums[:, 0], 0.0)
    np.testing.assert_array_equal(sums[:, 2], sums[:, 1])


def test_seed_reproducibility_and_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    legs = [
        (0, True, 5100.0, -100.0, 20),
        (0, False, 4900.0, -100.0, 20),
        (2, True, 25.0, 100.0, 30),
        (1, False, float("nan"), 1000.0, 30),
    ]
    common = dict(
        days=4,
        paths=300,
        scenarios=2,
        diffusion_vol=np.array([0.18, np.nan]),
        vol_of_vix=np.array([1.2, 0.8]),
        vix_beta=np.array([-4.0, -2.0]),
        vix_kappa=np.array([5.0, 3.0]),
        jump_mean=np.array([0, -0.02, 0, 0, 0, 0, 0.01, 0.0]),
        jump_std=np.array([0, 0.03, 0, 0, 0, 0, 0.02, 0.0]),
        vix_jump_std=np.array([0, 0.1, 0, 0, 0, 0, 0, 0.0]),
        barrier_low=4900.0,
        barrier_high=5100.0,
        greek_paths=100,
    )

    def run(**extra: Any) -> list[np.ndarray]:
        args = _case(legs, **{**common, **extra})
        _run(args)
        return [args[k] for k in ("pnl_out", "touch_sum_out", "greek_sum_out", "spot_out", "vix_out")]

    first = run()
    for a, b in zip(first, run()):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(projection, "PATH_BLOCK", 7)
    blocked = run()
    for a, b in zip(first[:1] + first[3:], blocked[:1] + blocked[3:]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(first[1:3], blocked[1:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
    other = run(seed=20_261_125)
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(first[3], other[3])
    assert np.all(np.isfinite(first[0]))
    # Jumps on (scenario 0, day 2) only: day 1 of scenario 0 is the no-jump path.
    quiet = run(jump_mean=np.zeros(8), jump_std=np.zeros(8), vix_jump_std=np.zeros(8))
    spots, quiet_spots = first[3].reshape(2, 4, 300), quiet[3].reshape(2, 4, 300)
    np.testing.assert_array_equal(spots[0, 0], quiet_spots[0, 0])
    assert not np.array_equal(spots[0, 1], quiet_spots[0, 1])


def test_diffusion_vol_from_the_vix() -> None:
    """NaN diffusion vol: sigma = atm_vix_ratio * V / 100 (here V stays at the VIX)."""
    base = dict(days=3, paths=100)
    from_vix = _case([(0, True, 5000.0, 1.0, 10)], diffusion_vol=np.array([np.nan]), **base)
    given = _case([(0, True, 5000.0, 1.0, 10)], diffusion_vol=np.array([0.9 * VIX / 100]), **base)
    _run(from_vix)
    _run(given)
    np.testing.assert_allclose(from_vix["spot_out"], given["spot_out"], rtol=1e-14)


def test_monte_carlo_bad_input() -> None:
    legs = [(0, True, 5000.0, 1.0, 10)]
    with pytest.raises(InvalidInputError, match=r"expiry_day\[0\]"):
        _run(_case([(0, True, 5000.0, 1.0, 0)], days=2, paths=4))
    with pytest.raises(InvalidInputError, match=r"strike\[0\]"):
        _run(_case([(0, True, -1.0, 1.0, 10)], days=2, paths=4))
    with pytest.raises(ShapeError, match="jump_std"):
        _run(_case(legs, days=2, paths=4, jump_std=np.zeros(3)))
    with pytest.raises(InvalidInputError, match=r"table_atm\[2\]"):
        table = np.full(6, 0.2)
        table[2] = 0.0
        _run(_case(legs, days=2, paths=4, table_atm=table))
    with pytest.raises(TypeError, match="expiry_day"):
        _run(_case(legs, days=2, paths=4, expiry_day=np.array([10.0])))
    with pytest.raises(InvalidInputError, match="greek_paths"):
        _run(_case(legs, days=2, paths=4, greek_paths=5))
    with pytest.raises(InvalidInputError, match="barrier_low"):
        _run(_case(legs, days=2, paths=4, barrier_low=-1.0))
    with pytest.raises(InvalidInputError, match="days"):
        _run(_case(legs, days=31, paths=4))
    for bad in (0, 3):
        with pytest.raises(InvalidInputError, match="first_valued_day"):
            _run(_case(legs, days=2, paths=4, first_valued_day=bad))


def _reference_value(
    legs: list[tuple[int, bool, float, float, int]],
    args: dict[str, Any],
    d: int,
    spot: float,
    vix: float,
    settled: dict[int, float],
) -> float:
    """The position's value on day ``d`` at (spot, vix), one path, written from the
    contract with scalar math (np.interp for the tables); ``settled`` holds the
    settlement values of legs expired earlier on this path and is filled on expiry."""
    n_legs, n_nodes = len(legs), args["n_nodes"]
    nodes = args["vix_lo"] + args["vix_step"] * np.arange(n_nodes)
    rho, eta, gamma, floor = args["smile"]
    total = 0.0
    for leg, (kind, is_call, strike, weight, expiry) in enumerate(legs):
        if d > expiry:
            total += weight * settled[leg]
            continue
        row = (d - 1) * n_legs + leg
        table = slice(row * n_nodes, (row + 1) * n_nodes)
        future = args["fut_a"][row] + args["fut_b"][row] * vix
        tau = (expiry - d) / 365
        if d == expiry:
            under = spot if kind == 0 else future
            value = future if kind == 1 else max((under - strike) * (1 if is_call else -1), 0.0)
            settled[leg] = value
        elif kind == 1:
            value = future
        elif kind == 2:
            vol = float(np.interp(vix, nodes, args["table_vvol"][table]))
            out = np.empty(1)
            kernel_price(
                "black76", is_call, np.array([future]), strike, tau, RATE, RATE, np.array([vol]), out, False
            )
            value = float(out[0])
        else:
            atm = float(np.interp(vix, nodes, args["table_atm"][table]))
            if args["dynamics"] == 0:
                # The SSVI smile at the path's forward (Gatheral & Jacquier eq. 4.1, 4.5).
                forward = spot * math.exp((RATE - DIV) * tau)
                theta = atm * atm * tau
                phi = eta / (theta**gamma * (1 + theta) ** (1 - gamma))
                k = math.log(strike / forward)
                w = theta / 2 * (1 + rho * phi * k + math.sqrt((phi * k + rho) ** 2 + 1 - rho * rho))
                vol = math.sqrt(w / tau)
            else:
                change = float(np.interp(vix, nodes, args["table_change"][table]))
                vol = max(args["base_vol"][leg] + change, floor * atm)
            value = float(_bsm(is_call, spot, strike, tau, vol)[0])
        total += weight * value
    return total


@pytest.mark.parametrize("dynamics", [0, 1])
def test_revaluation_on_moving_tables(dynamics: int) -> None:
    """Several legs, tables that vary by day, leg and node (and VIX paths crossing
    the nodes and the table's ends): every path's P&L is the contract's formula at its
    recorded (S, V); the Greeks are the derivatives of that value (FD in the spot)."""
    legs = [
        (0, True, 5100.0, -100.0, 4),
        (0, False, 4900.0, -100.0, 12),
        (2, True, 22.0, 100.0, 9),
        (1, False, float("nan"), -1000.0, 3),
    ]
    days, paths, n_legs, n_nodes = 6, 40, len(legs), 4
    rng = np.random.default_rng(8)
    size = days * n_legs * n_nodes
    args = _case(
        legs,
        days=days,
        paths=paths,
        dynamics=dynamics,
        n_nodes=n_nodes,
        vix_lo=15.0,
        vix_step=3.0,
        smile=(-0.6, 1.2, 0.4, 0.6),
        table_atm=rng.uniform(0.12, 0.3, size),
        table_change=rng.uniform(-0.03, 0.05, size),
        table_vvol=rng.uniform(0.6, 1.2, size),
        base_vol=np.array([0.16, 0.22, 0.0, 0.0]),
        fut_a=rng.uniform(0.0, 3.0, days * n_legs),
        fut_b=rng.uniform(0.8, 1.0, days * n_legs),
        vol_of_vix=np.array([3.0]),
        vix_beta=np.array([-5.0]),
        diffusion_vol=np.array([np.nan]),
        base_value=123.0,
        greek_paths=paths,
    )
    _run(args)
    pnl = args["pnl_out"].reshape(days, paths)
    spots = args["spot_out"].reshape(days, paths)
    vix = args["vix_out"].reshape(days, paths)
    assert vix.min() < 15.0 and vix.max() > 24.0  # both clamps and inner nodes are used
    delta_sum = np.zeros(days)
    for p in range(paths):
        settled: dict[int, float] = {}
        for d in range(1, days + 1):
            value = _reference_value(legs, args, d, spots[d - 1, p], vix[d - 1, p], settled)
            assert pnl[d - 1, p] == pytest.approx(value - 123.0, rel=1e-12, abs=1e-8)
            h = 1e-5 * spots[d - 1, p]
            up = _reference_value(legs, args, d, spots[d - 1, p] + h, vix[d - 1, p], dict(settled))
            down = _reference_value(legs, args, d, spots[d - 1, p] - h, vix[d - 1, p], dict(settled))
            delta_sum[d - 1] += (up - down) / (2 * h)
    sums = args["greek_sum_out"].reshape(days, 5)
    # Day 4 settles the call: the FD sees its intrinsic, the kernel reports cash (0).
    for d in (1, 2, 3, 5, 6):
        assert sums[d - 1, 0] == pytest.approx(delta_sum[d - 1], rel=1e-5, abs=1e-4)
    # vix_delta on day 1: the future (weight) and the VIX call's Black-76 delta on its
    # own future (no fut_b factor).
    row = 2  # (day 1, leg 2)
    futures = args["fut_a"][row] + args["fut_b"][row] * vix[0]
    nodes = 15.0 + 3.0 * np.arange(n_nodes)
    vols = np.interp(vix[0], nodes, args["table_vvol"][row * n_nodes : (row + 1) * n_nodes])
    out = [np.empty(paths) for _ in range(9)]
    kernel_greeks("black76", True, futures, 22.0, 8 / 365, RATE, RATE, vols, out, False)
    assert sums[0, 4] == pytest.approx(-1000.0 * paths + 100.0 * out[1].sum(), rel=1e-12)
