"""The numpy backend's kernel module: every function of `alvh._native`, with the same
signatures and semantics (`alvh._core.backend` hands this module to the callers when the
backend is ``"python"``). The kernels live by family: `pricing` (price, Greeks, implied
vol), `grid` (the scenario grid) and `projection` (the Monte Carlo projection and its
statistics).
"""

from __future__ import annotations

from alvh._fallback.grid import scenario_grid
from alvh._fallback.pricing import greeks, implied_vol, price
from alvh._fallback.projection import monte_carlo, pnl_statistics

__all__ = ["greeks", "implied_vol", "monte_carlo", "pnl_statistics", "price", "scenario_grid"]
