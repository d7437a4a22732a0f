"""Sweeps of a policy's layer thresholds over a history (`sweep`): one replay per grid
point, serially, in a process pool or on a dask cluster, with the same rows in the same
order whichever runs them; and the walk-forward (`walk_forward`): a point chosen on one
period (2000-2011 by default in the CLI) and judged on the next."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from alvh.backtesting.daily import Assumptions, CondorRules, Costs, replay
from alvh.errors import InputTypeError, InvalidInputError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["LOWER_IS_BETTER", "WalkForward", "sweep", "walk_forward"]


def _sweep_point(payload: tuple[Any, ...]) -> dict[str, float]:
    """One sweep point (module-level, so executors can pickle it)."""
    spx, vix, policy, condors, costs, assumptions, start, end, params, rates, inputs = payload
    run = replay(
        spx,
        vix,
        start=start,
        end=end,
        condors=condors,
        costs=costs,
        assumptions=assumptions,
        policy=policy,
        rates=rates,
        inputs=inputs,
    )
    return {**params, **run.metrics()}


def sweep(
    spx: pl.DataFrame,
    vix: pl.DataFrame,
    *,
    layer1_starts: Any,
    layer2_starts: Any,
    base: Any = None,
    executor: Any = None,
    condors: CondorRules | None = None,
    costs: Costs | None = None,
    assumptions: Assumptions | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    rates: pl.DataFrame | None = None,
    inputs: Any = None,
) -> pl.DataFrame:
    """Replay the book under ``base`` (default the early preset) with layer 1's band
    starting at each of ``layer1_starts`` and layer 2's at each of ``layer2_starts``
    (bands 5 points wide, cut so they do not overlap; pairs where layer 2 would start
    below layer 1's start + 1 are skipped), and return one row of `Replay.metrics` per
    pair (columns ``layer1_start``, ``layer2_start`` first), in the order of the pairs
    (layer 1 start outer, layer 2 start inner). ``start`` and ``end`` bound every
    replay (`replay`; the diagnostics still warm up on the whole history).

    ``executor``: any `concurrent.futures.Executor` (a process pool, or a
    ``dask.distributed.Client``'s ``get_executor()`` to run on a cluster); None runs
    serially. Give a process pool the spawn context (``mp_context=
    multiprocessing.get_context("spawn")``): Polars' thread pool does not survive ``fork()``,
    and forked workers can hang on their first Polars call. The rows are the same whichever runs
    them: each point is a deterministic replay, and the rows are put back in the pairs' order.
    ``progress(done, total)`` is called as each point finishes."""
    import polars as pl

    from alvh.policy.config import Policy

    policy = base if base is not None else Policy.preset("early")
    payloads = []
    for s1, s2, variant in _variants(policy, layer1_starts, layer2_starts):
        params = {"layer1_start": s1, "layer2_start": s2}
        payloads.append((spx, vix, variant, condors, costs, assumptions, start, end, params, rates, inputs))
    if not payloads:
        raise InvalidInputError("the sweep has no valid (layer1_start, layer2_start) pair")
    total = len(payloads)
    rows: list[dict[str, float] | None] = [None] * total
    if executor is None:
        for i, payload in enumerate(payloads):
            rows[i] = _sweep_point(payload)
            if progress is not None:
                progress(i + 1, total)
    else:
        from concurrent.futures import as_completed

        futures = {executor.submit(_sweep_point, payload): i for i, payload in enumerate(payloads)}
        for done, future in enumerate(as_completed(futures), start=1):
            rows[futures[future]] = future.result()
            if progress is not None:
                progress(done, total)
    return pl.DataFrame(rows)


def _cut_inputs(inputs: Any, split: dt.date) -> Any:
    """The diagnostic inputs without their rows after ``split`` (nothing after the
    training window reaches the choice)."""
    if inputs is None:
        return None
    import polars as pl

    from alvh.backtesting.inputs import StateInputs

    if not isinstance(inputs, StateInputs):
        raise InputTypeError(
            f"inputs must be an alvh.backtesting.inputs.StateInputs, got {type(inputs).__name__}"
        )

    def cut(frame: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if frame is None else frame.filter(pl.col("date") <= split)

    return replace(inputs, breadth=cut(inputs.breadth), macro=cut(inputs.macro), rates=cut(inputs.rates))


def _variants(policy: Any, layer1_starts: Any, layer2_starts: Any) -> list[tuple[float, float, Any]]:
    """``(layer 1 start, layer 2 start, the policy with those bands)`` of `sweep`'s grid."""
    from alvh.policy.config import Layer

    out = []
    for s1 in layer1_starts:
        for s2 in layer2_starts:
            s1, s2 = float(s1), float(s2)
            if s2 < s1 + 1.0:
                continue
            l1, l2, l3 = policy.layers
            layers = (
                Layer(1, s1, min(s1 + 5.0, s2), l1.exit_buffer, l1.actions, l1.enabled),
                Layer(2, s2, min(s2 + 5.0, l3.start), l2.exit_buffer, l2.actions, l2.enabled),
                l3,
            )
            if s2 >= l3.start:
                continue
            variant = policy.with_changes(name=f"{policy.name} L1 {s1:g} L2 {s2:g}", layers=layers)
            out.append((s1, s2, variant))
    return out


#: Metrics of `Replay.metrics` where lower is better (a walk-forward minimizes them).
LOWER_IS_BETTER = ("vol", "max_drawdown", "cvar95_daily", "hedge_spend")


@dataclass(frozen=True, eq=False)  # Polars frames have no truth value: identity equality
class WalkForward:
    """`walk_forward`'s answer: the ``train`` sweep (one row per grid point, on the days
    up to ``split``), the ``chosen`` band starts (best ``metric`` in training) and the
    ``test`` frame: the chosen policy and the untuned ``base`` replayed on the days
    after ``split`` (``policy``, ``layer1_start``, ``layer2_start``, then
    `Replay.metrics`)."""

    split: dt.date
    metric: str
    train: pl.DataFrame
    chosen: tuple[float, float]
    test: pl.DataFrame


def walk_forward(
    spx: pl.DataFrame,
    vix: pl.DataFrame,
    *,
    split: dt.date,
    layer1_starts: Any,
    layer2_starts: Any,
    metric: str = "sharpe",
    base: Any = None,
    executor: Any = None,
    condors: CondorRules | None = None,
    costs: Costs | None = None,
    assumptions: Assumptions | None = None,
    rates: pl.DataFrame | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    inputs: Any = None,
) -> WalkForward:
    """Choose the band starts on the history up to ``split`` and judge them after it:
    `sweep` on the days from ``start`` to ``split`` (the histories and rates are *cut*
    at ``split`` first, so nothing after it can reach the choice), pick the point with
    the best ``metric`` (highest, or lowest for `LOWER_IS_BETTER`; ties to the first
    in the sweep's order), then replay that policy and the untuned ``base`` on the days
    after ``split`` to ``end``, each on the full history (the indicators are causal),
    so the test period's numbers come from parameters it did not choose."""
    import polars as pl

    from alvh.policy.config import Policy

    if not isinstance(split, dt.date):
        raise InvalidInputError(f"split must be a datetime.date; got {split!r}")
    policy = base if base is not None else Policy.preset("early")

    def cut(frame: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if frame is None else frame.filter(pl.col("date") <= split)

    train = sweep(
        cut(spx),  # type: ignore[arg-type]
        cut(vix),  # type: ignore[arg-type]
        layer1_starts=layer1_starts,
        layer2_starts=layer2_starts,
        base=policy,
        executor=executor,
        condors=condors,
        costs=costs,
        assumptions=assumptions,
        start=start,
        end=split,
        progress=progress,
        rates=cut(rates),
        inputs=_cut_inputs(inputs, split),
    )
    if metric not in train.columns:
        raise InvalidInputError(f"metric {metric!r} is not a sweep column ({', '.join(train.columns)})")
    values = train.get_column(metric).fill_nan(None)
    best = values.arg_min() if metric in LOWER_IS_BETTER else values.arg_max()
    if best is None:
        raise InvalidInputError(f"metric {metric!r} is NaN at every training point")
    chosen = (float(train["layer1_start"][best]), float(train["layer2_start"][best]))
    tuned = next(v for s1, s2, v in _variants(policy, [chosen[0]], [chosen[1]]) if (s1, s2) == chosen)
    first_test = split + dt.timedelta(days=1)
    rows = []
    for label, candidate, starts in (
        (f"{policy.name} (chosen)", tuned, chosen),
        (f"{policy.name} (untuned)", policy, (policy.layers[0].start, policy.layers[1].start)),
    ):
        run = replay(
            spx,
            vix,
            start=first_test,
            end=end,
            condors=condors,
            costs=costs,
            assumptions=assumptions,
            policy=candidate,
            rates=rates,
            inputs=inputs,
        )
        rows.append({"policy": label, "layer1_start": starts[0], "layer2_start": starts[1], **run.metrics()})
    return WalkForward(split, metric, train, chosen, pl.DataFrame(rows))
