"""Policies side by side over the same history (`backtest` -> `BacktestResult`), the
difference of two policies with a block-bootstrap interval (`compare`), and the verdict
the product exists to give: adjust early (VIX 17-22) or wait for the higher layers
(`verdict`)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh.backtesting.daily import TRADING_DAYS, Assumptions, CondorRules, Costs, Replay, daily_states, replay
from alvh.errors import InvalidInputError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["BacktestResult", "Difference", "backtest", "compare", "verdict"]


@dataclass(frozen=True)
class BacktestResult:
    """Policies replayed side by side over the same history (`backtest`): each
    `Replay` by name, and the comparison frames."""

    runs: Mapping[str, Replay]

    def metrics(self) -> pl.DataFrame:
        """One row per policy: `Replay.metrics` (fractions; $ for the hedge spend)."""
        import polars as pl

        rows = [{"policy": name, **run.metrics()} for name, run in self.runs.items()]
        return pl.DataFrame(rows)

    def equity(self) -> pl.DataFrame:
        """Long form: date, policy, equity, drawdown (fraction below the running peak),
        layer."""
        import polars as pl

        frames = []
        for name, run in self.runs.items():
            eq = run.equity
            frames.append(
                eq.select(
                    "date",
                    pl.lit(name).alias("policy"),
                    "equity",
                    (1.0 - pl.col("equity") / pl.col("equity").cum_max()).alias("drawdown"),
                    "layer",
                    "vix",
                )
            )
        return pl.concat(frames)

    def decisions(self) -> pl.DataFrame:
        """Every decision run, all policies: date, policy, VIX, layer before / after,
        the action (if any) and its cost, the rationale."""
        import polars as pl

        rows = []
        for name, run in self.runs.items():
            for d in run.decisions:
                rows.append(
                    {
                        "date": d.date,
                        "policy": name,
                        "vix": d.vix,
                        "layer_before": d.layer_before,
                        "layer_after": d.layer_after,
                        "action": d.actions[0].description if d.actions else None,
                        "cost": d.actions[0].cost if d.actions else 0.0,
                        "rationale": d.rationale,
                    }
                )
        schema = {
            "date": pl.Date,
            "policy": pl.String,
            "vix": pl.Float64,
            "layer_before": pl.Int64,
            "layer_after": pl.Int64,
            "action": pl.String,
            "cost": pl.Float64,
            "rationale": pl.String,
        }
        return pl.DataFrame(rows, schema=schema)


def backtest(
    spx: pl.DataFrame,
    vix: pl.DataFrame,
    *,
    policies: Mapping[str, Any],
    start: dt.date | None = None,
    end: dt.date | None = None,
    condors: CondorRules | None = None,
    costs: Costs | None = None,
    assumptions: Assumptions | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> BacktestResult:
    """Replay the same condor schedule once per policy (``{name: Policy or None}``;
    None = no hedge) over the same history and costs; see `replay`. The diagnostics
    are computed once per rule set. ``progress(name, done, total)`` reports each
    policy's replay."""
    if not isinstance(policies, Mapping) or not policies:
        raise InvalidInputError("policies must be a non-empty mapping of name -> Policy or None")
    runs: dict[str, Replay] = {}
    states_by_rules: dict[Any, Mapping[dt.date, Any]] = {}
    for name, policy in policies.items():
        states = None
        if policy is not None:
            key = policy.rules
            if key not in states_by_rules:
                states_by_rules[key] = daily_states(spx, vix, rules=policy.rules)
            states = states_by_rules[key]
        report = None if progress is None else (lambda done, total, name=name: progress(name, done, total))
        runs[name] = replay(
            spx,
            vix,
            start=start,
            end=end,
            condors=condors,
            costs=costs,
            assumptions=assumptions,
            policy=policy,
            states=states,
            progress=report,
        )
    return BacktestResult(runs)


@dataclass(frozen=True)
class Difference:
    """Policy ``a`` minus policy ``b`` over the same days: the annualized mean daily
    return (``return_diff``) and the Sharpe ratio (``sharpe_diff``), each with a 90 %
    block-bootstrap interval (``*_low``, ``*_high``)."""

    a: str
    b: str
    return_diff: float
    return_low: float
    return_high: float
    sharpe_diff: float
    sharpe_low: float
    sharpe_high: float
    block: int
    reps: int

    @property
    def significant(self) -> bool:
        """The return difference's interval excludes zero."""
        return self.return_low > 0.0 or self.return_high < 0.0


def _annual_stats(x: Any, y: Any) -> Any:
    def sharpe(r: Any) -> float:
        sd = float(np.std(r, ddof=1))
        return float(np.mean(r)) / sd * math.sqrt(TRADING_DAYS) if sd > 0 else 0.0

    return np.array([TRADING_DAYS * (float(np.mean(x)) - float(np.mean(y))), sharpe(x) - sharpe(y)])


def compare(
    result: BacktestResult, a: str, b: str, *, block: int = 20, reps: int = 1000, seed: int = 0
) -> Difference:
    """`Difference` of policies ``a`` and ``b`` of ``result``: the stationary block
    bootstrap of Politis and Romano (``arch.bootstrap.StationaryBootstrap``, mean block
    ``block`` trading days, since daily book returns are autocorrelated: overlapping
    condors, hedges held for weeks) resamples the two daily return series together,
    ``reps`` times, seeded; percentile intervals at 90 %."""
    try:
        from arch.bootstrap import StationaryBootstrap
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("compare needs arch: pip install 'alvh[data]'") from exc
    for name in (a, b):
        if name not in result.runs:
            raise InvalidInputError(f"no policy {name!r} in the result ({', '.join(result.runs)})")

    def returns(name: str) -> Any:
        values = result.runs[name].equity.get_column("equity").to_numpy()
        return values[1:] / values[:-1] - 1.0

    ra, rb = returns(a), returns(b)
    point = _annual_stats(ra, rb)
    bootstrap = StationaryBootstrap(block, ra, rb, seed=seed)
    interval = bootstrap.conf_int(_annual_stats, reps=reps, method="percentile", size=0.90)
    return Difference(
        a,
        b,
        float(point[0]),
        float(interval[0, 0]),
        float(interval[1, 0]),
        float(point[1]),
        float(interval[0, 1]),
        float(interval[1, 1]),
        block,
        reps,
    )


def verdict(
    result: BacktestResult,
    *,
    early: str = "early",
    patient: str = "patient",
    none: str | None = "none",
    seed: int = 0,
) -> str:
    """A paragraph answering "adjust at VIX 17-22 or wait for higher layers?" from
    ``result``, with the block-bootstrap intervals of `compare`."""
    diff = compare(result, early, patient, seed=seed)
    m = result.metrics()

    def get(policy: str, key: str) -> float:
        return float(m.filter(m["policy"] == policy)[key][0])

    first, last = result.runs[early].equity["date"][0], result.runs[early].equity["date"][-1]
    lead = (
        f"Over {first} to {last}, adjusting early (layer 1 at VIX 17-22) returned "
        f"{100 * diff.return_diff:+.2f} % a year against waiting for higher layers "
        f"(90 % interval {100 * diff.return_low:+.2f} to {100 * diff.return_high:+.2f} %; "
        f"Sharpe {diff.sharpe_diff:+.2f}, {diff.sharpe_low:+.2f} to {diff.sharpe_high:+.2f}), "
        f"spending {get(early, 'hedge_spend'):,.0f} $ on {get(early, 'adjustments'):.0f} "
        f"hedges against {get(patient, 'hedge_spend'):,.0f} $ on "
        f"{get(patient, 'adjustments'):.0f}; max drawdown {100 * get(early, 'max_drawdown'):.1f} "
        f"% against {100 * get(patient, 'max_drawdown'):.1f} %."
    )
    if diff.significant:
        call = "The difference is outside the bootstrap noise: on this history, " + (
            "adjusting at 17-22 paid." if diff.return_diff > 0 else "waiting for the higher layers paid."
        )
    else:
        call = (
            "The interval contains zero: on this history the data cannot tell the two "
            "apart; the choice rests on cost and drawdown tolerance, not on return."
        )
    tail = ""
    if none is not None and none in result.runs:
        tail = (
            f" The unhedged book: CAGR {100 * get(none, 'cagr'):+.2f} %, max drawdown "
            f"{100 * get(none, 'max_drawdown'):.1f} %."
        )
    return f"{lead} {call}{tail}"
