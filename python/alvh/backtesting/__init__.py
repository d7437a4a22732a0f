"""Backtests on real history (DESIGN.md "Backtest"): the data loaders and the bundled
sample (`data`, polars; loaded on first use), the daily replay of the condor book under
a policy (`replay`), policies side by side and the verdict (`compare`), and threshold
sweeps (`sweep`)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from alvh.backtesting.comparison import BacktestResult, Difference, backtest, compare, verdict
from alvh.backtesting.daily import Assumptions, CondorRules, Costs, Replay, metrics, replay
from alvh.backtesting.sweeps import sweep


def __getattr__(name: str) -> Any:
    if name == "data":
        return import_module("alvh.backtesting.data")
    raise AttributeError(f"module 'alvh.backtesting' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"data"})


__all__ = [
    "Assumptions",
    "BacktestResult",
    "CondorRules",
    "Costs",
    "Difference",
    "Replay",
    "backtest",
    "compare",
    "metrics",
    "replay",
    "sweep",
    "verdict",
]
