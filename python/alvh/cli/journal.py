"""``alvh journal``: the decision journal. ``alvh journal show`` lists its decisions with
their policy version, layers, the action taken, what its hedge fetched, the rationale and
the realized 5- and 10-day P&L; ``alvh journal outcome`` records a decision's realized
P&L and ``alvh journal exit`` a sale of the hedge a decision bought (by exit rule)."""

from __future__ import annotations

import argparse
import json
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
    outcome = journal_commands.add_parser("outcome", help="record a decision's realized P&L")
    outcome.add_argument("--journal", default="alvh.db", help="journal file (default: alvh.db)")
    outcome.add_argument("--decision", type=int, required=True, help="the decision's id")
    outcome.add_argument("--days", type=int, required=True, help="the horizon, trading days (5, 10, ...)")
    outcome.add_argument("--pnl", type=float, required=True, help="the book's realized P&L over it, $")
    outcome.set_defaults(func=run_outcome)
    sale = journal_commands.add_parser(
        "exit", help="record a sale of the hedge a decision bought (take profit, roll, ...)"
    )
    sale.add_argument("--journal", default="alvh.db", help="journal file (default: alvh.db)")
    sale.add_argument("--decision", type=int, required=True, help="the id of the decision that bought it")
    sale.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the day it was sold")
    sale.add_argument(
        "--rule",
        required=True,
        help="the exit rule: layer_left, take_profit, vix_retrace, roll, expiry or book_closed",
    )
    sale.add_argument("--contracts", type=int, required=True, help="hedges sold")
    sale.add_argument("--received", type=float, required=True, help="$ received, net of costs")
    sale.add_argument("--reason", required=True, help="why, in words")
    sale.set_defaults(func=run_exit)


def _existing(path: str) -> None:
    if not Path(path).is_file():
        raise CliError(f"journal {path!r} does not exist (or is not a file)")


def run_outcome(args: argparse.Namespace, console: Console) -> None:
    """``alvh journal outcome``: record decision ``--decision``'s ``--days`` P&L."""
    from alvh.policy.journal import Journal

    _existing(args.journal)
    with Journal(args.journal) as journal:
        journal.record_outcome(args.decision, args.days, args.pnl)
    console.print(
        f"decision {args.decision}: {args.days}-day outcome {args.pnl:+,.2f} $ recorded", highlight=False
    )


def run_exit(args: argparse.Namespace, console: Console) -> None:
    """``alvh journal exit``: record a sale of decision ``--decision``'s hedge."""
    from alvh.cli.common import parse_date
    from alvh.policy.journal import Journal

    _existing(args.journal)
    day = parse_date("--date", args.date)
    if day is None:
        raise CliError("--date is required")
    with Journal(args.journal) as journal:
        number = journal.record_hedge_exit(
            args.decision, day, args.rule, args.contracts, args.received, args.reason
        )
    console.print(
        f"exit {number}: {args.contracts} of decision {args.decision}'s hedge sold on {day} "
        f"({args.rule}) for {args.received:+,.2f} $",
        highlight=False,
    )


def run(args: argparse.Namespace, console: Console) -> None:
    """``alvh journal show``: print the journal's decisions (the last ``--last`` of them)."""
    from alvh.policy.journal import Journal

    _existing(args.journal)
    with Journal(args.journal, read_only=True) as journal:
        frame = journal.with_outcomes()
        policies = journal.policies()
    if args.last is not None:
        frame = frame.tail(args.last)
    table = Table(
        title=f"{escape(args.journal)}: {frame.height} decision(s), {policies.height} policy version(s)"
    )
    for name in ("id", "date", "policy", "VIX", "layer", "action", "hedge", "P&L 5d", "P&L 10d", "rationale"):
        table.add_column(
            name, justify="left" if name in ("policy", "action", "hedge", "rationale") else "right"
        )
    for row in frame.iter_rows(named=True):
        actions = json.loads(row["record"]).get("actions") or []
        hedge = ""
        if row["hedge_exit"] is not None:
            hedge = (
                f"{row['hedge_sold']} sold ({row['hedge_exit']}, {row['hedge_exit_date']}): "
                f"net {row['hedge_net']:+,.0f} $"
            )
        elif actions:
            hedge = "held"
        table.add_row(
            str(row["id"]),
            str(row["date"]),
            f"{row['policy_name']} ({row['policy_version'][:8]})",
            f"{row['vix']:.2f}",
            f"{row['layer_before']} -> {row['layer_after']}",
            escape(actions[0]["description"]) if actions else "none",
            escape(hedge),
            _money(row["pnl_5d"]),
            _money(row["pnl_10d"]),
            escape(row["rationale"]),
        )
    console.print(table)


def _money(x: float | None) -> str:
    """A signed $ amount, blank when the outcome is not known yet."""
    return "" if x is None else f"{x:+,.0f}"
