"""``alvh decide``: the layer policy's decision for today on a state, position and market,
printed and appended to the journal. The layer before today, the layers already hedged,
the committed risk and the portfolio value default to this policy's last decision in the
journal (issue 18 point 2: each policy keeps its own state; a day before or equal to that
decision is refused unless ``--force``; a failed run creates and changes nothing; a hedge
the journal says was bought but the position file lacks is pointed out).

What it prints (issue 18 point 1): the rationale as a list (one line per diagnostic and per
rule or candidate, with its value and verdict), the book before and after the action in
trader units with its breakevens at T+0 and the horizon, and the hedge as order lines a
broker takes (``BUY 12 VIX 20JAN27 28 C @ 1.78 LMT``); ``--write-position`` appends the
hedge's legs to the position file with their fill prices. Action keys keep their names
(saved policies and journals use them); the CLI shows what each does (`ACTION_LABELS`)."""

from __future__ import annotations

import argparse
import re
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
    parser.add_argument(
        "--force",
        action="store_true",
        help="decide although the policy already decided on the state's day or later",
    )
    parser.add_argument(
        "--write-position",
        action="store_true",
        help="append the hedge's legs to --position (atomically, comments kept) at their "
        "fill prices: --fills, else the order lines' limit prices",
    )
    parser.add_argument(
        "--fills",
        type=float,
        nargs="+",
        default=None,
        metavar="PRICE",
        help="with --write-position: the fill price of each order line, in order",
    )
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
    if args.fills is not None and not args.write_position:
        raise CliError("--fills are the prices --write-position records: give --write-position too")
    # The journal is read (if it exists) before deciding and written only after: a failed
    # run creates nothing and leaves an existing journal as it was.
    last: alvh.Decision | None = None
    notes: list[str] = []
    if Path(args.journal).exists():
        with Journal(args.journal, read_only=True) as journal:
            last, notes = _memory(args, journal, policy, state, position)
    elif args.force:
        raise CliError("--force decides again on a journal's day: there is no journal yet")
    decision = _decide(args, last, policy, state, position, market)
    if args.fills is not None:  # checked before anything is written
        _fills(args, decision.hedge())
    with Journal(args.journal) as journal:
        decision_id = journal.append(decision, policy=policy)
    for note in notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    _print_decision(decision, policy, console)
    console.print(_ladder_table(policy, position, market, decision, args.seed))
    console.print(_tail_table(policy, position, market, args.seed))
    console.print(f"journaled as decision {decision_id} in {escape(args.journal)}", highlight=False)
    if args.write_position:
        _write_position(args, decision, console)


def _memory(
    args: argparse.Namespace,
    journal: Journal,
    policy: alvh.Policy,
    state: MarketState,
    position: alvh.Position,
) -> tuple[alvh.Decision | None, list[str]]:
    """The journal as the book's memory for ``policy``: its last decision under this
    policy's name (another policy's layer, acted layers and committed risk are not this
    one's: switching starts from this policy's own last state, or from scratch, and says
    so), after refusing a day before it (out of order) or the same day (a duplicate)
    unless ``--force``; and notes on what the journal says that the files do not."""
    history = journal.decisions()
    mine = history.filter(history["policy_name"] == policy.name)
    notes: list[str] = []
    if history.height and not mine.height:
        other = history.row(-1, named=True)
        notes.append(
            f"the journal has no decision of policy {policy.name!r}: it starts from layer 0 with "
            f"nothing acted (the last decision, {other['id']} on {other['date']}, was "
            f"{other['policy_name']!r}'s, layer {other['layer_after']}: another policy's state)"
        )
    if not mine.height:
        return None, notes
    row = mine.row(-1, named=True)
    last = journal.decision(int(row["id"]))
    if state.date <= last.date and not args.force:
        what = "the same day as" if state.date == last.date else "before"
        raise CliError(
            f"the state's date {state.date} is {what} {policy.name!r}'s last decision ({row['id']}, "
            f"{last.date}) in {args.journal}: decisions are journaled in order, once a day "
            "(--force to decide anyway)"
        )
    acted = int(last.extra.get("acted", 0))
    if acted > 0 and args.acted is None:
        bought = _last_hedge(journal, mine, acted)
        if bought is not None and not _holds(position, bought):
            notes.append(
                f"the journal says layer {acted}'s hedge was bought on {bought.date} ("
                f"{bought.actions[0].description}) but {args.position} does not hold those legs: "
                "record it with --write-position, or pass --acted if it was never bought"
            )
    return last, notes


def _last_hedge(journal: Journal, mine: Any, acted: int) -> alvh.Decision | None:
    """The latest decision of ``mine`` (a `Journal.decisions` frame) that bought a hedge
    in a layer up to ``acted``."""
    for decision_id in reversed(mine.filter(mine["actions"] > 0)["id"].to_list()):
        decision = journal.decision(int(decision_id))
        if decision.layer_after <= acted and decision.actions[0].name not in ("close_book", "reduce_book"):
            return decision
    return None


def _holds(position: alvh.Position, decision: alvh.Decision) -> bool:
    """Whether ``position`` holds every leg ``decision``'s trade opened (same contract and
    side, at least its size), whatever the fill prices: a hedge's legs, or a strike edit's
    new legs (its first half closes legs the position no longer has)."""
    from alvh.policy.engine import STRIKE_ADJUSTMENTS

    hedge = decision.hedge()
    legs = hedge.legs
    if decision.actions[0].name in STRIKE_ADJUSTMENTS:
        legs = legs[len(legs) // 2 :]

    def key(leg: Any) -> tuple[Any, ...]:
        return (leg.kind, leg.expiry, getattr(leg, "strike", None), getattr(leg, "is_call", None))

    held: dict[tuple[Any, ...], int] = {}
    for leg in position.legs:
        held[key(leg)] = held.get(key(leg), 0) + leg.quantity
    return all(held.get(key(leg), 0) * leg.quantity >= leg.quantity * leg.quantity for leg in legs)


def _decide(
    args: argparse.Namespace,
    last: alvh.Decision | None,
    policy: alvh.Policy,
    state: MarketState,
    position: alvh.Position,
    market: alvh.Market,
) -> alvh.Decision:
    """The policy's decision, the options the user left out taken from this policy's last
    decision in the journal (``last``)."""
    layer, acted, value = args.layer, args.acted, args.portfolio_value
    if layer is None:
        layer = last.layer_after if last is not None else 0
        if acted is None and last is not None:
            acted = int(last.extra.get("acted", layer))
    if value is None:
        if last is None or "portfolio_value" not in last.extra:
            raise CliError(
                "--portfolio-value is needed for the policy's first decision in the journal (the "
                "base of the sizing caps and the CVaR budget); later runs reuse the last one"
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


#: What each action does, as the CLI shows it. The keys (`alvh.policy.config.ACTIONS`)
#: stay as they are: saved policies and journals name them. ``short_vix_calls`` buys
#: calls on the first VIX expiry at least two weeks out, which can be 40-50 days away:
#: "short" meant the nearer of the two VIX-call candidates, not a short position.
ACTION_LABELS = {
    "roll_short_strikes": "roll the threatened short strikes wider",
    "tighten_untested": "tighten the untested side, for a credit",
    "vix_futures": "buy VIX futures against vega",
    "short_vix_calls": "buy nearer-expiry VIX calls against gamma",
    "long_vix_calls": "buy later-expiry VIX calls, convex protection",
    "spx_put_spread": "buy an SPX put spread, convex protection",
    "neutralize_delta": "neutralize delta with conversions / reversals",
}

#: Price ticks for the order lines' limits: (below 3.00, at or above 3.00). SPX options
#: trade in 0.05 / 0.10, VIX options in 0.01 / 0.05 (penny classes), VIX futures 0.05.
_TICKS = {"spx_option": (0.05, 0.10), "vix_option": (0.01, 0.05), "vix_future": (0.05, 0.05)}


def action_label(name: str) -> str:
    """``buy nearer-expiry VIX calls against gamma (short_vix_calls)``."""
    return f"{ACTION_LABELS.get(name, name)} ({name})"


def _limit(kind: str, price: float) -> float:
    """The model price rounded to the nearest tick of its contract."""
    low, high = _TICKS[kind]
    tick = low if abs(price) < 3.0 else high
    return round(round(price / tick) * tick, 2)


def order_lines(hedge: alvh.Position) -> list[str]:
    """One order per leg: ``BUY 12 VIX 20JAN27 28 C @ 1.78 LMT`` (SPX and VIX options),
    ``BUY 1 VX 20JAN27 FUT @ 20.60 LMT`` (VIX futures); the limit is the model price the
    decision was costed at, rounded to the contract's tick."""
    lines = []
    for leg in hedge.legs:
        side = "BUY" if leg.quantity > 0 else "SELL"
        expiry = f"{leg.expiry:%d%b%y}".upper()
        limit = _limit(leg.kind, leg.entry_price)
        if isinstance(leg, alvh.VixFuture):
            lines.append(f"{side} {abs(leg.quantity)} VX {expiry} FUT @ {limit:.2f} LMT")
            continue
        root = "SPX" if isinstance(leg, alvh.SpxOption) else "VIX"
        what = f"{root} {expiry} {leg.strike:g} {leg.right[0].upper()}"
        lines.append(f"{side} {abs(leg.quantity)} {what} @ {limit:.2f} LMT")
    return lines


def _sentences(rationale: str) -> list[str]:
    """The rationale cut into its sentences (each ends with '.' before a capital letter)."""
    return [part.strip() for part in re.split(r"(?<=\.)\s+(?=[A-Z])", rationale) if part.strip()]


def _verdict(d: Any) -> str:
    if d.fired is None:
        return "skipped: input missing"
    if not d.fired:
        return "not fired"
    role = {"for": "for acting", "against": "against acting", "condition": "patience condition"}
    return f"fired: {role.get(d.role or '', d.role or 'fired')}"


def _why_table(decision: alvh.Decision) -> Table:
    """The rationale as a list: one row per diagnostic (value, verdict, evidence), then
    one per rule and candidate of the rationale, then the conclusion."""
    table = Table(title="Why: every diagnostic and rule, its value and verdict")
    for column in ("", "item", "value", "verdict", "detail"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for d in decision.diagnostics:
        value = "" if d.value is None else f"{d.value:.4g}"
        colour = "red" if d.fired and d.role == "for" else ("green" if d.fired else "")
        verdict = _verdict(d)
        table.add_row(
            "diagnostic", d.name, value, f"[{colour}]{verdict}[/]" if colour else verdict, escape(d.note)
        )
    rules = dict(decision.extra.get("rules", {}))
    chosen = {a.name for a in decision.actions}
    for sentence in _sentences(decision.rationale):
        if sentence.startswith(("Diagnostics (", "Missing inputs")):
            continue  # the diagnostics' own rows above say it
        rule = re.match(r"Rule \(([a-f])\)[^:]*:\s*(.*)", sentence, re.S)
        candidate = re.match(r"Candidate (dropped: )?(\w+):\s*(.*)", sentence, re.S)
        if rule:
            table.add_row("rule", f"({rule[1]})", "", rules.get(rule[1], ""), escape(rule[2]))
        elif candidate:
            name, detail = candidate[2], candidate[3]
            cvar = re.search(r"CVaR 95 ([\d,]+) -> ([\d,]+) \$", detail)
            verdict = "dropped" if candidate[1] else ("chosen" if name in chosen else "not chosen")
            table.add_row(
                "candidate",
                action_label(name),
                f"CVaR {cvar[1]} -> {cvar[2]}" if cvar else "",
                f"[bold]{verdict}[/]" if verdict == "chosen" else verdict,
                escape(detail),
            )
        elif not sentence.startswith("Break-evens"):
            table.add_row("decision", "", "", "", escape(sentence))
    return table


def _ladder_table(
    policy: alvh.Policy, position: alvh.Position, market: alvh.Market, decision: alvh.Decision, seed: int
) -> Table:
    """What each layer would do right now (`alvh.policy.engine.ladder`) for the book
    before today's action, within the caps left after the committed risk."""
    from alvh.policy.engine import ladder

    rows = ladder(
        policy,
        position,
        market,
        portfolio_value=float(decision.extra["portfolio_value"]),
        committed_risk=float(decision.extra.get("committed_risk", 0.0)),
        seed=seed,
    )
    table = Table(
        title=f"The ladder: what each layer would do right now (today: layer {decision.layer_after})"
    )
    for column in ("layer", "band", "candidate", "trade", "cost $", "risk $"):
        table.add_column(column, justify="right" if column.endswith("$") else "left")
    current = None
    for row in rows:
        if current is not None and row["layer"] != current:
            table.add_section()
        first = row["layer"] != current
        current = row["layer"]
        here = " (now)" if row["layer"] == decision.layer_after else ""
        table.add_row(
            f"{row['layer']}{here}" if first else "",
            row["band"] if first else "",
            action_label(row["action"]) if row["action"] else "",
            escape(row["trade"]),
            "" if row["cost"] is None else f"{row['cost']:,.0f}",
            "" if row["risk"] is None else f"{row['risk']:,.0f}",
        )
    table.caption = (
        "each candidate sized to today's book within the layer's budget; rule (f) picks when it acts"
    )
    return table


def _tail_table(policy: alvh.Policy, position: alvh.Position, market: alvh.Market, seed: int) -> Table:
    """Where the book's projected tail comes from (before the action): per scenario of the
    policy's projection, its share of the mixture's worst 5 % and the mean SPX move, VIX
    change and P&L of its own worst 5 % (`alvh.risk.projection.Projection.tail_sources`)."""
    from alvh.policy.engine import SCENARIOS
    from alvh.risk.projection import project

    rules = policy.rules
    days = rules.projection_days
    run = project(
        position,
        market,
        scenarios=SCENARIOS,
        days=days,
        paths=rules.projection_paths,
        seed=seed,
        greek_paths=0,
        keep_paths=True,
        representative=False,
    )
    frame = run.tail_sources()
    table = Table(
        title=f"Where the projected tail comes from: the worst 5 % of paths at T+{days}, by scenario"
    )
    for column in ("scenario", "probability", "share of the tail", "SPX move", "VIX change", "P&L $"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in frame.iter_rows(named=True):
        if row["scenario"] == "mixture":
            table.add_section()
        table.add_row(
            row["scenario"],
            f"{row['probability']:.0%}",
            f"{row['share_of_tail']:.0%}",
            f"{row['tail_spx_move_pct']:+.1f} %",
            f"{row['tail_vix_change']:+.1f} pts",
            f"{row['tail_pnl']:+,.0f}",
        )
    table.caption = (
        "the book before today's action; a rally in the tail means the calls are what loses "
        "(the model's smile and drift decide which side)"
    )
    return table


def _spots(values: Any) -> str:
    return " / ".join(f"{v:,.0f}" for v in values) if values else "none"


#: The Decision's Greeks (`greeks_before` / `greeks_after`), their labels and units.
_GREEK_ROWS = (
    ("delta", "delta, Black-Scholes", "$ per +1 % SPX"),
    ("gamma", "gamma", "$ delta per 1 % SPX"),
    ("vega", "vega", "$ per vol point"),
    ("theta", "theta", "$ per day"),
    ("vix_delta", "VIX delta", "$ per VIX futures point"),
    ("value", "value of the legs", "$"),
)


def _book_table(decision: alvh.Decision) -> Table:
    """The book before and after the action: Greeks in trader units, projected CVaR,
    breakevens at T+0 and at the projection's horizon."""
    acted = bool(decision.actions)
    table = Table(title="The book before" + (" and after the action" if acted else " (no action: unchanged)"))
    for column in ("", "before", *(("after", "change") if acted else ()), "unit"):
        table.add_column(column, justify="left" if column in ("", "unit") else "right")
    before, after = decision.greeks_before, decision.greeks_after
    for key, label, unit in _GREEK_ROWS:
        if key not in before:
            continue
        cells = [f"{before[key]:+,.0f}"]
        if acted:
            cells += [f"{after[key]:+,.0f}", f"{after[key] - before[key]:+,.0f}"]
        table.add_row(label, *cells, unit)
    if decision.cvar_before is not None:
        cells = [f"{decision.cvar_before:,.0f}"]
        if acted and decision.cvar_after is not None:
            cells += [f"{decision.cvar_after:,.0f}", f"{decision.cvar_after - decision.cvar_before:+,.0f}"]
        table.add_row("projected CVaR95 loss", *cells, "$, positive = a loss")
    horizon = decision.extra.get("breakevens_horizon", {})
    rows = [("breakevens T+0", decision.breakevens_before, decision.breakevens_after)]
    if horizon:
        rows.append((f"breakevens T+{horizon['days']}", horizon["before"], horizon["after"]))
    for label, spots_before, spots_after in rows:
        cells = [_spots(spots_before)]
        if acted:
            cells += [_spots(spots_after), ""]
        table.add_row(label, *cells, "SPX, model, VIX unchanged")
    return table


def _print_decision(decision: alvh.Decision, policy: alvh.Policy, console: Console) -> None:
    """The rationale as a list, the book before / after, the orders."""
    console.print(
        f"[bold]{decision.date}: VIX {decision.vix:.2f}, layer {decision.layer_before} -> "
        f"{decision.layer_after}[/bold] ({escape(policy.name)}, version {policy.version[:8]})",
        highlight=False,
    )
    console.print(_why_table(decision))
    console.print(_book_table(decision))
    if decision.actions:
        for action in decision.actions:
            console.print(
                f"[bold]action:[/bold] {escape(action_label(action.name))}: {escape(action.description)} "
                f"(cost {action.cost:,.0f} $, risk {action.risk:,.0f} $)",
                highlight=False,
            )
        console.print("[bold]orders[/bold] (limits: the model prices, to the tick):", highlight=False)
        hedge = decision.hedge()
        for line, leg in zip(order_lines(hedge), hedge.legs):
            days = (leg.expiry - decision.date).days
            console.print(
                f"  {line}    [dim]{days} days to expiry, model {leg.entry_price:.4f}[/dim]", highlight=False
            )
    else:
        console.print("[bold]action:[/bold] none", highlight=False)
    console.print(f"[bold]break-evens:[/bold] {_breakevens(decision)}", highlight=False)


def _breakevens(decision: alvh.Decision) -> str:
    """Break-even migration: T+0 and the projection horizon, before -> after the action."""
    horizon = decision.extra.get("breakevens_horizon", {})
    parts = [f"T+0 {_spots(decision.breakevens_before)}"]
    if decision.actions:
        parts[0] += f" -> {_spots(decision.breakevens_after)}"
    if horizon:
        text = f"T+{horizon['days']} {_spots(horizon['before'])}"
        if decision.actions:
            text += f" -> {_spots(horizon['after'])}"
        parts.append(text)
    return "; ".join(parts)


def _fills(args: argparse.Namespace, hedge: alvh.Position) -> list[float]:
    """The fill price of each of the hedge's order lines: ``--fills``, else the limits."""
    limits = [_limit(leg.kind, leg.entry_price) for leg in hedge.legs]
    fills = limits if args.fills is None else list(args.fills)
    if len(fills) != len(hedge.legs):
        raise CliError(
            f"--fills gives {len(fills)} price{'s' if len(fills) != 1 else ''} for "
            f"{len(hedge.legs)} order line{'s' if len(hedge.legs) != 1 else ''}: one per line, in order "
            "(nothing was journaled)"
        )
    return fills


def _write_position(args: argparse.Namespace, decision: alvh.Decision, console: Console) -> None:
    """Append the hedge's legs to the position file at their fills (``--fills``, else the
    order lines' limits)."""
    from dataclasses import replace

    from alvh.book.position import add_legs_to_file

    hedge = decision.hedge()
    if not hedge.legs:
        console.print(f"no hedge today: {escape(args.position)} left as it is", highlight=False)
        return
    fills = _fills(args, hedge)
    filled = alvh.Position(
        legs=tuple(replace(leg, entry_price=price) for leg, price in zip(hedge.legs, fills)), name=hedge.name
    )
    names = ", ".join(a.name for a in decision.actions)
    add_legs_to_file(args.position, filled, comment=f"added by alvh decide on {decision.date} ({names})")
    console.print(
        f"{len(filled.legs)} leg{'s' if len(filled.legs) != 1 else ''} added to {escape(args.position)} at "
        + ", ".join(f"{p:.2f}" for p in fills),
        highlight=False,
    )
