"""The verdict at the resolution a trader needs (DESIGN.md "Backtest"): the stress
episodes found from the data (`stress_episodes`), each policy's book through each of them
(`episode_table`), what hedging costs when nothing happens (`calm_years`), and the
verdict sentence that says which policy wins where (`where_it_wins`).

**Episodes.** A run of VIX closes at or above ``threshold`` (30) is stressed; runs less
than ``merge_days`` (60) trading days apart are one episode (2008-09 to 2009-05 is one
crisis, not six). An episode's *window*, over which the books are compared, starts
``margin`` (20) trading days before its first close at or above the threshold (the
layers fire on the way up, at 17-22 and 24-29, and the hedges bought then are what pays)
and ends ``margin`` trading days after its last (what the hedges fetch on the way down),
clipped to the history and to the neighbouring episodes. An episode is a **crash** when
its first and last stressed closes are at most ``crash_days`` (60) trading days apart (a
spike: May 2010, August 2015, March 2020), a **slow bear** otherwise (2000-2002,
2008-2009, 2022).

**A calm year** is a calendar year of the replay without a VIX close at or above the
threshold; the table gives what each policy's book made in it and what its hedging
cost.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh.errors import InputTypeError, InvalidInputError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["calm_years", "episode_table", "stress_episodes", "where_it_wins"]

#: VIX close at or above which a day is stressed.
STRESS_VIX = 30.0
#: Stressed runs closer than this many trading days are one episode.
MERGE_DAYS = 60
#: Trading days added before and after an episode's stressed closes for its window.
MARGIN_DAYS = 20
#: An episode whose stressed closes span at most this many trading days is a crash.
CRASH_DAYS = 60


def _vix_series(vix: Any, name: str) -> tuple[list[dt.date], Any]:
    import polars as pl

    if not isinstance(vix, pl.DataFrame):
        raise InputTypeError(f"{name} must be a Polars DataFrame with date and close columns")
    for column in ("date", "close"):
        if column not in vix.columns:
            raise InvalidInputError(f"{name} has no {column!r} column (columns: {', '.join(vix.columns)})")
    frame = vix.select("date", pl.col("close").cast(pl.Float64)).drop_nulls()
    days = frame.get_column("date").to_list()
    if any(b <= a for a, b in zip(days, days[1:])):
        raise InvalidInputError(f"{name}.date must be strictly increasing")
    return days, frame.get_column("close").to_numpy()


def stress_episodes(
    vix: pl.DataFrame,
    *,
    threshold: float = STRESS_VIX,
    merge_days: int = MERGE_DAYS,
    margin: int = MARGIN_DAYS,
    crash_days: int = CRASH_DAYS,
) -> pl.DataFrame:
    """The stress episodes of a VIX history (``date``, ``close``; its rows are the trading
    days), as the module doc defines them: one row per episode with ``episode`` (1, 2,
    ...), ``first`` and ``last`` (its first and last close at or above ``threshold``),
    ``start`` and ``end`` (its window), ``peak`` and ``peak_date`` (the highest close),
    ``stressed_days`` (closes at or above the threshold), ``kind`` (crash or slow bear)
    and ``label`` (``2008-09..2009-05``). Empty (same columns) when the VIX never gets
    there."""
    import polars as pl

    days, close = _vix_series(vix, "vix")
    for label, value in (("merge_days", merge_days), ("margin", margin), ("crash_days", crash_days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputTypeError(f"{label} must be an int >= 0; got {value!r}")
    if not (isinstance(threshold, (int, float)) and np.isfinite(threshold) and threshold > 0):
        raise InvalidInputError(f"threshold must be a positive VIX level; got {threshold!r}")
    stressed = np.flatnonzero(close >= threshold)
    runs: list[list[int]] = []  # [first row, last row, stressed count]
    for i in stressed:
        if runs and i - runs[-1][1] < merge_days:
            runs[-1][1] = int(i)
            runs[-1][2] += 1
        else:
            runs.append([int(i), int(i), 1])
    rows = []
    for n, (first, last, count) in enumerate(runs):
        low = runs[n - 1][1] + 1 if n > 0 else 0
        high = runs[n + 1][0] - 1 if n + 1 < len(runs) else len(days) - 1
        start, end = max(first - margin, low), min(last + margin, high)
        peak = first + int(np.argmax(close[first : last + 1]))
        rows.append(
            {
                "episode": n + 1,
                "label": f"{days[first]:%Y-%m}..{days[last]:%Y-%m}",
                "kind": "crash" if last - first <= crash_days else "slow bear",
                "first": days[first],
                "last": days[last],
                "start": days[start],
                "end": days[end],
                "peak": float(close[peak]),
                "peak_date": days[peak],
                "stressed_days": count,
            }
        )
    schema = {
        "episode": pl.Int64,
        "label": pl.String,
        "kind": pl.String,
        "first": pl.Date,
        "last": pl.Date,
        "start": pl.Date,
        "end": pl.Date,
        "peak": pl.Float64,
        "peak_date": pl.Date,
        "stressed_days": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def _stretch(run: Any, start: dt.date, end: dt.date) -> dict[str, float]:
    """A replay's book over the days ``start``..``end``: $ P&L from the close before
    ``start`` (or from ``start``'s own close when the replay begins inside), the worst $
    drawdown inside over the capital, and the hedges' spend, payoff (proceeds of those
    sold plus the change of the held ones' value) and net, all in $. NaN when the replay
    has no day in the stretch."""
    import polars as pl

    eq = run.equity
    inside = eq.filter((pl.col("date") >= start) & (pl.col("date") <= end))
    if not inside.height:
        return dict.fromkeys(
            ("pnl", "max_drawdown", "hedge_spend", "hedge_payoff", "hedge_net"), float("nan")
        )
    before = eq.filter(pl.col("date") < start).tail(1)
    base, moves = (before, inside) if before.height else (inside.head(1), inside.slice(1))
    equity = np.concatenate((base.get_column("equity").to_numpy(), moves.get_column("equity").to_numpy()))
    spend = float(moves.get_column("hedge_spend").sum())
    payoff = float(moves.get_column("hedge_proceeds").sum()) + float(
        inside.get_column("hedge_value")[-1] - base.get_column("hedge_value")[0]
    )
    return {
        "pnl": float(equity[-1] - equity[0]),
        "max_drawdown": float(np.max(np.maximum.accumulate(equity) - equity))
        / run.assumptions.initial_capital,
        "hedge_spend": spend,
        "hedge_payoff": payoff,
        "hedge_net": payoff - spend,
    }


def episode_table(result: Any, episodes: pl.DataFrame | None = None) -> pl.DataFrame:
    """Each policy of ``result`` (`alvh.backtesting.BacktestResult`) through each stress
    episode: the episode's columns (``episode``, ``label``, ``kind``, ``start``, ``end``,
    ``peak``), then ``policy`` and, over the episode's window, ``pnl`` ($), ``max_drawdown``
    (the worst $ fall inside the window over the book's capital), ``hedge_spend``,
    ``hedge_payoff`` and ``hedge_net`` ($), and ``vs_none`` (``pnl`` minus the unhedged
    book's, when the result has a ``none`` run). ``episodes`` default: `stress_episodes`
    of the replay's own VIX closes."""
    import polars as pl

    runs = dict(result.runs)
    first = next(iter(runs.values())).equity
    if episodes is None:
        episodes = stress_episodes(first.select("date", pl.col("vix").alias("close")))
    rows = []
    for ep in episodes.iter_rows(named=True):
        by_policy = {name: _stretch(run, ep["start"], ep["end"]) for name, run in runs.items()}
        for name, stats in by_policy.items():
            row = {k: ep[k] for k in ("episode", "label", "kind", "start", "end", "peak")}
            row["policy"] = name
            row.update(stats)
            row["vs_none"] = stats["pnl"] - by_policy["none"]["pnl"] if "none" in by_policy else None
            rows.append(row)
    schema = {
        "episode": pl.Int64,
        "label": pl.String,
        "kind": pl.String,
        "start": pl.Date,
        "end": pl.Date,
        "peak": pl.Float64,
        "policy": pl.String,
        "pnl": pl.Float64,
        "max_drawdown": pl.Float64,
        "hedge_spend": pl.Float64,
        "hedge_payoff": pl.Float64,
        "hedge_net": pl.Float64,
        "vs_none": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def calm_years(result: Any, *, threshold: float = STRESS_VIX, min_days: int = 200) -> pl.DataFrame:
    """Each policy of ``result`` in each calm year (no VIX close at or above ``threshold``;
    years with fewer than ``min_days`` replay days, the history's partial ends, left
    out): ``year``, ``policy``, ``pnl`` ($), ``return`` (over the capital), ``max_drawdown``
    (over the capital), ``hedge_spend``, ``hedge_payoff``, ``hedge_net`` ($) and
    ``vs_none``, then one ``year = 0`` row per policy: all calm years together (sums;
    the worst drawdown)."""
    import polars as pl

    runs = dict(result.runs)
    eq = next(iter(runs.values())).equity
    per_year = (
        eq.group_by(pl.col("date").dt.year().alias("year"))
        .agg(pl.col("vix").max().alias("vix_max"), pl.len().alias("days"))
        .sort("year")
    )
    calm = per_year.filter((pl.col("vix_max") < threshold) & (pl.col("days") >= min_days))
    rows = []
    for year in calm.get_column("year").to_list():
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        by_policy = {name: _stretch(run, start, end) for name, run in runs.items()}
        for name, stats in by_policy.items():
            capital = runs[name].assumptions.initial_capital
            rows.append(
                {
                    "year": year,
                    "policy": name,
                    "return": stats["pnl"] / capital,
                    **stats,
                    "vs_none": stats["pnl"] - by_policy["none"]["pnl"] if "none" in by_policy else None,
                }
            )
    schema = {
        "year": pl.Int64,
        "policy": pl.String,
        "return": pl.Float64,
        "pnl": pl.Float64,
        "max_drawdown": pl.Float64,
        "hedge_spend": pl.Float64,
        "hedge_payoff": pl.Float64,
        "hedge_net": pl.Float64,
        "vs_none": pl.Float64,
    }
    table = pl.DataFrame(rows, schema=schema)
    if table.height:
        total = (
            table.group_by("policy", maintain_order=True)
            .agg(
                pl.col("return").sum(),
                pl.col("pnl").sum(),
                pl.col("max_drawdown").max(),
                pl.col("hedge_spend").sum(),
                pl.col("hedge_payoff").sum(),
                pl.col("hedge_net").sum(),
                pl.col("vs_none").sum(),
            )
            .with_columns(pl.lit(0, dtype=pl.Int64).alias("year"))
            .select(table.columns)
        )
        table = pl.concat([table, total])
    return table


def where_it_wins(episodes: pl.DataFrame, calm: pl.DataFrame, *, a: str = "early", b: str = "patient") -> str:
    """Plain words: which of policies ``a`` and ``b`` ended ahead in the crashes, in the
    slow bears and in the calm years, by how many $ in total and in how many of them."""
    import polars as pl

    parts = []
    groups = [
        (kind, episodes.filter(pl.col("kind") == kind), "episode")
        for kind in ("crash", "slow bear")
        if episodes.height
    ]
    groups.append(("calm years", calm.filter(pl.col("year") > 0), "year"))
    for label, frame, key in groups:
        if not frame.height:
            continue
        pa = frame.filter(pl.col("policy") == a).sort(key).get_column("pnl").to_numpy()
        pb = frame.filter(pl.col("policy") == b).sort(key).get_column("pnl").to_numpy()
        if pa.size == 0 or pa.size != pb.size:
            continue
        gap = float(np.sum(pa - pb))
        n = pa.size
        noun = {"crash": ("crash", "crashes"), "slow bear": ("slow bear", "slow bears")}.get(
            label, ("calm year", "calm years")
        )
        where = f"the {noun[0]}" if n == 1 else f"the {n} {noun[1]}"
        if abs(gap) < 0.5:
            parts.append(f"in {where} {a} and {b} ended level")
            continue
        winner, loser = (a, b) if gap > 0 else (b, a)
        # A difference under half a dollar is a tie (model marks differ in the cents).
        wins = int(np.count_nonzero(pa > pb + 0.5)) if gap > 0 else int(np.count_nonzero(pb > pa + 0.5))
        count = "" if n == 1 else f" (ahead in {wins} of {n})"
        parts.append(f"in {where} {winner} ended {abs(gap):,.0f} $ ahead of {loser}{count}")
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
