"""``alvh greeks``: the price and Greeks of one option, in trader units."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

import alvh

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh greeks`` and its options to ``commands``."""
    parser = commands.add_parser("greeks", help="price and Greeks of one SPX option")
    parser.add_argument("--type", choices=["call", "put"], default="call")
    parser.add_argument("--spot", type=float, required=True)
    parser.add_argument("--strike", type=float, required=True)
    parser.add_argument("--days", type=float, required=True, help="calendar days to expiry")
    parser.add_argument("--vol", type=float, required=True, help="decimal, 0.18 = 18 %%")
    parser.add_argument("--rate", type=float, default=0.04)
    parser.add_argument("--div", type=float, default=0.015)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Print the option's price and Greeks."""
    g = alvh.bsm.greeks(
        is_call=args.type,
        spot=args.spot,
        strike=args.strike,
        t=args.days / 365.0,
        rate=args.rate,
        div=args.div,
        vol=args.vol,
    )
    table = Table(
        title=f"{args.type} {args.strike:g}, spot {args.spot:g}, {args.days:g} days, vol {args.vol:.2%}"
    )
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
