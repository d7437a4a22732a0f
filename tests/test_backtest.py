"""alvh.backtesting.daily: the condor replay (no hedge) and the metrics."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

import alvh
from alvh.backtesting.daily import Assumptions, CondorRules, Costs, metrics, replay
from alvh.calendar import is_business_day
from alvh.errors import InvalidInputError


def business_days(start: dt.date, n: int) -> list[dt.date]:
    out, day = [], start
    while len(out) < n:
        if is_business_day(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def history(spx: list[float], vix: list[float], start=dt.date(2017, 3, 1)):
    days = business_days(start, len(spx))
    return (pl.DataFrame({"date": days, "close": spx}), pl.DataFrame({"date": days, "close": vix}))


def test_ten_quiet_days_by_hand():
    # SPX flat at 2400, VIX flat at 12: one condor opened on day 0 (open_every 10),
    # marked to model each day; equity = capital + credit - entry costs + value.
    spx, vix = history([2400.0] * 10, [12.0] * 10)
    rules = CondorRules(open_every=10, profit_target=0.99)
    costs = Costs(slippage=0.05, commission=1.0)
    run = replay(spx, vix, condors=rules, costs=costs)
    assert run.trades.height == 0 and run.equity["open_condors"].to_list() == [1] * 10
    days = run.equity["date"].to_list()
    market0 = alvh.Market(as_of=days[0], spot=2400.0, rate=0.02, div=0.018, vix=12.0)
    expiry = next(
        e
        for e in alvh.calendar.next_spx_expiries(days[0], 12, schedule="weekly")
        if 30 <= (e - days[0]).days <= 45
    )
    condor = alvh.Position.iron_condor_by_delta(expiry, market=market0, short_delta=0.16, wing_width=50.0)
    credit = condor.credit
    entry_costs = 4 * (0.05 * 100 + 1.0)
    for i, day in enumerate(days):
        m = alvh.Market(as_of=day, spot=2400.0, rate=0.02, div=0.018, vix=12.0)
        value = sum(
            leg.quantity
            * 100
            * float(
                alvh.bsm.price(
                    is_call=leg.is_call,
                    spot=2400.0,
                    strike=leg.strike,
                    t=m.t(leg.expiry),
                    rate=0.02,
                    div=0.018,
                    vol=m.spx_vol(leg.strike, leg.expiry),
                )
            )
            for leg in condor.legs
        )
        want = 100_000.0 + credit - entry_costs + value
        assert run.equity["equity"][i] == pytest.approx(want, abs=1e-6), (i, day)
    # quiet days: theta makes money
    assert run.equity["equity"][-1] > run.equity["equity"][0]


def test_ten_days_with_known_trades_by_hand():
    # Ten business days from Wed 2017-03-01, default rules except a condor every 3rd
    # replay day (days 0, 3, 6, 9). Each day the replay first checks the open condors at
    # the day's closes, then opens the new one: a condor is first checked the day after
    # it opens, and a close happens on the day its check fires, at that day's model
    # marks. The story:
    #   day 0  SPX 2400, VIX 12: condor A sold (first weekly expiry 30-45 days out).
    #   day 1  VIX 12 -> 9 (SPX flat): A's wings lose more than half their value, so
    #          A's P&L (credit + mark) is above 50 % of its credit: A closes, "profit target".
    #   day 3  VIX back at 12: condor B sold.
    #   day 4  SPX 2440: B is down, but by less than 2x its credit: still open.
    #   day 5  SPX 2480, through B's short call: B's loss passes 2x its credit: "stop loss".
    #   day 6  condor C sold at SPX 2480; day 9 condor D; both still open at the end.
    spx_closes = [2400.0] * 4 + [2440.0] + [2480.0] * 5
    vix_closes = [12.0, 9.0, 9.0] + [12.0] * 7
    spx, vix = history(spx_closes, vix_closes)
    days = spx["date"].to_list()
    rules = CondorRules(open_every=3)
    run = replay(spx, vix, condors=rules, costs=Costs(slippage=0.05, commission=1.0))

    def market(i):
        return alvh.Market(as_of=days[i], spot=spx_closes[i], rate=0.02, div=0.018, vix=vix_closes[i])

    def sold_on(i):
        # the condor the rules sell on day i: 16-delta shorts, 50-point wings
        expiry = next(
            e
            for e in alvh.calendar.next_spx_expiries(days[i], 12, schedule="weekly")
            if 30 <= (e - days[i]).days <= 45
        )
        return alvh.Position.iron_condor_by_delta(expiry, market=market(i), short_delta=0.16, wing_width=50.0)

    def mark(condor, i):
        # $ model value of the four legs at day i's closes (negative: we are short)
        m = market(i)
        return math.fsum(
            leg.quantity
            * 100
            * float(
                alvh.bsm.price(
                    is_call=leg.is_call,
                    spot=spx_closes[i],
                    strike=leg.strike,
                    t=m.t(leg.expiry),
                    rate=0.02,
                    div=0.018,
                    vol=m.spx_vol(leg.strike, leg.expiry),
                )
            )
            for leg in condor.legs
        )

    # Every fill trades 4 contracts: 0.05 points of slippage (x100 = 5 $) plus 1 $ each.
    fill = 4 * (0.05 * 100 + 1.0)
    a, b, c, d = sold_on(0), sold_on(3), sold_on(6), sold_on(9)
    assert a.legs[0].expiry == dt.date(2017, 3, 31)  # 30 days after 2017-03-01
    assert b.legs[0].expiry == dt.date(2017, 4, 7)  # 32 days after 2017-03-06
    # The model sells at its own marks: a condor's mark on its first day is -credit.
    assert mark(a, 0) == pytest.approx(-a.credit, abs=1e-9)

    # Why each close fires on its day, and not before:
    assert a.credit + mark(a, 1) >= 0.5 * a.credit  # day 1: target reached
    assert b.credit + mark(b, 4) > -2.0 * b.credit  # day 4: not stopped yet
    assert b.credit + mark(b, 4) < 0.5 * b.credit  # ... nor at target
    assert b.credit + mark(b, 5) <= -2.0 * b.credit  # day 5: stopped
    for condor, first, last in ((c, 6, 9), (d, 9, 9)):  # C and D never trigger
        for i in range(first + 1, last + 1):
            pnl = condor.credit + mark(condor, i)
            assert -2.0 * condor.credit < pnl < 0.5 * condor.credit, i

    # The trades: credit (model mid, $), exit value (the mark at the close, $), costs
    # (one fill in, one out) and P&L = credit + exit value - costs.
    want_trades = [
        (a, 0, 1, "profit target", mark(a, 1)),
        (b, 3, 5, "stop loss", mark(b, 5)),
    ]
    assert run.trades.height == len(want_trades)
    for row, (condor, opened, closed, reason, exit_value) in zip(
        run.trades.iter_rows(named=True), want_trades
    ):
        puts = [leg.strike for leg in condor.legs if not leg.is_call and leg.quantity < 0]
        calls = [leg.strike for leg in condor.legs if leg.is_call and leg.quantity < 0]
        assert (row["opened"], row["closed"], row["reason"]) == (days[opened], days[closed], reason)
        assert (row["expiry"], row["short_put"], row["short_call"]) == (
            condor.legs[0].expiry,
            puts[0],
            calls[0],
        )
        assert (row["width"], row["quantity"]) == (50.0, 1)
        assert row["credit"] == pytest.approx(condor.credit, abs=1e-9)
        assert row["exit_value"] == pytest.approx(exit_value, abs=1e-9)
        assert row["costs"] == pytest.approx(2 * fill)
        assert row["pnl"] == pytest.approx(condor.credit + exit_value - 2 * fill, abs=1e-9)
    assert run.trades["pnl"][0] > 0 > run.trades["pnl"][1]

    # Cash, day by day: + credit - fill on each sale, + exit value - fill on each close.
    flows = {
        0: a.credit - fill,
        1: mark(a, 1) - fill,
        3: b.credit - fill,
        5: mark(b, 5) - fill,
        6: c.credit - fill,
        9: d.credit - fill,
    }
    open_on = {0: [a], 1: [], 2: [], 3: [b], 4: [b], 5: [], 6: [c], 7: [c], 8: [c], 9: [c, d]}
    cash = 100_000.0
    for i in range(10):
        cash += flows.get(i, 0.0)
        open_value = math.fsum(mark(condor, i) for condor in open_on[i])
        row = run.equity.row(i, named=True)
        assert row["date"] == days[i]
        assert row["cash"] == pytest.approx(cash, abs=1e-6), i
        assert row["open_value"] == pytest.approx(open_value, abs=1e-6), i
        assert row["equity"] == pytest.approx(cash + open_value, abs=1e-6), i
        assert row["open_condors"] == len(open_on[i]), i
        assert (row["hedge_value"], row["layer"], row["hedge_spend"]) == (0.0, 0, 0.0)
    # On a day with no close, equity is the capital plus the closed trades' P&L plus the
    # open condors' (credit + mark - entry fill): on day 0 that is 100 000 - 24 $.
    assert run.equity["equity"][0] == pytest.approx(100_000.0 - fill, abs=1e-6)
    assert run.equity["equity"][5] == pytest.approx(100_000.0 + run.trades["pnl"].sum(), abs=1e-6)


def test_long_dated_condors_are_opened():
    # CondorRules allows dte_max up to 730: the replay must look that far ahead for an
    # expiry (it once looked only 12 weekly expiries ahead and never opened a 90-120 DTE
    # condor, silently).
    spx, vix = history([2400.0] * 5, [12.0] * 5)
    for dte_min, dte_max in ((90, 120), (400, 420), (700, 730)):
        run = replay(spx, vix, condors=CondorRules(dte_min=dte_min, dte_max=dte_max, open_every=10))
        assert run.equity["open_condors"].to_list() == [1] * 5, (dte_min, dte_max)
        m = alvh.Market(as_of=spx["date"][0], spot=2400.0, rate=0.02, div=0.018, vix=12.0)
        expiry = next(
            e
            for e in alvh.calendar.next_spx_expiries(m.as_of, 200, schedule="weekly")
            if dte_min <= (e - m.as_of).days <= dte_max
        )
        condor = alvh.Position.iron_condor_by_delta(expiry, market=m)
        assert run.equity["open_value"][0] == pytest.approx(-condor.credit, abs=1e-9)


def test_replay_days_are_the_days_replay_steps_through():
    from alvh.backtesting.daily import replay_days

    spx, vix = history([2400.0] * 8, [12.0, None, 12.0, 13.0, 12.0, 12.0, 11.0, 12.0])
    days = spx["date"].to_list()
    want = replay(spx, vix, start=days[1], end=days[6]).equity["date"].to_list()
    assert replay_days(spx, vix, start=days[1], end=days[6]) == want == days[2:7]


def test_profit_target_closes_with_costs_and_the_trade_adds_up():
    # The SPX drifts nowhere while the VIX collapses: the condor is closed on its target.
    spx, vix = history([2400.0] * 30, list(np.linspace(20.0, 9.0, 30)))
    rules = CondorRules(open_every=100, profit_target=0.3)
    run = replay(spx, vix, condors=rules, costs=Costs())
    assert run.trades.height == 1
    trade = run.trades.row(0, named=True)
    assert trade["reason"] == "profit target"
    assert trade["credit"] + trade["exit_value"] >= 0.3 * trade["credit"]
    assert trade["costs"] == pytest.approx(2 * 4 * (0.05 * 100 + 1.0))
    assert trade["pnl"] == pytest.approx(trade["credit"] + trade["exit_value"] - trade["costs"])
    closed = run.equity.filter(pl.col("date") == trade["closed"])
    assert closed["cash"][0] == pytest.approx(100_000.0 + trade["pnl"], abs=1e-6)
    assert closed["open_condors"][0] == 0


def test_stop_loss_and_expiry():
    up = [2400.0 * (1.004**i) for i in range(25)]  # a steady rally through the call side
    spx, vix = history(up, [12.0] * 25)
    run = replay(spx, vix, condors=CondorRules(open_every=100))
    assert run.trades["reason"].to_list() == ["stop loss"]
    assert run.trades["pnl"][0] < -run.trades["credit"][0]


def test_costs_only_lower_returns():
    rng = np.random.default_rng(5)
    closes = list(2400.0 * np.exp(np.cumsum(rng.normal(0.0, 0.008, 120))))
    vixes = list(np.clip(14.0 + np.cumsum(rng.normal(0.0, 0.5, 120)), 9.0, 40.0))
    spx, vix = history(closes, vixes)
    free = replay(spx, vix, costs=Costs(slippage=0.0, commission=0.0))
    paid = replay(spx, vix, costs=Costs())
    assert (paid.equity["equity"].to_numpy() <= free.equity["equity"].to_numpy() + 1e-9).all()
    assert paid.equity["equity"][-1] < free.equity["equity"][-1]


def test_no_look_ahead():
    rng = np.random.default_rng(9)
    closes = list(2400.0 * np.exp(np.cumsum(rng.normal(0.0, 0.008, 80))))
    vixes = list(np.clip(14.0 + np.cumsum(rng.normal(0.0, 0.4, 80)), 9.0, 40.0))
    spx, vix = history(closes, vixes)
    base = replay(spx, vix)
    d = 50
    changed_spx = spx.with_columns(
        pl.when(pl.int_range(pl.len()) > d).then(pl.col("close") * 0.8).otherwise(pl.col("close"))
    )
    changed_vix = vix.with_columns(
        pl.when(pl.int_range(pl.len()) > d).then(pl.col("close") * 2.0).otherwise(pl.col("close"))
    )
    other = replay(changed_spx, changed_vix)
    assert base.equity.head(d + 1).equals(other.equity.head(d + 1))
    assert not base.equity.equals(other.equity)


def test_no_look_ahead_on_the_long_history():
    # The bundled 2000-2022 history with every row after 2008-09-12 changed (the SPX 20 %
    # lower, the VIX 1.5 times: the projection models VIX <= 150): the diagnostics of
    # every day up to it, computed on the whole history, and an early-policy replay
    # through it, are the same up to that day.
    from alvh.backtesting.daily import daily_states, replay_days
    from alvh.backtesting.data import rates_for, sample_data

    data = sample_data()
    spx, vix = data.spx, data.vix.select("date", "close")
    cut = dt.date(2008, 9, 12)
    after = pl.col("date") > cut
    changed_spx = spx.with_columns(pl.when(after).then(pl.col("close") * 0.8).otherwise(pl.col("close")))
    changed_vix = vix.with_columns(pl.when(after).then(pl.col("close") * 1.5).otherwise(pl.col("close")))
    policy = alvh.Policy.preset("early")
    states, changed_states = (
        daily_states(s, v, rules=policy.rules) for s, v in ((spx, vix), (changed_spx, changed_vix))
    )
    before = [day for day in states if day <= cut]
    assert len(before) > 2000 and all(states[day] == changed_states[day] for day in before)
    assert states[dt.date(2008, 9, 15)] != changed_states[dt.date(2008, 9, 15)]
    start, end = dt.date(2008, 6, 2), dt.date(2008, 10, 31)
    rates = rates_for(replay_days(spx, vix, start=start, end=end), data.rates)
    runs = [
        replay(s, v, start=start, end=end, policy=policy, states=st, rates=rates)
        for s, v, st in ((spx, vix, states), (changed_spx, changed_vix, changed_states))
    ]
    upto = runs[0].equity.filter(pl.col("date") <= cut).height
    assert runs[0].equity.head(upto).equals(runs[1].equity.head(upto))
    assert not runs[0].equity.equals(runs[1].equity)


def test_metrics_match_an_independent_computation():
    rng = np.random.default_rng(2)
    equity = 100.0 * np.cumprod(1.0 + rng.normal(0.0005, 0.01, 500))
    dates = business_days(dt.date(2015, 1, 2), 500)
    got = metrics(equity, dates, rate=0.01)
    r = np.diff(equity) / equity[:-1]
    years = (dates[-1] - dates[0]).days / 365.0
    cagr = (equity[-1] / equity[0]) ** (1 / years) - 1
    vol = r.std(ddof=1) * math.sqrt(252)
    dd = max(1 - equity[i] / equity[: i + 1].max() for i in range(len(equity)))
    worst = sorted(r)[: math.ceil(0.05 * len(r))]
    assert got["cagr"] == pytest.approx(cagr, rel=1e-12)
    assert got["vol"] == pytest.approx(vol, rel=1e-12)
    assert got["sharpe"] == pytest.approx((r.mean() * 252 - 0.01) / vol, rel=1e-12)
    down = math.sqrt(np.mean([min(x, 0) ** 2 for x in r])) * math.sqrt(252)
    assert got["sortino"] == pytest.approx((r.mean() * 252 - 0.01) / down, rel=1e-12)
    assert got["max_drawdown"] == pytest.approx(dd, rel=1e-12)
    assert got["calmar"] == pytest.approx(cagr / dd, rel=1e-12)
    assert got["worst_day"] == pytest.approx(min(r))
    assert got["cvar95_daily"] == pytest.approx(-np.mean(worst), rel=1e-12)


def test_fixed_capital_metrics_match_an_independent_computation():
    # A replay's book: returns on the fixed capital, even after it has lost more than it.
    rng = np.random.default_rng(3)
    capital = 50_000.0
    equity = capital + np.cumsum(rng.normal(-150.0, 900.0, 600))
    assert equity.min() < 0  # wiped out on paper, still measured
    dates = business_days(dt.date(2003, 1, 2), 600)
    got = metrics(equity, dates, rate=0.02, capital=capital, trades=7)
    r = np.diff(equity) / capital
    years = (dates[-1] - dates[0]).days / 365.0
    growth = (equity[-1] - equity[0]) / capital / years
    dd = max(equity[: i + 1].max() - equity[i] for i in range(len(equity))) / capital
    vol = r.std(ddof=1) * math.sqrt(252)
    assert "cagr" not in got
    assert got["annual_return"] == pytest.approx(growth, rel=1e-12)
    assert got["pnl"] == pytest.approx(equity[-1] - equity[0], rel=1e-12)
    assert got["max_drawdown"] == pytest.approx(dd, rel=1e-12) and dd > 1.0
    assert got["sharpe"] == pytest.approx((r.mean() * 252 - 0.02) / vol, rel=1e-12)
    assert got["calmar"] == pytest.approx(growth / dd, rel=1e-12)
    assert got["worst_day"] == pytest.approx(min(r)) and got["trades"] == 7.0
    with pytest.raises(InvalidInputError, match="capital must be a positive"):
        metrics(equity, dates, capital=0.0)


def test_bad_inputs():
    spx, vix = history([2400.0] * 5, [12.0] * 5)
    with pytest.raises(InvalidInputError, match="no day"):
        replay(spx, vix, start=dt.date(2030, 1, 1))
    with pytest.raises(InvalidInputError, match="spx.date row 2"):
        replay(pl.concat([spx.head(2), spx.head(2)]), vix)
    with pytest.raises(InvalidInputError, match="close_dte"):
        CondorRules(close_dte=40)
    with pytest.raises(InvalidInputError, match="vix.close row 1"):
        replay(
            spx,
            vix.with_columns(
                pl.when(pl.int_range(pl.len()) == 1).then(-1.0).otherwise(pl.col("close")).alias("close")
            ),
        )
    with pytest.raises(InvalidInputError, match="positive"):
        metrics([100.0, -1.0], business_days(dt.date(2015, 1, 2), 2))
    assert Assumptions().initial_capital == 100_000.0


def test_daily_states_equal_from_history_day_by_day():
    # One causal pass gives each day what MarketState.from_history computes from the
    # history cut at that day (the backtest's no-look-ahead guarantee for diagnostics).
    from alvh.backtesting.daily import daily_states
    from alvh.policy.state import MarketState

    rng = np.random.default_rng(3)
    closes = list(2400.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 90))))
    vixes = list(np.clip(14.0 + np.cumsum(rng.normal(0.0, 0.6, 90)), 9.0, 60.0))
    spx, vix = history(closes, vixes)
    states = daily_states(spx, vix)
    days = spx["date"].to_list()
    for day in (days[5], days[33], days[36], days[37], days[60], days[-1]):
        want = MarketState.from_history(day, spx=spx, vix=vix)
        got = states[day]
        for name in ("vix", "spx", "macd_hist", "macd_expanding", "vix_rsi", "implied_minus_realized"):
            a, b = getattr(got, name), getattr(want, name)
            if b is None or isinstance(b, bool):
                assert a == b, (day, name, a, b)
            else:
                assert a == pytest.approx(b, rel=1e-12, abs=1e-12), (day, name)


def _stress_history(n=160, seed=11):
    # Calm, then a selloff with the VIX through every band, then a recovery.
    rng = np.random.default_rng(seed)
    moves = np.concatenate(
        [rng.normal(0.0004, 0.006, 90), rng.normal(-0.012, 0.02, 30), rng.normal(0.002, 0.01, n - 120)]
    )
    closes = list(2600.0 * np.exp(np.cumsum(moves)))
    vixes = list(
        np.concatenate(
            [
                np.full(90, 12.0) + rng.normal(0, 0.3, 90),
                np.linspace(13.0, 36.0, 30),
                np.linspace(34.0, 14.0, n - 120),
            ]
        )
    )
    return history(closes, vixes, start=dt.date(2017, 1, 3))


def test_policy_replay_hedges_in_layers_and_accounts_for_them():
    spx, vix = _stress_history()
    run = replay(
        spx, vix, policy=alvh.Policy.preset("early"), assumptions=Assumptions(initial_capital=60_000.0)
    )
    eq = run.equity
    assert set(eq["layer"].to_list()) >= {0, 1, 2, 3}
    assert len(run.decisions) > 0
    m = run.metrics()
    assert m["adjustments"] + m["book_exits"] == sum(1 for d in run.decisions if d.actions) > 0
    assert m["hedge_spend"] > 0 and m["days_layer_0"] < 1.0
    # equity is cash plus the marks of the condors and the hedges, every day
    np.testing.assert_allclose(eq["equity"], eq["cash"] + eq["open_value"] + eq["hedge_value"], rtol=1e-12)
    # every decision points at the policy and keeps its caps
    for d in run.decisions:
        assert d.policy_name == "early"
        for action in d.actions:
            assert action.risk <= 0.025 * d.extra["portfolio_value"] + 1e-6


def test_every_hedge_has_a_row_and_the_cash_adds_up():
    spx, vix = _stress_history()
    run = replay(
        spx, vix, policy=alvh.Policy.preset("early"), assumptions=Assumptions(initial_capital=60_000.0)
    )
    eq, hedges = run.equity, run.hedges
    assert hedges is not None and hedges.height == run.metrics()["adjustments"] > 0
    assert hedges["paid"].sum() == pytest.approx(eq["hedge_spend"].sum(), rel=1e-12)
    sold = hedges.filter(pl.col("sold").is_not_null())
    held = hedges.filter(pl.col("sold").is_null())
    assert sold["received"].sum() == pytest.approx(eq["hedge_proceeds"].sum(), rel=1e-12, abs=1e-9)
    assert held["received"].sum() == pytest.approx(eq["hedge_value"][-1], rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(hedges["pnl"], hedges["received"] - hedges["paid"], rtol=1e-12)
    # every sale is by an exit rule (issue 15: the stress history's spreads are monetized
    # at 3x), and the final one is each sold hedge's reason
    from alvh.policy.exits import EXIT_RULES

    assert set(run.exits["rule"].to_list()) <= {*EXIT_RULES, "book_closed"}
    last = run.exits.group_by("hedge_id").agg(pl.col("reason").last())
    assert dict(zip(last["hedge_id"], last["reason"])) == dict(zip(sold["hedge_id"], sold["reason"]))
    assert (hedges["layer"] >= 1).all()


def test_each_day_is_priced_with_that_days_rate():
    n = 60
    spx, vix = history([2400.0 + 2 * i for i in range(n)], [14.0 + 0.05 * i for i in range(n)])
    days = spx["date"].to_list()
    rates = pl.DataFrame({"date": days, "rate": [0.001 * (i + 1) for i in range(n)]})
    run = replay(spx, vix, rates=rates, condors=CondorRules(open_every=3))
    assert run.equity["rate"].to_list() == rates["rate"].to_list()
    # The third condor, opened on day 7, by hand with that day's rate (0.7 %).
    trade = run.trades.sort("opened").row(2, named=True)
    day = trade["opened"]
    i = days.index(day)
    a = Assumptions()
    market = alvh.Market(
        as_of=day,
        spot=spx["close"][i],
        rate=rates["rate"][i],
        div=a.div,
        vix=vix["close"][i],
        futures=a.futures,
        vol_model=a.vol_model,
    )
    rules = CondorRules()
    expiry = trade["expiry"]
    by_hand = alvh.Position.iron_condor_by_delta(
        expiry, market=market, short_delta=rules.short_delta, wing_width=rules.wing_width
    )
    assert trade["credit"] == pytest.approx(by_hand.credit, rel=1e-12)
    constant = replay(spx, vix, condors=CondorRules(open_every=3)).trades.sort("opened").row(2, named=True)
    assert constant["credit"] != pytest.approx(trade["credit"], rel=1e-9)  # 2 % instead of 0.7 %
    with pytest.raises(InvalidInputError, match=rf"rates has no row for replay day {days[4]}"):
        replay(spx, vix, rates=rates.filter(pl.col("date") != days[4]))
    with pytest.raises(InvalidInputError, match=r"rates.rate on .* must be in \[-0.05, 0.25\]; got -0.3"):
        replay(spx, vix, rates=rates.with_columns(pl.lit(-0.3).alias("rate")))


def test_no_hedge_policies_never_hedge():
    spx, vix = _stress_history()
    plain = replay(spx, vix)
    assert plain.metrics()["hedge_spend"] == 0.0 and plain.decisions == ()
    assert set(plain.equity["layer"].to_list()) == {0}
    idle = alvh.Policy.preset("early")
    idle = idle.with_changes(
        layers=tuple(
            alvh.policy.Layer(x.number, x.start, x.end, x.exit_buffer, (), x.enabled) for x in idle.layers
        ),
        rules=alvh.policy.Rules(irr_action="report"),  # and layer 3 keeps the book
    )
    run = replay(spx, vix, policy=idle)
    assert run.metrics()["hedge_spend"] == 0.0 and run.metrics()["adjustments"] == 0.0
    np.testing.assert_allclose(run.equity["equity"], plain.equity["equity"], rtol=1e-12)


def test_policy_decisions_use_no_data_after_their_day():
    spx, vix = _stress_history()
    d = 100
    base = replay(spx, vix, policy=alvh.Policy.preset("early"))
    later = pl.int_range(pl.len()) > d
    changed = replay(
        spx.with_columns(pl.when(later).then(pl.col("close") * 1.1).otherwise(pl.col("close"))),
        vix.with_columns(pl.when(later).then(pl.col("close") * 0.5).otherwise(pl.col("close"))),
        policy=alvh.Policy.preset("early"),
    )
    cut = spx["date"][d]
    assert [x for x in base.decisions if x.date <= cut] == [x for x in changed.decisions if x.date <= cut]
    assert base.equity.head(d + 1).equals(changed.equity.head(d + 1))


def test_backtest_compares_policies_and_writes_the_report(tmp_path):
    from html.parser import HTMLParser

    from alvh.backtesting.comparison import backtest
    from alvh.report.backtest import backtest_report

    spx, vix = _stress_history()
    result = backtest(
        spx,
        vix,
        policies={
            "none": None,
            "early": alvh.Policy.preset("early"),
            "patient": alvh.Policy.preset("patient"),
        },
        assumptions=Assumptions(initial_capital=60_000.0),  # so that both policies hedge
    )
    table = result.metrics()
    assert table["policy"].to_list() == ["none", "early", "patient"]
    assert table.filter(pl.col("policy") == "none")["hedge_spend"][0] == 0.0
    # each row is its replay's own metrics
    assert (
        table.filter(pl.col("policy") == "early")["annual_return"][0]
        == result.runs["early"].metrics()["annual_return"]
    )
    equity = result.equity()
    assert equity.height == 3 * spx.height and (equity["drawdown"] >= 0).all()
    decisions = result.decisions()
    assert set(decisions["policy"]) <= {"early", "patient"} and decisions.height > 0

    report = backtest_report(result, tmp_path / "report")
    names = {
        "equity.png",
        "drawdown.png",
        "layers.png",
        "returns.png",
        "episodes.png",
        "hedge_layers.png",
        "report.html",
    }
    assert {p.name for p in (tmp_path / "report").iterdir()} == names
    for name in names - {"report.html"}:
        data = (tmp_path / "report" / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.images, self.cells = 0, []

        def handle_starttag(self, tag, attrs):
            if tag == "img" and dict(attrs)["src"].startswith("data:image/png;base64,"):
                self.images += 1

        def handle_data(self, data):
            self.cells.append(data)

    parser = Collect()
    parser.feed(report.read_text())
    assert parser.images == 6 and "early" in parser.cells and "patient" in parser.cells
    for heading in ("Verdict", "Stress episodes"):  # 160 days: no calm year
        assert heading in parser.cells
    assert "Calm years" not in parser.cells


def test_compare_and_verdict_on_the_stress_history(calm_inputs):
    from alvh.backtesting.comparison import backtest, compare, verdict

    spx, vix = _stress_history()
    result = backtest(
        spx,
        vix,
        policies={
            "none": None,
            "early": alvh.Policy.preset("early"),
            "patient": alvh.Policy.preset("patient"),
        },
        # A small account, so that the risk budget binds and both policies hedge.
        assumptions=Assumptions(initial_capital=30_000.0),
        # rule (c)'s conditions hold until the selloff's 10th day: patient waits, then acts
        inputs=calm_inputs(spx, until=spx["date"][100]),
    )
    assert all(result.runs[name].metrics()["adjustments"] > 0 for name in ("early", "patient"))
    # issue 14, point 3: the report counts what each rule decided, per policy
    rules = result.rule_counts()
    assert rules["policy"].to_list() == ["early", "patient"]
    early, patient = (rules.row(i, named=True) for i in range(2))
    assert early["c_wait"] == early["c_act"] == early["c_unknown"] == 0  # early has no rule (c)
    assert patient["c_wait"] > 0 and patient["c_act"] > 0  # waited while calm, acted after
    for name, row in (("early", early), ("patient", patient)):
        run = result.runs[name]
        assert row["decisions"] == len(run.decisions)
        # every hedge chosen is bought (or edits the condors); rolls buy more, unchosen
        rolled = run.hedge_log().filter(pl.col("hedge").str.starts_with("roll of hedge")).height
        assert row["f_chosen"] == run.metrics()["adjustments"] - rolled
        # issue 15: the book's P&L is its condors' plus its hedges', to the cent
        split = run.attribution()
        assert split["total"] == pytest.approx(split["equity_change"], abs=0.005)
    diff = compare(result, "early", "patient", reps=300, seed=4)
    ra = result.runs["early"].equity["equity"].to_numpy()
    rb = result.runs["patient"].equity["equity"].to_numpy()
    point = 252 * (np.mean(np.diff(ra)) - np.mean(np.diff(rb))) / 30_000.0  # on the fixed capital
    assert diff.return_diff == pytest.approx(point, rel=1e-12)
    assert diff.return_low < diff.return_high and diff.sharpe_low < diff.sharpe_high
    assert diff.detectable == pytest.approx((diff.return_high - diff.return_low) / 2, rel=1e-15)
    again = compare(result, "early", "patient", reps=300, seed=4)
    assert again == diff  # seeded
    text = verdict(result, seed=4)
    assert "90 % interval" in text and "unhedged book" in text
    with pytest.raises(InvalidInputError, match="no policy 'eager'"):
        compare(result, "eager", "patient")


def test_sweep_serial_and_on_dask_give_the_same_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    from alvh.backtesting.sweeps import sweep
    from alvh.report.sweep import sweep_heatmap

    spx, vix = _stress_history(n=130)
    starts = dict(layer1_starts=[16, 18], layer2_starts=[23, 25])
    serial = sweep(spx, vix, **starts)
    assert serial.height == 4
    assert serial.select("layer1_start", "layer2_start").rows() == [
        (16.0, 23.0),
        (16.0, 25.0),
        (18.0, 23.0),
        (18.0, 25.0),
    ]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = sweep(spx, vix, executor=client.get_executor(), **starts)
    assert remote.equals(serial)
    png = sweep_heatmap(serial, tmp_path / "sweep.png", metric="annual_return")
    assert png.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(InvalidInputError, match="no valid"):
        sweep(spx, vix, layer1_starts=[25], layer2_starts=[20])


def test_sweep_keeps_the_pairs_order_whatever_finishes_first(monkeypatch):
    # Points run on a pool finish in any order; the rows come back in the pairs' order,
    # and progress counts each finished point. The replays are stubbed: the later the
    # pair, the sooner it finishes.
    import time
    from concurrent.futures import ThreadPoolExecutor

    from alvh.backtesting import sweeps as backtesting

    def point(payload):
        params = payload[-3]  # (..., params, rates, inputs)
        order = 2 * (params["layer1_start"] - 16) + params["layer2_start"] - 23  # 0 .. 5
        time.sleep(0.03 * (5 - order))
        return {**params, "sharpe": params["layer1_start"] * 100 + params["layer2_start"]}

    monkeypatch.setattr(backtesting, "_sweep_point", point)
    spx, vix = history([2400.0] * 5, [12.0] * 5)
    starts = dict(layer1_starts=[16, 17, 18], layer2_starts=[23, 24])
    seen = []
    serial = backtesting.sweep(spx, vix, progress=lambda done, total: seen.append((done, total)), **starts)
    assert seen == [(i, 6) for i in range(1, 7)]
    assert serial["sharpe"].to_list() == [1623.0, 1624.0, 1723.0, 1724.0, 1823.0, 1824.0]
    seen.clear()
    with ThreadPoolExecutor(6) as pool:
        pooled = backtesting.sweep(
            spx, vix, executor=pool, progress=lambda done, total: seen.append((done, total)), **starts
        )
    assert pooled.equals(serial) and seen == [(i, 6) for i in range(1, 7)]


def test_policies_replayed_in_processes_equal_the_serial_runs():
    from alvh.backtesting.comparison import backtest

    spx, vix = _stress_history(n=130)
    policies = {"none": None, "early": alvh.Policy.preset("early"), "patient": alvh.Policy.preset("patient")}
    kwargs = dict(policies=policies, assumptions=Assumptions(initial_capital=60_000.0))
    seen: list[tuple[str, int, int]] = []
    parallel = backtest(spx, vix, workers=2, progress=lambda *a: seen.append(a), **kwargs)
    serial = backtest(spx, vix, **kwargs)
    assert list(parallel.runs) == list(policies)
    for name in policies:
        assert parallel.runs[name].equity.equals(serial.runs[name].equity)
        assert parallel.runs[name].trades.equals(serial.runs[name].trades)
        assert (name, 130, 130) in seen
    with pytest.raises(InvalidInputError, match="workers must be an int >= 1"):
        backtest(spx, vix, workers=0, **kwargs)


def test_walk_forward_chooses_without_reading_the_test_period():
    from alvh.backtesting.sweeps import walk_forward

    spx, vix = _stress_history(n=200)
    split = spx["date"][129]
    grid = dict(layer1_starts=[16, 18], layer2_starts=[23, 25], metric="annual_return")
    a = Assumptions(initial_capital=60_000.0)
    wf = walk_forward(spx, vix, split=split, assumptions=a, **grid)
    assert wf.train.height == 4 and wf.split == split
    best = wf.train.sort("annual_return", descending=True, maintain_order=True).row(0, named=True)
    assert wf.chosen == (best["layer1_start"], best["layer2_start"])
    assert wf.test["policy"].to_list() == ["early (chosen)", "early (untuned)"]
    assert (wf.test["layer1_start"][1], wf.test["layer2_start"][1]) == (17.0, 24.0)
    # Everything after the split changed (a crash instead of the recovery): the training
    # sweep and the choice are the same, the test period's numbers are not.
    after = pl.col("date") > split
    changed_spx = spx.with_columns(pl.when(after).then(pl.col("close") * 0.7).otherwise(pl.col("close")))
    changed_vix = vix.with_columns(
        pl.when(after).then(pl.lit(45.0)).otherwise(pl.col("close")).alias("close")
    )
    other = walk_forward(changed_spx, changed_vix, split=split, assumptions=a, **grid)
    assert other.train.equals(wf.train) and other.chosen == wf.chosen
    assert not other.test.equals(wf.test)
    with pytest.raises(InvalidInputError, match="metric 'gain' is not a sweep column"):
        walk_forward(spx, vix, split=split, layer1_starts=[16], layer2_starts=[23], metric="gain")


def test_daily_states_with_the_sample_inputs_equal_from_history_day_by_day():
    # Issue 14, point 3: the backtest feeds the diagnostics the history has (the breadth
    # proxy, core CPI from its release date, the term spread), causally.
    import dataclasses

    from alvh.backtesting.daily import daily_states
    from alvh.backtesting.data import sample_data
    from alvh.backtesting.inputs import SAMPLE_BREADTH_SOURCE, sample_inputs
    from alvh.policy.state import MarketState

    data = sample_data()
    rng = np.random.default_rng(5)
    vix_days = data.vix.filter(pl.col("date") >= dt.date(2008, 1, 1)).select("date", "close")
    futures = vix_days.select(
        "date",
        (pl.col("close") * pl.Series(rng.uniform(0.9, 1.15, vix_days.height))).alias("vx1"),
        (pl.col("close") * 1.08).alias("vx2"),
    )
    skew = data.spx.filter(pl.col("date") >= dt.date(2015, 1, 1)).select(
        "date",
        pl.Series(
            "skew",
            125
            + np.cumsum(rng.normal(0, 1.5, data.spx.filter(pl.col("date") >= dt.date(2015, 1, 1)).height)),
        ),
    )
    inputs = dataclasses.replace(sample_inputs(data), vix_futures=futures, skew=skew)
    # closes only: the arch OHLC and the GSPC closes of the sample differ by cents, which
    # from_history's bar checks would refuse (the replay reads closes)
    spx, vix = data.spx.select("date", "close"), data.vix.select("date", "close")
    rules = alvh.Policy.preset("patient").rules
    states = daily_states(spx, vix, rules=rules, inputs=inputs)
    names = (
        "breadth_bid",
        "ad_divergence",
        "breadth_source",
        "rate_differential",
        "rate_differential_change",
        "rate_differential_stable",
        "cpi_yoy",
        "ppi_yoy",
        "fomc_tone",
        "vix_vx1",
        "vx1_vx2",
        "backwardation",
        "skew_z",
        "skew_steepening",
    )
    days = [
        dt.date(2000, 1, 3),  # no breadth history yet
        dt.date(2000, 2, 1),
        dt.date(2008, 10, 10),
        dt.date(2015, 3, 2),  # skew: 40 rows, 60 needed
        dt.date(2015, 8, 24),
        dt.date(2019, 1, 15),  # the last CPI (2018-11, released 2018-12-15) still fresh
        dt.date(2019, 3, 1),  # ... and stale
        dt.date(2022, 11, 8),
    ]
    for day in days:
        want = MarketState.from_history(
            day,
            spx=spx,
            vix=vix,
            rules=rules,
            breadth=inputs.breadth,
            breadth_source=inputs.breadth_source,
            macro=inputs.macro,
            rates=inputs.rates,
            vix_futures=inputs.vix_futures,
            skew=inputs.skew,
        )
        got = states[day]
        for name in names:
            a, b = getattr(got, name), getattr(want, name)
            if b is None or isinstance(b, (bool, str)):
                assert a == b, (day, name, a, b)
            else:
                assert a == pytest.approx(b, rel=1e-12, abs=1e-12), (day, name)
        inputs_named = {"breadth", "rates", "macro", "vix_futures", "skew", *names}
        assert set(got.missing_names) & inputs_named == set(want.missing_names) & inputs_named, day
    assert states[dt.date(2015, 8, 24)].breadth_source == SAMPLE_BREADTH_SOURCE
    assert states[dt.date(2019, 1, 15)].cpi_yoy is not None and states[dt.date(2019, 3, 1)].cpi_yoy is None


def test_a_layer_3_close_in_the_replay_closes_the_condors_and_sells_the_hedges():
    # issue 14, point 9: the IRR/CAPM verdict changes what the book holds
    spx, vix = _stress_history()
    run = replay(
        spx, vix, policy=alvh.Policy.preset("early"), assumptions=Assumptions(initial_capital=60_000.0)
    )
    closes = [d for d in run.decisions if d.actions and d.actions[0].name == "close_book"]
    assert len(closes) == 1
    day = closes[0].date
    closed = run.trades.filter(pl.col("reason") == "layer 3: IRR below CAPM")
    assert closed.height > 0 and set(closed["closed"].to_list()) == {day}
    assert run.equity.filter(pl.col("date") == day)["open_condors"][0] == 0  # none left that night
    # the hedges still held that day are sold with the book (those monetized before are not)
    held = run.hedges.filter(pl.col("sold").is_null() | (pl.col("sold") >= day))
    sold = run.hedges.filter(pl.col("reason") == "layer 3: book closed")
    assert sold.height == held.height and set(sold["sold"].to_list()) <= {day}
    assert (
        run.hedges.height > 0 and sold.height + run.exits.filter(pl.col("rule") != "book_closed").height > 0
    )
    # and no condor is sold again while layer 3 holds (the day before each sale: below 3)
    layers = dict(zip(run.equity["date"].to_list(), run.equity["layer"].to_list()))
    dates = run.equity["date"].to_list()
    opened = [d for d in run.trades["opened"].to_list() + run.open_condors["opened"].to_list() if d > day]
    assert opened and all(layers[dates[dates.index(d) - 1]] < 3 for d in opened)
    assert any(layers[d] == 3 for d in dates if d > day)  # layer 3 held after the close
    # "report" keeps the book: no such exits
    keep = alvh.Policy.preset("early").with_changes(rules=alvh.policy.Rules(irr_action="report"))
    kept = replay(spx, vix, policy=keep, assumptions=Assumptions(initial_capital=60_000.0))
    assert kept.trades.filter(pl.col("reason") == "layer 3: IRR below CAPM").height == 0
