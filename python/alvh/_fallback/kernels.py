"""The numpy backend's kernel module: every function and constant of `alvh._native`,
with the same signatures, values and semantics (`alvh._core.backend` hands this module
to the callers when the backend is ``"python"``). The kernels live by family: `pricing`
(price, Greeks, implied vol), `grid` (the scenario grid) and `projection` (the Monte
Carlo projection and its statistics, and the projection's constants).
"""

from __future__ import annotations

from alvh._fallback.grid import scenario_grid
from alvh._fallback.pricing import greeks, implied_vol, price
from alvh._fallback.projection import (
    ADDITIVE,
    GREEKS,
    STATS,
    STICKY_MONEYNESS,
    TOUCH_KINDS,
    monte_carlo,
    pnl_statistics,
)

__all__ = [
    "ADDITIVE",
    "GREEKS",
    "STATS",
    "STICKY_MONEYNESS",
    "TOUCH_KINDS",
    "greeks",
    "implied_vol",
    "monte_carlo",
    "pnl_statistics",
    "price",
    "scenario_grid",
]
