"""The projection's fan chart (`projection_fan`): how the scenarios differ, on one page.

Four panels: (1) the probability-weighted mixture's P&L fan (1-99 %, 5-95 %, 25-75 %
bands, median, mean) from today's mark to the horizon; (2) every scenario's median
P&L path overlaid on one axis (its own scale), the mixture's in black; (3) each scenario's P&L at the
horizon — 5-95 % whisker, 25-75 % box, median tick, mean dot — sorted by mean, with
its CVaR 95 loss; (4) each scenario's expected VIX path (every draw at zero), which is
where a GDP scenario's drift reaches a short-vega book. Thirteen near-identical fan
panels (one per scenario) hid those differences: the bands are dominated by the
diffusion every scenario shares.

CVaR and VaR are **positive losses** here as in the CLI's table and `Projection.stats`
("CVaR95 loss $18,112"): one sign convention for the number a trader compares.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh._core.plotting import checked_path, money, require_matplotlib, save
from alvh._core.types import FloatArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from alvh.risk.projection import Projection

__all__ = ["cvar_label", "fan_days", "fan_figure", "projection_fan", "stat_path"]

_MIXTURE_COLOUR = "#b2182b"


def cvar_label(loss: float, level: int = 95) -> str:
    """``CVaR95 loss $18,112``: the expected loss in the worst (100 - level) %, a
    positive number of dollars (a gain in the tail, rare, shows as ``gain $…``)."""
    if loss < 0:
        return f"CVaR{level} gain ${-loss:,.0f}"
    return f"CVaR{level} loss ${loss:,.0f}"


def projection_fan(projection: Projection, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write the fan chart of ``projection`` (`fan_figure`) to ``path`` as a PNG
    (atomically); returns the path."""
    target = checked_path(path)
    return save(fan_figure(projection, title=title), target)


def fan_figure(projection: Projection, *, title: str | None = None) -> Figure:
    """The fan chart's figure (see the module doc), on an Agg canvas."""
    require_matplotlib("alvh.risk.fan")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15.0, 9.0), layout="constrained")
    FigureCanvasAgg(fig)
    (fan_ax, medians_ax), (horizon_ax, vix_ax) = fig.subplots(2, 2)
    colours = _scenario_colours(len(projection.names))
    _draw_mixture_fan(fan_ax, projection)
    _draw_medians(medians_ax, projection, colours)  # its own scale: the bands would flatten it
    _draw_horizon(horizon_ax, projection, colours)
    _draw_expected_vix(vix_ax, projection, colours)
    n = len(projection.names)
    fig.suptitle(
        title
        or f"Projected P&L vs today's mark, {n} scenario{'s' if n != 1 else ''}, "
        f"{projection.paths:,} paths per scenario (as of {projection.as_of:%d %b %Y}, "
        f"seed {projection.seed})",
        fontsize=12,
        fontweight="bold",
    )
    return fig


def _scenario_colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(k % cmap.N) for k in range(n)]


def stat_path(table: FloatArray, projection: Projection, stat: str) -> FloatArray:
    """Day 0 (P&L 0 at today's mark) then days 1..H of one statistic."""
    column = projection.stat_names.index(stat)
    return np.concatenate(([0.0], np.asarray(table)[:, column]))


def fan_days(projection: Projection) -> FloatArray:
    """The fan's day axis: 0 (today) to the horizon, as floats."""
    return np.arange(projection.days + 1, dtype=np.float64)


def _money_axis(ax: Axes) -> None:
    from matplotlib import ticker

    ax.yaxis.set_major_formatter(ticker.FuncFormatter(money))
    ax.grid(alpha=0.3)


def _draw_mixture_fan(ax: Axes, projection: Projection) -> None:
    days, table = fan_days(projection), projection.mixture
    for low, high, alpha in (("q01", "q99", 0.12), ("q05", "q95", 0.2), ("q25", "q75", 0.3)):
        ax.fill_between(
            days,
            stat_path(table, projection, low),
            stat_path(table, projection, high),
            color=_MIXTURE_COLOUR,
            alpha=alpha,
            linewidth=0,
            label=f"{low[1:]}-{high[1:]} %",
        )
    ax.plot(days, stat_path(table, projection, "q50"), color=_MIXTURE_COLOUR, linewidth=1.8, label="median")
    ax.plot(
        days, stat_path(table, projection, "mean"), color="black", linewidth=1.0, linestyle="--", label="mean"
    )
    ax.axhline(0.0, color="grey", linewidth=0.7)
    last = table[-1]
    stat = projection.stat_names.index
    ax.set_title(
        f"Mixture (scenarios weighted by probability), day {projection.days}: mean "
        f"{money(float(last[stat('mean')]))}, P(profit) {last[stat('p_profit')]:.0%}, "
        f"{cvar_label(float(last[stat('cvar95')]))}".replace("$", r"\$"),
        fontsize=9.5,
        fontweight="bold",
    )
    ax.legend(fontsize=8, loc="lower left")
    ax.set_xlabel("days forward")
    ax.set_ylabel("P&L vs today's mark ($)")
    _money_axis(ax)


def _draw_medians(ax: Axes, projection: Projection, colours: list[Any]) -> None:
    days = fan_days(projection)
    for s, name in enumerate(projection.names):
        ax.plot(
            days,
            stat_path(projection.stats[s], projection, "q50"),
            color=colours[s],
            linewidth=1.4,
            label=f"{name} ({projection.probability[s]:.0%})",
        )
    ax.plot(
        days,
        stat_path(projection.mixture, projection, "q50"),
        color="black",
        linewidth=2.2,
        linestyle="--",
        label="mixture",
    )
    ax.axhline(0.0, color="grey", linewidth=0.7)
    ax.set_title("Median P&L path of each scenario (probability); own scale", fontsize=9.5)
    ax.legend(fontsize=7, loc="lower left", ncols=2 if len(projection.names) > 6 else 1)
    ax.set_xlabel("days forward")
    _money_axis(ax)


def _draw_horizon(ax: Axes, projection: Projection, colours: list[Any]) -> None:
    """Each scenario's P&L at the horizon, sorted by mean (worst at the bottom)."""
    stat = projection.stat_names.index
    last = projection.stats[:, -1]
    order = np.argsort(last[:, stat("mean")], kind="stable")
    for row, s in enumerate(order):
        q = {k: float(last[s, stat(k)]) for k in ("q05", "q25", "q50", "q75", "q95", "mean", "cvar95")}
        ax.plot([q["q05"], q["q95"]], [row, row], color=colours[s], linewidth=1.2)
        ax.barh(row, q["q75"] - q["q25"], left=q["q25"], height=0.5, color=colours[s], alpha=0.45)
        ax.plot([q["q50"]] * 2, [row - 0.25, row + 0.25], color=colours[s], linewidth=2.0)
        ax.plot(q["mean"], row, "o", color="black", markersize=4)
        ax.annotate(
            cvar_label(q["cvar95"]).replace("$", r"\$"),
            (q["q95"], row),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(range(len(order)), [projection.names[s] for s in order], fontsize=8)
    ax.axvline(0.0, color="grey", linewidth=0.7)
    ax.set_title(
        f"P&L at day {projection.days}: 5-95 % whisker, 25-75 % box, median tick, mean dot",
        fontsize=9.5,
    )
    from matplotlib import ticker

    ax.xaxis.set_major_formatter(ticker.FuncFormatter(money))
    ax.grid(alpha=0.3, axis="x")
    ax.margins(x=0.18)


def _draw_expected_vix(ax: Axes, projection: Projection, colours: list[Any]) -> None:
    rep = projection.representative
    if not rep:
        ax.text(0.5, 0.5, "no expected paths (representative=False)", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    days = fan_days(projection)
    for s, name in enumerate(projection.names):
        path = np.concatenate(([projection.start_vix], rep["vix"][s]))
        ax.plot(days, path, color=colours[s], linewidth=1.4, label=name)
        ax.annotate(
            f"{path[-1]:.2f}",
            (days[-1], path[-1]),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color=colours[s],
        )
    ax.margins(x=0.06)
    ax.set_title("Expected VIX path of each scenario (every draw at zero)", fontsize=9.5)
    ax.set_xlabel("days forward")
    ax.set_ylabel("VIX (points)")
    ax.grid(alpha=0.3)
