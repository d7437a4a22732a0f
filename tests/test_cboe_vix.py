"""`alvh.market.vix_index`: the Cboe VIX white-paper calculation, on a chain worked by
hand, on flat-vol surfaces (the identity VIX = vol, up to the strike grid), and on bad
chains."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alvh
from alvh.errors import InvalidInputError
from alvh.market import Market, SsviSurface, VixFutures, cboe
from alvh.market.cboe import model_chain, term_variance, vix_index

AS_OF = dt.date(2016, 2, 4)


def flat_market(vol: float, *, spot: float = 1915.45, rate: float = 0.01, div: float = 0.02) -> Market:
    return Market(
        as_of=AS_OF,
        spot=spot,
        rate=rate,
        div=div,
        vix=100.0 * vol,
        futures=VixFutures.mean_reverting(theta=100.0 * vol),
        vol_model=SsviSurface(atm_vix_ratio=1.0, eta=0.0),
    )


def chain_frame(rows):
    return pl.DataFrame(rows, schema=["expiry", "strike", "type", "bid", "ask"], orient="row")


def test_a_term_worked_by_hand():
    # One expiry, T = 30/365, R = 0, strikes 80..120 by 10. Quotes (bid = ask = mid):
    #   K    call   put
    #   80   20.5   0.4        put bid 0 at 70 and 60: the walk would stop there
    #   90   11.0   1.0
    #   100   4.0   3.6        |C - P| smallest: F = 100 + (4.0 - 3.6) = 100.4, K0 = 100
    #   110   1.2  10.8
    #   120   0.3  19.9
    # Kept: puts 80, 90; K0 100 with Q = (4.0 + 3.6) / 2; calls 110, 120.
    # dK: 10 everywhere (ends one-sided). sigma^2 = 2/T sum dK/K^2 Q - 1/T (F/K0 - 1)^2.
    t = 30 / 365
    q = {80: 0.4, 90: 1.0, 100: 3.8, 110: 1.2, 120: 0.3}
    expected = 2 / t * sum(10 / k**2 * v for k, v in q.items()) - (100.4 / 100 - 1) ** 2 / t
    strikes = [60.0, 70.0, 80.0, 90.0, 100.0, 110.0, 120.0]
    calls = [40.5, 30.5, 20.5, 11.0, 4.0, 1.2, 0.3]
    puts = [0.0, 0.0, 0.4, 1.0, 3.6, 10.8, 19.9]
    variance, forward, k0, kept, prices, _ = term_variance(
        strikes, calls, calls, puts, puts, years=t, rate=0.0
    )
    assert forward == pytest.approx(100.4) and k0 == 100.0
    assert kept.tolist() == [80.0, 90.0, 100.0, 110.0, 120.0]
    assert prices.tolist() == pytest.approx([0.4, 1.0, 3.8, 1.2, 0.3])
    assert variance == pytest.approx(expected, rel=1e-14)


def test_the_strike_walk_stops_at_two_consecutive_zero_bids():
    # A put bid at 50 beyond the two zero bids at 60 and 70 is never used; one zero bid
    # alone (at 130) does not stop the calls.
    t = 30 / 365
    strikes = [50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0, 120.0, 130.0, 140.0]
    calls = [50.0, 40.0, 30.0, 20.5, 11.0, 4.0, 1.2, 0.3, 0.0, 0.05]
    puts = [0.2, 0.0, 0.0, 0.4, 1.0, 3.6, 10.8, 19.9, 30.0, 40.0]
    _, _, _, kept, _, _ = term_variance(strikes, calls, calls, puts, puts, years=t, rate=0.0)
    assert kept.tolist() == [80.0, 90.0, 100.0, 110.0, 120.0, 140.0]


@pytest.mark.parametrize("vol", [0.09, 0.12, 0.20, 0.30, 0.60, 0.90])
def test_a_flat_surface_gives_its_vol(vol):
    # The identity VIX = 100 vol holds up to the 5-point strike grid and the truncation of
    # the chain at 0.3-2 x spot. Measured: +0.005 at 9, +0.001 at 20, -0.002 at 60, -0.023
    # at 90 (there the call wing is cut at 2 x spot).
    market = flat_market(vol)
    index = vix_index(model_chain(market), as_of=AS_OF, rate=market.rate)
    assert index.in_window
    assert index.near.days <= 30 <= index.next.days
    assert index.value == pytest.approx(100.0 * vol, abs=0.03)


def test_interpolation_weights_follow_the_white_paper():
    market = flat_market(0.2)
    index = vix_index(model_chain(market), as_of=AS_OF, rate=market.rate)
    n1, n2 = index.near.days, index.next.days
    w1 = (n2 - 30) / (n2 - n1)
    by_hand = (
        (index.near.years * index.near.variance * w1 + index.next.years * index.next.variance * (1 - w1))
        * 365
        / 30
    )
    assert index.value == pytest.approx(100 * math.sqrt(by_hand), rel=1e-15)
    frame = index.to_polars()
    assert set(frame["term"]) == {"near", "next"}
    assert frame.filter(pl.col("term") == "near")["contribution"].sum() == pytest.approx(
        index.near.variance + (index.near.forward / index.near.k0 - 1) ** 2 / index.near.years
    )


def test_a_chain_without_expiries_around_30_days_is_refused():
    as_of = dt.date(2016, 2, 4)
    rows = [
        (dt.date(2016, 2, 12), k, kind, 1.0, 1.1) for k in (90.0, 100.0, 110.0) for kind in ("call", "put")
    ]
    with pytest.raises(InvalidInputError, match="both sides of 30 days") as info:
        vix_index(chain_frame(rows), as_of=as_of)
    assert info.value.arg == "expiry"


def test_a_rate_table_must_cover_the_terms():
    market = flat_market(0.2)
    chain = model_chain(market)
    with pytest.raises(InvalidInputError, match="rate has no entry for expiry"):
        vix_index(chain, as_of=AS_OF, rate={dt.date(2030, 1, 1): 0.01})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.0, 0.05, 1.0, float("nan")]), min_size=0, max_size=30))
def test_the_wing_ends_at_the_first_two_consecutive_zero_bids(bids):
    # The white paper's rule, walked strike by strike as written.
    expected, zeros = [], 0
    for i, bid in enumerate(bids):
        if zeros == 2:
            break
        if bid > 0.0:
            expected.append(i)
            zeros = 0
        else:
            zeros += 1
    got = cboe._until_two_zero_bids(np.array(bids, dtype=np.float64))
    assert got.tolist() == expected


@pytest.mark.parametrize(("spot", "vix"), [(1915.45, 21.84), (847.91, 34.12), (4500.0, 12.0), (3000.0, 80.0)])
def test_model_vix_is_the_formula_on_the_models_own_chain(spot, vix):
    # model_vix prices both terms in one vectorized call; the chain path quotes each
    # option through model_chain and vix_index: the same index.
    market = Market(as_of=AS_OF, spot=spot, rate=0.01, div=0.02, vix=vix)
    fast = cboe.model_vix(market)
    slow = vix_index(model_chain(market), as_of=AS_OF, rate=market.rate)
    assert fast.value == pytest.approx(slow.value, rel=1e-13)
    assert fast.near.variance == pytest.approx(slow.near.variance, rel=1e-13)


@pytest.mark.parametrize(("spot", "vix"), [(1915.45, 21.84), (847.91, 34.12), (4500.0, 9.5), (3000.0, 80.0)])
@pytest.mark.parametrize("ratio", [0.7, 0.8, 0.95])
def test_the_native_model_vix_kernel_equals_the_reference(spot, vix, ratio):
    # The solve's native path (Rust, alvh_core::cboe, ATM vols scaled by the ratio)
    # against model_vix on the market rebuilt with that ratio (numpy).
    from dataclasses import replace

    market = Market(as_of=AS_OF, spot=spot, rate=0.01, div=0.02, vix=vix)
    fast = cboe._index_of_ratio(market)(ratio)
    trial = replace(market, vol_model=replace(market.vol_model, atm_vix_ratio=ratio))
    reference = cboe.model_vix(trial).value
    assert fast == pytest.approx(reference, rel=1e-12)
    with alvh.use_backend("python"):  # the fallback solves on model_vix itself
        assert cboe._index_of_ratio(market)(ratio) == cboe.model_vix(trial).value
