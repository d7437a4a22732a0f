"""``alvh decide``: the layer policy's decision for today on a state, position and market,
printed and appended to the journal. The layer before today, the layers already hedged and
the portfolio value default to the journal's last decision."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import alvh
from alvh.cli.common import CliError, add_chain_options, chain_market, policy_by_name

if TYPE_CHECKING:
    from alvh.policy.journal import Journal
    from alvh.policy.state import MarketState

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh decide`` and its options to ``commands``."""
    parser = commands.add_parser(
        "decide",
        help="the layer policy's decision for today, journaled",
        description="Run the layer policy on the day's state (TOML) for a position and market, "
        "print the decision and append it to the journal.",
    )
    parser.add_argument("--state", required=True, help="the day's MarketState (TOML)")
    parser.add_argument("--position", required=True, help="position file (TOML)")
    parser.add_argument("--market", required=True, help="market file (TOML)")
    parser.add_argument("--journal", default="alvh.db", help="journal file (default: alvh.db)")
    parser.add_argument(
        "--policy", default="early", help="early, patient, or a policy TOML file (docs/policy_format.md)"
    )
    parser.add_argument(
        "--portfolio-value",
        type=float,
        default=None,
        help="portfolio value in $ (the base of the caps and the CVaR budget); "
        "default: the journal's last decision's",
    )
    parser.add_argument(
        "--layer",
        type=int,
        default=None,
        help="the layer before today (default: the journal's last decision)",
    )
    parser.add_argument(
        "--acted", type=int, default=None, help="the highest layer already hedged (default: from the journal)"
    )
    parser.add_argument(
        "--committed-risk",
        type=float,
        default=None,
        help="$ already at risk in earlier layers' hedges (the total cap); default: what the "
        "journal's last decision left committed (0 for a new journal)",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_chain_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Decide, journal the decision, print it."""
    from alvh.policy.journal import Journal
    from alvh.policy.state import MarketState

    for label, path in (("state", args.state), ("position", args.position), ("market", args.market)):
        if not Path(path).is_file():
            raise CliError(f"{label} file {path!r} does not exist (or is not a file)")
    policy = policy_by_name(args.policy)
    state = MarketState.from_toml(args.state)
    position = alvh.Position.from_toml(args.position)
    market = chain_market(args, alvh.Market.from_toml(args.market), console, position)
    if args.portfolio_value is not None and not args.portfolio_value > 0:
        raise CliError("--portfolio-value must be a positive $ amount (the base of the caps)")
    with Journal(args.journal) as journal:
        decision = _decide(args, journal, policy, state, position, market)
        decision_id = journal.append(decision, policy=policy)
    _print_decision(decision, policy, console)
    console.print(f"journaled as decision {decision_id} in {escape(args.journal)}", highlight=False)


def _decide(
    args: argparse.Namespace,
    journal: Journal,
    policy: alvh.Policy,
    state: MarketState,
    position: alvh.Position,
    market: alvh.Market,
) -> alvh.Decision:
    """The policy's decision, the options the user left out taken from the journal's last
    decision."""
    layer, acted, value = args.layer, args.acted, args.portfolio_value
    history = journal.decisions()
    last = journal.decision(int(history["id"][-1])) if history.height else None
    if layer is None:
        layer = last.layer_after if last is not None else 0
        if acted is None and last is not None:
            acted = int(last.extra.get("acted", layer))
    if value is None:
        if last is None or "portfolio_value" not in last.extra:
            raise CliError(
                "--portfolio-value is needed for the journal's first decision (the base of "
                "the sizing caps and the CVaR budget); later runs reuse the last one"
            )
        value = float(last.extra["portfolio_value"])
    committed = args.committed_risk
    if committed is None:
        committed = float(last.extra.get("committed_risk", 0.0)) if last is not None else 0.0
    elif not committed >= 0.0:
        raise CliError(f"--committed-risk must be a $ amount >= 0; got {committed!r}")
    return policy.decide(
        state,
        position,
        market,
        layer=layer,
        acted=acted,
        portfolio_value=value,
        committed_risk=committed,
        seed=args.seed,
    )


def _breakevens(decision: alvh.Decision) -> str:
    """Break-even migration: T+0 and the projection horizon, before -> after the action."""

    def spots(values: Any) -> str:
        return " / ".join(f"{v:,.0f}" for v in values) if values else "none"

    horizon = decision.extra.get("breakevens_horizon", {})
    parts = [f"T+0 {spots(decision.breakevens_before)}"]
    if decision.actions:
        parts[0] += f" -> {spots(decision.breakevens_after)}"
    if horizon:
        text = f"T+{horizon['days']} {spots(horizon['before'])}"
        if decision.actions:
            text += f" -> {spots(horizon['after'])}"
        parts.append(text)
    return "; ".join(parts)


def _print_decision(decision: alvh.Decision, policy: alvh.Policy, console: Console) -> None:
    """The diagnostics table, the actions, the CVaR change and the rationale."""
    table = Table(
        title=f"{decision.date}: VIX {decision.vix:.2f}, layer {decision.layer_before} -> "
        f"{decision.layer_after} ({policy.name}, version {policy.version[:8]})"
    )
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
            console.print(
                f"[bold]action:[/bold] {escape(action.description)} (cost "
                f"{action.cost:,.0f} $, risk {action.risk:,.0f} $)",
                highlight=False,
            )
    else:
        console.print("[bold]action:[/bold] none", highlight=False)
    if decision.cvar_before is not None:
        console.print(
            f"projected CVaR 95: {decision.cvar_before:,.0f} $ -> {decision.cvar_after:,.0f} $",
            highlight=False,
        )
    console.print(f"[bold]break-evens:[/bold] {_breakevens(decision)}", highlight=False)
    console.print(f"[bold]rationale:[/bold] {escape(decision.rationale)}", highlight=False)
