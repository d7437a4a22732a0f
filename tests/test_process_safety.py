"""The installed wheel is what the suite tests, and the native pool survives fork()."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest

import alvh

REPO = Path(__file__).resolve().parents[1]


def test_suite_imports_the_installed_package_not_the_source_tree() -> None:
    assert REPO / "python" not in Path(alvh.__file__).resolve().parents


def _price_sum(_: int) -> tuple[float, object]:
    strikes = np.linspace(3000.0, 6000.0, 200_000)  # above the parallel threshold
    prices = alvh.bsm.price(is_call=True, spot=4500.0, strike=strikes, t=0.5, rate=0.04, div=0.01, vol=0.2)
    return float(prices.sum()), alvh.build_info().get("parallel")


@pytest.mark.skipif(alvh.backend() != "native", reason="the thread pool is the native backend's")
def test_forked_children_compute_without_the_thread_pool_and_agree() -> None:
    parent_sum, parent_parallel = _price_sum(0)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map_async(_price_sum, range(2)).get(timeout=60)
    assert parent_parallel is True
    for child_sum, child_parallel in results:
        assert child_parallel is False
        assert child_sum == parent_sum
