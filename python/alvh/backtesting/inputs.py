"""`StateInputs`: the diagnostics' inputs beyond the SPX and VIX closes that a backtest
feeds its daily `alvh.MarketState` (`alvh.backtesting.daily.daily_states`), so that rules
(b) and (c) run on history as they do live:

- ``breadth``: ``date`` and ``advances``/``declines`` (an A/D line) or ``line`` (a breadth
  line given directly), labelled by ``breadth_source``;
- ``macro``: ``date`` and any of ``cpi_yoy``, ``ppi_yoy``, ``fomc_tone``, dated when each
  reading became known (a release date, not the period measured);
- ``rates``: ``date`` and ``differential`` (percentage points), the interest-rate
  differential of rule (c);
- ``vix_futures``: ``date``, ``vx1`` and optionally ``vx2`` (VIX points): the term
  structure (backwardation for acting, contango against);
- ``skew``: ``date`` and ``skew`` (rising as puts get dearer): its 60-day z-score.

`sample_inputs` builds them from the bundled sample (`alvh.backtesting.data.sample_data`):
the breadth *proxy* (`alvh.policy.indicators.breadth.proxy_line` of the NYSE Composite
and the Russell 2000: the sample has no advance-decline counts, and every decision says
it read a proxy), core CPI year on year from its release date (to 2018-12; PPI and the
FOMC tone are not in the sample, so those conditions are skipped and said), and the US
curve's 10-year minus 3-month spread as the rate differential (the seed's differential
is between countries; the sample has US rates only, so the term spread stands in, and is
labelled so).

`input_columns` computes, in one causal pass per input, what `MarketState.from_history`
computes from the history cut at each day (a test holds them equal day by day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alvh.errors import InputTypeError, InvalidInputError

if TYPE_CHECKING:
    import polars as pl

    from alvh.backtesting.data import SampleData

__all__ = ["SAMPLE_BREADTH_SOURCE", "StateInputs", "input_columns", "sample_inputs"]

#: How decisions name the sample's breadth line.
SAMPLE_BREADTH_SOURCE = "proxy: NYSE Composite and Russell 2000, mean log level (not an A/D line)"
#: How the sample's rate differential is described (`StateInputs.rates_source`).
SAMPLE_RATES_SOURCE = "US Treasury 10-year minus 3-month (term spread; proxy for the rate differential)"


@dataclass(frozen=True, eq=False)
class StateInputs:
    """The optional diagnostic inputs of a backtest (module doc); each may be None."""

    breadth: pl.DataFrame | None = None
    breadth_source: str | None = None
    macro: pl.DataFrame | None = None
    rates: pl.DataFrame | None = None
    rates_source: str | None = None
    vix_futures: pl.DataFrame | None = None
    skew: pl.DataFrame | None = None

    def __post_init__(self) -> None:
        import polars as pl

        for name in ("breadth", "macro", "rates", "vix_futures", "skew"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, pl.DataFrame):
                raise InputTypeError(f"{name} must be a polars DataFrame or None, got {type(value).__name__}")

    def describe(self) -> list[str]:
        """One line per input given: what it is and its span."""
        out = []
        for name, frame, label in (
            ("breadth", self.breadth, self.breadth_source),
            ("macro", self.macro, None),
            ("rates", self.rates, self.rates_source),
            ("vix_futures", self.vix_futures, None),
            ("skew", self.skew, None),
        ):
            if frame is None or frame.height == 0:
                continue
            span = f"{frame['date'][0]} to {frame['date'][-1]}"
            out.append(f"{name}: {label + ', ' if label else ''}{span}")
        return out


def sample_inputs(sample: SampleData) -> StateInputs:
    """The bundled sample's diagnostic inputs (module doc)."""
    import polars as pl

    from alvh.policy.indicators.breadth import proxy_line

    breadth = sample.indices.select("date", proxy_line("nya", "rut").alias("line")).filter(
        pl.col("line").is_not_null()
    )
    macro = (
        sample.cpi.filter(pl.col("cpi_yoy").is_not_null())
        .select(pl.col("released").alias("date"), "cpi_yoy")
        .sort("date")
    )
    rates = (
        sample.ten_year.join(sample.rates.select("date", pl.col("rate_pct").alias("bill")), on="date")
        .select("date", (pl.col("rate_pct") - pl.col("bill")).alias("differential"))
        .sort("date")
    )
    return StateInputs(
        breadth=breadth,
        breadth_source=SAMPLE_BREADTH_SOURCE,
        macro=macro,
        rates=rates,
        rates_source=SAMPLE_RATES_SOURCE,
    )


def input_columns(
    days: list[dt.date], spx: pl.DataFrame, inputs: StateInputs, rules: Any, vix: list[float] | None = None
) -> dict[dt.date, tuple[dict[str, Any], list[str]]]:
    """Per day of ``days``: the `MarketState` fields the inputs give and the ``missing``
    entries, as `MarketState.from_history` would on the history cut at that day.
    ``spx``: ``date, close`` on the replay's SPX days (the divergence's price); ``vix``:
    each day's VIX close (the term structure's VIX/VX1)."""
    out: dict[dt.date, tuple[dict[str, Any], list[str]]] = {day: ({}, []) for day in days}
    _futures(out, days, inputs, rules, vix)
    _breadth(out, days, spx, inputs, rules)
    _rates(out, days, inputs, rules)
    _skew(out, days, inputs, rules)
    _macro(out, days, inputs, rules)
    return out


def _not_given(out: dict[dt.date, tuple[dict[str, Any], list[str]]], arg: str) -> None:
    """Every day records that input ``arg`` was not given (as `MarketState.from_history`)."""
    for _, missing in out.values():
        missing.append(f"{arg}: not given")


def _on_day(dates: list[dt.date], day: dt.date, seen: int, arg: str, missing: list[str]) -> bool:
    """Whether a market series has a row on ``day`` (as `MarketState.from_history` asks);
    records why not."""
    if seen == 0:
        missing.append(f"{arg}: no row on or before {day}")
        return False
    if dates[seen - 1] != day:
        missing.append(f"{arg}: no row on {day} (last row {dates[seen - 1]})")
        return False
    return True


def _futures(
    out: dict[dt.date, tuple[dict[str, Any], list[str]]],
    days: list[dt.date],
    inputs: StateInputs,
    rules: Any,
    vix: list[float] | None,
) -> None:
    if inputs.vix_futures is None or vix is None:
        return _not_given(out, "vix_futures")
    frame = _checked("vix_futures", inputs.vix_futures, ("vx1",), days[-1], rules)
    dates = frame["date"].to_list()
    vx1 = frame["vx1"].cast(float).to_list()
    vx2 = frame["vx2"].cast(float).to_list() if "vx2" in frame.columns else None
    for day, close, seen in zip(days, vix, _position(dates, days)):
        values, missing = out[day]
        if not _on_day(dates, day, seen, "vix_futures", missing):
            continue
        front = vx1[seen - 1]
        if (
            front is not None
            and front <= 0.0
            or vx2 is not None
            and vx2[seen - 1] is not None
            and vx2[seen - 1] <= 0.0
        ):
            raise InvalidInputError(f"vix_futures: prices must be > 0; {day} has vx1 {front!r}")
        vix_vx1 = None if front is None else close / front
        if vix_vx1 is None:
            missing.append(f"vix_vx1: vx1 is null on {day}")
        vx1_vx2 = None
        if vx2 is None:
            missing.append("vx1_vx2: vix_futures has no vx2 column")
        elif front is None or vx2[seen - 1] is None:
            missing.append(f"vx1_vx2: vx1 or vx2 is null on {day}")
        else:
            vx1_vx2 = front / vx2[seen - 1]
        ratio = vix_vx1 if vix_vx1 is not None else vx1_vx2
        values.update(vix_vx1=vix_vx1, vx1_vx2=vx1_vx2, backwardation=None if ratio is None else ratio > 1.0)


def _skew(
    out: dict[dt.date, tuple[dict[str, Any], list[str]]], days: list[dt.date], inputs: StateInputs, rules: Any
) -> None:
    from alvh.policy.indicators import vix as ind
    from alvh.policy.state import SKEW_WINDOW

    if inputs.skew is None:
        return _not_given(out, "skew")
    frame = _checked("skew", inputs.skew, ("skew",), days[-1], rules)
    scores = frame.select(ind.zscore("skew", window=SKEW_WINDOW).alias("z"))["z"].to_list()
    dates = frame["date"].to_list()
    for day, seen in zip(days, _position(dates, days)):
        values, missing = out[day]
        if not _on_day(dates, day, seen, "skew", missing):
            continue
        if seen < SKEW_WINDOW:
            missing.append(f"skew_z: {seen} rows of skew history, {SKEW_WINDOW} needed")
            continue
        score = scores[seen - 1]
        if score is None:
            why = "a null in the window, or a flat series of the skew history"
            missing.append(f"skew_z: undefined on {day} ({why})")
            continue
        values.update(skew_z=float(score), skew_steepening=float(score) > rules.skew_z_threshold)


def _checked(
    arg: str, frame: pl.DataFrame, required: tuple[str, ...], last: dt.date, rules: Any
) -> pl.DataFrame:
    """The frame validated as `MarketState.from_history` validates it (whole)."""
    from alvh.policy.state import history_until

    cut = history_until(arg, frame, required, last, rules)
    return frame.head(cut.height) if cut.height < frame.height else frame


def _position(dates: list[dt.date], days: list[dt.date]) -> list[int]:
    """For each day, how many of the sorted ``dates`` are on or before it."""
    import bisect

    return [bisect.bisect_right(dates, day) for day in days]


def _breadth(
    out: dict[dt.date, tuple[dict[str, Any], list[str]]],
    days: list[dt.date],
    spx: pl.DataFrame,
    inputs: StateInputs,
    rules: Any,
) -> None:
    import polars as pl

    from alvh.policy.indicators import breadth as ind

    if inputs.breadth is None:
        return _not_given(out, "breadth")
    frame = inputs.breadth
    given_line = "line" in frame.columns
    required = ("line",) if given_line else ("advances", "declines")
    frame = _checked("breadth", frame, required, days[-1], rules)
    if given_line:
        source = inputs.breadth_source or "breadth line given"
        line = frame.select("date", pl.col("line").cast(pl.Float64).alias("ad"))
    else:
        source = "advances/declines"
        line = frame.select("date", ind.ad_line("advances", "declines").alias("ad"))
    window = rules.breadth_window
    line = line.with_columns(ind.at_high("ad", window=window).alias("bid"))
    joined = line.select("date", "ad").join(spx.select("date", "close"), on="date", how="inner")
    joined = joined.with_columns(ind.ad_negative_divergence("close", "ad", window=window).alias("div"))
    line_dates = line["date"].to_list()
    joined_dates = joined["date"].to_list()
    bids, divs = line["bid"].to_list(), joined["div"].to_list()
    for day, seen, joined_seen in zip(days, _position(line_dates, days), _position(joined_dates, days)):
        values, missing = out[day]
        if not _on_day(line_dates, day, seen, "breadth", missing):
            continue
        values["breadth_source"] = source
        on_spx = "breadth (on SPX dates)"
        if joined_seen < window:
            missing.append(f"ad_divergence: {joined_seen} rows of {on_spx} history, {window} needed")
            values["ad_divergence"] = None
        else:
            div = divs[joined_seen - 1]
            values["ad_divergence"] = div
            if div is None:
                why = f"a null in the window of the {on_spx} history"
                missing.append(f"ad_divergence: undefined on {day} ({why})")
        if seen < window:
            missing.append(f"breadth_bid: {seen} rows of breadth history, {window} needed")
            values["breadth_bid"] = None
        else:
            bid = bids[seen - 1]
            values["breadth_bid"] = bid
            if bid is None:
                missing.append(
                    f"breadth_bid: undefined on {day} (a null in the window of the breadth history)"
                )


def _rates(
    out: dict[dt.date, tuple[dict[str, Any], list[str]]], days: list[dt.date], inputs: StateInputs, rules: Any
) -> None:
    import polars as pl

    if inputs.rates is None:
        return _not_given(out, "rates")
    frame = _checked("rates", inputs.rates, ("differential",), days[-1], rules)
    value = pl.col("differential").cast(pl.Float64)
    known = frame.filter(value.is_not_null() & value.is_not_nan())
    dates, levels = known["date"].to_list(), known["differential"].cast(pl.Float64).to_list()
    window, band = rules.rate_window, rules.rate_stability
    for day, seen in zip(days, _position(dates, days)):
        values, missing = out[day]
        if seen == 0:
            missing.append(f"rate_differential: no rates row on or before {day}")
            continue
        current = levels[seen - 1]
        values["rate_differential"] = current
        if seen <= window:
            missing.append(f"rate_differential_change: {seen} rows of rates history, {window + 1} needed")
            continue
        change = current - levels[seen - 1 - window]
        values["rate_differential_change"] = change
        values["rate_differential_stable"] = abs(change) <= band


def _macro(
    out: dict[dt.date, tuple[dict[str, Any], list[str]]], days: list[dt.date], inputs: StateInputs, rules: Any
) -> None:
    import polars as pl

    from alvh.policy.state import MACRO_COLUMNS

    if inputs.macro is None:
        return _not_given(out, "macro")
    frame = _checked("macro", inputs.macro, (), days[-1], None)
    unknown = [c for c in frame.columns if c != "date" and c not in MACRO_COLUMNS]
    if unknown:
        raise InvalidInputError(
            f"macro: unknown column {unknown[0]!r} (known: date, {', '.join(MACRO_COLUMNS)})"
        )
    for column in ("cpi_yoy", "ppi_yoy"):
        if column in frame.columns:
            big = frame.filter(pl.col(column).cast(pl.Float64).abs() > 1.0)
            if big.height:
                raise InvalidInputError(
                    f"macro: {column} on {big['date'][0]} is {big[column][0]!r}: give year-on-year "
                    "changes as decimals (0.032 for 3.2 %)"
                )
    for column in MACRO_COLUMNS:
        if column not in frame.columns:
            for day in days:
                out[day][1].append(f"{column}: not in macro")
            continue
        series = frame.select("date", pl.col(column).alias("x"))
        present = pl.col("x").is_not_null()
        if series.schema["x"] in (pl.Float32, pl.Float64):
            present = present & pl.col("x").is_not_nan()
        known = series.filter(present)
        dates, readings = known["date"].to_list(), known["x"].to_list()
        for day, seen in zip(days, _position(dates, days)):
            values, missing = out[day]
            if seen == 0:
                missing.append(f"{column}: no reading on or before {day}")
                continue
            age = (day - dates[seen - 1]).days
            if age > rules.macro_max_age:
                missing.append(
                    f"{column}: last reading {dates[seen - 1]} is {age} days old (more than "
                    f"rules.macro_max_age = {rules.macro_max_age})"
                )
                continue
            reading = readings[seen - 1]
            values[column] = reading if column == "fomc_tone" else float(reading)
