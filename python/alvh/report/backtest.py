"""The backtest report: equity, drawdown, layer and return-distribution PNGs of every
policy and a self-contained ``report.html`` (`backtest_report`). matplotlib is imported
on first use; the report is written whole into a staging folder and moved into place, so an
interrupted run never leaves a half report."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from alvh._core.io import atomic_write
from alvh._core.plotting import require_matplotlib, save
from alvh.errors import InputTypeError, InvalidInputError

__all__ = ["backtest_report", "html_table"]


_POLICY_COLOURS = ("#444444", "#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214")


def backtest_report(result: Any, directory: str | os.PathLike[str]) -> Path:
    """Write the backtest's pictures and a self-contained ``report.html`` (the PNGs
    embedded) into ``directory`` (created if missing); returns the report's path.

    - ``equity.png``: equity curves of every policy;
    - ``drawdown.png``: their drawdowns below the running peak;
    - ``layers.png``: the VIX with the layer bands shaded (17-22, 24-29, 30+), each
      policy's layer over time and its hedges marked;
    - ``returns.png``: the distributions of daily returns;
    - ``episodes.png`` (when the history has a stress episode): small multiples, one
      panel per episode (`alvh.backtesting.episodes`), each policy's $ P&L through the
      episode's window with the VIX behind it;
    - ``hedge_layers.png`` (when a policy hedged): each policy's hedge P&L by the layer
      that bought the hedge, with what it paid;
    - ``report.html``: the metrics table, the verdict (when the result has early and
      patient), the episode and calm-year tables and the pictures.
    """

    require_matplotlib("alvh.report.backtest")
    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if isinstance(directory, (bytes, bytearray)) or not isinstance(directory, (str, os.PathLike)):
        raise InputTypeError(f"directory must be a str or os.PathLike; got {type(directory).__name__}")
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise InvalidInputError(f"directory {str(target)!r} exists and is not a directory")
    # Written whole or not at all: into a staging folder beside the target, then moved into
    # place (an interrupted run leaves no half report; the staging folder is removed).
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it 0700; a report folder is a normal one
    try:
        _write_report(result, staging, Figure, FigureCanvasAgg, ticker)
        _publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "report.html"


def _publish(staging: Path, target: Path) -> None:
    """Move a finished report into ``target``: the folder whole when it is new; else file by
    file (``os.replace``, atomic each) with ``report.html`` last, so the page a reader opens
    is always a complete one."""
    if not target.exists():
        os.rename(staging, target)
        return
    files = sorted(staging.iterdir(), key=lambda f: f.name == "report.html")
    for file in files:
        os.replace(file, target / file.name)


def _write_report(result: Any, out: Path, Figure: Any, FigureCanvasAgg: Any, ticker: Any) -> Path:  # noqa: N803
    """`backtest_report`'s files, written into ``out``."""
    import base64
    import html

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
    vix_on = dict(zip(dates, first["vix"].to_list()))
    for name, run in runs.items():
        bought = [] if run.hedges is None else run.hedges["bought"].to_list()
        if bought:  # every hedge bought: the policy's, its rolls and re-strikes, a reference rule's
            top.scatter(
                bought,
                [vix_on[d] for d in bought],
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

    import polars as pl

    from alvh.backtesting.episodes import calm_years, episode_table, stress_episodes

    episodes = stress_episodes(first.select("date", pl.col("vix").alias("close")))
    if episodes.height:
        pictures["episodes"] = _episode_panels(runs, episodes, colour, out / "episodes.png")
    log = result.hedge_log()
    if log.height:
        pictures["hedges by layer"] = _hedge_layers(log, colour, out / "hedge_layers.png")

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
    sections = []
    if {"early", "patient"} <= set(runs):
        from alvh.backtesting.comparison import verdict

        sections.append(f"<h2>Verdict</h2><p>{html.escape(verdict(result))}</p>")
    if episodes.height:
        sections.append(
            "<h2>Stress episodes</h2><p>VIX closes at or above 30, merged when less than 60 trading "
            "days apart; each window runs 20 trading days either side. P&amp;L, hedge spend and "
            "payoff in $; max drawdown: the worst fall inside the window, in % of the capital.</p>"
            + html_table(episode_table(result, episodes).drop("start", "end"), {"max_drawdown"})
        )
    calm = calm_years(result)
    if calm.height:
        sections.append(
            "<h2>Calm years</h2><p>Years without a VIX close at or above 30 (year 0: all of them "
            "together): what each book made and what its hedging cost.</p>"
            + html_table(calm, {"return", "max_drawdown"})
        )
    if "none" in runs and len(runs) > 1:
        from alvh.backtesting.comparison import drawdown_answer

        frame, answer = drawdown_answer(result)
        sections.append(
            f"<h2>Drawdowns against the unhedged book</h2><p>{html.escape(answer)}</p>"
            + html_table(
                frame,
                {
                    "max_drawdown",
                    "none_max_drawdown",
                    "cut",
                    "cut_low",
                    "cut_high",
                    "worst_day",
                    "none_worst_day",
                    "annual_return_diff",
                    "episode_drawdown",
                    "none_episode_drawdown",
                },
            )
        )
    split = pl.DataFrame(
        [{"policy": name, **run.attribution()} for name, run in runs.items()],
        schema={
            "policy": pl.String,
            "condors": pl.Float64,
            "hedges": pl.Float64,
            "total": pl.Float64,
            "equity_change": pl.Float64,
        },
    )
    layers = [
        run.layer_attribution().with_columns(pl.lit(name).alias("policy"))
        for name, run in runs.items()
        if run.hedges is not None and run.hedges.height
    ]
    sections.append(
        "<h2>Where the P&amp;L came from</h2><p>Each book's P&amp;L ($) split into its condors' "
        "(strike edits included) and its hedges' (sold at what they fetched, held ones at their "
        "last mark); they add up to the equity's change. Per layer (0: a reference rule's "
        "hedges): hedges bought (rolls and re-strikes included), spend, payoff, net, hedge-days "
        "held, strike edits and what they cost.</p>"
        + html_table(split, set())
        + (html_table(pl.concat(layers).select("policy", pl.exclude("policy")), set()) if layers else "")
    )
    if log.height:
        sections.append(
            "<h2>Hedge log</h2><p>Every hedge: when bought and sold, by which layer, what it was, "
            "what it cost (premium and costs), its highest daily mark, what it fetched (net of "
            "costs; held ones at their last mark), its P&amp;L and why it was sold.</p>"
            + html_table(log, set())
        )
    rules = result.rule_counts()
    if rules.height:
        sections.append(
            "<h2>How often each rule decided</h2><p>Decision days per policy: (a) noise = in "
            "layer 1 without evidence, no hedge; (b) fired = layer 1 started below its band; (c) "
            "wait = patience's conditions held and the layer waited, act = one failed, unknown = "
            "none known; (d) within = the projected CVaR inside the budget, actions deferred; (e) "
            "capped = the total cap cut the budget; (f) chosen = a hedge bought, none = no "
            "candidate cut the CVaR.</p>" + html_table(rules, set())
        )
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
        f"{''.join(sections)}{images}</body></html>"
    )
    report = out / "report.html"
    atomic_write(report, page.encode("utf-8"))
    return report


def html_table(frame: Any, percent: set[str], ratios: frozenset[str] = frozenset()) -> str:
    """A Polars frame as an HTML table: floats as $ (or % for ``percent`` columns, two
    decimals for ``ratios`` such as a Sharpe ratio)."""
    import html

    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows(named=True):
        cells = []
        for column, value in row.items():
            if isinstance(value, float):
                if column in percent:
                    text = f"{100 * value:.1f} %"
                else:
                    text = f"{value:+.2f}" if column in ratios else f"{value:,.0f}"
            else:
                text = "" if value is None else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _episode_panels(runs: dict[str, Any], episodes: Any, colour: dict[str, str], path: Path) -> Path:
    """One small panel per stress episode: each policy's $ P&L from the day before the
    window, the VIX on a second axis, the stressed stretch shaded."""
    import math

    import matplotlib.dates as mdates
    import polars as pl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = episodes.height
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.2 * cols, 2.5 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ep in enumerate(episodes.iter_rows(named=True)):
        ax = axes[k // cols][k % cols]
        vix_ax = ax.twinx()
        for name, run in runs.items():
            eq = run.equity
            before = eq.filter(pl.col("date") < ep["start"]).tail(1)
            window = eq.filter((pl.col("date") >= ep["start"]) & (pl.col("date") <= ep["end"]))
            base = before["equity"][0] if before.height else window["equity"][0]
            ax.plot(
                window["date"].to_list(),
                window["equity"].to_numpy() - base,
                color=colour[name],
                linewidth=1.2,
                label=name,
            )
        window = next(iter(runs.values())).equity.filter(
            (pl.col("date") >= ep["start"]) & (pl.col("date") <= ep["end"])
        )
        vix_ax.plot(window["date"].to_list(), window["vix"].to_numpy(), color="#999999", linewidth=0.8)
        vix_ax.set_ylim(0, max(40.0, float(window["vix"].max()) * 1.1))
        vix_ax.tick_params(labelsize=6, colors="#777777")
        ax.axvspan(ep["first"], ep["last"], color="#f46d43", alpha=0.12, linewidth=0)
        ax.axhline(0.0, color="black", linewidth=0.5)
        ax.set_title(f"{ep['label']} ({ep['kind']}, VIX {ep['peak']:.0f})", fontsize=8)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.tick_params(labelsize=6)
        ax.yaxis.set_major_formatter(_thousands())
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=6, loc="lower left")
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.suptitle(
        "Each stress episode: P&L ($) of each book from the day before its window (VIX in grey, "
        "right axis; VIX >= 30 stretch shaded)",
        fontsize=10,
    )
    return save(fig, path)


def _thousands() -> Any:
    from matplotlib import ticker

    return ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}")


def _hedge_layers(hedges: Any, colour: dict[str, str], path: Path) -> Path:
    """Each policy's hedge P&L (received minus paid, $) summed by the layer that bought
    the hedge, next to what those hedges cost."""
    import polars as pl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    totals = (
        hedges.group_by("policy", "layer", maintain_order=True)
        .agg(pl.col("pnl").sum(), pl.col("paid").sum(), pl.len().alias("count"))
        .sort("policy", "layer", maintain_order=True)
    )
    policies = list(dict.fromkeys(hedges["policy"].to_list()))
    fig = Figure(figsize=(11.0, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    width = 0.8 / max(1, len(policies))
    for i, name in enumerate(policies):
        rows = totals.filter(pl.col("policy") == name)
        x = rows["layer"].to_numpy() + (i - (len(policies) - 1) / 2) * width
        ax.bar(x, rows["pnl"].to_numpy(), width * 0.9, color=colour.get(name, "grey"), label=f"{name}: P&L")
        ax.bar(
            x,
            -rows["paid"].to_numpy(),
            width * 0.9,
            fill=False,
            edgecolor=colour.get(name, "grey"),
            hatch="//",
            label=f"{name}: paid",
        )
        for xi, pnl, count in zip(x, rows["pnl"].to_numpy(), rows["count"].to_numpy()):
            ax.annotate(f"{count}", (xi, pnl), ha="center", va="bottom" if pnl >= 0 else "top", fontsize=7)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ticks, labels = [1, 2, 3], ["layer 1 (17-22)", "layer 2 (24-29)", "layer 3 (30+)"]
    if (totals["layer"] == 0).any():  # a reference rule's hedges (VXTH) have no layer
        ticks, labels = [0, *ticks], ["reference rule (no layer)", *labels]
    ax.set_xticks(ticks, labels)
    ax.set_ylabel("$")
    ax.yaxis.set_major_formatter(_thousands())
    ax.legend(fontsize=8, ncols=2)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title("Hedge P&L by the layer that bought it (hatched: premium and costs paid; numbers: hedges)")
    return save(fig, path)
