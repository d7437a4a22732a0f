"""alvh: SPX iron condors under an Adaptive Layered VIX Hedge.

Fast vectorized option pricing and Greeks (`alvh.bsm`, `alvh.black76`) on a
compiled Rust core, with a numpy fallback of the same API.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from alvh import analytics, black76, bsm, calendar, errors, scenarios
from alvh._backend import backend, build_info, use_backend
from alvh.backtesting import BacktestResult, backtest
from alvh.chain import FitResult, SviFitResult, fit_svi, fit_vix_linked_skew, load_chain
from alvh.greeks import Greeks
from alvh.grid import Grid, scenario_grid
from alvh.instruments import SpxOption, VixFuture, VixOption
from alvh.market import Market, VixFutures, VixLinkedSkew
from alvh.decision import Decision
from alvh.journal import Journal
from alvh.policy import Policy
from alvh.position import Position
from alvh.projection import Projection, project
from alvh.scenarios import Event, Scenario, ScenarioSet
from alvh.svi import SviSlice, SviSurface

try:
    __version__ = version("alvh")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    # `alvh.data`, `alvh.indicators` and `alvh.state` import polars: load them on first use,
    # not with `import alvh`.
    if name in ("data", "indicators", "state"):
        return import_module(f"alvh.{name}")
    if name == "MarketState":
        return import_module("alvh.state").MarketState
    raise AttributeError(f"module 'alvh' has no attribute {name!r}")


__all__ = [
    "BacktestResult", "Decision", "Event", "FitResult", "Greeks", "Grid", "Journal", "Market",
    "Policy", "Position", "Projection", "Scenario", "ScenarioSet", "SpxOption", "SviFitResult",
    "SviSlice", "SviSurface", "VixFuture", "VixFutures", "VixLinkedSkew", "VixOption",
    "analytics", "backend", "backtest", "black76", "bsm", "build_info", "calendar", "errors",
    "fit_svi", "fit_vix_linked_skew", "load_chain", "project", "scenario_grid", "scenarios",
    "use_backend",
]
