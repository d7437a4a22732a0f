"""Pictures of a book, written as PNG files (matplotlib, imported on first use).

- `risk_graph(grid, path, ...)`: the risk graph a thinkorswim / OptionNet Explorer
  user expects. Left: P&L ($) against the SPX level at T+0, T+5, T+10 (the grid's
  days that exist, VIX unchanged), at T+0 with the VIX moving with the SPX (the
  projection's calibrated link), and at expiry with every leg (VIX legs at their
  model value then, the hedge's cost in), with the short strikes (dashed), the
  breakevens (dots on the zero line), the current spot and the zero line.
  Right: the day-0 P&L over SPX move x VIX shift, a diverging map centred at $0
  (red = loss, green = profit) with the $0 contour and today's cell marked. Both
  panels measure P&L from the same baseline (entry, when the position is known).
- `projection_fan` (from `alvh.risk.fan`): the projection's fan chart.

matplotlib is an optional dependency (``pip install alvh[plot]``), imported on the
first call; the figure renders on an Agg canvas without pyplot, so no display is
needed and an interactive session's backend is not touched. Files are written
atomically (rendered in memory, then a temporary file in the same directory and
``os.replace``): a crash never leaves a half-written picture behind.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh._core.plotting import checked_path, money, require_matplotlib, save, signed
from alvh._core.types import FloatArray
from alvh.book.instruments import SpxOption
from alvh.errors import InvalidInputError
from alvh.risk.fan import projection_fan

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    from alvh.book.position import Position
    from alvh.market.snapshot import Market
    from alvh.risk.grid import Grid

__all__ = ["breakevens", "expiry_curve", "linked_curve", "pnl_basis", "projection_fan", "risk_graph"]


#: The T+N curves of the left panel (those of them the grid has).
CURVE_DAYS = (0, 5, 10)

_CURVE_COLOURS = ("#1f5fbf", "#7b3fb5", "#d9822b", "#6b6b6b")  # T+0, T+5, T+10, spare
_EXPIRY_COLOUR = "#111111"
_LINKED_COLOUR = "#c2185b"
#: The linked VIX is kept at or below the projection's path bound (150 points).
_LINKED_VIX_MAX = 150.0

#: A secondary axis' (forward, inverse) conversion, as matplotlib takes it.
_Scale = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def breakevens(x: FloatArray, y: FloatArray) -> list[float]:
    """Where the sampled curve ``y(x)`` crosses 0 (linear interpolation between samples)."""
    roots: list[float] = []
    finite = np.isfinite(y)
    for i in range(x.size - 1):
        if not (finite[i] and finite[i + 1]):
            continue
        a, b = float(y[i]), float(y[i + 1])
        if a == 0.0:
            roots.append(float(x[i]))
        elif (a < 0.0 < b) or (b < 0.0 < a):
            roots.append(float(x[i] + (x[i + 1] - x[i]) * a / (a - b)))
    return roots


def expiry_curve(
    position: Position, market: Market | None, spx_levels: FloatArray
) -> tuple[FloatArray, str] | None:
    """$ P&L at the SPX expiry (vs entry) over ``spx_levels`` and its legend label.

    Only when the SPX legs share one expiry. Every leg is in it: the SPX legs at
    intrinsic, the VIX legs at their model value on the SPX expiry day
    (`alvh.book.analytics.value_at_spots` in the market bumped to that day, VIX
    unchanged: a VIX option still alive on Black-76 on its future, one expired by then
    settled on its future), minus every leg's entry cost — the hedge's cost is in the
    line, and the label gives it. Without a market (or when the market cannot be
    carried to the SPX expiry) a book with VIX legs falls back to its SPX legs alone,
    and the label says so.
    """
    from alvh.book.analytics import expiry_pnl, value_at_spots
    from alvh.book.position import Position as _Position

    spx_legs = [leg for leg in position.legs if isinstance(leg, SpxOption)]
    if not spx_legs or len({leg.expiry for leg in spx_legs}) != 1:
        return None
    expiry = spx_legs[0].expiry
    other = [leg for leg in position.legs if not isinstance(leg, SpxOption)]
    label = f"expiry {expiry:%d %b %Y}"
    if not other:
        return expiry_pnl(_Position(legs=tuple(spx_legs)), spx_levels), label
    spx_only = expiry_pnl(_Position(legs=tuple(spx_legs)), spx_levels), f"{label} (SPX legs only)"
    if market is None:
        return spx_only
    try:
        on_expiry = market.bump(days=(expiry - market.as_of).days, dynamics=market.dynamics)
    except InvalidInputError:  # e.g. a listed futures curve that ends before the expiry
        return spx_only
    entry_cost = math.fsum(leg.entry_cost for leg in position.legs)
    hedge_cost = math.fsum(leg.entry_cost for leg in other)
    pnl = value_at_spots(position, market, spx_levels, on_expiry) - entry_cost
    hedge = f"hedge cost ${hedge_cost:,.0f}" if hedge_cost >= 0 else f"hedge credit ${-hedge_cost:,.0f}"
    return pnl, f"{label}, all legs (VIX legs at model, {hedge} in)"


def _zero_shift_index(vol_shifts: FloatArray) -> int:
    return int(np.argmin(np.abs(vol_shifts)))


@dataclass(frozen=True)
class _Curve:
    """One line of the left panel: $ P&L over the view's SPX levels."""

    pnl: FloatArray
    label: str  # "T+5", or "expiry ..." (`expiry_curve`)
    colour: str
    width: float
    breakevens: tuple[float, ...]  # marked for T+0 and expiry only (empty for the others)
    style: str = "-"


@dataclass(frozen=True)
class _RiskView:
    """What the risk graph draws, taken from a grid with its axes sorted increasing."""

    moves: FloatArray  # relative SPX moves
    shifts: FloatArray  # VIX shifts, points
    spx: FloatArray  # SPX level at each move
    base_spot: float
    flat: int  # the shift nearest 0: the left panel's VIX level
    basis: str  # what both panels' P&L is measured from ("vs entry" / "vs today's mark")
    curves: list[_Curve]  # T+N (at the flat shift), T+0 with the VIX linked, then expiry
    heat_day: int  # the heatmap's day (T+0 when the grid has it)
    heat: FloatArray  # P&L (same basis as the curves) on that day, shifts x moves
    vix: float  # the grid's VIX, points


def _risk_view(grid: Grid, position: Position | None, market: Market | None) -> _RiskView:
    """The grid's axes sorted, the left panel's curves (with breakevens) and the heatmap's
    day slice; `InvalidInputError` when ``grid.pnl`` does not match the grid's axes."""
    moves = np.asarray(grid.spot_moves, dtype=np.float64)
    shifts = np.asarray(grid.vol_shifts, dtype=np.float64)
    days = [int(d) for d in np.asarray(grid.days).reshape(-1)]
    base_spot = float(grid.spot)
    pnl = np.asarray(grid.pnl, dtype=np.float64)
    if pnl.shape != (len(days), shifts.size, moves.size):
        raise InvalidInputError(
            f"grid.pnl has shape {pnl.shape}; expected (days, vol_shifts, spot_moves) = "
            f"{(len(days), shifts.size, moves.size)}"
        )
    # Axes in increasing order (the grid keeps the caller's order; lines and the
    # heatmap need it sorted).
    move_order, shift_order = np.argsort(moves, kind="stable"), np.argsort(shifts, kind="stable")
    moves, shifts = moves[move_order], shifts[shift_order]
    pnl = pnl[:, shift_order][:, :, move_order]
    spx = base_spot * (1.0 + moves)
    flat = _zero_shift_index(shifts)

    offset, basis = pnl_basis(grid, position)

    lines: list[tuple[FloatArray, str, str, float, str]] = []
    wanted = [d for d in CURVE_DAYS if d in days] or days[:1]
    for colour, d in zip(_CURVE_COLOURS, wanted):
        lines.append((pnl[days.index(d), flat] + offset, f"T+{d}", colour, 2.0, "-"))
    if position is not None and market is not None and 0 in days:
        linked = linked_curve(grid, market, moves)
        if linked is not None:
            lines.append((linked[0] + offset, linked[2], _LINKED_COLOUR, 1.8, "--"))
    if position is not None:
        expiry = expiry_curve(position, market, spx)
        if expiry is not None:  # vs entry, as the T+N curves are here
            lines.append((expiry[0], expiry[1], _EXPIRY_COLOUR, 2.2, "-"))
    # Breakevens: T+0 and expiry, the two a trader reads off.
    curves = [
        _Curve(
            y,
            label,
            colour,
            width,
            tuple(breakevens(spx, y)) if label == "T+0" or label.startswith("expiry") else (),
            style,
        )
        for y, label, colour, width, style in lines
    ]

    day_index = days.index(0) if 0 in days else 0
    return _RiskView(
        moves=moves,
        shifts=shifts,
        spx=spx,
        base_spot=base_spot,
        flat=flat,
        basis=basis,
        curves=curves,
        heat_day=days[day_index],
        heat=pnl[day_index] + offset,
        vix=float(grid.vix),
    )


#: Points on which the VIX-linked curve is revalued (then interpolated onto the grid's
#: spot axis): one scenario grid of this many moves x as many VIX shifts, day 0.
LINKED_POINTS = 101


def linked_curve(grid: Grid, market: Market, moves: FloatArray) -> tuple[FloatArray, FloatArray, str] | None:
    """``(pnl, vix, label)``: T+0 P&L (vs today's mark) with the VIX moving with the SPX,
    and that VIX (points), on ``moves`` (`Grid.vix_linked_pnl`: ``VIX = VIX_0
    (S / S_0)^vix_beta``, the projection's calibrated link, -8.04 — at -10 % a VIX of 19.5
    becomes 45). The two axes of a risk graph move independently; markets do not.
    Revalued on at most `LINKED_POINTS` moves and interpolated; None when the market
    cannot price a VIX that far."""
    from alvh.risk.scenarios import VIX_BETA

    sample = moves if moves.size <= LINKED_POINTS else np.linspace(moves[0], moves[-1], LINKED_POINTS)
    try:
        vix, pnl = grid.vix_linked_pnl(sample, vix_max=_LINKED_VIX_MAX)
    except InvalidInputError:
        return None
    if sample is not moves:
        pnl, vix = np.interp(moves, sample, pnl), np.interp(moves, sample, vix)
    return pnl, vix, f"T+0, VIX moving with SPX (VIX {float(market.vix):g} x (S/S0)^{VIX_BETA:g})"


def pnl_basis(grid: Grid, position: Position | None) -> tuple[float, str]:
    """``(offset, basis)``: what to add to ``grid.pnl`` (P&L vs today's mark) to measure
    it from the risk graph's baseline, and that baseline's name. With the position's
    entry prices, P&L against entry (what a broker's risk graph shows: ``pnl`` + today's
    mark - the entry cost, "vs entry"); without a position, 0 and "vs today's mark"."""
    if position is None:
        return 0.0, "vs today's mark"
    entry_cost = math.fsum(leg.entry_cost for leg in position.legs)
    return float(grid.base_value) - entry_cost, "vs entry"


def risk_graph(
    grid: Grid,
    path: str | os.PathLike[str],
    *,
    position: Position | None = None,
    market: Market | None = None,
    title: str | None = None,
) -> Path:
    """Write the risk graph of ``grid`` to ``path`` as a PNG; returns the path.

    ``position`` and ``market`` default to the ones the grid was built from (pass
    those same ones, if any). The position gives the short strikes, the expiry curve
    and the entry prices: both panels show P&L against entry (``grid.pnl`` plus
    today's mark minus the entry cost), as a broker's risk graph does, and say so
    (without a position: against today's mark). The market values the VIX legs on the
    expiry curve, gives the T+0 curve with the VIX moving with the SPX
    (`linked_curve`) and labels the heatmap's VIX levels. ``title`` replaces the
    default heading (position name, as-of date, SPX, VIX).
    """
    require_matplotlib("alvh.risk.plots")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    target = checked_path(path)
    position = position if position is not None else getattr(grid, "position", None)
    market = market if market is not None else getattr(grid, "market", None)
    view = _risk_view(grid, position, market)

    # A bare Figure on an Agg canvas: no pyplot, so the user's interactive backend and
    # open figures are left alone (and no display is needed).
    fig = Figure(figsize=(15.0, 6.4), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.25, 1.0)})
    _draw_pnl_panel(left, view, position)
    _draw_heatmap_panel(fig, right, view, position, market)
    heading = title if title is not None else _heading(position, market, view.base_spot)
    fig.suptitle(heading, fontsize=13, fontweight="bold")
    return save(fig, target)


def _draw_pnl_panel(ax: Axes, view: _RiskView, position: Position | None) -> None:
    """Left panel: P&L against the SPX level, one line per curve, with breakevens,
    strikes, the current spot and today's P&L marked."""
    from matplotlib import ticker

    top = _draw_curves(ax, view)
    _markbreakevens(ax, view)
    if position is not None:
        _draw_strikes(ax, position, view.spx, top)
    spx, base_spot, curves = view.spx, view.base_spot, view.curves
    ax.axvline(base_spot, color="#2e7d32", linewidth=1.3, zorder=2)
    ax.annotate(
        f"SPX {base_spot:,.2f}",
        (base_spot, top),
        xytext=(-3, -3),
        textcoords="offset points",
        rotation=90,
        va="top",
        ha="right",
        fontsize=8,
        color="#2e7d32",
        fontweight="bold",
    )
    # Today's P&L at spot, T+0 (a dot on the T+0 curve).
    if curves and curves[0].label == "T+0":
        centre = int(np.argmin(np.abs(view.moves)))
        ax.plot(
            [spx[centre]], [curves[0].pnl[centre]], marker="o", color=curves[0].colour, markersize=6, zorder=6
        )

    if spx[-1] > spx[0]:
        ax.set_xlim(float(spx[0]), float(spx[-1]))
    else:  # a single spot move: a dot, with a little room around it
        ax.set_xlim(0.99 * float(spx[0]), 1.01 * float(spx[0]))
        for curve in curves:
            ax.plot(spx, curve.pnl, marker="o", color=curve.colour, zorder=4)
    ax.set_xlabel("SPX level")
    ax.set_ylabel(f"P&L ($, {view.basis})")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(money))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_title(f"P&L by SPX level, {_vix_note(view)}", fontsize=11)
    ax.legend(loc="lower center", fontsize=8, framealpha=0.92)


def _vix_note(view: _RiskView) -> str:
    """``VIX unchanged`` or ``VIX 30.00 (+10.5 points)``: the T+N curves' VIX."""
    shift = float(view.shifts[view.flat])
    if shift == 0.0:
        return "VIX unchanged"
    return f"VIX {view.vix + shift:.2f} ({shift:+g} points)"


def _draw_curves(ax: Axes, view: _RiskView) -> float:
    """The zero line, the curves, the y range and the profit/loss shading; returns the
    top of the y range (where the vertical labels hang from)."""
    spx = view.spx
    ax.axhline(0.0, color="black", linewidth=0.9, zorder=1)
    ys = []
    for curve in view.curves:
        ax.plot(
            spx,
            curve.pnl,
            color=curve.colour,
            linewidth=curve.width,
            linestyle=curve.style,
            label=curve.label,
            zorder=3,
        )
        ys.append(curve.pnl)
    all_y = np.concatenate(ys) if ys else np.zeros(1)
    low, high = float(np.nanmin(all_y)), float(np.nanmax(all_y))
    pad = 0.08 * max(high - low, 1.0)
    ax.set_ylim(low - pad, high + 2.2 * pad)
    ax.fill_between(spx, 0.0, high + 3 * pad, color="#2e9e44", alpha=0.04, zorder=0)
    ax.fill_between(spx, low - 3 * pad, 0.0, color="#d62728", alpha=0.04, zorder=0)
    return high + 2.2 * pad


def _markbreakevens(ax: Axes, view: _RiskView) -> None:
    """Dots on the zero line, labelled with the SPX level."""
    for curve in view.curves:
        t0 = curve.label == "T+0"
        for be in curve.breakevens:
            ax.plot(
                [be], [0.0], marker="o", markersize=7, color=curve.colour, markeredgecolor="white", zorder=5
            )
            # Expiry breakevens sit on near-vertical lines: label them on the outside.
            outward = -1 if be < view.base_spot else 1
            ax.annotate(
                f"{be:,.0f}",
                (be, 0.0),
                xytext=(0, -14) if t0 else (6 * outward, 6),
                textcoords="offset points",
                ha="center" if t0 else ("right" if outward < 0 else "left"),
                fontsize=8,
                color=curve.colour,
                fontweight="bold",
            )


def _draw_strikes(ax: Axes, position: Position, spx: FloatArray, top: float) -> None:
    """SPX strikes inside the panel: short ones dashed red and labelled, long ones
    (not also short) dotted grey."""
    shorts: dict[float, list[str]] = {}
    longs: set[float] = set()
    for leg in position.legs:
        if not isinstance(leg, SpxOption):
            continue
        if leg.quantity < 0:
            shorts.setdefault(leg.strike, []).append("C" if leg.is_call else "P")
        else:
            longs.add(leg.strike)
    lo_x, hi_x = float(spx[0]), float(spx[-1])
    for k in sorted(longs - set(shorts)):
        if lo_x <= k <= hi_x:
            ax.axvline(k, color="#999999", linestyle=":", linewidth=0.9, zorder=2)
    for k, rights in sorted(shorts.items()):
        if lo_x <= k <= hi_x:
            ax.axvline(k, color="#c0392b", linestyle="--", linewidth=1.1, zorder=2)
            ax.annotate(
                f"short {k:,.0f}{'/'.join(sorted(set(rights)))}",
                (k, top),
                xytext=(3, -3),
                textcoords="offset points",
                rotation=90,
                va="top",
                ha="left",
                fontsize=8,
                color="#c0392b",
            )


def _draw_heatmap_panel(
    fig: Figure, ax: Axes, view: _RiskView, position: Position | None, market: Market | None
) -> None:
    """Right panel: the heat day's P&L over SPX move x VIX shift, centred at $0, with the
    $0 contour, today's cell, the short strikes and SPX / VIX level scales."""
    from matplotlib import ticker

    heat, shifts, base_spot = view.heat, view.shifts, view.base_spot
    vmin, vmax = float(np.nanmin(heat)), float(np.nanmax(heat))
    move_pct = 100.0 * view.moves
    # Cell edges given explicitly: "nearest" shading cannot size the cells of an axis
    # with one point (`--shifts 10.5 10.5 1` drew an empty map).
    x_edges, y_edges = _cell_edges(move_pct, 0.5), _cell_edges(shifts, 0.5)
    mesh = ax.pcolormesh(
        x_edges,
        y_edges,
        heat,
        cmap="RdYlGn",
        norm=_centred_norm(vmin, vmax),
        shading="flat",
        rasterized=True,
    )
    ax.set_xlim(float(x_edges[0]), float(x_edges[-1]))
    ax.set_ylim(float(y_edges[0]), float(y_edges[-1]))
    if vmin < 0.0 < vmax and min(heat.shape) >= 2:
        ax.contour(move_pct, shifts, heat, levels=[0.0], colors="black", linewidths=1.0)
    if x_edges[0] <= 0.0 <= x_edges[-1] and y_edges[0] <= 0.0 <= y_edges[-1]:
        ax.plot([0.0], [0.0], marker="+", color="black", markersize=12, markeredgewidth=1.6)
        ax.axvline(0.0, color="black", linewidth=0.5, alpha=0.5)
        ax.axhline(0.0, color="black", linewidth=0.5, alpha=0.5)
    if position is not None:
        for leg in position.legs:
            if isinstance(leg, SpxOption) and leg.quantity < 0:
                k_move = 100.0 * (leg.strike / base_spot - 1.0)
                if move_pct[0] <= k_move <= move_pct[-1]:
                    ax.axvline(k_move, color="#333333", linestyle="--", linewidth=0.8)
    bar = fig.colorbar(mesh, ax=ax, format=ticker.FuncFormatter(money), shrink=0.95)
    bar.set_label(f"P&L ($, {view.basis})")
    ax.set_xlabel("SPX move (%)")
    ax.set_ylabel("VIX shift (points)")
    for axis in (ax.xaxis, ax.yaxis):  # round steps: +-2, 5, 10 ... (no "+2%" at 2.5)
        axis.set_major_locator(ticker.MaxNLocator(nbins=9, steps=[1, 2, 5, 10]))
    if shifts.size == 1:  # one row: its shift is the only tick
        ax.yaxis.set_major_locator(ticker.FixedLocator([float(shifts[0])]))
    _draw_linked_path(ax, view, market)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{signed(v)}%"))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: signed(v)))
    what = f"P&L by SPX move, {_vix_note(view)}" if shifts.size == 1 else "P&L over SPX move x VIX shift"
    ax.set_title(f"{what}, T+{view.heat_day}, {view.basis}", fontsize=11)
    spx_scale: _Scale = (lambda p: base_spot * (1.0 + p / 100.0), lambda s: 100.0 * (s / base_spot - 1.0))
    top_axis = ax.secondary_xaxis("top", functions=spx_scale)
    top_axis.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    top_axis.set_xlabel("SPX level", fontsize=9)
    if market is not None:
        vix = float(market.vix)
        vix_scale: _Scale = (lambda s: vix + s, lambda v: v - vix)
        side = ax.secondary_yaxis("right", functions=vix_scale)
        side.set_ylabel("VIX level", fontsize=9)


def _draw_linked_path(ax: Axes, view: _RiskView, market: Market | None) -> None:
    """On the heatmap, the VIX-linked curve's path through (SPX move, VIX shift)."""
    linked = [c for c in view.curves if c.colour == _LINKED_COLOUR]
    if market is None or not linked or view.shifts.size < 2:
        return
    from alvh.risk.scenarios import VIX_BETA

    vix = float(market.vix)
    path = np.minimum(vix * (1.0 + view.moves) ** VIX_BETA, _LINKED_VIX_MAX) - vix
    inside = (path >= view.shifts[0]) & (path <= view.shifts[-1])
    ax.plot(100.0 * view.moves[inside], path[inside], color=_LINKED_COLOUR, linestyle="--", linewidth=1.6)


def _cell_edges(centres: FloatArray, half_width: float) -> FloatArray:
    """Edges of cells centred on sorted ``centres``: midpoints between neighbours, the
    ends as far out as their neighbour's half cell, ``half_width`` each side of a lone
    centre."""
    if centres.size == 1:
        c = float(centres[0])
        return np.array([c - half_width, c + half_width])
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate(([2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]))


def _centred_norm(vmin: float, vmax: float) -> Normalize:
    """A colour scale with $0 at its centre (white-ish on RdYlGn): two slopes when the
    values straddle 0, else symmetric around 0."""
    from matplotlib import colors as mcolors

    if vmin < 0.0 < vmax:
        return mcolors.TwoSlopeNorm(vmin=vmin, vcenter=0.0, vmax=vmax)
    bound = max(abs(vmin), abs(vmax), 1.0)
    return mcolors.Normalize(vmin=-bound, vmax=bound)


def _heading(position: Position | None, market: Market | None, base_spot: float) -> str:
    """The default figure title: position name, as-of date, SPX, VIX."""
    name = getattr(position, "name", "") if position is not None else ""
    parts = [name or "Risk graph"]
    as_of = getattr(market, "as_of", None)
    if as_of is not None:
        parts.append(f"as of {as_of:%d %b %Y}")
    parts.append(f"SPX {base_spot:,.2f}")
    if market is not None:
        parts.append(f"VIX {float(market.vix):.2f}")
    return "  |  ".join(parts)
