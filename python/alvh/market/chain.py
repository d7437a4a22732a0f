"""SPX option chains: load and validate a user's chain.

**Chain format.** A CSV file (header row, comma separated) or a Polars DataFrame with
the columns (names case-insensitive; other columns are ignored):

- ``expiry``: the expiry date, ISO ``YYYY-MM-DD`` (or a Polars ``Date`` column);
- ``strike``: index points, positive;
- ``type``: ``call`` / ``put`` or ``C`` / ``P`` (case-insensitive);
- ``bid``, ``ask``: option prices in index points, ``0 <= bid <= ask`` and ``ask > 0``.

`load_chain` rejects a bad row with an `InvalidChainError` (a ``ValueError``) that
names the file (when read from one), the CSV line, the 1-based data row and the
column: a missing column, an unparsable date or number, a non-positive strike, a
negative bid, a crossed quote (``bid > ask``) and a zero ask are all errors; the
first bad row stops the load. Nothing is silently dropped: a quote with a **zero
bid** (an offer-only option, typically far out of the money) is valid market data,
so it is *kept* and flagged in the ``zero_bid`` column; the fits (`alvh.market.fit`) then
excludes it and says so, because the mid of ``0 / ask`` is not a price. Blank CSV
lines carry no data and are skipped (the line numbers stay those of the file).

**Broker exports** name the columns their own way ("Symbol, Expiration Date, Strike,
Call/Put, Bid, Ask, ...") and write dates as ``MM/DD/YYYY``: a `ChainProfile` maps
alvh's five columns onto the file's headers and gives the date format
(`ChainProfile.from_toml`, or `ChainProfile.parse` of ``"expiry=Expiration
Date,strike=Strike,...,date_format=MM/DD/YYYY"``); ``load_chain(path, profile=...)``.
Format and examples: docs/chain_format.md.

Fit a vol model to a loaded chain with `alvh.market.fit`.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from alvh._core.checks import input_error
from alvh.errors import InputTypeError, InvalidInputError

if TYPE_CHECKING:  # polars is imported on first use, like elsewhere in alvh
    import polars as pl

__all__ = ["COLUMNS", "DATE_FORMATS", "ChainProfile", "InvalidChainError", "is_loaded_chain", "load_chain"]

#: The columns a chain must have, in output order.
COLUMNS = ("expiry", "strike", "type", "bid", "ask")

#: Accepted spellings of the option type (after lower-casing and stripping).
_TYPES = {"call": "call", "c": "call", "put": "put", "p": "put"}


class InvalidChainError(InvalidInputError):
    """A bad option chain. ``path`` (None for a DataFrame), ``line`` (CSV line, None for a
    DataFrame), ``row`` (1-based data row) and ``column`` name the offending field;
    ``arg`` is the column and ``index`` the 0-based row, as for other input errors."""

    path: str | None = None
    line: int | None = None
    row: int | None = None
    column: str | None = None


def _chain_error(
    problem: str, *, path: str | None, row: int | None, line: int | None, column: str | None
) -> InvalidChainError:
    if path is not None:
        where = f"{path}:{line}" if line is not None else path
        if row is not None:
            where += f" (row {row})"
    else:
        where = f"chain row {row}" if row is not None else "chain"
    if column is not None:
        where += f", column {column!r}"
    err = input_error(
        f"{where}: {problem}", arg=column, index=None if row is None else row - 1, kind=InvalidChainError
    )
    err.path, err.line, err.row, err.column = path, line, row, column
    return err


# --------------------------------------------------------------------------- profiles

#: The date formats a profile may name, as a trader writes them, and their strptime.
DATE_FORMATS = {
    "YYYY-MM-DD": "%Y-%m-%d",
    "MM/DD/YYYY": "%m/%d/%Y",
    "M/D/YYYY": "%m/%d/%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "MM/DD/YY": "%m/%d/%y",
    "DD.MM.YYYY": "%d.%m.%Y",
    "YYYYMMDD": "%Y%m%d",
}


@dataclass(frozen=True)
class ChainProfile:
    """How a chain file names alvh's columns and writes its dates.

    ``columns`` maps any of `COLUMNS` to the file's header for it (case-insensitive);
    a column not mapped keeps its own name. ``date_format`` is one of `DATE_FORMATS`
    (``"MM/DD/YYYY"``) or a ``strptime`` format with ``%`` codes; ISO by default.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "YYYY-MM-DD"
    name: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(COLUMNS))
        if unknown:
            raise input_error(
                f"chain profile{self._where}: unknown column {unknown[0]!r} (alvh's columns: "
                f"{', '.join(COLUMNS)})",
                arg="columns",
                value=unknown[0],
            )
        for key, header in self.columns.items():
            if not isinstance(header, str) or not header.strip():
                raise input_error(
                    f"chain profile{self._where}: columns.{key} must be a non-empty header name; "
                    f"got {header!r}",
                    arg=f"columns.{key}",
                    value=header,
                )
        if self.date_format not in DATE_FORMATS and "%" not in self.date_format:
            raise input_error(
                f"chain profile{self._where}: date_format must be one of {', '.join(DATE_FORMATS)} or a "
                f"strptime format such as '%m/%d/%Y'; got {self.date_format!r}",
                arg="date_format",
                value=self.date_format,
            )

    @property
    def _where(self) -> str:
        return f" {self.name}" if self.name else ""

    @property
    def strptime(self) -> str:
        """The ``strptime`` format of `date_format`."""
        return DATE_FORMATS.get(self.date_format, self.date_format)

    def header(self, column: str) -> str:
        """The file's header for alvh's ``column``."""
        return self.columns.get(column, column)

    @classmethod
    def parse(cls, spec: str) -> ChainProfile:
        """``"expiry=Expiration Date,strike=Strike,type=Call/Put,bid=Bid,ask=Ask,
        date_format=MM/DD/YYYY"``: comma-separated ``key=value`` pairs (the command
        line's ``--chain-columns``)."""
        columns: dict[str, str] = {}
        date_format = "YYYY-MM-DD"
        for part in (p for p in spec.split(",") if p.strip()):
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not sep or not value.strip():
                raise input_error(
                    f"chain columns {spec!r}: {part.strip()!r} is not KEY=HEADER "
                    "(e.g. expiry=Expiration Date)",
                    arg="chain_columns",
                    value=spec,
                )
            if key == "date_format":
                date_format = value.strip()
            else:
                columns[key] = value.strip()
        return cls(columns=columns, date_format=date_format, name=repr(spec))

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> ChainProfile:
        """A profile file: ``date_format = "MM/DD/YYYY"`` and a ``[columns]`` table
        (docs/chain_format.md). Unknown keys are errors naming the file and line."""
        from alvh._core import toml

        text, document = toml.load(path)
        name = str(path)
        fail = text.error
        for key in document:
            if key not in ("date_format", "columns"):
                raise fail(key, "unknown key (a chain profile has date_format and [columns])")
        columns = document.get("columns", {})
        if not isinstance(columns, dict):
            raise fail("columns", 'must be a table of alvh column = "file header"')
        date_format = document.get("date_format", "YYYY-MM-DD")
        if not isinstance(date_format, str):
            raise fail("date_format", f'must be a string such as "MM/DD/YYYY"; got {date_format!r}')
        for key, header in columns.items():
            if key not in COLUMNS:
                raise fail(f"columns.{key}", f"unknown column (alvh's columns: {', '.join(COLUMNS)})")
            if not isinstance(header, str) or not header.strip():
                raise fail(f"columns.{key}", f"must be the file's header name, a string; got {header!r}")
        return cls(columns=dict(columns), date_format=date_format, name=name)


# --------------------------------------------------------------------------- loading


def _read_csv(path: Path) -> tuple[list[str], int, list[list[str]], list[int]]:
    """(header, its line, data rows as strings, CSV line of each row); blank lines skipped."""
    name = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header: list[str] | None = None
            header_line = 1
            rows: list[list[str]] = []
            lines: list[int] = []
            for record in reader:
                if not record or all(not cell.strip() for cell in record):
                    continue
                if header is None:
                    header = record
                    header_line = reader.line_num
                    continue
                if len(record) != len(header):
                    raise _chain_error(
                        f"has {len(record)} fields, the header (line {header_line}) has {len(header)}",
                        path=name,
                        row=len(rows) + 1,
                        line=reader.line_num,
                        column=None,
                    )
                rows.append(record)
                lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise _chain_error(f"not UTF-8 text ({exc})", path=name, row=None, line=None, column=None) from None
    except csv.Error as exc:
        raise _chain_error(f"not valid CSV ({exc})", path=name, row=None, line=None, column=None) from None
    if header is None:
        raise _chain_error(
            f"empty file (expected a header with {', '.join(COLUMNS)})",
            path=name,
            row=None,
            line=None,
            column=None,
        )
    return header, header_line, rows, lines


def _column_index(
    header: Sequence[str], *, path: str | None, line: int | None = None, profile: ChainProfile | None = None
) -> dict[str, int]:
    lowered = [str(name).strip().lower() for name in header]
    found: dict[str, int] = {}
    for column in COLUMNS:
        wanted = profile.header(column) if profile is not None else column
        hits = [i for i, name in enumerate(lowered) if name == wanted.strip().lower()]
        if not hits:
            mapped = f" (the profile's header for {column})" if wanted != column else ""
            hint = (
                ""
                if profile is not None
                else "; a broker export with its own headers needs a column map: --chain-columns "
                "(docs/chain_format.md)"
            )
            raise _chain_error(
                f"missing column {wanted!r}{mapped} (required: "
                f"{', '.join(profile.header(c) if profile else c for c in COLUMNS)}; found: "
                f"{', '.join(repr(str(h)) for h in header) or 'none'}){hint}",
                path=path,
                row=None,
                line=line,
                column=column,
            )
        if len(hits) > 1:
            raise _chain_error(
                f"column {wanted!r} appears more than once in the header",
                path=path,
                row=None,
                line=line,
                column=column,
            )
        found[column] = hits[0]
    return found


def _parse_date(value: Any, strptime: str | None = None) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"must be a date without a time of day, got {value!r}")
    if isinstance(value, date):
        return value
    if value is None:
        raise ValueError("is empty (expected a date such as 2024-10-18)")
    text = str(value).strip()
    if strptime is not None and strptime != "%Y-%m-%d":
        try:
            return datetime.strptime(text, strptime).date()
        except ValueError:
            raise ValueError(
                f"cannot parse {text!r} as a date in the profile's format {strptime!r}"
            ) from None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"cannot parse {text!r} as a date (expected YYYY-MM-DD, e.g. 2024-10-18; for "
            "MM/DD/YYYY give the date format: --chain-columns date_format=MM/DD/YYYY)"
        ) from None


def _parse_number(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"must be a number, got {value!r}")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("is empty (expected a number)")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"cannot parse {value!r} as a number") from None
    if not math.isfinite(number):
        raise ValueError(f"must be finite, got {value!r}")
    return number


def _parse_type(value: Any) -> str:
    text = "" if value is None else str(value).strip().lower()
    if text not in _TYPES:
        raise ValueError(f"must be call/put or C/P, got {value!r}")
    return _TYPES[text]


def _check_row(
    values: dict[str, Any], strptime: str | None = None
) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """Parse one row; returns (parsed values, (column, problem) of the first error or None)."""
    parsed: dict[str, Any] = {}
    parsers = {
        "expiry": lambda v: _parse_date(v, strptime),
        "strike": _parse_number,
        "type": _parse_type,
        "bid": _parse_number,
        "ask": _parse_number,
    }
    for column in COLUMNS:
        try:
            parsed[column] = parsers[column](values[column])
        except ValueError as exc:
            return parsed, (column, str(exc))
    if parsed["strike"] <= 0.0:
        return parsed, ("strike", f"must be positive, got {parsed['strike']:g}")
    if parsed["bid"] < 0.0:
        return parsed, ("bid", f"must be zero or positive, got {parsed['bid']:g}")
    if parsed["ask"] == 0.0:
        return parsed, ("ask", "is zero (no offer: not a quote)")
    if parsed["ask"] < 0.0:
        return parsed, ("ask", f"must be positive, got {parsed['ask']:g}")
    if parsed["bid"] > parsed["ask"]:
        return parsed, ("bid", f"crossed quote: bid {parsed['bid']:g} is above ask {parsed['ask']:g}")
    return parsed, None


def load_chain(
    source: str | os.PathLike[str] | pl.DataFrame, *, profile: ChainProfile | None = None
) -> pl.DataFrame:
    """A validated option chain from a CSV path or a Polars DataFrame; ``profile`` maps
    a broker export's headers and date format onto alvh's (`ChainProfile`).

    Returns a DataFrame with ``expiry`` (Date), ``strike``, ``bid``, ``ask`` (Float64),
    ``type`` (``"call"`` / ``"put"``), ``zero_bid`` (Boolean: an offer-only quote, kept
    and flagged), ``row`` (1-based data row of the source) and ``line`` (its CSV line,
    null for a DataFrame), in the order of the source. Raises `InvalidChainError`
    naming the file, line, row and column of the first bad field (see the module doc).
    """
    import polars as pl

    path: str | None
    if isinstance(source, pl.DataFrame):
        path = None
        columns = _column_index(source.columns, path=None, profile=profile)
        data = {c: source.get_column(source.columns[columns[c]]).to_list() for c in COLUMNS}
        count = source.height
        lines: list[int | None] = [None] * count
    elif isinstance(source, (str, os.PathLike)):
        file = Path(source)
        path = str(file)
        if not file.is_file():
            raise _chain_error("no such file", path=path, row=None, line=None, column=None)
        header, header_line, records, csv_lines = _read_csv(file)
        columns = _column_index(header, path=path, line=header_line, profile=profile)
        data = {c: [record[columns[c]] for record in records] for c in COLUMNS}
        count = len(records)
        lines = list(csv_lines)
    else:
        raise InputTypeError(f"source must be a CSV path or a polars DataFrame, got {type(source).__name__}")
    if count == 0:
        raise _chain_error("no data rows", path=path, row=None, line=None, column=None)
    out: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for i in range(count):
        parsed, problem = _check_row(
            {c: data[c][i] for c in COLUMNS}, None if profile is None else profile.strptime
        )
        if problem is not None:
            column, message = problem
            raise _chain_error(message, path=path, row=i + 1, line=lines[i], column=column)
        for c in COLUMNS:
            out[c].append(parsed[c])
    return pl.DataFrame(
        {
            **out,
            "zero_bid": [bid == 0.0 for bid in out["bid"]],
            "row": list(range(1, count + 1)),
            "line": lines,
        },
        schema={
            "expiry": pl.Date,
            "strike": pl.Float64,
            "type": pl.Utf8,
            "bid": pl.Float64,
            "ask": pl.Float64,
            "zero_bid": pl.Boolean,
            "row": pl.Int64,
            "line": pl.Int64,
        },
    )


def is_loaded_chain(chain: Any) -> TypeGuard[pl.DataFrame]:
    """True for a frame returned by `load_chain` (already validated)."""
    import polars as pl

    return isinstance(chain, pl.DataFrame) and chain.schema == {
        "expiry": pl.Date,
        "strike": pl.Float64,
        "type": pl.Utf8,
        "bid": pl.Float64,
        "ask": pl.Float64,
        "zero_bid": pl.Boolean,
        "row": pl.Int64,
        "line": pl.Int64,
    }
