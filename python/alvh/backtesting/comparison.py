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

__all__ = ["RULE_OUTCOMES", "BacktestResult", "Difference", "backtest", "compare", "verdict"]

#: The (rule, outcome) pairs `BacktestResult.rule_counts` counts, in rule order.
RULE_OUTCOMES = (
    ("a", "noise"),
    ("a", "evidence"),
    ("b", "fired"),
    ("b", "skipped"),
    ("c", "wait"),
    ("c", "act"),
    ("c", "unknown"),
    ("d", "within"),
    ("d", "over"),
    ("e", "capped"),
    ("f", "chosen"),
    ("f", "none"),
)


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

    def rule_counts(self) -> pl.DataFrame:
        """How often each rule decided, one row per policy with a policy: ``decisions``
        (days `decide` ran) and, per rule outcome (`alvh.policy.engine.rule_outcomes`),
        the days it happened: ``a_noise`` (rule (a) called the move noise: no hedge),
        ``a_evidence``, ``b_fired`` (layer 1 started below its band), ``b_skipped``,
        ``c_wait`` (rule (c): the conditions held, the layer waited), ``c_act`` (a
        condition failed: acted as early), ``c_unknown`` (none known: acted), ``d_within``
        (the projected CVaR inside the budget: actions waited), ``d_over``, ``e_capped``
        (the total cap cut the budget), ``f_chosen`` (a hedge bought), ``f_none`` (no
        candidate cut the CVaR)."""
        import polars as pl

        columns = [f"{rule}_{outcome}" for rule, outcome in RULE_OUTCOMES]
        rows = []
        for name, run in self.runs.items():
            if run.policy_name == "none" and not run.decisions:
                continue
            counts = dict.fromkeys(columns, 0)
            for decision in run.decisions:
                for rule, outcome in decision.extra.get("rules", {}).items():
                    key = f"{rule}_{outcome}"
                    if key in counts:
                        counts[key] += 1
            rows.append({"policy": name, "decisions": len(run.decisions), **counts})
        schema = {"policy": pl.String, "decisions": pl.Int64, **dict.fromkeys(columns, pl.Int64)}
        return pl.DataFrame(rows, schema=schema)

    def equity(self) -> pl.DataFrame:
        """Long form: date, policy, equity, drawdown ($ below the running peak over the
        book's capital), layer."""
        import polars as pl

        frames = []
        for name, run in self.runs.items():
            eq = run.equity
            frames.append(
                eq.select(
                    "date",
                    pl.lit(name).alias("policy"),
                    "equity",
                    ((pl.col("equity").cum_max() - pl.col("equity")) / run.assumptions.initial_capital).alias(
                        "drawdown"
                    ),
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


def _replay_one(payload: tuple[Any, ...]) -> tuple[str, Replay]:
    """One policy's replay in a worker process (module-level, so it pickles); progress
    goes back through ``queue`` as ``(name, done, total)``."""
    name, queue, kwargs = payload
    report = None if queue is None else (lambda done, total: queue.put((name, done, total)))
    return name, replay(**kwargs, progress=report)


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
    rates: pl.DataFrame | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    workers: int = 1,
    inputs: Any = None,
) -> BacktestResult:
    """Replay the same condor schedule once per policy (``{name: Policy or None}``;
    None = no hedge) over the same history, rates, diagnostic ``inputs``
    (`alvh.backtesting.inputs.StateInputs`) and costs; see `replay`. The diagnostics are
    computed once per rule set. ``progress(name, done, total)`` reports
    each policy's replay.

    ``workers`` > 1 replays the policies in that many processes (spawned, as
    `alvh.backtesting.sweep` explains); the runs are the same as in one process (each
    replay is deterministic) and come back in ``policies``' order."""
    if not isinstance(policies, Mapping) or not policies:
        raise InvalidInputError("policies must be a non-empty mapping of name -> Policy or None")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError(f"workers must be an int >= 1; got {workers!r}")
    states_by_rules: dict[Any, Mapping[dt.date, Any]] = {}
    jobs: dict[str, dict[str, Any]] = {}
    for name, policy in policies.items():
        states = None
        if policy is not None:
            key = policy.rules
            if key not in states_by_rules:
                states_by_rules[key] = daily_states(spx, vix, rules=policy.rules, inputs=inputs)
            states = states_by_rules[key]
        jobs[name] = dict(
            spx=spx,
            vix=vix,
            start=start,
            end=end,
            condors=condors,
            costs=costs,
            assumptions=assumptions,
            policy=policy,
            states=states,
            rates=rates,
        )
    if workers == 1 or len(jobs) == 1:
        runs = {}
        for name, kwargs in jobs.items():
            report = (
                None if progress is None else (lambda done, total, name=name: progress(name, done, total))
            )
            runs[name] = replay(**kwargs, progress=report)
        return BacktestResult(runs)
    return BacktestResult(_in_processes(jobs, progress, workers))


def _in_processes(
    jobs: dict[str, dict[str, Any]], progress: Callable[[str, int, int], None] | None, workers: int
) -> dict[str, Replay]:
    import multiprocessing
    import queue as queues
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing.managers import SyncManager

    from alvh._core.signals import ignore_interrupt

    context = multiprocessing.get_context("spawn")
    manager = SyncManager(ctx=context)
    manager.start(ignore_interrupt)  # Ctrl-C is the parent's to handle: no worker tracebacks
    with (
        manager,
        ProcessPoolExecutor(
            min(workers, len(jobs)), mp_context=context, initializer=ignore_interrupt
        ) as pool,
    ):
        channel = manager.Queue() if progress is not None else None
        pending = {pool.submit(_replay_one, (name, channel, kwargs)) for name, kwargs in jobs.items()}
        done_runs: dict[str, Replay] = {}

        def drain() -> None:
            while channel is not None and progress is not None:
                try:
                    progress(*channel.get_nowait())
                except queues.Empty:
                    return

        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for future in finished:
                name, run = future.result()
                done_runs[name] = run
        drain()
    return {name: done_runs[name] for name in jobs}


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

    @property
    def detectable(self) -> float:
        """The smallest annual return difference this history can tell from noise: half
        the width of the 90 % interval (a true difference smaller than this would, as
        often as not, leave zero inside the interval)."""
        return 0.5 * (self.return_high - self.return_low)


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

    def returns(name: str) -> Any:  # on the fixed capital, as `Replay.metrics`
        run = result.runs[name]
        return np.diff(run.equity.get_column("equity").to_numpy()) / run.assumptions.initial_capital

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


def _count(n: float, noun: str) -> str:
    return f"{n:.0f} {noun}{'' if round(n) == 1 else 's'}"


def _waited(result: BacktestResult, patient: str) -> str:
    """``" (it waited on N of M decision days)"`` for a policy with rule (c), else ``""``."""
    rules = result.rule_counts()
    row = rules.filter(rules["policy"] == patient)
    if not row.height:
        return ""
    waited, act, unknown = (int(row[c][0]) for c in ("c_wait", "c_act", "c_unknown"))
    if waited + act + unknown == 0:
        return ""
    return (
        f" (it waited on {waited:,} of {int(row['decisions'][0]):,} decision days; its conditions "
        f"failed on {act:,} and were unknown on {unknown:,})"
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
    ``result``: the whole-period difference with the block-bootstrap interval of
    `compare` and the smallest difference the history can detect, then which policy
    ends ahead in the crashes, the slow bears and the calm years
    (`alvh.backtesting.episodes`), then the unhedged book."""
    from alvh.backtesting.episodes import calm_years, episode_table, stress_episodes, where_it_wins

    diff = compare(result, early, patient, seed=seed)
    m = result.metrics()

    def get(policy: str, key: str) -> float:
        return float(m.filter(m["policy"] == policy)[key][0])

    import polars as pl

    equity = result.runs[early].equity
    first, last = equity["date"][0], equity["date"][-1]
    episodes = stress_episodes(equity.select("date", pl.col("vix").alias("close")))
    lead = (
        f"Over {first} to {last} ({equity.height:,} trading days, {episodes.height} stress "
        f"episode{'s' if episodes.height != 1 else ''} with the VIX at or above 30), adjusting "
        f"early (layer 1 at VIX 17-22) returned {100 * diff.return_diff:+.2f} % of the capital a "
        f"year against waiting for higher layers when rule (c) allows{_waited(result, patient)} "
        f"(90 % interval {100 * diff.return_low:+.2f} to "
        f"{100 * diff.return_high:+.2f} %; Sharpe {diff.sharpe_diff:+.2f}, {diff.sharpe_low:+.2f} "
        f"to {diff.sharpe_high:+.2f}), spending {get(early, 'hedge_spend'):,.0f} $ on "
        f"{_count(get(early, 'adjustments'), 'hedge')} against {get(patient, 'hedge_spend'):,.0f} $ "
        f"on {get(patient, 'adjustments'):.0f}; max drawdown {100 * get(early, 'max_drawdown'):.1f} % "
        f"of the capital against {100 * get(patient, 'max_drawdown'):.1f} %."
    )
    if diff.significant:
        call = "The difference is outside the bootstrap noise: on this history, " + (
            "adjusting at 17-22 paid." if diff.return_diff > 0 else "waiting for the higher layers paid."
        )
    else:
        call = (
            "The interval contains zero: on this history the data cannot tell the two apart "
            f"(the smallest difference it can detect is about {100 * diff.detectable:.2f} % a "
            "year); the choice rests on cost and drawdown tolerance, not on return."
        )
    where = where_it_wins(episode_table(result, episodes), calm_years(result), a=early, b=patient)
    tail = ""
    if none is not None and none in result.runs:
        tail = (
            f" The unhedged book: {get(none, 'pnl'):+,.0f} $, {100 * get(none, 'annual_return'):+.2f} % "
            f"of its capital a year, max drawdown {100 * get(none, 'max_drawdown'):.1f} %."
        )
    return " ".join(part for part in (lead, call, where) if part) + tail
