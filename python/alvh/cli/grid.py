"""``alvh grid``: the risk graph of a position file against a market file: a table of key
rows (P&L by SPX move per day, VIX unchanged), the position's Greeks at the base cell, and
the risk graph PNG. ``--chain`` fits the market's smile to an option chain first
(`alvh.cli.common.chain_market`)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import alvh
from alvh.cli.common import (
    CliError,
    add_chain_options,
    chain_market,
    check_horizon,
    check_out_parent,
    load_book,
)

if TYPE_CHECKING:
    from alvh.risk.grid import Grid

__all__ = ["register", "run"]

#: Spot moves the `alvh grid` table shows (those inside the grid's range).
_TABLE_MOVES = (-0.10, -0.05, -0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.05, 0.10)


class _Axes(NamedTuple):
    """The grid's axes as the options gave them, checked."""

    moves: np.ndarray
    shifts: np.ndarray
    days: list[int]

    @property
    def flat(self) -> int:
        """The VIX shift closest to zero: the tables' column of the cube."""
        return int(np.argmin(np.abs(self.shifts)))


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh grid`` and its options to ``commands``."""
    parser = commands.add_parser(
        "grid",
        help="risk graph of a position: table of key rows and a PNG",
        description="Scenario grid of POSITION (TOML) against --market (TOML): prints P&L at "
        "a few SPX moves per day (VIX unchanged) and the Greeks, and writes the risk graph PNG.",
    )
    parser.add_argument("position", help="position file (TOML, docs/position_format.md)")
    parser.add_argument("--market", required=True, help="market file (TOML, docs/market_format.md)")
    parser.add_argument("--out", default="risk.png", help="PNG to write (default: risk.png)")
    parser.add_argument(
        "--days",
        type=int,
        nargs="+",
        default=list(range(11)),
        metavar="DAY",
        help="calendar days forward (default: 0 1 ... 10)",
    )
    parser.add_argument(
        "--moves",
        type=float,
        nargs=3,
        default=[-0.10, 0.10, 201.0],
        metavar=("LOW", "HIGH", "COUNT"),
        help="relative SPX moves (default: -0.1 0.1 201)",
    )
    parser.add_argument(
        "--shifts",
        type=float,
        nargs=3,
        default=None,
        metavar=("LOW", "HIGH", "COUNT"),
        help="VIX shifts in points (default: -10 to +10 in 0.5 steps, the low end raised "
        "so that the shifted VIX stays at or above 0.5)",
    )
    add_chain_options(parser)
    parser.add_argument(
        "--dynamics",
        default="sticky_moneyness",
        choices=["sticky_moneyness", "sticky_strike", "parallel"],
        help="how the SPX smile follows spot and VIX (default: sticky_moneyness)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Build the grid, print its P&L table and Greeks, write the risk graph."""
    from alvh.risk import plots
    from alvh.risk.grid import scenario_grid

    position, market = load_book(args)
    axes = _check_axes(args, vix=float(market.vix))
    check_horizon(market, axes.days)
    market = chain_market(args, market, console, position)
    check_out_parent(args.out, ".png")
    grid = scenario_grid(
        position,
        market,
        spot_moves=axes.moves,
        vol_shifts=axes.shifts,
        days=axes.days,
        dynamics=args.dynamics,
    )
    name = position.name or Path(args.position).name
    console.print(_pnl_table(grid, axes, name=name, market=market, dynamics=args.dynamics))
    console.print(_greeks_table(grid, axes, spot=float(market.spot)))
    try:
        out = plots.risk_graph(grid, args.out, position=position, market=market)
    except OSError as exc:
        raise CliError(f"cannot write the risk graph to {args.out!r}: {exc.strerror or exc}") from exc
    console.print(f"risk graph written to {escape(str(out))}", highlight=False)


#: Points on one --moves or --shifts axis (checked before the axis is allocated).
MAX_AXIS_POINTS = 100_001


def _axis(name: str, values: Sequence[float]) -> np.ndarray:
    """``LOW HIGH COUNT`` -> an evenly spaced axis, checked."""
    low, high, count = values
    if not count.is_integer() or count < 1:
        raise CliError(f"--{name}: COUNT must be a positive whole number; got {count:g}")
    if count > MAX_AXIS_POINTS:
        raise CliError(
            f"--{name}: COUNT {count:,.0f} is above {MAX_AXIS_POINTS:,} points (the grid's memory budget)"
        )
    if count > 1 and not high > low:
        raise CliError(f"--{name}: HIGH must exceed LOW; got {low:g} {high:g}")
    if int(count) == 1:
        return np.array([low])
    return np.linspace(low, high, int(count))


def _check_axes(args: argparse.Namespace, *, vix: float) -> _Axes:
    """``--moves``, ``--shifts`` and ``--days``, checked; without ``--shifts``, -10 to
    +10 VIX points in 0.5 steps, starting higher when the VIX is low (at 9.14, as on a
    2017 close, -8.5) so that no scenario has a VIX below 0.5."""
    moves = _axis("moves", args.moves)
    if args.shifts is None:
        low = -min(10.0, math.floor(2.0 * (vix - 0.5)) / 2.0)
        shifts = np.arange(low, 10.0 + 0.25, 0.5)
    else:
        shifts = _axis("shifts", args.shifts)
    days = sorted(set(args.days))
    if any(d < 0 for d in days):
        raise CliError(f"--days must be zero or positive; got {days}")
    if any(m <= -1.0 for m in moves):
        raise CliError("--moves are relative (-0.1 = -10 %) and must stay above -1")
    return _Axes(moves, shifts, days)


def _table_columns(moves: np.ndarray) -> list[int]:
    """The P&L table's columns: the wanted moves that the grid's range covers, at their
    nearest grid point (no interpolation: the numbers are the grid's own)."""
    picks: list[int] = []
    for wanted in _TABLE_MOVES:
        if moves[0] - 1e-12 <= wanted <= moves[-1] + 1e-12:
            index = int(np.argmin(np.abs(moves - wanted)))
            if index not in picks:
                picks.append(index)
    if not picks:
        picks = sorted({0, moves.size // 2, moves.size - 1})
    return picks


def _pnl_table(grid: Grid, axes: _Axes, *, name: str, market: alvh.Market, dynamics: str) -> Table:
    """P&L vs today's mark by day and SPX move, at the VIX shift closest to zero."""
    spot = float(market.spot)
    moves, shifts, flat = axes.moves, axes.shifts, axes.flat
    picks = _table_columns(moves)
    vix_note = "VIX unchanged" if shifts[flat] == 0.0 else f"VIX {shifts[flat]:+g} points"
    table = Table(
        title=f"{escape(name)}: P&L ($) vs today's mark, "
        f"{vix_note}, {dynamics} (as of {market.as_of.isoformat()}, SPX {spot:,.2f}, "
        f"VIX {market.vix:.2f})"
    )
    table.add_column("day", justify="right")
    for index in picks:
        table.add_column(f"{moves[index]:+.1%}\n{spot * (1 + moves[index]):,.0f}", justify="right")
    pnl = np.asarray(grid.pnl)
    for d_index, day in enumerate(axes.days):
        row = pnl[d_index, flat]
        table.add_row(
            f"T+{day}",
            *[f"[{'red' if row[i] < 0 else 'green'}]{row[i]:+,.0f}[/]" for i in picks],
        )
    open_pnl = grid.base_value - math.fsum(leg.entry_cost for leg in grid.position.legs)
    table.caption = (
        f"Today's mark vs the entry prices: {open_pnl:+,.0f} $ (add it for P&L vs entry, "
        "as the risk graph's left panel shows)"
    )
    return table


def _greeks_table(grid: Grid, axes: _Axes, *, spot: float) -> Table:
    """The position's Greeks at the base cell: day 0 (or the first day), the VIX shift
    closest to zero, the SPX move closest to zero."""
    days, moves, shifts = axes.days, axes.moves, axes.shifts
    base = (days.index(0) if 0 in days else 0, axes.flat, int(np.argmin(np.abs(moves))))
    table = Table(
        title=f"Position Greeks at the base cell (T+{days[base[0]]}, SPX "
        f"{spot * (1 + moves[base[2]]):,.2f}, VIX shift {shifts[base[1]]:+g})"
    )
    table.add_column("Greek")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, value, unit in _trader_greeks(grid, base):
        table.add_row(name, f"{value:+,.2f}", unit)
    return table


#: What the grid's delta is under each dynamics (`alvh.risk.grid`: with sticky
#: moneyness the smile moves with the spot, so its delta is smile-adjusted).
DELTA_KIND = {
    "sticky_moneyness": "smile-adjusted (sticky moneyness)",
    "sticky_strike": "Black-Scholes (sticky strike)",
    "parallel": "Black-Scholes (parallel)",
}


def _trader_greeks(grid: Grid, cell: tuple[int, int, int]) -> list[tuple[str, float, str]]:
    """The grid's Greeks at ``cell`` in trader units (DESIGN.md "Conventions"), both
    deltas labelled: the grid's (smile-adjusted under sticky moneyness) and, at today's
    cell, the legs' Black-Scholes delta at their own vols (`alvh.book.analytics`)."""
    kind = DELTA_KIND[grid.dynamics]
    rows = [
        (f"delta, {kind}", float(grid.delta[cell]), "SPX points equivalent ($ per SPX point)"),
        (f"delta, {kind}", float(grid.delta_dollars_per_1pct[cell]), "$ per +1 % SPX move"),
    ]
    today = grid.days[cell[0]] == 0 and grid.vol_shifts[cell[1]] == 0.0 and grid.spot_moves[cell[2]] == 0.0
    if today and grid.dynamics == "sticky_moneyness":
        from alvh.book.analytics import leg_greeks

        bs_points = float(leg_greeks(grid.position, grid.market)["delta_spx_points"].sum())
        rows += [
            ("delta, Black-Scholes (fixed vols)", bs_points, "SPX points equivalent ($ per SPX point)"),
            ("delta, Black-Scholes (fixed vols)", bs_points * 0.01 * grid.spot, "$ per +1 % SPX move"),
        ]
    return rows + [
        ("gamma", float(grid.gamma_dollars_per_1pct[cell]), "$ delta change per +1 % SPX move"),
        ("vega", float(grid.vega_dollars_per_vol_point[cell]), "$ per vol point (all options)"),
        ("theta", float(grid.theta_dollars_per_day[cell]), "$ per calendar day"),
        ("VIX delta", float(grid.delta_dollars_per_vix_point[cell]), "$ per point of each VIX leg's future"),
    ]
