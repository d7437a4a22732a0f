"""The market model (`alvh.Market`, `VixFutures`, `SsviSurface`, `VolOfVol`):
the VIX-linked ATM term structure, the smile, vol dynamics under bumps, the
futures curve, the vol of vol, and the TOML format with its error messages.

The values checked are those the definitions in DESIGN.md "Market model" and the
`alvh.market` docstrings give by hand; no timing asserts.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import alvh
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market import VolOfVol
from alvh.market.cboe import model_vix

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "market.toml"

AS_OF = date(2024, 10, 18)
MONTH = 30 / 365
# Real VIX expiries (Wednesdays 30 days before the next month's SPX third Friday).
EXPIRIES = (date(2024, 11, 20), date(2024, 12, 18), date(2025, 1, 22), date(2025, 2, 19))
PRICES = (19.6, 19.3, 19.2, 19.35)
#: The default SSVI smile with the ATM/VIX ratio fixed at 0.9 instead of solved.
FIXED = alvh.SsviSurface(atm_vix_ratio=0.9)


_DEFAULT = alvh.SsviSurface()


def ssvi_vol(strike, forward, tau, atm, rho=_DEFAULT.rho, eta=_DEFAULT.eta, gamma=_DEFAULT.gamma):
    """The SSVI vol written out by hand (Gatheral & Jacquier 2014, eq. 4.1 and 4.5)."""
    theta = atm**2 * tau
    phi = eta / (theta**gamma * (1 + theta) ** (1 - gamma))
    k = np.log(strike / forward)
    w = theta / 2 * (1 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1 - rho**2))
    return np.sqrt(w / tau)


def explicit_market(**changes) -> alvh.Market:
    futures = alvh.VixFutures.explicit(dict(zip(EXPIRIES, PRICES)))
    fields = dict(as_of=AS_OF, spot=5864.67, rate=0.047, div=0.013, vix=18.03, futures=futures)
    fields["vol_model"] = FIXED  # the ATM level pinned, so that pillar values are exact
    fields.update(changes)
    return alvh.Market(**fields)


def model_market(**changes) -> alvh.Market:
    fields = dict(
        as_of=AS_OF,
        spot=5000.0,
        rate=0.04,
        div=0.015,
        vix=16.0,
        futures=alvh.VixFutures.mean_reverting(theta=20.0, kappa=2.0),
        vol_model=FIXED,
    )
    fields.update(changes)
    return alvh.Market(**fields)


def on_day(days: int) -> date:
    return AS_OF + timedelta(days=days)


def surface_point(market: alvh.Market, expiry: date) -> tuple[float, float, float]:
    """(t, forward, ATM vol) of ``market`` at ``expiry``."""
    return float(market.t(expiry)), float(market.forward(expiry)), float(market.atm_vol(expiry))


def total_variance(market: alvh.Market, days: int) -> float:
    return float(market.atm_vol(on_day(days))) ** 2 * days / 365


# ------------------------------------------------------------------ ATM term structure


def test_atm_vol_at_30_days_is_ratio_times_vix():
    market = explicit_market()
    assert float(market.atm_vol(on_day(30))) == pytest.approx(0.9 * 18.03 / 100, rel=1e-12)
    ratio_75 = explicit_market(vol_model=alvh.SsviSurface(atm_vix_ratio=0.75))
    assert float(ratio_75.atm_vol(on_day(30))) == pytest.approx(0.75 * 18.03 / 100, rel=1e-12)


def test_atm_vol_is_exact_at_each_futures_pillar():
    market = explicit_market()
    for expiry, price in zip(EXPIRIES, PRICES):
        pillar = expiry + timedelta(days=30)
        assert float(market.atm_vol(pillar)) == pytest.approx(0.9 * price / 100, rel=1e-12)


def test_atm_total_variance_is_linear_between_pillars():
    market = explicit_market()
    pillar_days = [30] + [(e - AS_OF).days + 30 for e in EXPIRIES]
    for left, right in zip(pillar_days, pillar_days[1:]):
        w_left, w_right = total_variance(market, left), total_variance(market, right)
        for day in range(left + 1, right):
            share = (day - left) / (right - left)
            expected = w_left + share * (w_right - w_left)
            assert total_variance(market, day) == pytest.approx(expected, rel=1e-12)


def test_atm_vol_is_flat_before_30_days_and_after_the_last_pillar():
    market = explicit_market()
    vix_atm = 0.9 * 18.03 / 100
    short = market.atm_vol([on_day(0), on_day(1), on_day(7), on_day(29)])
    np.testing.assert_allclose(short, vix_atm, rtol=1e-12)
    last_pillar = EXPIRIES[-1] + timedelta(days=30)
    far = market.atm_vol([last_pillar + timedelta(days=1), last_pillar + timedelta(days=700)])
    np.testing.assert_allclose(far, 0.9 * PRICES[-1] / 100, rtol=1e-12)


def test_backwardated_curve_is_refused_unless_repair_is_asked_and_then_never_falls():
    # VIX 45 with futures far below it: the raw pillars would lose total variance.
    points = {on_day(5): 24.0, on_day(33): 22.0, on_day(61): 21.0}
    with pytest.raises(
        alvh.errors.InvalidInputError, match=r"futures\.prices\[0\]: the VIX future expiring"
    ) as err:
        explicit_market(vix=45.0, futures=alvh.VixFutures.explicit(points))
    assert err.value.arg == "futures.prices" and err.value.index == 0 and err.value.value == 24.0
    assert "repair_calendar=True" in str(err.value)
    market = explicit_market(vix=45.0, futures=alvh.VixFutures.explicit(points, repair_calendar=True))
    w = [total_variance(market, day) for day in range(1, 200)]
    assert all(b >= a - 1e-15 for a, b in zip(w, w[1:]))
    assert alvh.market.check_arbitrage(market).counts["calendar"] == 0


def test_a_curve_rising_in_price_but_falling_in_variance_names_the_later_future():
    # 30 days of VIX 20 carry 20^2 x 30; a future at 14 expiring in 20 days (50-day
    # pillar) carries 14^2 x 50 = 9,800 < 12,000: refused, naming curve[1] in the file.
    points = {on_day(10): 21.0, on_day(20): 14.0, on_day(40): 22.0}
    with pytest.raises(
        alvh.errors.InvalidInputError, match=r"futures\.prices\[1\]: the VIX future expiring 2024-11-07"
    ):
        explicit_market(vix=20.0, futures=alvh.VixFutures.explicit(points))


def test_a_bumped_market_repairs_the_curve_its_vix_shock_backwardates():
    market = explicit_market()
    shocked = market.bump(vix_shift=60.0)  # the front future moves most: backwardation
    assert shocked.futures.repair_calendar and not market.futures.repair_calendar
    assert alvh.market.check_arbitrage(shocked).counts["calendar"] == 0


def test_repair_calendar_round_trips_through_toml_and_is_checked(tmp_path):
    points = {on_day(5): 24.0, on_day(33): 22.0}
    market = explicit_market(vix=45.0, futures=alvh.VixFutures.explicit(points, repair_calendar=True))
    path = tmp_path / "m.toml"
    market.to_toml(path)
    assert alvh.Market.from_toml(path).futures.repair_calendar is True
    text = path.read_text()
    path.write_text(text.replace("repair_calendar = true", 'repair_calendar = "yes"'))
    with pytest.raises(
        alvh.errors.InvalidInputError, match=r"vix_futures\.repair_calendar: must be true or false"
    ):
        alvh.Market.from_toml(path)
    path.write_text(text.replace("repair_calendar = true\n", ""))
    with pytest.raises(alvh.errors.InvalidInputError, match=r"field vix_futures\.curve\[0\]\.price: "):
        alvh.Market.from_toml(path)
    with pytest.raises(alvh.errors.InputTypeError, match="repair_calendar must be a bool"):
        alvh.VixFutures.explicit(points, repair_calendar="yes")  # type: ignore[arg-type]


def test_model_curve_atm_vol_follows_the_futures_30_days_later():
    market = model_market()
    futures = market.futures
    future_taus, future_prices = futures.pillars(as_of=AS_OF, vix=16.0)
    for months in (1, 2, 6, 12):
        # pillar (T + 30 days, 0.9 * F(T)) with T = months * 30 days
        expected = 0.9 * float(futures.model_level(months * MONTH, vix=16.0)) / 100
        got = market.vol_model.atm_vol(
            (months + 1) * MONTH, vix=16.0, future_taus=future_taus, future_prices=future_prices
        )
        assert float(got) == pytest.approx(expected, rel=1e-12)
        assert float(market.atm_vol(on_day(30 * (months + 1)))) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------ smile


def test_put_skew_puts_richer_than_calls_and_atm_at_the_forward():
    market = explicit_market()
    expiry = date(2024, 11, 15)
    forward = float(market.forward(expiry))
    atm = float(market.atm_vol(expiry))
    assert float(market.spx_vol(forward, expiry)) == pytest.approx(atm, rel=1e-12)
    strikes = forward * np.array([0.9, 0.95, 1.0, 1.05, 1.1])
    vols = market.spx_vol(strikes, expiry)
    assert vols[0] > vols[1] > vols[2] > vols[3]  # downward sloping through the money
    assert vols[1] - vols[2] > vols[2] - vols[3]  # b > 0: convex


def test_smile_is_the_ssvi_formula():
    market = explicit_market()
    expiry = date(2024, 12, 20)
    tau, forward, atm = surface_point(market, expiry)
    strikes = forward * np.exp(np.array([-0.3, -0.1, -0.02, 0.0, 0.02, 0.1, 0.3]))
    np.testing.assert_allclose(
        market.spx_vol(strikes, expiry), ssvi_vol(strikes, forward, tau, atm), rtol=1e-12
    )


def test_ssvi_wings_are_linear_in_log_moneyness_within_lees_bound():
    # Far from the money w(k) grows like theta phi (1 +- rho) / 2 |k|: slopes below 2
    # (Roger Lee's moment formula), the put wing steeper than the call wing (rho < 0).
    market = explicit_market()
    expiry = date(2024, 12, 20)
    tau, forward, atm = surface_point(market, expiry)
    theta = atm**2 * tau
    phi = _DEFAULT.eta / math.sqrt(theta * (1 + theta))
    k = np.array([-12.0, -11.0, 11.0, 12.0])
    w = market.spx_vol(forward * np.exp(k), expiry) ** 2 * tau
    put_slope, call_slope = (w[0] - w[1]) / 1.0, (w[3] - w[2]) / 1.0
    rho = _DEFAULT.rho
    assert put_slope == pytest.approx(theta * phi * (1 - rho) / 2, rel=1e-3)
    assert call_slope == pytest.approx(theta * phi * (1 + rho) / 2, rel=1e-3)
    assert call_slope < put_slope < 2.0


def test_spx_vol_is_vectorized_over_strikes_and_expiries():
    market = explicit_market()
    strikes = np.array([[5000.0], [5800.0], [6200.0]])
    expiries = [date(2024, 11, 15), date(2024, 12, 20), date(2025, 3, 21)]
    grid = market.spx_vol(strikes, expiries)
    assert grid.shape == (3, 3) and grid.dtype == np.float64
    for i, strike in enumerate(strikes[:, 0]):
        for j, expiry in enumerate(expiries):
            assert grid[i, j] == pytest.approx(float(market.spx_vol(strike, expiry)), rel=1e-14)


def test_expiry_today_has_t_zero_and_a_finite_vol():
    market = explicit_market()
    assert float(market.t(AS_OF)) == 0.0
    assert float(market.forward(AS_OF)) == pytest.approx(market.spot)
    assert np.isfinite(market.spx_vol([5000.0, 5864.67, 6500.0], AS_OF)).all()


def test_expiry_before_as_of_and_bad_strikes_are_errors():
    market = explicit_market()
    expected = r"expiry must be on or after as_of 2024-10-18; got expiry = .2024-10-17."
    with pytest.raises(InvalidInputError, match=expected):
        market.t(date(2024, 10, 17))
    with pytest.raises(InvalidInputError, match=r"expiry\[1\]"):
        market.t([date(2024, 11, 15), date(2024, 10, 1)])
    with pytest.raises(InvalidInputError, match=r"strike\[1\] = -5"):
        market.spx_vol([5000.0, -5.0], date(2024, 11, 15))


# ------------------------------------------------------------------ dynamics under bumps


EXPIRY = date(2024, 12, 20)
STRIKES = np.array([5200.0, 5500.0, 5700.0, 5865.0, 6000.0, 6200.0])


def test_sticky_moneyness_recomputes_the_smile_at_the_new_forward_and_atm():
    base = explicit_market()
    moved = base.bump(spot_move=-0.04, vix_shift=4.0, dynamics="sticky_moneyness")
    tau, forward, atm = surface_point(moved, EXPIRY)
    assert forward == pytest.approx(float(base.forward(EXPIRY)) * 0.96)
    k = np.array([-0.1, 0.0, 0.1])
    strikes = forward * np.exp(k)
    np.testing.assert_allclose(
        moved.spx_vol(strikes, EXPIRY), ssvi_vol(strikes, forward, tau, atm), rtol=1e-12
    )
    # the smile is read at the new forward: the same log-moneyness at the same ATM level
    # gives the same vol as before the spot move
    spot_only = base.bump(spot_move=-0.04)
    base_forward = float(base.forward(EXPIRY))
    np.testing.assert_allclose(
        spot_only.spx_vol(forward * np.exp(k), EXPIRY),
        base.spx_vol(base_forward * np.exp(k), EXPIRY),
        rtol=1e-12,
    )


def test_sticky_strike_keeps_each_strikes_vol_plus_the_atm_change():
    base = explicit_market()
    moved = base.bump(spot_move=-0.04, vix_shift=4.0, dynamics="sticky_strike")
    atm_change = float(moved.atm_vol(EXPIRY) - base.atm_vol(EXPIRY))
    assert atm_change > 0.0
    np.testing.assert_allclose(
        moved.spx_vol(STRIKES, EXPIRY), base.spx_vol(STRIKES, EXPIRY) + atm_change, rtol=1e-12
    )
    # a spot move alone leaves every strike's vol where it was
    spot_only = base.bump(spot_move=0.03, dynamics="sticky_strike")
    np.testing.assert_allclose(spot_only.spx_vol(STRIKES, EXPIRY), base.spx_vol(STRIKES, EXPIRY), rtol=1e-12)
    # while sticky moneyness moves the smile with spot
    drifting = base.bump(spot_move=0.03)
    assert not np.allclose(drifting.spx_vol(STRIKES, EXPIRY), base.spx_vol(STRIKES, EXPIRY))


def test_parallel_adds_the_same_shift_to_every_vol():
    base = explicit_market()
    moved = base.bump(vix_shift=5.0, dynamics="parallel")
    for expiry in (date(2024, 10, 25), EXPIRY, date(2025, 6, 20)):
        np.testing.assert_allclose(
            moved.spx_vol(STRIKES, expiry), base.spx_vol(STRIKES, expiry) + 0.9 * 5.0 / 100, rtol=1e-12
        )


def test_three_dynamics_agree_at_the_money_at_30_days_with_no_spot_move():
    base = explicit_market()
    expiry = on_day(30)
    atm_strike = float(base.forward(expiry))
    vols = {
        d: float(base.shifted(3.0, dynamics=d).spx_vol(atm_strike, expiry))
        for d in ("sticky_moneyness", "sticky_strike", "parallel")
    }
    assert vols["sticky_moneyness"] == pytest.approx(0.9 * 21.03 / 100, rel=1e-12)
    assert vols["sticky_strike"] == pytest.approx(vols["sticky_moneyness"], rel=1e-12)
    assert vols["parallel"] == pytest.approx(vols["sticky_moneyness"], rel=1e-12)


def test_chained_bumps_measure_from_the_first_market():
    base = explicit_market()
    twice = base.bump(vix_shift=2.0, dynamics="parallel").bump(vix_shift=3.0, dynamics="parallel")
    assert twice.vix == pytest.approx(23.03)
    np.testing.assert_allclose(
        twice.spx_vol(STRIKES, EXPIRY), base.spx_vol(STRIKES, EXPIRY) + 0.9 * 5.0 / 100, rtol=1e-12
    )
    with pytest.raises(InvalidInputError, match="dynamics must match"):
        base.bump(vix_shift=1.0, dynamics="parallel").bump(vix_shift=1.0, dynamics="sticky_strike")


def test_bump_moves_as_of_spot_vix_and_the_futures():
    base = explicit_market()
    moved = base.bump(spot_move=-0.05, vix_shift=6.0, days=35)
    assert moved.as_of == date(2024, 11, 22)
    assert moved.spot == pytest.approx(5864.67 * 0.95)
    assert moved.vix == pytest.approx(24.03)
    # the November future expired inside the shift; the others moved by 6 * exp(-kappa * tau)
    assert moved.futures.expiries == EXPIRIES[1:]
    for expiry, old, new in zip(EXPIRIES[1:], PRICES[1:], moved.futures.prices):
        tau = (expiry - moved.as_of).days / 365
        assert new == pytest.approx(old + 6.0 * math.exp(-2.0 * tau), rel=1e-12)
    assert base.as_of == AS_OF and base.vix == 18.03  # the original is untouched (frozen)
    assert base.bump() == base


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (dict(spot_move=-1.0), "spot_move"),
        (dict(vix_shift=-18.03), "vix_shift"),
        (dict(days=-1), "days"),
        (dict(dynamics="sticky_delta"), "dynamics"),
    ],
)
def test_bad_bumps_name_the_argument(changes, match):
    with pytest.raises(InvalidInputError, match=match):
        explicit_market().bump(**changes)


def test_bump_days_must_be_an_int():
    with pytest.raises(InputTypeError, match="days"):
        explicit_market().bump(days=1.5)


# ------------------------------------------------------------------ VIX futures


def test_mean_reverting_curve_limits():
    curve = alvh.VixFutures.mean_reverting(theta=20.0, kappa=2.0)
    assert curve.price(AS_OF, as_of=AS_OF, vix=14.0) == pytest.approx(14.0)
    assert curve.price(on_day(365 * 30), as_of=AS_OF, vix=14.0) == pytest.approx(20.0, abs=1e-9)
    one_year = curve.price(on_day(365), as_of=AS_OF, vix=14.0)
    assert one_year == pytest.approx(20.0 + (14.0 - 20.0) * math.exp(-2.0), rel=1e-12)
    # contango below theta, backwardation above
    assert 14.0 < one_year < 20.0
    assert 20.0 < curve.price(on_day(365), as_of=AS_OF, vix=35.0) < 35.0


def test_model_market_prices_any_expiry():
    market = model_market()
    expiry = date(2025, 1, 8)  # not a VIX expiry: fine for the model
    tau = (expiry - AS_OF).days / 365
    assert market.vix_future(expiry) == pytest.approx(20.0 - 4.0 * math.exp(-2.0 * tau))


def test_explicit_curve_is_exact_at_listed_expiries():
    market = explicit_market()
    for expiry, price in zip(EXPIRIES, PRICES):
        assert market.vix_future(expiry) == price


def test_missing_futures_expiry_is_an_error_naming_it():
    market = explicit_market()
    with pytest.raises(InvalidInputError, match=r"2024-12-04.*2024-11-20, 2024-12-18") as info:
        market.vix_future(date(2024, 12, 4))
    assert info.value.arg == "expiry"


def test_explicit_level_interpolates_from_vix_spot():
    curve = alvh.VixFutures.explicit(dict(zip(EXPIRIES, PRICES)))
    assert float(curve.level(0.0, as_of=AS_OF, vix=18.03)) == pytest.approx(18.03)
    first_tau = (EXPIRIES[0] - AS_OF).days / 365
    assert float(curve.level(first_tau, as_of=AS_OF, vix=18.03)) == pytest.approx(PRICES[0])
    assert float(curve.level(5.0, as_of=AS_OF, vix=18.03)) == pytest.approx(PRICES[-1])


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            lambda: alvh.VixFutures(expiries=EXPIRIES[::-1], prices=PRICES),
            r"out of order.*expiries\[1\]",
        ),
        (
            lambda: alvh.VixFutures(expiries=(EXPIRIES[0], EXPIRIES[0]), prices=(19.0, 19.1)),
            "duplicated",
        ),
        (lambda: alvh.VixFutures.explicit([(EXPIRIES[0], 19.0), (EXPIRIES[0], 19.1)]), "listed twice"),
        (lambda: alvh.VixFutures(expiries=EXPIRIES[:1], prices=(0.0,)), r"prices\[0\] = 0.0"),
        (lambda: alvh.VixFutures(expiries=EXPIRIES[:2], prices=(19.0,)), "same length"),
        (lambda: alvh.VixFutures(kappa=-1.0), "kappa"),
        (lambda: alvh.VixFutures(theta=0.0), "theta"),
        (lambda: alvh.VixFutures.explicit({}), "at least one"),
    ],
)
def test_bad_futures_curves_are_errors(build, match):
    with pytest.raises(InvalidInputError, match=match):
        build()


# ------------------------------------------------------------------ vol of vol


def test_vol_of_vol_term_structure():
    vv = VolOfVol()
    assert float(vv.vol(0.0, vix=20.0)) == pytest.approx(1.20)
    assert float(vv.vol(50.0, vix=20.0)) == pytest.approx(0.60)
    one_month = float(vv.vol(MONTH, vix=20.0))
    assert 0.8 < one_month < 1.2
    vols = vv.vol(np.array([0.05, 0.1, 0.25, 0.5]), vix=20.0)
    assert np.all(np.diff(vols) < 0)
    scaled = VolOfVol(vix_exponent=0.5)
    assert float(scaled.vol(0.0, vix=45.0)) == pytest.approx(1.20 * 1.5)


def test_market_vix_option_vol_uses_the_option_tenor():
    market = explicit_market()
    expiry = EXPIRIES[1]
    tau = (expiry - AS_OF).days / 365
    assert float(market.vix_option_vol(expiry)) == pytest.approx(0.6 + 0.6 * math.exp(-tau / 0.2))


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (dict(spot=0.0), r"spot must be .*got spot = 0.0"),
        (dict(spot=-4500.0), "spot"),
        (dict(vix=0.0), "vix"),
        (dict(vix=-3.0), "vix"),
        (dict(rate=float("nan")), "rate"),
        (dict(div=2.0), "div"),
    ],
)
def test_bad_market_values_name_the_field(changes, match):
    with pytest.raises(InvalidInputError, match=match):
        explicit_market(**changes)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: alvh.VixTermStructure(atm_vix_ratio=-0.9), "atm_vix_ratio"),
        (lambda: alvh.VixTermStructure(atm_vix_ratio=6.0), "atm_vix_ratio"),
        (lambda: alvh.SsviSurface(floor_ratio=0.0), "floor_ratio"),
        (lambda: alvh.SsviSurface(rho=-1.0), "rho"),
        (lambda: alvh.SsviSurface(gamma=0.7), "gamma"),
        (lambda: alvh.SsviSurface(rho=-0.7, eta=1.2), r"eta \(1 \+ \|rho\|\) must be <= 2"),
        (lambda: VolOfVol(short_vol=-1.0), "short_vol"),
        (lambda: VolOfVol(long_vol=5.5), "long_vol"),
        (lambda: VolOfVol(decay_years=0.0), "decay_years"),
    ],
)
def test_bad_vol_parameters_name_the_field(build, match):
    with pytest.raises(InvalidInputError, match=match):
        build()


def test_futures_expiring_before_as_of_are_an_error():
    futures = alvh.VixFutures.explicit({date(2024, 10, 16): 18.5, date(2024, 11, 20): 19.6})
    with pytest.raises(InvalidInputError, match=r"futures.expiries\[0\] = '2024-10-16'"):
        explicit_market(futures=futures)


def test_wrong_types_are_type_errors():
    with pytest.raises(InputTypeError, match="as_of"):
        explicit_market(as_of="2024-10-18")
    with pytest.raises(InputTypeError, match="spot"):
        explicit_market(spot="5000")
    with pytest.raises(InputTypeError, match="vol_model"):
        explicit_market(vol_model={"skew": -0.2})


# ------------------------------------------------------------------ TOML


def test_example_file_loads():
    market = alvh.Market.from_toml(EXAMPLE)
    assert market.as_of == AS_OF
    assert market.futures.expiries == EXPIRIES
    assert all(e.weekday() == 2 for e in market.futures.expiries)  # VIX expiries are Wednesdays
    assert replace(market.vol_model, atm_vix_ratio=None) == alvh.SsviSurface()
    assert model_vix(market).value == pytest.approx(market.vix, abs=1e-3)  # solved on load
    assert market.vol_of_vol == VolOfVol()


def test_example_futures_are_the_real_vix_expiries():
    calendar = pytest.importorskip("alvh.calendar")
    if not hasattr(calendar, "vix_expiries_after"):
        pytest.skip("alvh.calendar has no vix_expiries_after")
    market = alvh.Market.from_toml(EXAMPLE)
    assert list(market.futures.expiries) == calendar.vix_expiries_after(AS_OF, 4)


@pytest.mark.parametrize("make", [explicit_market, model_market])
def test_toml_round_trip(tmp_path, make):
    market = make(
        vol_model=alvh.SsviSurface(atm_vix_ratio=0.87, rho=-0.6, eta=1.1, gamma=0.4, floor_ratio=0.4),
        vol_of_vol=VolOfVol(short_vol=1.4, vix_exponent=0.3),
    )
    path = tmp_path / "market.toml"
    market.to_toml(path)
    again = alvh.Market.from_toml(path)
    assert again == market
    assert again.futures.is_explicit == market.futures.is_explicit
    assert [p.name for p in tmp_path.iterdir()] == ["market.toml"]  # no temp file left


def test_to_toml_replaces_the_file_whole(tmp_path):
    path = tmp_path / "market.toml"
    explicit_market().to_toml(path)
    model_market().to_toml(path)
    assert alvh.Market.from_toml(path) == model_market()


def test_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "market.toml"
    explicit_market().to_toml(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        model_market().to_toml(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["market.toml"]


def test_scenario_markets_cannot_be_saved(tmp_path):
    with pytest.raises(InvalidInputError, match="save the base market"):
        explicit_market().bump(vix_shift=2.0, dynamics="sticky_strike").to_toml(tmp_path / "x.toml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad_market.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_HEAD = "as_of = 2024-10-18\nspot = 5864.67\nrate = 0.047\ndiv = 0.013\nvix = 18.03\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        # syntax: tomllib's line and column
        ("as_of = 2024-10-18\nspot = = 5864\n", r"bad_market\.toml: not valid TOML: .*line 2"),
        # unknown keys at each level
        (GOOD_HEAD + "vxi = 3\n", r"bad_market\.toml:6: field vxi: unknown key"),
        (GOOD_HEAD + "[spx_vol]\nskw = -0.3\n", r"bad_market\.toml:7: field spx_vol\.skw: unknown key"),
        (
            GOOD_HEAD + "[vix_futures]\ncurve = [{ expiry = 2024-11-20, price = 19.6, size = 1 }]\n",
            r"field vix_futures\.curve\[0\]\.size: unknown key",
        ),
        # missing and mistyped values
        ("as_of = 2024-10-18\nspot = 5864.67\nrate = 0.047\ndiv = 0.013\n", r"field vix: missing"),
        (GOOD_HEAD.replace("2024-10-18", '"2024-10-18"'), r":1: field as_of: must be a TOML date"),
        (GOOD_HEAD.replace("spot = 5864.67", 'spot = "5864"'), r":2: field spot: must be a number"),
        # bad values
        (GOOD_HEAD.replace("vix = 18.03", "vix = -1.0"), r":5: field vix: vix must be in \(0, 500\]"),
        (GOOD_HEAD + "[spx_vol]\natm_vix_ratio = 7.0\n", r":7: field spx_vol\.atm_vix_ratio"),
        (GOOD_HEAD + "[vol_of_vol]\nlong_vol = -0.6\n", r":7: field vol_of_vol\.long_vol"),
        (GOOD_HEAD + '[spx_vol]\nmodel = "sabr"\n', r"field spx_vol\.model: unknown SPX vol model"),
        (GOOD_HEAD + "[spx_vol]\nskew = -0.25\n", r"field spx_vol\.skew: unknown key"),
        (GOOD_HEAD + "[spx_vol]\nrho = -0.7\neta = 1.5\n", r"field spx_vol\.eta: eta \(1 \+ \|rho\|\)"),
        (GOOD_HEAD + '[spx_vol]\nmodel = "svi"\nrho = -0.7\n', r"field spx_vol\.rho: unknown key"),
        (
            GOOD_HEAD + "[vix_futures]\ncurve = [\n  { expiry = 2024-12-18, price = 19.3 },\n"
            "  { expiry = 2024-11-20, price = 19.6 },\n]\n",
            r":9: field vix_futures\.curve\[1\]\.expiry: .*out of order",
        ),
        (
            GOOD_HEAD + "[vix_futures]\ncurve = [{ expiry = 2024-11-20, price = 0 }]\n",
            r"field vix_futures\.curve\[0\]\.price",
        ),
        (
            GOOD_HEAD + '[vix_futures]\nmodel = "mean_reverting"\n'
            "curve = [{ expiry = 2024-11-20, price = 19 }]\n",
            r"field vix_futures\.curve: not allowed",
        ),
        (
            GOOD_HEAD + "[vix_futures]\ncurve = [{ expiry = 2024-10-16, price = 18.5 }]\n",
            r":7: field vix_futures\.curve\[0\]\.expiry: .*expired.*2024-10-16",
        ),
        (
            GOOD_HEAD + "[[vix_futures.curve]]\nexpiry = 2024-11-20\nprice = 19.6\n"
            "[[vix_futures.curve]]\nexpiry = 2024-12-18\nprice = -19.3\n",
            r":11: field vix_futures\.curve\[1\]\.price",
        ),
        ("format_version = 2\n" + GOOD_HEAD, r"field format_version: unsupported"),
        ("vix_futures = 3\n" + GOOD_HEAD, r"field vix_futures: must be a table"),
    ],
)
def test_malformed_files_name_the_file_and_the_field(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInputError, match=match):
        alvh.Market.from_toml(path)


def test_minimal_file_takes_the_documented_defaults(tmp_path):
    market = alvh.Market.from_toml(_write(tmp_path, GOOD_HEAD))
    assert not market.futures.is_explicit
    assert (market.futures.theta, market.futures.kappa) == (20.0, 2.0)
    assert replace(market.vol_model, atm_vix_ratio=None) == alvh.SsviSurface()
    assert market.vol_of_vol == VolOfVol()


def test_array_of_tables_spelling_of_the_curve(tmp_path):
    text = GOOD_HEAD + (
        "[[vix_futures.curve]]\nexpiry = 2024-11-20\nprice = 19.6\n"
        "[[vix_futures.curve]]\nexpiry = 2024-12-18\nprice = 19.3\n"
    )
    market = alvh.Market.from_toml(_write(tmp_path, text))
    assert market.futures.expiries == EXPIRIES[:2]
    assert market.futures.prices == PRICES[:2]


# ------------------------------------------------------------------ scenario_* (vectorized bumps)


@pytest.mark.parametrize("dynamics", ["sticky_moneyness", "sticky_strike", "parallel"])
@pytest.mark.parametrize("make", [explicit_market, model_market], ids=["listed", "model"])
@pytest.mark.parametrize("day", [0, 9, 33, 40])
def test_scenario_methods_equal_bumping_once_per_shift(make, dynamics, day):
    # Row v of each scenario_* result is the same number read from market.bump(...).
    market = make()
    shifts = np.array([-5.5, -1.0, 0.0, 3.25, 14.0])
    expiries = np.array(
        ["2024-11-15", "2024-12-20", "2025-01-17", "2025-03-21", "2026-12-18"], dtype="datetime64[D]"
    )
    strikes = market.spot * np.array([0.8, 0.95, 1.0, 1.03, 1.2])
    atm = market.scenario_atm_vols(expiries, shifts=shifts, day=day)
    vols = market.scenario_spx_vols(strikes, expiries, shifts=shifts, day=day, dynamics=dynamics)
    alive = expiries >= np.datetime64(on_day(day))
    vix_expiries = np.array(EXPIRIES, dtype="datetime64[D]")
    futures = market.scenario_vix_futures(vix_expiries, shifts=shifts, day=day)
    assert atm.shape == vols.shape == (shifts.size, expiries.size)
    for v, shift in enumerate(shifts):
        bumped = market.bump(vix_shift=float(shift), days=day, dynamics=dynamics)
        live = expiries[alive].astype(object)
        np.testing.assert_allclose(atm[v, alive], bumped.atm_vol(live), rtol=1e-13, atol=0)
        np.testing.assert_allclose(vols[v, alive], bumped.spx_vol(strikes[alive], live), rtol=1e-13, atol=0)
        for i, expiry in enumerate(EXPIRIES):
            if expiry >= bumped.as_of:
                want = float(bumped.vix_future(expiry))
            else:  # settled on its own expiry day in the same VIX scenario
                settle = market.bump(vix_shift=float(shift), days=(expiry - AS_OF).days)
                want = float(settle.vix_future(expiry))
            assert futures[v, i] == pytest.approx(want, rel=1e-13, abs=0)


def test_scenario_methods_reject_bad_shifts_days_and_scenario_markets():
    market = explicit_market()
    with pytest.raises(InvalidInputError, match=r"shifts\[1\]") as info:
        market.scenario_atm_vols([EXPIRIES[0]], shifts=[0.0, -18.5], day=0)
    assert info.value.arg == "shifts" and info.value.index == 1
    backwardated = explicit_market(  # the front future pushed below zero
        vix=30.0, futures=alvh.VixFutures.explicit(dict(zip(EXPIRIES, PRICES)), repair_calendar=True)
    )
    with pytest.raises(InvalidInputError, match=r"every future positive; got shifts\[0\]"):
        backwardated.scenario_atm_vols([EXPIRIES[0]], shifts=[-25.0], day=0)
    with pytest.raises(InvalidInputError, match="day"):
        market.scenario_atm_vols([EXPIRIES[0]], shifts=[0.0], day=-1)
    with pytest.raises(InvalidInputError, match="every listed VIX future expires"):
        market.scenario_vix_futures([EXPIRIES[0]], shifts=[0.0], day=200)
    with pytest.raises(InvalidInputError, match="no VIX futures price for expiry 2024-11-19"):
        market.scenario_vix_futures([date(2024, 11, 19)], shifts=[0.0], day=0)
    bumped = market.bump(vix_shift=1.0, dynamics="sticky_strike")
    with pytest.raises(InvalidInputError, match="base market"):
        bumped.scenario_atm_vols([EXPIRIES[0]], shifts=[0.0], day=0)
