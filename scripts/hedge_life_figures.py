"""Issue 15's figures: each policy over the bundled 2000-2022 sample with and without the
hedge exits (take profit, restrike; the rolls stay), next to no hedge and VXTH: worst day,
max drawdown, return, hedge spend and net; then the hedges of December 2018 in the
2014-2018 replay the issue started from.

    python scripts/hedge_life_figures.py
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace

import polars as pl

import alvh
from alvh.backtesting import backtest
from alvh.backtesting.daily import replay, replay_days
from alvh.backtesting.data import rates_for, sample_data
from alvh.backtesting.inputs import sample_inputs
from alvh.backtesting.reference import Vxth


def without_exits(policy: alvh.Policy) -> alvh.Policy:
    """The policy with no take profit, retrace or restrike (layer left, roll, expiry stay)."""
    layers = tuple(replace(x, take_profit=None, vix_retrace=None, restrike=False) for x in policy.layers)
    return policy.with_changes(layers=layers)


def main() -> None:
    pl.Config.set_tbl_rows(40).set_tbl_cols(12).set_tbl_width_chars(160).set_fmt_str_lengths(120)
    started = time.perf_counter()
    data = sample_data()
    spx, vix = data.spx, data.vix.select("date", "close")
    rates = rates_for(replay_days(spx, vix), data.rates)
    inputs = sample_inputs(data)
    early, patient = alvh.Policy.preset("early"), alvh.Policy.preset("patient")
    policies = {
        "none": None,
        "early": early,
        "early, no exits": without_exits(early),
        "patient": patient,
        "patient, no exits": without_exits(patient),
        "vxth": Vxth(),
    }
    result = backtest(spx, vix, policies=policies, rates=rates, workers=2, inputs=inputs)
    table = result.metrics().select(
        "policy", "worst_day", "max_drawdown", "annual_return", "sharpe", "pnl", "hedge_spend", "hedge_pnl"
    )
    print("2000-2022, $100,000 capital (fractions of the capital):")
    print(table)
    print("Exits by rule:")
    for name, run in result.runs.items():
        if run.exits is not None and run.exits.height:
            counts = run.exits.group_by("rule").len().sort("rule")
            print(f"  {name}: " + ", ".join(f"{r} {n}" for r, n in counts.iter_rows()))
    # the example: the patient policy's December 2018 hedges in the 2014-2018 replay
    span = {"start": dt.date(2014, 1, 1), "end": dt.date(2018, 12, 31)}
    rates_1418 = rates_for(replay_days(spx, vix, **span), data.rates)
    for name, policy in (("patient", patient), ("patient, no exits", without_exits(patient))):
        run = replay(spx, vix, policy=policy, rates=rates_1418, inputs=inputs, **span)
        december = run.hedge_log().filter(pl.col("bought") >= dt.date(2018, 12, 1))
        print(f"2014-2018, {name}: hedges bought in December 2018")
        print(december.select("bought", "sold", "hedge", "paid", "peak_value", "received", "pnl", "reason"))
        m = run.metrics()
        print(f"  worst day {100 * m['worst_day']:+.2f} %, max drawdown {100 * m['max_drawdown']:.1f} %")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
