"""The ``alvh`` command line.

``alvh demo``      an example condor's Greeks, then no hedge / early / patient replayed on
                   the bundled 2000-2022 sample, the episodes, the verdict and the report
``alvh greeks``    price and Greeks of one option, in trader units
``alvh info``      which backend and SIMD path this installation uses
``alvh grid``      the risk graph of a position file against a market file: a table of
                   key rows and a PNG (P&L by SPX level at T+N and expiry; P&L heatmap
                   over SPX move x VIX shift)
``alvh project``   a position projected 5-10 days forward under GDP / earnings scenarios:
                   the P&L distribution per scenario and the fan chart PNG
``alvh summary``   the book at a glance: value, P&L, max profit / loss, breakevens, PoP,
                   touch probabilities, expected move, both deltas
``alvh state``     the day's state file built from histories (``alvh state build``) or shown
``alvh decide``    the layer policy's decision for today on a state, position and market,
                   appended to the journal
``alvh journal``   the decision journal (``alvh journal show``)
``alvh backtest``  the condor book replayed under policies on a history; the comparison,
                   the verdict and the report
``alvh dashboard`` one offline HTML file: the risk graph with sliders (days forward, VIX
                   shift), the projection fan per scenario and the mixture, and with a
                   history the backtest (equity, drawdown, VIX and hedges, hedge log, verdict)
``alvh sweep``     a policy replayed over a grid of layer 1 / layer 2 band starts: the best
                   points, the sweep as Parquet (or CSV) and its heatmap
``alvh check-arbitrage``  a market file's SPX surface checked for static arbitrage and
                   for its own VIX (exit 1 when violations are found)
``alvh slices``    one SSVI slice per expiry of an option chain (forward and rate from
                   put-call parity): ATM vol, skew, curvature, fit error, calendar check
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.markup import escape

import alvh
from alvh.cli import (
    backtest,
    check_arbitrage,
    dashboard,
    decide,
    demo,
    greeks,
    grid,
    info,
    journal,
    project,
    slices,
    state,
    summary,
    sweep,
)
from alvh.cli.common import CliError, make_console
from alvh.errors import AlvhError

__all__ = ["main"]

#: The commands in the order ``alvh --help`` lists them.
_COMMANDS = (
    demo,
    greeks,
    info,
    summary,
    grid,
    project,
    state,
    decide,
    backtest,
    dashboard,
    sweep,
    journal,
    check_arbitrage,
    slices,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``alvh`` command line on ``argv`` (default: ``sys.argv[1:]``); the exit code:
    0, the command's own (``check-arbitrage``: 1 when it finds violations), 2 after
    printing the error of a bad input or a file that cannot be written, 130 after Ctrl-C."""
    parser = argparse.ArgumentParser(prog="alvh", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"alvh {alvh.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        command.register(commands)
    args = parser.parse_args(argv)
    console = make_console()
    try:
        code = args.func(args, console)
    except KeyboardInterrupt:
        # Ctrl-C: one line, exit 130 (128 + SIGINT); files are written whole or not at all.
        console.print("[yellow]interrupted[/yellow]", highlight=False)
        return 130
    except (AlvhError, CliError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 2
    except OSError as exc:  # e.g. --out in a directory that cannot be written, an unreadable input
        where = f" {exc.filename!r}" if exc.filename else ""
        reason = escape(exc.strerror or str(exc))
        console.print(f"[red]error:[/red] cannot read or write{escape(where)}: {reason}", highlight=False)
        return 2
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
