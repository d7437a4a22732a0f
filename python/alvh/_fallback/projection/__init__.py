"""The Monte Carlo projection kernel of the numpy backend: ``monte_carlo`` and
``pnl_statistics``, the contract of docs/projection_engine.md (``alvh._native``
implements the same functions and constants; `alvh.project` calls whichever backend
is active). ``monte_carlo`` takes the same two objects as the native kernel, the
frozen dataclasses of `alvh._core.kernel_inputs`.

The parts, one module each, as the native kernel's (``rust/core/src/projection/``):
`checks` (every input length and value, before any work), `paths` (the random
streams, the daily SPX/VIX step with its event jumps, the barrier touches),
`valuation` (each leg's value, settlement and Greeks on a day's paths, from the VIX
tables and the smile), `stats` (the P&L distribution per scenario and of the
mixture); `constants` holds the constants both backends export. This module runs
them: ``monte_carlo`` below is the outline, and it accumulates the outputs.

Paths are processed in blocks of `PATH_BLOCK` (vectorized over the block, looping
over scenarios, days and legs), so memory does not grow with ``paths``; a path's
numbers depend only on (seed, scenario, path, day), never on the blocking.
"""

from __future__ import annotations

import numpy as np

from alvh._core.kernel_inputs import ProjectionBuffers, ProjectionInputs
from alvh._core.types import FloatArray
from alvh._fallback.projection.checks import MAX_DAYS, Buffers, Checked, checked
from alvh._fallback.projection.constants import ADDITIVE, GREEKS, STICKY_MONEYNESS, TOUCH_KINDS
from alvh._fallback.projection.paths import DT, Paths, Scenario, normals, philox4x32_10, uniforms
from alvh._fallback.projection.stats import (
    QUANTILE_PERCENTS,
    STAT_KEYS,
    STATS,
    pnl_statistics,
    statistics,
)
from alvh._fallback.projection.valuation import Book

__all__ = [
    "ADDITIVE",
    "DT",
    "GREEKS",
    "MAX_DAYS",
    "PATH_BLOCK",
    "QUANTILE_PERCENTS",
    "STATS",
    "STAT_KEYS",
    "STICKY_MONEYNESS",
    "TOUCH_KINDS",
    "monte_carlo",
    "normals",
    "philox4x32_10",
    "pnl_statistics",
    "statistics",
    "uniforms",
]

#: Paths per block: bounds the temporaries (a few dozen arrays of this length).
PATH_BLOCK = 1 << 16


def monte_carlo(inputs: ProjectionInputs, out: ProjectionBuffers) -> None:
    """Simulates the position over ``inputs.days`` daily steps for every scenario and
    path and fills the buffers of ``out`` (docs/projection_engine.md is the reference;
    `ProjectionInputs` and `ProjectionBuffers` list the fields, their lengths and
    index conventions). ``alvh._native.monte_carlo`` takes the same two objects.

    The Greeks are those of `valuation` (``greek_paths`` first paths of each scenario).
    """
    kernel = checked(inputs, out)
    buffers = kernel.buffers
    for array in (buffers.touch_sum, buffers.touch_sumsq, buffers.greek_sum, buffers.greek_sumsq):
        array[...] = 0.0
    if buffers.pnl.size == 0:
        return
    sim = kernel.simulation
    book = Book(
        kernel.legs,
        kernel.tables,
        kernel.dynamics,
        kernel.market.rate,
        kernel.market.div,
        sim.first_valued_day,
    )
    with np.errstate(all="ignore"):
        for s in range(len(kernel.scenarios.drift)):
            scenario = Scenario(kernel.scenarios, kernel.jumps, s, sim.scenario_offset + s, sim.days)
            for start in range(0, sim.paths, PATH_BLOCK):
                _run_block(kernel, book, scenario, start, min(start + PATH_BLOCK, sim.paths))


def _run_block(kernel: Checked, book: Book, scenario: Scenario, start: int, stop: int) -> None:
    """Paths ``start..stop`` of one scenario over every day: step the paths, value the
    book on them, record the day."""
    sim = kernel.simulation
    n_greek = max(0, min(sim.greek_paths, stop) - start)  # the block's first paths carry Greeks
    paths = Paths(scenario, start, stop, kernel.market, sim.seed, kernel.barriers)
    settled: list[FloatArray | None] = [None] * book.n  # price-level values, per path
    for day in range(1, sim.days + 1):
        paths.step(day)
        row = scenario.s * sim.days + (day - 1)
        _add_touches(kernel.buffers, row, paths)
        value, greeks = book.value(day, paths.spot, paths.vix, settled, n_greek, scenario.s)
        cells = slice(row * sim.paths + start, row * sim.paths + stop)
        _record_day(kernel.buffers, row, cells, value - kernel.market.base_value, greeks, paths)


def _add_touches(buffers: Buffers, row: int, paths: Paths) -> None:
    """Adds the block's touch probabilities to the sums of (scenario, day) ``row``."""
    for k, touched in enumerate(paths.touched()):
        buffers.touch_sum[row * TOUCH_KINDS + k] += touched.sum()
        buffers.touch_sumsq[row * TOUCH_KINDS + k] += (touched * touched).sum()


def _record_day(
    buffers: Buffers, row: int, cells: slice, pnl: FloatArray, greeks: FloatArray, paths: Paths
) -> None:
    """Writes the block's P&L (and closes, when kept) into its ``cells`` of the cubes
    and adds its Greeks to the sums of (scenario, day) ``row``."""
    buffers.pnl[cells] = pnl
    if greeks.shape[1]:
        buffers.greek_sum[row * GREEKS : (row + 1) * GREEKS] += greeks.sum(axis=1)
        buffers.greek_sumsq[row * GREEKS : (row + 1) * GREEKS] += (greeks * greeks).sum(axis=1)
    if buffers.spot is not None:
        buffers.spot[cells] = paths.spot
    if buffers.vix is not None:
        buffers.vix[cells] = paths.vix
