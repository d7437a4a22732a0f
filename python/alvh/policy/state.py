"""`MarketState`: every diagnostic of the layer policy for one day (DESIGN.md "The layer
policy"), built from history frames with `alvh.policy.indicators` and the thresholds of
`alvh.policy.config.Rules`, or read from a state TOML file (the CLI's ``--state``).

**No look-ahead.** `MarketState.from_history` uses only rows dated on or before the
state's date: changing any later row changes nothing (the date columns themselves are
still checked whole). The date must be a row of ``spx`` and of ``vix``; a date that is not
an SPX trading day is an error naming the last SPX date before it, rather than a silent
step back (a decision dated on a holiday would be a decision on stale closes).

**Missing inputs.** Every optional input may be left out, and any diagnostic may lack the
history it needs; that diagnostic is then None (its rule is skipped) and ``missing`` says
why, one ``"name: reason"`` entry each (``"vix_futures: not given"``, ``"macd_hist: 20 rows
of SPX history, 34 needed"``). Market series (futures, breadth, skew, correlation series)
must have a row on the date itself, or they count as missing: a stale quote is not
evidence. Rows whose value columns are null or NaN are dropped (no observation that day,
as FRED's holiday rows). Macro series (CPI/PPI, FOMC tone) and custom series are step
functions: the latest non-null value on or before the date, unless it is older than
``rules.macro_max_age`` days (then stale: missing).

Windows: MACD(12, 26, 9) of the SPX close and its expanding flag over
``rules.macd_expanding_days``; RSI(14) of the VIX close; A/D divergence and breadth bid
over ``rules.breadth_window``; realized vol close-to-close over 20 days; skew z-score over
60 days (`alvh.policy.indicators.vix.DEFAULT_SKEW_WINDOW`); correlations of daily log returns
with the SPX's over 20 days, tightening = a rise of more than 0.2 over 10 days
(`alvh.policy.indicators.correlation` defaults).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

import polars as pl

from alvh._core import toml
from alvh._core.checks import input_error
from alvh._core.io import atomic_write
from alvh.errors import InputTypeError, InvalidInputError
from alvh.policy.config import Rules
from alvh.policy.indicators import breadth as _breadth
from alvh.policy.indicators import checks
from alvh.policy.indicators import correlation as _correlation
from alvh.policy.indicators import trend as _trend
from alvh.policy.indicators import vix as _vix
from alvh.policy.indicators import volatility as _volatility

__all__ = ["FOMC_TONES", "FORMAT_VERSION", "REALIZED_ESTIMATORS", "MarketState", "history_until"]

#: The TOML format version `MarketState.to_toml` writes and `from_toml` reads.
FORMAT_VERSION = 1

#: MACD periods (DESIGN.md: MACD(12, 26, 9)).
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
#: Rows of history before the first MACD value (TA-Lib's alignment: slow + signal - 1).
MACD_ROWS = MACD_SLOW + MACD_SIGNAL - 1
#: RSI period of the VIX (DESIGN.md: RSI(14)).
RSI_PERIOD = 14
#: Window of the realized vol in implied-minus-realized, trading days.
REALIZED_WINDOW = 20
#: Window of the skew z-score, trading days.
SKEW_WINDOW = _vix.DEFAULT_SKEW_WINDOW
#: Correlation window, tightening lookback and threshold.
CORRELATION_WINDOW = 20
CORRELATION_LOOKBACK = _correlation.DEFAULT_LOOKBACK
CORRELATION_THRESHOLD = _correlation.DEFAULT_THRESHOLD
#: The FOMC tones a macro frame may hold.
FOMC_TONES = ("hawkish", "steady", "dovish")

#: The realized-vol estimators ``implied_minus_realized`` can say it used (one for now:
#: close-to-close, whether or not the history has OHLC; see `MarketState`).
REALIZED_ESTIMATORS = ("close_to_close",)
#: The columns a macro frame may hold besides ``date``.
MACRO_COLUMNS = ("cpi_yoy", "ppi_yoy", "fomc_tone")
#: Directions of a custom series' threshold.
DIRECTIONS = ("above", "below")

#: The ranges of the scalar diagnostics that have one: (low, high, low inclusive).
_RANGES = {
    "vix_rsi": (0.0, 100.0, True),  # an RSI is 0..100
    "vix_vx1": (0.0, math.inf, False),  # ratios of positive prices
    "vx1_vx2": (0.0, math.inf, False),
    "cpi_yoy": (-1.0, math.inf, False),  # prices cannot fall 100 % in a year
    "ppi_yoy": (-1.0, math.inf, False),
}

#: Optional scalar diagnostics, in field order (what the TOML holds at top level).
_FLOAT_FIELDS = (
    "macd_hist",
    "vix_rsi",
    "vix_vx1",
    "vx1_vx2",
    "implied_minus_realized",
    "skew_z",
    "cpi_yoy",
    "ppi_yoy",
    "rate_differential",
    "rate_differential_change",
)
_BOOL_FIELDS = (
    "macd_expanding",
    "ad_divergence",
    "breadth_bid",
    "backwardation",
    "skew_steepening",
    "rate_differential_stable",
)


@dataclass(frozen=True)
class MarketState:
    """Every diagnostic for one day; see the module doc. Each diagnostic is its value, or
    None when its input is missing (then its rule is skipped and ``missing`` says why).

    - ``vix``, ``spx``: the closes that day (VIX points, index points).
    - ``macd_hist``: SPX MACD(12, 26, 9) histogram (index points); ``macd_expanding``:
      ``|hist|`` rose on each of the last ``rules.macd_expanding_days`` days.
    - ``ad_divergence``: the SPX at a ``rules.breadth_window``-day high while the A/D line
      is below its own; ``breadth_bid``: the A/D line at its ``breadth_window``-day high.
      ``breadth_source`` says what the line was: ``"advances/declines"`` or the label of a
      breadth line given directly (a proxy such as `alvh.policy.indicators.breadth.proxy_line`
      of broad indices against the S&P 500).
    - ``rate_differential`` (percentage points): the latest interest-rate differential
      (a user's, e.g. US minus foreign 2-year, or the US curve's 10-year minus 3-month as
      the backtest's proxy); ``rate_differential_change``: its change over
      ``rules.rate_window`` rows; ``rate_differential_stable``: ``|change| <=
      rules.rate_stability``.
    - ``vix_rsi``: Wilder RSI(14) of the VIX (0..100).
    - ``vix_vx1`` = VIX / front future, ``vx1_vx2`` = front / second future;
      ``backwardation``: ``vix_vx1 > 1`` (``vx1_vx2 > 1`` when ``vix_vx1`` is missing).
    - ``implied_minus_realized``: ``vix / 100`` minus the SPX close-to-close realized vol
      over 20 days (decimal; 0.04 = 4 vol points). Close-to-close even when OHLC is given:
      it is the spread's usual definition, and cash-index opens are often stale (in the
      arch S&P 500 data 40 % of opens equal the previous close), which biases the
      range-based estimators' overnight terms. ``realized_estimator`` says which
      estimator the spread used (`REALIZED_ESTIMATORS`; None when it is missing).
    - ``skew_z``: 60-day z-score of the skew series; ``skew_steepening``:
      ``skew_z > rules.skew_z_threshold``.
    - ``correlations``: name -> 20-day correlation of the series' log returns with the
      SPX's; ``correlation_tightening``: name -> it rose by more than 0.2 over 10 days.
    - ``cpi_yoy``, ``ppi_yoy`` (decimals, 0.032 = 3.2 %), ``fomc_tone`` (`FOMC_TONES`):
      the latest readings known on ``date``.
    - ``custom``: name -> ``(value, threshold, fired)``.
    - ``missing``: ``"name: reason"`` per input not given or diagnostic not computed;
      ``name`` is the input's argument (``vix_futures``) or the diagnostic's field
      (``macd_hist``, ``correlations[REIT]``); `missing_names` lists the names alone.
    """

    date: dt.date
    vix: float
    spx: float
    macd_hist: float | None = None
    macd_expanding: bool | None = None
    ad_divergence: bool | None = None
    breadth_bid: bool | None = None
    vix_rsi: float | None = None
    vix_vx1: float | None = None
    vx1_vx2: float | None = None
    backwardation: bool | None = None
    implied_minus_realized: float | None = None
    realized_estimator: str | None = None
    skew_z: float | None = None
    skew_steepening: bool | None = None
    breadth_source: str | None = None
    rate_differential: float | None = None
    rate_differential_change: float | None = None
    rate_differential_stable: bool | None = None
    correlations: Mapping[str, float] = field(default_factory=dict)
    correlation_tightening: Mapping[str, bool] = field(default_factory=dict)
    cpi_yoy: float | None = None
    ppi_yoy: float | None = None
    fomc_tone: str | None = None
    custom: Mapping[str, tuple[float, float, bool]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise InputTypeError(f"date must be a datetime.date, got {self.date!r}")
        for name in ("vix", "spx"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputTypeError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise _invalid(name, f"{name} must be a finite close > 0; got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _invalid(name, f"{name} must be a finite number or None; got {value!r}")
            low, high, closed = _RANGES.get(name, (-math.inf, math.inf, True))
            if not ((value >= low if closed else value > low) and value <= high):
                side = "[" if closed else "("
                raise _invalid(name, f"{name} must be in {side}{low:g}, {high:g}]; got {value!r}")
        if self.realized_estimator is not None and self.realized_estimator not in REALIZED_ESTIMATORS:
            raise _invalid(
                "realized_estimator",
                f"realized_estimator must be one of {REALIZED_ESTIMATORS}; got {self.realized_estimator!r}",
            )
        if self.fomc_tone is not None and self.fomc_tone not in FOMC_TONES:
            raise _invalid("fomc_tone", f"fomc_tone must be one of {FOMC_TONES}; got {self.fomc_tone!r}")
        if self.breadth_source is not None and (
            not isinstance(self.breadth_source, str) or not self.breadth_source
        ):
            raise _invalid(
                "breadth_source", f"breadth_source must be a non-empty string; got {self.breadth_source!r}"
            )
        object.__setattr__(self, "correlations", dict(self.correlations))
        object.__setattr__(self, "correlation_tightening", dict(self.correlation_tightening))
        object.__setattr__(self, "custom", {k: tuple(v) for k, v in self.custom.items()})
        object.__setattr__(self, "missing", tuple(self.missing))

    @property
    def missing_names(self) -> tuple[str, ...]:
        """The names of the ``missing`` entries (the part before ``": "``)."""
        return tuple(entry.split(": ", 1)[0] for entry in self.missing)

    # ----------------------------------------------------------------- from history

    @classmethod
    def from_history(
        cls,
        date: dt.date,
        *,
        spx: pl.DataFrame,
        vix: pl.DataFrame,
        rules: Rules | None = None,
        vix_futures: pl.DataFrame | None = None,
        breadth: pl.DataFrame | None = None,
        breadth_source: str | None = None,
        macro: pl.DataFrame | None = None,
        rates: pl.DataFrame | None = None,
        skew: pl.DataFrame | None = None,
        correlations: Mapping[str, pl.DataFrame] | None = None,
        custom: Mapping[str, tuple[pl.DataFrame, float, str]] | None = None,
    ) -> MarketState:
        """The state on ``date`` from history frames, each with a ``date`` column of
        ``pl.Date``, strictly increasing:

        - ``spx``: ``close`` (``open``, ``high``, ``low`` optional, checked when given);
          ``vix``: ``close``. Both need a row on ``date``.
        - ``vix_futures``: ``vx1`` (front month) and optionally ``vx2``, in VIX points.
        - ``breadth``: ``advances``, ``declines`` (issue counts), or a ``line`` (a breadth
          line given directly, e.g. a proxy; ``breadth_source`` labels it, default
          ``"breadth line given"``).
        - ``rates``: ``differential`` (percentage points, e.g. 10-year minus 3-month
          Treasury); the latest row on or before the date counts (bond-market holidays).
        - ``macro``: any of ``cpi_yoy``, ``ppi_yoy`` (decimals), ``fomc_tone``
          (`FOMC_TONES`); nulls where a series has no new reading.
        - ``skew``: ``skew`` (rising as puts get dearer: the CBOE SKEW index, or 25-delta
          put vol minus ATM vol).
        - ``correlations``: name -> frame of ``close`` levels (a REIT index, a basket).
        - ``custom``: name -> ``(frame of value, threshold, "above" | "below")``: fired
          when the latest value is above (below) the threshold.

        ``rules``: the thresholds and windows (default `Rules()`). Bad frames raise
        `InvalidInputError` (or `InputTypeError`) naming the argument and the first bad
        row; too little history is not an error (see ``missing``).
        """
        return _Builder(date, rules).build(
            spx=spx,
            vix=vix,
            vix_futures=vix_futures,
            breadth=breadth,
            breadth_source=breadth_source,
            macro=macro,
            rates=rates,
            skew=skew,
            correlations=correlations,
            custom=custom,
        )

    # ----------------------------------------------------------------- plain data

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-compatible data: ``date`` an ISO string, None kept, ``custom``
        entries ``{"value", "threshold", "fired"}``, ``missing`` a list."""
        out: dict[str, Any] = {"date": self.date.isoformat(), "vix": self.vix, "spx": self.spx}
        for item in fields(self):
            if item.name in out:
                continue
            value = getattr(self, item.name)
            if item.name in ("correlations", "correlation_tightening"):
                value = dict(value)
            elif item.name == "custom":
                value = {name: {"value": v, "threshold": t, "fired": f} for name, (v, t, f) in value.items()}
            elif item.name == "missing":
                value = list(value)
            out[item.name] = value
        return out

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write the state as TOML (the CLI's ``--state`` file), replaced whole, never
        half-written. TOML has no null: a None diagnostic is left out."""
        import tomli_w

        data = self.to_dict()
        document: dict[str, Any] = {"format_version": FORMAT_VERSION, "date": self.date}
        for key, value in data.items():
            if key == "date" or value is None:
                continue
            if isinstance(value, dict) and not value:
                continue
            document[key] = value
        header = "# alvh market state: the layer policy's diagnostics for one day\n"
        atomic_write(Path(path), (header + tomli_w.dumps(document)).encode("utf-8"))

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> MarketState:
        """Read a state written by `to_toml` (or by hand). Only ``date``, ``vix`` and
        ``spx`` are required; an absent diagnostic is None, and when the file has no
        ``missing`` list each absent one is listed as ``"name: not in the state file"``.
        A malformed file, an unknown key or a bad value raises `InvalidInputError` (or
        `InputTypeError`) naming the file, the line and the field."""
        text, document = toml.load(path)
        return _StateReader(text).read(document)


# --------------------------------------------------------------------------- building


def _invalid(arg: str, message: str) -> InvalidInputError:
    return input_error(message, arg=arg)


def _value(frame: pl.DataFrame, expression: pl.Expr) -> Any:
    """The expression's value on the frame's last row (None when null or NaN)."""
    value = frame.select(expression.alias("value"))["value"][-1]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class _Builder:
    """Computes one day's diagnostics; collects the reasons of the missing ones."""

    def __init__(self, date: Any, rules: Rules | None) -> None:
        if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            raise InputTypeError(f"date must be a datetime.date, got {type(date).__name__} {date!r}")
        if rules is None:
            rules = Rules()
        if not isinstance(rules, Rules):
            raise InputTypeError(f"rules must be an alvh.policy.config.Rules, got {type(rules).__name__}")
        self.date = date
        self.rules = rules
        self.missing: list[str] = []
        self.values: dict[str, Any] = {}

    def skip(self, name: str, reason: str) -> None:
        self.missing.append(f"{name}: {reason}")

    # -- frames ----------------------------------------------------------------------

    def history(
        self,
        arg: str,
        data: Any,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        numeric: bool = True,
    ) -> pl.DataFrame:
        """``data`` checked (a DataFrame, pl.Date ``date`` strictly increasing, the
        columns present and numeric) and cut to the rows on or before the date."""
        if not isinstance(data, pl.DataFrame):
            raise InputTypeError(f"{arg} must be a polars DataFrame, got {type(data).__name__}")
        if "date" not in data.columns:
            raise _invalid(arg, f"{arg}: no 'date' column; columns: {data.columns}")
        dtype = data.schema["date"]
        if dtype != pl.Date:
            raise InputTypeError(
                f"{arg}: column 'date' must be pl.Date, got {dtype} "
                "(convert with pl.col('date').dt.date() or .cast(pl.Date))"
            )
        for name in required:
            if name not in data.columns:
                raise _invalid(arg, f"{arg}: column {name!r} is missing; columns: {data.columns}")
        if numeric:
            for name in required + optional:
                if name in data.columns:
                    kind = data.schema[name]
                    if not (kind.is_numeric() or kind == pl.Null):
                        raise InputTypeError(f"{arg}: column {name!r} must be numeric, got {kind}")
        try:
            checks.check_dates(data["date"], "date")
        except InvalidInputError as exc:
            raise _invalid(arg, f"{arg}: {exc}") from None
        past = data.filter(pl.col("date") <= self.date)
        if numeric and required:
            # A row without a value is not an observation (FRED's VIXCLS lists holidays
            # with no close); kept, it would null every indicator after it.
            values = [pl.col(name).cast(pl.Float64) for name in required]
            past = past.filter(~pl.any_horizontal([v.is_null() | v.is_nan() for v in values]))
        return past

    def on_date(self, arg: str, past: pl.DataFrame) -> bool:
        """True when ``past`` (cut at the date) ends on the date; else records why not."""
        if past.height == 0:
            self.skip(arg, f"no row on or before {self.date}")
            return False
        last = past["date"][-1]
        if last != self.date:
            self.skip(arg, f"no row on {self.date} (last row {last})")
            return False
        return True

    def positive(self, arg: str, past: pl.DataFrame, columns: tuple[str, ...]) -> None:
        try:
            checks.positive_prices(past, {name: name for name in columns if name in past.columns})
        except InvalidInputError as exc:
            raise _invalid(arg, f"{arg}: {exc}") from None

    # -- the diagnostics ---------------------------------------------------------------

    def build(
        self,
        *,
        spx: Any,
        vix: Any,
        vix_futures: Any,
        breadth: Any,
        breadth_source: Any,
        macro: Any,
        rates: Any,
        skew: Any,
        correlations: Any,
        custom: Any,
    ) -> MarketState:
        spx_past = self.history("spx", spx, ("close",), ("open", "high", "low"))
        vix_past = self.history("vix", vix, ("close",))
        for arg, past, frame in (("spx", spx_past, spx), ("vix", vix_past, vix)):
            if past.height == 0 or past["date"][-1] != self.date:
                if (frame["date"] == self.date).any():
                    raise _invalid(
                        arg,
                        f"{arg}: the close on {self.date} is missing (null or "
                        "NaN); a state needs that day's close",
                    )
                before = (
                    f"its last date on or before is {past['date'][-1]}"
                    if past.height
                    else f"it starts on {frame['date'][0]}"
                    if frame.height
                    else "it is empty"
                )
                raise _invalid(arg, f"{arg}: no row on {self.date} (not a trading day?); {before}")
        self.positive("spx", spx_past, ("open", "high", "low", "close"))
        ohlc = [name if name in spx_past.columns else None for name in ("open", "high", "low")]
        try:
            checks.ohlc_consistent(spx_past, ohlc[0], ohlc[1], ohlc[2], "close")
        except InvalidInputError as exc:
            raise _invalid("spx", f"spx: {exc}") from None
        self.positive("vix", vix_past, ("close",))
        spx_close, vix_close = spx_past["close"][-1], vix_past["close"][-1]
        self.values.update(vix=float(vix_close), spx=float(spx_close))

        self.trend(spx_past, vix_past)
        self.realized(spx_past, float(vix_close))
        self.term_structure(vix_futures, float(vix_close))
        self.breadth(breadth, spx_past, breadth_source)
        self.rates(rates)
        self.skew(skew)
        self.correlations(correlations, spx_past)
        self.macro(macro)
        self.custom(custom)
        return MarketState(date=self.date, missing=tuple(self.missing), **self.values)

    def computed(
        self, name: str, past: pl.DataFrame, expression: pl.Expr, rows: int, history: str, flat: bool = False
    ) -> Any:
        """The expression's value on the date, or None with the reason recorded."""
        if past.height < rows:
            self.skip(name, f"{past.height} rows of {history} history, {rows} needed")
            return None
        value = _value(past, expression)
        if value is None:
            why = "a null in the window" + (", or a flat series" if flat else "")
            self.skip(name, f"undefined on {self.date} ({why} of the {history} history)")
        return value

    def trend(self, spx: pl.DataFrame, vix: pl.DataFrame) -> None:
        # The histogram is materialized once: `expanding` reads it 2 (days + 1) times, and
        # Polars would evaluate the whole MACD for each (about 10x slower).
        hist = spx.select(
            _trend.macd_hist("close", fast=MACD_FAST, slow=MACD_SLOW, signal=MACD_SIGNAL).alias("hist")
        )
        days = self.rules.macd_expanding_days
        self.values["macd_hist"] = self.computed("macd_hist", hist, pl.col("hist"), MACD_ROWS, "SPX")
        self.values["macd_expanding"] = self.computed(
            "macd_expanding", hist, _trend.expanding("hist", days=days), MACD_ROWS + days, "SPX"
        )
        self.values["vix_rsi"] = self.computed(
            "vix_rsi", vix, _trend.rsi("close", period=RSI_PERIOD), RSI_PERIOD + 1, "VIX"
        )

    def realized(self, spx: pl.DataFrame, vix_close: float) -> None:
        realized = _volatility.close_to_close("close", window=REALIZED_WINDOW)
        spread = _volatility.implied_minus_realized(pl.lit(vix_close), realized)
        self.values["implied_minus_realized"] = self.computed(
            "implied_minus_realized", spx, spread, REALIZED_WINDOW + 1, "SPX"
        )
        if self.values["implied_minus_realized"] is not None:
            self.values["realized_estimator"] = "close_to_close"

    def term_structure(self, futures: Any, vix_close: float) -> None:
        names = ("vix_vx1", "vx1_vx2", "backwardation")
        if futures is None:
            self.skip("vix_futures", "not given")
            return
        past = self.history("vix_futures", futures, ("vx1",), ("vx2",))
        if not self.on_date("vix_futures", past):
            return
        self.positive("vix_futures", past.tail(1), ("vx1", "vx2"))
        row = past.tail(1)
        vix_vx1 = _value(row, _vix.term_ratio(pl.lit(vix_close), "vx1"))
        if vix_vx1 is None:
            self.skip("vix_vx1", f"vx1 is null on {self.date}")
        vx1_vx2 = None
        if "vx2" not in past.columns:
            self.skip("vx1_vx2", "vix_futures has no vx2 column")
        else:
            vx1_vx2 = _value(row, _vix.term_ratio("vx1", "vx2"))
            if vx1_vx2 is None:
                self.skip("vx1_vx2", f"vx1 or vx2 is null on {self.date}")
        ratio = vix_vx1 if vix_vx1 is not None else vx1_vx2
        flag = None if ratio is None else ratio > 1.0
        self.values.update(dict(zip(names, (vix_vx1, vx1_vx2, flag))))

    def breadth(self, breadth: Any, spx: pl.DataFrame, source: Any) -> None:
        if breadth is None:
            self.skip("breadth", "not given")
            return
        given_line = isinstance(breadth, pl.DataFrame) and "line" in breadth.columns
        if given_line:
            past = self.history("breadth", breadth, ("line",))
        else:
            past = self.history("breadth", breadth, ("advances", "declines"))
        if not self.on_date("breadth", past):
            return
        if given_line:
            if source is not None and (not isinstance(source, str) or not source):
                raise _invalid("breadth_source", f"breadth_source must be a non-empty string; got {source!r}")
            self.values["breadth_source"] = source or "breadth line given"
            line = past.select("date", pl.col("line").cast(pl.Float64).alias("ad"))
        else:
            counts = past.select("advances", "declines").cast(pl.Float64)
            negative = (counts["advances"] < 0) | (counts["declines"] < 0)
            if negative.fill_null(False).any():
                row = int(negative.fill_null(False).arg_true()[0])
                raise _invalid(
                    "breadth",
                    f"breadth: advances and declines are counts >= 0; row {row} "
                    f"({past['date'][row]}) has a negative one",
                )
            self.values["breadth_source"] = "advances/declines"
            # The A/D line runs over the breadth rows.
            line = past.select("date", _breadth.ad_line("advances", "declines").alias("ad"))
        # The divergence compares the line with the SPX on the dates both have.
        joined = line.join(spx.select("date", "close"), on="date", how="inner")
        window = self.rules.breadth_window
        self.values["ad_divergence"] = self.computed(
            "ad_divergence",
            joined,
            _breadth.ad_negative_divergence("close", "ad", window=window),
            window,
            "breadth (on SPX dates)",
        )
        self.values["breadth_bid"] = self.computed(
            "breadth_bid", line, _breadth.at_high("ad", window=window), window, "breadth"
        )

    def rates(self, rates: Any) -> None:
        if rates is None:
            self.skip("rates", "not given")
            return
        past = self.history("rates", rates, ("differential",))
        values = past.get_column("differential").cast(pl.Float64)
        known = past.filter(values.is_not_null() & values.is_not_nan())
        if known.height == 0:
            self.skip("rate_differential", f"no rates row on or before {self.date}")
            return
        window = self.rules.rate_window
        current = float(known["differential"][-1])
        self.values["rate_differential"] = current
        if known.height <= window:
            self.skip(
                "rate_differential_change", f"{known.height} rows of rates history, {window + 1} needed"
            )
            return
        change = current - float(known["differential"][-1 - window])
        self.values["rate_differential_change"] = change
        self.values["rate_differential_stable"] = abs(change) <= self.rules.rate_stability

    def skew(self, skew: Any) -> None:
        if skew is None:
            self.skip("skew", "not given")
            return
        past = self.history("skew", skew, ("skew",))
        if not self.on_date("skew", past):
            return
        score = self.computed(
            "skew_z", past, _vix.zscore("skew", window=SKEW_WINDOW), SKEW_WINDOW, "skew", flat=True
        )
        self.values["skew_z"] = score
        self.values["skew_steepening"] = None if score is None else score > self.rules.skew_z_threshold

    def correlations(self, series: Any, spx: pl.DataFrame) -> None:
        values: dict[str, float] = {}
        flags: dict[str, bool] = {}
        self.values.update(correlations=values, correlation_tightening=flags)
        if series is None:
            self.skip("correlations", "not given")
            return
        if not isinstance(series, Mapping):
            raise InputTypeError("correlations must be a mapping name -> DataFrame (date, close)")
        spx_returns = spx.select("date", pl.col("close").alias("spx"))
        for name, frame in series.items():
            arg = f"correlations[{name!r}]"
            label = f"correlations[{name}]"
            past = self.history(arg, frame, ("close",))
            self.positive(arg, past, ("close",))
            if not self.on_date(label, past):
                continue
            # Returns between consecutive dates both series have.
            joined = past.select("date", "close").join(spx_returns, on="date", how="inner")
            joined = joined.select(
                _correlation.rolling_correlation(
                    _correlation.log_returns("close"),
                    _correlation.log_returns("spx"),
                    window=CORRELATION_WINDOW,
                ).alias("corr")
            )
            corr = pl.col("corr")
            history = f"{name} on SPX dates"
            value = self.computed(label, joined, corr, CORRELATION_WINDOW + 1, history, flat=True)
            if value is None:
                continue
            values[name] = float(value)
            flag = self.computed(
                f"correlation_tightening[{name}]",
                joined,
                _correlation.tightening(corr, lookback=CORRELATION_LOOKBACK, threshold=CORRELATION_THRESHOLD),
                CORRELATION_WINDOW + CORRELATION_LOOKBACK + 1,
                history,
            )
            if flag is not None:
                flags[name] = bool(flag)

    def latest(self, arg: str, past: pl.DataFrame, column: str) -> tuple[Any, int] | None:
        """The last non-null value of ``column`` and its row, or None."""
        present = past[column].is_not_null()
        if isinstance(past.schema[column], (pl.Float32, pl.Float64)):
            present = present & past[column].is_not_nan()
        rows = present.arg_true()
        if len(rows) == 0:
            return None
        row = int(rows[-1])
        return past[column][row], row

    def macro(self, macro: Any) -> None:
        if macro is None:
            self.skip("macro", "not given")
            return
        if isinstance(macro, pl.DataFrame):
            unknown = [c for c in macro.columns if c != "date" and c not in MACRO_COLUMNS]
            if unknown:
                raise _invalid(
                    "macro", f"macro: unknown column {unknown[0]!r} (known: date, {', '.join(MACRO_COLUMNS)})"
                )
        past = self.history("macro", macro, (), ("cpi_yoy", "ppi_yoy"))
        if "fomc_tone" in past.columns and past.schema["fomc_tone"] not in (pl.String, pl.Null):
            raise InputTypeError(
                f"macro: column 'fomc_tone' must hold strings {FOMC_TONES}, got {past.schema['fomc_tone']}"
            )
        for column in MACRO_COLUMNS:
            if column not in past.columns:
                self.skip(column, "not in macro")
                continue
            found = self.latest("macro", past, column)
            if found is None:
                self.skip(column, f"no reading on or before {self.date}")
                continue
            value, row = found
            age = (self.date - past["date"][row]).days
            if age > self.rules.macro_max_age:
                self.skip(
                    column,
                    f"last reading {past['date'][row]} is {age} days old (more than "
                    f"rules.macro_max_age = {self.rules.macro_max_age})",
                )
                continue
            where = f"macro: {column} at row {row} ({past['date'][row]})"
            if column == "fomc_tone":
                if value not in FOMC_TONES:
                    raise _invalid("macro", f"{where} is {value!r}; known tones: {FOMC_TONES}")
            else:
                value = float(value)
                if not math.isfinite(value):
                    raise _invalid("macro", f"{where} is {value!r}, not a finite number")
                if abs(value) > 1.0:
                    raise _invalid(
                        "macro",
                        f"{where} is {value!r}: give year-on-year changes as decimals (0.032 for 3.2 %)",
                    )
            self.values[column] = value

    def custom(self, custom: Any) -> None:
        results: dict[str, tuple[float, float, bool]] = {}
        self.values["custom"] = results
        if custom is None:
            self.skip("custom", "not given")
            return
        if not isinstance(custom, Mapping):
            raise InputTypeError("custom must be a mapping name -> (frame, threshold, 'above' | 'below')")
        for name, spec in custom.items():
            arg = f"custom[{name!r}]"
            if not isinstance(spec, tuple) or len(spec) != 3:
                raise InputTypeError(f"{arg} must be a tuple (frame, threshold, 'above' | 'below')")
            frame, threshold, direction = spec
            threshold = checks.number(f"{arg} threshold", threshold)
            if direction not in DIRECTIONS:
                raise _invalid(arg, f"{arg}: direction must be 'above' or 'below', got {direction!r}")
            past = self.history(arg, frame, ("value",))
            found = self.latest(arg, past, "value")
            if found is None:
                self.skip(f"custom[{name}]", f"no value on or before {self.date}")
                continue
            value = float(found[0])
            if not math.isfinite(value):
                raise _invalid(arg, f"{arg}: value at row {found[1]} is {value!r}, not finite")
            fired = value > threshold if direction == "above" else value < threshold
            results[str(name)] = (value, threshold, fired)


def history_until(
    arg: str, data: Any, required: tuple[str, ...], date: dt.date, rules: Rules | None = None
) -> pl.DataFrame:
    """``data`` checked as `MarketState.from_history` checks an input frame (a
    DataFrame, a pl.Date ``date`` strictly increasing, the ``required`` columns present
    and numeric) and cut to the rows on or before ``date``; errors name ``arg``."""
    return _Builder(date, rules).history(arg, data, required)


# --------------------------------------------------------------------------- TOML reading


class _StateReader:
    """A parsed state TOML document -> `MarketState`, with errors naming the file, the
    line and the field (`alvh._core.toml`, as every format's reader)."""

    def __init__(self, text: toml.TomlText) -> None:
        self.text = text

    def error(self, section: str, key: str, problem: str) -> InvalidInputError:
        """``FILE:LINE: field SECTION.KEY: problem`` (`alvh._core.toml`)."""
        return self.text.error(f"{section}.{key}" if section else key, problem)

    def number(self, table: Mapping[str, Any], section: str, key: str) -> float:
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(section, key, f"must be a number, got {type(value).__name__} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise self.error(section, key, f"must be finite, got {value!r}")
        return value

    def flag(self, table: Mapping[str, Any], section: str, key: str) -> bool:
        value = table[key]
        if not isinstance(value, bool):
            raise self.error(section, key, f"must be true or false, got {type(value).__name__} {value!r}")
        return value

    def table(self, document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = document.get(key, {})
        if not isinstance(value, dict):
            raise self.error("", key, f"must be a table [{key}], got {type(value).__name__}")
        return value

    def read(self, document: Mapping[str, Any]) -> MarketState:
        top = {
            "format_version",
            "date",
            "vix",
            "spx",
            "fomc_tone",
            "realized_estimator",
            "breadth_source",
            "correlations",
            "correlation_tightening",
            "custom",
            "missing",
            *_FLOAT_FIELDS,
            *_BOOL_FIELDS,
        }
        for key in document:
            if key not in top:
                raise self.error("", key, f"unknown key (allowed: {', '.join(sorted(top))})")
        version = document.get("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise self.error(
                "", "format_version", f"unsupported version {version!r} (this alvh reads {FORMAT_VERSION})"
            )
        for key in ("date", "vix", "spx"):
            if key not in document:
                raise self.error("", key, "missing (required)")
        date = document["date"]
        if isinstance(date, dt.datetime) or not isinstance(date, dt.date):
            raise self.error(
                "",
                "date",
                f"must be a TOML date such as 2018-01-05 (unquoted), got {type(date).__name__} {date!r}",
            )
        values: dict[str, Any] = {"date": date}
        for key in ("vix", "spx"):
            values[key] = self.number(document, "", key)
            if values[key] <= 0:
                raise self.error("", key, f"must be a close > 0, got {values[key]!r}")
        absent: list[str] = []
        for key in _FLOAT_FIELDS:
            if key in document:
                values[key] = self.number(document, "", key)
            else:
                absent.append(key)
        for key in _BOOL_FIELDS:
            if key in document:
                values[key] = self.flag(document, "", key)
            else:
                absent.append(key)
        if "realized_estimator" in document:
            estimator = document["realized_estimator"]
            if estimator not in REALIZED_ESTIMATORS:
                raise self.error(
                    "",
                    "realized_estimator",
                    f"must be one of {', '.join(REALIZED_ESTIMATORS)}; got {estimator!r}",
                )
            values["realized_estimator"] = estimator
        if "breadth_source" in document:
            label = document["breadth_source"]
            if not isinstance(label, str) or not label:
                raise self.error("", "breadth_source", f"must be a non-empty string; got {label!r}")
            values["breadth_source"] = label
        if "fomc_tone" in document:
            tone = document["fomc_tone"]
            if tone not in FOMC_TONES:
                raise self.error("", "fomc_tone", f"must be one of {', '.join(FOMC_TONES)}; got {tone!r}")
            values["fomc_tone"] = tone
        else:
            absent.append("fomc_tone")
        correlations = self.table(document, "correlations")
        values["correlations"] = {}
        for name in correlations:
            corr = self.number(correlations, "correlations", name)
            if not -1.0 <= corr <= 1.0:
                raise self.error("correlations", name, f"must be in [-1, 1], got {corr!r}")
            values["correlations"][name] = corr
        tightening = self.table(document, "correlation_tightening")
        values["correlation_tightening"] = {
            name: self.flag(tightening, "correlation_tightening", name) for name in tightening
        }
        values["custom"] = {}
        custom = self.table(document, "custom")
        for name, entry in custom.items():
            section = f"custom.{name}"
            if not isinstance(entry, dict):
                raise self.error(
                    "custom", name, f"must be a table {{value, threshold, fired}}, got {type(entry).__name__}"
                )
            for key in ("value", "threshold", "fired"):
                if key not in entry:
                    raise self.error(section, key, "missing (required)")
            for key in entry:
                if key not in ("value", "threshold", "fired"):
                    raise self.error(section, key, "unknown key (allowed: fired, threshold, value)")
            values["custom"][name] = (
                self.number(entry, section, "value"),
                self.number(entry, section, "threshold"),
                self.flag(entry, section, "fired"),
            )
        if "missing" in document:
            missing = document["missing"]
            if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
                raise self.error("", "missing", "must be a list of strings ('name: reason')")
            values["missing"] = tuple(missing)
        else:
            values["missing"] = tuple(f"{key}: not in the state file" for key in absent)
        try:
            return cast(MarketState, MarketState(**values))
        except InvalidInputError as exc:  # a value out of its range: name the file and line
            raise self.error("", str(getattr(exc, "arg", "") or "state"), str(exc)) from None
