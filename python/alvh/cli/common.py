"""What several ``alvh`` commands share: the console, the CLI's error, the option helpers
(position and market files, the ``--days`` horizon check, the SPX/VIX history options,
policies by name, dates and VIX ranges, ``--out`` checks), the progress bar and the
metric cell format.

Heavy imports (polars, the backtesting modules, ``rich.progress``) stay inside the
helpers that need them, so ``alvh --help`` and ``alvh greeks`` do not pay for them.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

import alvh

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = [
    "CliError",
    "add_chain_options",
    "add_history_options",
    "add_projection_options",
    "check_horizon",
    "check_projection_args",
    "check_out_dir",
    "check_out_parent",
    "chain_market",
    "fit_table",
    "load_book",
    "load_history",
    "make_console",
    "metric_cell",
    "parse_date",
    "parse_vix_starts",
    "policy_by_name",
    "progress_bar",
]


class CliError(Exception):
    """A user mistake on the command line: the message is printed, the exit code is 2."""


#: Cells wider than this are prose: `fit_table` lets them wrap instead of pinning the
#: column to their width.
PROSE_WIDTH = 32

#: The width of output that goes to a pipe or a file (rich would assume 80 columns):
#: wide enough for every table, so a saved report is never cut.
PIPE_WIDTH = 200


class FittingConsole(Console):
    """A console whose tables fit its width: every `rich.table.Table` printed through
    it goes through `fit_table` first, so a number is never cut to "-22,0…"."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        fitted = [fit_table(o, self.width) if isinstance(o, Table) else o for o in objects]
        if any(isinstance(o, Table) and (o.min_width or 0) > self.width for o in fitted):
            kwargs.setdefault("crop", False)  # wider than the terminal: let it wrap, never cut
        super().print(*fitted, **kwargs)


def make_console() -> Console:
    """The console every command prints to: the terminal's width on a terminal (tables
    fitted to it, `fit_table`), `PIPE_WIDTH` columns into a pipe or a file."""
    probe = Console()
    return FittingConsole(width=probe.width if probe.is_terminal else max(probe.width, PIPE_WIDTH))


def _cell_width(cell: Any) -> int:
    """The widest line of a cell (markup rendered), in terminal columns."""
    text = Text.from_markup(cell) if isinstance(cell, str) else cell
    if not isinstance(text, Text):
        return 0  # a renderable (nested table, ...): rich measures it itself
    return max((line.cell_len for line in text.split("\n")), default=0)


def fit_table(table: Table, width: int) -> Table:
    """``table`` made to fit ``width`` columns without cutting a cell: each column's
    minimum width is its widest cell up to `PROSE_WIDTH` (headers and prose wrap,
    numbers do not), and a table
    still too wide drops its vertical rules and outer padding (`rich.box.SIMPLE_HEAD`).
    rich, left alone, shrinks every column of a too-wide table and ends cells with
    "…" (issue 18: "-22,0…" for -22,031 in an 80-column pipe). A table whose cells
    alone exceed ``width`` is printed as wide as it needs: wider than the terminal
    (lines wrap) rather than with a wrong number."""
    from rich import box
    from rich.measure import Measurement

    for column in table.columns:
        widest = max((_cell_width(c) for c in column.cells), default=0)
        # Numbers and labels keep their width; prose (a note, a rationale) wraps.
        column.min_width = max(column.min_width or 0, min(widest, PROSE_WIDTH))
        column.overflow = "fold"
    probe = Console(width=10_000)
    if Measurement.get(probe, probe.options, table).maximum > width:
        table.box = box.SIMPLE_HEAD
        table.pad_edge = False
        table.collapse_padding = True
    need = Measurement.get(probe, probe.options, table).minimum
    if need > width:
        table.width = None
        table.min_width = need
    return table


def progress_bar(console: Console, unit: str) -> Progress:
    """A bar ``description ━━━ done/total <unit> elapsed`` on ``console``."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn(f"{{task.completed}}/{{task.total}} {unit}"),
        TimeElapsedColumn(),
        console=console,
    )


def metric_cell(value: float, kind: str) -> str:
    """A performance metric as a table cell: ``signed`` and ``pct`` are fractions shown in
    %, ``money`` and ``int`` whole numbers with thousands separators, anything else a ratio
    (Sharpe, Sortino) to two decimals."""
    if kind == "signed":
        return f"{100 * value:+.1f}%"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind in ("money", "int"):
        return f"{value:,.0f}"
    return f"{value:+.2f}"


def load_book(args: argparse.Namespace) -> tuple[alvh.Position, alvh.Market]:
    """The position and market files, with a plain message for a missing or unreadable one."""
    for label, path in (("position", args.position), ("market", args.market)):
        if not Path(path).is_file():
            raise CliError(f"{label} file {path!r} does not exist (or is not a file)")
    try:
        position = alvh.Position.from_toml(args.position)
        market = alvh.Market.from_toml(args.market)
    except OSError as exc:
        raise CliError(f"cannot read {exc.filename!r}: {exc.strerror}") from exc
    return position, market


def check_horizon(market: alvh.Market, days: Sequence[int]) -> None:
    """A listed VIX futures curve must reach the grid's last day (`Market.bump` drops
    expired futures and refuses an empty curve): say so up front, with the fix."""
    futures = market.futures
    if not futures.is_explicit or not days:
        return
    horizon = market.as_of + timedelta(days=max(days))
    last = futures.expiries[-1]
    if last < horizon:
        reach = (last - market.as_of).days
        raise CliError(
            f"the market's listed VIX futures end on {last.isoformat()}, before the grid's "
            f"last day {horizon.isoformat()} (as_of {market.as_of.isoformat()} + {max(days)} "
            f"days): add later expiries to [vix_futures] in the market file, or use "
            f"--days up to {max(reach, 0)}"
        )


#: The first bytes of each kind of file an ``--out`` may replace.
_MAGIC = {".png": b"\x89PNG\r\n\x1a\n"}


def check_out_parent(out: str, suffix: str | None = None) -> None:
    """``--out`` names a file: its directory must exist; with ``suffix`` (".png", ".csv")
    its name must end so, and an existing file there must be one of that kind (a PNG's
    signature, a CSV's text): ``--out examples/condor.toml`` is refused, not overwritten."""
    path = Path(out)
    out_dir = path.parent
    if not out_dir.is_dir():
        raise CliError(f"--out {out!r}: directory {str(out_dir)!r} does not exist")
    if suffix is None:
        return
    if path.suffix.lower() != suffix:
        raise CliError(f"--out {out!r} must name a {suffix} file")
    if path.is_dir():
        raise CliError(f"--out {out!r} is a directory")
    if path.exists():
        with open(path, "rb") as handle:
            head = handle.read(8)
        magic = _MAGIC.get(suffix)
        ok = head.startswith(magic) if magic is not None else b"\x00" not in head
        if head and not ok:
            raise CliError(f"--out {out!r} exists and is not a {suffix} file: refusing to overwrite it")


def check_out_dir(out: str) -> Path:
    """``--out`` names a directory: it may be missing (it is created), not a file."""
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out {out!r} exists and is not a directory")
    return out_dir


def add_history_options(parser: argparse.ArgumentParser) -> None:
    """``--spx``, ``--vix``, ``--cboe``, ``--rates``, ``--carry-rates`` and ``--sample``:
    the history ``load_history`` reads."""
    parser.add_argument("--spx", default=None, help="SPX daily OHLC (CSV or Parquet, docs/data_format.md)")
    parser.add_argument("--vix", default=None, help="VIX daily closes (CSV or Parquet)")
    parser.add_argument("--cboe", action="store_true", help="--vix is Cboe's VIX_History.csv")
    parser.add_argument(
        "--rates",
        default=None,
        help="daily risk-free rates, percent (CSV or Parquet with date, rate); default with "
        "--sample: the 3-month bill; otherwise a constant 2 %%",
    )
    parser.add_argument(
        "--carry-rates",
        action="store_true",
        help="carry the last rate over days after the rate series ends (refused otherwise)",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="the bundled sample: S&P 500 and VIX 2000-2022 and the 3-month bill",
    )


def load_history(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    """The SPX and VIX histories of ``--sample`` or ``--spx``/``--vix`` (``--cboe``), the
    rate series (``--rates``, the sample's 3-month bill with ``--sample``, or None for the
    constant default rate), and the diagnostics' inputs (the sample's breadth proxy, core
    CPI and term spread with ``--sample``; None otherwise)."""
    from alvh.backtesting.data import load_rates, sample_data
    from alvh.backtesting.inputs import sample_inputs

    rates = None
    if getattr(args, "rates", None) is not None:
        if not Path(args.rates).is_file():
            raise CliError(f"--rates file {args.rates!r} does not exist (or is not a file)")
        rates = load_rates(args.rates)
    if args.sample:
        data = sample_data()
        rates = data.rates if rates is None else rates
        return data.spx, data.vix.select("date", "close"), rates, sample_inputs(data)
    if args.spx is None or args.vix is None:
        raise CliError("give --spx and --vix history files (CSV or Parquet), or --sample")
    from alvh.backtesting.data import load_cboe_vix, load_ohlc

    for label, path in (("--spx", args.spx), ("--vix", args.vix)):
        if not Path(path).is_file():
            raise CliError(f"{label} file {path!r} does not exist (or is not a file)")
    spx = load_ohlc(args.spx)
    vix = load_cboe_vix(args.vix) if args.cboe else load_ohlc(args.vix, columns=("close",))
    return spx, vix.select("date", "close"), rates, None


def replay_rates(
    args: argparse.Namespace, spx: Any, vix: Any, rates: Any, start: Any = None, end: Any = None
) -> Any:
    """Each replay day's rate (`alvh.backtesting.data.rates_for`), or None without a rate
    series; ``--carry-rates`` carries the last rate past the series' end."""
    if rates is None:
        return None
    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.data import rates_for

    days = replay_days(spx, vix, start=start, end=end)
    return rates_for(days, rates, carry_forward=bool(getattr(args, "carry_rates", False)))


def policy_by_name(name: str, *, reference_ok: bool = False) -> Any:
    """A preset (early, patient) or a policy TOML file; with ``reference_ok`` (backtests)
    also ``vxth`` or a ``kind = "vxth"`` file (the Cboe VIX Tail Hedge rule,
    `alvh.backtesting.reference.Vxth`), which is not a layer policy."""
    from alvh.backtesting.reference import Vxth
    from alvh.policy.config import Policy

    def reference(rule: Vxth) -> Vxth:
        if not reference_ok:
            raise CliError(f"--policy {name!r} is the VXTH reference rule: it backtests, it does not decide")
        return rule

    if name in ("early", "patient"):
        return Policy.preset(name)
    if name == "vxth":
        return reference(Vxth())
    if Path(name).is_file():
        from alvh._core import toml

        _, document = toml.load(Path(name))
        if document.get("kind") == "vxth":
            return reference(Vxth.from_toml(name))
        return Policy.from_toml(name)
    raise CliError(f"--policy {name!r} is neither a preset (early, patient, vxth) nor a file")


def parse_vix_starts(option: str, text: str) -> list[float]:
    """``LOW:HIGH`` (whole VIX points, both included, step 1) or a comma list of numbers."""
    shape = "a range LOW:HIGH of whole VIX points (15:21) or a comma list of numbers (15,17.5)"
    try:
        if ":" in text:
            low, high = (int(part) for part in text.split(":"))
            if high < low:
                raise CliError(f"{option} {text!r}: the range ends below its start ({high} < {low})")
            values = [float(v) for v in range(low, high + 1)]
        else:
            values = [float(part) for part in text.split(",")]
    except ValueError:
        raise CliError(f"{option} {text!r} is not {shape}") from None
    if not all(math.isfinite(v) and 0.0 < v < 200.0 for v in values):
        raise CliError(f"{option} {text!r}: VIX levels must be between 0 and 200")
    return values


def parse_date(option: str, text: str | None) -> date | None:
    """An optional ``YYYY-MM-DD`` option value."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


# --------------------------------------------------------------------------- your chain


def add_projection_options(parser: argparse.ArgumentParser, *, paths: int, days_help: str) -> None:
    """The projection's options (``--days``, ``--paths``, ``--scenarios``, ``--seed``,
    ``--dynamics``) of ``alvh project`` and ``alvh dashboard``; `check_projection_args`
    checks them."""
    parser.add_argument("--days", type=int, default=10, help=days_help)
    parser.add_argument("--paths", type=int, default=paths, help="projection paths per scenario")
    parser.add_argument(
        "--scenarios",
        default="gdp_x_earnings",
        help="gdp, earnings, gdp_x_earnings, or a scenario TOML file (docs/scenarios.md)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dynamics", default="sticky_moneyness", choices=["sticky_moneyness", "sticky_strike", "parallel"]
    )


def check_projection_args(args: argparse.Namespace) -> None:
    """``--days`` within the projection's 5-10 and ``--paths`` at least 1."""
    if not 5 <= args.days <= 10:
        raise CliError(f"--days must be between 5 and 10 (the projection horizon); got {args.days}")
    if args.paths < 1:
        raise CliError(f"--paths must be at least 1; got {args.paths}")


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """``--chain``, ``--chain-columns`` and ``--smile``: the market's smile fitted to the
    trader's own option chain before the command runs (`chain_market`)."""
    parser.add_argument(
        "--chain",
        default=None,
        metavar="CSV",
        help="SPX option chain (expiry, strike, type, bid, ask) to fit the market's smile "
        "to first; prints the book's legs against its quotes (docs/chain_format.md)",
    )
    parser.add_argument(
        "--chain-columns",
        default=None,
        metavar="MAP",
        help="a broker export's column map: a profile TOML, or 'expiry=Expiration Date,"
        "strike=Strike,type=Call/Put,bid=Bid,ask=Ask,date_format=MM/DD/YYYY' "
        "(docs/chain_format.md)",
    )
    parser.add_argument(
        "--smile",
        default="ssvi",
        choices=["ssvi", "svi"],
        help="the smile --chain fits: the SSVI surface's rho, eta, gamma (default, "
        "alvh.fit_ssvi; its ATM level stays solved from the VIX) or one SVI slice per "
        "expiry (alvh.fit_svi; refused if a slice has static arbitrage)",
    )


def _chain_profile(spec: str | None) -> Any:
    """``--chain-columns``: a profile TOML file, or an inline ``key=header,...`` map."""
    from alvh.market.chain import ChainProfile

    if spec is None:
        return None
    if spec.lower().endswith(".toml"):
        if not Path(spec).is_file():
            raise CliError(f"--chain-columns {spec!r}: no such profile file")
        return ChainProfile.from_toml(spec)
    return ChainProfile.parse(spec)


def chain_market(
    args: argparse.Namespace, market: alvh.Market, console: Console, position: alvh.Position | None = None
) -> alvh.Market:
    """``market`` with its smile fitted to ``--chain`` (read through ``--chain-columns``),
    the fit summarised; with ``position``, its legs' model prices against the chain's
    quotes (`alvh.book.quotes.legs_vs_quotes`), legs off by more than the spread flagged.
    Without ``--chain``, ``market`` itself."""
    from alvh.market.chain import load_chain
    from alvh.market.fit import fit_ssvi, fit_svi

    if args.chain is None:
        if args.chain_columns is not None:
            raise CliError("--chain-columns maps the columns of a --chain file: give --chain too")
        return market
    if not Path(args.chain).is_file():
        raise CliError(f"chain file {args.chain!r} does not exist (or is not a file)")
    chain = load_chain(args.chain, profile=_chain_profile(args.chain_columns))
    if args.smile == "svi":
        result = fit_svi(chain, market)
        _print_svi_fit(args.chain, result, console)
        fitted = result.market
    else:
        fit = fit_ssvi(chain, market)
        model = fit.model
        console.print(
            f"SSVI fitted to {escape(args.chain)}: {fit.rows_used} of "
            f"{fit.rows_used + fit.rows_excluded} quotes, RMSE {fit.rmse:.2f} vol points; rho "
            f"{model.rho:+.4f}, eta {model.eta:.4f}, gamma {model.gamma:.4f} (atm_vix_ratio "
            f"{model.atm_vix_ratio:.4f}, solved from VIX {market.vix:g})",
            highlight=False,
        )
        fitted = fit.market
    if position is not None:
        console.print(legs_vs_chain_table(position, market, fitted, chain, args.chain))
    return fitted


def _print_svi_fit(path: str, result: Any, console: Console) -> None:
    """The SVI fit's summary and its skipped expiries (a fit with arbitrage was refused)."""
    console.print(
        f"SVI fitted to {escape(path)}: {result.rows_used} of "
        f"{result.rows_used + result.rows_excluded} quotes, {len(result.slices)} "
        f"slice{'' if len(result.slices) == 1 else 's'}, RMSE {result.rmse:.2f} vol points",
        highlight=False,
    )
    for expiry, why in result.skipped.items():
        console.print(f"  {expiry.isoformat()} skipped: {why}", highlight=False)


def legs_vs_chain_table(
    position: alvh.Position, before: alvh.Market, fitted: alvh.Market, chain: Any, name: str
) -> Table:
    """The book's legs: the chain's bid / ask / mid, the model before the fit (the market
    file's smile) and after it, each gap to the mid red when wider than the spread, and
    the check of the fitted model (what the command goes on to use)."""
    from alvh.book.quotes import legs_vs_quotes

    after = legs_vs_quotes(position, fitted, chain)
    model_before = legs_vs_quotes(position, before, chain)["model"].to_list()
    table = Table(title=f"Your legs against {escape(name)}: model vs mid (index points)")
    for column in (
        "leg",
        "qty",
        "bid",
        "ask",
        "mid",
        "model (file)",
        "file - mid",
        "model (fitted)",
        "fitted - mid",
        "check",
    ):
        table.add_column(column, justify="left" if column in ("leg", "check") else "right")

    def number(x: float | None) -> str:
        return "-" if x is None else f"{x:,.2f}"

    def gap(model: float, row: dict[str, Any]) -> str:
        if row["mid"] is None:
            return "-"
        off = abs(model - row["mid"]) > row["spread"]
        return f"[{'red' if off else 'green'}]{model - row['mid']:+,.2f}[/]"

    flagged = 0
    for row, before_price in zip(after.iter_rows(named=True), model_before):
        what = f"{row['type'].replace('_option', '').upper()} {row['expiry']:%d%b%y}".upper()
        if row["strike"] is not None:
            what += f" {row['strike']:g} {row['right'][0].upper()}"
        off = row["off_by_more_than_spread"]
        flagged += bool(off)
        check = "not in the chain" if off is None else ("[red]OFF > spread[/]" if off else "[green]inside[/]")
        table.add_row(
            what,
            f"{row['quantity']:+d}",
            number(row["bid"]),
            number(row["ask"]),
            number(row["mid"]),
            number(before_price),
            gap(before_price, row),
            number(row["model"]),
            gap(row["model"], row),
            check,
        )
    table.caption = (
        f"{flagged} leg{'s' if flagged != 1 else ''} priced off the mid by more than the bid-ask spread"
        if flagged
        else "every quoted leg priced within its bid-ask spread"
    )
    return table
