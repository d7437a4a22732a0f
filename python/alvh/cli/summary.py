"""``alvh summary``: the book at a glance against a market — value and P&L vs entry, max
profit / loss, breakevens at expiry and T+N, the probability of profit, each short
strike's touch probability, the expected move, and the Greeks in trader units with both
deltas (Black-Scholes and smile-adjusted) and the beta-weighted delta. The numbers are
`alvh.book.analytics.summary`'s; this module only lays them out."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import alvh
from alvh.cli.common import CliError, add_chain_options, chain_market, load_book

if TYPE_CHECKING:
    from alvh.book.analytics import Summary

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh summary`` and its options to ``commands``."""
    parser = commands.add_parser(
        "summary",
        help="the book at a glance: value, P&L, max profit/loss, breakevens, PoP, touch, deltas",
        description="Value, P&L vs entry, max profit and loss, breakevens (expiry and T+N), "
        "probability of profit, touch probability of each short strike, expected move and "
        "the Greeks (both deltas, beta-weighted delta) of POSITION against --market.",
    )
    parser.add_argument("position", help="position file (TOML, docs/position_format.md)")
    parser.add_argument("--market", required=True, help="market file (TOML, docs/market_format.md)")
    parser.add_argument(
        "--days",
        type=int,
        nargs="+",
        default=[0, 5, 10],
        metavar="DAY",
        help="T+N horizons of the model breakevens (default: 0 5 10)",
    )
    parser.add_argument(
        "--vix-beta",
        type=float,
        default=None,
        help="VIX points per +1 %% SPX for the beta-weighted delta (default: "
        "alvh.book.analytics.DEFAULT_VIX_BETA, -1)",
    )
    add_chain_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Summarise the book and print it."""
    from alvh.book import analytics

    position, market = load_book(args)
    if any(d < 0 for d in args.days):
        raise CliError(f"--days must be zero or positive; got {args.days}")
    market = chain_market(args, market, console, position)
    beta = analytics.DEFAULT_VIX_BETA if args.vix_beta is None else args.vix_beta
    book = analytics.summary(position, market, vix_beta=beta, breakeven_days=tuple(sorted(set(args.days))))
    spx_only, note = _expiry_book(position, market, beta)
    name = position.name or Path(args.position).name
    console.print(_book_table(book, spx_only, note, name=name, market=market))
    console.print(_greeks_table(book, _smile_adjusted_delta(position, market)))
    if book.touch:
        console.print(_touch_table(book))


def _expiry_book(position: alvh.Position, market: alvh.Market, beta: float) -> tuple[Summary | None, str]:
    """The summary whose expiry numbers apply: the book's own when every leg is an SPX
    option of one expiry; its SPX legs' (labelled) when it also holds VIX legs."""
    from alvh.book import analytics

    spx_legs = tuple(leg for leg in position.legs if isinstance(leg, alvh.SpxOption))
    if len(spx_legs) == len(position.legs) or not spx_legs or len({leg.expiry for leg in spx_legs}) != 1:
        return None, ""
    part = analytics.summary(alvh.Position(legs=spx_legs), market, vix_beta=beta, breakeven_days=())
    others = len(position.legs) - len(spx_legs)
    return part, f"SPX legs only: the {others} VIX leg{'s' if others != 1 else ''} left out"


def _smile_adjusted_delta(position: alvh.Position, market: alvh.Market) -> tuple[float, float]:
    """(SPX points, $ per +1 %) of the scenario grid at today's cell: the delta with the
    smile moving with the spot (sticky moneyness), against the legs' Black-Scholes one."""
    grid = alvh.scenario_grid(position, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    return float(grid.delta[0, 0, 0]), float(grid.delta_dollars_per_1pct[0, 0, 0])


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    if math.isinf(value):
        return "unbounded"
    return f"{value:+,.0f} $"


def _spots(values: Any) -> str:
    return " / ".join(f"{v:,.0f}" for v in values) if values else "none"


def _book_table(
    book: Summary, spx_only: Summary | None, note: str, *, name: str, market: alvh.Market
) -> Table:
    as_of = f"as of {market.as_of.isoformat()}, SPX {market.spot:,.2f}, VIX {market.vix:.2f}"
    table = Table(title=f"{escape(name)} ({as_of})")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row("value of the legs", _money(book.value), "mark to model")
    table.add_row("entry cost", _money(book.entry_cost), "negative = a net credit")
    table.add_row("P&L vs entry", _money(book.pnl), "value - entry cost")
    expiry = spx_only if spx_only is not None else book
    label = f" ({note})" if note else ""
    when = f"at expiry {expiry.expiry.isoformat()}" if expiry.expiry else "needs one SPX expiry"
    table.add_row("max profit", _money(expiry.max_profit), f"{when}{label}")
    loss = None if expiry.max_loss is None else -expiry.max_loss
    table.add_row("max loss", _money(loss), f"{when}{label}")
    table.add_row("breakevens at expiry", _spots(expiry.breakevens_expiry), f"SPX{label}")
    for days, roots in book.breakevens_t_plus:
        table.add_row(f"breakevens T+{days}", _spots(roots), "SPX, model, VIX unchanged, every leg")
    pop = expiry.probability_of_profit
    table.add_row(
        "probability of profit",
        "n/a" if pop is None else f"{pop:.1%}",
        f"at expiry, lognormal at the ATM vol{label}",
    )
    for when_, move in book.expected_moves:
        table.add_row(f"expected move to {when_.isoformat()}", f"±{move:,.0f}", "SPX points, 1 sd (ATM vol)")
    return table


def _greeks_table(book: Summary, smile: tuple[float, float]) -> Table:
    table = Table(title="Greeks (trader units)")
    table.add_column("Greek")
    table.add_column("value", justify="right")
    table.add_column("unit")
    rows = (
        ("delta, Black-Scholes (fixed vols)", book.delta_spx_points, "SPX points equivalent"),
        ("delta, Black-Scholes (fixed vols)", book.delta_dollars_per_1pct, "$ per +1 % SPX"),
        ("delta, smile-adjusted (sticky moneyness)", smile[0], "SPX points equivalent"),
        ("delta, smile-adjusted (sticky moneyness)", smile[1], "$ per +1 % SPX"),
        (
            f"beta-weighted delta (VIX beta {book.vix_beta:g} pt per 1 %)",
            book.beta_weighted_delta_dollars_per_1pct,
            "$ per +1 % SPX, VIX legs included",
        ),
        ("gamma", book.gamma_dollars_per_1pct, "$ delta per 1 % SPX"),
        ("vega (SPX options)", book.vega_dollars_per_vol_point, "$ per vol point"),
        ("vega (VIX options)", book.vix_vega_dollars_per_vol_point, "$ per vol-of-vol point"),
        ("theta", book.theta_dollars_per_day, "$ per calendar day"),
        ("VIX delta", book.delta_dollars_per_vix_point, "$ per VIX futures point"),
    )
    for name, value, unit in rows:
        table.add_row(name, f"{value:+,.2f}", unit)
    return table


def _touch_table(book: Summary) -> Table:
    table = Table(title="Short strikes: probability of touching before expiry (lognormal, ATM vol)")
    for column in ("leg", "strike", "expiry", "vol", "P(touch)", "P(finish beyond)"):
        table.add_column(column, justify="left" if column == "leg" else "right")
    for tp in book.touch:
        table.add_row(
            str(tp.leg),
            f"{tp.strike:,.0f} {tp.right[0].upper()}",
            tp.expiry.isoformat(),
            f"{tp.vol:.1%}",
            f"{tp.p_touch:.1%}",
            f"{tp.p_finish_beyond:.1%}",
        )
    return table
