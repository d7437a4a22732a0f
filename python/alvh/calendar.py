"""Expiry dates of the real SPX and VIX calendars, with exchange holidays.

Exchange holidays are the NYSE full-day closures of the ``holidays`` package
(``holidays.financial_holidays("NYSE")``: the regular holidays plus special
closures such as national days of mourning). Cboe closes on the same days for
the products here, so an NYSE business day is a Cboe business day.

What this module supports:

- **SPX monthly** (AM-settled, root SPX): the third Friday of the month; if that
  Friday is an exchange holiday, the business day before it (Good Friday
  2025-04-18 moved the April 2025 expiry to Thursday 2025-04-17).
- **SPXW weeklies / dailies** (PM-settled): ``next_spx_expiries(...,
  schedule="weekly")`` gives one expiry per week, the Friday (the business day
  before it when the Friday is a holiday); ``schedule="daily"`` gives every
  business day, the Monday–Friday listing Cboe has run since May 2022 (before
  that SPXW expired on Mondays, Wednesdays and Fridays only; this module does
  not model the listing history). A holiday has no daily expiry.
- **VIX** (futures and the standard monthly options): Cboe Futures Exchange
  rule, VX contract specifications, "Final Settlement Date": *the Wednesday
  that is thirty days prior to the third Friday of the calendar month
  immediately following the month in which the contract expires. If the third
  Friday of the month subsequent to expiration of the applicable VX futures
  contract is a Cboe Options holiday, the Final Settlement Date for the
  contract shall be thirty days prior to the Cboe Options business day
  immediately preceding that Friday. ... If the Final Settlement Date is a
  Cboe Options holiday, the Final Settlement Date shall be the business day
  immediately preceding it.* So the date is 30 days before the following
  month's SPX monthly expiry, moved back one business day if that is a holiday
  (Juneteenth 2024-06-19 moved the June 2024 VIX expiry to Tuesday 2024-06-18;
  Good Friday 2025-04-18 moved the March 2025 one to Tuesday 2025-03-18).
  The older wording of the rule ("if that Wednesday or the Friday that is 30
  days following that Wednesday is a CBOE holiday, ... the business day
  immediately preceding that Wednesday") gives the same dates, e.g. Tuesday
  2014-03-18 before Good Friday 2014-04-18. VIX weeklies are not covered.

All dates are ``datetime.date``; nothing here reads the clock. An expiry is
identified by its month: ``vix_expiry(2024, 6)`` is the June 2024 contract
(the VXM4 future), even though it settles on 18 June.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cache

from alvh._core.checks import input_error
from alvh.errors import InputTypeError

__all__ = [
    "exchange_holidays",
    "is_business_day",
    "next_spx_expiries",
    "previous_business_day",
    "spx_monthly_expiry",
    "spx_weekly_expiry",
    "vix_expiries_after",
    "vix_expiry",
]

#: The schedules `next_spx_expiries` understands.
SPX_SCHEDULES = ("monthly", "weekly", "daily")

_FRIDAY, _WEDNESDAY = 4, 2


def _check_date(name: str, value: object) -> dt.date:
    # datetime is a subclass of date: a time of day here is a user mistake.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InputTypeError(f"{name} must be a datetime.date; got {value!r}")
    return value


def _check_month(year: object, month: object) -> tuple[int, int]:
    for name, value in (("year", year), ("month", month)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputTypeError(f"{name} must be an int; got {value!r}")
    assert isinstance(year, int) and isinstance(month, int)
    if not 1 <= month <= 12:
        raise input_error(f"month must be 1..12; got month = {month!r}", arg="month", value=float(month))
    if not 1900 <= year <= 2200:
        raise input_error(f"year must be 1900..2200; got year = {year!r}", arg="year", value=float(year))
    return year, month


@cache
def _holidays_of(year: int) -> frozenset[dt.date]:
    # One immutable set per year: thread-safe, and no lazy expansion of a shared object.
    # `holidays` is imported on first use: it adds noticeably to `import alvh`.
    import holidays as _holidays

    return frozenset(_holidays.financial_holidays("NYSE", years=year).keys())


def exchange_holidays(year: int) -> dict[dt.date, str]:
    """The exchange (NYSE) full-day closures of ``year``, date -> name, in date order."""
    import holidays as _holidays

    year, _ = _check_month(year, 1)
    names = _holidays.financial_holidays("NYSE", years=year)
    return dict(sorted(names.items()))


def is_business_day(day: dt.date) -> bool:
    """True on a weekday that is not an exchange holiday."""
    day = _check_date("day", day)
    return day.weekday() < 5 and day not in _holidays_of(day.year)


def previous_business_day(day: dt.date) -> dt.date:
    """The last business day strictly before ``day``."""
    day = _check_date("day", day) - dt.timedelta(days=1)
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


def _on_or_before_business_day(day: dt.date) -> dt.date:
    return day if is_business_day(day) else previous_business_day(day)


def _third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(_FRIDAY - first.weekday()) % 7 + 14)


def spx_monthly_expiry(year: int, month: int) -> dt.date:
    """The SPX monthly expiry of ``month``: the third Friday, or the business day
    before it when that Friday is an exchange holiday."""
    year, month = _check_month(year, month)
    return _on_or_before_business_day(_third_friday(year, month))


def spx_weekly_expiry(day: dt.date) -> dt.date:
    """The SPXW Friday expiry of the Monday–Sunday week holding ``day`` (the
    business day before the Friday when the Friday is a holiday)."""
    day = _check_date("day", day)
    friday = day + dt.timedelta(days=_FRIDAY - day.weekday())
    return _on_or_before_business_day(friday)


def vix_expiry(year: int, month: int) -> dt.date:
    """The final settlement date of the VIX future (and standard VIX option) of ``month``.

    Cboe's VX rule: 30 days before the SPX monthly expiry of the *following*
    month (the third Friday, or the business day before it when that Friday is
    a holiday), moved to the business day before when that day is a holiday.
    Normally a Wednesday. See the module docstring for the rule's text.
    """
    year, month = _check_month(year, month)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    settlement = spx_monthly_expiry(next_year, next_month) - dt.timedelta(days=30)
    return _on_or_before_business_day(settlement)


def _check_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise InputTypeError(f"n must be an int; got {n!r}")
    if n < 0:
        raise input_error(f"n must be >= 0; got n = {n!r}", arg="n", value=float(n))
    return n


def _months_from(day: dt.date, back: int = 0) -> Iterator[tuple[int, int]]:
    year, month = day.year, day.month - back
    while month < 1:
        year, month = year - 1, month + 12
    while True:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def next_spx_expiries(
    as_of: dt.date, n: int, *, schedule: str = "monthly", inclusive: bool = False
) -> list[dt.date]:
    """The next ``n`` SPX expiries after ``as_of`` (on or after it with ``inclusive=True``).

    ``schedule``: ``"monthly"`` (SPX third Fridays), ``"weekly"`` (SPXW Fridays)
    or ``"daily"`` (SPXW, every business day). Holiday-adjusted as described in
    the module docstring.
    """
    as_of = _check_date("as_of", as_of)
    n = _check_count(n)
    if schedule not in SPX_SCHEDULES:
        raise input_error(
            f"schedule must be one of {SPX_SCHEDULES}; got schedule = {schedule!r}",
            arg="schedule",
        )

    def wanted(day: dt.date) -> bool:
        return day >= as_of if inclusive else day > as_of

    out: list[dt.date] = []
    if schedule == "monthly":
        for year, month in _months_from(as_of):
            if len(out) == n:
                break
            expiry = spx_monthly_expiry(year, month)
            if wanted(expiry):
                out.append(expiry)
    elif schedule == "weekly":
        monday = as_of - dt.timedelta(days=as_of.weekday())
        while len(out) < n:
            expiry = spx_weekly_expiry(monday)
            if wanted(expiry):
                out.append(expiry)
            monday += dt.timedelta(days=7)
    else:
        day = as_of
        while len(out) < n:
            if is_business_day(day) and wanted(day):
                out.append(day)
            day += dt.timedelta(days=1)
    return out


def vix_expiries_after(as_of: dt.date, n: int, *, inclusive: bool = False) -> list[dt.date]:
    """The next ``n`` monthly VIX expiries after ``as_of`` (on or after it with ``inclusive=True``)."""
    as_of = _check_date("as_of", as_of)
    n = _check_count(n)
    out: list[dt.date] = []
    # A contract month's expiry falls in that month or (never, in practice) the one
    # before; start a month early so no expiry is missed.
    for year, month in _months_from(as_of, back=1):
        if len(out) == n:
            break
        expiry = vix_expiry(year, month)
        if expiry > as_of or (inclusive and expiry == as_of):
            out.append(expiry)
    return out
