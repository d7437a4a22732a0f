"""The ``alvh`` command line.

``alvh demo``      an example condor's Greeks, then no hedge / early / patient replayed on
                   the bundled 2014-2018 sample, the verdict and the report
``alvh greeks``    price and Greeks of one option, in trader units
``alvh info``      which backend and SIMD path this installation uses
``alvh grid``      the risk graph of a position file against a market file: a table of
                   key rows and a PNG (P&L by SPX level at T+N and expiry; P&L heatmap
                   over SPX move x VIX shift)
``alvh project``   a position projected 5-10 days forward under GDP / earnings scenarios:
                   the P&L distribution per scenario and the fan chart PNG
``alvh decide``    the layer policy's decision for today on a state, position and market,
                   appended to the journal
``alvh journal``   the decision journal (``alvh journal show``)
``alvh backtest``  the condor book replayed under policies on a history; the comparison,
                   the verdict and the report
``alvh sweep``     a policy replayed over a grid of layer 1 / layer 2 band starts: the best
                   points, the sweep as Parquet (or CSV) and its heatmap
"""

from __future__ import annotations

import argparse
import io
import math
import multiprocessing
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import alvh
from alvh._core.io import atomic_write
from alvh.errors import AlvhError

if TYPE_CHECKING:
    from alvh.risk.grid import Grid

__all__ = ["main"]

SPX_MULTIPLIER = 100.0


def _run_backtest(console: Console, spx: Any, vix: Any, policies: dict[str, Any],
                  out: str) -> None:
    """Replay ``policies`` with a progress bar, print the comparison and the verdict,
    write the report into ``out``."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from alvh.backtesting.comparison import backtest, verdict
    from alvh.report.backtest import backtest_report

    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise _CliError(f"--out {out!r} exists and is not a directory")
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} days"), TimeElapsedColumn(),
                  console=console) as bar:
        # Each bar's clock starts with its own replay (not when the bars are drawn).
        tasks = {name: bar.add_task(f"replay {name}", total=None, start=False)
                 for name in policies}

        started: set[str] = set()

        def advance(name: str, done: int, total: int) -> None:
            if name not in started:
                started.add(name)
                bar.start_task(tasks[name])
            bar.update(tasks[name], completed=done, total=total)

        result = backtest(spx, vix, policies=policies, progress=advance)
    metrics = result.metrics()
    table = Table(title="Condor book by policy (daily replay, model marks, costs included)")
    columns = (("policy", "policy", None), ("CAGR", "cagr", "signed"), ("vol", "vol", "pct"),
               ("Sharpe", "sharpe", "num"), ("max DD", "max_drawdown", "pct"),
               ("worst day", "worst_day", "signed"), ("CVaR95/day", "cvar95_daily", "pct"),
               ("hedge $", "hedge_spend", "money"), ("hedges", "adjustments", "int"),
               ("% days L1/2/3", None, None))
    for label, _key, _kind in columns:
        table.add_column(label, justify="left" if label == "policy" else "right", no_wrap=True)
    for row in metrics.iter_rows(named=True):
        cells = []
        for label, key, kind in columns:
            if key is None:
                cells.append("/".join(f"{100 * row[f'days_layer_{k}']:.0f}" for k in (1, 2, 3)))
                continue
            value = row[key]
            cells.append(str(value) if kind is None
                         else f"{100 * value:+.1f}%" if kind == "signed"
                         else f"{100 * value:.1f}%" if kind == "pct"
                         else f"{value:,.0f}" if kind in ("money", "int") else f"{value:+.2f}")
        table.add_row(*cells)
    table.caption = "Sortino, Calmar and the rest: the report's table"
    console.print(table)
    names = set(policies)
    if {"early", "patient"} <= names:
        console.print(f"[bold]Verdict.[/bold] {escape(verdict(result))}", highlight=False)
    try:
        report = backtest_report(result, out_dir)
    except ImportError as exc:
        raise _CliError(f"the report needs matplotlib (pip install 'alvh[demo]'): {exc}") from exc
    console.print(f"report written to {escape(str(report))}", highlight=False)


def _demo(console: Console) -> None:
    _demo_condor(console)
    try:
        from alvh.backtesting.data import sample_data

        data = sample_data()
    except ImportError as exc:
        console.print(f"[yellow]The backtest part of the demo needs the sample data "
                      f"(pip install 'alvh[demo]'):[/yellow] {escape(str(exc))}", highlight=False)
        return
    console.print(
        "\n[bold]Adjust at VIX 17-22, or wait for higher layers?[/bold] The condor schedule "
        "replayed over the S&P 500 and VIX closes of 2014-2018 (arch's sample data) with no "
        "hedge, the early policy and the patient one:", highlight=False,
    )
    _run_backtest(console, data.spx, data.vix.select("date", "close"), {
        "none": None, "early": alvh.Policy.preset("early"), "patient": alvh.Policy.preset("patient"),
    }, "alvh-demo-report")


def _demo_condor(console: Console) -> None:
    # A 45-day SPX iron condor: short the 4300 put and the 4700 call, 50-point wings,
    # one contract per leg. Vols follow a plain put skew around a 17 % ATM vol.
    spot, days, rate, div = 4500.0, 45, 0.04, 0.015
    legs = [  # (name, is_call, strike, quantity, vol)
        ("+1 4250 P", False, 4250.0, +1, 0.215),
        ("-1 4300 P", False, 4300.0, -1, 0.205),
        ("-1 4700 C", True, 4700.0, -1, 0.150),
        ("+1 4750 C", True, 4750.0, +1, 0.145),
    ]
    is_call = np.array([leg[1] for leg in legs])
    strike = np.array([leg[2] for leg in legs])
    quantity = np.array([leg[3] for leg in legs], dtype=float)
    vol = np.array([leg[4] for leg in legs])
    g = alvh.bsm.greeks(
        is_call=is_call, spot=spot, strike=strike, t=days / 365.0, rate=rate, div=div, vol=vol
    )
    scale = quantity * SPX_MULTIPLIER
    table = Table(
        title=f"SPX iron condor, spot {spot:.0f}, {days} days to expiry "
        f"(backend: {alvh.backend()}, {alvh.build_info().get('simd', 'numpy')})"
    )
    for column in ("leg", "vol", "price", "delta $/pt", "gamma $/pt²", "vega $/vol pt", "theta $/day"):
        table.add_column(column, justify="right", no_wrap=True)
    totals = np.zeros(5)
    for i, (name, *_rest) in enumerate(legs):
        row = np.array([
            g.price[i] * scale[i],
            g.delta[i] * scale[i],
            g.gamma[i] * scale[i],
            g.vega_per_point[i] * scale[i],
            g.theta_per_day[i] * scale[i],
        ])
        totals += row
        table.add_row(
            name, f"{vol[i]:.1%}", f"{g.price[i]:.2f}", f"{row[1]:+.2f}", f"{row[2]:+.4f}",
            f"{row[3]:+.2f}", f"{row[4]:+.2f}",
        )
    table.add_section()
    table.add_row(
        "book", "", f"{-totals[0] / SPX_MULTIPLIER:.2f} cr", f"{totals[1]:+.2f}",
        f"{totals[2]:+.4f}", f"{totals[3]:+.2f}", f"{totals[4]:+.2f}",
    )
    console.print(table)
    console.print(
        "Per contract (x100 multiplier): delta in $ per SPX point, gamma in $ delta change per "
        "point, vega in $ per vol point, theta in $ per calendar day. Max loss at expiry: "
        f"${(50.0 + totals[0] / SPX_MULTIPLIER) * SPX_MULTIPLIER:,.0f} on ${50 * SPX_MULTIPLIER:,.0f} of width."
    )


def _greeks(args: argparse.Namespace, console: Console) -> None:
    g = alvh.bsm.greeks(
        is_call=args.type, spot=args.spot, strike=args.strike, t=args.days / 365.0,
        rate=args.rate, div=args.div, vol=args.vol,
    )
    table = Table(title=f"{args.type} {args.strike:g}, spot {args.spot:g}, {args.days:g} days, vol {args.vol:.2%}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, value, unit in [
        ("price", g.price, "index points"),
        ("delta", g.delta, "dV/dS"),
        ("gamma", g.gamma, "d2V/dS2"),
        ("vega", g.vega_per_point, "per vol point"),
        ("theta", g.theta_per_day, "per calendar day"),
        ("rho", g.rho_per_point, "per 1 % rate"),
        ("vanna", g.vanna_per_point, "delta per vol point"),
        ("volga", g.volga_per_point, "vega/pt per vol point"),
        ("charm", g.charm_per_day, "delta per day"),
    ]:
        table.add_row(name, f"{float(value):.6g}", unit)
    console.print(table)


#: Spot moves the `alvh grid` table shows (those inside the grid's range).
_TABLE_MOVES = (-0.10, -0.05, -0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.05, 0.10)


class _CliError(Exception):
    """A user mistake on the command line: the message is printed, the exit code is 2."""


def _axis(name: str, values: Sequence[float]) -> np.ndarray:
    """``LOW HIGH COUNT`` -> an evenly spaced axis, checked."""
    low, high, count = values
    if not count.is_integer() or count < 1:
        raise _CliError(f"--{name}: COUNT must be a positive whole number; got {count:g}")
    if count > 1 and not high > low:
        raise _CliError(f"--{name}: HIGH must exceed LOW; got {low:g} {high:g}")
    if int(count) == 1:
        return np.array([low])
    return np.linspace(low, high, int(count))


def _load_book(args: argparse.Namespace) -> tuple[alvh.Position, alvh.Market]:
    """The position and market files, with a plain message for a missing or unreadable one."""
    for label, path in (("position", args.position), ("market", args.market)):
        if not Path(path).is_file():
            raise _CliError(f"{label} file {path!r} does not exist (or is not a file)")
    try:
        position = alvh.Position.from_toml(args.position)
        market = alvh.Market.from_toml(args.market)
    except OSError as exc:
        raise _CliError(f"cannot read {exc.filename!r}: {exc.strerror}") from exc
    return position, market


def _check_horizon(market: alvh.Market, days: Sequence[int]) -> None:
    """A listed VIX futures curve must reach the grid's last day (`Market.bump` drops
    expired futures and refuses an empty curve): say so up front, with the fix."""
    futures = market.futures
    if not futures.is_explicit or not days:
        return
    horizon = market.as_of + timedelta(days=max(days))
    last = futures.expiries[-1]
    if last < horizon:
        reach = (last - market.as_of).days
        raise _CliError(
            f"the market's listed VIX futures end on {last.isoformat()}, before the grid's "
            f"last day {horizon.isoformat()} (as_of {market.as_of.isoformat()} + {max(days)} "
            f"days): add later expiries to [vix_futures] in the market file, or use "
            f"--days up to {max(reach, 0)}"
        )


def _grid(args: argparse.Namespace, console: Console) -> None:
    from alvh.risk import plots
    from alvh.risk.grid import scenario_grid

    position, market = _load_book(args)
    moves = _axis("moves", args.moves)
    shifts = _axis("shifts", args.shifts)
    days = sorted(set(args.days))
    if any(d < 0 for d in days):
        raise _CliError(f"--days must be zero or positive; got {days}")
    if any(m <= -1.0 for m in moves):
        raise _CliError("--moves are relative (-0.1 = -10 %) and must stay above -1")
    _check_horizon(market, days)
    if args.chain is not None:
        market = _fit_chain(args.chain, market, console, args.smile)
    out_dir = Path(args.out).parent
    if not out_dir.is_dir():
        raise _CliError(f"--out {args.out!r}: directory {str(out_dir)!r} does not exist")
    grid = scenario_grid(
        position, market, spot_moves=moves, vol_shifts=shifts, days=days, dynamics=args.dynamics
    )
    spot = float(market.spot)
    flat = int(np.argmin(np.abs(shifts)))
    # The table's columns: the wanted moves that the grid's range covers, at their
    # nearest grid point (no interpolation: the numbers are the grid's own).
    picks: list[int] = []
    for wanted in _TABLE_MOVES:
        if moves[0] - 1e-12 <= wanted <= moves[-1] + 1e-12:
            index = int(np.argmin(np.abs(moves - wanted)))
            if index not in picks:
                picks.append(index)
    if not picks:
        picks = sorted({0, moves.size // 2, moves.size - 1})
    vix_note = "VIX unchanged" if shifts[flat] == 0.0 else f"VIX {shifts[flat]:+g} points"
    table = Table(
        title=f"{escape(position.name or Path(args.position).name)}: P&L ($) vs today's mark, "
        f"{vix_note}, {args.dynamics} (as of {market.as_of.isoformat()}, SPX {spot:,.2f}, "
        f"VIX {market.vix:.2f})"
    )
    table.add_column("day", justify="right")
    for index in picks:
        table.add_column(f"{moves[index]:+.1%}\n{spot * (1 + moves[index]):,.0f}", justify="right")
    pnl = np.asarray(grid.pnl)
    for d_index, day in enumerate(days):
        row = pnl[d_index, flat]
        table.add_row(
            f"T+{day}",
            *[f"[{'red' if row[i] < 0 else 'green'}]{row[i]:+,.0f}[/]" for i in picks],
        )
    open_pnl = grid.base_value - math.fsum(leg.entry_cost for leg in position.legs)
    table.caption = (
        f"Today's mark vs the entry prices: {open_pnl:+,.0f} $ (add it for P&L vs entry, "
        "as the risk graph's left panel shows)"
    )
    console.print(table)

    base = (days.index(0) if 0 in days else 0, flat, int(np.argmin(np.abs(moves))))
    greeks = Table(
        title=f"Position Greeks at the base cell (T+{days[base[0]]}, SPX "
        f"{spot * (1 + moves[base[2]]):,.2f}, VIX shift {shifts[base[1]]:+g})"
    )
    greeks.add_column("Greek")
    greeks.add_column("value", justify="right")
    greeks.add_column("unit")
    for name, value, unit in _trader_greeks(grid, base):
        greeks.add_row(name, f"{value:+,.2f}", unit)
    console.print(greeks)

    try:
        out = plots.risk_graph(grid, args.out, position=position, market=market)
    except OSError as exc:
        raise _CliError(
            f"cannot write the risk graph to {args.out!r}: {exc.strerror or exc}"
        ) from exc
    console.print(f"risk graph written to {escape(str(out))}", highlight=False)


def _fit_chain(path: str, market: alvh.Market, console: Console, smile: str) -> alvh.Market:
    """``market`` with its smile fitted to the option chain at ``path``: the VIX-linked
    skew, or (``smile == "svi"``) one SVI slice per expiry."""
    from alvh.market.fit import fit_svi, fit_vix_linked_skew

    if not Path(path).is_file():
        raise _CliError(f"chain file {path!r} does not exist (or is not a file)")
    if smile == "svi":
        result = fit_svi(path, market)
        console.print(
            f"SVI fitted to {escape(path)}: {result.rows_used} of "
            f"{result.rows_used + result.rows_excluded} quotes, {len(result.slices)} "
            f"slice{'' if len(result.slices) == 1 else 's'}, RMSE {result.rmse:.2f} vol points",
            highlight=False,
        )
        for expiry, why in result.skipped.items():
            console.print(f"  {expiry.isoformat()} skipped: {why}", highlight=False)
        for expiry, check in result.butterfly.items():
            if not check.arbitrage_free and check.k_range is not None:
                low, high = check.k_range
                console.print(
                    f"  warning: {expiry.isoformat()} slice has butterfly arbitrage for "
                    f"ln(K/F) in [{low:.3f}, {high:.3f}]",
                    highlight=False,
                )
        for calendar in result.calendar:
            if not calendar.arbitrage_free:
                console.print(
                    f"  warning: calendar arbitrage: total variance falls from "
                    f"{calendar.earlier.isoformat()} to {calendar.later.isoformat()} "
                    f"(by {calendar.max_drop:.2e} at ln(K/F) = {calendar.k_at_max:.3f})",
                    highlight=False,
                )
        return result.market
    fit = fit_vix_linked_skew(path, market)
    model = fit.model
    console.print(
        f"smile fitted to {escape(path)}: {fit.rows_used} of {fit.rows_used + fit.rows_excluded} "
        f"quotes, RMSE {fit.rmse:.2f} vol points; atm_vix_ratio {model.atm_vix_ratio:.4f}, "
        f"skew {model.skew:+.4f}, curvature {model.curvature:+.4f}",
        highlight=False,
    )
    return fit.market


def _trader_greeks(grid: Grid, cell: tuple[int, int, int]) -> list[tuple[str, float, str]]:
    """The grid's Greeks at ``cell`` in trader units (DESIGN.md "Conventions")."""
    return [
        ("delta", float(grid.delta[cell]), "SPX points equivalent ($ per SPX point)"),
        ("delta", float(grid.delta_dollars_per_1pct[cell]), "$ per +1 % SPX move"),
        ("gamma", float(grid.gamma_dollars_per_1pct[cell]), "$ delta change per +1 % SPX move"),
        ("vega", float(grid.vega_dollars_per_vol_point[cell]), "$ per vol point (all options)"),
        ("theta", float(grid.theta_dollars_per_day[cell]), "$ per calendar day"),
        ("VIX delta", float(grid.delta_dollars_per_vix_point[cell]),
         "$ per point of each VIX leg's future"),
    ]


def _project(args: argparse.Namespace, console: Console) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from alvh.risk.projection import project
    from alvh.risk.scenarios import BUILT_INS, ScenarioSet

    position, market = _load_book(args)
    if not 5 <= args.days <= 10:
        raise _CliError(f"--days must be between 5 and 10 (the projection horizon); got {args.days}")
    if args.paths < 1:
        raise _CliError(f"--paths must be at least 1; got {args.paths}")
    _check_horizon(market, list(range(args.days + 1)))
    scenarios: ScenarioSet | str = args.scenarios
    if args.scenarios not in BUILT_INS:
        if not Path(args.scenarios).is_file():
            raise _CliError(
                f"--scenarios {args.scenarios!r} is neither a built-in set "
                f"({', '.join(BUILT_INS)}) nor a scenario TOML file"
            )
        scenarios = ScenarioSet.from_toml(args.scenarios)
    out_dir = Path(args.out).parent
    if not out_dir.is_dir():
        raise _CliError(f"--out {args.out!r}: directory {str(out_dir)!r} does not exist")
    with Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total} scenarios"), TimeElapsedColumn(),
        console=console, transient=False,
    ) as bar:
        task = bar.add_task(f"projecting {args.paths:,} paths x {args.days} days", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = project(
            position, market, scenarios=scenarios, days=args.days, paths=args.paths,
            seed=args.seed, dynamics=args.dynamics, progress=advance,
        )
    frame = result.to_polars()
    last = frame.filter(frame["day"] == args.days)
    table = Table(
        title=f"{escape(position.name or Path(args.position).name)}: P&L ($) vs today's mark "
        f"at day {args.days} ({result.as_of + timedelta(days=args.days):%d %b %Y}), "
        f"{args.paths:,} paths per scenario, seed {args.seed}"
    )
    for name in ("scenario", "prob", "mean", "± s.e.", "5 %", "median", "95 %", "CVaR 95",
                 "P(profit)", "P(touch)"):
        table.add_column(name, justify="left" if name == "scenario" else "right")
    for row in last.iter_rows(named=True):
        mixture = row["scenario"] == "mixture"
        style = "bold" if mixture else ""
        table.add_row(
            row["scenario"], f"{row['probability']:.1%}", f"{row['mean']:+,.0f}",
            f"{row['mean_se']:,.0f}", f"{row['q05']:+,.0f}", f"{row['q50']:+,.0f}",
            f"{row['q95']:+,.0f}", f"{row['cvar95']:,.0f}", f"{row['p_profit']:.1%}",
            f"{row['touch_any']:.1%}", style=style,
        )
    table.caption = (
        "CVaR 95: mean loss in the worst 5 %; P(touch): SPX touched a short strike by then "
        "(continuous monitoring). Mixture: the scenarios weighted by their probabilities."
    )
    console.print(table)
    rep = result.representative_paths()
    rep_last = rep.filter(rep["day"] == args.days)
    expected = Table(title=f"Each scenario's expected path at day {args.days}, revalued")
    for name in ("scenario", "SPX", "VIX", "P&L", "delta $/1%", "vega $/pt", "theta $/day"):
        expected.add_column(name, justify="left" if name == "scenario" else "right")
    for row in rep_last.iter_rows(named=True):
        expected.add_row(
            row["scenario"], f"{row['spx']:,.0f}", f"{row['vix']:.2f}", f"{row['pnl']:+,.0f}",
            f"{row['delta_dollars_per_1pct']:+,.0f}", f"{row['vega_dollars_per_vol_point']:+,.0f}",
            f"{row['theta_dollars_per_day']:+,.0f}",
        )
    console.print(expected)
    try:
        out = result.plot(args.out)
    except OSError as exc:
        raise _CliError(f"cannot write the fan chart to {args.out!r}: {exc.strerror or exc}") from exc
    console.print(f"fan chart written to {escape(str(out))}", highlight=False)


def _decide(args: argparse.Namespace, console: Console) -> None:
    from alvh.policy.journal import Journal
    from alvh.policy.config import Policy
    from alvh.policy.state import MarketState

    for label, path in (("state", args.state), ("position", args.position),
                        ("market", args.market)):
        if not Path(path).is_file():
            raise _CliError(f"{label} file {path!r} does not exist (or is not a file)")
    if args.policy in ("early", "patient"):
        policy = Policy.preset(args.policy)
    elif Path(args.policy).is_file():
        policy = Policy.from_toml(args.policy)
    else:
        raise _CliError(f"--policy {args.policy!r} is neither a preset (early, patient) nor a file")
    state = MarketState.from_toml(args.state)
    position = alvh.Position.from_toml(args.position)
    market = alvh.Market.from_toml(args.market)
    if args.portfolio_value is not None and not args.portfolio_value > 0:
        raise _CliError("--portfolio-value must be a positive $ amount (the base of the caps)")
    with Journal(args.journal) as journal:
        layer, acted, value = args.layer, args.acted, args.portfolio_value
        history = journal.decisions()
        last = journal.decision(int(history["id"][-1])) if history.height else None
        if layer is None:
            layer = last.layer_after if last is not None else 0
            if acted is None and last is not None:
                acted = int(last.extra.get("acted", layer))
        if value is None:
            if last is None or "portfolio_value" not in last.extra:
                raise _CliError(
                    "--portfolio-value is needed for the journal's first decision (the base of "
                    "the sizing caps and the CVaR budget); later runs reuse the last one"
                )
            value = float(last.extra["portfolio_value"])
        decision = policy.decide(state, position, market, layer=layer, acted=acted,
                                 portfolio_value=value,
                                 committed_risk=args.committed_risk, seed=args.seed)
        decision_id = journal.append(decision, policy=policy)
    table = Table(title=f"{decision.date}: VIX {decision.vix:.2f}, layer {decision.layer_before} -> "
                  f"{decision.layer_after} ({policy.name}, version {policy.version[:8]})")
    table.add_column("diagnostic")
    table.add_column("value", justify="right")
    table.add_column("fired")
    table.add_column("evidence")
    for d in decision.diagnostics:
        mark = "-" if d.fired is None else ("[red]yes[/]" if d.fired else "no")
        table.add_row(d.name, "" if d.value is None else f"{d.value:.4g}", mark, escape(d.note))
    console.print(table)
    if decision.actions:
        for action in decision.actions:
            console.print(f"[bold]action:[/bold] {escape(action.description)} (cost "
                          f"{action.cost:,.0f} $, risk {action.risk:,.0f} $)", highlight=False)
    else:
        console.print("[bold]action:[/bold] none", highlight=False)
    if decision.cvar_before is not None:
        console.print(f"projected CVaR 95: {decision.cvar_before:,.0f} $ -> "
                      f"{decision.cvar_after:,.0f} $", highlight=False)
    console.print(f"[bold]rationale:[/bold] {escape(decision.rationale)}", highlight=False)
    console.print(f"journaled as decision {decision_id} in {escape(args.journal)}", highlight=False)


def _journal(args: argparse.Namespace, console: Console) -> None:
    from alvh.policy.journal import Journal

    if not Path(args.journal).is_file():
        raise _CliError(f"journal {args.journal!r} does not exist (or is not a file)")
    with Journal(args.journal) as journal:
        frame = journal.with_outcomes()
        policies = journal.policies()
    if args.last is not None:
        frame = frame.tail(args.last)
    table = Table(title=f"{escape(args.journal)}: {frame.height} decision(s), "
                  f"{policies.height} policy version(s)")
    for name in ("id", "date", "policy", "VIX", "layer", "actions", "P&L 5d", "P&L 10d",
                 "rationale"):
        table.add_column(name, justify="left" if name in ("policy", "rationale") else "right")

    def money(x: float | None) -> str:
        return "" if x is None else f"{x:+,.0f}"

    for row in frame.iter_rows(named=True):
        table.add_row(
            str(row["id"]), str(row["date"]),
            f"{row['policy_name']} ({row['policy_version'][:8]})", f"{row['vix']:.2f}",
            f"{row['layer_before']} -> {row['layer_after']}", str(row["actions"]),
            money(row["pnl_5d"]), money(row["pnl_10d"]), escape(row["rationale"]),
        )
    console.print(table)


def _history(args: argparse.Namespace) -> tuple[Any, Any]:
    """The SPX and VIX histories of ``--sample`` or ``--spx``/``--vix`` (``--cboe``)."""
    if args.sample:
        from alvh.backtesting.data import sample_data

        data = sample_data()
        return data.spx, data.vix.select("date", "close")
    if args.spx is None or args.vix is None:
        raise _CliError("give --spx and --vix history files (CSV or Parquet), or --sample")
    from alvh.backtesting.data import load_cboe_vix, load_ohlc

    for label, path in (("--spx", args.spx), ("--vix", args.vix)):
        if not Path(path).is_file():
            raise _CliError(f"{label} file {path!r} does not exist (or is not a file)")
    spx = load_ohlc(args.spx)
    vix = (load_cboe_vix(args.vix) if args.cboe else load_ohlc(args.vix, columns=("close",)))
    return spx, vix.select("date", "close")


def _policy(name: str) -> Any:
    """A preset (early, patient) or a policy TOML file."""
    from alvh.policy.config import Policy

    if name in ("early", "patient"):
        return Policy.preset(name)
    if Path(name).is_file():
        return Policy.from_toml(name)
    raise _CliError(f"--policy {name!r} is neither a preset (early, patient) nor a file")


def _backtest(args: argparse.Namespace, console: Console) -> None:
    spx, vix = _history(args)
    policies: dict[str, Any] = {"none": None}
    for name in args.policy or ["early", "patient"]:
        policy = _policy(name)
        policies[policy.name] = policy
    _run_backtest(console, spx, vix, policies, args.out)


def _starts(option: str, text: str) -> list[float]:
    """``LOW:HIGH`` (whole VIX points, both included, step 1) or a comma list of numbers."""
    shape = "a range LOW:HIGH of whole VIX points (15:21) or a comma list of numbers (15,17.5)"
    try:
        if ":" in text:
            low, high = (int(part) for part in text.split(":"))
            if high < low:
                raise _CliError(f"{option} {text!r}: the range ends below its start ({high} < {low})")
            values = [float(v) for v in range(low, high + 1)]
        else:
            values = [float(part) for part in text.split(",")]
    except ValueError:
        raise _CliError(f"{option} {text!r} is not {shape}") from None
    if not all(math.isfinite(v) and 0.0 < v < 200.0 for v in values):
        raise _CliError(f"{option} {text!r}: VIX levels must be between 0 and 200")
    return values


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _CliError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


#: Sweep metrics where lower is better (the table sorts them ascending).
_LOWER_IS_BETTER = ("vol", "max_drawdown", "cvar95_daily", "hedge_spend")


def _sweep(args: argparse.Namespace, console: Console) -> None:
    from concurrent.futures import Executor, ProcessPoolExecutor

    import polars as pl
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.sweeps import sweep

    layer1 = _starts("--layer1", args.layer1)
    layer2 = _starts("--layer2", args.layer2)
    start, end = _date("--start", args.start), _date("--end", args.end)
    if start is not None and end is not None and end < start:
        raise _CliError(f"--end {args.end} is before --start {args.start}")
    if args.workers < 1:
        raise _CliError(f"--workers must be 1 or more; got {args.workers}")
    if args.dask is not None and args.workers != 1:
        raise _CliError("give --workers or --dask, not both (the cluster has its own workers)")
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise _CliError(f"--out {args.out!r} exists and is not a directory")
    policy = _policy(args.policy)
    spx, vix = _history(args)
    client: Any = None
    executor: Executor | None = None
    if args.dask is not None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise _CliError(f"--dask needs dask.distributed (pip install 'alvh[dist]'): {exc}") from exc
        try:
            client = Client(args.dask, timeout=30)
        except OSError as exc:
            raise _CliError(f"--dask {args.dask!r}: cannot reach the scheduler: {exc}") from exc
        executor = client.get_executor()
    elif args.workers > 1:
        # Spawned, not forked: Polars' thread pool (busy loading the history) does not
        # survive fork(), and a forked worker can hang on its first Polars call.
        executor = ProcessPoolExecutor(max_workers=args.workers,
                                       mp_context=multiprocessing.get_context("spawn"))
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} points"), TimeElapsedColumn(),
                      console=console) as bar:
            task = bar.add_task(f"sweep {policy.name}", total=None)
            frame = sweep(spx, vix, layer1_starts=layer1, layer2_starts=layer2, base=policy,
                          executor=executor, start=start, end=end,
                          progress=lambda done, total: bar.update(task, completed=done,
                                                                  total=total))
    finally:
        if isinstance(executor, ProcessPoolExecutor):
            executor.shutdown()
        if client is not None:
            client.close()
    metric = args.metric
    ranked = frame.with_columns(pl.col(metric).fill_nan(None)).sort(
        metric, descending=metric not in _LOWER_IS_BETTER, nulls_last=True)
    table = Table(title=f"Best {min(args.top, frame.height)} of {frame.height} layer bands by "
                  f"{metric} ({escape(policy.name)}, {frame.height} replays)")
    columns = (("L1 start", "layer1_start", "vix"), ("L2 start", "layer2_start", "vix"),
               ("CAGR", "cagr", "signed"), ("vol", "vol", "pct"), ("Sharpe", "sharpe", "num"),
               ("Sortino", "sortino", "num"), ("max DD", "max_drawdown", "pct"),
               ("CVaR95/day", "cvar95_daily", "pct"), ("hedge $", "hedge_spend", "money"),
               ("hedges", "adjustments", "int"))
    for label, _key, _kind in columns:
        table.add_column(label, justify="right", no_wrap=True)
    for row in ranked.head(args.top).iter_rows(named=True):
        cells = []
        for _label, key, kind in columns:
            value = row[key]
            cells.append("-" if value is None or (isinstance(value, float) and math.isnan(value))
                         else f"{value:g}" if kind == "vix"
                         else f"{100 * value:+.1f}%" if kind == "signed"
                         else f"{100 * value:.1f}%" if kind == "pct"
                         else f"{value:,.0f}" if kind in ("money", "int") else f"{value:+.2f}")
        table.add_row(*cells)
    console.print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / f"sweep.{args.format}"
    buffer = io.BytesIO()
    if args.format == "csv":
        frame.write_csv(buffer)
    else:
        frame.write_parquet(buffer)
    atomic_write(data_path, buffer.getvalue())  # never a partial file
    console.print(f"sweep written to {escape(str(data_path))}", highlight=False)
    days = replay_days(spx, vix, start=start, end=end)
    try:
        from alvh.report.sweep import sweep_heatmap

        png = sweep_heatmap(frame, out_dir / "sweep_heatmap.png", metric=metric,
                            context=f"{policy.name}, {days[0]} to {days[-1]}")
    except ImportError as exc:
        raise _CliError(f"the heatmap needs matplotlib (pip install 'alvh[demo]'): {exc}") from exc
    console.print(f"heatmap written to {escape(str(png))}", highlight=False)


def _info(console: Console) -> None:
    for key, value in alvh.build_info().items():
        console.print(f"{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alvh", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"alvh {alvh.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="an example condor's Greeks, then no hedge / early / patient "
                        "replayed on 2014-2018 with the verdict and the report")
    greeks = commands.add_parser("greeks", help="price and Greeks of one SPX option")
    greeks.add_argument("--type", choices=["call", "put"], default="call")
    greeks.add_argument("--spot", type=float, required=True)
    greeks.add_argument("--strike", type=float, required=True)
    greeks.add_argument("--days", type=float, required=True, help="calendar days to expiry")
    greeks.add_argument("--vol", type=float, required=True, help="decimal, 0.18 = 18 %%")
    greeks.add_argument("--rate", type=float, default=0.04)
    greeks.add_argument("--div", type=float, default=0.015)
    commands.add_parser("info", help="backend and SIMD path in use")
    grid = commands.add_parser(
        "grid", help="risk graph of a position: table of key rows and a PNG",
        description="Scenario grid of POSITION (TOML) against --market (TOML): prints P&L at "
        "a few SPX moves per day (VIX unchanged) and the Greeks, and writes the risk graph PNG.",
    )
    grid.add_argument("position", help="position file (TOML, docs/position_format.md)")
    grid.add_argument("--market", required=True, help="market file (TOML, docs/market_format.md)")
    grid.add_argument("--out", default="risk.png", help="PNG to write (default: risk.png)")
    grid.add_argument("--days", type=int, nargs="+", default=list(range(11)), metavar="DAY",
                      help="calendar days forward (default: 0 1 ... 10)")
    grid.add_argument("--moves", type=float, nargs=3, default=[-0.10, 0.10, 201.0],
                      metavar=("LOW", "HIGH", "COUNT"),
                      help="relative SPX moves (default: -0.1 0.1 201)")
    grid.add_argument("--shifts", type=float, nargs=3, default=[-10.0, 10.0, 41.0],
                      metavar=("LOW", "HIGH", "COUNT"),
                      help="VIX shifts in points (default: -10 10 41)")
    grid.add_argument("--chain", default=None, metavar="CSV",
                      help="SPX option chain (expiry, strike, type, bid, ask) to fit the "
                      "market's smile to first (docs in alvh.market.chain)")
    grid.add_argument("--smile", default="vix_linked_skew", choices=["vix_linked_skew", "svi"],
                      help="the smile --chain fits: the VIX-linked skew (default) or one SVI "
                      "slice per expiry (alvh.fit_svi)")
    grid.add_argument("--dynamics", default="sticky_moneyness",
                      choices=["sticky_moneyness", "sticky_strike", "parallel"],
                      help="how the SPX smile follows spot and VIX (default: sticky_moneyness)")
    project = commands.add_parser(
        "project", help="project a position 5-10 days forward under GDP/earnings scenarios",
        description="Monte Carlo projection of POSITION (TOML) against --market (TOML) under "
        "a scenario set: prints the P&L distribution per scenario at the horizon and each "
        "scenario's expected path, and writes the fan chart PNG.",
    )
    project.add_argument("position", help="position file (TOML, docs/position_format.md)")
    project.add_argument("--market", required=True, help="market file (TOML)")
    project.add_argument("--days", type=int, default=10, help="horizon, 5-10 calendar days")
    project.add_argument("--paths", type=int, default=100_000, help="paths per scenario")
    project.add_argument("--scenarios", default="gdp_x_earnings",
                         help="gdp, earnings, gdp_x_earnings, or a scenario TOML file "
                         "(docs/scenarios.md)")
    project.add_argument("--seed", type=int, default=0)
    project.add_argument("--dynamics", default="sticky_moneyness",
                         choices=["sticky_moneyness", "sticky_strike", "parallel"])
    project.add_argument("--out", default="fan.png", help="PNG to write (default: fan.png)")
    decide = commands.add_parser(
        "decide", help="the layer policy's decision for today, journaled",
        description="Run the layer policy on the day's state (TOML) for a position and market, "
        "print the decision and append it to the journal.",
    )
    decide.add_argument("--state", required=True, help="the day's MarketState (TOML)")
    decide.add_argument("--position", required=True, help="position file (TOML)")
    decide.add_argument("--market", required=True, help="market file (TOML)")
    decide.add_argument("--journal", default="alvh.db", help="journal file (default: alvh.db)")
    decide.add_argument("--policy", default="early",
                        help="early, patient, or a policy TOML file (docs/policy_format.md)")
    decide.add_argument("--portfolio-value", type=float, default=None,
                        help="portfolio value in $ (the base of the caps and the CVaR budget); "
                        "default: the journal's last decision's")
    decide.add_argument("--layer", type=int, default=None,
                        help="the layer before today (default: the journal's last decision)")
    decide.add_argument("--acted", type=int, default=None,
                        help="the highest layer already hedged (default: from the journal)")
    decide.add_argument("--committed-risk", type=float, default=0.0,
                        help="$ already at risk in earlier layers' hedges (the total cap)")
    decide.add_argument("--seed", type=int, default=0)
    bt = commands.add_parser(
        "backtest", help="replay the condor book under policies on a history; write the report",
        description="Replay the condor schedule with no hedge and each --policy on an SPX/VIX "
        "history, print the comparison (and the early-vs-patient verdict) and write the report.",
    )
    bt.add_argument("--spx", default=None, help="SPX daily OHLC (CSV or Parquet, docs/data_format.md)")
    bt.add_argument("--vix", default=None, help="VIX daily closes (CSV or Parquet)")
    bt.add_argument("--cboe", action="store_true", help="--vix is Cboe's VIX_History.csv")
    bt.add_argument("--sample", action="store_true", help="use the sample data (the data extra)")
    bt.add_argument("--policy", action="append", default=None,
                    help="early, patient or a policy TOML (repeatable; default: early and patient)")
    bt.add_argument("--out", default="alvh-report", help="report directory (default: alvh-report)")
    sw = commands.add_parser(
        "sweep", help="replay a policy over a grid of layer 1 / layer 2 band starts",
        description="Replay the condor book under --policy with layer 1's band starting at "
        "each --layer1 level and layer 2's at each --layer2 level (alvh.backtesting.daily.sweep), "
        "print the best points and write the sweep (Parquet or CSV) and its heatmap.",
    )
    sw.add_argument("--spx", default=None, help="SPX daily OHLC (CSV or Parquet, docs/data_format.md)")
    sw.add_argument("--vix", default=None, help="VIX daily closes (CSV or Parquet)")
    sw.add_argument("--cboe", action="store_true", help="--vix is Cboe's VIX_History.csv")
    sw.add_argument("--sample", action="store_true", help="use the sample data (the data extra)")
    sw.add_argument("--policy", default="early",
                    help="the base policy: early, patient or a policy TOML (default: early)")
    sw.add_argument("--layer1", default="15:21", metavar="LOW:HIGH",
                    help="layer 1 band starts: LOW:HIGH whole VIX points, both included, or a "
                    "comma list (default: 15:21)")
    sw.add_argument("--layer2", default="22:28", metavar="LOW:HIGH",
                    help="layer 2 band starts, as --layer1 (default: 22:28)")
    sw.add_argument("--start", default=None, metavar="YYYY-MM-DD", help="first replay day")
    sw.add_argument("--end", default=None, metavar="YYYY-MM-DD", help="last replay day")
    sw.add_argument("--workers", type=int, default=1,
                    help="processes to run the points on (default: 1, serial)")
    sw.add_argument("--dask", default=None, metavar="ADDRESS",
                    help="run the points on a dask.distributed scheduler (the dist extra)")
    sw.add_argument("--metric", default="sharpe",
                    choices=["sharpe", "sortino", "cagr", "calmar", "max_drawdown",
                             "cvar95_daily"],
                    help="the heatmap's metric and the table's order (default: sharpe)")
    sw.add_argument("--top", type=int, default=5, help="rows of the best-points table (default: 5)")
    sw.add_argument("--format", default="parquet", choices=["parquet", "csv"],
                    help="the sweep file's format (default: parquet)")
    sw.add_argument("--out", default="alvh-sweep",
                    help="directory for sweep.parquet and sweep_heatmap.png (default: alvh-sweep)")
    journal = commands.add_parser("journal", help="the decision journal")
    journal_commands = journal.add_subparsers(dest="journal_command", required=True)
    show = journal_commands.add_parser("show", help="list the journal's decisions")
    show.add_argument("--journal", default="alvh.db", help="journal file (default: alvh.db)")
    show.add_argument("--last", type=int, default=None, help="only the last N decisions")
    args = parser.parse_args(argv)
    # Wide enough for the tables when output goes to a pipe or file (rich assumes 80).
    console = Console(width=max(Console().width, 110))
    try:
        if args.command == "demo":
            _demo(console)
        elif args.command == "greeks":
            _greeks(args, console)
        elif args.command == "grid":
            _grid(args, console)
        elif args.command == "project":
            _project(args, console)
        elif args.command == "journal":
            _journal(args, console)
        elif args.command == "decide":
            _decide(args, console)
        elif args.command == "backtest":
            _backtest(args, console)
        elif args.command == "sweep":
            _sweep(args, console)
        else:
            _info(console)
    except (AlvhError, _CliError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 2
    except OSError as exc:  # e.g. --out in a directory that cannot be written
        where = f" {exc.filename!r}" if exc.filename else ""
        reason = escape(exc.strerror or str(exc))
        console.print(f"[red]error:[/red] cannot write{escape(where)}: {reason}", highlight=False)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
