"""The walk-forward choice of the hedge exits' defaults (issue 15; `alvh.policy.exits`):
every combination of a take-profit multiple and a VIX-retrace share (restrike on when
either is set) applied to layers 1 and 2 of the early and patient presets, replayed on
the bundled sample's 2000-2011 only; the combination with the best mean Sharpe ratio of
the two presets there is chosen, then every combination is reported on 2012-2022, which
played no part in the choice.

    python scripts/exit_sweep.py [--out scripts/exit_sweep.csv]

Prints both tables and the choice; writes the rows (in-sample and out-of-sample metrics
per combination and preset) to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import time
from dataclasses import replace

import polars as pl

import alvh
from alvh.backtesting import backtest
from alvh.backtesting.daily import replay_days
from alvh.backtesting.data import rates_for, sample_data
from alvh.backtesting.inputs import sample_inputs

TAKE_PROFIT = (None, 2.0, 3.0, 5.0)
VIX_RETRACE = (None, 0.25, 0.4)
IN_SAMPLE = (dt.date(2000, 1, 1), dt.date(2011, 12, 31))
OUT_OF_SAMPLE = (dt.date(2012, 1, 1), dt.date(2022, 12, 31))


def variant(preset: str, take_profit: float | None, retrace: float | None) -> alvh.Policy:
    """The preset with these exits on layers 1 and 2 (restrike when either is set)."""
    policy = alvh.Policy.preset(preset)
    restrike = take_profit is not None or retrace is not None
    layers = tuple(
        replace(layer, take_profit=take_profit, vix_retrace=retrace, restrike=restrike)
        if layer.number < 3
        else layer
        for layer in policy.layers
    )
    return policy.with_changes(layers=layers)


def label(take_profit: float | None, retrace: float | None) -> str:
    tp = "off" if take_profit is None else f"{take_profit:g}x"
    rt = "off" if retrace is None else f"{retrace:.0%}"
    return f"tp {tp} / retrace {rt}"


def run(period: tuple[dt.date, dt.date], workers: int) -> pl.DataFrame:
    data = sample_data()
    spx, vix = data.spx, data.vix.select("date", "close")
    rates = rates_for(replay_days(spx, vix), data.rates)
    policies = {}
    for preset, tp, rt in itertools.product(("early", "patient"), TAKE_PROFIT, VIX_RETRACE):
        policies[f"{preset} | {label(tp, rt)}"] = variant(preset, tp, rt)
    result = backtest(
        spx,
        vix,
        policies=policies,
        start=period[0],
        end=period[1],
        rates=rates,
        workers=workers,
        inputs=sample_inputs(data),
    )
    frame = result.metrics()
    return frame.with_columns(
        pl.col("policy").str.split(" | ").list.get(0).alias("preset"),
        pl.col("policy").str.split(" | ").list.get(1).alias("exits"),
    ).select(
        "preset", "exits", "annual_return", "sharpe", "max_drawdown", "worst_day", "hedge_spend", "hedge_pnl"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="scripts/exit_sweep.csv")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    pl.Config.set_tbl_rows(40).set_tbl_cols(12).set_tbl_width_chars(160)
    started = time.perf_counter()
    ins = run(IN_SAMPLE, args.workers)
    # ties (a rule that never fires) go to the combination with fewer rules on
    score = (
        ins.group_by("exits")
        .agg(pl.col("sharpe").mean().round(9).alias("mean_sharpe"))
        .with_columns(pl.col("exits").str.count_matches("off").alias("rules_off"))
        .sort("mean_sharpe", "rules_off")
    )
    chosen = score["exits"][-1]
    print(f"In sample {IN_SAMPLE[0]} to {IN_SAMPLE[1]}:")
    print(ins.sort("preset", "exits"))
    print(score)
    print(f"Chosen on 2000-2011 (best mean Sharpe of early and patient): {chosen}")
    oos = run(OUT_OF_SAMPLE, args.workers)
    print(f"Out of sample {OUT_OF_SAMPLE[0]} to {OUT_OF_SAMPLE[1]} (every combination; the choice marked):")
    print(oos.with_columns((pl.col("exits") == chosen).alias("chosen")).sort("preset", "exits"))
    rows = pl.concat(
        [
            ins.with_columns(pl.lit("2000-2011").alias("period")),
            oos.with_columns(pl.lit("2012-2022").alias("period")),
        ]
    ).with_columns((pl.col("exits") == chosen).alias("chosen"))
    rows.write_csv(args.out)
    print(f"{args.out} written ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
