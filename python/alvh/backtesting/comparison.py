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
from alvh.backtesting.reference import Vxth
from alvh.errors import InvalidInputError

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "CNDR_PUBLISHED_VOL",
    "RULE_OUTCOMES",
    "VENDOR_CLAIM",
    "BacktestResult",
    "Difference",
    "backtest",
    "cndr_index_vol",
    "compare",
    "drawdown_answer",
    "verdict",
]

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
            if not run.decisions:  # no hedge, a reference rule: no rule decided
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

    def hedge_log(self) -> pl.DataFrame:
        """Every policy's hedges (`Replay.hedge_log`), one row each: policy, id, bought,
        sold, layer, what it was, paid, peak value, received, P&L, days held, reason."""
        import polars as pl

        columns = (
            "policy",
            "hedge_id",
            "bought",
            "sold",
            "layer",
            "hedge",
            "paid",
            "peak_value",
            "received",
            "pnl",
            "days",
            "reason",
        )
        logs = [run.hedge_log().with_columns(pl.lit(name).alias("policy")) for name, run in self.runs.items()]
        return pl.concat([log.select(columns) for log in logs])

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
        if policy is not None and not isinstance(policy, Vxth):
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


#: The drawdown cut vendors of layered VIX hedging claim (low, high), as a fraction.
VENDOR_CLAIM = (0.35, 0.40)


def _max_dd(returns: Any) -> float:
    path = np.concatenate(([0.0], np.cumsum(returns)))
    return float(np.max(np.maximum.accumulate(path) - path))


def _cut(returns: Any, base: Any) -> float:
    """1 - the max drawdown of ``returns`` over that of ``base`` (0 when ``base`` has none)."""
    dd_base = _max_dd(base)
    return 1.0 - _max_dd(returns) / dd_base if dd_base > 0 else 0.0


def drawdown_answer(
    result: BacktestResult, *, none: str = "none", reps: int = 300, seed: int = 0
) -> tuple[pl.DataFrame, str]:
    """The drawdown question, per hedged policy of ``result`` against the unhedged book
    ``none``: its max drawdown and the unhedged one (fractions of the capital), the
    ``cut`` (1 - hedged / unhedged) with a 90 % stationary-block-bootstrap interval
    (``reps`` resamples of the two daily return series together, mean block 20 days:
    the drawdowns recomputed on each), the worst day of each, the episode where the
    unhedged book fell furthest and both books' drawdowns in it, and what hedging cost
    over the calm years (the hedges' net there). Returns the frame and a paragraph that
    also says whether the history supports the vendors' claim (`VENDOR_CLAIM`): confirmed
    (the interval's low end at 35 % or more), consistent but unconfirmed (the interval
    reaches 35 %), or ruled out (it ends below). The percentile interval of a maximum
    drawdown is wide and leans low: resampling blocks breaks the long falls that set it."""
    import polars as pl
    from arch.bootstrap import StationaryBootstrap

    from alvh.backtesting.episodes import calm_years, episode_table

    if none not in result.runs:
        raise InvalidInputError(f"no unhedged run {none!r} in the result ({', '.join(result.runs)})")
    m = {row["policy"]: row for row in result.metrics().iter_rows(named=True)}
    capital = result.runs[none].assumptions.initial_capital
    base = np.diff(result.runs[none].equity.get_column("equity").to_numpy()) / capital
    episodes = episode_table(result)
    calm = calm_years(result)
    worst_ep = None
    if episodes.height:
        worst_ep = episodes.filter(pl.col("policy") == none).sort("max_drawdown").row(-1, named=True)
    rows = []
    for name, run in result.runs.items():
        if name == none:
            continue
        mine = np.diff(run.equity.get_column("equity").to_numpy()) / capital
        boot = StationaryBootstrap(20, mine, base, seed=seed)
        interval = boot.conf_int(
            lambda a, b: np.array([_cut(a, b)]), reps=reps, method="percentile", size=0.90
        )
        row: dict[str, Any] = {
            "policy": name,
            "max_drawdown": m[name]["max_drawdown"],
            "none_max_drawdown": m[none]["max_drawdown"],
            "cut": _cut(mine, base),
            "cut_low": float(interval[0, 0]),
            "cut_high": float(interval[1, 0]),
            "worst_day": m[name]["worst_day"],
            "none_worst_day": m[none]["worst_day"],
            "annual_return_diff": m[name]["annual_return"] - m[none]["annual_return"],
            "episode": None if worst_ep is None else worst_ep["label"],
            "episode_drawdown": None,
            "none_episode_drawdown": None if worst_ep is None else worst_ep["max_drawdown"],
            "calm_hedge_net": 0.0,
        }
        if worst_ep is not None:
            mine_ep = episodes.filter((pl.col("policy") == name) & (pl.col("episode") == worst_ep["episode"]))
            row["episode_drawdown"] = float(mine_ep["max_drawdown"][0])
        if calm.height:
            total = calm.filter((pl.col("year") == 0) & (pl.col("policy") == name))
            row["calm_hedge_net"] = float(total["hedge_net"][0]) if total.height else 0.0
        rows.append(row)
    schema = {
        "policy": pl.String,
        "max_drawdown": pl.Float64,
        "none_max_drawdown": pl.Float64,
        "cut": pl.Float64,
        "cut_low": pl.Float64,
        "cut_high": pl.Float64,
        "worst_day": pl.Float64,
        "none_worst_day": pl.Float64,
        "annual_return_diff": pl.Float64,
        "episode": pl.String,
        "episode_drawdown": pl.Float64,
        "none_episode_drawdown": pl.Float64,
        "calm_hedge_net": pl.Float64,
    }
    frame = pl.DataFrame(rows, schema=schema)
    if not frame.height:
        return frame, ""
    first = frame.row(0, named=True)
    parts = [
        "The drawdown question: the unhedged book's max drawdown is "
        f"{100 * first['none_max_drawdown']:.1f} % of the capital and its worst day "
        f"{100 * first['none_worst_day']:+.2f} %."
    ]
    for row in frame.iter_rows(named=True):
        verb = "cuts" if row["cut"] > 0 else "deepens"
        text = (
            f"{row['policy']}: max drawdown {100 * row['max_drawdown']:.1f} % ({verb} it by "
            f"{100 * abs(row['cut']):.0f} %; 90 % interval {100 * row['cut_low']:+.0f} to "
            f"{100 * row['cut_high']:+.0f} %), worst day {100 * row['worst_day']:+.2f} %"
        )
        if row["episode"] is not None:
            text += (
                f", in {row['episode']} a drawdown of {100 * row['episode_drawdown']:.1f} % against "
                f"{100 * row['none_episode_drawdown']:.1f} %"
            )
        text += (
            f"; its hedges netted {row['calm_hedge_net']:+,.0f} $ over the calm years and it returned "
            f"{100 * row['annual_return_diff']:+.2f} % a year against the unhedged book."
        )
        parts.append(text)
    low, high = VENDOR_CLAIM
    rows = list(frame.iter_rows(named=True))
    confirmed = [r["policy"] for r in rows if r["cut_low"] >= low]
    consistent = [r["policy"] for r in rows if r["cut_low"] < low and r["cut_high"] >= low]
    ruled_out = [r["policy"] for r in rows if r["cut_high"] < low]
    verdicts = []
    if confirmed:
        verdicts.append(
            f"{', '.join(confirmed)} cut(s) it by at least {100 * low:.0f} % with 90 % confidence"
        )
    if consistent:
        verdicts.append(
            f"for {', '.join(consistent)} the interval reaches {100 * low:.0f} % but also holds much smaller "
            "cuts: this history cannot confirm the claim, nor rule it out"
        )
    if ruled_out:
        verdicts.append(f"{', '.join(ruled_out)} fall(s) short of {100 * low:.0f} % with 90 % confidence")
    claim = (
        f"Vendors of layered VIX hedging claim drawdowns cut by {100 * low:.0f}-{100 * high:.0f} %: on this "
        f"history and model, {'; '.join(verdicts)}."
    )
    parts.append(claim)
    return frame, " ".join(parts)


#: The published annualized standard deviation of the Cboe CNDR index, mid-1986 to 2015
#: (Black and Szado 2016), and the period to compare it on.
CNDR_PUBLISHED_VOL = 0.0723
CNDR_PERIOD = (dt.date(2000, 1, 1), dt.date(2015, 12, 31))


def cndr_index_vol(run: Replay, start: dt.date | None = None, end: dt.date | None = None) -> float:
    """The annualized volatility of a `CondorRules.cndr` replay as an index: each day's $
    change of the book over its collateral, the SPX notional of the condor held into that
    day (the SPX close on the day it was sold times 100 times its quantity: the index's
    T-bill account is rebalanced to the index value on roll days, an overlay on a
    notional like Cboe's PUT and BXM indexes; the exact collateral rule of the CNDR
    methodology could not be read here, so this is our reading, and the T-bills'
    interest, a few basis points a day, is left out), ``start``..``end`` inclusive."""
    import polars as pl

    trades = pl.concat([t for t in (run.trades, run.open_condors) if t is not None and t.height])
    spot = dict(zip(run.equity.get_column("date").to_list(), run.equity.get_column("spx").to_list()))
    # the condor held into each day: sold before it, not closed before it
    spans = sorted(
        (row["opened"], row["closed"], spot[row["opened"]] * 100.0 * row["quantity"])
        for row in trades.iter_rows(named=True)
    )
    dates = run.equity.get_column("date").to_list()
    equity = run.equity.get_column("equity").to_numpy()
    returns = []
    j = 0
    for i in range(1, len(dates)):
        day, prev = dates[i], dates[i - 1]
        while j < len(spans) and spans[j][1] is not None and spans[j][1] < day:
            j += 1
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        held = [s for s in spans[j : j + 2] if s[0] <= prev and (s[1] is None or s[1] >= day)]
        if held:
            returns.append((equity[i] - equity[i - 1]) / held[0][2])
    return float(np.std(returns, ddof=1) * math.sqrt(TRADING_DAYS))
