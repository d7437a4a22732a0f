"""``alvh journal``: the decision journal. ``alvh journal show`` lists its decisions with
their policy version, layers, actions, rationale and realized 5- and 10-day P&L."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alvh.cli.common import CliError

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh journal`` and its ``show`` sub-command to ``commands``."""
    journal = commands.add_parser("journal", help="the decision journal")
    journal_commands = journal.add_subparsers(dest="journal_command", required=True)
    show = journal_commands.add_parser("show", help="list the journal's decisions")
    show.add_argument("--journal", default="alvh.db", help="journal file (default: alvh.db)")
    show.add_argument("--last", type=int, default=None, help="only the last N decisions")
    show.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """``alvh journal show``: print the journal's decisions (the last ``--last`` of them)."""
    from alvh.policy.journal import Journal

    if not Path(args.journal).is_file():
        raise CliError(f"journal {args.journal!r} does not exist (or is not a file)")
    with Journal(args.journal, read_only=True) as journal:
        frame = journal.with_outcomes()
        policies = journal.policies()
    if args.last is not None:
        frame = frame.tail(args.last)
    table = Table(
        title=f"{escape(args.journal)}: {frame.height} decision(s), {policies.height} policy version(s)"
    )
    for name in ("id", "date", "policy", "VIX", "layer", "actions", "P&L 5d", "P&L 10d", "rationale"):
        table.add_column(name, justify="left" if name in ("policy", "rationale") else "right")
    for row in frame.iter_rows(named=True):
        table.add_row(
            str(row["id"]),
            str(row["date"]),
            f"{row['policy_name']} ({row['policy_version'][:8]})",
            f"{row['vix']:.2f}",
            f"{row['layer_before']} -> {row['layer_after']}",
            str(row["actions"]),
            _money(row["pnl_5d"]),
            _money(row["pnl_10d"]),
            escape(row["rationale"]),
        )
    console.print(table)


def _money(x: float | None) -> str:
    """A signed $ amount, blank when the outcome is not known yet."""
    return "" if x is None else f"{x:+,.0f}"
