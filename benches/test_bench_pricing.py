"""Throughput and accuracy of BSM price, Greeks and implied vol: alvh vs the field.

Groups (one table each in BENCHMARKS.md):

- ``price`` / ``greeks`` / ``implied_vol``: fresh output arrays, every implementation
  of benches/implementations.py on the 1M-option data set (a 20k prefix for Python
  loops), each result converted to alvh's units and compared with alvh native.
- ``price_out`` / ``greeks_out``: alvh writing into caller-provided buffers (no peer
  offers that).

Timing: pytest-benchmark's pedantic mode, one call per round. Each implementation is
called once untimed first (JIT compilation, page faults of reused buffers, lazy
imports), and the number of rounds is set from that call so that each benchmark
takes about ``ROUND_BUDGET_SECONDS`` (at least 3 and at most 200 rounds: many rounds
of the fast calls make the median robust to a busy neighbour), which keeps the
whole run to a few minutes on 2 cores.
"""

from __future__ import annotations

import math
import time

import pytest

from accuracy import differences, implied_vol_accuracy
from implementations import IMPLEMENTATIONS, AlvhFallback, AlvhNative, AlvhNativeSimd, Unavailable

ROUND_BUDGET_SECONDS = 2.0
MIN_ROUNDS, MAX_ROUNDS = 3, 200

ALVH_BACKENDS = [AlvhNative(), AlvhNativeSimd("avx2"), AlvhNativeSimd("baseline"), AlvhFallback()]


def _slug(impl) -> str:
    return impl.slug


def _measure(benchmark, task: str, impl, data, alvh_truth) -> None:
    try:
        run = getattr(impl, task)(data)
        started = time.perf_counter()
        result = run.call()  # untimed first call (see module doc)
        first_call = time.perf_counter() - started
    except Unavailable as exc:
        pytest.skip(f"{impl.name}: {exc}")
    rounds = max(MIN_ROUNDS, min(MAX_ROUNDS, math.ceil(ROUND_BUDGET_SECONDS / max(first_call, 1e-9))))
    result = benchmark.pedantic(run.call, rounds=rounds, iterations=1, warmup_rounds=0)
    outputs = run.convert(result)

    info = benchmark.extra_info
    info.update(
        task=task,
        implementation=impl.name,
        version=impl.version(),
        options=len(run.options),
        outputs=list(outputs),
        note=run.note,
        first_call_seconds=first_call,
    )
    if task == "implied_vol":
        info.update(implied_vol_accuracy(outputs["vol"], alvh_truth["vega"], run.options))
    else:
        info.update(differences(outputs, alvh_truth, run.options))


@pytest.mark.benchmark(group="price")
@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=_slug)
def test_price(benchmark, impl, spx_options, alvh_truth):
    _measure(benchmark, "price", impl, spx_options, alvh_truth)


@pytest.mark.benchmark(group="greeks")
@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=_slug)
def test_greeks(benchmark, impl, spx_options, alvh_truth):
    _measure(benchmark, "greeks", impl, spx_options, alvh_truth)


@pytest.mark.benchmark(group="implied_vol")
@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=_slug)
def test_implied_vol(benchmark, impl, spx_options, alvh_truth):
    _measure(benchmark, "implied_vol", impl, spx_options, alvh_truth)


@pytest.mark.benchmark(group="price_out")
@pytest.mark.parametrize("impl", ALVH_BACKENDS, ids=_slug)
def test_price_out(benchmark, impl, spx_options, alvh_truth):
    _measure(benchmark, "price_out", impl, spx_options, alvh_truth)


@pytest.mark.benchmark(group="greeks_out")
@pytest.mark.parametrize("impl", ALVH_BACKENDS, ids=_slug)
def test_greeks_out(benchmark, impl, spx_options, alvh_truth):
    _measure(benchmark, "greeks_out", impl, spx_options, alvh_truth)
