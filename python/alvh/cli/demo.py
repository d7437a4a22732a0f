"""``alvh demo``: an example condor's Greeks, then no hedge / early / patient replayed on the
bundled 2000-2022 sample (S&P 500, VIX, the 3-month bill), the stress episodes, the calm
years, the verdict and the report (into ``alvh-demo-report``)."""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table

import alvh
from alvh.backtesting.reference import Vxth
from alvh.cli.backtest import replay_and_report

__all__ = ["register", "run"]

_SPX_MULTIPLIER = 100.0

#: A 45-day SPX iron condor: short the 4300 put and the 4700 call, 50-point wings, one
#: contract per leg. Vols follow a plain put skew around a 17 % ATM vol.
_SPOT, _DAYS, _RATE, _DIV = 4500.0, 45, 0.04, 0.015
_LEGS = (  # (name, is_call, strike, quantity, vol)
    ("+1 4250 P", False, 4250.0, +1, 0.215),
    ("-1 4300 P", False, 4300.0, -1, 0.205),
    ("-1 4700 C", True, 4700.0, -1, 0.150),
    ("+1 4750 C", True, 4750.0, +1, 0.145),
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh demo`` to ``commands``."""
    commands.add_parser(
        "demo",
        help="an example condor's Greeks, then no hedge / early / patient "
        "replayed on 2000-2022 with the episodes, the verdict and the report",
    ).set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """The condor's Greeks, then the backtest on the bundled sample: the policies in two
    processes (the machine's two cores), every day at that day's 3-month bill rate."""
    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.data import rates_for, sample_data
    from alvh.backtesting.inputs import sample_inputs

    _print_condor(console)
    data = sample_data()
    spx, vix = data.spx, data.vix.select("date", "close")
    rates = rates_for(replay_days(spx, vix), data.rates)
    console.print(
        f"\n[bold]Adjust at VIX 17-22, or wait for higher layers?[/bold] The condor schedule "
        f"(a 16-delta, 50-point iron condor sold every week, 30-45 days out) replayed on "
        f"{rates.height:,} days of S&P 500 and VIX closes, {rates['date'][0]} to "
        f"{rates['date'][-1]}, at each day's 3-month bill rate ({rates['carried'].sum()} bond-market "
        "holidays carry the previous rate), with no hedge, the early policy, the patient one and "
        "the Cboe VIX Tail Hedge rule (vxth), on $100,000 of capital; then the Cboe iron condor "
        "index's book (cndr) as the reference:",
        highlight=False,
    )
    replay_and_report(
        console,
        spx,
        vix,
        {
            "none": None,
            "early": alvh.Policy.preset("early"),
            "patient": alvh.Policy.preset("patient"),
            "vxth": Vxth(),
        },
        "alvh-demo-report",
        rates=rates,
        workers=2,
        inputs=sample_inputs(data),
    )


def _print_condor(console: Console) -> None:
    """The example condor's legs and book in $ Greeks per contract, and its max loss."""
    vol = np.array([leg[4] for leg in _LEGS])
    g = alvh.bsm.greeks(
        is_call=np.array([leg[1] for leg in _LEGS]),
        spot=_SPOT,
        strike=np.array([leg[2] for leg in _LEGS]),
        t=_DAYS / 365.0,
        rate=_RATE,
        div=_DIV,
        vol=vol,
    )
    scale = np.array([leg[3] for leg in _LEGS], dtype=float) * _SPX_MULTIPLIER
    table = Table(
        title=f"SPX iron condor, spot {_SPOT:.0f}, {_DAYS} days to expiry "
        f"(backend: {alvh.backend()}, {alvh.build_info().get('simd', 'numpy')})"
    )
    for column in ("leg", "vol", "price", "delta $/pt", "gamma $/pt²", "vega $/vol pt", "theta $/day"):
        table.add_column(column, justify="right", no_wrap=True)
    totals = np.zeros(5)
    for i, (name, *_rest) in enumerate(_LEGS):
        row = np.array(
            [
                g.price[i] * scale[i],
                g.delta[i] * scale[i],
                g.gamma[i] * scale[i],
                g.vega_per_point[i] * scale[i],
                g.theta_per_day[i] * scale[i],
            ]
        )
        totals += row
        table.add_row(
            name,
            f"{vol[i]:.1%}",
            f"{g.price[i]:.2f}",
            f"{row[1]:+.2f}",
            f"{row[2]:+.4f}",
            f"{row[3]:+.2f}",
            f"{row[4]:+.2f}",
        )
    table.add_section()
    table.add_row(
        "book",
        "",
        f"{-totals[0] / _SPX_MULTIPLIER:.2f} cr",
        f"{totals[1]:+.2f}",
        f"{totals[2]:+.4f}",
        f"{totals[3]:+.2f}",
        f"{totals[4]:+.2f}",
    )
    console.print(table)
    console.print(
        "Per contract (x100 multiplier): delta in $ per SPX point, gamma in $ delta change per "
        "point, vega in $ per vol point, theta in $ per calendar day. Max loss at expiry: "
        f"${(50.0 + totals[0] / _SPX_MULTIPLIER) * _SPX_MULTIPLIER:,.0f} "
        f"on ${50 * _SPX_MULTIPLIER:,.0f} of width."
    )
