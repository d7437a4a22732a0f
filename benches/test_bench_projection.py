"""Projection (issue 4 target): 100,000 paths x 10 days x 12 scenarios (gdp_x_earnings)
for an 8-leg book, about 96 M leg valuations, native vs the numpy fallback, through
the public `alvh.project` (tables, kernel per scenario, statistics, the expected
paths), on examples/market_2025-02-03.toml.

The 8 legs: the example condor with its VIX call (examples/condor_vix_hedge.toml),
a second VIX call, a short VIX future and a long SPX put.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import alvh

PATHS, DAYS = 100_000, 10
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _book_and_market() -> tuple[alvh.Position, alvh.Market]:
    market = alvh.Market.from_toml(EXAMPLES / "market_2025-02-03.toml")
    book = alvh.Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    mar18 = dt.date(2025, 3, 18)
    book = book.with_leg(alvh.VixOption(mar18, 30.0, True, 5, 0.40))
    book = book.with_leg(alvh.VixFuture(mar18, -1, 19.3))
    book = book.with_leg(alvh.SpxOption(dt.date(2025, 3, 21), 5400.0, False, 2, 12.0))
    assert len(book) == 8
    return book, market


@pytest.mark.benchmark(group="projection")
@pytest.mark.parametrize("backend_name", ["native", "python"])
def test_project_public_api(benchmark, backend_name):
    book, market = _book_and_market()
    name = "alvh native" if backend_name == "native" else "alvh fallback (numpy)"
    scenarios = 12
    benchmark.extra_info.update(
        task="projection",
        implementation=f"{name}, alvh.project end to end",
        options=len(book) * PATHS * DAYS * scenarios,
    )

    def run():
        with alvh.use_backend(backend_name):
            return alvh.project(book, market, scenarios="gdp_x_earnings", days=DAYS, paths=PATHS, seed=7)

    result = benchmark.pedantic(
        run,
        rounds=5 if backend_name == "native" else 1,
        iterations=1,
        warmup_rounds=1 if backend_name == "native" else 0,
    )
    assert len(result.names) == scenarios
    assert np.isfinite(result.stats).all()
