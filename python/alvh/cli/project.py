"""``alvh project``: a position projected 5-10 days forward under GDP / earnings scenarios:
the P&L distribution per scenario at the horizon, each scenario's expected path, and the
fan chart PNG."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import alvh
from alvh.cli.common import (
    CliError,
    add_chain_options,
    add_projection_options,
    chain_market,
    check_horizon,
    check_out_parent,
    check_projection_args,
    load_book,
    progress_bar,
)

if TYPE_CHECKING:
    from alvh.risk.projection import Projection
    from alvh.risk.scenarios import ScenarioSet

__all__ = ["project_with_progress", "register", "run", "scenario_set_arg"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh project`` and its options to ``commands``."""
    parser = commands.add_parser(
        "project",
        help="project a position 5-10 days forward under GDP/earnings scenarios",
        description="Monte Carlo projection of POSITION (TOML) against --market (TOML) under "
        "a scenario set: prints the P&L distribution per scenario at the horizon and each "
        "scenario's expected path, and writes the fan chart PNG.",
    )
    parser.add_argument("position", help="position file (TOML, docs/position_format.md)")
    parser.add_argument("--market", required=True, help="market file (TOML)")
    add_projection_options(parser, paths=100_000, days_help="horizon, 5-10 calendar days")
    parser.add_argument("--out", default="fan.png", help="PNG to write (default: fan.png)")
    add_chain_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Project the position, print the distribution and expected paths, write the fan chart."""
    position, market = load_book(args)
    check_projection_args(args)
    check_horizon(market, list(range(args.days + 1)))
    scenarios = scenario_set_arg(args.scenarios)
    check_out_parent(args.out, ".png")
    market = chain_market(args, market, console, position)
    result = project_with_progress(args, console, position, market, scenarios)
    name = position.name or Path(args.position).name
    console.print(_distribution_table(result, args, name=name))
    console.print(_expected_path_table(result, args.days))
    try:
        out = result.plot(args.out)
    except OSError as exc:
        raise CliError(f"cannot write the fan chart to {args.out!r}: {exc.strerror or exc}") from exc
    console.print(f"fan chart written to {escape(str(out))}", highlight=False)


def scenario_set_arg(name: str) -> ScenarioSet | str:
    """``--scenarios``: a built-in set's name, or the set read from a scenario TOML file."""
    from alvh.risk.scenarios import BUILT_INS, ScenarioSet

    if name in BUILT_INS:
        return name
    if not Path(name).is_file():
        raise CliError(
            f"--scenarios {name!r} is neither a built-in set "
            f"({', '.join(BUILT_INS)}) nor a scenario TOML file"
        )
    return ScenarioSet.from_toml(name)


def project_with_progress(
    args: argparse.Namespace,
    console: Console,
    position: alvh.Position,
    market: alvh.Market,
    scenarios: ScenarioSet | str,
) -> Projection:
    """The Monte Carlo projection, with a progress bar counting scenarios."""
    from alvh.risk.projection import project

    with progress_bar(console, "scenarios") as bar:
        task = bar.add_task(f"projecting {args.paths:,} paths x {args.days} days", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return project(
            position,
            market,
            scenarios=scenarios,
            days=args.days,
            paths=args.paths,
            seed=args.seed,
            dynamics=args.dynamics,
            progress=advance,
        )


def _distribution_table(result: Projection, args: argparse.Namespace, *, name: str) -> Table:
    """The P&L distribution per scenario (and their mixture) at the horizon."""
    frame = result.to_polars()
    last = frame.filter(frame["day"] == args.days)
    table = Table(
        title=f"{escape(name)}: P&L ($) vs today's mark "
        f"at day {args.days} ({result.as_of + timedelta(days=args.days):%d %b %Y}), "
        f"{args.paths:,} paths per scenario, seed {args.seed}"
    )
    for column in (
        "scenario",
        "prob",
        "mean",
        "± s.e.",
        "5 %",
        "median",
        "95 %",
        "CVaR95 loss",
        "P(profit)",
        "P(touch)",
    ):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in last.iter_rows(named=True):
        mixture = row["scenario"] == "mixture"
        style = "bold" if mixture else ""
        table.add_row(
            row["scenario"],
            f"{row['probability']:.1%}",
            f"{row['mean']:+,.0f}",
            f"{row['mean_se']:,.0f}",
            f"{row['q05']:+,.0f}",
            f"{row['q50']:+,.0f}",
            f"{row['q95']:+,.0f}",
            f"{row['cvar95']:,.0f}",
            f"{row['p_profit']:.1%}",
            f"{row['touch_any']:.1%}",
            style=style,
        )
    table.caption = (
        "CVaR95 loss: the mean loss in the worst 5 %, in $ (positive = a loss, as on the fan "
        "chart); P(touch): SPX touched a short strike by then "
        "(continuous monitoring). Mixture: the scenarios weighted by their probabilities."
    )
    return table


def _expected_path_table(result: Projection, days: int) -> Table:
    """Each scenario's expected path at the horizon, revalued."""
    rep = result.representative_paths()
    rep_last = rep.filter(rep["day"] == days)
    table = Table(title=f"Each scenario's expected path at day {days}, revalued")
    for column in ("scenario", "SPX", "VIX", "P&L", "smile-adj. delta $/1%", "vega $/pt", "theta $/day"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in rep_last.iter_rows(named=True):
        table.add_row(
            row["scenario"],
            f"{row['spx']:,.0f}",
            f"{row['vix']:.2f}",
            f"{row['pnl']:+,.0f}",
            f"{row['delta_dollars_per_1pct']:+,.0f}",
            f"{row['vega_dollars_per_vol_point']:+,.0f}",
            f"{row['theta_dollars_per_day']:+,.0f}",
        )
    return table
