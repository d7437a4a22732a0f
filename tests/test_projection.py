"""alvh.project: the Monte Carlo projection on both backends (docs/projection_engine.md).

Closed forms: with no events, the VIX held still and the diffusion vol equal to the
implied vol, a single option's value grows at the risk-free rate in expectation
under the risk-neutral drift; the barrier touch probability is the reflection-principle
formula; log-returns are normal.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

import alvh
from alvh import Market, Position, SpxOption, SsviSurface, VixFuture, VixFutures, VixOption
from alvh.errors import InputTypeError, InvalidInputError
from alvh.risk.projection import STAT_NAMES, project
from alvh.risk.scenarios import Event, Scenario, ScenarioSet

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = dt.date(2025, 2, 3)
MAR21 = dt.date(2025, 3, 21)


def flat_market(vix: float = 20.0) -> Market:
    """A market whose SPX vol is the same at every strike and tenor: 0.9 * VIX / 100."""
    return Market(
        as_of=AS_OF,
        spot=6000.0,
        rate=0.04,
        div=0.01,
        vix=vix,
        futures=VixFutures.mean_reverting(theta=vix, kappa=2.0),
        vol_model=SsviSurface(atm_vix_ratio=0.9, eta=0.0),
    )


def still_vix(drift: float, *, name: str = "base", vol: float | None = None) -> ScenarioSet:
    """One scenario, no events, the VIX held at its level (no vol of vol, no beta, no
    mean reversion): the SPX is a geometric Brownian motion."""
    return ScenarioSet(
        "test",
        (
            Scenario(
                name=name,
                probability=1.0,
                spx_drift=drift,
                diffusion_vol=vol,
                vix_beta=0.0,
                vol_of_vix=0.0,
                vix_kappa=0.0,
                vix_theta=None,
            ),
        ),
    )


@pytest.fixture(scope="module")
def book() -> Position:
    return Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")


@pytest.fixture(scope="module")
def market() -> Market:
    return Market.from_toml(EXAMPLES / "market_2025-02-03.toml")


# --------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("is_call, strike", [(True, 6100.0), (False, 5800.0)])
def test_mean_value_of_one_option_grows_at_the_rate(backend, is_call, strike):
    market = flat_market()
    option = Position((SpxOption(MAR21, strike, is_call, 1, 0.0),))
    drift = market.rate - market.div
    paths = 20_000 if backend == "native" else 6_000
    result = project(option, market, scenarios=still_vix(drift), days=8, paths=paths, seed=11)
    v0 = 100.0 * float(
        alvh.bsm.price(
            is_call=is_call,
            spot=market.spot,
            strike=strike,
            t=market.t(MAR21),
            rate=market.rate,
            div=market.div,
            vol=0.9 * market.vix / 100.0,
        )
    )
    for d in (2, 5, 8):
        expected = v0 * (math.exp(market.rate * d / 365.0) - 1.0)
        mean, se = result.stat("mean")[0, d - 1], result.mean_se[0, d - 1]
        assert abs(mean - expected) < 3.0 * se, (d, mean, expected, se)


def test_touch_probability_is_the_reflection_principle(backend):
    market = flat_market()
    sigma = 0.9 * market.vix / 100.0
    barrier = 5850.0
    short_put = Position((SpxOption(MAR21, barrier, False, -1, 0.0),))
    mu = 0.03
    paths = 40_000 if backend == "native" else 10_000
    result = project(short_put, market, scenarios=still_vix(mu), days=10, paths=paths, seed=3)
    nu = mu - 0.5 * sigma**2
    b = math.log(barrier / market.spot)
    for d in (1, 5, 10):
        t = d / 365.0
        s = sigma * math.sqrt(t)
        exact = norm.cdf((b - nu * t) / s) + math.exp(2 * nu * b / sigma**2) * norm.cdf((b + nu * t) / s)
        got, se = result.touch[0, d - 1, 0], result.touch_se[0, d - 1, 0]
        assert abs(got - exact) < 3.0 * se + 1e-4, (d, got, exact, se)
        assert result.touch[0, d - 1, 2] == got  # no call barrier: "either" is the put's
        assert result.touch[0, d - 1, 1] == 0.0


def test_log_returns_are_normal(backend):
    market = flat_market()
    sigma = 0.9 * market.vix / 100.0
    mu = 0.05
    one = Position((SpxOption(MAR21, 6000.0, True, 1, 0.0),))
    paths = 40_000 if backend == "native" else 10_000
    result = project(one, market, scenarios=still_vix(mu), days=10, paths=paths, seed=8, keep_paths=True)
    assert result.spot_paths is not None
    for d in (1, 10):
        x = np.log(result.spot_paths[0, d - 1] / market.spot)
        t = d / 365.0
        mean, sd = (mu - 0.5 * sigma**2) * t, sigma * math.sqrt(t)
        for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99):
            want = mean + sd * norm.ppf(q)
            # the sample quantile's standard error: sqrt(q (1 - q) / n) / density
            se = math.sqrt(q * (1 - q) / paths) / norm.pdf(norm.ppf(q)) * sd
            assert abs(np.quantile(x, q) - want) < 4.0 * se, (d, q)
        # the VIX stays put: no vol of vol, no beta, no mean reversion
        np.testing.assert_allclose(result.vix_paths[0, d - 1], market.vix, rtol=1e-14)


def test_doubling_the_paths_halves_the_variance_of_the_estimates():
    market = flat_market()
    option = Position((SpxOption(MAR21, 6000.0, False, -2, 0.0),))
    scen = still_vix(0.0)
    estimates = {
        n: [
            project(option, market, scenarios=scen, days=5, paths=n, seed=seed, greek_paths=0).stat("mean")[
                0, -1
            ]
            for seed in range(40)
        ]
        for n in (1000, 2000)
    }
    ratio = np.var(estimates[1000], ddof=1) / np.var(estimates[2000], ddof=1)
    # F(39, 39) around 2: the 1 % .. 99 % band of the ratio is about 0.93 .. 4.3.
    assert 0.93 < ratio < 4.3, ratio


# --------------------------------------------------------------------------- the book


def test_backends_agree(book, market):
    results = {}
    for name in ("native", "python"):
        with alvh.use_backend(name):
            results[name] = project(
                book, market, days=6, paths=1500, seed=21, greek_paths=300, keep_paths=True
            )
    native, python = results["native"], results["python"]
    assert native.backend == "native" and python.backend == "python"
    for name in ("pnl", "spot_paths", "vix_paths", "stats", "mixture", "touch", "greeks"):
        a, b = getattr(native, name), getattr(python, name)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10 * np.abs(b).max(), err_msg=name)


def test_same_seed_same_numbers_on_one_and_two_threads(book, market):
    from alvh import _native

    with alvh.use_backend("native"):
        parallel = project(book, market, days=5, paths=5000, seed=99, keep_paths=True)
        _native.set_parallel(False)
        try:
            serial = project(book, market, days=5, paths=5000, seed=99, keep_paths=True)
        finally:
            _native.set_parallel(True)
        other = project(book, market, days=5, paths=5000, seed=100, keep_paths=True)
    for name in ("pnl", "stats", "mixture", "touch", "greeks"):
        assert np.array_equal(getattr(parallel, name), getattr(serial, name)), name
    assert not np.array_equal(parallel.pnl, other.pnl)


def test_a_prefix_of_the_paths_does_not_depend_on_the_path_count(backend, book, market):
    # Streams are keyed by (seed, scenario, path): 1000 paths are the first 1000 of 3000.
    small = project(book, market, days=4, paths=1000, seed=4, keep_paths=True)
    large = project(book, market, days=4, paths=3000, seed=4, keep_paths=True)
    assert small.pnl is not None and large.pnl is not None
    np.testing.assert_array_equal(small.pnl, large.pnl[:, :, :1000])


def test_one_call_per_scenario_or_one_for_all_give_the_same_numbers(backend, book, market):
    # With a progress callback the kernel runs once per scenario; without, once for all.
    seen = []
    each = project(
        book,
        market,
        days=4,
        paths=1200,
        seed=8,
        keep_paths=True,
        greek_paths=100,
        progress=lambda done, total: seen.append((done, total)),
    )
    whole = project(book, market, days=4, paths=1200, seed=8, keep_paths=True, greek_paths=100)
    assert seen == [(s + 1, len(each.names)) for s in range(len(each.names))]
    for name in ("pnl", "spot_paths", "vix_paths", "stats", "mixture", "touch", "greeks"):
        assert np.array_equal(getattr(each, name), getattr(whole, name)), name


def test_horizon_statistics_are_the_last_day_of_the_projection(backend, book):
    # A VIX call expiring on day 3 of 6: its settlement must reach the horizon even
    # though days 1-5 are not valued.
    from alvh.risk.projection import horizon_statistics

    market = flat_market(vix=18.0)
    hedged = book.with_leg(VixOption(market.as_of + dt.timedelta(days=3), 18.0, True, 5, 1.2))
    full = project(hedged, market, days=6, paths=900, seed=13, greek_paths=0, representative=False)
    stats, mixture = horizon_statistics(hedged, market, days=6, paths=900, seed=13)
    assert np.array_equal(stats, full.stats[:, -1])
    assert np.array_equal(mixture, full.mixture[-1])
    with pytest.raises(InvalidInputError, match="days"):
        horizon_statistics(hedged, market, days=0)


def test_legs_expiring_inside_the_horizon_settle_and_stay(backend):
    market = flat_market(vix=18.0)  # model futures: a VIX leg settles on the VIX itself
    scen = ScenarioSet("v", (Scenario("moving", 1.0, 0.0, None, -6.0, 0.9, 5.0, None),))
    feb07 = dt.date(2025, 2, 7)  # day 4
    vix_feb = dt.date(2025, 2, 12)  # day 9
    for leg, day, settle in (
        (SpxOption(feb07, 6000.0, True, 1, 0.0), 4, lambda spot, vix: 100 * np.maximum(spot - 6000.0, 0.0)),
        (VixOption(vix_feb, 18.0, True, 2, 0.0), 9, lambda spot, vix: 200 * np.maximum(vix - 18.0, 0.0)),
        (VixFuture(vix_feb, -1, 18.5), 9, lambda spot, vix: -1000 * (vix - 18.5)),
    ):
        result = project(
            Position((leg,)),
            market,
            scenarios=scen,
            days=10,
            paths=400,
            seed=2,
            keep_paths=True,
            greek_paths=0,
        )
        assert result.pnl is not None and result.spot_paths is not None
        assert result.vix_paths is not None
        e = day - 1
        payoff = settle(result.spot_paths[0, e], result.vix_paths[0, e])
        today = result.pnl[0, e] - payoff  # minus today's mark: the same on every path
        np.testing.assert_allclose(today, today[0], rtol=0, atol=1e-9 * max(1, abs(today[0])))
        for later in range(day, 10):
            np.testing.assert_array_equal(result.pnl[0, later], result.pnl[0, e])


def test_to_polars_long_form_with_the_mixture(backend, book, market):
    result = project(book, market, scenarios="gdp", days=5, paths=400, seed=1)
    frame = result.to_polars()
    assert frame.height == (len(result.names) + 1) * 5
    assert set(STAT_NAMES) <= set(frame.columns)
    mixture = frame.filter(frame["scenario"] == "mixture")
    assert mixture.height == 5
    np.testing.assert_allclose(mixture["mean"].to_numpy(), result.mixture[:, 0])
    weights = result.probability
    np.testing.assert_allclose(result.mixture[:, 0], weights @ result.stat("mean"), rtol=1e-12)
    # quantiles ordered, VaR >= -median, CVaR >= VaR
    stats = result.stats
    assert (np.diff(stats[..., 2:9], axis=-1) >= 0).all()
    assert (result.stat("cvar95") >= result.stat("var95")).all()
    assert (result.stat("cvar99") >= result.stat("var99")).all()


# --------------------------------------------------------------------------- bad input


def test_bad_inputs_name_the_field(book, market):
    with pytest.raises(InvalidInputError, match="paths"):
        project(book, market, paths=0)
    with pytest.raises(InvalidInputError, match="days"):
        project(book, market, days=0)
    with pytest.raises(InputTypeError, match="seed"):
        project(book, market, seed=1.5)
    with pytest.raises(InvalidInputError, match="dynamics"):
        project(book, market, dynamics="sticky_delta")
    with pytest.raises(InvalidInputError, match="gdp_x_earnings"):
        project(book, market, scenarios="gdp_x_earning")
    with pytest.raises(InvalidInputError, match="diffusion_vol"):
        Scenario("x", 1.0, 0.0, -0.2, 0.0, 0.0, 0.0, None)
    with pytest.raises(InvalidInputError, match="sum"):
        ScenarioSet(
            "bad",
            (
                Scenario("a", 0.5, 0.0, None, 0.0, 0.0, 0.0, None),
                Scenario("b", 0.4, 0.0, None, 0.0, 0.0, 0.0, None),
            ),
        )
    expiring = book.with_leg(SpxOption(AS_OF, 6000.0, True, 1, 1.0))
    with pytest.raises(InvalidInputError, match=r"legs\[5\]"):
        project(expiring, market)


def test_events_move_the_distribution(backend):
    market = flat_market()
    option = Position((SpxOption(MAR21, 6000.0, False, 1, 0.0),))
    crash = Event("gdp", AS_OF + dt.timedelta(days=3), -0.05, 0.0, 0.3, 0.0)
    with_event = ScenarioSet("e", (replace(still_vix(0.0).scenarios[0], events=(crash,)),))
    calm = project(option, market, scenarios=still_vix(0.0), days=5, paths=2000, seed=5)
    shocked = project(option, market, scenarios=with_event, days=5, paths=2000, seed=5)
    # Before the event the two are the same paths; from day 3 the put gains.
    np.testing.assert_allclose(shocked.stats[0, :2], calm.stats[0, :2], rtol=1e-12)
    assert shocked.stat("mean")[0, 2] > calm.stat("mean")[0, 2] + 5 * calm.mean_se[0, 2]


def test_quantile_and_cvar_standard_errors_match_the_spread_over_seeds():
    # The reported standard errors against the actual spread of the estimates over
    # independent seeds (40 runs): within the sampling error of a standard deviation
    # estimated from 40 values (about +-25 % at 2 sigma).
    market = flat_market()
    option = Position((SpxOption(MAR21, 5900.0, False, -1, 0.0),))
    scen = still_vix(0.0)
    names = ("q05", "q50", "q95", "cvar95", "var95")
    estimates = {name: [] for name in names}
    reported = {name: [] for name in names}
    for seed in range(40):
        r = project(option, market, scenarios=scen, days=5, paths=2000, seed=seed, greek_paths=0)
        for name in names:
            estimates[name].append(r.stat(name)[0, -1])
            se_name = "q05_se" if name == "var95" else f"{name}_se"
            reported[name].append(r.stat(se_name)[0, -1])
        assert np.allclose(r.mixture[-1, STAT_NAMES.index("q50_se")], r.stat("q50_se")[0, -1], rtol=0.2)
    for name in names:
        spread = np.std(estimates[name], ddof=1)
        typical = np.mean(reported[name])
        assert 0.65 < typical / spread < 1.5, (name, typical, spread)


def test_the_vix_stays_in_bounds_on_far_tail_paths(backend):
    # Strong spot-vol feedback from a high VIX: without the [1, 150] clamp some paths ran
    # away to infinity (seen in a backtest); every number stays finite.
    market = flat_market(vix=60.0)
    wild = ScenarioSet("wild", (Scenario("panic", 1.0, -0.5, None, -30.0, 5.0, 0.0, None),))
    option = Position(
        (SpxOption(MAR21, 5000.0, False, 1, 0.0), VixOption(dt.date(2025, 3, 18), 80.0, True, 3, 0.0))
    )
    result = project(option, market, scenarios=wild, days=10, paths=3000, seed=1, keep_paths=True)
    assert result.vix_paths is not None and result.pnl is not None
    assert result.vix_paths.min() >= 1.0 - 1e-12 and result.vix_paths.max() <= 150.0 + 1e-9
    assert (result.vix_paths.max() > 149.0) and np.isfinite(result.pnl).all()
    assert np.isfinite(result.stats).all()


# -- issue 16, points 4 and 5: documented-valid inputs that crashed the projection --------


def test_a_vix_above_the_paths_range_is_refused_and_a_high_listed_vix_projects(book, market):
    # before: VIX 300 ended in "IndexError: index 0 is out of bounds"; VIX 100 failed naming
    # vol_shifts[0], an argument the user never passed
    hot = replace(market, vix=300.0, futures=replace(market.futures, repair_calendar=True))
    with pytest.raises(InvalidInputError, match=r"market\.vix must be at most 150") as err:
        project(book, hot, paths=200, days=5, seed=1)
    assert err.value.arg == "market.vix"
    high = replace(market, vix=100.0, futures=replace(market.futures, repair_calendar=True))
    out = project(book, high, paths=500, days=5, seed=1)
    paths = out.representative_paths()
    assert paths["vix"].min() >= 1.0 and paths["vix"].max() <= 150.0
    assert np.isfinite(paths["pnl"].to_numpy()).all()


def test_a_mean_reversion_faster_than_a_day_projects_ten_days(book, market):
    # before: vix_kappa = 1000 (the documented maximum) failed at 10 days with "spot_moves
    # must be greater than -1": the expected path was stepped without the kernel's clamp
    fast = ScenarioSet("fast", (Scenario("snap", 1.0, 0.0, None, 0.0, 0.9, 1000.0, None),))
    out = project(book, market, scenarios=fast, paths=500, days=10, seed=2)
    paths = out.representative_paths()
    assert paths["vix"].min() >= 1.0 and paths["vix"].max() <= 150.0
    assert paths["spx"].min() > 0.0 and np.isfinite(paths["pnl"].to_numpy()).all()


def test_a_falling_drift_lifts_the_expected_vix_and_costs_a_short_condor(backend):
    """Issue 18: ln VIX follows the SPX diffusion return *with its drift* (vix_beta *
    r_diff, docs/scenarios.md). Under the calibrated dynamics a recession drift lifts
    the expected VIX path (Monte Carlo mean and the expected path) and a delta-neutral
    short condor (flat vol, strikes log-symmetric about the forward, so delta and the
    realized-vs-implied gap play no part) loses more; before the fix every scenario had
    the same expected VIX path and the falling one had the *best* mean P&L."""
    from alvh.risk import scenarios as built_in

    market = flat_market()
    condor = Position(
        (
            SpxOption(MAR21, 5600.0, False, 10, 0.0),
            SpxOption(MAR21, 5650.0, False, -10, 0.0),
            SpxOption(MAR21, 6400.0, True, -10, 0.0),
            SpxOption(MAR21, 6450.0, True, 10, 0.0),
        )
    )
    dynamics = dict(
        diffusion_vol=None,
        vix_beta=built_in.VIX_BETA,
        vol_of_vix=built_in.VOL_OF_VIX,
        vix_kappa=built_in.VIX_KAPPA,
        vix_theta=None,
    )
    drifts = (("rising", 0.16), ("flat", 0.0), ("falling", -0.42))
    three = ScenarioSet(
        "drifts", tuple(Scenario(name=n, probability=1 / 3, spx_drift=d, **dynamics) for n, d in drifts)
    )
    result = project(condor, market, scenarios=three, days=10, paths=20_000, seed=3, keep_paths=True)
    assert result.vix_paths is not None
    vix_mean = result.vix_paths[:, -1].mean(axis=1)
    vix_se = result.vix_paths[:, -1].std(axis=1) / math.sqrt(result.paths)
    for up, down in ((0, 1), (1, 2)):  # rising < flat < falling
        assert vix_mean[down] > vix_mean[up] + 5 * math.hypot(vix_se[up], vix_se[down])
    rep = result.representative_paths()
    expected_vix = rep.filter(rep["day"] == 10)["vix"].to_list()
    assert expected_vix[0] < market.vix < expected_vix[1] < expected_vix[2]
    mean, se = result.stat("mean")[:, -1], result.mean_se[:, -1]
    for better, worse in ((0, 1), (1, 2)):
        assert mean[worse] < mean[better] - 3 * math.hypot(se[better], se[worse])


def test_where_the_projected_tail_comes_from(market):
    # issue 18: the conditional SPX and VIX moves of the worst 5 % of paths, by scenario
    expiry = dt.date(2025, 3, 21)
    short_put = Position((SpxOption(expiry, 5700.0, False, -1, 40.0),))
    short_call = Position((SpxOption(expiry, 6300.0, True, -1, 30.0),))
    common = {"scenarios": "gdp", "days": 10, "paths": 4000, "seed": 2, "keep_paths": True}
    puts = project(short_put, market, **common)
    table = puts.tail_sources()
    assert table["scenario"].to_list() == [*puts.names, "mixture"]
    scen = table.filter(table["scenario"] != "mixture")
    assert scen["share_of_tail"].sum() == pytest.approx(1.0, abs=1e-9)
    assert (scen["tail_spx_move_pct"] < 0).all() and (scen["tail_vix_change"] > 0).all()
    # by hand: a scenario's worst 5 % of its own paths
    i = 0
    pnl, spot, vix = (np.asarray(a[i, -1]) for a in (puts.pnl, puts.spot_paths, puts.vix_paths))
    worst = np.sort(pnl)[:200]
    assert scen["tail_pnl"][i] == pytest.approx(worst.mean(), rel=1e-12)
    order = np.argsort(pnl, kind="stable")[: worst.size]
    assert scen["tail_spx_move_pct"][i] == pytest.approx(
        100 * (spot[order] / market.spot - 1).mean(), rel=1e-12
    )
    assert scen["tail_vix_change"][i] == pytest.approx((vix[order] - market.vix).mean(), rel=1e-12)
    # the recession carries more of a short put's tail than its probability
    recession = table.filter(table["scenario"] == "recession").row(0, named=True)
    assert recession["share_of_tail"] > recession["probability"]
    calls = project(short_call, market, **common).tail_sources()
    assert (calls.filter(calls["scenario"] != "mixture")["tail_spx_move_pct"] > 0).all()
    with pytest.raises(InvalidInputError, match="keep_paths"):
        project(short_put, market, scenarios="gdp", days=5, paths=200).tail_sources()
    with pytest.raises(InvalidInputError, match="level"):
        puts.tail_sources(level=1.0)
