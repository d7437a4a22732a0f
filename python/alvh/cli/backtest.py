"""``alvh backtest``: the condor book replayed with no hedge and under each ``--policy`` on
an SPX/VIX history; the comparison table, the early-vs-patient verdict and the report.

`replay_and_report` is the part ``alvh demo`` shares.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alvh.backtesting.reference import Vxth
from alvh.cli.common import (
    CliError,
    add_history_options,
    check_out_dir,
    load_history,
    metric_cell,
    parse_date,
    policy_by_name,
    progress_bar,
    replay_rates,
)

if TYPE_CHECKING:
    import polars as pl

    from alvh.backtesting import BacktestResult

__all__ = ["backtest_policies", "register", "replay_and_report", "replay_with_progress", "run"]

#: The comparison table: (header, metrics column, `metric_cell` kind). The layer shares
#: have no single column; ``None`` kind prints the value as it is.
_COLUMNS = (
    ("policy", "policy", None),
    ("ret/yr", "annual_return", "signed"),
    ("vol", "vol", "pct"),
    ("Sharpe", "sharpe", "num"),
    ("max DD", "max_drawdown", "pct"),
    ("P&L $", "pnl", "money"),
    ("hedge $", "hedge_spend", "money"),
    ("hedges", "adjustments", "int"),
    ("L3 exits", "book_exits", "int"),
    ("% days L1/2/3", None, None),
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh backtest`` and its options to ``commands``."""
    parser = commands.add_parser(
        "backtest",
        help="replay the condor book under policies on a history; write the report",
        description="Replay the condor schedule with no hedge and each --policy on an SPX/VIX "
        "history, print the comparison (and the early-vs-patient verdict) and write the report.",
    )
    add_history_options(parser)
    parser.add_argument(
        "--policy",
        action="append",
        default=None,
        help="early, patient, vxth or a policy TOML (repeatable; default: early, patient and vxth)",
    )
    parser.add_argument("--start", default=None, metavar="YYYY-MM-DD", help="first replay day")
    parser.add_argument("--end", default=None, metavar="YYYY-MM-DD", help="last replay day")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes to replay the policies on (default: 1)"
    )
    parser.add_argument("--out", default="alvh-report", help="report directory (default: alvh-report)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Replay no hedge and each ``--policy`` on the history; print and write the report."""
    start, end = parse_date("--start", args.start), parse_date("--end", args.end)
    if args.workers < 1:
        raise CliError(f"--workers must be 1 or more; got {args.workers}")
    spx, vix, rates, inputs = load_history(args)
    policies = backtest_policies(args.policy)
    rates = replay_rates(args, spx, vix, rates, start, end)
    replay_and_report(
        console,
        spx,
        vix,
        policies,
        args.out,
        rates=rates,
        start=start,
        end=end,
        workers=args.workers,
        inputs=inputs,
    )


def backtest_policies(names: list[str] | None) -> dict[str, Any]:
    """``{"none": None}`` and each of ``names`` (``--policy``: presets, the VXTH rule, policy
    files; default early, patient and vxth) by its name, as `backtest` takes them."""
    policies: dict[str, Any] = {"none": None}
    for name in names or ["early", "patient", "vxth"]:
        policy = policy_by_name(name, reference_ok=True)
        policies[policy.name] = policy
    return policies


def replay_and_report(
    console: Console,
    spx: Any,
    vix: Any,
    policies: dict[str, Any],
    out: str,
    *,
    rates: Any = None,
    start: Any = None,
    end: Any = None,
    workers: int = 1,
    inputs: Any = None,
    reference: bool = True,
) -> None:
    """Replay ``policies`` with a progress bar, print the comparison, the stress
    episodes, the calm years, the verdict and the drawdown question, then (``reference``)
    the CNDR reference book; write the report into ``out``. ``inputs``: the diagnostics'
    breadth, macro and rate inputs (said before the replay)."""
    from alvh.backtesting.comparison import verdict
    from alvh.backtesting.episodes import calm_years, episode_table
    from alvh.report.backtest import backtest_report

    out_dir = check_out_dir(out)
    described = inputs.describe() if inputs is not None else []
    console.print(
        "Diagnostic inputs beyond SPX and VIX: "
        + ("; ".join(described) if described else "none (breadth, macro and rate rules skipped, and said)")
        + ".",
        highlight=False,
    )
    result = replay_with_progress(
        console, spx, vix, policies, rates=rates, start=start, end=end, workers=workers, inputs=inputs
    )
    console.print(_comparison_table(result.metrics()))
    episodes = episode_table(result)
    if episodes.height:
        console.print(_episode_table(episodes))
    calm = calm_years(result)
    if calm.height:
        console.print(_calm_table(calm))
    rules = result.rule_counts()
    if rules.height:
        console.print(_rules_table(rules))
    if {"early", "patient"} <= set(policies):
        console.print(f"[bold]Verdict.[/bold] {escape(verdict(result))}", highlight=False)
    if "none" in result.runs and len(result.runs) > 1:
        from alvh.backtesting.comparison import drawdown_answer

        frame, answer = drawdown_answer(result)
        console.print(_drawdown_table(frame))
        console.print(f"[bold]Drawdowns.[/bold] {escape(answer)}", highlight=False)
    if any(isinstance(p, Vxth) for p in policies.values()):
        console.print(
            "vxth: the Cboe VIX Tail Hedge rule on the same condor book; its front VIX future is the "
            "market model's (mean-reverting to the long-run level), not a listed price: the sample "
            "has no VIX futures history.",
            highlight=False,
        )
    if reference:
        _reference_book(console, spx, vix, rates=rates, start=start, end=end)
    try:
        report = backtest_report(result, out_dir)
    except ImportError as exc:
        raise CliError(f"the report needs matplotlib (pip install 'alvh[demo]'): {exc}") from exc
    console.print(f"report written to {escape(str(report))}", highlight=False)


#: The rows of the rules table: (label, `BacktestResult.rule_counts` column).
_RULE_ROWS = (
    ("decision days", "decisions"),
    ("(a) noise in layer 1: no hedge", "a_noise"),
    ("(a) evidence of a regime shift", "a_evidence"),
    ("(b) layer 1 started below 17", "b_fired"),
    ("(c) conditions held: waited", "c_wait"),
    ("(c) a condition failed: acted", "c_act"),
    ("(c) no condition known: acted", "c_unknown"),
    ("(d) CVaR inside budget: deferred", "d_within"),
    ("(d) CVaR over budget", "d_over"),
    ("(e) total cap cut the budget", "e_capped"),
    ("(f) hedge bought", "f_chosen"),
    ("(f) no candidate cut the CVaR", "f_none"),
)


def _rules_table(rules: pl.DataFrame) -> Table:
    """Per rule outcome (rows) and policy (columns): on how many decision days it happened."""
    table = Table(title="How often each rule decided (decision days)")
    table.add_column("rule")
    policies = rules["policy"].to_list()
    for name in policies:
        table.add_column(name, justify="right")
    for label, key in _RULE_ROWS:
        table.add_row(label, *(f"{value:,}" for value in rules[key].to_list()))
    return table


def _episode_table(episodes: pl.DataFrame) -> Table:
    """One row per stress episode and policy: the book's P&L through the episode's
    window, its worst drawdown, and what its hedges cost and paid."""
    table = Table(title="Stress episodes (VIX >= 30; window: 20 trading days either side)")
    for label in (
        "episode",
        "kind",
        "VIX peak",
        "policy",
        "P&L $",
        "max DD",
        "hedge $",
        "payoff $",
        "vs none $",
    ):
        table.add_column(label, justify="left" if label in ("episode", "kind", "policy") else "right")
    current = None
    for row in episodes.iter_rows(named=True):
        if current is not None and row["episode"] != current:
            table.add_section()
        first = row["episode"] != current
        current = row["episode"]
        vs_none = row["vs_none"]
        table.add_row(
            f"{row['label']}" if first else "",
            row["kind"] if first else "",
            f"{row['peak']:.1f}" if first else "",
            row["policy"],
            f"{row['pnl']:+,.0f}",
            metric_cell(row["max_drawdown"], "pct"),
            f"{row['hedge_spend']:,.0f}",
            f"{row['hedge_payoff']:,.0f}",
            "" if vs_none is None or row["policy"] == "none" else f"{vs_none:+,.0f}",
        )
    table.caption = "max DD: the worst fall inside the window, in % of the book's capital"
    return table


def _calm_table(calm: pl.DataFrame) -> Table:
    """P&L per calm year (no VIX close at or above 30), one column per policy, and the
    hedged policies' hedge net."""
    policies = list(dict.fromkeys(calm["policy"].to_list()))
    hedged = [p for p in policies if p != "none"]
    table = Table(title="Calm years (no VIX close at or above 30): P&L $ and what hedging cost")
    table.add_column("year", justify="left")
    for name in policies:
        table.add_column(f"{name} P&L", justify="right")
    for name in hedged:
        table.add_column(f"{name} hedge net", justify="right")
    for year in dict.fromkeys(calm["year"].to_list()):
        rows = {r["policy"]: r for r in calm.filter(calm["year"] == year).iter_rows(named=True)}
        if year == 0:
            table.add_section()
        table.add_row(
            "all" if year == 0 else str(year),
            *[f"{rows[p]['pnl']:+,.0f}" for p in policies],
            *[f"{rows[p]['hedge_net']:+,.0f}" for p in hedged],
        )
    return table


def replay_with_progress(
    console: Console,
    spx: Any,
    vix: Any,
    policies: dict[str, Any],
    *,
    rates: Any = None,
    start: Any = None,
    end: Any = None,
    workers: int = 1,
    inputs: Any = None,
) -> BacktestResult:
    """The backtest, one progress bar per policy."""
    from alvh.backtesting.comparison import backtest

    with progress_bar(console, "days") as bar:
        # Each bar's clock starts with its own replay (not when the bars are drawn).
        tasks = {name: bar.add_task(f"replay {name}", total=None, start=False) for name in policies}
        started: set[str] = set()

        def advance(name: str, done: int, total: int) -> None:
            if name not in started:
                started.add(name)
                bar.start_task(tasks[name])
            bar.update(tasks[name], completed=done, total=total)

        return backtest(
            spx,
            vix,
            policies=policies,
            progress=advance,
            rates=rates,
            start=start,
            end=end,
            workers=workers,
            inputs=inputs,
        )


def _comparison_table(metrics: pl.DataFrame) -> Table:
    """One row per policy: return, risk, hedging cost and the days spent in each layer."""
    table = Table(title="Condor book by policy (daily replay, model marks, costs included)")
    for label, _key, _kind in _COLUMNS:
        table.add_column(label, justify="left" if label == "policy" else "right", no_wrap=True)
    for row in metrics.iter_rows(named=True):
        cells = []
        for _label, key, kind in _COLUMNS:
            if key is None:
                cells.append("/".join(f"{100 * row[f'days_layer_{k}']:.0f}" for k in (1, 2, 3)))
            else:
                cells.append(str(row[key]) if kind is None else metric_cell(row[key], kind))
        table.add_row(*cells)
    table.caption = (
        "returns and drawdowns in % of the book's fixed capital; worst day, CVaR, Sortino, "
        "Calmar: the report's table"
    )
    return table


def _drawdown_table(frame: pl.DataFrame) -> Table:
    """Per hedged policy, against the unhedged book (in brackets): its max drawdown and
    worst day, the cut with its interval, the worst episode's drawdown, what the calm
    years cost."""
    table = Table(title="Drawdowns against the unhedged book (its figures in brackets; % of the capital)")
    for label in ("policy", "max DD", "cut", "90 % CI", "worst day", "worst episode", "calm hedges $"):
        table.add_column(label, justify="left" if label in ("policy", "worst episode") else "right")
    for row in frame.iter_rows(named=True):
        episode = ""
        if row["episode"] is not None:
            episode = (
                f"{row['episode']}: {100 * row['episode_drawdown']:.1f} "
                f"({100 * row['none_episode_drawdown']:.1f})"
            )
        table.add_row(
            row["policy"],
            f"{100 * row['max_drawdown']:.1f} ({100 * row['none_max_drawdown']:.1f})",
            f"{100 * row['cut']:+.0f} %",
            f"{100 * row['cut_low']:+.0f}..{100 * row['cut_high']:+.0f}",
            f"{100 * row['worst_day']:+.2f} ({100 * row['none_worst_day']:+.2f})",
            episode,
            f"{row['calm_hedge_net']:+,.0f}",
        )
    table.caption = "cut: 1 - max DD / the unhedged max DD; CI: stationary block bootstrap, 20-day blocks"
    return table


def _reference_book(console: Console, spx: Any, vix: Any, *, rates: Any, start: Any, end: Any) -> None:
    """The Cboe CNDR index's book (`CondorRules.cndr`) unhedged on the same history: its
    row, and its index volatility over 2000-2015 next to the published 7.23 %."""
    from alvh.backtesting.comparison import CNDR_PERIOD, CNDR_PUBLISHED_VOL, cndr_index_vol
    from alvh.backtesting.daily import CondorRules, replay

    run = replay(spx, vix, condors=CondorRules.cndr(), rates=rates, start=start, end=end)
    m = run.metrics()
    first, last = run.equity["date"][0], run.equity["date"][-1]
    lo, hi = max(first, CNDR_PERIOD[0]), min(last, CNDR_PERIOD[1])
    vol = cndr_index_vol(run, lo, hi) if lo < hi else float("nan")
    console.print(
        f"[bold]Reference book (cndr, unhedged).[/bold] The Cboe S&P 500 Iron Condor index's rules "
        f"(monthly, 20-delta shorts, 5-delta wings, held to expiry), one condor a month: "
        f"{m['pnl']:+,.0f} $ ({100 * m['annual_return']:+.2f} % of the capital a year), max drawdown "
        f"{100 * m['max_drawdown']:.1f} %. As an index (returns on the SPX notional sold), its "
        f"annualized volatility over {lo} to {hi} is {100 * vol:.2f} % against the published "
        f"{100 * CNDR_PUBLISHED_VOL:.2f} % for mid-1986 to 2015 (Black and Szado 2016): a different "
        "period (2000-2015 holds 2008 and no 1987), options marked by the model's smile rather than "
        "quoted, closes rather than the 11:00 roll and morning settlement.",
        highlight=False,
    )
