"""Scenario sets for the time-shifted projection (DESIGN.md "Time-shifting projection").

- `Event`: a scheduled day (a GDP release, an earnings day, or the user's own) with
  a jump of SPX's log-return and of ln VIX on that day.
- `Scenario`: one named state of the world with a probability, the SPX drift and
  diffusion vol, the spot–vol coupling (``vix_beta``, ``vol_of_vix``) and the
  mean reversion of ln VIX (``vix_kappa``, ``vix_theta``), plus its events.
- `ScenarioSet`: scenarios whose probabilities sum to 1; ``to_toml`` /
  ``from_toml`` (format: ``docs/scenarios.md``), ``product`` (e.g. GDP × earnings)
  and ``resolve`` into the flat arrays the Monte Carlo engine reads.
- `ResolvedScenarios`: those arrays, per scenario and per calendar day.
- Built-ins `gdp`, `earnings`, `gdp_x_earnings` and `by_name`, with event dates
  from the rules `gdp_advance_release` and `earnings_season_days`.

The engine's model, per calendar-day step ``dt = 1/365`` (ACT/365, DESIGN.md):
SPX log-return ``(drift - vol^2/2) dt + vol sqrt(dt) z1 + jump`` with ``vol`` the
scenario's ``diffusion_vol`` or ``atm_vix_ratio * VIX_t / 100``; ln VIX step
``kappa (ln theta - ln VIX) dt + vix_beta * (SPX diffusion return, drift included)
+ vol_of_vix sqrt(dt) z2 + vix jump``. Every default number is listed, with its
source, in the docstrings of the built-ins below and in ``docs/scenarios.md``;
the calibrated ones are recomputed by ``tests/test_calibrate.py`` from
`alvh.risk.calibrate`. Nothing here reads the clock: ``as_of`` is always explicit.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alvh._core import toml
from alvh._core.checks import bad, in_range, input_error
from alvh._core.io import atomic_write
from alvh._core.types import FloatArray
from alvh.calendar import is_business_day
from alvh.errors import InputTypeError, InvalidInputError

__all__ = [
    "BUILT_INS",
    "Event",
    "ResolvedScenarios",
    "Scenario",
    "ScenarioSet",
    "by_name",
    "earnings",
    "earnings_season_days",
    "gdp",
    "gdp_advance_release",
    "gdp_x_earnings",
    "next_gdp_advance_release",
]


#: The horizons (calendar days) the engine accepts; the CLI narrows this to 5..10.
MIN_DAYS, MAX_DAYS = 1, 30

#: The TOML format version `ScenarioSet.to_toml` writes and `from_toml` reads.
FORMAT_VERSION = 1

#: Probabilities must sum to 1 within this.
PROBABILITY_TOLERANCE = 1e-9

# Sanity limits: beyond these a number is a typo (50 for 50 %), not a view.
_MAX_VOL = 5.0
_MAX_VOL_OF_VIX = 20.0
_MAX_KAPPA = 1000.0
_MAX_THETA = 500.0
_MAX_JUMP = 5.0
_MAX_DRIFT = 10.0
_MAX_BETA = 100.0

# --------------------------------------------------------------------------- event rules

#: Months of the GDP advance release (the month after each quarter ends).
GDP_RELEASE_MONTHS = (1, 4, 7, 10)

#: The earnings season's peak window: from this day of Jan/Apr/Jul/Oct ...
EARNINGS_SEASON_START_DAY = 15
#: ... for this many calendar days (four weeks).
EARNINGS_SEASON_LENGTH_DAYS = 28

_THURSDAY = 3


def _check_date(arg: str, value: Any) -> dt.date:
    # datetime subclasses date; a time of day has no place in a calendar-day step.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InputTypeError(f"{arg} must be a datetime.date, got {type(value).__name__} {value!r}")
    return value


def gdp_advance_release(year: int, quarter: int) -> dt.date:
    """The rule-based release date of the BEA's *advance* GDP estimate for a quarter.

    Rule: the **last Thursday of the month after the quarter ends** (late January,
    April, July, October); the release is at 8:30 ET, before the open, so that
    day's close-to-close return carries it. This is the BEA's usual slot, not its
    published calendar: actual dates sometimes differ by a few days (Friday
    releases were common before ~2013; Wednesday 2025-04-30 and 2025-07-30; the
    2018–19 shutdown delayed Q4 2018 to 2019-02-28). Q4 2024's advance estimate,
    2025-01-30, is on the rule. The calibration (`alvh.risk.calibrate.event_jumps`)
    uses the same rule, so the defaults and the dates agree with each other.
    """
    if isinstance(quarter, bool) or not isinstance(quarter, int) or not 1 <= quarter <= 4:
        raise InvalidInputError(f"quarter must be 1..4; got quarter = {quarter!r}")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200:
        raise InvalidInputError(f"year must be 1900..2200; got year = {year!r}")
    # Q1 -> April, Q2 -> July, Q3 -> October, Q4 -> January of the next year.
    month = GDP_RELEASE_MONTHS[quarter % 4]
    release_year = year + 1 if quarter == 4 else year
    next_month = dt.date(release_year + (month == 12), month % 12 + 1, 1)
    last_day = next_month - dt.timedelta(days=1)
    return last_day - dt.timedelta(days=(last_day.weekday() - _THURSDAY) % 7)


def next_gdp_advance_release(as_of: dt.date) -> dt.date:
    """The first `gdp_advance_release` date strictly after ``as_of``."""
    as_of = _check_date("as_of", as_of)
    year, quarter = as_of.year - 1, 4  # Q4 of last year is released in January
    while True:
        release = gdp_advance_release(year, quarter)
        if release > as_of:
            return release
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def earnings_season_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """The business days from ``first`` to ``last`` (inclusive) in an earnings season's peak.

    Rule: the peak window is the four weeks from the 15th of January, April, July
    and October (``EARNINGS_SEASON_START_DAY``, ``EARNINGS_SEASON_LENGTH_DAYS``):
    the large banks open the season around two weeks after the quarter ends and
    most S&P 500 companies report in the following weeks. Each NYSE business day
    (`alvh.calendar.is_business_day`) in the window is one earnings day: index-level
    earnings news arrives every day of the season, not on one date, so the
    built-ins put one "earnings" event on each such day. A rule of thumb, not a
    calendar of reports.
    """
    first, last = _check_date("first", first), _check_date("last", last)
    days = []
    day = first
    while day <= last:
        if _in_earnings_window(day) and is_business_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _in_earnings_window(day: dt.date) -> bool:
    for year in (day.year - 1, day.year):
        for month in GDP_RELEASE_MONTHS:
            start = dt.date(year, month, EARNINGS_SEASON_START_DAY)
            offset = (day - start).days
            if 0 <= offset < EARNINGS_SEASON_LENGTH_DAYS:
                return True
    return False


# --------------------------------------------------------------------------- checks


def _in(arg: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    return in_range(arg, value, low, high, low_open=low_open)


def _name(arg: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputTypeError(f"{arg} must be a string, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise bad(arg, value, "a non-empty name")
    return value


def _prefixed(prefix: str, exc: InvalidInputError | InputTypeError) -> Exception:
    """The same error with its field named from the enclosing object (``scenarios[2].``)."""
    arg = getattr(exc, "arg", None)
    text = str(exc)
    if arg:
        text = re.sub(rf"(?<![\w.\[\]]){re.escape(arg)}(?![\w\[])", prefix + arg, text)
    new = type(exc)(text)
    if isinstance(new, InvalidInputError):
        new.arg = prefix + arg if arg else None
        new.value = getattr(exc, "value", None)
    return new


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Event:
    """A scheduled event inside a scenario, placed by date (step ``d`` is ``as_of + d``).

    ``spx_jump_mean`` / ``spx_jump_std``: the SPX log-return jump that day (e.g.
    -0.01 = about -1 %); ``vix_jump_mean`` / ``vix_jump_std``: the change of ln VIX
    that day (+0.08 = the VIX about 8 % higher). Stds are >= 0.
    """

    name: str
    date: dt.date
    spx_jump_mean: float
    spx_jump_std: float
    vix_jump_mean: float
    vix_jump_std: float

    def __post_init__(self) -> None:
        _name("name", self.name)
        _check_date("date", self.date)
        for field_name in ("spx_jump_mean", "vix_jump_mean"):
            value = _in(field_name, getattr(self, field_name), -_MAX_JUMP, _MAX_JUMP)
            object.__setattr__(self, field_name, value)
        for field_name in ("spx_jump_std", "vix_jump_std"):
            value = _in(field_name, getattr(self, field_name), 0.0, _MAX_JUMP)
            object.__setattr__(self, field_name, value)


@dataclass(frozen=True)
class Scenario:
    """One named scenario of a `ScenarioSet`.

    - ``probability``: in (0, 1].
    - ``spx_drift``: annualized SPX drift, decimal (0.05 = 5 %/year).
    - ``diffusion_vol``: annualized SPX diffusion vol, decimal; ``None`` = from the VIX,
      ``atm_vix_ratio * VIX_t / 100`` on each day of the path.
    - ``vix_beta``: change of ln VIX per unit SPX log-return (negative, e.g. -8).
    - ``vol_of_vix``: annualized vol of the ln VIX residual (e.g. 0.75).
    - ``vix_kappa``: mean-reversion speed of ln VIX, per year (>= 0).
    - ``vix_theta``: long-run VIX level in points; ``None`` = the market's VIX
      futures model theta (`alvh.VixFutures.theta`).
    - ``events``: scheduled `Event` s (dates outside the horizon are ignored).
    """

    name: str
    probability: float
    spx_drift: float
    diffusion_vol: float | None
    vix_beta: float
    vol_of_vix: float
    vix_kappa: float
    vix_theta: float | None
    events: tuple[Event, ...] = ()

    def __post_init__(self) -> None:
        _name("name", self.name)
        checked = {
            "probability": _in("probability", self.probability, 0.0, 1.0, low_open=True),
            "spx_drift": _in("spx_drift", self.spx_drift, -_MAX_DRIFT, _MAX_DRIFT),
            "vix_beta": _in("vix_beta", self.vix_beta, -_MAX_BETA, _MAX_BETA),
            "vol_of_vix": _in("vol_of_vix", self.vol_of_vix, 0.0, _MAX_VOL_OF_VIX),
            "vix_kappa": _in("vix_kappa", self.vix_kappa, 0.0, _MAX_KAPPA),
        }
        if self.diffusion_vol is not None:
            checked["diffusion_vol"] = _in("diffusion_vol", self.diffusion_vol, 0.0, _MAX_VOL)
        if self.vix_theta is not None:
            checked["vix_theta"] = _in("vix_theta", self.vix_theta, 0.0, _MAX_THETA, low_open=True)
        for field_name, value in checked.items():
            object.__setattr__(self, field_name, value)
        if isinstance(self.events, (str, bytes)) or not isinstance(self.events, Iterable):
            raise InputTypeError(f"events must be a sequence of Event, got {self.events!r}")
        events = tuple(self.events)
        for i, event in enumerate(events):
            if not isinstance(event, Event):
                raise InputTypeError(
                    f"events[{i}] must be an alvh.risk.scenarios.Event, got {type(event).__name__}"
                )
        object.__setattr__(self, "events", events)


@dataclass(frozen=True)
class ResolvedScenarios:
    """A `ScenarioSet` laid out for the engine: S scenarios, H = ``days`` steps.

    Step ``d`` (column ``d - 1``) is calendar day ``as_of + d``, ``d`` in 1..H.
    Per scenario (S,): ``probability``, ``drift``, ``diffusion_vol`` (NaN = from the
    VIX), ``vix_beta``, ``vol_of_vix``, ``vix_kappa``, ``vix_theta`` (points, the
    market default filled in). Per scenario and step (S, H): ``jump_mean``,
    ``jump_std`` (SPX log-return), ``vix_jump_mean``, ``vix_jump_std`` (ln VIX):
    events on the same day add (means add, variances add); zero on days without
    events. All arrays are float64 and read-only.
    """

    names: tuple[str, ...]
    probability: FloatArray
    drift: FloatArray
    diffusion_vol: FloatArray
    vix_beta: FloatArray
    vol_of_vix: FloatArray
    vix_kappa: FloatArray
    vix_theta: FloatArray
    jump_mean: FloatArray
    jump_std: FloatArray
    vix_jump_mean: FloatArray
    vix_jump_std: FloatArray
    days: int


@dataclass(frozen=True)
class ScenarioSet:
    """Named scenarios whose probabilities sum to 1 (within 1e-9), names unique.

    Errors name the offending field as ``scenarios[i].field``.
    """

    name: str
    scenarios: tuple[Scenario, ...]

    def __post_init__(self) -> None:
        _name("name", self.name)
        if isinstance(self.scenarios, (str, bytes)) or not isinstance(self.scenarios, Iterable):
            raise InputTypeError(f"scenarios must be a sequence of Scenario, got {self.scenarios!r}")
        scenarios = tuple(self.scenarios)
        if not scenarios:
            raise bad("scenarios", [], f"non-empty (scenario set {self.name!r})")
        seen: dict[str, int] = {}
        for i, scenario in enumerate(scenarios):
            if not isinstance(scenario, Scenario):
                raise InputTypeError(
                    f"scenarios[{i}] must be an alvh.risk.scenarios.Scenario, got {type(scenario).__name__}"
                )
            if scenario.name in seen:
                raise input_error(
                    f"scenarios[{i}].name must be unique in scenario set {self.name!r}; "
                    f"{scenario.name!r} is also scenarios[{seen[scenario.name]}].name",
                    arg=f"scenarios[{i}].name",
                    index=i,
                )
            seen[scenario.name] = i
        total = math.fsum(s.probability for s in scenarios)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise input_error(
                f"the probabilities of scenario set {self.name!r} must sum to 1; "
                f"they sum to {total!r} (scenarios[*].probability)",
                arg="scenarios[*].probability",
                value=total,
            )
        object.__setattr__(self, "scenarios", scenarios)

    @property
    def names(self) -> tuple[str, ...]:
        """The scenario names, in order."""
        return tuple(s.name for s in self.scenarios)

    def resolve(self, as_of: dt.date, days: int, *, vix_theta_default: float) -> ResolvedScenarios:
        """The engine's arrays for a projection from ``as_of`` over ``days`` calendar days.

        ``days`` in 1..30 (the engine's range; the CLI uses 5..10). An event dated
        ``as_of + d`` lands in column ``d - 1``; events before ``as_of + 1`` or after
        ``as_of + days`` are ignored, so a scenario whose events all fall outside
        keeps only its drift/vol differences. ``vix_theta_default`` (points, > 0) fills
        ``vix_theta = None`` — pass the market's `VixFutures.theta`.
        """
        as_of = _check_date("as_of", as_of)
        if isinstance(days, (bool, np.bool_)) or not isinstance(days, (int, np.integer)):
            raise InputTypeError(f"days must be an int, got {type(days).__name__} {days!r}")
        horizon = int(days)
        if not MIN_DAYS <= horizon <= MAX_DAYS:
            err = bad("days", horizon, f"in {MIN_DAYS}..{MAX_DAYS} (calendar days)")
            raise err
        theta_default = _in("vix_theta_default", vix_theta_default, 0.0, _MAX_THETA, low_open=True)
        count = len(self.scenarios)
        jump_mean = np.zeros((count, horizon))
        jump_var = np.zeros((count, horizon))
        vix_jump_mean = np.zeros((count, horizon))
        vix_jump_var = np.zeros((count, horizon))
        for row, scenario in enumerate(self.scenarios):
            for event in scenario.events:
                step = (event.date - as_of).days
                if 1 <= step <= horizon:
                    jump_mean[row, step - 1] += event.spx_jump_mean
                    jump_var[row, step - 1] += event.spx_jump_std**2
                    vix_jump_mean[row, step - 1] += event.vix_jump_mean
                    vix_jump_var[row, step - 1] += event.vix_jump_std**2

        def column(values: Iterable[float | None]) -> FloatArray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        arrays: dict[str, FloatArray] = {
            "probability": column(s.probability for s in self.scenarios),
            "drift": column(s.spx_drift for s in self.scenarios),
            "diffusion_vol": column(s.diffusion_vol for s in self.scenarios),
            "vix_beta": column(s.vix_beta for s in self.scenarios),
            "vol_of_vix": column(s.vol_of_vix for s in self.scenarios),
            "vix_kappa": column(s.vix_kappa for s in self.scenarios),
            "vix_theta": column(
                theta_default if s.vix_theta is None else s.vix_theta for s in self.scenarios
            ),
            "jump_mean": jump_mean,
            "jump_std": np.sqrt(jump_var),
            "vix_jump_mean": vix_jump_mean,
            "vix_jump_std": np.sqrt(vix_jump_var),
        }
        for array in arrays.values():
            array.setflags(write=False)
        return ResolvedScenarios(names=self.names, days=horizon, **arrays)

    def product(self, other: ScenarioSet, name: str | None = None) -> ScenarioSet:
        """Every pair ``(a, b)`` of ``self`` × ``other`` as one scenario ``"a × b"``.

        Rules (``a`` from ``self``, ``b`` from ``other``): probability ``pa * pb``
        (independence); ``spx_drift`` = ``a.spx_drift + b.spx_drift`` (each set
        contributes its view; the earnings built-ins have drift 0); events of ``a``
        then of ``b``; the dynamics (``vix_beta``, ``vol_of_vix``, ``vix_kappa``) are
        ``a``'s; ``diffusion_vol`` and ``vix_theta`` are ``a``'s unless ``a`` leaves
        them to the market (None) and ``b`` sets them. The set is named ``name`` or
        ``"self.name × other.name"``.
        """
        if not isinstance(other, ScenarioSet):
            raise InputTypeError(f"other must be a ScenarioSet, got {type(other).__name__}")
        combined = []
        for a in self.scenarios:
            for b in other.scenarios:
                combined.append(
                    Scenario(
                        name=f"{a.name} × {b.name}",
                        probability=a.probability * b.probability,
                        spx_drift=a.spx_drift + b.spx_drift,
                        diffusion_vol=a.diffusion_vol if a.diffusion_vol is not None else b.diffusion_vol,
                        vix_beta=a.vix_beta,
                        vol_of_vix=a.vol_of_vix,
                        vix_kappa=a.vix_kappa,
                        vix_theta=a.vix_theta if a.vix_theta is not None else b.vix_theta,
                        events=a.events + b.events,
                    )
                )
        return ScenarioSet(name=name or f"{self.name} × {other.name}", scenarios=tuple(combined))

    # ------------------------------------------------------------------ TOML

    def to_dict(self) -> dict[str, Any]:
        """The TOML document as a dict (``None`` spelled ``"vix"`` / ``"market"``)."""
        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "scenarios": [
                {
                    "name": s.name,
                    "probability": s.probability,
                    "spx_drift": s.spx_drift,
                    "diffusion_vol": "vix" if s.diffusion_vol is None else s.diffusion_vol,
                    "vix_beta": s.vix_beta,
                    "vol_of_vix": s.vol_of_vix,
                    "vix_kappa": s.vix_kappa,
                    "vix_theta": "market" if s.vix_theta is None else s.vix_theta,
                    "events": [
                        {
                            "name": e.name,
                            "date": e.date,
                            "spx_jump_mean": e.spx_jump_mean,
                            "spx_jump_std": e.spx_jump_std,
                            "vix_jump_mean": e.vix_jump_mean,
                            "vix_jump_std": e.vix_jump_std,
                        }
                        for e in s.events
                    ],
                }
                for s in self.scenarios
            ],
        }

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write the set to ``path`` atomically (temp file, fsync, rename)."""
        import tomli_w

        header = "# alvh scenario set (format: docs/scenarios.md)\n"
        text = header + tomli_w.dumps(self.to_dict())
        atomic_write(Path(path), text.encode("utf-8"))

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> ScenarioSet:
        """Read a set written in the format of ``docs/scenarios.md``.

        A malformed file, a missing or unknown key or a bad value raises
        `InvalidInputError` naming the file, the line where it can be found and the
        field (``scenarios[1].events[0].date``).
        """
        text, document = toml.load(path)
        return _ScenarioReader(text).read(document)


# --------------------------------------------------------------------------- TOML reading

_TOP_KEYS = {"format_version", "name", "scenarios"}
_SCENARIO_KEYS = {
    "name",
    "probability",
    "spx_drift",
    "diffusion_vol",
    "vix_beta",
    "vol_of_vix",
    "vix_kappa",
    "vix_theta",
    "events",
}
_EVENT_KEYS = {"name", "date", "spx_jump_mean", "spx_jump_std", "vix_jump_mean", "vix_jump_std"}


class _ScenarioReader:
    """Turns a parsed TOML document into a `ScenarioSet`; errors name the file, the
    line (found in the text: the n-th ``[[scenarios]]`` / ``[[scenarios.events]]``
    table, or an inline ``{...}``) and the dotted field."""

    def __init__(self, text: toml.TomlText) -> None:
        self.text = text
        self.source = text.source

    def error(self, field: str, problem: str) -> InvalidInputError:
        """``FILE:LINE: field FIELD: problem`` (`alvh._core.toml`)."""
        return self.text.error(field, problem)

    def known(self, table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                allowed_keys = ", ".join(sorted(allowed))
                raise self.error(f"{prefix}{key}", f"unknown key (allowed: {allowed_keys})")

    def value(self, table: Mapping[str, Any], prefix: str, key: str, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self.error(f"{prefix}{key}", "missing (required)")
            return default
        return table[key]

    def number(self, table: Mapping[str, Any], prefix: str, key: str, default: Any = ...) -> Any:
        if key not in table:
            return self.value(table, prefix, key, default)  # the default, or "missing"
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{prefix}{key}", f"must be a number, got {type(value).__name__} {value!r}")
        return float(value)

    def optional(self, table: Mapping[str, Any], prefix: str, key: str, word: str) -> float | None:
        """A number, or ``word`` / absent for None (the market's value)."""
        if key not in table or table[key] == word:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(
                f"{prefix}{key}",
                f"must be a number or {word!r}, got {type(value).__name__} {value!r}",
            )
        return float(value)

    def tables(self, table: Mapping[str, Any], prefix: str, key: str, required: bool) -> list[Any]:
        value = table.get(key, None)
        if value is None:
            if required:
                raise self.error(f"{prefix}{key}", "missing (required): add [[scenarios]] tables")
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            header = "scenarios.events" if prefix else "scenarios"
            raise self.error(f"{prefix}{key}", f"must be an array of tables [[{header}]]")
        return value

    def build(self, prefix: str, make: Any) -> Any:
        try:
            return make()
        except (InvalidInputError, InputTypeError) as exc:
            arg = getattr(exc, "arg", None) or str(exc).split(" ", 1)[0]
            raise self.error(f"{prefix}{arg}", str(_prefixed(prefix, exc))) from None

    def read(self, document: Mapping[str, Any]) -> ScenarioSet:
        self.known(document, "", _TOP_KEYS)
        version = document.get("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise self.error(
                "format_version",
                f"unsupported version {version!r} (this alvh reads {FORMAT_VERSION})",
            )
        name = self.value(document, "", "name")
        if not isinstance(name, str):
            raise self.error("name", f"must be a string, got {name!r}")
        scenarios = []
        for i, table in enumerate(self.tables(document, "", "scenarios", required=True)):
            scenarios.append(self.scenario(table, f"scenarios[{i}]."))
        try:
            return ScenarioSet(name=name, scenarios=tuple(scenarios))
        except (InvalidInputError, InputTypeError) as exc:
            arg = getattr(exc, "arg", None) or "scenarios"
            raise self.error(str(arg), str(exc)) from None

    def scenario(self, table: Mapping[str, Any], prefix: str) -> Scenario:
        self.known(table, prefix, _SCENARIO_KEYS)
        name = self.value(table, prefix, "name")
        events = []
        for j, event in enumerate(self.tables(table, prefix, "events", required=False)):
            events.append(self.event(event, f"{prefix}events[{j}]."))
        fields = {
            "name": name,
            "probability": self.number(table, prefix, "probability"),
            "spx_drift": self.number(table, prefix, "spx_drift"),
            "diffusion_vol": self.optional(table, prefix, "diffusion_vol", "vix"),
            "vix_beta": self.number(table, prefix, "vix_beta", VIX_BETA),
            "vol_of_vix": self.number(table, prefix, "vol_of_vix", VOL_OF_VIX),
            "vix_kappa": self.number(table, prefix, "vix_kappa", VIX_KAPPA),
            "vix_theta": self.optional(table, prefix, "vix_theta", "market"),
        }
        return self.build(prefix, lambda: Scenario(**fields, events=tuple(events)))

    def event(self, table: Mapping[str, Any], prefix: str) -> Event:
        self.known(table, prefix, _EVENT_KEYS)
        day = self.value(table, prefix, "date")
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise self.error(
                f"{prefix}date",
                f"must be a TOML date such as 2025-01-30 (unquoted), got {type(day).__name__} {day!r}",
            )
        fields = {
            "name": self.value(table, prefix, "name"),
            "date": day,
            "spx_jump_mean": self.number(table, prefix, "spx_jump_mean", 0.0),
            "spx_jump_std": self.number(table, prefix, "spx_jump_std", 0.0),
            "vix_jump_mean": self.number(table, prefix, "vix_jump_mean", 0.0),
            "vix_jump_std": self.number(table, prefix, "vix_jump_std", 0.0),
        }
        return self.build(prefix, lambda: Event(**fields))


# --------------------------------------------------------------------------- defaults
# Calibrated numbers are rounded from `alvh.risk.calibrate` (tests/test_calibrate.py
# recomputes them); the others are assumptions, said so where they are set.

# from alvh.risk.calibrate.spx_vix_dynamics() on arch's sp500/vix data, 2014-2018
# (1256 daily changes): OLS slope of d ln VIX on the SPX log-return, -8.04 +- 0.16.
VIX_BETA = -8.04
# from alvh.risk.calibrate.spx_vix_dynamics(), 2014-2018: residual std of that regression
# x sqrt(252) = 0.751.
VOL_OF_VIX = 0.75
# from alvh.risk.calibrate.spx_vix_dynamics(), 2014-2018: AR(1) of daily ln VIX, phi = 0.9499,
# kappa = -ln(phi) * 252 = 12.94 per year (half-life ~ 13 trading days). That sample's
# long-run level, 14.5 points, is a low-vol era's: the built-ins leave theta to the
# market's futures model instead (vix_theta = None).
VIX_KAPPA = 12.9

# from alvh.risk.calibrate.gdp_regimes() on statsmodels' macrodata (realgdp), 1959Q2-2009Q3,
# 202 quarters: the share of quarters in each growth regime (109, 37, 28, 28).
GDP_REGIME_PROBABILITY = {
    "expansion": 0.5396,
    "soft landing": 0.1832,
    "stall": 0.1386,
    "recession": 0.1386,
}
# from alvh.risk.calibrate.gdp_regimes(): mean annualized SPX log-return in the quarters of
# the regime, 1999Q1-2009Q3 (arch's sp500): expansion +0.164 +- 0.062 (15 quarters),
# recession -0.415 +- 0.183 (7 quarters). Soft landing (-0.07 +- 0.10, 13 quarters)
# and stall (+0.09 +- 0.07, 8 quarters) are too noisy even to order: their drifts
# below are ASSUMPTIONS, placed monotonically between the calibrated ends.
GDP_REGIME_DRIFT = {
    "expansion": 0.16,
    "soft landing": 0.05,  # assumption
    "stall": -0.10,  # assumption
    "recession": -0.42,
}
# from alvh.risk.calibrate.event_jumps() on arch's sp500, 1999-2018 (80 release days by the
# gdp_advance_release rule): GDP days are no more volatile than ordinary days (std
# 1.15 % vs 1.19 %), so the excess std is 0; likewise for ln VIX (20 days, 2014-2018).
GDP_SPX_JUMP_STD = 0.0
GDP_VIX_JUMP_STD = 0.0
# ASSUMPTION: the release-day SPX jump of each regime (the data cannot say: the
# mean release-day return per regime, 1999-2009, has 3-15 days each and the wrong
# signs). Kept small, as the calibration above finds no excess variance: the spread
# of these means across the regime probabilities is a std of ~0.35 %, within the
# noise of that estimate (the event/ordinary variance ratio has a standard error of
# ~16 % with 80 days). The VIX responds by VIX_BETA times the jump.
GDP_SPX_JUMP_MEAN = {
    "expansion": 0.0025,
    "soft landing": 0.0010,
    "stall": -0.0025,
    "recession": -0.0075,
}

# from alvh.risk.calibrate.event_jumps() on arch's sp500 1999-2018 (1574 earnings-season
# days): excess std of the SPX log-return on an earnings-season day, 0.344 %.
EARNINGS_SPX_EXCESS_STD = 0.0034
# from alvh.risk.calibrate.event_jumps() on arch's vix 2014-2018 (394 days): excess std of
# d ln VIX on an earnings-season day, 0.030.
EARNINGS_VIX_EXCESS_STD = 0.030
# ASSUMPTION: the season's outcome beat / inline / miss with probabilities 0.25 / 0.5
# / 0.25. External fact for context, not calibrated here: FactSet's "Earnings
# Insight" reports that about three quarters of S&P 500 companies beat their EPS
# estimate in a typical quarter (5- and 10-year averages in the mid-to-high 70s %).
# That usual beat is what the market expects, so "inline" is a season with the usual
# beat rate and "beat" / "miss" are the clearly better / worse quarter of seasons.
EARNINGS_PROBABILITY = {"beat": 0.25, "inline": 0.50, "miss": 0.25}
#: Business days in an earnings-season window (four weeks): how the calibrated
#: excess variance is split between the scenarios' means and their stds.
EARNINGS_SEASON_DAYS = 20

_GDP_REGIMES = ("expansion", "soft landing", "stall", "recession")
_EARNINGS_OUTCOMES = ("beat", "inline", "miss")


def _calibrated_dynamics() -> dict[str, Any]:
    return {
        "diffusion_vol": None,  # from the VIX (atm_vix_ratio * VIX_t / 100)
        "vix_beta": VIX_BETA,
        "vol_of_vix": VOL_OF_VIX,
        "vix_kappa": VIX_KAPPA,
        "vix_theta": None,  # the market's VIX futures model theta
    }


def gdp(as_of: dt.date) -> ScenarioSet:
    """GDP regimes at the next advance GDP release: expansion, soft landing, stall, recession.

    Regimes by annualized quarterly real GDP growth (`alvh.risk.calibrate.GDP_REGIME_BOUNDS`):
    expansion > 3 %, soft landing 1.5-3 %, stall 0-1.5 %, recession < 0.

    ==============  ===========  =========  ===============  ===============
    regime          probability  spx_drift  GDP-day SPX jump  GDP-day ln VIX
    ==============  ===========  =========  ===============  ===============
    expansion       0.5396 (c)   +0.16 (c)  +0.25 % (a)       -2.0 % (b)
    soft landing    0.1832 (c)   +0.05 (a)  +0.10 % (a)       -0.8 % (b)
    stall           0.1386 (c)   -0.10 (a)  -0.25 % (a)       +2.0 % (b)
    recession       0.1386 (c)   -0.42 (c)  -0.75 % (a)       +6.0 % (b)
    ==============  ===========  =========  ===============  ===============

    (c) calibrated: probabilities are the shares of quarters 1959Q2-2009Q3
    (`alvh.risk.calibrate.gdp_regimes`, statsmodels' macrodata): unconditional
    frequencies, not a forecast, and "recession" here is a quarter of negative
    growth, not an NBER recession; drifts are the mean annualized SPX log-return in
    that regime's quarters, 1999-2009 (15 and 7 quarters). (a) assumption; see the
    comments at `GDP_REGIME_DRIFT` and `GDP_SPX_JUMP_MEAN`. (b) ``VIX_BETA`` (-8.04,
    calibrated) times the SPX jump. Jump stds: 0 (calibrated: GDP days show no
    excess variance, `alvh.risk.calibrate.event_jumps`). Dynamics in every scenario:
    ``diffusion_vol`` from the VIX, ``vix_beta`` = -8.04, ``vol_of_vix`` = 0.75,
    ``vix_kappa`` = 12.9 (calibrated, `alvh.risk.calibrate.spx_vix_dynamics`), ``vix_theta``
    the market's.

    The event is dated `next_gdp_advance_release` (as_of): the last Thursday of
    Jan/Apr/Jul/Oct after ``as_of``. When it falls outside the projection's horizon
    the scenarios keep their drifts and differ by nothing else.
    """
    release = next_gdp_advance_release(as_of)
    scenarios = []
    for regime in _GDP_REGIMES:
        jump = GDP_SPX_JUMP_MEAN[regime]
        event = Event(
            name="gdp",
            date=release,
            spx_jump_mean=jump,
            spx_jump_std=GDP_SPX_JUMP_STD,
            vix_jump_mean=VIX_BETA * jump,
            vix_jump_std=GDP_VIX_JUMP_STD,
        )
        scenarios.append(
            Scenario(
                name=regime,
                probability=GDP_REGIME_PROBABILITY[regime],
                spx_drift=GDP_REGIME_DRIFT[regime],
                events=(event,),
                **_calibrated_dynamics(),
            )
        )
    return ScenarioSet(name="gdp", scenarios=tuple(scenarios))


def earnings(as_of: dt.date) -> ScenarioSet:
    """The earnings season: beat, inline, miss (probabilities 0.25 / 0.50 / 0.25, assumed).

    Events: one "earnings" event on each `earnings_season_days` day from
    ``as_of + 1`` to ``as_of + 30`` (the engine's longest horizon): the NYSE
    business days in the four weeks from the 15th of Jan/Apr/Jul/Oct. Outside a
    season the scenarios have no events and are identical.

    Per earnings day, from the calibrated excess std ``e`` of that day
    (`alvh.risk.calibrate.event_jumps`: SPX ``e`` = 0.0034, ln VIX ``e`` = 0.030): half
    of the excess variance is each scenario's jump std, ``e / sqrt(2)``; the other
    half separates the outcomes' means, ``+e / sqrt(20)`` per day for a beat (the
    VIX ``-e / sqrt(20)``), 0 inline, the opposite for a miss — over a
    20-business-day season the mixture then has exactly the calibrated excess
    variance ``20 e^2``. So the SPX jump mean is +/-0.076 % a day (about +/-0.6 %
    over the 8 earnings days of a 10-day horizon), the ln VIX jump mean -/+0.67 %.
    ``spx_drift`` is 0 (these scenarios are meant to be combined with `gdp`, whose
    drift then applies); dynamics as in `gdp`. The probabilities are an assumption
    (see `EARNINGS_PROBABILITY` for the external FactSet fact behind "inline").
    """
    as_of = _check_date("as_of", as_of)
    days = earnings_season_days(as_of + dt.timedelta(days=1), as_of + dt.timedelta(days=MAX_DAYS))
    spx_std = EARNINGS_SPX_EXCESS_STD / math.sqrt(2.0)
    vix_std = EARNINGS_VIX_EXCESS_STD / math.sqrt(2.0)
    spx_shift = EARNINGS_SPX_EXCESS_STD / math.sqrt(EARNINGS_SEASON_DAYS)
    vix_shift = EARNINGS_VIX_EXCESS_STD / math.sqrt(EARNINGS_SEASON_DAYS)
    direction = {"beat": 1.0, "inline": 0.0, "miss": -1.0}
    scenarios = []
    for outcome in _EARNINGS_OUTCOMES:
        sign = direction[outcome]
        events = tuple(
            Event(
                name="earnings",
                date=day,
                spx_jump_mean=sign * spx_shift,
                spx_jump_std=spx_std,
                vix_jump_mean=-sign * vix_shift,
                vix_jump_std=vix_std,
            )
            for day in days
        )
        scenarios.append(
            Scenario(
                name=outcome,
                probability=EARNINGS_PROBABILITY[outcome],
                spx_drift=0.0,
                events=events,
                **_calibrated_dynamics(),
            )
        )
    return ScenarioSet(name="earnings", scenarios=tuple(scenarios))


def gdp_x_earnings(as_of: dt.date) -> ScenarioSet:
    """`gdp` × `earnings` (`ScenarioSet.product`): 12 scenarios such as
    ``"recession × miss"``, probabilities multiplied, drifts from `gdp`, both sets'
    events, named ``"gdp_x_earnings"``."""
    return gdp(as_of).product(earnings(as_of), name="gdp_x_earnings")


#: The built-in scenario sets by name, for `by_name` and the command line.
BUILT_INS = {"gdp": gdp, "earnings": earnings, "gdp_x_earnings": gdp_x_earnings}


def by_name(name: str, as_of: dt.date) -> ScenarioSet:
    """The built-in scenario set ``name`` ("gdp", "earnings", "gdp_x_earnings") at ``as_of``."""
    if name not in BUILT_INS:
        raise input_error(
            f"unknown scenario set {name!r}; the built-ins are {', '.join(BUILT_INS)}",
            arg="name",
        )
    return BUILT_INS[name](as_of)
