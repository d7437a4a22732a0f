"""The backtest report: equity, drawdown, layer and return-distribution PNGs of every
policy and a self-contained ``report.html`` (`backtest_report`). matplotlib is imported
on first use; every file is written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from alvh._core.io import atomic_write
from alvh._core.plotting import require_matplotlib, save
from alvh.errors import InputTypeError, InvalidInputError

__all__ = ["backtest_report"]


_POLICY_COLOURS = ("#444444", "#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214")


def backtest_report(result: Any, directory: str | os.PathLike[str]) -> Path:
    """Write the backtest's pictures and a self-contained ``report.html`` (the PNGs
    embedded) into ``directory`` (created if missing); returns the report's path.

    - ``equity.png``: equity curves of every policy;
    - ``drawdown.png``: their drawdowns below the running peak;
    - ``layers.png``: the VIX with the layer bands shaded (17-22, 24-29, 30+), each
      policy's layer over time and its hedges marked;
    - ``returns.png``: the distributions of daily returns;
    - ``report.html``: the metrics table and the four pictures.
    """
    import base64
    import html

    require_matplotlib("alvh.report.backtest")
    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if isinstance(directory, (bytes, bytearray)) or not isinstance(directory, (str, os.PathLike)):
        raise InputTypeError(f"directory must be a str or os.PathLike; got {type(directory).__name__}")
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"directory {str(out)!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    runs = dict(result.runs)
    colour = {name: _POLICY_COLOURS[i % len(_POLICY_COLOURS)] for i, name in enumerate(runs)}
    pictures: dict[str, Path] = {}

    def figure(height: float = 4.2) -> Any:
        fig = Figure(figsize=(11.0, height), layout="constrained")
        FigureCanvasAgg(fig)
        return fig

    fig = figure()
    ax = fig.subplots()
    for name, run in runs.items():
        eq = run.equity
        ax.plot(eq["date"].to_list(), eq["equity"].to_numpy(), color=colour[name], label=name, linewidth=1.4)
    ax.set_ylabel("equity ($)")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title("Equity by policy")
    pictures["equity"] = save(fig, out / "equity.png")

    fig = figure(3.6)
    ax = fig.subplots()
    for name, run in runs.items():
        values = run.equity["equity"].to_numpy()
        drawdown = (np.maximum.accumulate(values) - values) / run.assumptions.initial_capital
        ax.fill_between(
            run.equity["date"].to_list(), -100.0 * drawdown, 0.0, color=colour[name], alpha=0.25, label=name
        )
    ax.set_ylabel("drawdown (% of capital)")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title("Drawdown below the running peak, in % of the book's capital")
    pictures["drawdown"] = save(fig, out / "drawdown.png")

    first = next(iter(runs.values())).equity
    fig = figure(5.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    dates = first["date"].to_list()
    top.plot(dates, first["vix"].to_numpy(), color="black", linewidth=1.0, label="VIX")
    for low, high, shade in (
        (17.0, 22.0, "#fee08b"),
        (24.0, 29.0, "#fdae61"),
        (30.0, max(31.0, float(first["vix"].max())), "#f46d43"),
    ):
        top.axhspan(low, high, color=shade, alpha=0.35, linewidth=0)
    for name, run in runs.items():
        hedged = [d for d in run.decisions if d.actions]
        if hedged:
            top.scatter(
                [d.date for d in hedged],
                [d.vix for d in hedged],
                color=colour[name],
                marker="^",
                s=30,
                label=f"{name}: hedge",
                zorder=3,
            )
        bottom.step(
            run.equity["date"].to_list(),
            run.equity["layer"].to_numpy(),
            where="post",
            color=colour[name],
            label=name,
        )
    top.set_ylabel("VIX (layer bands shaded)")
    top.legend(fontsize=8, loc="upper left")
    bottom.set_ylabel("layer")
    bottom.set_yticks([0, 1, 2, 3])
    bottom.legend(fontsize=8, loc="upper left")
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    top.set_title("The VIX, the layer bands, each policy's layer and its hedges")
    pictures["layers"] = save(fig, out / "layers.png")

    fig = figure(3.8)
    ax = fig.subplots()
    for name, run in runs.items():
        values = run.equity["equity"].to_numpy()
        returns = 100.0 * np.diff(values) / run.assumptions.initial_capital
        ax.hist(returns, bins=80, histtype="step", color=colour[name], label=name, linewidth=1.3)
    ax.set_xlabel("daily return (% of capital)")
    ax.set_ylabel("days")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title("Distribution of daily returns")
    pictures["returns"] = save(fig, out / "returns.png")

    table = result.metrics()
    percent = {
        "annual_return",
        "vol",
        "max_drawdown",
        "worst_day",
        "cvar95_daily",
        "days_layer_0",
        "days_layer_1",
        "days_layer_2",
        "days_layer_3",
    }
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.iter_rows(named=True):
        cells = []
        for column, value in row.items():
            if isinstance(value, float):
                text = f"{100 * value:.2f} %" if column in percent else f"{value:,.2f}"
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    images = "".join(
        f'<h2>{html.escape(name)}</h2><img alt="{html.escape(name)}" '
        f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'
        for name, path in pictures.items()
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>alvh backtest</title><style>body{font-family:sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:right}img{max-width:100%}</style></head><body>"
        f"<h1>alvh backtest: {html.escape(', '.join(runs))}</h1>"
        f"<p>{html.escape(str(dates[0]))} to {html.escape(str(dates[-1]))}, {len(dates)} days.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"{images}</body></html>"
    )
    report = out / "report.html"
    atomic_write(report, page.encode("utf-8"))
    return report
