"""Sweeps of a policy's layer thresholds over a history (`sweep`): one replay per grid
point, serially, in a process pool or on a dask cluster, with the same rows in the same
order whichever runs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from alvh.backtesting.daily import Assumptions, CondorRules, Costs, replay
from alvh.errors import InvalidInputError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["sweep"]


def _sweep_point(payload: tuple[Any, ...]) -> dict[str, float]:
    """One sweep point (module-level, so executors can pickle it)."""
    spx, vix, policy, condors, costs, assumptions, start, end, params = payload
    run = replay(
        spx, vix, start=start, end=end, condors=condors, costs=costs, assumptions=assumptions, policy=policy
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

    from alvh.policy.config import Layer, Policy

    policy = base if base is not None else Policy.preset("early")
    payloads = []
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
            params = {"layer1_start": s1, "layer2_start": s2}
            payloads.append((spx, vix, variant, condors, costs, assumptions, start, end, params))
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
