"""``alvh state build``: the day's state file (docs/state_format.md) from histories — the
SPX and VIX (``--sample`` or ``--spx``/``--vix``), and optionally the VIX futures, a
breadth line, macro readings, a rate differential and a skew series — through
`alvh.MarketState.from_history` (no look-ahead: rows after the date are never read).
``alvh state show FILE`` prints a state file's diagnostics."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alvh.cli.common import CliError, add_history_options, load_history, parse_date, policy_by_name

__all__ = ["register", "run_build", "run_show"]

#: The optional history files: option, MarketState.from_history's argument, its columns.
_EXTRA_INPUTS = (
    ("--vix-futures", "vix_futures", "date, vx1 (front future), optionally vx2"),
    ("--breadth", "breadth", "date, advances, declines (or date, line)"),
    ("--macro", "macro", "date and any of cpi_yoy, ppi_yoy (decimals), fomc_tone"),
    ("--rate-differential", "rates", "date, differential (percentage points)"),
    ("--skew", "skew", "date, skew"),
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh state build`` and ``alvh state show`` to ``commands``."""
    parser = commands.add_parser(
        "state", help="build or show the day's state file (the policy's diagnostics)"
    )
    actions = parser.add_subparsers(dest="state_command", required=True)
    build = actions.add_parser(
        "build",
        help="compute a state file for a date from SPX/VIX (and other) histories",
        description="Compute the layer policy's diagnostics on --date from the histories "
        "(MarketState.from_history: MACD, VIX RSI, implied - realized, term structure, "
        "breadth, macro, rate differential, skew) and write the state TOML for alvh decide.",
    )
    build.add_argument("--date", required=True, help="the state's date, YYYY-MM-DD")
    add_history_options(build)
    for option, _arg, columns in _EXTRA_INPUTS:
        build.add_argument(option, default=None, metavar="CSV", help=f"CSV with {columns}")
    build.add_argument(
        "--policy", default="early", help="whose rules (thresholds, windows): early, patient or a policy TOML"
    )
    build.add_argument("--out", required=True, help="state TOML to write (replaced whole)")
    build.set_defaults(func=run_build)
    show = actions.add_parser("show", help="print a state file's diagnostics")
    show.add_argument("state", help="state TOML (docs/state_format.md)")
    show.set_defaults(func=run_show)


def _read_extra(option: str, path: str) -> Any:
    """A history CSV (dates parsed), with the CLI's message for a missing file."""
    import polars as pl

    if not Path(path).is_file():
        raise CliError(f"{option} file {path!r} does not exist (or is not a file)")
    try:
        frame = pl.read_csv(path, try_parse_dates=True)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise CliError(f"{option} {path!r}: not a readable CSV ({exc})") from exc
    if "date" not in frame.columns or frame.schema["date"] != pl.Date:
        raise CliError(f"{option} {path!r}: needs a 'date' column of YYYY-MM-DD dates; has {frame.columns}")
    return frame


def run_build(args: argparse.Namespace, console: Console) -> None:
    """Build the state, write it, print its diagnostics."""
    from alvh.policy.state import MarketState

    day = parse_date("--date", args.date)
    out = Path(args.out)
    if out.suffix.lower() != ".toml":
        raise CliError(f"--out must name a .toml file (a state file); got {args.out!r}")
    if not out.parent.is_dir():
        raise CliError(f"--out {args.out!r}: directory {str(out.parent)!r} does not exist")
    spx, vix, _rates, sample = load_history(args)
    policy = policy_by_name(args.policy)
    inputs: dict[str, Any] = {}
    if sample is not None:  # --sample: its breadth proxy, core CPI and term spread
        inputs.update(breadth=sample.breadth, breadth_source=sample.breadth_source)
        inputs.update(macro=sample.macro, rates=sample.rates)
    for option, arg, _columns in _EXTRA_INPUTS:
        path = getattr(args, option.lstrip("-").replace("-", "_"))
        if path is not None:
            inputs[arg] = _read_extra(option, path)
            if arg == "breadth":
                inputs["breadth_source"] = None
    assert day is not None  # --date is required
    # The diagnostics read the SPX close only (realized vol is close-to-close); the
    # bundled sample's OHLC has bars whose close is above the high (row 752), which
    # from_history would refuse though no diagnostic reads them.
    state = MarketState.from_history(
        day, spx=spx.select("date", "close"), vix=vix, rules=policy.rules, **inputs
    )
    state.to_toml(out)
    console.print(_state_table(state, title=f"State of {args.date} ({policy.name}'s rules)"))
    console.print(f"state written to {escape(str(out))}", highlight=False)


def run_show(args: argparse.Namespace, console: Console) -> None:
    """Print a state file."""
    from alvh.policy.state import MarketState

    if not Path(args.state).is_file():
        raise CliError(f"state file {args.state!r} does not exist (or is not a file)")
    state = MarketState.from_toml(args.state)
    console.print(_state_table(state, title=f"State of {state.date.isoformat()} ({escape(args.state)})"))


def _state_table(state: Any, *, title: str) -> Table:
    """One row per diagnostic: its value, or why it is missing."""
    table = Table(title=title)
    table.add_column("diagnostic")
    table.add_column("value", justify="right")
    data = state.to_dict()
    for key, value in data.items():
        if key in ("date", "missing") or value is None or value == {}:
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.4g}"
        table.add_row(key, escape(str(value)))
    if state.missing:
        table.caption = "missing (their rules are skipped): " + "; ".join(state.missing)
    return table
