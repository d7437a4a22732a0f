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

from alvh.cli.common import (
    CliError,
    add_history_options,
    check_out_dir,
    load_history,
    metric_cell,
    policy_by_name,
    progress_bar,
)

if TYPE_CHECKING:
    import polars as pl

    from alvh.backtesting import BacktestResult

__all__ = ["register", "replay_and_report", "run"]

#: The comparison table: (header, metrics column, `metric_cell` kind). The layer shares
#: have no single column; ``None`` kind prints the value as it is.
_COLUMNS = (
    ("policy", "policy", None),
    ("ret/yr", "annual_return", "signed"),
    ("vol", "vol", "pct"),
    ("Sharpe", "sharpe", "num"),
    ("max DD", "max_drawdown", "pct"),
    ("worst day", "worst_day", "signed"),
    ("CVaR95/day", "cvar95_daily", "pct"),
    ("hedge $", "hedge_spend", "money"),
    ("hedges", "adjustments", "int"),
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
        help="early, patient or a policy TOML (repeatable; default: early and patient)",
    )
    parser.add_argument("--out", default="alvh-report", help="report directory (default: alvh-report)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Replay no hedge and each ``--policy`` on the history; print and write the report."""
    spx, vix = load_history(args)
    policies: dict[str, Any] = {"none": None}
    for name in args.policy or ["early", "patient"]:
        policy = policy_by_name(name)
        policies[policy.name] = policy
    replay_and_report(console, spx, vix, policies, args.out)


def replay_and_report(console: Console, spx: Any, vix: Any, policies: dict[str, Any], out: str) -> None:
    """Replay ``policies`` with a progress bar, print the comparison and the verdict,
    write the report into ``out``."""
    from alvh.backtesting.comparison import verdict
    from alvh.report.backtest import backtest_report

    out_dir = check_out_dir(out)
    result = _replay(console, spx, vix, policies)
    console.print(_comparison_table(result.metrics()))
    if {"early", "patient"} <= set(policies):
        console.print(f"[bold]Verdict.[/bold] {escape(verdict(result))}", highlight=False)
    try:
        report = backtest_report(result, out_dir)
    except ImportError as exc:
        raise CliError(f"the report needs matplotlib (pip install 'alvh[demo]'): {exc}") from exc
    console.print(f"report written to {escape(str(report))}", highlight=False)


def _replay(console: Console, spx: Any, vix: Any, policies: dict[str, Any]) -> BacktestResult:
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

        return backtest(spx, vix, policies=policies, progress=advance)


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
    table.caption = "Sortino, Calmar and the rest: the report's table"
    return table
