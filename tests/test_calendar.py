"""Expiry calendars (`alvh.calendar`) against real published dates.

Sources of the reference dates:
- SPX monthly expiries 2024: the third Fridays (Cboe expiration calendar 2024);
  Good Friday 2025-04-18 moved the April 2025 SPX monthly to Thursday 2025-04-17
  (Cboe notice; NYSE closed on Good Friday).
- VIX (VX futures / monthly VIX options) final settlement dates 2024 from the Cboe
  Futures Exchange expiration calendar: Jan 17, Feb 14, Mar 20, Apr 17, May 22,
  Jun 18 (Juneteenth, Wednesday 2024-06-19, moved it to Tuesday), Jul 17, Aug 21,
  Sep 18, Oct 16, Nov 20, Dec 18.
- Good-Friday cases of the VX rule ("30 days prior to the business day preceding
  that Friday"): March 2014 VX settled Tuesday 2014-03-18, March 2022 Tuesday
  2022-03-15, March 2025 Tuesday 2025-03-18.
Dates derived from the rules only (not checked against a published calendar) are
in tests marked as such.
"""

from __future__ import annotations

import datetime as dt

import pytest

import alvh
from alvh import calendar as cal
from alvh.errors import InputTypeError, InvalidInputError

D = dt.date

SPX_MONTHLY_2024 = [
    D(2024, 1, 19),
    D(2024, 2, 16),
    D(2024, 3, 15),
    D(2024, 4, 19),
    D(2024, 5, 17),
    D(2024, 6, 21),
    D(2024, 7, 19),
    D(2024, 8, 16),
    D(2024, 9, 20),
    D(2024, 10, 18),
    D(2024, 11, 15),
    D(2024, 12, 20),
]
VIX_2024 = [
    D(2024, 1, 17),
    D(2024, 2, 14),
    D(2024, 3, 20),
    D(2024, 4, 17),
    D(2024, 5, 22),
    D(2024, 6, 18),
    D(2024, 7, 17),
    D(2024, 8, 21),
    D(2024, 9, 18),
    D(2024, 10, 16),
    D(2024, 11, 20),
    D(2024, 12, 18),
]


def test_module_is_exported():
    assert alvh.calendar is cal


@pytest.mark.parametrize("month", range(1, 13))
def test_spx_monthly_2024_is_the_third_friday(month):
    assert cal.spx_monthly_expiry(2024, month) == SPX_MONTHLY_2024[month - 1]


def test_good_friday_moves_april_2025_spx_monthly_to_thursday():
    assert cal.spx_monthly_expiry(2025, 4) == D(2025, 4, 17)
    assert cal.spx_monthly_expiry(2022, 4) == D(2022, 4, 14)  # Good Friday 2022-04-15


@pytest.mark.parametrize("month", range(1, 13))
def test_vix_2024_matches_the_cboe_calendar(month):
    assert cal.vix_expiry(2024, month) == VIX_2024[month - 1]


def test_juneteenth_2024_moves_the_june_vix_expiry_to_tuesday():
    assert not cal.is_business_day(D(2024, 6, 19))
    assert cal.vix_expiry(2024, 6) == D(2024, 6, 18)


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2014, D(2014, 3, 18)), (2022, D(2022, 3, 15)), (2025, D(2025, 3, 18))],
)
def test_good_friday_in_april_moves_the_march_vix_expiry_to_tuesday(year, expected):
    assert cal.vix_expiry(year, 3) == expected


def test_juneteenth_friday_2026_rule_derived_dates():
    # Derived from the rules (not checked against a published calendar): Juneteenth
    # 2026 is the third Friday of June, so SPX expires Thursday and VX 30 days earlier.
    assert cal.spx_monthly_expiry(2026, 6) == D(2026, 6, 18)
    assert cal.vix_expiry(2026, 5) == D(2026, 5, 19)


def test_vix_expiry_is_thirty_days_before_next_spx_monthly_when_no_holiday():
    for year in (2023, 2024):
        for month in range(1, 13):
            nxt = (year + 1, 1) if month == 12 else (year, month + 1)
            gap = cal.spx_monthly_expiry(*nxt) - cal.vix_expiry(year, month)
            assert gap.days in (30, 31)  # 31 only when the Wednesday was a holiday
            assert cal.is_business_day(cal.vix_expiry(year, month))


def test_business_days_know_weekends_and_special_closures():
    assert cal.is_business_day(D(2025, 3, 21))
    assert not cal.is_business_day(D(2025, 3, 22))  # Saturday
    assert not cal.is_business_day(D(2025, 4, 18))  # Good Friday
    assert not cal.is_business_day(D(2025, 1, 9))  # national day of mourning (Carter)
    assert not cal.is_business_day(D(2018, 12, 5))  # national day of mourning (G.H.W. Bush)
    assert cal.previous_business_day(D(2025, 4, 21)) == D(2025, 4, 17)
    assert D(2025, 4, 18) in cal.exchange_holidays(2025)


def test_next_spx_monthly_expiries_skip_the_as_of_day_unless_inclusive():
    assert cal.next_spx_expiries(D(2024, 3, 15), 2) == [D(2024, 4, 19), D(2024, 5, 17)]
    assert cal.next_spx_expiries(D(2024, 3, 15), 1, inclusive=True) == [D(2024, 3, 15)]
    assert cal.next_spx_expiries(D(2024, 12, 28), 2) == [D(2025, 1, 17), D(2025, 2, 21)]
    assert cal.next_spx_expiries(D(2024, 1, 1), 0) == []


def test_weekly_expiries_are_fridays_moved_back_on_holidays():
    got = cal.next_spx_expiries(D(2025, 4, 14), 3, schedule="weekly")
    assert got == [D(2025, 4, 17), D(2025, 4, 25), D(2025, 5, 2)]
    assert cal.spx_weekly_expiry(D(2024, 7, 1)) == D(2024, 7, 5)


def test_daily_expiries_are_every_business_day():
    got = cal.next_spx_expiries(D(2025, 4, 16), 4, schedule="daily")
    assert got == [D(2025, 4, 17), D(2025, 4, 21), D(2025, 4, 22), D(2025, 4, 23)]


def test_vix_expiries_after_as_of():
    assert cal.vix_expiries_after(D(2025, 2, 3), 3) == [D(2025, 2, 19), D(2025, 3, 18), D(2025, 4, 16)]
    assert cal.vix_expiries_after(D(2024, 6, 18), 1) == [D(2024, 7, 17)]
    assert cal.vix_expiries_after(D(2024, 6, 18), 1, inclusive=True) == [D(2024, 6, 18)]
    # Late in a month whose expiry has passed: the next is next month's.
    assert cal.vix_expiries_after(D(2024, 12, 30), 1) == [D(2025, 1, 22)]


def test_expiry_lists_are_sorted_and_distinct():
    for schedule in cal.SPX_SCHEDULES:
        got = cal.next_spx_expiries(D(2023, 11, 20), 30, schedule=schedule)
        assert got == sorted(set(got)) and len(got) == 30
        assert all(cal.is_business_day(day) for day in got)
    vix = cal.vix_expiries_after(D(2023, 11, 20), 24)
    assert vix == sorted(set(vix)) and len(vix) == 24


def test_bad_arguments_are_named():
    with pytest.raises(InvalidInputError, match="month"):
        cal.spx_monthly_expiry(2024, 13)
    with pytest.raises(InputTypeError, match="as_of"):
        cal.next_spx_expiries("2024-01-01", 1)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="day"):
        cal.is_business_day(dt.datetime(2024, 1, 2, 10, 0))
    with pytest.raises(InvalidInputError, match="schedule"):
        cal.next_spx_expiries(D(2024, 1, 1), 1, schedule="quarterly")
    with pytest.raises(InvalidInputError, match="n must be"):
        cal.vix_expiries_after(D(2024, 1, 1), -1)
