"""`alvh.market.check_arbitrage`: vertical, butterfly and calendar violations of a
market's SPX surface on a strike grid."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from alvh import bsm
from alvh.errors import InvalidInputError
from alvh.market import Market, SsviSurface, SviSlice, SviSurface, VixFutures, VixTermStructure
from alvh.market.arbitrage import KINDS, check_arbitrage, strike_grid

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = dt.date(2016, 2, 4)


def test_a_flat_surface_has_no_violation():
    market = Market(
        as_of=AS_OF,
        spot=1915.45,
        rate=0.003,
        div=0.021,
        vix=20.0,
        futures=VixFutures.mean_reverting(theta=20.0),
        vol_model=SsviSurface(atm_vix_ratio=1.0, eta=0.0),
    )
    report = check_arbitrage(market)
    assert report.ok and report.counts == dict.fromkeys(KINDS, 0)
    assert report.to_polars().height == 0


def dented_market() -> Market:
    """A market whose only expiry (2016-02-12, 8 days) is Vogt's SVI slice with butterfly
    arbitrage (a = -0.041, b = 0.1331, rho = 0.306, m = 0.3586, sigma = 0.4153 at one
    year), rescaled to 8 days and pinned to its own vols: its call wing rises in price."""
    expiry = dt.date(2016, 2, 12)
    tau, root = 8 / 365, math.sqrt(8 / 365)
    shape = dict(a=-0.0410 * tau, b=0.1331 * root, rho=0.3060, m=0.3586 * root, sigma=0.4153 * root)
    w0 = SviSlice(**shape, atm_ratio=1.0).w0

    def market(ratio: float) -> Market:
        surface = SviSurface(
            {expiry: SviSlice(**shape, atm_ratio=ratio)},
            base=VixTermStructure(atm_vix_ratio=1.0),
            moneyness_limit=20.0,
        )
        return Market(
            as_of=AS_OF,
            spot=1915.45,
            rate=0.003,
            div=0.021,
            vix=20.0,
            futures=VixFutures.mean_reverting(theta=20.0),
            vol_model=surface,
        )

    unit = market(1.0)
    return market(math.sqrt(w0 / float(unit.t(expiry))) / float(unit.atm_vol(expiry)))


def test_a_planted_butterfly_arbitrage_is_caught_with_its_amounts():
    market = dented_market()
    expiry = dt.date(2016, 2, 12)
    report = check_arbitrage(market, expiries=[expiry])
    frame = report.to_polars()
    vertical = frame.filter((frame["kind"] == "vertical") & (frame["right"] == "call"))
    # Every 5-point call spread that costs less than nothing is listed, with its amount.
    grid = strike_grid(market.spot)
    calls = bsm.price(
        is_call=True,
        spot=market.spot,
        strike=grid,
        t=float(market.t(expiry)),
        rate=market.rate,
        div=market.div,
        vol=market.spx_vol(grid, expiry),
    )
    rising = {
        float(k): float(calls[i + 1] - calls[i]) for i, k in enumerate(grid[:-1]) if calls[i + 1] > calls[i]
    }
    assert len(rising) > 10
    listed = dict(zip(vertical["strike"].to_list(), vertical["amount"].to_list()))
    assert set(listed) == set(rising)
    for strike, amount in rising.items():
        assert listed[strike] == pytest.approx(amount, rel=1e-9)
    assert report.counts["butterfly"] > 0 and report.counts["calendar"] == 0


def test_a_planted_calendar_violation_is_found():
    # SVI slices whose ATM level falls from the first expiry to the second: the later
    # expiry carries less total variance at every moneyness.
    first, second = dt.date(2016, 2, 12), dt.date(2016, 2, 19)
    shape = dict(a=0.0, b=0.1, rho=-0.5, m=0.0, sigma=0.1)
    surface = SviSurface(
        {first: SviSlice(**shape, atm_ratio=1.5), second: SviSlice(**shape, atm_ratio=0.5)},
        base=VixTermStructure(atm_vix_ratio=1.0),
    )
    market = Market(as_of=AS_OF, spot=1915.45, rate=0.0, div=0.0, vix=20.0, vol_model=surface)
    report = check_arbitrage(market, expiries=[first, second])
    assert report.counts["calendar"] > 0
    frame = report.to_polars()
    row = frame.filter(frame["kind"] == "calendar").row(0, named=True)
    assert row["expiry"] == first and row["next_expiry"] == second and row["amount"] > 0


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("market*.toml")))
def test_every_example_market_is_checked(name):
    market = Market.from_toml(EXAMPLES / name)
    report = check_arbitrage(market)
    assert set(report.counts) == set(KINDS)
    assert report.total == report.to_polars().height
    assert len(report.expiries) == 10 and report.strikes[0] >= 0.3 * market.spot


def test_strike_grid_is_the_listed_5_point_grid():
    grid = strike_grid(1915.45)
    assert grid[0] == 575.0 and grid[-1] == 3830.0 and np.all(np.diff(grid) == 5.0)


def test_bad_arguments_name_themselves():
    market = Market(as_of=AS_OF, spot=1915.45, rate=0.0, div=0.0, vix=20.0)
    with pytest.raises(InvalidInputError, match="expiries must be dates after"):
        check_arbitrage(market, expiries=[AS_OF])
    with pytest.raises(InvalidInputError, match="strikes must hold"):
        check_arbitrage(market, strikes=[100.0, -1.0])


def test_cli_exit_code_says_whether_violations_were_found(tmp_path, capsys):
    from alvh.cli import main

    flat = Market(
        as_of=AS_OF,
        spot=1915.45,
        rate=0.003,
        div=0.021,
        vix=20.0,
        futures=VixFutures.mean_reverting(theta=20.0),
        vol_model=SsviSurface(atm_vix_ratio=1.0, eta=0.0),
    )
    path = tmp_path / "flat.toml"
    flat.to_toml(path)
    assert main(["check-arbitrage", str(path), "--days", "7", "30", "90"]) == 0
    out = capsys.readouterr().out
    assert "No static arbitrage found" in out and "VIX of 20.0" in out
    dented_market().to_toml(path)
    assert main(["check-arbitrage", str(path), "--show", "3"]) == 1
    out = capsys.readouterr().out
    assert "vertical" in out and "butterfly" in out
    assert main(["check-arbitrage", str(tmp_path / "missing.toml")]) == 2
