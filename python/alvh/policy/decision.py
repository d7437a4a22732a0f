"""The record of one policy decision (DESIGN.md "The layer policy": every decision
records the date, the VIX, the layer before and after, each diagnostic's value and
whether it fired, the chosen actions with sizes and costs, Greeks and projected CVaR
before and after, the breakeven migration, the policy's version and a plain-language
rationale).

`Decision` is plain data: `to_record` / `from_record` turn it into JSON-compatible
dicts (what `alvh.Journal` stores) and back, exactly (floats round-trip through
JSON's shortest repr). ``Policy.decide`` builds them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from alvh.errors import InputTypeError, InvalidInputError

__all__ = ["Action", "Decision", "Diagnostic"]


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic of the day: its ``value`` (None when the input was missing, and
    then ``fired`` is None and ``note`` says the rule was skipped), whether it
    ``fired``, the evidence in words, and its ``role`` when it fires
    (`alvh.policy.engine.ROLES`: "for" acting, "against" acting, a patience
    "condition", or "ignore"; None in records written before roles existed)."""

    name: str
    value: float | None
    fired: bool | None
    note: str
    role: str | None = None


@dataclass(frozen=True)
class Action:
    """A chosen hedge: the action (`alvh.policy.config.ACTIONS` key), what it trades, its size
    (contracts), its cost in $ (premium paid, negative when credited) and the $ it puts
    at risk (what the sizing caps bound)."""

    name: str
    description: str
    contracts: float
    cost: float
    risk: float


@dataclass(frozen=True)
class Decision:
    """One day's decision; see the module doc. Money in $, Greeks in trader units
    (``delta`` $ per 1 % SPX move, ``vega`` $ per vol point, ``theta`` $ per day),
    CVaR 95 of the projected P&L as a positive $ loss (None: no projection run)."""

    date: dt.date
    vix: float
    layer_before: int
    layer_after: int
    policy_version: str
    policy_name: str
    diagnostics: tuple[Diagnostic, ...]
    actions: tuple[Action, ...]
    greeks_before: Mapping[str, float]
    greeks_after: Mapping[str, float]
    cvar_before: float | None
    cvar_after: float | None
    breakevens_before: tuple[float, ...]
    breakevens_after: tuple[float, ...]
    rationale: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise InputTypeError(f"date must be a datetime.date, got {self.date!r}")
        if not (isinstance(self.vix, (int, float)) and math.isfinite(self.vix) and self.vix > 0):
            raise InvalidInputError(f"vix must be a positive number; got {self.vix!r}")
        for name in ("layer_before", "layer_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
                raise InvalidInputError(f"{name} must be a layer 0..3; got {value!r}")
        if not isinstance(self.rationale, str) or not self.rationale.strip():
            raise InvalidInputError("rationale must be a non-empty text")
        object.__setattr__(self, "diagnostics", tuple(self.diagnostics))
        object.__setattr__(self, "actions", tuple(self.actions))
        object.__setattr__(self, "breakevens_before", tuple(self.breakevens_before))
        object.__setattr__(self, "breakevens_after", tuple(self.breakevens_after))

    def hedge(self) -> Any:
        """The chosen hedge's legs as an `alvh.Position` (empty without an action), with
        their entry prices (the model prices the decision was costed at)."""
        from alvh.book.position import Position

        records = [
            {**r, "expiry": dt.date.fromisoformat(r["expiry"])} for r in self.extra.get("hedge_legs", [])
        ]
        return Position.from_leg_records(records, name=f"hedge {self.date}")

    def to_record(self) -> dict[str, Any]:
        """JSON-compatible dict (dates as ISO text)."""
        record = asdict(self)
        record["date"] = self.date.isoformat()
        record["greeks_before"] = dict(self.greeks_before)
        record["greeks_after"] = dict(self.greeks_after)
        record["extra"] = dict(self.extra)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Decision:
        """The inverse of `to_record`."""
        data = dict(record)
        data["date"] = dt.date.fromisoformat(data["date"])
        data["diagnostics"] = tuple(Diagnostic(**d) for d in data["diagnostics"])
        data["actions"] = tuple(Action(**a) for a in data["actions"])
        return cls(**data)
