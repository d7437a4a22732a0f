"""The ``alvh`` command line.

``alvh demo``    the Greeks of an example SPX iron condor (per leg and for the book)
``alvh greeks``  price and Greeks of one option, in trader units
``alvh info``    which backend and SIMD path this installation uses
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

import alvh
from alvh.errors import AlvhError

SPX_MULTIPLIER = 100.0


def _demo(console: Console) -> None:
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


def _info(console: Console) -> None:
    for key, value in alvh.build_info().items():
        console.print(f"{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alvh", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"alvh {alvh.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="Greeks of an example SPX iron condor")
    greeks = commands.add_parser("greeks", help="price and Greeks of one SPX option")
    greeks.add_argument("--type", choices=["call", "put"], default="call")
    greeks.add_argument("--spot", type=float, required=True)
    greeks.add_argument("--strike", type=float, required=True)
    greeks.add_argument("--days", type=float, required=True, help="calendar days to expiry")
    greeks.add_argument("--vol", type=float, required=True, help="decimal, 0.18 = 18 %%")
    greeks.add_argument("--rate", type=float, default=0.04)
    greeks.add_argument("--div", type=float, default=0.015)
    commands.add_parser("info", help="backend and SIMD path in use")
    args = parser.parse_args(argv)
    # Wide enough for the tables when output goes to a pipe or file (rich assumes 80).
    console = Console(width=max(Console().width, 110))
    try:
        if args.command == "demo":
            _demo(console)
        elif args.command == "greeks":
            _greeks(args, console)
        else:
            _info(console)
    except AlvhError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
