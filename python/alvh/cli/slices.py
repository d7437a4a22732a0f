"""``alvh slices``: one SSVI slice per expiry read off an option chain alone
(`alvh.market.fit_ssvi_slices`): the put-call-parity forward and rate, the ATM vol, the
skew ``rho``, the curvature ``phi`` and the power-law ``eta`` it implies, the fit's RMSE
and whether each slice sits above the one before (no calendar arbitrage). Without a
chain, the bundled real SPX chain the default surface is fitted to."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alvh._core.io import atomic_write
from alvh.cli.common import CliError, check_out_parent, parse_date
from alvh.market.slices import REFERENCE_CHAIN_AS_OF, REFERENCE_CHAIN_FILE, fit_ssvi_slices

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh slices`` to ``commands``."""
    parser = commands.add_parser(
        "slices",
        help="one SSVI slice per expiry of an option chain (ATM vol, skew, curvature)",
        description="Fit one SSVI slice per expiry of CHAIN (CSV: expiry, strike, type, bid, "
        "ask) with its forward and rate from put-call parity. Without CHAIN: the bundled "
        f"SPX chain of {REFERENCE_CHAIN_AS_OF} that the default surface is fitted to.",
    )
    parser.add_argument("chain", nargs="?", help="option chain CSV (docs/market_format.md)")
    parser.add_argument("--as-of", help="quote date, YYYY-MM-DD (required with CHAIN)")
    parser.add_argument("--weighting", choices=("vega", "equal"), default="vega", help="residual weights")
    parser.add_argument("--gamma", type=float, default=0.5, help="gamma for the implied power-law eta")
    parser.add_argument("--out", help="also write the table as CSV here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Fit and print the slices; write ``--out`` when given."""
    chain = str(REFERENCE_CHAIN_FILE) if args.chain is None else args.chain
    given = parse_date("--as-of", args.as_of)
    if given is None and args.chain is not None:
        raise CliError("--as-of is required with a chain (the quote date, YYYY-MM-DD)")
    as_of = given or REFERENCE_CHAIN_AS_OF
    if args.out:
        check_out_parent(args.out, ".csv")
    frame = fit_ssvi_slices(chain, as_of=as_of, weighting=args.weighting, gamma=args.gamma)
    table = Table(title=f"SSVI slices of {escape(chain)} as of {as_of} ({args.weighting} weights)")
    for name in ("expiry", "days", "forward", "rate", "rows", "ATM vol", "rho", "phi", f"eta@{args.gamma:g}"):
        table.add_column(name, justify="left" if name == "expiry" else "right")
    table.add_column("RMSE", justify="right")
    table.add_column("calendar", justify="left")
    for row in frame.iter_rows(named=True):
        if row["skipped"] is not None:
            table.add_row(
                str(row["expiry"]), str(row["days"]), f"[yellow]skipped: {escape(row['skipped'])}[/]"
            )
            continue
        table.add_row(
            str(row["expiry"]),
            str(row["days"]),
            f"{row['forward']:,.2f}",
            f"{row['rate'] * 100:.2f} %",
            str(row["rows_used"]),
            f"{row['atm_vol'] * 100:.2f} %",
            f"{row['rho']:+.3f}",
            f"{row['phi']:.3f}",
            f"{row['eta_at_gamma']:.3f}",
            f"{row['rmse']:.2f} pts",
            "ok" if row["calendar_ok"] else "[red]below the previous slice[/]",
        )
    console.print(table)
    if args.out:
        buffer = io.BytesIO()
        frame.write_csv(buffer)
        atomic_write(Path(args.out), buffer.getvalue())
        console.print(f"wrote {escape(args.out)}", highlight=False)
    return 0
