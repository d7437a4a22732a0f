"""The interactive dashboard: one self-contained, offline HTML file (`write_dashboard`).

- **Risk graph** of a position in a market (`risk_figure`): P&L ($, vs entry) against the
  SPX level for one (days forward, VIX shift) cell of a `alvh.risk.grid.Grid`, chosen with
  two sliders, its breakevens moving with it; beside it the T+0 curve with the VIX
  unchanged, the T+0 curve with the VIX moving with the SPX (`alvh.risk.plots.linked_curve`,
  the VIX at each point in the hover) and the expiry curve; the short strikes and the spot.
  Every number is the grid's own (`alvh.risk.plots.pnl_basis` for the baseline, the
  breakevens by `alvh.risk.plots.breakevens`): the page only shows a slice of the cube the
  sliders pick, it prices nothing.
- **Projection** (`fan_figure`, `horizon_figure`): the mixture's P&L fan (1-99, 5-95, 25-75 %
  bands, median, mean) with a menu to show each scenario's fan instead (the mixture's median
  stays drawn), and each scenario's P&L at the horizon as a box (5-95 % whiskers, 25-75 %
  box, median, mean) with its CVaR 95, plus the table of the horizon's numbers.
- **Backtest** (`backtest_figure`, when given a `alvh.backtesting.BacktestResult`): equity and
  drawdown of each policy, the VIX with the layer bands shaded and each policy's hedges
  marked where bought and sold; the metrics, the per-hedge log (`Replay.hedge_log`) as
  tables, and the verdict (`alvh.backtesting.comparison.verdict`) and the drawdown answer
  (`drawdown_answer`) as text.

Why plotly: its figures are JSON that its own JavaScript renders, so the whole page is
one file with ``plotly.js`` inlined (``include_plotlyjs=True``'s script, placed once in the
page head): no server and no CDN. Hover, zoom, legends that toggle traces, sliders and
menus come built in, and the rendered state stays readable as the graph div's ``data``,
which is what the browser test checks. bokeh would need its own JavaScript callbacks for
the same sliders and a server-free Vega-Lite cannot express two sliders over a
precomputed cube without a per-cell data table. The cost is size: plotly.js is about
4.7 MB of the file. Two sliders on one graph are the one thing plotly's slider steps
cannot do alone (each step restyles the graph with its own arguments, forgetting the
other slider), so their steps do nothing themselves (``method="skip"``) and a few lines
of script read both sliders' positions and show that cell.

plotly is an optional dependency (``pip install alvh[dashboard]``), imported on first
use. The file is written atomically (`alvh._core.io.atomic_write`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh._core.io import atomic_write
from alvh.book.instruments import SpxOption
from alvh.errors import InputTypeError, InvalidInputError

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from alvh.backtesting.comparison import BacktestResult
    from alvh.risk.grid import Grid
    from alvh.risk.projection import Projection

__all__ = [
    "backtest_figure",
    "fan_figure",
    "horizon_figure",
    "require_plotly",
    "risk_figure",
    "write_dashboard",
]

#: The graph divs' ids (the browser test and the sliders' script find them by these).
RISK_ID, FAN_ID, HORIZON_ID, BACKTEST_ID = (
    "risk-graph",
    "projection-fan",
    "projection-horizon",
    "backtest-graph",
)

_SLIDER_COLOUR = "#1f5fbf"
_REFERENCE_COLOUR = "#9e9e9e"
_LINKED_COLOUR = "#c2185b"
_EXPIRY_COLOUR = "#111111"
_MIXTURE_COLOUR = "#b2182b"
_POLICY_COLOURS = ("#444444", "#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214")
_BAND_COLOURS = ("#fee08b", "#fdae61", "#f46d43")
_MONEY_HOVER = "$%{y:,.0f}"


def require_plotly() -> None:
    """Import plotly or say how to install it."""
    try:
        import plotly  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("the dashboard needs plotly: pip install 'alvh[dashboard]' (or plotly>=5)") from exc


# --------------------------------------------------------------------------- risk graph


def _sorted_cube(grid: Grid) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray]:
    """The grid's moves and shifts in increasing order, its days, and its P&L cube in that
    order (the grid keeps the caller's order; lines and sliders need it sorted)."""
    moves = np.asarray(grid.spot_moves, dtype=np.float64)
    shifts = np.asarray(grid.vol_shifts, dtype=np.float64)
    move_order, shift_order = np.argsort(moves, kind="stable"), np.argsort(shifts, kind="stable")
    day_order = np.argsort(np.asarray(grid.days), kind="stable")
    pnl = np.asarray(grid.pnl, dtype=np.float64)[day_order][:, shift_order][:, :, move_order]
    days = [int(d) for d in np.asarray(grid.days)[day_order]]
    return moves[move_order], shifts[shift_order], days, pnl


def _cents(values: Any) -> list[Any]:
    """Numbers rounded to the cent for the page (NaN as null: JSON has no NaN)."""
    rounded = np.round(np.asarray(values, dtype=np.float64), 2)
    return [None if not np.isfinite(v) else float(v) for v in rounded.reshape(-1)]


def risk_figure(grid: Grid) -> tuple[go.Figure, str]:
    """The risk graph of ``grid`` (its position and market) and the script that drives
    its two sliders (days forward, VIX shift); see the module doc."""
    require_plotly()
    import plotly.graph_objects as go

    from alvh.risk.plots import breakevens, expiry_curve, linked_curve, pnl_basis

    position, market = grid.position, grid.market
    moves, shifts, days, pnl = _sorted_cube(grid)
    offset, basis = pnl_basis(grid, position)
    cube = pnl + offset
    spx = float(grid.spot) * (1.0 + moves)
    flat = int(np.argmin(np.abs(shifts)))
    start_day = days.index(0) if 0 in days else 0
    vix = float(grid.vix)
    day_labels = [f"T+{d} ({grid.as_of + dt.timedelta(days=d):%d %b %Y})" for d in days]
    vix_labels = [f"VIX {vix + s:.2f} ({'unchanged' if s == 0 else f'{s:+g} points'})" for s in shifts]
    crossings = [[breakevens(spx, cube[i, j]) for j in range(shifts.size)] for i in range(len(days))]

    def label(i: int, j: int) -> str:
        return f"{day_labels[i]}, {vix_labels[j]}"

    fig = go.Figure()
    money_hover = "SPX %{x:,.0f}<br>P&L " + _MONEY_HOVER
    fig.add_trace(  # 0: the cell the sliders pick
        go.Scatter(
            x=spx.tolist(),  # a plain array (not plotly's base64 one): the script passes it back
            y=_cents(cube[start_day, flat]),
            name=label(start_day, flat),
            line={"color": _SLIDER_COLOUR, "width": 2.6},
            hovertemplate=money_hover + "<extra>%{fullData.name}</extra>",
        )
    )
    fig.add_trace(  # 1: its breakevens
        go.Scatter(
            x=crossings[start_day][flat],
            y=[0.0] * len(crossings[start_day][flat]),
            mode="markers",
            name="breakevens of the slider's curve",
            marker={"color": _SLIDER_COLOUR, "size": 10, "line": {"color": "white", "width": 1.5}},
            hovertemplate="breakeven SPX %{x:,.0f}<extra></extra>",
        )
    )
    if 0 in days:
        fig.add_trace(
            go.Scatter(
                x=spx,
                y=cube[days.index(0), flat],
                name=f"T+0, {vix_labels[flat]}",
                line={"color": _REFERENCE_COLOUR, "width": 1.4, "dash": "dot"},
                hovertemplate=money_hover + "<extra>T+0</extra>",
            )
        )
        linked = linked_curve(grid, market, moves)
        if linked is not None:
            linked_pnl, linked_vix, linked_label = linked
            fig.add_trace(
                go.Scatter(
                    x=spx,
                    y=linked_pnl + offset,
                    customdata=linked_vix,
                    name=linked_label,
                    line={"color": _LINKED_COLOUR, "width": 1.8, "dash": "dash"},
                    hovertemplate=money_hover + "<br>VIX %{customdata:.1f}<extra>T+0, VIX with SPX</extra>",
                )
            )
    expiry = expiry_curve(position, market, spx)
    if expiry is not None:
        fig.add_trace(
            go.Scatter(
                x=spx,
                y=expiry[0],
                name=expiry[1],
                line={"color": _EXPIRY_COLOUR, "width": 2.0},
                hovertemplate=money_hover + "<extra>expiry</extra>",
            )
        )
    _strikes_and_spot(fig, grid, spx)
    fig.add_hline(y=0.0, line={"color": "black", "width": 1})
    fig.update_layout(
        title={
            "text": f"P&L ({basis}) by SPX level: {label(start_day, flat)}",
            "font": {"size": 15},
            "yref": "container",
            "y": 0.985,
            "yanchor": "top",
        },
        xaxis={"title": "SPX level", "tickformat": ",.0f"},
        yaxis={"title": f"P&L ($, {basis})", "tickformat": "$,.0f"},
        hovermode="x unified",
        legend={"orientation": "h", "x": 0.0, "y": 1.02, "yanchor": "bottom", "font": {"size": 11}},
        height=860,
        margin={"t": 130, "b": 230},
        sliders=[
            _slider([f"T+{d}" for d in days], start_day, "days forward: ", -0.13),
            _slider([f"{s:+g}" for s in shifts], flat, "VIX shift (points): ", -0.32),
        ],
        template="plotly_white",
    )
    view = {
        "cube": [[_cents(cube[i, j]) for j in range(shifts.size)] for i in range(len(days))],
        "breakevens": [[_cents(c) for c in row] for row in crossings],
        "day_labels": day_labels,
        "vix_labels": vix_labels,
        "basis": basis,
    }
    return fig, _SLIDER_SCRIPT.replace("__VIEW__", json.dumps(view, separators=(",", ":")))


#: Both sliders' steps do nothing themselves (``method="skip"``); on either's change this
#: shows the cell at both positions (trace 0) and its breakevens (trace 1). ``{plot_id}``
#: is the graph div's id (plotly substitutes it).
_SLIDER_SCRIPT = """
var gd = document.getElementById('{plot_id}');
var view = __VIEW__;
function showCell() {
  var d = gd.layout.sliders[0].active, s = gd.layout.sliders[1].active;
  var be = view.breakevens[d][s];
  var name = view.day_labels[d] + ', ' + view.vix_labels[s];
  Plotly.update(
    gd,
    {
      y: [view.cube[d][s], be.map(function () { return 0; })],
      x: [gd.data[0].x, be],
      name: [name, gd.data[1].name]
    },
    {'title.text': 'P&L (' + view.basis + ') by SPX level: ' + name},
    [0, 1]
  );
}
gd.on('plotly_sliderchange', showCell);
"""


def _slider(labels: list[str], active: int, prefix: str, y: float) -> dict[str, Any]:
    """A slider whose steps only move it (``method="skip"``: `_SLIDER_SCRIPT` shows the cell)."""
    return {
        "active": active,
        "currentvalue": {"prefix": prefix, "font": {"size": 13}},
        "steps": [{"method": "skip", "label": text, "args": [None]} for text in labels],
        "x": 0.0,
        "y": y,
        "yanchor": "top",
        "len": 1.0,
        "pad": {"t": 30, "b": 0},
    }


def _strikes_and_spot(fig: go.Figure, grid: Grid, spx: np.ndarray) -> None:
    """The spot (green) and the short SPX strikes (dashed red) inside the x range."""
    low, high = float(spx[0]), float(spx[-1])
    fig.add_vline(
        x=float(grid.spot),
        line={"color": "#2e7d32", "width": 1.4},
        annotation_text=f"SPX {float(grid.spot):,.2f}",
        annotation_position="top",
    )
    shorts = sorted(
        {
            (leg.strike, "C" if leg.is_call else "P")
            for leg in grid.position.legs
            if isinstance(leg, SpxOption) and leg.quantity < 0
        }
    )
    for strike, right in shorts:
        if low <= strike <= high:
            fig.add_vline(
                x=strike,
                line={"color": "#c0392b", "width": 1.1, "dash": "dash"},
                annotation_text=f"short {strike:,.0f}{right}",
                annotation_position="top left",
                annotation_font={"color": "#c0392b", "size": 11},
            )


# --------------------------------------------------------------------------- projection


_BANDS = (("q01", "q99", 0.12), ("q05", "q95", 0.2), ("q25", "q75", 0.3))


def _fan_arrays(projection: Projection, table: np.ndarray) -> list[list[Any]]:
    """The fan traces' y values for one statistics table (a scenario's or the mixture's),
    in trace order: each band's low then high, the median, the mean."""
    from alvh.risk.fan import stat_path

    arrays = []
    for low, high, _alpha in _BANDS:
        arrays += [_cents(stat_path(table, projection, low)), _cents(stat_path(table, projection, high))]
    arrays += [_cents(stat_path(table, projection, "q50")), _cents(stat_path(table, projection, "mean"))]
    return arrays


def _fan_title(projection: Projection, table: np.ndarray, what: str) -> str:
    from alvh._core.plotting import money
    from alvh.risk.fan import cvar_label

    last, stat = table[-1], projection.stat_names.index
    return (
        f"{what}: P&L vs today's mark, day {projection.days}: mean {money(float(last[stat('mean')]))}, "
        f"P(profit) {last[stat('p_profit')]:.0%}, {cvar_label(float(last[stat('cvar95')]))}"
    )


def fan_figure(projection: Projection) -> go.Figure:
    """The mixture's fan, a menu to show each scenario's fan instead (the mixture's
    median stays, dashed)."""
    require_plotly()
    import plotly.graph_objects as go

    from alvh.risk.fan import fan_days, stat_path

    days = fan_days(projection)
    fig = go.Figure()
    mixture = _fan_arrays(projection, projection.mixture)
    for k, (low, high, alpha) in enumerate(_BANDS):
        name = f"{low[1:]}-{high[1:]} %"
        fig.add_trace(
            go.Scatter(
                x=days, y=mixture[2 * k], line={"width": 0}, showlegend=False, legendgroup=name, name=name
            )
        )
        fig.add_trace(
            go.Scatter(
                x=days,
                y=mixture[2 * k + 1],
                mode="lines",
                fill="tonexty",
                fillcolor=f"rgba(178,24,43,{alpha})",
                line={"width": 0},
                name=name,
                legendgroup=name,
            )
        )
    fig.add_trace(
        go.Scatter(x=days, y=mixture[6], name="median", line={"color": _MIXTURE_COLOUR, "width": 2.2})
    )
    fig.add_trace(go.Scatter(x=days, y=mixture[7], name="mean", line={"color": "black", "dash": "dash"}))
    fig.add_trace(
        go.Scatter(
            x=days,
            y=_cents(stat_path(projection.mixture, projection, "q50")),
            name="mixture's median",
            line={"color": "#555555", "dash": "dot", "width": 1.6},
        )
    )
    tables = [("mixture (scenarios weighted by probability)", projection.mixture)] + [
        (f"{name} ({projection.probability[s]:.0%})", projection.stats[s])
        for s, name in enumerate(projection.names)
    ]
    buttons = [
        {
            "label": what,
            "method": "update",
            "args": [
                {"y": _fan_arrays(projection, table)},
                {"title.text": _fan_title(projection, table, what)},
                list(range(8)),
            ],
        }
        for what, table in tables
    ]
    fig.update_layout(
        title={"text": _fan_title(projection, projection.mixture, tables[0][0]), "font": {"size": 14}},
        xaxis={"title": "days forward", "dtick": 1},
        yaxis={"title": "P&L vs today's mark ($)", "tickformat": "$,.0f"},
        hovermode="x unified",
        updatemenus=[{"buttons": buttons, "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}],
        height=560,
        margin={"t": 110},
        template="plotly_white",
    )
    fig.update_traces(mode="lines", hovertemplate=_MONEY_HOVER)
    return fig


def horizon_figure(projection: Projection) -> go.Figure:
    """Each scenario's P&L at the horizon (and the mixture's): 5-95 % whiskers, 25-75 % box,
    median and mean, sorted by mean, with its CVaR 95 (the mean of the worst 5 %) marked."""
    require_plotly()
    import plotly.graph_objects as go

    stat = projection.stat_names.index
    rows = [(name, projection.stats[s, -1]) for s, name in enumerate(projection.names)]
    rows.sort(key=lambda row: float(row[1][stat("mean")]))
    rows.append(("mixture", projection.mixture[-1]))
    names = [name for name, _ in rows]

    def column(key: str) -> list[Any]:
        return _cents([float(values[stat(key)]) for _, values in rows])

    fig = go.Figure()
    fig.add_trace(
        go.Box(
            y=names,
            q1=column("q25"),
            median=column("q50"),
            q3=column("q75"),
            lowerfence=column("q05"),
            upperfence=column("q95"),
            mean=column("mean"),
            orientation="h",
            name="P&L at the horizon",
            marker={"color": _MIXTURE_COLOUR},
            boxmean=True,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[-v for v in column("cvar95")],
            y=names,
            mode="markers",
            marker={"symbol": "x", "size": 9, "color": "black"},
            name="CVaR 95 (mean of the worst 5 %)",
            hovertemplate="%{y}: CVaR95 loss $%{x:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(
        title={
            "text": f"P&L at day {projection.days} vs today's mark: 5-95 % whiskers, 25-75 % box, median, "
            "mean (dashed); x: CVaR 95",
            "font": {"size": 14},
        },
        xaxis={"title": "P&L ($)", "tickformat": "$,.0f"},
        height=max(360, 34 * len(names) + 140),
        margin={"l": 220},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def _horizon_table(projection: Projection) -> str:
    """The horizon's numbers per scenario and the mixture, as an HTML table."""
    import polars as pl

    from alvh.report.backtest import html_table

    frame = projection.to_polars().filter(pl.col("day") == projection.days)
    frame = frame.select(
        "scenario",
        (pl.col("probability") * 100).round(1).alias("prob %"),
        "mean",
        "q05",
        "q50",
        "q95",
        pl.col("cvar95").alias("CVaR95 loss"),
        (pl.col("p_profit") * 100).round(1).alias("P(profit) %"),
        (pl.col("touch_any") * 100).round(1).alias("P(touch) %"),
    )
    return html_table(frame, set())


# --------------------------------------------------------------------------- backtest


def _layer_bands() -> list[tuple[float, float | None]]:
    """The layer bands of the presets (17-22, 24-29, 30+), from the policy itself."""
    from alvh.policy.config import Policy

    return [(layer.start, layer.end) for layer in Policy.preset("early").layers]


def backtest_figure(result: BacktestResult) -> go.Figure:
    """Equity, drawdown, and the VIX with the layer bands and each policy's hedges (bought
    ▲, sold ▼; the hover says what, by which layer, what it cost and fetched, and why it
    was sold), on one shared date axis."""
    require_plotly()
    import plotly.graph_objects as go
    import polars as pl
    from plotly.subplots import make_subplots

    runs = dict(result.runs)
    colour = {name: _POLICY_COLOURS[i % len(_POLICY_COLOURS)] for i, name in enumerate(runs)}
    long = result.equity()
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=(0.38, 0.24, 0.38),
        subplot_titles=(
            "Equity by policy ($)",
            "Drawdown below the running peak (% of the book's capital)",
            "The VIX, the layer bands and the hedges (▲ bought, ▼ sold)",
        ),
    )
    for name in runs:
        rows = long.filter(pl.col("policy") == name)
        dates = rows["date"].to_list()
        common = {"legendgroup": name, "line": {"color": colour[name], "width": 1.4}}
        fig.add_trace(
            go.Scatter(x=dates, y=_cents(rows["equity"]), name=name, hovertemplate=_MONEY_HOVER, **common),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=_cents(-100.0 * rows["drawdown"].to_numpy()),
                name=name,
                showlegend=False,
                hovertemplate="%{y:.2f} %",
                **common,
            ),
            row=2,
            col=1,
        )
    first = next(iter(runs.values())).equity
    vix_dates, vix = first["date"].to_list(), first["vix"].to_numpy()
    top = max(float(np.nanmax(vix)) + 2.0, 35.0)
    fig.add_trace(
        go.Scatter(
            x=vix_dates,
            y=_cents(vix),
            name="VIX",
            line={"color": "black", "width": 1.0},
            hovertemplate="VIX %{y:.2f}",
        ),
        row=3,
        col=1,
    )
    for number, ((start, end), shade) in enumerate(zip(_layer_bands(), _BAND_COLOURS), start=1):
        fig.add_hrect(
            y0=start,
            y1=top if end is None else end,
            fillcolor=shade,
            opacity=0.3,
            line_width=0,
            layer="below",
            annotation_text=f"layer {number} ({start:g}{'+' if end is None else f'-{end:g}'})",
            annotation_position="top left",
            annotation_font={"size": 10, "color": "#8a4b08"},
            row=3,
            col=1,
        )
    vix_on = dict(zip(vix_dates, vix.tolist()))
    for name, run in runs.items():
        _hedge_markers(fig, run.hedge_log(), name, colour[name], vix_on)
    fig.update_yaxes(tickformat="$,.0f", row=1, col=1)
    fig.update_yaxes(ticksuffix=" %", row=2, col=1)
    fig.update_yaxes(title_text="VIX", range=[0, top], row=3, col=1)
    fig.update_layout(
        height=900,
        hovermode="x unified",
        template="plotly_white",
        legend={"orientation": "v", "x": 1.01, "y": 1.0},
        margin={"t": 40},
    )
    return fig


def _hedge_markers(fig: go.Figure, log: Any, name: str, colour: str, vix_on: dict[Any, float]) -> None:
    """One policy's hedges on the VIX panel: ▲ where bought, ▼ where sold."""
    import plotly.graph_objects as go

    if not log.height:
        return
    text = [
        f"{row['hedge']}<br>layer {row['layer']}, paid ${row['paid']:,.0f}, fetched ${row['received']:,.0f}, "
        f"P&L ${row['pnl']:,.0f}<br>{html.escape(str(row['reason'] or 'held at the end'))}"
        for row in log.iter_rows(named=True)
    ]
    for column, symbol, what in (("bought", "triangle-up", "bought"), ("sold", "triangle-down", "sold")):
        dates = log[column].to_list()
        keep = [i for i, d in enumerate(dates) if d is not None and d in vix_on]
        if not keep:
            continue
        fig.add_trace(
            go.Scatter(
                x=[dates[i] for i in keep],
                y=[vix_on[dates[i]] for i in keep],
                mode="markers",
                marker={
                    "symbol": symbol,
                    "size": 10,
                    "color": colour,
                    "line": {"color": "white", "width": 1},
                },
                name=f"{name}: hedge {what}",
                legendgroup=name,
                text=[text[i] for i in keep],
                hovertemplate=f"{html.escape(name)} {what}: %{{text}}<extra></extra>",
            ),
            row=3,
            col=1,
        )


#: The metrics table's columns (`BacktestResult.metrics`) and those of them in %.
_METRIC_COLUMNS: tuple[str, ...] = (
    "policy",
    "annual_return",
    "vol",
    "sharpe",
    "max_drawdown",
    "worst_day",
    "pnl",
    "hedge_spend",
    "hedge_pnl",
    "adjustments",
    "days_layer_1",
    "days_layer_2",
    "days_layer_3",
)
_PERCENT_METRICS = {
    "annual_return",
    "vol",
    "max_drawdown",
    "worst_day",
    "days_layer_1",
    "days_layer_2",
    "days_layer_3",
}


def _backtest_sections(result: BacktestResult) -> list[str]:
    """The backtest's text and tables: the period, the metrics, the verdict and the
    drawdown answer (when the result has what they compare), the per-hedge log."""

    from alvh.report.backtest import html_table

    runs = dict(result.runs)
    equity = next(iter(runs.values())).equity
    sections = [
        f"<p>{equity['date'][0]} to {equity['date'][-1]}, {equity.height:,} trading days; "
        f"policies: {html.escape(', '.join(runs))}.</p>"
    ]
    metrics = result.metrics()
    keep = [c for c in _METRIC_COLUMNS if c in metrics.columns]
    sections.append(
        "<h3>Metrics</h3>" + html_table(metrics.select(keep), _PERCENT_METRICS, frozenset({"sharpe"}))
    )
    if {"early", "patient"} <= set(runs):
        from alvh.backtesting.comparison import verdict

        sections.append(f'<h3>Verdict</h3><p class="verdict">{html.escape(verdict(result))}</p>')
    if "none" in runs and len(runs) > 1:
        from alvh.backtesting.comparison import drawdown_answer

        _frame, answer = drawdown_answer(result)
        sections.append(
            f'<h3>Drawdowns against the unhedged book</h3><p class="verdict">{html.escape(answer)}</p>'
        )
    log = result.hedge_log()
    if log.height:
        sections.append(
            f"<h3>Hedge log ({log.height} hedges)</h3><p>Every hedge: when bought and sold, by which layer, "
            "what it was, what it cost (premium and costs, $), its highest daily mark, what it fetched (net "
            "of costs; held ones at their last mark), its P&amp;L and why it was sold.</p>"
            f'<div class="scroll" id="hedge-log">{html_table(log, set())}</div>'
        )
    else:
        sections.append("<h3>Hedge log</h3><p>No policy bought a hedge over this history.</p>")
    return sections


# --------------------------------------------------------------------------- the page


def _check(path: Any, grid: Any, projection: Any, result: Any) -> Path:
    from alvh.backtesting.comparison import BacktestResult
    from alvh.risk.grid import Grid
    from alvh.risk.projection import Projection

    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path must be a str or os.PathLike; got {type(path).__name__} {path!r}")
    target = Path(path)
    if target.suffix.lower() != ".html":
        raise InvalidInputError(f"path must name a .html file; got path = {str(target)!r}")
    if not target.parent.is_dir():
        raise InvalidInputError(f"path {str(target)!r}: directory {str(target.parent)!r} does not exist")
    for arg, value, kind in (
        ("grid", grid, Grid),
        ("projection", projection, Projection),
        ("result", result, BacktestResult),
    ):
        if not (value is None and arg != "grid") and not isinstance(value, kind):
            raise InputTypeError(f"{arg} must be an alvh {kind.__name__}; got {type(value).__name__}")
    return target


def write_dashboard(
    path: str | os.PathLike[str],
    grid: Grid,
    *,
    projection: Projection | None = None,
    result: BacktestResult | None = None,
    title: str | None = None,
) -> Path:
    """Write the dashboard (see the module doc) of ``grid`` (a `alvh.scenario_grid` of the
    position in its market; its days and VIX shifts are the sliders' steps), with
    ``projection`` (`alvh.project` of the same book) and ``result`` (`alvh.backtest`) when
    given, to ``path`` (a ``.html`` file in an existing directory), atomically; returns
    the path."""
    require_plotly()
    from plotly.offline import get_plotlyjs

    target = _check(path, grid, projection, result)
    market = grid.market
    heading = title or (
        f"{grid.position.name or 'Position'} | as of {market.as_of:%d %b %Y} | "
        f"SPX {float(market.spot):,.2f} | VIX {float(market.vix):.2f}"
    )
    risk, script = risk_figure(grid)
    body = [
        '<section id="risk"><h2>Risk graph</h2><p>Move the sliders to see the P&amp;L any number of days '
        "forward and with the VIX shifted; the dashed curve moves the VIX with the SPX "
        "(today), the black one is the expiry. Hover for values; click a legend entry to hide a curve.</p>"
        f"{_div(risk, RISK_ID, script)}</section>"
    ]
    if projection is not None:
        body.append(_projection_section(projection))
    if result is not None:
        body.append(
            '<section id="backtest"><h2>Backtest</h2>'
            + _div(backtest_figure(result), BACKTEST_ID)
            + "".join(_backtest_sections(result))
            + "</section>"
        )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>alvh dashboard: {html.escape(heading)}</title>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(heading)}</h1>"
        f'<p class="meta">alvh dashboard; pricing backend {html.escape(grid.backend)}, '
        f"dynamics {html.escape(grid.dynamics)}. One file, no network: the charts' JavaScript is "
        f"inside it.</p>{''.join(body)}</body></html>"
    )
    atomic_write(target, page.encode("utf-8"))
    return target


def _projection_section(projection: Projection) -> str:
    """The projection's section: the fan, the horizon boxes and the horizon's table."""
    n = len(projection.names)
    return (
        f'<section id="projection"><h2>Projection, {projection.days} days, {n} scenarios</h2>'
        f"<p>{projection.paths:,} paths per scenario, seed {projection.seed}, "
        f"{html.escape(projection.dynamics)}. The menu above the fan shows one scenario's fan in place "
        "of the mixture's.</p>"
        + _div(fan_figure(projection), FAN_ID)
        + _div(horizon_figure(projection), HORIZON_ID)
        + _horizon_table(projection)
        + "</section>"
    )


def _div(fig: go.Figure, div_id: str, script: str | None = None) -> str:
    """A figure as a div; plotly.js is in the page's head (once), not in each div."""
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            post_script=script,
            config={"displaylogo": False, "responsive": True, "typesetMath": False},
        )
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222}"
    "h1{font-size:1.4em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    ".meta{color:#666;font-size:.9em}.verdict{max-width:70em;line-height:1.45}"
    "table{border-collapse:collapse;font-size:.85em;margin:.6em 0}"
    "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;white-space:nowrap}th{background:#f3f3f3}"
    "#hedge-log td:nth-child(6),#hedge-log td:nth-child(12)"
    "{white-space:normal;text-align:left;min-width:16em}"
    ".scroll{max-height:32em;overflow:auto}"
)
