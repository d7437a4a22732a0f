"""Stress episodes, the per-episode and calm-year tables, and the verdict's plain words."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import alvh
from alvh.backtesting.comparison import backtest
from alvh.backtesting.daily import Assumptions
from alvh.backtesting.episodes import calm_years, episode_table, stress_episodes, where_it_wins
from alvh.calendar import is_business_day
from alvh.errors import InvalidInputError


def business_days(start: dt.date, n: int) -> list[dt.date]:
    days, day = [], start
    while len(days) < n:
        if is_business_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def vix_frame(values, start=dt.date(2005, 1, 3)):
    return pl.DataFrame({"date": business_days(start, len(values)), "close": [float(v) for v in values]})


def test_episodes_are_found_merged_and_kept_apart_on_a_synthetic_series():
    v = np.full(600, 15.0)
    v[100:105] = [31, 35, 40, 33, 30]  # a spike: 5 stressed days
    v[150] = 32  # 45 rows after the spike's last: merged with it (< 60)
    v[300:400] = 29.0
    v[300:400:10] = 30.0  # a long stretch, every 10th close at 30 exactly
    v[470] = 45  # 70 rows after 399: a separate episode
    days = business_days(dt.date(2005, 1, 3), 600)
    eps = stress_episodes(vix_frame(v))
    assert eps.height == 3
    one, two, three = eps.rows(named=True)
    assert (one["first"], one["last"], one["stressed_days"]) == (days[100], days[150], 6)
    assert (one["peak"], one["peak_date"]) == (40.0, days[102])
    assert (one["start"], one["end"]) == (days[80], days[170]) and one["kind"] == "crash"
    assert (two["first"], two["last"], two["stressed_days"]) == (days[300], days[390], 10)
    assert two["kind"] == "slow bear"  # 90 rows from first to last stressed close
    # windows stop at the neighbours and the history's ends
    assert (three["start"], three["end"]) == (days[450], days[490]) and three["peak"] == 45.0
    assert two["label"] == f"{days[300]:%Y-%m}..{days[390]:%Y-%m}"
    # merge_days=40 splits the first one; a margin of 0 makes the window the stressed run
    split = stress_episodes(vix_frame(v), merge_days=40, margin=0)
    assert split.height == 4 and (split["start"][0], split["end"][0]) == (days[100], days[104])
    assert stress_episodes(vix_frame(np.full(50, 20.0))).height == 0
    assert stress_episodes(vix_frame(v), threshold=50.0).columns == eps.columns


def test_episode_finder_refuses_bad_input():
    with pytest.raises(InvalidInputError, match="threshold must be a positive"):
        stress_episodes(vix_frame([20.0, 31.0]), threshold=0.0)
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        stress_episodes(pl.DataFrame({"date": [dt.date(2005, 1, 4)] * 2, "close": [20.0, 31.0]}))
    with pytest.raises(InvalidInputError, match="no 'close' column"):
        stress_episodes(pl.DataFrame({"date": [dt.date(2005, 1, 4)], "vix": [31.0]}))


def _history():
    # Calm, a selloff through every band to VIX 40, a recovery, then calm for a year.
    rng = np.random.default_rng(5)
    n = 600
    moves = np.concatenate(
        [rng.normal(0.0004, 0.006, 80), rng.normal(-0.012, 0.02, 30), rng.normal(0.001, 0.008, n - 110)]
    )
    vix = np.concatenate(
        [np.full(80, 13.0) + rng.normal(0, 0.3, 80), np.linspace(14.0, 40.0, 30), np.full(n - 110, 14.0)]
    )
    vix[110:150] = np.linspace(38.0, 14.0, 40)
    days = business_days(dt.date(2016, 9, 1), n)
    spx = pl.DataFrame({"date": days, "close": list(2200.0 * np.exp(np.cumsum(moves)))})
    return spx, pl.DataFrame({"date": days, "close": list(vix)})


@pytest.fixture(scope="module")
def result(calm_inputs):
    spx, vix = _history()
    return backtest(
        spx,
        vix,
        policies={
            "none": None,
            "early": alvh.Policy.preset("early"),
            "patient": alvh.Policy.preset("patient"),
        },
        assumptions=Assumptions(initial_capital=60_000.0),
        inputs=calm_inputs(spx),  # patient waits below layer 3 on every day
    )


def test_episode_table_adds_up_against_the_daily_rows(result):
    table = episode_table(result)
    eps = stress_episodes(result.runs["none"].equity.select("date", pl.col("vix").alias("close")))
    assert eps.height == 1 and table.height == 3 * eps.height
    ep = eps.row(0, named=True)
    for name, run in result.runs.items():
        row = table.filter(pl.col("policy") == name).row(0, named=True)
        eq = run.equity
        inside = eq.filter((pl.col("date") >= ep["start"]) & (pl.col("date") <= ep["end"]))
        before = eq.filter(pl.col("date") < ep["start"]).tail(1)
        assert row["pnl"] == pytest.approx(inside["equity"][-1] - before["equity"][0], rel=1e-12)
        values = np.concatenate((before["equity"].to_numpy(), inside["equity"].to_numpy()))
        worst = max(values[: i + 1].max() - values[i] for i in range(values.size)) / 60_000.0
        assert row["max_drawdown"] == pytest.approx(worst, rel=1e-12, abs=1e-15)
        assert row["hedge_spend"] == pytest.approx(inside["hedge_spend"].sum(), rel=1e-12, abs=1e-12)
        payoff = inside["hedge_proceeds"].sum() + inside["hedge_value"][-1] - before["hedge_value"][0]
        assert row["hedge_payoff"] == pytest.approx(payoff, rel=1e-12, abs=1e-9)
        assert row["hedge_net"] == pytest.approx(row["hedge_payoff"] - row["hedge_spend"], abs=1e-9)
        assert row["vs_none"] == pytest.approx(
            row["pnl"] - table.filter(pl.col("policy") == "none")["pnl"][0], abs=1e-9
        )
    assert table.filter(pl.col("policy") == "none")["hedge_spend"][0] == 0.0
    assert table.filter(pl.col("policy") == "early")["hedge_spend"][0] > 0.0


def test_calm_years_leave_out_stressed_and_partial_years(result):
    calm = calm_years(result)
    years = sorted(set(calm["year"].to_list()) - {0})
    # 2016 is partial (Sept-Dec), 2017 holds the selloff to 40 (January-February), 2018
    # is calm and whole, 2019 is 14 days.
    assert years == [2018]
    for name, run in result.runs.items():
        eq = run.equity.filter(pl.col("date").dt.year() == 2018)
        before = run.equity.filter(pl.col("date") < dt.date(2018, 1, 1)).tail(1)
        row = calm.filter((pl.col("year") == 2018) & (pl.col("policy") == name)).row(0, named=True)
        assert row["pnl"] == pytest.approx(eq["equity"][-1] - before["equity"][0], rel=1e-12)
        assert row["return"] == pytest.approx(row["pnl"] / 60_000.0, rel=1e-12)
        total = calm.filter((pl.col("year") == 0) & (pl.col("policy") == name)).row(0, named=True)
        assert total["pnl"] == pytest.approx(row["pnl"], rel=1e-12)


def test_where_it_wins_says_who_and_by_how_much(result):
    table, calm = episode_table(result), calm_years(result)
    text = where_it_wins(table, calm)
    early = table.filter(pl.col("policy") == "early")["pnl"][0]
    patient = table.filter(pl.col("policy") == "patient")["pnl"][0]
    winner = "early" if early > patient else "patient"
    loser = "patient" if winner == "early" else "early"
    assert text.startswith(f"In the crash {winner} ended {abs(early - patient):,.0f} $ ahead of {loser}")
    assert "in the calm year " in text and text.endswith(".")
