"""Issue 15: a hedge's whole life in the replay (take profit, VIX retrace, roll), the
attribution of the book's P&L, and the two reference strategies (VXTH, CNDR)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import polars as pl
import pytest

import alvh
from alvh import black76, bsm
from alvh.backtesting.daily import Assumptions, CondorRules, Costs, replay
from alvh.backtesting.reference import VXTH_BANDS, Vxth
from alvh.book.instruments import SpxOption, VixOption
from alvh.calendar import is_business_day, spx_monthly_expiry, vix_expiries_after
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.snapshot import Market
from alvh.policy.config import Layer, Rules
from alvh.policy.exits import HeldHedge, hedge_exit

CAPITAL = 100_000.0
COSTS = Costs(slippage=0.05, commission=1.0)


def business_days(start: dt.date, n: int) -> list[dt.date]:
    out, day = [], start
    while len(out) < n:
        if is_business_day(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def layer2_policy(action: str, **exits) -> alvh.Policy:
    """Layer 2 only (24+, one action), acting whenever it is entered: no rule (a)-(d)
    stands in the way, layer 3 out of reach; ``exits`` on layer 2."""
    early = alvh.Policy.preset("early")
    layers = (
        replace(early.layers[0], enabled=False),
        Layer(2, 24.0, 90.0, 1.0, (action,), **exits),
        Layer(3, 95.0, None, 1.0, ("neutralize_delta",)),
    )
    rules = Rules(require_regime_evidence=False, early_activation=False, time_shift_check=False)
    return early.with_changes(name="layer-2", layers=layers, rules=rules)


def run_path(vixes, spxes, policy, start=dt.date(2017, 3, 1), quantity=3, open_every=250):
    days = business_days(start, len(vixes))
    spx = pl.DataFrame({"date": days, "close": [float(x) for x in spxes]})
    vix = pl.DataFrame({"date": days, "close": [float(x) for x in vixes]})
    # condors kept to expiry (no target, no stop), so the hedged and bare books hold the same
    rules = CondorRules(
        open_every=open_every, quantity=quantity, profit_target=None, stop_loss=None, close_dte=0
    )
    assumptions = Assumptions()
    hedged = replay(spx, vix, policy=policy, condors=rules, costs=COSTS, assumptions=assumptions)
    bare = replay(spx, vix, condors=rules, costs=COSTS, assumptions=assumptions)
    markets = [
        Market(
            as_of=d,
            spot=s,
            rate=assumptions.rate,
            div=assumptions.div,
            vix=v,
            futures=assumptions.futures,
            vol_model=assumptions.vol_model,
        )
        for d, s, v in zip(days, spx["close"], vix["close"])
    ]
    return hedged, bare, markets


def leg_value(leg, market: Market) -> float:
    """$ model value of one leg, by hand: BSM on the smile for SPX options, Black-76 on
    the model's future for VIX calls, intrinsic once expired."""
    t = (leg.expiry - market.as_of).days / 365.0
    if isinstance(leg, VixOption):
        future = float(market.vix_future(leg.expiry))
        if t <= 0.0:
            return leg.quantity * 100.0 * max(future - leg.strike, 0.0)
        vol = float(market.vix_option_vol(leg.expiry))
        price = black76.price(is_call=True, forward=future, strike=leg.strike, t=t, rate=market.rate, vol=vol)
        return leg.quantity * 100.0 * float(price)
    assert isinstance(leg, SpxOption)
    if t <= 0.0:
        sign = 1.0 if leg.is_call else -1.0
        return leg.quantity * 100.0 * max(sign * (market.spot - leg.strike), 0.0)
    vol = float(market.spx_vol(leg.strike, leg.expiry))
    price = bsm.price(
        is_call=leg.is_call,
        spot=market.spot,
        strike=leg.strike,
        t=t,
        rate=market.rate,
        div=market.div,
        vol=vol,
    )
    return leg.quantity * 100.0 * float(price)


def value(legs, market: Market) -> float:
    return sum(leg_value(leg, market) for leg in legs)


def fee(contracts: int) -> float:
    return contracts * (COSTS.slippage * 100.0 + COSTS.commission)


def check_day_by_day(hedged, bare, markets, legs_held, flows):
    """The hedged book's cash minus the bare book's is the hedges' cash flows so far; its
    equity minus the bare book's adds their value; the marks are priced by hand."""
    diff = hedged.equity["equity"].to_numpy() - bare.equity["equity"].to_numpy()
    cash = np.cumsum(flows)
    for i, market in enumerate(markets):
        held = value(legs_held[i], market)
        assert hedged.equity["hedge_value"][i] == pytest.approx(held, abs=1e-6), i
        assert hedged.equity["cash"][i] - bare.equity["cash"][i] == pytest.approx(cash[i], abs=1e-6), i
        assert diff[i] == pytest.approx(cash[i] + held, abs=1e-6), i


def bought(run):
    """(index of the day, legs) of the one hedge the policy bought."""
    (decision,) = [d for d in run.decisions if d.actions]
    days = run.equity["date"].to_list()
    return days.index(decision.date), decision.hedge().legs


def spread_cost(legs) -> float:
    return sum(leg.quantity * 100.0 * leg.entry_price for leg in legs)


def units(legs) -> int:
    return math.gcd(*(abs(leg.quantity) for leg in legs))


def scaled(legs, n):
    u = units(legs)
    return tuple(replace(leg, quantity=leg.quantity // u * n) for leg in legs)


#: Layer 2 from day 5, the SPX falling 10 % over ten days as the VIX climbs to 40, then
#: a recovery with the VIX still in layer 2.
N = 40
VIXES = [15.0] * 5 + list(np.linspace(25.0, 40.0, 10)) + [40.0] * (N - 15)
SPXES = [2400.0] * 5 + list(np.linspace(2330.0, 2150.0, 10)) + list(np.linspace(2150.0, 2300.0, N - 15))


# ------------------------------------------------------------------ take profit


def test_a_hedge_is_monetized_at_k_times_its_cost_day_by_day():
    # put spreads bought on entering layer 2; worth 2x their premium: half sold; the rest
    # kept (the take-profit fires once) until the day before they expire
    policy = layer2_policy("spx_put_spread", take_profit=2.0, take_profit_share=0.5, roll=False)
    hedged, bare, markets = run_path(VIXES, SPXES, policy)
    b, legs = bought(hedged)
    assert b == 5
    n = units(legs)
    assert n >= 2
    premium = spread_cost(legs)
    contracts = sum(abs(leg.quantity) for leg in legs)
    worth = [value(legs, m) for m in markets]
    fire = next(i for i in range(b + 1, N) if worth[i] >= 2.0 * premium)
    sold = math.floor(n * 0.5 + 0.5)
    part, kept = scaled(legs, sold), scaled(legs, n - sold)
    expiry = legs[0].expiry
    last = next(i for i, m in enumerate(markets) if (expiry - m.as_of).days <= 1)
    flows = np.zeros(N)
    flows[b] = -(premium + fee(contracts))
    flows[fire] = value(part, markets[fire]) - fee(sum(abs(leg.quantity) for leg in part))
    flows[last] = value(kept, markets[last]) - fee(sum(abs(leg.quantity) for leg in kept))
    held = [()] * b + [legs] * (fire - b) + [kept] * (last - fire) + [()] * (N - last)
    check_day_by_day(hedged, bare, markets, held, flows)
    tp, end = hedged.exits.rows(named=True)
    assert (tp["rule"], tp["date"], tp["sold"], tp["of"]) == ("take_profit", markets[fire].as_of, sold, n)
    assert (end["rule"], end["date"]) == ("expiry", markets[last].as_of)
    (row,) = hedged.hedges.rows(named=True)
    assert row["paid"] == pytest.approx(premium + fee(contracts), abs=1e-9)
    assert row["received"] == pytest.approx(flows[fire] + flows[last], abs=1e-6)
    assert row["peak_value"] == pytest.approx(
        max([worth[i] for i in range(b, fire)] + [value(kept, markets[i]) for i in range(fire, last)]),
        abs=1e-6,
    )
    # the book's P&L is its condors' plus its hedges', to the cent; the condors' is the bare book's
    split = hedged.attribution()
    assert split["total"] == pytest.approx(split["equity_change"], abs=0.005)
    assert split["condors"] == pytest.approx(bare.attribution()["total"], abs=0.005)


def test_restrike_lets_the_layer_buy_again_after_a_take_profit():
    once = run_path(VIXES, SPXES, layer2_policy("spx_put_spread", take_profit=2.0))[0]
    again = run_path(VIXES, SPXES, layer2_policy("spx_put_spread", take_profit=2.0, restrike=True))[0]
    first = once.hedges.sort("hedge_id").row(0, named=True)
    assert first["reason"].startswith("take profit")
    assert once.hedges.filter(pl.col("bought") == first["sold"]).height == 0  # acted: no rebuy
    rebought = again.hedges.filter(pl.col("bought") == first["sold"])
    assert rebought.height == 1  # re-struck the day it was monetized, at today's strikes
    assert rebought["hedge"][0] != first["hedge"]


# ------------------------------------------------------------------ VIX retrace


def test_the_vix_retrace_exit_fires_from_the_peak_since_bought():
    # the VIX peaks at 40 then falls to 27.5 (31 % below the peak) inside layer 2's buffer
    vixes = VIXES[:15] + [40.0, 36.0, 32.0, 29.0, 27.5, 27.0, 26.0, 25.0]
    spxes = SPXES[:15] + [2160.0, 2180.0, 2200.0, 2220.0, 2240.0, 2250.0, 2260.0, 2270.0]
    hedged, bare, markets = run_path(vixes, spxes, layer2_policy("spx_put_spread", vix_retrace=0.3))
    b, legs = bought(hedged)
    fire = vixes.index(27.5)
    n = len(vixes)
    flows = np.zeros(n)
    flows[b] = -(spread_cost(legs) + fee(sum(abs(leg.quantity) for leg in legs)))
    flows[fire] = value(legs, markets[fire]) - fee(sum(abs(leg.quantity) for leg in legs))
    held = [()] * b + [legs] * (fire - b) + [()] * (n - fire)
    check_day_by_day(hedged, bare, markets, held, flows)
    (exit_row,) = hedged.exits.rows(named=True)
    assert exit_row["rule"] == "vix_retrace" and "40.00 peak" in exit_row["reason"]
    assert hedged.equity["layer"][fire] == 2


# ------------------------------------------------------------------ roll


def test_a_hedge_is_rolled_to_the_next_expiry_while_its_layer_holds():
    # weekly condors (several expiries); layer 2 throughout: the put spreads on the first
    # condor expiry are sold the day before it and bought again on the next condor expiry
    hedged, bare, markets = run_path(VIXES, SPXES, layer2_policy("spx_put_spread"), quantity=2, open_every=5)
    rows = hedged.hedges.sort("hedge_id").rows(named=True)
    first_legs = next(d for d in hedged.decisions if d.actions).hedge().legs
    expiry = first_legs[0].expiry
    days = [m.as_of for m in markets]
    roll = next(i for i, d in enumerate(days) if (expiry - d).days <= 1)
    assert rows[0]["sold"] == days[roll] and rows[0]["reason"].startswith("roll:")
    assert rows[1]["bought"] == days[roll] and rows[1]["hedge"].startswith("roll of hedge 1")
    assert rows[1]["layer"] == 2
    # the next expiry the candidate rules pick: the first condor expiry past the roll window
    later = sorted({t["expiry"] for t in hedged.trades.rows(named=True)} | set(hedged.open_condors["expiry"]))
    new_expiry = next(e for e in later if (e - days[roll]).days > 1)
    assert f"{new_expiry:%d %b}" in rows[1]["hedge"]
    # that day's cash: the old spreads' value less costs in, the new ones' price and costs out
    legs_q = sum(abs(leg.quantity) for leg in first_legs)
    proceeds = hedged.equity["hedge_proceeds"].to_numpy()
    spend = hedged.equity["hedge_spend"].to_numpy()
    assert proceeds[roll] == pytest.approx(value(first_legs, markets[roll]) - fee(legs_q), abs=1e-6)
    assert spend[roll] == pytest.approx(rows[1]["paid"], abs=1e-9) and spend[roll] > 0
    # and day by day the hedged book is the bare one plus the hedges' flows and marks
    diff = hedged.equity["equity"].to_numpy() - bare.equity["equity"].to_numpy()
    np.testing.assert_allclose(
        diff, np.cumsum(proceeds - spend) + hedged.equity["hedge_value"].to_numpy(), atol=1e-6
    )
    assert hedged.equity["hedge_value"][roll - 1] == pytest.approx(
        value(first_legs, markets[roll - 1]), abs=1e-6
    )
    split = hedged.attribution()
    assert split["total"] == pytest.approx(split["equity_change"], abs=0.005)
    # without the roll: sold the day before expiry, and nothing bought while the layer holds
    plain = run_path(VIXES, SPXES, layer2_policy("spx_put_spread", roll=False), quantity=2, open_every=5)[0]
    assert plain.hedges.height == 1 and plain.exits["rule"].to_list() == ["expiry"]


# ------------------------------------------------------------------ the exit rules alone


def test_exit_rule_order_and_bounds():
    policy = layer2_policy("long_vix_calls", take_profit=3.0, take_profit_share=0.5, vix_retrace=0.3)
    held = HeldHedge(layer=2, cost=1000.0, value=3000.0, vix_peak=40.0, days_to_expiry=30)
    assert hedge_exit(policy.layers, held, layer=2, vix=27.0).rule == "take_profit"  # before retrace
    assert hedge_exit(policy.layers, held, layer=1, vix=27.0).rule == "layer_left"  # before all
    assert hedge_exit(policy.layers, replace(held, value=2999.0), layer=2, vix=28.1) is None
    assert hedge_exit(policy.layers, replace(held, value=2999.0), layer=2, vix=27.9).rule == "vix_retrace"
    assert hedge_exit(policy.layers, replace(held, took_profit=True), layer=2, vix=30.0) is None
    assert hedge_exit(policy.layers, replace(held, days_to_expiry=1), layer=2, vix=35.0).rule == "take_profit"
    done = replace(held, took_profit=True, days_to_expiry=1)
    assert hedge_exit(policy.layers, done, layer=2, vix=35.0).rule == "roll"
    free = replace(held, cost=0.0)  # futures: no premium, no take-profit
    assert hedge_exit(policy.layers, free, layer=2, vix=35.0) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"take_profit": 1.0}, "layers[2].take_profit"),
        ({"take_profit": 0.5}, "layers[2].take_profit"),
        ({"take_profit_share": 0.0}, "layers[2].take_profit_share"),
        ({"take_profit_share": 1.5}, "layers[2].take_profit_share"),
        ({"vix_retrace": 1.0}, "layers[2].vix_retrace"),
        ({"vix_retrace": 0.0}, "layers[2].vix_retrace"),
        ({"roll_days": 0}, "layers[2].roll_days"),
    ],
)
def test_bad_exit_rules_name_the_field(changes, field):
    with pytest.raises(InvalidInputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        Layer(2, 24.0, 29.0, 1.0, ("long_vix_calls",), **changes)


def test_bad_exit_rules_in_a_policy_file_name_the_file_and_field(tmp_path):
    body = (
        "name = 'x'\n[[layers]]\nstart = 17\nend = 22\nexit_buffer = 1\nactions = []\n"
        "[[layers]]\nstart = 24\nend = 29\nexit_buffer = 1\nactions = []\ntake_profit = 0.8\n"
        "[[layers]]\nstart = 30\nexit_buffer = 1\nactions = []\n"
    )
    path = tmp_path / "p.toml"
    path.write_text(body)
    with pytest.raises(InvalidInputError, match=r"p\.toml: .*layers\[2\]\.take_profit"):
        alvh.Policy.from_toml(path)
    path.write_text(body.replace("take_profit = 0.8", "restrike = 'yes'"))
    with pytest.raises(InputTypeError, match=r"layers\[2\]\.restrike"):
        alvh.Policy.from_toml(path)


def test_exit_rules_round_trip_through_toml(tmp_path):
    policy = layer2_policy("long_vix_calls", take_profit=3.0, take_profit_share=0.5, vix_retrace=0.3)
    policy.to_toml(tmp_path / "p.toml")
    again = alvh.Policy.from_toml(tmp_path / "p.toml")
    assert again == policy and again.version == policy.version
    assert again.layers[2].take_profit is None  # absent in the file: never
    assert again.layers[1].take_profit == 3.0 and again.layers[1].vix_retrace == 0.3


# ------------------------------------------------------------------ VXTH


@pytest.mark.parametrize(
    ("future", "weight"),
    [
        (9.0, 0.0),
        (15.0, 0.0),
        (15.01, 0.01),
        (22.0, 0.01),
        (30.0, 0.01),
        (30.01, 0.005),
        (50.0, 0.005),
        (50.01, 0.0),
        (80.0, 0.0),
    ],
)
def test_vxth_weights_at_the_band_edges(future, weight):
    assert Vxth().weight(future) == weight


def test_vxth_buys_30_delta_calls_worth_its_weight():
    market = Market(as_of=dt.date(2018, 2, 14), spot=2700.0, rate=0.015, div=0.018, vix=19.0)
    legs, text = Vxth().calls(market, 100_000.0)
    (leg,) = legs.legs
    assert leg.expiry == vix_expiries_after(market.as_of, 1)[0] == dt.date(2018, 3, 21)
    future = float(market.vix_future(leg.expiry))
    t, vol = (leg.expiry - market.as_of).days / 365.0, float(market.vix_option_vol(leg.expiry))
    strikes = np.arange(1.0, 80.0)
    deltas = black76.greeks(is_call=True, forward=future, strike=strikes, t=t, rate=0.015, vol=vol).delta
    assert leg.strike == strikes[np.argmin(np.abs(deltas - 0.30))]
    weight = Vxth().weight(future)
    assert abs(leg.quantity * 100.0 * leg.entry_price - weight * 100_000.0) <= 50.0 * leg.entry_price + 1e-9
    assert f"weight {weight:.1%}" in text


def test_vxth_rules_bad_input_and_toml(tmp_path):
    with pytest.raises(InvalidInputError, match=r"bands\[1\]\.weight"):
        Vxth(bands=((15.0, 0.0), (30.0, 0.03), (math.inf, 0.0)))  # above the 2.5 % cap
    with pytest.raises(InvalidInputError, match=r"bands\[1\]\.up_to"):
        Vxth(bands=((15.0, 0.0), (10.0, 0.01), (math.inf, 0.0)))
    with pytest.raises(InvalidInputError, match="open above"):
        Vxth(bands=((15.0, 0.0), (30.0, 0.01)))
    Vxth().to_toml(tmp_path / "v.toml")
    assert Vxth.from_toml(tmp_path / "v.toml") == Vxth()
    (tmp_path / "bad.toml").write_text(
        "kind = 'vxth'\n[[bands]]\nup_to = 15\nweight = 0.05\n[[bands]]\nweight = 0\n"
    )
    with pytest.raises(InvalidInputError, match=r"bad\.toml: .*bands\[0\]\.weight"):
        Vxth.from_toml(tmp_path / "bad.toml")
    assert VXTH_BANDS[-1][0] == math.inf


def test_vxth_in_the_replay_settles_each_month_and_rebuys():
    from alvh.backtesting.data import sample_data

    data = sample_data()
    spx, vix = data.spx, data.vix.select("date", "close")
    run = replay(spx, vix, start=dt.date(2015, 1, 1), end=dt.date(2015, 12, 31), policy=Vxth())
    log = run.hedges.sort("hedge_id")
    assert log.height >= 6 and set(log["layer"].to_list()) == {0}
    # every hedge is bought on the first day or a VIX expiry, and settled on its expiry
    expiries = {e for e in vix_expiries_after(dt.date(2014, 12, 1), 14)}
    for row in log.rows(named=True)[1:]:
        assert row["bought"] in expiries
    for row in log.filter(pl.col("sold").is_not_null()).rows(named=True):
        assert row["sold"] in expiries and row["reason"] == "VXTH: settled at expiry"
    split = run.attribution()
    assert split["total"] == pytest.approx(split["equity_change"], abs=0.005)


# ------------------------------------------------------------------ CNDR


def test_cndr_sells_20_delta_shorts_and_5_delta_wings_on_third_fridays():
    from alvh.backtesting.data import sample_data

    data = sample_data()
    spx, vix = data.spx, data.vix.select("date", "close")
    assumptions = Assumptions()
    run = replay(spx, vix, start=dt.date(2015, 1, 2), end=dt.date(2015, 12, 31), condors=CondorRules.cndr())
    trades = run.trades.sort("opened")
    monthly = {spx_monthly_expiry(2015, m) for m in range(1, 13)} | {spx_monthly_expiry(2016, 1)}
    assert trades.height == 11 and set(trades["reason"].to_list()) == {"expiry"}
    for i, row in enumerate(trades.rows(named=True)):
        assert row["expiry"] in monthly and row["closed"] == row["expiry"]
        if i:  # rolled on the day the previous one expired: the third Friday
            assert row["opened"] == trades["expiry"][i - 1]
            assert 28 <= (row["expiry"] - row["opened"]).days <= 35
    # the deltas, by hand, on the day of one roll
    row = trades.row(5, named=True)
    day = row["opened"]
    closes = dict(zip(spx["date"].to_list(), spx["close"].to_list()))
    vixes = dict(zip(vix["date"].to_list(), vix["close"].to_list()))
    market = Market(as_of=day, spot=closes[day], rate=assumptions.rate, div=assumptions.div, vix=vixes[day])
    t = (row["expiry"] - day).days / 365.0

    def delta(strike, call):
        vol = float(market.spx_vol(strike, row["expiry"]))
        return abs(
            float(
                bsm.greeks(
                    is_call=call, spot=market.spot, strike=strike, t=t, rate=0.02, div=0.018, vol=vol
                ).delta
            )
        )

    assert delta(row["short_put"], False) == pytest.approx(0.20, abs=0.01)
    assert delta(row["short_call"], True) == pytest.approx(0.20, abs=0.01)
    condor = alvh.Position.iron_condor_by_delta(
        row["expiry"], market=market, short_delta=0.20, wing_delta=0.05
    )
    strikes = {(leg.is_call, leg.quantity): leg.strike for leg in condor.legs}
    assert (strikes[(False, -1)], strikes[(True, -1)]) == (row["short_put"], row["short_call"])
    assert delta(strikes[(False, 1)], False) == pytest.approx(0.05, abs=0.01)
    assert delta(strikes[(True, 1)], True) == pytest.approx(0.05, abs=0.01)
    widths = (strikes[(False, -1)] - strikes[(False, 1)], strikes[(True, 1)] - strikes[(True, -1)])
    assert row["width"] == max(widths)


def test_the_drawdown_answer_and_the_cndr_index_vol_by_hand():
    from alvh.backtesting import backtest
    from alvh.backtesting.comparison import cndr_index_vol, drawdown_answer
    from alvh.backtesting.data import sample_data

    data = sample_data()
    spx, vix = data.spx, data.vix.select("date", "close")
    span = {"start": dt.date(2008, 6, 1), "end": dt.date(2009, 6, 30)}
    result = backtest(spx, vix, policies={"none": None, "vxth": Vxth()}, **span)
    frame, text = drawdown_answer(result, reps=200)
    (row,) = frame.rows(named=True)

    def max_dd(equity):
        return float(np.max(np.maximum.accumulate(equity) - equity)) / CAPITAL

    dd = max_dd(result.runs["vxth"].equity["equity"].to_numpy())
    dd_none = max_dd(result.runs["none"].equity["equity"].to_numpy())
    assert row["max_drawdown"] == pytest.approx(dd, rel=1e-12)
    assert row["cut"] == pytest.approx(1.0 - dd / dd_none, rel=1e-9)
    assert row["cut_low"] <= row["cut"] <= row["cut_high"]
    assert "Vendors of layered VIX hedging claim drawdowns cut by 35-40 %" in text
    said = {
        "short": "vxth fall(s) short of 35 %" in text,
        "open": "for vxth the interval reaches 35 %" in text,
        "confirmed": "vxth cut(s) it by at least 35 %" in text,
    }
    expected = "short" if row["cut_high"] < 0.35 else "confirmed" if row["cut_low"] >= 0.35 else "open"
    assert [k for k, v in said.items() if v] == [expected]
    # CNDR as an index: daily $ change over the SPX notional sold, annualized
    run = replay(spx, vix, condors=CondorRules.cndr(), **span)
    eq, dates, spots = (run.equity[c].to_list() for c in ("equity", "date", "spx"))
    rows = sorted(run.trades.rows(named=True) + run.open_condors.rows(named=True), key=lambda r: r["opened"])
    returns = []
    for i in range(1, len(dates)):
        (held,) = [
            r
            for r in rows
            if r["opened"] <= dates[i - 1] and (r["closed"] is None or r["closed"] >= dates[i])
        ] or [None]
        if held is not None:
            returns.append((eq[i] - eq[i - 1]) / (spots[dates.index(held["opened"])] * 100.0))
    assert cndr_index_vol(run) == pytest.approx(np.std(returns, ddof=1) * math.sqrt(252), rel=1e-12)


def test_a_roll_to_an_expiry_the_market_does_not_list_says_so():
    # a listed futures curve ending before the next expiry the roll needs: the roll
    # buys nothing and says which expiry is missing (the hedge is then sold)
    from alvh.policy.engine import rolled_hedge

    day = dt.date(2025, 2, 10)
    futures = alvh.VixFutures(expiries=(dt.date(2025, 2, 19),), prices=(19.5,))
    market = Market(as_of=day, spot=6000.0, rate=0.04, div=0.013, vix=18.6, futures=futures)
    book = alvh.Position.iron_condor_by_delta(dt.date(2025, 3, 21), market=market)
    made = rolled_hedge(layer2_policy("short_vix_calls"), "short_vix_calls", book, market, budget=2500.0)
    assert isinstance(made, str) and "no VIX expiry at least 14 days after 2025-02-10" in made
    with pytest.raises(InvalidInputError, match="edits the condor"):
        rolled_hedge(layer2_policy("short_vix_calls"), "roll_short_strikes", book, market, budget=2500.0)


def test_a_hedge_whose_expiry_day_the_history_lacks_settles_on_the_last_close_before_it():
    # the VIX expiry 2020-03-18 and the day after missing from the history: the March calls
    # (deep in the money, the VIX at 75.9 on 03-17 and 66.0 on 03-20) settle on the next
    # replay day at their intrinsic value against the 03-17 close, not the day's own
    # (valuing them "on their expiry day" needed a market before today: it raised)
    import re

    from alvh.backtesting.data import sample_data

    data = sample_data()
    gap = [dt.date(2020, 3, 18), dt.date(2020, 3, 19)]
    spx = data.spx.filter(~pl.col("date").is_in(gap))
    vix = data.vix.select("date", "close").filter(~pl.col("date").is_in(gap))
    run = replay(spx, vix, start=dt.date(2020, 1, 2), end=dt.date(2020, 4, 30), policy=Vxth())
    (row,) = run.hedges.filter(pl.col("sold") == dt.date(2020, 3, 20)).rows(named=True)
    n, strike = (
        float(x) for x in re.search(r"buy (\d+) VIX 18 Mar 2020 ([\d.]+) calls", row["hedge"]).groups()
    )
    close = dict(zip(vix["date"].to_list(), vix["close"].to_list()))
    assert close[dt.date(2020, 3, 17)] - strike > 10.0  # in the money: the settlement level matters
    assert row["received"] == pytest.approx(n * 100.0 * (close[dt.date(2020, 3, 17)] - strike), abs=1e-9)
    assert row["received"] != pytest.approx(n * 100.0 * (close[dt.date(2020, 3, 20)] - strike), abs=1.0)
    split = run.attribution()
    assert split["total"] == pytest.approx(split["equity_change"], abs=0.005)
