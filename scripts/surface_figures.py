"""The default surface's figures the issues quote, as JSON on stdout:

    python scripts/surface_figures.py [--start 2014-01-01] [--end 2018-12-31]

the surface's own VIX (Cboe formula on its 30-day options) for input VIX 9-90 and its
static-arbitrage counts on 2016-02-04 (SPX 1915.45, VIX 21.84); then the bundled history
between ``--start`` and ``--end`` replayed at each day's bill rate with no hedge, ``early``
and ``patient``: per policy the condors, their average credit and P&L, the hedge spend,
hedge days and average cost per hedge day, annual return, P&L and max drawdown on the
fixed capital; and ``early`` minus ``patient`` with its 90 % bootstrap interval (seed 0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2014, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2018, 12, 31))
    args = parser.parse_args(argv)

    import polars as pl

    import alvh
    from alvh.backtesting.comparison import backtest, compare
    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.data import rates_for, sample_data
    from alvh.market import Market, check_arbitrage
    from alvh.market.cboe import model_vix

    out: dict[str, object] = {}
    day = dt.date(2016, 2, 4)
    market = Market(as_of=day, spot=1915.45, rate=0.003, div=0.021, vix=21.84)
    out["own_vix_2016_02_04"] = round(model_vix(market).value, 3)
    out["arbitrage_2016_02_04"] = check_arbitrage(market).counts
    out["own_vix"] = {
        v: round(model_vix(Market(as_of=day, spot=1915.45, rate=0.003, div=0.021, vix=float(v))).value, 3)
        for v in (9, 20, 30, 60, 90)
    }
    data = sample_data()
    spx = data.spx.filter(pl.col("date").is_between(args.start, args.end))
    vix = data.vix.select("date", "close").filter(pl.col("date").is_between(args.start, args.end))
    result = backtest(
        spx,
        vix,
        rates=rates_for(replay_days(spx, vix), data.rates),
        workers=2,
        policies={"none": None, **{name: alvh.Policy.preset(name) for name in ("early", "patient")}},
    )
    for name, run in result.runs.items():
        trades, metrics = run.trades, run.metrics()
        hedge_days = sum(1 for d in run.decisions if d.actions)
        out[name] = {
            "condors": trades.height,
            "avg_credit_usd": round(float(trades["credit"].mean()), 2),
            "avg_pnl_usd": round(float(trades["pnl"].mean()), 2),
            "hedge_spend": round(metrics["hedge_spend"]),
            "hedge_days": hedge_days,
            "avg_hedge_cost_usd": round(metrics["hedge_spend"] / hedge_days, 2) if hedge_days else None,
            "annual_return": round(metrics["annual_return"], 4),
            "pnl": round(metrics["pnl"]),
            "max_dd": round(metrics["max_drawdown"], 4),
        }
    diff = compare(result, "early", "patient", reps=2000, seed=0)
    out["early_minus_patient"] = {
        "return": round(diff.return_diff, 4),
        "low": round(diff.return_low, 4),
        "high": round(diff.return_high, 4),
    }
    json.dump(out, sys.stdout, indent=1, default=str)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
