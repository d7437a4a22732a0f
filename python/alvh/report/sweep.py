"""The heatmap of a threshold sweep (`sweep_heatmap`): one metric over the layer-1 x
layer-2 start grid, green where better."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from alvh._core.plotting import checked_path, require_matplotlib, save
from alvh.errors import InvalidInputError

__all__ = ["sweep_heatmap"]

# Sweep metrics: (label, cell format, True where higher is better); others are shown
# with their column name, two decimals, higher better.
_SWEEP_METRICS: dict[str, tuple[str, str, bool]] = {
    "sharpe": ("Sharpe ratio", "{:.2f}", True),
    "sortino": ("Sortino ratio", "{:.2f}", True),
    "calmar": ("Calmar ratio", "{:.2f}", True),
    "annual_return": ("return on capital (% a year)", "{:+.1f}", True),
    "vol": ("annual vol (%)", "{:.1f}", False),
    "max_drawdown": ("max drawdown (%)", "{:.1f}", False),
    "worst_day": ("worst day (%)", "{:+.1f}", True),
    "cvar95_daily": ("daily CVaR 95 (%)", "{:.2f}", False),
    "hedge_spend": ("hedge spend ($)", "{:,.0f}", False),
}
_PERCENT_METRICS = frozenset({"annual_return", "vol", "max_drawdown", "worst_day", "cvar95_daily"})


def sweep_heatmap(
    frame: Any, path: str | os.PathLike[str], *, metric: str = "sharpe", context: str | None = None
) -> Path:
    """A heatmap of ``metric`` over the sweep's layer-1 start x layer-2 start
    (`alvh.backtesting.daily.sweep`'s frame), green where the metric is better (lower for
    drawdown, vol, CVaR and hedge spend); ``context`` (e.g. the policy and dates) goes
    into the title. Returns the PNG's path."""
    require_matplotlib("alvh.report.sweep")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    target = checked_path(path)
    if metric not in frame.columns:
        raise InvalidInputError(f"metric {metric!r} is not a sweep column ({', '.join(frame.columns)})")
    xs = sorted(set(frame["layer1_start"].to_list()))
    ys = sorted(set(frame["layer2_start"].to_list()))
    label, cell, higher_better = _SWEEP_METRICS.get(metric, (metric, "{:.2f}", True))
    scale = 100.0 if metric in _PERCENT_METRICS else 1.0
    grid = np.full((len(ys), len(xs)), np.nan)
    for row in frame.iter_rows(named=True):
        value = row[metric]
        grid[ys.index(row["layer2_start"]), xs.index(row["layer1_start"])] = (
            np.nan if value is None else scale * value
        )
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    image = ax.imshow(grid, origin="lower", cmap="RdYlGn" if higher_better else "RdYlGn_r", aspect="auto")
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    ax.set_xlabel("layer 1 band start (VIX)")
    ax.set_ylabel("layer 2 band start (VIX)")
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, cell.format(grid[i, j]), ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label=label)
    ax.set_title(f"{label} by layer band starts" + (f" ({context})" if context else ""))
    return save(fig, target)
