"""The layer policy (DESIGN.md "The layer policy"), lowest module first:

- `indicators`: VIX, trend, volatility, correlation and breadth indicators (polars);
- `state`: the day's `MarketState` built from them, and its TOML format;
- `decision`: `Decision`, `Action`, `Diagnostic`, the record of one day's decision;
- `engine`: the decision procedure (diagnostics, layer, candidates, sizing, checks);
- `config`: `Policy` (layers, rules, sizing, its TOML) and `decide`;
- `journal`: the append-only SQLite journal of decisions and policies.

`state` and `indicators` import polars, so they load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from alvh.policy.config import ACTIONS, Layer, Policy, Rules, Sizing, decide
from alvh.policy.decision import Action, Decision, Diagnostic
from alvh.policy.journal import Journal

_LAZY = ("MarketState", "indicators", "state")


def __getattr__(name: str) -> Any:
    if name in ("indicators", "state"):
        return import_module(f"alvh.policy.{name}")
    if name == "MarketState":
        return import_module("alvh.policy.state").MarketState
    raise AttributeError(f"module 'alvh.policy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ACTIONS",
    "Action",
    "Decision",
    "Diagnostic",
    "Journal",
    "Layer",
    "MarketState",
    "Policy",
    "Rules",
    "Sizing",
    "decide",
]
