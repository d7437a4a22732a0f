"""`alvh.market.ssvi.SsviSurface`: the VIX-linked SSVI surface (Gatheral & Jacquier 2014):
its formula, no static arbitrage on the listed grid (hypothesis: VIX levels, futures
curves, parameters, dynamics and VIX shifts), its own options giving back its VIX, and
its Cboe-SKEW-like tail inside the index's historical range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alvh
from alvh.errors import InvalidInputError
from alvh.market import Market, VixFutures
from alvh.market.arbitrage import check_arbitrage
from alvh.market.cboe import MAX_VIX_ERROR, model_vix
from alvh.market.ssvi import SsviSurface, ssvi_total_variance

AS_OF = dt.date(2016, 2, 4)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def market(vix: float = 20.0, *, theta: float = 20.0, kappa: float = 2.0, **ssvi) -> Market:
    return Market(
        as_of=AS_OF,
        spot=1915.45,
        rate=0.003,
        div=0.021,
        vix=vix,
        futures=VixFutures.mean_reverting(theta=theta, kappa=kappa),
        vol_model=SsviSurface(**ssvi),
    )


def test_the_smile_is_the_papers_formula():
    rho, eta, gamma, theta = -0.7, 1.15, 0.5, 0.012
    k = np.linspace(-0.6, 0.3, 19)
    phi = eta / (theta**gamma * (1 + theta) ** (1 - gamma))
    by_hand = theta / 2 * (1 + rho * phi * k + np.sqrt((phi * k + rho) ** 2 + 1 - rho**2))
    assert np.allclose(
        ssvi_total_variance(k, theta, rho=rho, eta=eta, gamma=gamma), by_hand, rtol=1e-15, atol=0
    )
    m = market()
    expiry = dt.date(2016, 3, 18)
    forward, tau, atm = float(m.forward(expiry)), float(m.t(expiry)), float(m.atm_vol(expiry))
    strikes = forward * np.exp(k)
    vols = m.spx_vol(strikes, expiry)
    w = ssvi_total_variance(
        k, atm**2 * tau, rho=m.vol_model.rho, eta=m.vol_model.eta, gamma=m.vol_model.gamma
    )
    assert np.allclose(vols, np.sqrt(w / tau), rtol=1e-13)
    assert m.spx_vol(forward, expiry) == pytest.approx(atm, rel=1e-13)  # w(0) = theta


@settings(max_examples=25, deadline=None)
@given(
    vix=st.floats(9.0, 90.0),
    long_run=st.floats(10.0, 60.0),
    kappa=st.floats(0.5, 10.0),
    rho=st.floats(-0.95, 0.0),
    eta_share=st.floats(0.1, 1.0),
    gamma=st.floats(0.1, 0.5),
)
def test_no_static_arbitrage_anywhere_on_the_listed_grid(vix, long_run, kappa, rho, eta_share, gamma):
    # Contango (long_run > vix) and backwardation alike; eta up to the no-arbitrage bound.
    eta = eta_share * 2.0 / (1.0 + abs(rho))
    m = market(vix, theta=long_run, kappa=kappa, rho=rho, eta=eta, gamma=gamma)
    report = check_arbitrage(m)
    assert report.ok, report.to_polars().head(5)
    assert model_vix(m).value == pytest.approx(vix, abs=0.1)


@settings(max_examples=15, deadline=None)
@given(vix=st.floats(9.0, 60.0), shift=st.floats(-0.5, 2.0), dynamics=st.sampled_from(alvh.market.DYNAMICS))
def test_a_bumped_surface_stays_free_of_static_arbitrage(vix, shift, dynamics):
    m = market(vix)
    bumped = m.bump(vix_shift=vix * shift, days=3, dynamics=dynamics)
    report = check_arbitrage(
        bumped, expiries=[bumped.as_of + dt.timedelta(days=d) for d in (4, 11, 30, 60, 180)]
    )
    assert report.ok, report.to_polars().head(5)


@pytest.mark.parametrize("vix", [9.0, 12.0, 20.0, 35.0, 60.0, 90.0])
def test_its_own_options_give_back_its_vix(vix):
    m = market(vix)
    assert m.vol_model.solved and 0.5 < m.vol_model.atm_vix_ratio < 1.0
    assert model_vix(m).value == pytest.approx(vix, abs=MAX_VIX_ERROR)


def test_a_low_spot_with_a_coarse_grid_still_gives_back_its_vix():
    # 2002-10-01: SPX 847.91, VIX 34.12. With so few 5-point strikes per vol point the
    # Cboe formula jumps by ~5e-3 points as the ratio moves (the secant alone stalls);
    # the bisection lands next to the jump.
    m = alvh.Market(as_of=dt.date(2002, 10, 1), spot=847.909973, rate=0.02, div=0.018, vix=34.12)
    assert model_vix(m).value == pytest.approx(34.12, abs=MAX_VIX_ERROR)


@pytest.mark.parametrize("vix", [10.0, 15.0, 20.0, 30.0, 40.0])
def test_the_skew_index_stays_in_its_historical_range(vix):
    # Cboe's SKEW has ranged about 100-170 since 1990; measured with the defaults:
    # 128.8 (VIX 10) ... 129.3 (VIX 40).
    m = market(vix)
    expiry = AS_OF + dt.timedelta(days=30)
    theta = float(m.atm_vol(expiry)) ** 2 * float(m.t(expiry))
    skew = m.vol_model.skew_index(theta=theta, tau=float(m.t(expiry)))
    assert 100.0 < skew < 170.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(rho=-0.8, eta=1.2), r"eta \(1 \+ \|rho\|\) must be <= 2"),
        (dict(rho=1.0), "rho"),
        (dict(gamma=0.7), "gamma"),
        (dict(eta=-0.1), "eta"),
    ],
)
def test_parameters_outside_the_no_arbitrage_region_are_refused(changes, message):
    with pytest.raises(InvalidInputError, match=message):
        SsviSurface(**changes)


def test_toml_round_trip_and_a_missing_ratio_is_solved(tmp_path):
    m = market(24.5, rho=-0.6, eta=1.1, gamma=0.45)
    path = tmp_path / "ssvi.toml"
    m.to_toml(path)
    again = Market.from_toml(path)
    assert again.vol_model == m.vol_model and again.vix == 24.5
    text = path.read_text().replace(f"atm_vix_ratio = {m.vol_model.atm_vix_ratio!r}\n", "")
    path.write_text(text)
    solved = Market.from_toml(path)
    assert solved.vol_model.atm_vix_ratio == pytest.approx(m.vol_model.atm_vix_ratio, rel=1e-9)


@pytest.mark.parametrize("backend", ["native", "python"])
def test_the_grid_values_each_cell_at_the_bumped_markets_ssvi_vols(backend):
    # Every cell is the position repriced in `Market.bump` (sticky moneyness: the smile
    # read at the moved forward, theta at the shifted VIX), leg by leg with alvh.bsm.
    m = Market.from_toml(EXAMPLES / "market_2025-02-03.toml")
    book = alvh.Position.from_toml(EXAMPLES / "condor.toml")
    moves, shifts, days = [-0.08, 0.0, 0.05], [-5.0, 0.0, 12.0], [0, 3]
    with alvh.use_backend(backend):
        grid = alvh.scenario_grid(book, m, spot_moves=moves, vol_shifts=shifts, days=days)
    for d, day in enumerate(days):
        for v, shift in enumerate(shifts):
            for i, move in enumerate(moves):
                bumped = m.bump(spot_move=move, vix_shift=shift, days=day)
                want = 0.0
                for leg in book.legs:
                    price = alvh.bsm.price(
                        is_call=leg.is_call,
                        spot=bumped.spot,
                        strike=leg.strike,
                        t=bumped.t(leg.expiry),
                        rate=bumped.rate,
                        div=bumped.div,
                        vol=bumped.spx_vol(leg.strike, leg.expiry),
                    )
                    want += leg.quantity * leg.multiplier * float(price)
                assert grid.value[d, v, i] == pytest.approx(want, rel=1e-11, abs=1e-8)


def ssvi_chain(m: Market, *, half_spread: float = 0.0) -> pl.DataFrame:
    """Quotes of ``m`` on four expiries, 25 strikes 25 points apart around the forward
    (prices above 0.05)."""

    rows = []
    for expiry in (dt.date(2016, 2, 19), dt.date(2016, 3, 18), dt.date(2016, 4, 15), dt.date(2016, 6, 17)):
        forward = float(m.forward(expiry))
        strikes = np.round(forward / 5) * 5 + 25.0 * np.arange(-16, 9)
        vols = m.spx_vol(strikes, expiry)
        for is_call in (True, False):
            price = alvh.bsm.price(
                is_call=is_call, spot=m.spot, strike=strikes, t=m.t(expiry), rate=m.rate, div=m.div, vol=vols
            )
            for k, p in zip(strikes, price):
                if p > 0.05:
                    rows.append(
                        (
                            expiry,
                            float(k),
                            "call" if is_call else "put",
                            max(p - half_spread, 0.0),
                            p + half_spread,
                        )
                    )
    return pl.DataFrame(rows, schema=["expiry", "strike", "type", "bid", "ask"], orient="row")


def test_fit_ssvi_recovers_the_parameters_of_its_own_chain():
    truth = market(21.84, rho=-0.62, eta=1.05, gamma=0.38)
    start = market(21.84)  # the defaults
    result = alvh.market.fit_ssvi(ssvi_chain(truth), start)
    fitted = result.model
    assert result.success and result.rmse < 1e-6
    assert (fitted.rho, fitted.eta, fitted.gamma) == pytest.approx((-0.62, 1.05, 0.38), abs=1e-5)
    # still consistent, within the solve's tolerance
    assert model_vix(result.market).value == pytest.approx(21.84, abs=1e-3)
    assert check_arbitrage(result.market).ok


def test_fit_ssvi_refuses_a_thin_chain():
    m = market(20.0)
    chain = ssvi_chain(m).head(2)
    with pytest.raises(InvalidInputError, match="parameters to fit"):
        alvh.market.fit_ssvi(chain, m)
