"""Units and conventions of the market model (DESIGN.md "Conventions"): the day count,
the VIX's tenor, the sanity bound on vol inputs and the vol dynamics rules."""

from __future__ import annotations

from typing import Any

from alvh.errors import InvalidInputError

__all__ = ["DAYS_PER_YEAR", "DYNAMICS", "MAX_VOL", "VIX_TENOR_DAYS", "check_dynamics"]


#: Calendar days per year (ACT/365, DESIGN.md "Conventions").
DAYS_PER_YEAR = 365.0

#: The VIX measures 30-calendar-day implied vol (CBOE VIX white paper).
VIX_TENOR_DAYS = 30

#: Vol parameters above this (500 %) are typos, not markets.
MAX_VOL = 5.0

#: How the SPX smile follows a VIX move (see `Market.bump`).
DYNAMICS = ("sticky_moneyness", "sticky_strike", "parallel")


def check_dynamics(value: Any) -> str:
    if value not in DYNAMICS:
        raise InvalidInputError(f"dynamics must be one of {', '.join(DYNAMICS)}; got {value!r}")
    return str(value)
