"""A threshold sweep's metrics judged the right way round: `rank_key` / `ranked` (best
first, by the metric's direction and sign) and the heatmap `sweep_heatmap` (green where
better, red where worse, with a signed metric's zero at the colour scale's centre).

Issue 18: the heatmap coloured a Sharpe of -0.55 dark green (the colour scale ran from
the sweep's worst to its best, so the least bad of a losing sweep looked good) and the
table ranked the pair with the best return and the lowest drawdown last (a Sharpe ratio
below zero rewards *more* volatility: -0.3 / 0.10 = -3.0 ranks under -0.3 / 0.20 =
-1.5). Here:

- **signed metrics** (Sharpe, Sortino, Calmar, return, worst day) are coloured on a
  diverging scale centred at 0: a negative Sharpe is red whatever the others;
- **magnitudes** where lower is better (vol, max drawdown, CVaR, hedge spend) run from
  green at the sweep's lowest to red at its highest;
- **risk-adjusted ratios** below zero rank by ``numerator x risk`` instead of
  ``numerator / risk`` (Israelsen, "A refinement to the Sharpe ratio and information
  ratio", Journal of Asset Management 5 (2005) 423-427): with a negative excess
  return, less risk is better, as with a positive one. The ratio itself is still what
  the table and the heatmap show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alvh._core.plotting import checked_path, require_matplotlib, save
from alvh._core.types import FloatArray
from alvh.errors import InvalidInputError

__all__ = ["METRICS", "SweepMetric", "colour_scale", "rank_key", "ranked", "sweep_heatmap"]


@dataclass(frozen=True)
class SweepMetric:
    """How to read one sweep column: its label and cell format, whether higher is
    better, whether its sign means something (zero = break-even: diverging colours),
    and for a risk-adjusted ratio the column of its risk (None: not a ratio)."""

    label: str
    cell: str
    higher_better: bool
    signed: bool
    ratio_of: str | None = None


#: The sweep's metrics. A column not listed is shown under its own name, two decimals,
#: higher better, signed.
METRICS: dict[str, SweepMetric] = {
    "sharpe": SweepMetric("Sharpe ratio", "{:.2f}", True, True, ratio_of="vol"),
    "sortino": SweepMetric("Sortino ratio", "{:.2f}", True, True, ratio_of="downside"),
    "calmar": SweepMetric("Calmar ratio", "{:.2f}", True, True, ratio_of="max_drawdown"),
    "annual_return": SweepMetric("return on capital (% a year)", "{:+.1f}", True, True),
    "worst_day": SweepMetric("worst day (%)", "{:+.1f}", True, True),
    "vol": SweepMetric("annual vol (%)", "{:.1f}", False, False),
    "max_drawdown": SweepMetric("max drawdown (%)", "{:.1f}", False, False),
    "cvar95_daily": SweepMetric("daily CVaR 95 (%)", "{:.2f}", False, False),
    "hedge_spend": SweepMetric("hedge spend ($)", "{:,.0f}", False, False),
}
_PERCENT_METRICS = frozenset({"annual_return", "vol", "max_drawdown", "worst_day", "cvar95_daily"})


def _metric(name: str) -> SweepMetric:
    return METRICS.get(name, SweepMetric(name, "{:.2f}", True, True))


def _column(frame: Any, name: str) -> FloatArray:
    return np.array([np.nan if v is None else float(v) for v in frame[name].to_list()], dtype=np.float64)


def _risk(frame: Any, metric: str) -> FloatArray | None:
    """The risk a ratio divides by, per row (None when the frame cannot give it)."""
    risk_of = _metric(metric).ratio_of
    if risk_of is None:
        return None
    if risk_of == "downside":  # sortino = excess / downside, sharpe = excess / vol
        if not {"sharpe", "vol", "sortino"} <= set(frame.columns):
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            return _column(frame, "sharpe") * _column(frame, "vol") / _column(frame, "sortino")
    return _column(frame, risk_of) if risk_of in frame.columns else None


def rank_key(frame: Any, metric: str) -> FloatArray:
    """Per row of ``frame`` (a sweep's Polars frame), a number that is larger where
    ``metric`` is better; NaN where the metric is missing. Lower-is-better metrics
    are negated; a risk-adjusted ratio below zero becomes ``ratio x risk^2`` (=
    numerator x risk, Israelsen 2005: see the module doc), which is still below zero
    and falls as the risk grows."""
    if metric not in frame.columns:
        raise InvalidInputError(f"metric {metric!r} is not a sweep column ({', '.join(frame.columns)})")
    info = _metric(metric)
    values = _column(frame, metric)
    if not info.higher_better:
        return -values
    risk = _risk(frame, metric)
    if risk is None:
        return values
    refined = np.where(values < 0.0, values * risk * risk, values)
    return np.where(np.isfinite(refined), refined, values)


def ranked(frame: Any, metric: str) -> Any:
    """``frame`` sorted best first by `rank_key` (missing metrics last, ties in the
    frame's order)."""
    import polars as pl

    key = rank_key(frame, metric)
    order = np.argsort(np.where(np.isnan(key), np.inf, -key), kind="stable")
    return frame[pl.Series(order)]


def sweep_heatmap(
    frame: Any, path: str | os.PathLike[str], *, metric: str = "sharpe", context: str | None = None
) -> Path:
    """A heatmap of ``metric`` over the sweep's layer-1 start x layer-2 start
    (`alvh.backtesting.daily.sweep`'s frame): green where better and red where worse
    (module doc: a signed metric's 0 at the centre), the best cell (`rank_key`) boxed;
    ``context`` (e.g. the policy and dates) goes into the title. Returns the PNG's path."""
    require_matplotlib("alvh.report.sweep")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    target = checked_path(path)
    key = rank_key(frame, metric)  # checks the metric
    xs = sorted(set(frame["layer1_start"].to_list()))
    ys = sorted(set(frame["layer2_start"].to_list()))
    info = _metric(metric)
    scale = 100.0 if metric in _PERCENT_METRICS else 1.0
    grid = np.full((len(ys), len(xs)), np.nan)
    cells = []
    for row in frame.iter_rows(named=True):
        value = row[metric]
        cell = (ys.index(row["layer2_start"]), xs.index(row["layer1_start"]))
        grid[cell] = np.nan if value is None else scale * value
        cells.append(cell)
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    cmap, norm = colour_scale(grid, metric)
    image = ax.imshow(grid, origin="lower", cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    ax.set_xlabel("layer 1 band start (VIX)")
    ax.set_ylabel("layer 2 band start (VIX)")
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, info.cell.format(grid[i, j]), ha="center", va="center", fontsize=8)
    if np.isfinite(key).any():
        best_i, best_j = cells[int(np.nanargmax(key))]
        ax.add_patch(Rectangle((best_j - 0.5, best_i - 0.5), 1, 1, fill=False, linewidth=2.2, color="black"))
    direction = "higher is better" if info.higher_better else "lower is better"
    fig.colorbar(image, ax=ax, label=f"{info.label} ({direction})")
    ax.set_title(f"{info.label} by layer band starts, best boxed" + (f"\n({context})" if context else ""))
    return save(fig, target)


def colour_scale(values: FloatArray, metric: str) -> tuple[str, Any]:
    """(colormap name, norm) for ``values`` of ``metric``: a signed metric on RdYlGn
    centred at 0 (reversed when lower is better), a magnitude from green at its lowest
    to red at its highest (reversed when higher is better)."""
    from matplotlib import colors as mcolors

    info = _metric(metric)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    cmap = "RdYlGn" if info.higher_better else "RdYlGn_r"
    if info.signed:
        if low < 0.0 < high:
            return cmap, mcolors.TwoSlopeNorm(vmin=low, vcenter=0.0, vmax=high)
        bound = max(abs(low), abs(high)) or 1.0
        return cmap, mcolors.Normalize(vmin=-bound, vmax=bound)
    return cmap, mcolors.Normalize(vmin=low, vmax=high if high > low else low + 1.0)
