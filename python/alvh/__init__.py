"""alvh: SPX iron condors under an Adaptive Layered VIX Hedge.

Fast vectorized option pricing and Greeks (`alvh.bsm`, `alvh.black76`) on a
compiled Rust core, with a numpy fallback of the same API. The subpackages are the
layers of docs/architecture.md, each importing only the ones below it:
`pricing` -> `market` -> `book` -> `risk` -> `policy` -> `backtest` -> `report` -> `cli`.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from alvh import black76, bsm, calendar, errors
from alvh._core.backend import backend, build_info, use_backend
from alvh.backtesting import BacktestResult, Replay, backtest
from alvh.book import Position, SpxOption, VixFuture, VixOption, analytics
from alvh.market import (
    FitResult,
    Market,
    SsviSurface,
    SviFitResult,
    SviSlice,
    SviSurface,
    VixFutures,
    VixTermStructure,
    check_arbitrage,
    fit_ssvi,
    fit_svi,
    load_chain,
    vix_index,
)
from alvh.policy import Decision, Journal, Policy, decide
from alvh.pricing import Greeks
from alvh.risk import Event, Grid, Projection, Scenario, ScenarioSet, project, scenario_grid, scenarios

try:
    __version__ = version("alvh")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# `alvh.data`, `alvh.indicators`, `alvh.state` and `alvh.MarketState` import polars: they
# load on first use, not with `import alvh`.
_LAZY = {
    "data": "alvh.backtesting.data",
    "indicators": "alvh.policy.indicators",
    "state": "alvh.policy.state",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return import_module(_LAZY[name])
    if name == "MarketState":
        return import_module("alvh.policy.state").MarketState
    raise AttributeError(f"module 'alvh' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"MarketState"})


__all__ = [
    "BacktestResult",
    "Decision",
    "Event",
    "FitResult",
    "Greeks",
    "Grid",
    "Journal",
    "Market",
    "MarketState",
    "Policy",
    "Position",
    "Projection",
    "Replay",
    "Scenario",
    "ScenarioSet",
    "SpxOption",
    "SsviSurface",
    "SviFitResult",
    "SviSlice",
    "SviSurface",
    "VixFuture",
    "VixFutures",
    "VixOption",
    "VixTermStructure",
    "analytics",
    "backend",
    "backtest",
    "black76",
    "bsm",
    "build_info",
    "calendar",
    "check_arbitrage",
    "decide",
    "errors",
    "fit_ssvi",
    "fit_svi",
    "load_chain",
    "project",
    "scenario_grid",
    "scenarios",
    "use_backend",
    "vix_index",
]
