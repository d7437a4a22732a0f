"""``alvh dashboard``: one self-contained, offline HTML file of a position in a market: the
risk graph under sliders (days forward, VIX shift) with the spot-vol-linked curve, the
projection fan per scenario and the mixture, and, given a history (``--sample`` or
``--spx``/``--vix``), the backtest's equity, drawdown, VIX with the layer bands and hedges,
hedge log and verdict (`alvh.report.dashboard.write_dashboard`). ``--chain`` fits the
market's smile to an option chain first (`alvh.cli.common.chain_market`)."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape

from alvh.cli.common import (
    CliError,
    add_chain_options,
    add_history_options,
    add_projection_options,
    chain_market,
    check_horizon,
    check_out_parent,
    check_projection_args,
    load_book,
    load_history,
    parse_date,
    replay_rates,
)

__all__ = ["register", "run"]

#: The risk graph's SPX axis: relative moves, -10 % to +10 % in 0.125 % steps.
SPOT_MOVES = np.linspace(-0.10, 0.10, 161)
#: The VIX slider's reach either side, whole points (its low end raised so that the
#: shifted VIX stays at or above 1).
VIX_SHIFT_REACH = 10


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh dashboard`` and its options to ``commands``."""
    parser = commands.add_parser(
        "dashboard",
        help="one offline HTML file: risk graph with sliders, projection fan, backtest",
        description="Write one self-contained HTML file (no network needed to open it) for "
        "POSITION (TOML) in --market (TOML): the risk graph with sliders for days forward and "
        "VIX shift, the projection fan per scenario and the mixture, and with --sample or "
        "--spx/--vix the backtest (equity, drawdown, VIX with layer bands and hedges, hedge log, "
        "verdict).",
    )
    parser.add_argument("position", help="position file (TOML, docs/position_format.md)")
    parser.add_argument("--market", required=True, help="market file (TOML, docs/market_format.md)")
    add_projection_options(
        parser,
        paths=20_000,
        days_help="horizon, 5-10 calendar days: the days slider's last step and the projection's",
    )
    add_chain_options(parser)
    add_history_options(parser)
    parser.add_argument(
        "--policy",
        action="append",
        default=None,
        help="with a history: early, patient, vxth or a policy TOML (repeatable; default: early, "
        "patient and vxth, beside no hedge)",
    )
    parser.add_argument("--start", default=None, metavar="YYYY-MM-DD", help="first backtest day")
    parser.add_argument("--end", default=None, metavar="YYYY-MM-DD", help="last backtest day")
    parser.add_argument(
        "--out", default="dashboard.html", help="HTML file to write (default: dashboard.html)"
    )
    parser.set_defaults(func=run)


def _history_given(args: argparse.Namespace) -> bool:
    return bool(args.sample or args.spx is not None or args.vix is not None)


def _check_args(args: argparse.Namespace) -> None:
    """Every option checked before any work (the backtest's ones only with a history)."""
    check_projection_args(args)
    check_out_parent(args.out, ".html")
    if not _history_given(args):
        for option, value in (("--start", args.start), ("--end", args.end), ("--policy", args.policy)):
            if value is not None:
                raise CliError(f"{option} is a backtest option: give a history too (--sample or --spx/--vix)")


def vix_shifts(vix: float) -> np.ndarray:
    """The VIX slider's steps: whole points from -`VIX_SHIFT_REACH` (raised so that the
    shifted VIX stays at or above 1) to +`VIX_SHIFT_REACH`."""
    low = -min(VIX_SHIFT_REACH, math.ceil(vix) - 1)
    return np.arange(low, VIX_SHIFT_REACH + 1, dtype=np.float64)


def run(args: argparse.Namespace, console: Console) -> None:
    """Build the grid, the projection and (with a history) the backtest; write the page."""
    from alvh.cli.project import project_with_progress, scenario_set_arg
    from alvh.report.dashboard import require_plotly, write_dashboard
    from alvh.risk.grid import scenario_grid

    try:
        require_plotly()
    except ImportError as exc:
        raise CliError(str(exc)) from exc
    position, market = load_book(args)
    _check_args(args)
    days = list(range(args.days + 1))
    check_horizon(market, days)
    scenarios = scenario_set_arg(args.scenarios)
    history = _history(args) if _history_given(args) else None
    market = chain_market(args, market, console, position)

    clock = time.perf_counter()
    grid = scenario_grid(
        position,
        market,
        spot_moves=SPOT_MOVES,
        vol_shifts=vix_shifts(float(market.vix)),
        days=days,
        dynamics=args.dynamics,
    )
    projection = project_with_progress(args, console, position, market, scenarios)
    result = _backtest(console, history) if history is not None else None
    built = time.perf_counter() - clock
    try:
        out = write_dashboard(args.out, grid, projection=projection, result=result)
    except OSError as exc:
        raise CliError(f"cannot write the dashboard to {args.out!r}: {exc.strerror or exc}") from exc
    size = Path(out).stat().st_size
    console.print(
        f"dashboard written to {escape(str(out))} ({size / 1e6:.1f} MB; built in "
        f"{built:.1f} s, page in {time.perf_counter() - clock - built:.1f} s)",
        highlight=False,
    )


def _history(args: argparse.Namespace) -> dict[str, Any]:
    """The backtest's inputs, loaded and checked before the grid and the projection run."""
    start, end = parse_date("--start", args.start), parse_date("--end", args.end)
    spx, vix, rates, inputs = load_history(args)
    from alvh.cli.backtest import backtest_policies

    policies = backtest_policies(args.policy)
    rates = replay_rates(args, spx, vix, rates, start, end)
    return {
        "spx": spx,
        "vix": vix,
        "policies": policies,
        "rates": rates,
        "start": start,
        "end": end,
        "inputs": inputs,
    }


def _backtest(console: Console, history: dict[str, Any]) -> Any:
    from alvh.cli.backtest import replay_with_progress

    return replay_with_progress(
        console,
        history["spx"],
        history["vix"],
        history["policies"],
        rates=history["rates"],
        start=history["start"],
        end=history["end"],
        inputs=history["inputs"],
    )
