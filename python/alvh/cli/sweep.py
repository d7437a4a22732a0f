"""``alvh sweep``: a policy replayed over a grid of layer 1 / layer 2 band starts, serially,
on local processes (``--workers``) or on a dask cluster (``--dask``); the best points, the
sweep as Parquet (or CSV) and its heatmap."""

from __future__ import annotations

import argparse
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import alvh
from alvh._core.io import atomic_write
from alvh.cli.common import (
    CliError,
    add_history_options,
    check_out_dir,
    load_history,
    metric_cell,
    parse_date,
    parse_vix_starts,
    policy_by_name,
    progress_bar,
    replay_rates,
)

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import polars as pl

    from alvh.backtesting.sweeps import WalkForward

__all__ = ["register", "run"]

#: The best-points table: (header, sweep column, `metric_cell` kind; ``vix`` a VIX level).
_COLUMNS = (
    ("L1 start", "layer1_start", "vix"),
    ("L2 start", "layer2_start", "vix"),
    ("ret/yr", "annual_return", "signed"),
    ("vol", "vol", "pct"),
    ("Sharpe", "sharpe", "num"),
    ("Sortino", "sortino", "num"),
    ("max DD", "max_drawdown", "pct"),
    ("CVaR95/day", "cvar95_daily", "pct"),
    ("hedge $", "hedge_spend", "money"),
    ("hedges", "adjustments", "int"),
)


class _Points(NamedTuple):
    """What the sweep covers: the band starts of each layer, the replay's days and the
    walk-forward split (None: no split)."""

    layer1: list[float]
    layer2: list[float]
    start: date | None
    end: date | None
    train_end: date | None = None


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh sweep`` and its options to ``commands``."""
    parser = commands.add_parser(
        "sweep",
        help="replay a policy over a grid of layer 1 / layer 2 band starts",
        description="Replay the condor book under --policy with layer 1's band starting at "
        "each --layer1 level and layer 2's at each --layer2 level (alvh.backtesting.daily.sweep), "
        "print the best points and write the sweep (Parquet or CSV) and its heatmap.",
    )
    add_history_options(parser)
    parser.add_argument(
        "--policy", default="early", help="the base policy: early, patient or a policy TOML (default: early)"
    )
    parser.add_argument(
        "--layer1",
        default="15:21",
        metavar="LOW:HIGH",
        help="layer 1 band starts: LOW:HIGH whole VIX points, both included, or a "
        "comma list (default: 15:21)",
    )
    parser.add_argument(
        "--layer2",
        default="22:28",
        metavar="LOW:HIGH",
        help="layer 2 band starts, as --layer1 (default: 22:28)",
    )
    parser.add_argument("--start", default=None, metavar="YYYY-MM-DD", help="first replay day")
    parser.add_argument("--end", default=None, metavar="YYYY-MM-DD", help="last replay day")
    parser.add_argument(
        "--train-end",
        default=None,
        metavar="YYYY-MM-DD",
        help="walk forward: sweep only up to this day (the history is cut there), then replay "
        "the best point by --metric and the untuned policy on the days after it",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="processes to run the points on (default: 1, serial)"
    )
    parser.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run the points on a dask.distributed scheduler (the dist extra)",
    )
    parser.add_argument(
        "--metric",
        default="sharpe",
        choices=["sharpe", "sortino", "annual_return", "calmar", "max_drawdown", "cvar95_daily"],
        help="the heatmap's metric and the table's order (default: sharpe)",
    )
    parser.add_argument("--top", type=int, default=5, help="rows of the best-points table (default: 5)")
    parser.add_argument(
        "--format",
        default="parquet",
        choices=["parquet", "csv"],
        help="the sweep file's format (default: parquet)",
    )
    parser.add_argument(
        "--out",
        default="alvh-sweep",
        help="directory for sweep.parquet and sweep_heatmap.png (default: alvh-sweep)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Sweep the band starts, print the best points, write the sweep and its heatmap."""
    from alvh.backtesting.daily import replay_days

    points = _check_args(args)
    out_dir = check_out_dir(args.out)
    policy = policy_by_name(args.policy)
    spx, vix, rates, inputs = load_history(args)
    rates = replay_rates(args, spx, vix, rates, points.start, points.end)
    walk = None
    if points.train_end is not None:
        walk = _walk_forward(args, console, spx, vix, policy, points, rates, inputs)
        frame = walk.train
    else:
        frame = _sweep(args, console, spx, vix, policy, points, rates, inputs)
    console.print(_best_table(frame, args, policy))
    if walk is not None:
        console.print(_out_of_sample_table(walk))
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / f"sweep.{args.format}"
    buffer = io.BytesIO()
    if args.format == "csv":
        frame.write_csv(buffer)
    else:
        frame.write_parquet(buffer)
    atomic_write(data_path, buffer.getvalue())  # never a partial file
    console.print(f"sweep written to {escape(str(data_path))}", highlight=False)
    if walk is not None:
        test_path = out_dir / f"walk_forward.{args.format}"
        buffer = io.BytesIO()
        if args.format == "csv":
            walk.test.write_csv(buffer)
        else:
            walk.test.write_parquet(buffer)
        atomic_write(test_path, buffer.getvalue())
        console.print(f"out-of-sample rows written to {escape(str(test_path))}", highlight=False)
    last = points.train_end if points.train_end is not None else points.end
    days = replay_days(spx, vix, start=points.start, end=last)
    try:
        from alvh.report.sweep import sweep_heatmap

        png = sweep_heatmap(
            frame,
            out_dir / "sweep_heatmap.png",
            metric=args.metric,
            context=f"{policy.name}, {days[0]} to {days[-1]}",
        )
    except ImportError as exc:
        raise CliError(f"the heatmap needs matplotlib (pip install 'alvh[demo]'): {exc}") from exc
    console.print(f"heatmap written to {escape(str(png))}", highlight=False)


def _check_args(args: argparse.Namespace) -> _Points:
    """The band starts and replay days, checked with ``--workers`` and ``--dask``."""
    layer1 = parse_vix_starts("--layer1", args.layer1)
    layer2 = parse_vix_starts("--layer2", args.layer2)
    start, end = parse_date("--start", args.start), parse_date("--end", args.end)
    train_end = parse_date("--train-end", args.train_end)
    if start is not None and end is not None and end < start:
        raise CliError(f"--end {args.end} is before --start {args.start}")
    if train_end is not None and (
        (start is not None and train_end <= start) or (end is not None and train_end >= end)
    ):
        raise CliError(f"--train-end {args.train_end} must fall between --start and --end")
    if args.workers < 1:
        raise CliError(f"--workers must be 1 or more; got {args.workers}")
    if args.dask is not None and args.workers != 1:
        raise CliError("give --workers or --dask, not both (the cluster has its own workers)")
    return _Points(layer1, layer2, start, end, train_end)


def _walk_forward(
    args: argparse.Namespace,
    console: Console,
    spx: Any,
    vix: Any,
    policy: alvh.Policy,
    points: _Points,
    rates: Any,
    inputs: Any = None,
) -> WalkForward:
    """`alvh.backtesting.sweeps.walk_forward` with a progress bar counting training points."""
    from alvh.backtesting.sweeps import walk_forward

    assert points.train_end is not None
    with _executor(args) as executor, progress_bar(console, "points") as bar:
        task = bar.add_task(f"sweep {policy.name} to {points.train_end}", total=None)
        return walk_forward(
            spx,
            vix,
            split=points.train_end,
            layer1_starts=points.layer1,
            layer2_starts=points.layer2,
            metric=args.metric,
            base=policy,
            executor=executor,
            start=points.start,
            end=points.end,
            rates=rates,
            inputs=inputs,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _out_of_sample_table(walk: WalkForward) -> Table:
    """The chosen point and the untuned policy on the days after the split."""
    table = Table(
        title=f"Out of sample, after {walk.split}: the point chosen by {walk.metric} up to "
        f"{walk.split} (L1 {walk.chosen[0]:g}, L2 {walk.chosen[1]:g}) against the untuned policy"
    )
    columns = (("policy", "policy", "text"), *_COLUMNS)
    for label, _key, _kind in columns:
        table.add_column(label, justify="left" if label == "policy" else "right", no_wrap=True)
    for row in walk.test.iter_rows(named=True):
        table.add_row(
            *[str(row[key]) if kind == "text" else _cell(row[key], kind) for _l, key, kind in columns]
        )
    return table


def _sweep(
    args: argparse.Namespace,
    console: Console,
    spx: Any,
    vix: Any,
    policy: alvh.Policy,
    points: _Points,
    rates: Any = None,
    inputs: Any = None,
) -> pl.DataFrame:
    """The sweep's frame, one row per point, with a progress bar counting points."""
    from alvh.backtesting.sweeps import sweep

    with _executor(args) as executor, progress_bar(console, "points") as bar:
        task = bar.add_task(f"sweep {policy.name}", total=None)
        return sweep(
            spx,
            vix,
            layer1_starts=points.layer1,
            layer2_starts=points.layer2,
            base=policy,
            executor=executor,
            start=points.start,
            end=points.end,
            rates=rates,
            inputs=inputs,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


@contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Executor | None]:
    """Where the points run: a dask cluster's executor (``--dask``), a pool of
    ``--workers`` spawned processes, or ``None`` (serial); shut down on the way out."""
    from concurrent.futures import ProcessPoolExecutor

    if args.dask is not None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise CliError(f"--dask needs dask.distributed (pip install 'alvh[dist]'): {exc}") from exc
        try:
            client = Client(args.dask, timeout=30)
        except OSError as exc:
            raise CliError(f"--dask {args.dask!r}: cannot reach the scheduler: {exc}") from exc
        try:
            yield client.get_executor()
        finally:
            client.close()
    elif args.workers > 1:
        import multiprocessing

        # Spawned, not forked: Polars' thread pool (busy loading the history) does not
        # survive fork(), and a forked worker can hang on its first Polars call.
        from alvh._core.signals import ignore_interrupt

        pool = ProcessPoolExecutor(
            max_workers=args.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=ignore_interrupt,  # Ctrl-C is the parent's: one line, exit 130
        )
        try:
            yield pool
        finally:
            pool.shutdown()
    else:
        yield None


def _best_table(frame: pl.DataFrame, args: argparse.Namespace, policy: alvh.Policy) -> Table:
    """The ``--top`` points by ``--metric``, best first by its direction and sign
    (`alvh.report.sweep.ranked`; NaN last)."""
    from alvh.report.sweep import METRICS, ranked

    metric = args.metric
    best = ranked(frame, metric)
    table = Table(
        title=f"Best {min(args.top, frame.height)} of {frame.height} layer bands by "
        f"{metric} ({escape(policy.name)}, {frame.height} replays)"
    )
    info = METRICS.get(metric)
    if info is not None and info.ratio_of is not None:
        table.caption = (
            f"A {metric} below 0 is ranked by its numerator x its risk (Israelsen 2005): "
            "with a loss, less risk ranks higher."
        )
    elif info is not None and not info.higher_better:
        table.caption = f"{metric}: lower is better."
    for label, _key, _kind in _COLUMNS:
        table.add_column(label, justify="right", no_wrap=True)
    for row in best.head(args.top).iter_rows(named=True):
        table.add_row(*[_cell(row[key], kind) for _label, key, kind in _COLUMNS])
    return table


def _cell(value: Any, kind: str) -> str:
    """A best-points cell: ``-`` for a missing or NaN metric, a VIX level as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:g}" if kind == "vix" else metric_cell(value, kind)
