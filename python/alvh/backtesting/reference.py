"""Published rule-based strategies to measure the layer policies against (the report's
"is ALVH any good?"), run by the same replay on the same condor book:

- `Vxth`, the Cboe VIX Tail Hedge index's rule as a hedge policy: at each monthly VIX
  expiry, buy one-month 30-delta VIX calls weighing a share of the portfolio set by the
  front VIX future: 0 % at or below 15, 1 % above 15 up to 30, 0.5 % above 30 up to 50,
  0 % above 50; held to their expiry and settled there. The front future is the market
  model's (`alvh.market.vix.VixFutures`, mean-reverting by default), not a listed price:
  the sample has no VIX futures history, and the report says so.
- `alvh.backtesting.daily.CondorRules.cndr`, the Cboe S&P 500 Iron Condor index's book.

A `Vxth` is written to and read from TOML (``kind = "vxth"``), its weights checked
against ``max_weight`` (the layer policy's ``sizing.layer_cap``, 2.5 %, by default).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alvh._core import toml
from alvh._core.checks import input_error
from alvh.errors import InputTypeError

__all__ = ["VXTH_BANDS", "Vxth"]

#: VXTH's weights: (front VIX future up to and including, weight of the portfolio).
VXTH_BANDS: tuple[tuple[float, float], ...] = ((15.0, 0.0), (30.0, 0.01), (50.0, 0.005), (math.inf, 0.0))


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputTypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if math.isnan(value):
        raise input_error(f"{name} must be a number; got {value!r}", arg=name, value=value)
    return float(value)


@dataclass(frozen=True)
class Vxth:
    """The VXTH rule (module doc): ``bands`` of (front future up to, weight), in rising
    order, the last open above (``inf``); calls of ``call_delta`` (Black-76 delta on the
    future, the strike on the 1-point grid nearest it); every weight at most
    ``max_weight`` of the portfolio."""

    name: str = "vxth"
    bands: tuple[tuple[float, float], ...] = VXTH_BANDS
    call_delta: float = 0.30
    max_weight: float = 0.025

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise input_error(f"name must be a non-empty string; got {self.name!r}", arg="name")
        cap = _number("max_weight", self.max_weight)
        if not 0.0 < cap <= 1.0:
            raise input_error(f"max_weight must be in (0, 1]; got {cap!r}", arg="max_weight", value=cap)
        delta = _number("call_delta", self.call_delta)
        if not 0.0 < delta < 1.0:
            raise input_error(f"call_delta must be in (0, 1); got {delta!r}", arg="call_delta", value=delta)
        bands = tuple(self.bands)
        if not bands:
            raise input_error("bands must list at least one (up_to, weight) band", arg="bands")
        previous = -math.inf
        for i, band in enumerate(bands):
            if not isinstance(band, (tuple, list)) or len(band) != 2:
                raise InputTypeError(f"bands[{i}] must be (up_to, weight); got {band!r}")
            up_to, weight = _number(f"bands[{i}].up_to", band[0]), _number(f"bands[{i}].weight", band[1])
            if up_to <= previous:
                raise input_error(
                    f"bands[{i}].up_to must rise above {previous:g}; got {up_to!r}",
                    arg=f"bands[{i}].up_to",
                    value=up_to,
                )
            if not 0.0 <= weight <= cap:
                raise input_error(
                    f"bands[{i}].weight must be in [0, max_weight = {cap:g}] (the sizing cap); "
                    f"got {weight!r}",
                    arg=f"bands[{i}].weight",
                    value=weight,
                )
            previous = up_to
        if bands[-1][0] != math.inf:
            raise input_error(
                "the last band must be open above (up_to = inf): every future needs a weight",
                arg=f"bands[{len(bands) - 1}].up_to",
            )
        object.__setattr__(self, "bands", tuple((float(u), float(w)) for u, w in bands))
        object.__setattr__(self, "call_delta", delta)
        object.__setattr__(self, "max_weight", cap)

    def weight(self, front_future: float) -> float:
        """The share of the portfolio in calls when the front future is ``front_future``."""
        future = _number("front_future", front_future)
        if not future > 0.0:
            raise input_error(f"front_future must be positive; got {future!r}", arg="front_future")
        return next(weight for up_to, weight in self.bands if future <= up_to)

    @property
    def version(self) -> str:
        """A 16-hex-digit hash of the rule (not its name), as `alvh.Policy.version`."""
        body = {"kind": "vxth", "bands": [list(b) for b in self.bands], "call_delta": self.call_delta}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # ----------------------------------------------------------------- TOML

    def to_dict(self) -> dict[str, Any]:
        """The TOML document (the open last band's ``up_to`` omitted: TOML has no inf)."""
        bands: list[dict[str, float]] = [
            {"weight": w} if u == math.inf else {"up_to": u, "weight": w} for u, w in self.bands
        ]
        return {
            "kind": "vxth",
            "name": self.name,
            "call_delta": self.call_delta,
            "max_weight": self.max_weight,
            "bands": bands,
        }

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write the rule as TOML (replaced whole, never half-written)."""
        import tomli_w

        from alvh._core.io import atomic_write

        atomic_write(Path(path), tomli_w.dumps(self.to_dict()).encode())

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Vxth:
        """The inverse of `to_dict`; unknown keys are errors."""
        known = {"kind", "name", "call_delta", "max_weight", "bands"}
        unknown = sorted(set(document) - known)
        if unknown:
            raise input_error(f"{unknown[0]}: not a known key ({', '.join(sorted(known))})", arg=unknown[0])
        if document.get("kind") != "vxth":
            raise input_error(f"kind must be 'vxth'; got {document.get('kind')!r}", arg="kind")
        items = document.get("bands", None)
        bands: Any = VXTH_BANDS
        if items is not None:
            if not isinstance(items, list):
                raise InputTypeError("bands must be an array of tables ([[bands]])")
            built = []
            for i, item in enumerate(items):
                if not isinstance(item, Mapping):
                    raise InputTypeError(f"bands[{i}] must be a table with up_to and weight")
                extra = sorted(set(item) - {"up_to", "weight"})
                if extra or "weight" not in item:
                    what = f"bands[{i}].{extra[0]}" if extra else f"bands[{i}].weight"
                    raise input_error(f"{what}: each band has up_to (omit on the last) and weight", arg=what)
                built.append((item.get("up_to", math.inf), item["weight"]))
            bands = tuple(built)
        return cls(
            name=document.get("name", "vxth"),
            bands=bands,
            call_delta=document.get("call_delta", 0.30),
            max_weight=document.get("max_weight", 0.025),
        )

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Vxth:
        """Read a ``kind = "vxth"`` TOML file; errors name the file and the field."""
        return toml.build(path, cls.from_dict)

    # ----------------------------------------------------------------- the trade

    def calls(self, market: Any, portfolio_value: float) -> tuple[Any, str] | None:
        """The month's calls in ``market`` for ``portfolio_value`` $: (an `alvh.Position` of
        them with their model prices, a description), or None when the weight is 0 or
        buys no whole call. The expiry is the first VIX expiry after today."""
        from alvh import black76
        from alvh.book.instruments import VixOption
        from alvh.book.position import Position
        from alvh.calendar import vix_expiries_after

        expiry = vix_expiries_after(market.as_of, 1)[0]
        future = float(market.vix_future(expiry))
        weight = self.weight(future)
        if weight <= 0.0:
            return None
        t, vol = float(market.t(expiry)), float(market.vix_option_vol(expiry))
        strikes = np.arange(max(1.0, math.floor(future * 0.5)), math.ceil(future * 3.0) + 1.0)
        g = black76.greeks(is_call=True, forward=future, strike=strikes, t=t, rate=market.rate, vol=vol)
        i = int(np.argmin(np.abs(np.asarray(g.delta) - self.call_delta)))
        strike, price = float(strikes[i]), float(np.asarray(g.price)[i])
        n = math.floor(weight * portfolio_value / (100.0 * price) + 0.5) if price > 0.0 else 0
        if n < 1:
            return None
        leg = VixOption(expiry, strike, True, n, round(price, 6))
        text = (
            f"VXTH: buy {n} VIX {expiry:%d %b %Y} {strike:g} calls at {price:.2f} "
            f"(delta {float(np.asarray(g.delta)[i]):.2f}; front future {future:.2f}: weight {weight:.1%})"
        )
        return Position((leg,)), text
