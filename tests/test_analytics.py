"""`alvh.book.analytics`: per-leg Greeks in trader units and the position summary
(max profit / loss, breakevens at expiry and T+N, P&L, probabilities, errors)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import alvh
from alvh import Market, Position, SpxOption, VixFuture, VixFutures, VixOption
from alvh.book import analytics
from alvh.errors import InvalidInputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MAR21 = dt.date(2025, 3, 21)  # SPX monthly, March 2025
VIX_MAR = dt.date(2025, 3, 18)  # VIX March 2025
AS_OF = dt.date(2025, 2, 3)  # the condor example's entry date
SPOT = 5994.57


@pytest.fixture(scope="module")
def market() -> Market:
    """The example market's parameters moved to the condor's entry date (2025-02-03,
    SPX 5994.57), with the mean-reverting VIX futures model so every expiry prices."""
    base = Market.from_toml(EXAMPLES / "market.toml")
    return replace(base, as_of=AS_OF, spot=SPOT, futures=VixFutures.mean_reverting())


def condor(quantity: int = 1, prices=(35.2, 29.9, 31.4, 22.45)) -> Position:
    return Position.iron_condor(
        MAR21,
        short_put=5625,
        long_put=5575,
        short_call=6300,
        long_call=6350,
        quantity=quantity,
        prices=prices,
    )


def at_model(position: Position, market: Market) -> Position:
    """The same legs with entry prices equal to the model prices in ``market``."""
    frame = analytics.leg_greeks(position, market)
    legs = tuple(replace(leg, entry_price=float(p)) for leg, p in zip(position.legs, frame["price"]))
    return Position(legs, position.cash, position.name)


# -- expiry payoff ----------------------------------------------------------------
@pytest.mark.parametrize("quantity", [1, 10])
def test_condor_max_profit_is_credit_and_max_loss_width_minus_credit(market, quantity):
    book = condor(quantity)
    s = analytics.summary(book, market, breakeven_days=())
    credit = (35.2 + 31.4 - 29.9 - 22.45) * 100 * quantity
    assert s.credit == pytest.approx(credit)
    assert s.max_profit == pytest.approx(credit)
    assert s.max_loss == pytest.approx(50 * 100 * quantity - credit)
    assert s.margin == pytest.approx(50 * 100 * quantity - credit)
    assert s.expiry == MAR21


def test_expiry_breakevens_by_hand(market):
    s = analytics.summary(condor(10), market, breakeven_days=())
    credit_points = 35.2 + 31.4 - 29.9 - 22.45  # 14.25
    assert s.breakevens_expiry == pytest.approx((5625 - credit_points, 6300 + credit_points))
    assert analytics.expiry_pnl(condor(10), np.array(s.breakevens_expiry)) == pytest.approx(
        [0.0, 0.0], abs=1e-6
    )


def test_unbounded_loss_is_inf_and_has_no_margin(market):
    naked = Position((SpxOption(MAR21, 6300, True, -1, 30.0),))
    s = analytics.summary(naked, market, breakeven_days=())
    assert s.max_loss == math.inf and s.margin is None
    assert s.max_profit == pytest.approx(3000.0)
    assert s.breakevens_expiry == pytest.approx((6330.0,))
    long_call = naked.scaled(-1)
    s2 = analytics.summary(long_call, market, breakeven_days=())
    assert s2.max_profit == math.inf and s2.max_loss == pytest.approx(3000.0)


def test_vertical_margin_is_width_minus_credit(market):
    put_spread = Position.vertical(
        MAR21,
        long_strike=5575,
        short_strike=5625,
        is_call=False,
        quantity=3,
        prices={"long": 29.9, "short": 35.2},
    )  # a bull put (credit) spread: short 3 x 5625 put, long 3 x 5575 put
    s = analytics.summary(put_spread, market, breakeven_days=())
    credit = (35.2 - 29.9) * 100 * 3
    assert s.credit == pytest.approx(credit)
    assert s.margin == pytest.approx(50 * 100 * 3 - credit)
    assert s.breakevens_expiry == pytest.approx((5625 - 5.3,))


# -- value and P&L ----------------------------------------------------------------
def test_pnl_is_zero_when_entry_prices_equal_model_value(market):
    book = at_model(condor(10), market) + Position.vix_call(VIX_MAR, strike=25, quantity=5)
    book = at_model(book, market)
    s = analytics.summary(book, market, breakeven_days=())
    assert s.pnl == pytest.approx(0.0, abs=1e-8)
    assert s.value == pytest.approx(s.entry_cost)
    frame = analytics.leg_greeks(book, market)
    assert frame["pnl"].to_numpy() == pytest.approx(np.zeros(5), abs=1e-9)


def test_vix_future_value_is_variation_margin(market):
    future = market.vix_future(VIX_MAR)
    book = Position((VixFuture(VIX_MAR, 2, round(future - 1.0, 2)),))
    row = analytics.leg_greeks(book, market).row(0, named=True)
    assert row["price"] == pytest.approx(future)
    assert row["value"] == pytest.approx(2 * 1000 * (future - round(future - 1.0, 2)))
    assert row["delta_dollars_per_vix_point"] == pytest.approx(2000.0)
    assert row["delta_spx_points"] == 0.0 and row["theta_dollars_per_day"] == 0.0


# -- leg Greeks in trader units ------------------------------------------------------
def test_spx_leg_greeks_are_bsm_greeks_times_quantity_and_multiplier(market, backend):
    book = condor(10)
    frame = analytics.leg_greeks(book, market)
    k = np.array([leg.strike for leg in book])
    call = np.array([leg.is_call for leg in book])
    t = (MAR21 - AS_OF).days / 365.0
    vol = market.spx_vol(k, MAR21)
    g = alvh.bsm.greeks(is_call=call, spot=SPOT, strike=k, t=t, rate=market.rate, div=market.div, vol=vol)
    n = np.array([leg.quantity for leg in book]) * 100.0
    assert frame["vol"].to_numpy() == pytest.approx(vol, rel=1e-14)
    assert frame["price"].to_numpy() == pytest.approx(g.price, rel=1e-14)
    assert frame["value"].to_numpy() == pytest.approx(n * g.price, rel=1e-14)
    assert frame["delta_spx_points"].to_numpy() == pytest.approx(n * g.delta, rel=1e-14)
    assert frame["delta_dollars_per_1pct"].to_numpy() == pytest.approx(0.01 * SPOT * g.delta * n, rel=1e-14)
    assert frame["gamma_dollars_per_1pct"].to_numpy() == pytest.approx(
        n * g.gamma * (0.01 * SPOT) ** 2, rel=1e-14
    )
    assert frame["vega_dollars_per_vol_point"].to_numpy() == pytest.approx(n * g.vega / 100, rel=1e-14)
    assert frame["theta_dollars_per_day"].to_numpy() == pytest.approx(n * g.theta / 365, rel=1e-14)
    assert frame["beta_weighted_delta_spx_points"].to_numpy() == pytest.approx(n * g.delta)
    s = analytics.summary(book, market, breakeven_days=())
    assert s.delta_dollars_per_1pct == pytest.approx(float(np.sum(0.01 * SPOT * g.delta * n)))
    assert s.theta_dollars_per_day > 0.0 and s.vega_dollars_per_vol_point < 0.0


def test_delta_per_1pct_matches_a_repriced_1pct_move(market):
    """Finite differences of the model value give the $ units. Leg Greeks hold each
    leg's vol fixed, so the bumps use sticky-strike dynamics (vols stay put)."""
    book = condor(10)
    s = analytics.summary(book, market, breakeven_days=())
    h = 1e-4  # relative spot bump
    up, down = (
        analytics.summary(book, market.bump(spot_move=x, dynamics="sticky_strike"), breakeven_days=())
        for x in (h, -h)
    )
    fd_delta = (up.value - down.value) / (2 * h) * 0.01  # dV/d(move) per 1 %
    fd_gamma = (up.value - 2 * s.value + down.value) / h**2 * 0.01**2
    assert fd_delta == pytest.approx(s.delta_dollars_per_1pct, rel=1e-5)
    assert fd_gamma == pytest.approx(s.gamma_dollars_per_1pct, rel=1e-3)
    # delta per SPX point is the $ change of a 1-point move
    assert s.delta_dollars_per_1pct == pytest.approx(0.01 * SPOT * s.delta_spx_points)


def test_vix_option_leg_is_black76_on_the_future_of_its_expiry(market):
    book = Position.vix_call(VIX_MAR, strike=25, quantity=5, price=0.85)
    row = analytics.leg_greeks(book, market, vix_beta=-0.8).row(0, named=True)
    f = market.vix_future(VIX_MAR)
    t = (VIX_MAR - AS_OF).days / 365.0
    vv = float(market.vix_option_vol(VIX_MAR))
    g = alvh.black76.greeks(is_call=True, forward=f, strike=25.0, t=t, rate=market.rate, vol=vv)
    assert row["underlying"] == pytest.approx(f) and row["vol"] == pytest.approx(vv)
    assert row["value"] == pytest.approx(500 * float(g.price))
    assert row["delta_dollars_per_vix_point"] == pytest.approx(500 * float(g.delta))
    assert row["vega_dollars_per_vol_point"] == pytest.approx(5 * float(g.vega))
    assert row["delta_spx_points"] == 0.0
    pass_through = math.exp(-market.futures.kappa * t)
    assert row["beta_weighted_delta_spx_points"] == pytest.approx(
        500 * float(g.delta) * -0.8 * pass_through / (0.01 * SPOT)
    )
    s = analytics.summary(condor(10) + book, market, vix_beta=-0.8, breakeven_days=())
    assert s.expiry is None and s.max_loss is None and s.breakevens_expiry == ()
    assert s.vix_vega_dollars_per_vol_point == pytest.approx(5 * float(g.vega))
    assert s.beta_weighted_delta_spx_points < s.delta_spx_points  # the hedge adds short delta


def test_leg_expiring_today_is_intrinsic_with_zero_time_greeks(market):
    today = replace(market, as_of=MAR21)
    book = Position(
        (
            SpxOption(MAR21, 5900, True, 2, 10.0),
            SpxOption(MAR21, 5900, False, -1, 5.0),
            SpxOption(MAR21, 6100, True, 1, 1.0),
        )
    )
    frame = analytics.leg_greeks(book, today)
    assert frame["price"].to_list() == pytest.approx([SPOT - 5900, 0.0, 0.0])
    assert frame["delta_spx_points"].to_list() == pytest.approx([200.0, 0.0, 0.0])
    for column in ("gamma_dollars_per_1pct", "vega_dollars_per_vol_point", "theta_dollars_per_day"):
        assert frame[column].to_list() == [0.0, 0.0, 0.0]
    s = analytics.summary(book, today, breakeven_days=(0,))
    assert s.probability_of_profit in (0.0, 1.0)
    assert s.expected_moves[0][1] == 0.0


def test_expired_leg_error_names_the_leg(market):
    book = condor(1) + Position((SpxOption(dt.date(2025, 1, 17), 5900, False, -1, 5.0),))
    with pytest.raises(InvalidInputError, match=r"legs\[4\].*2025-01-17.*as_of 2025-02-03") as info:
        analytics.leg_greeks(book, market)
    assert info.value.arg == "legs[4]"
    with pytest.raises(InvalidInputError, match=r"legs\[4\]"):
        analytics.summary(book, market)
    vix = Position((VixOption(dt.date(2025, 1, 22), 20.0, True, 1, 1.0),))
    with pytest.raises(ValueError, match=r"legs\[0\].*VIX 2025-01-22"):
        analytics.summary(vix, market)


# -- probabilities -------------------------------------------------------------------
def _reflection(spot, barrier, t, vol, rate, div):
    from scipy.stats import norm

    nu = rate - div - 0.5 * vol**2
    b = math.log(barrier / spot)
    sd = vol * math.sqrt(t)
    if b > 0:
        finish = norm.cdf((-b + nu * t) / sd)
        return finish + math.exp(2 * nu * b / vol**2) * norm.cdf((-b - nu * t) / sd)
    finish = norm.cdf((b - nu * t) / sd)
    return finish + math.exp(2 * nu * b / vol**2) * norm.cdf((b + nu * t) / sd)


def test_touch_probability_matches_reflection_formula_and_exceeds_finishing(market):
    s = analytics.summary(condor(10), market, breakeven_days=())
    t = (MAR21 - AS_OF).days / 365.0
    assert [tp.strike for tp in s.touch] == [5625.0, 6300.0]
    for tp in s.touch:
        assert tp.vol == pytest.approx(float(market.atm_vol(MAR21)))
        expected = _reflection(SPOT, tp.strike, t, tp.vol, market.rate, market.div)
        assert tp.p_touch == pytest.approx(expected, rel=1e-12)
        assert 0.0 < tp.p_finish_beyond < tp.p_touch < 1.0
    # finishing beyond = the lognormal tail, e.g. P(S_T <= 5625)
    from scipy.stats import norm

    vol = s.touch[0].vol
    mean = math.log(SPOT) + (market.rate - market.div - 0.5 * vol**2) * t
    assert s.touch[0].p_finish_beyond == pytest.approx(
        norm.cdf((math.log(5625) - mean) / (vol * math.sqrt(t))), rel=1e-12
    )


def test_touch_probability_by_monte_carlo():
    """The closed form against a fine-stepped simulation (coarse tolerance)."""
    rng = np.random.default_rng(7)
    spot, barrier, t, vol, r, q = 100.0, 108.0, 0.25, 0.2, 0.04, 0.01
    steps, paths = 2000, 20000
    dt_ = t / steps
    z = rng.standard_normal((paths, steps), dtype=np.float64)
    logs = np.cumsum((r - q - 0.5 * vol**2) * dt_ + vol * math.sqrt(dt_) * z, axis=1)
    hit = (logs.max(axis=1) >= math.log(barrier / spot)).mean()
    p, _ = analytics.touch_probability(spot=spot, barrier=barrier, t=t, vol=vol, rate=r, div=q)
    assert hit == pytest.approx(p, abs=0.02)  # discrete monitoring slightly under-counts


def test_probability_of_profit_is_the_lognormal_mass_between_breakevens(market):
    from scipy.stats import norm

    s = analytics.summary(condor(10), market, breakeven_days=())
    t = (MAR21 - AS_OF).days / 365.0
    vol = float(market.atm_vol(MAR21))
    mean = math.log(SPOT) + (market.rate - market.div - 0.5 * vol**2) * t
    lo, hi = s.breakevens_expiry
    cdf = lambda x: norm.cdf((math.log(x) - mean) / (vol * math.sqrt(t)))  # noqa: E731
    assert s.probability_of_profit == pytest.approx(cdf(hi) - cdf(lo), rel=1e-12)
    assert s.expected_moves == ((MAR21, pytest.approx(SPOT * vol * math.sqrt(t))),)


# -- T+N breakevens --------------------------------------------------------------------
@pytest.mark.parametrize("depth", [0.5, 2.0, 10.0])
def test_t_plus_breakevens_find_a_dip_narrower_than_the_coarse_grid(market, depth):
    # A long guts (call 5970, put 6030, a week out) has its smooth minimum near 5962,
    # between the strikes (grid knots). With the entry cost just above that minimum the
    # P&L dips below zero over 3-12 points only, less than the 0.3 % (18-point) coarse
    # spacing: the roots must still be found, and agree with a 200,001-point brute force.
    expiry = AS_OF + dt.timedelta(days=7)
    book = Position((SpxOption(expiry, 5970, True, 1, 0.0), SpxOption(expiry, 6030, False, 1, 0.0)))
    shifted = analytics._shift(market, 0)
    dense = np.linspace(5900.0, 6100.0, 200_001)
    values = analytics.value_at_spots(book, market, dense, shifted)
    cost = float(values.min()) + depth
    roots = analytics._t_plus_breakevens(book, market, 0, cost)
    below = dense[values - cost < 0]
    assert len(roots) == 2 and roots[1] - roots[0] < 18.0
    assert roots[0] == pytest.approx(below[0], abs=1e-3) and roots[1] == pytest.approx(below[-1], abs=1e-3)


def test_t_plus_breakevens_are_zeros_of_the_model_pnl_and_approach_expiry_ones(market):
    book = at_model(condor(10), market)
    days = (5, 15, 30, 42)
    s = analytics.summary(book, market, breakeven_days=days)
    lo_exp, hi_exp = s.breakevens_expiry
    gaps = []
    for n, roots in s.breakevens_t_plus:
        assert len(roots) == 2, (n, roots)
        lo, hi = roots
        assert lo_exp < lo < SPOT < hi < hi_exp  # T+N tent sits inside the expiry tent
        gaps.append((lo - lo_exp, hi_exp - hi))
        later = market.bump(days=n)
        for root in roots:  # the P&L in the bumped market, SPX moved to the root, is 0
            moved = later.bump(spot_move=root / later.spot - 1.0)
            v = analytics.summary(book, moved, breakeven_days=())
            assert v.pnl == pytest.approx(0.0, abs=1e-4)
    lows, highs = zip(*gaps)
    assert all(a > b for a, b in zip(lows, lows[1:]))
    assert all(a > b for a, b in zip(highs, highs[1:]))


def test_t_plus_breakevens_settle_legs_expiring_inside_the_shift(market):
    book = condor(10)
    after = (MAR21 - AS_OF).days + 3
    s = analytics.summary(book, market, breakeven_days=(after,))
    assert s.breakevens_t_plus[0][1] == pytest.approx(s.breakevens_expiry, abs=1e-5)


def test_bad_breakeven_days(market):
    with pytest.raises(InvalidInputError, match="breakeven_days"):
        analytics.summary(condor(), market, breakeven_days=(-1,))


# -- frames ------------------------------------------------------------------------------
def test_frames_and_units(market):
    book = Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    frame = analytics.leg_greeks(book, market)
    assert frame.height == 5
    assert frame.schema["expiry"] == pl.Date and frame["right"].to_list()[-1] == "call"
    assert frame["type"].to_list() == ["spx_option"] * 4 + ["vix_option"]
    long = analytics.summary(book, market).to_polars()
    assert long.columns == ["metric", "value", "unit"]
    metrics = dict(zip(long["metric"], long["unit"]))
    assert metrics["theta_dollars_per_day"] == "$ per calendar day"
    assert "breakeven_t_plus_5d_1" in metrics and "p_touch_2025-03-21_5625_put" in metrics
    totals = analytics.summary(book, market, breakeven_days=())
    assert totals.theta_dollars_per_day == pytest.approx(frame["theta_dollars_per_day"].sum())
    assert totals.value == pytest.approx(frame["value"].sum())


def test_touch_probability_breached_strike_and_expiry_day():
    # a short put strike above the spot has been breached: touched for sure
    p, finish = analytics.touch_probability(
        spot=100.0, barrier=105.0, t=0.1, vol=0.2, rate=0.0, div=0.0, direction="down"
    )
    assert p == 1.0 and 0.5 < finish < 1.0
    # the same strike seen as an up barrier is still ahead
    p_up, finish_up = analytics.touch_probability(
        spot=100.0, barrier=105.0, t=0.1, vol=0.2, rate=0.0, div=0.0
    )
    assert 0.0 < finish_up < p_up < 1.0 and finish_up == pytest.approx(1.0 - finish)
    assert analytics.touch_probability(spot=100.0, barrier=105.0, t=0.0, vol=0.2, rate=0.0, div=0.0) == (
        0.0,
        0.0,
    )
    with pytest.raises(InvalidInputError, match="direction"):
        analytics.touch_probability(
            spot=100.0, barrier=105.0, t=0.1, vol=0.2, rate=0.0, div=0.0, direction="sideways"
        )


def test_empty_position_and_wrong_types(market):
    frame = analytics.leg_greeks(Position(), market)
    assert frame.height == 0 and "theta_dollars_per_day" in frame.columns
    s = analytics.summary(Position(cash=100.0), market)
    assert s.value == 0.0 and s.cash == 100.0 and s.expiry is None
    assert s.breakevens_t_plus == ((0, ()), (5, ()), (10, ()))
    with pytest.raises(TypeError, match="position"):
        analytics.summary("condor.toml", market)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="market"):
        analytics.leg_greeks(condor(), "market.toml")  # type: ignore[arg-type]


def test_t_plus_breakevens_with_a_vix_hedge_leg(market):
    book = Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    s = analytics.summary(book, market, breakeven_days=(0, 7))
    for n, roots in s.breakevens_t_plus:
        assert len(roots) == 2
        later = market.bump(days=n)
        for root in roots:
            moved = later.bump(spot_move=root / later.spot - 1.0)
            assert analytics.summary(book, moved, breakeven_days=()).pnl == pytest.approx(0.0, abs=1e-4)
