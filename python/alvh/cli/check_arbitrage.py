"""``alvh check-arbitrage``: a market file's SPX surface checked for static arbitrage
(vertical spreads, butterflies, calendars; `alvh.market.check_arbitrage`) and for
consistency with its own VIX (the Cboe formula on the model's options,
`alvh.market.vix_index`). Exit code 0 when clean, 1 when violations were found, 2 on a
bad input."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import alvh
from alvh.cli.common import CliError
from alvh.market.arbitrage import DEFAULT_DAYS, KINDS, ArbitrageReport, check_arbitrage, strike_grid
from alvh.market.cboe import model_chain, vix_index

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh check-arbitrage`` to ``commands``."""
    parser = commands.add_parser(
        "check-arbitrage",
        help="a market's SPX surface checked for static arbitrage and its VIX",
        description="Check MARKET's SPX surface for vertical-spread, butterfly and calendar "
        "violations on a strike grid, and price its own 30-day options with the Cboe VIX "
        "formula. Exit code 1 when violations are found.",
    )
    parser.add_argument("market", help="market file (TOML, docs/market_format.md)")
    parser.add_argument(
        "--days",
        type=int,
        nargs="+",
        default=list(DEFAULT_DAYS),
        metavar="DAY",
        help=f"expiries to check, in calendar days from as_of (default: {' '.join(map(str, DEFAULT_DAYS))})",
    )
    parser.add_argument("--low", type=float, default=0.3, help="lowest strike / spot (default 0.3)")
    parser.add_argument("--high", type=float, default=2.0, help="highest strike / spot (default 2)")
    parser.add_argument("--step", type=float, default=5.0, help="strike step (default 5 points)")
    parser.add_argument(
        "--vix-shift",
        type=float,
        default=0.0,
        metavar="POINTS",
        help="check the market bumped by this VIX shift (default 0)",
    )
    parser.add_argument("--show", type=int, default=10, help="violations to list, largest first (default 10)")
    parser.set_defaults(func=run)


def _market(args: argparse.Namespace) -> alvh.Market:
    if not Path(args.market).is_file():
        raise CliError(f"market file {args.market!r} does not exist (or is not a file)")
    if any(day <= 0 for day in args.days):
        raise CliError(f"--days must be positive calendar days; got {args.days}")
    if not 0.0 < args.low < 1.0 < args.high or args.step <= 0.0:
        raise CliError(
            f"need 0 < --low < 1 < --high and --step > 0; got {args.low}, {args.high}, {args.step}"
        )
    market = alvh.Market.from_toml(args.market)
    return market.bump(vix_shift=args.vix_shift) if args.vix_shift else market


def _counts_table(report: ArbitrageReport, market: alvh.Market) -> Table:
    frame = report.to_polars()
    table = Table(
        title=f"static arbitrage on {report.strikes.size} strikes "
        f"({report.strikes[0]:g}-{report.strikes[-1]:g})"
    )
    table.add_column("expiry")
    table.add_column("days", justify="right")
    for kind in KINDS:
        table.add_column(kind, justify="right")
    for expiry in report.expiries:
        mine = frame.filter(frame["expiry"] == expiry)
        cells = [str(int((mine["kind"] == kind).sum())) for kind in KINDS]
        table.add_row(expiry.isoformat(), str((expiry - market.as_of).days), *cells)
    table.add_row("all", "", *(str(report.counts[kind]) for kind in KINDS), style="bold")
    return table


def _worst_table(report: ArbitrageReport, show: int) -> Table:
    frame = report.to_polars().sort("amount", descending=True).head(show)
    table = Table(title=f"the {frame.height} largest violations")
    for name in ("kind", "right", "expiry", "strike", "amount"):
        table.add_column(name, justify="right" if name in ("strike", "amount") else "left")
    for row in frame.iter_rows(named=True):
        expiry = row["expiry"].isoformat()
        if row["next_expiry"] is not None:
            expiry += f" -> {row['next_expiry'].isoformat()}"
        table.add_row(row["kind"], row["right"] or "", expiry, f"{row['strike']:g}", f"{row['amount']:.4g}")
    return table


def run(args: argparse.Namespace, console: Console) -> int:
    """Check the market; 1 when any violation was found, else 0."""
    market = _market(args)
    expiries = [market.as_of + timedelta(days=d) for d in sorted(set(args.days))]
    grid = strike_grid(market.spot, step=args.step, low=args.low, high=args.high)
    report = check_arbitrage(market, expiries=expiries, strikes=grid)
    console.print(
        f"{escape(args.market)}: as of {market.as_of}, SPX {market.spot:,.2f}, VIX {market.vix:.2f}",
        highlight=False,
    )
    index = vix_index(
        model_chain(market, strike_step=args.step, low=args.low, high=args.high),
        as_of=market.as_of,
        rate=market.rate,
    )
    console.print(
        f"The model's own 30-day options give a VIX of {index.value:.2f} (input "
        f"{market.vix:.2f}, {index.value - market.vix:+.2f} points; Cboe formula on "
        f"{index.near.expiry} and {index.next.expiry})",
        highlight=False,
    )
    console.print(_counts_table(report, market))
    if report.ok:
        console.print("No static arbitrage found.")
        return 0
    console.print(_worst_table(report, args.show))
    console.print(f"[red]{report.total} violation(s)[/red]")
    return 1
