"""Shared fixtures of the alvh test suite.

- ``backend``: every pricing test runs once per backend ("native" = the Rust core,
  "python" = the numpy fallback), switched with ``alvh.use_backend`` as a context
  manager so that the previous backend is restored after each test.
- ``spx_cases`` / ``spx_like_cases``: the shared random SPX-like case generator
  (fixed seed, so every run tests the same options).
- A deterministic hypothesis profile (no example database, derandomized), so the
  suite gives the same answer on every run and every machine.

The suite runs against the *installed* wheel: nothing here touches ``sys.path``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import alvh

settings.register_profile(
    "alvh",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    # The backend fixture is a plain context switch: safe to share across examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("alvh")

BACKENDS = ("native", "python")

#: The seed of the shared SPX-like case set.
SPX_SEED = 20_240_611

#: Five minutes in years (ACT/365): the shortest expiry the suite prices.
FIVE_MINUTES = 5.0 / (365.0 * 24.0 * 60.0)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest):
    """Runs the test on one backend and restores the previous one afterwards."""
    with alvh.use_backend(request.param):
        yield request.param


@dataclass(frozen=True)
class Cases:
    """A batch of BSM inputs as arrays of one length (``spot`` is the SPX level)."""

    is_call: np.ndarray
    spot: np.ndarray
    strike: np.ndarray
    t: np.ndarray
    rate: np.ndarray
    div: np.ndarray
    vol: np.ndarray

    def __len__(self) -> int:
        return len(self.spot)

    def kwargs(self) -> dict[str, np.ndarray]:
        """Keyword arguments for ``alvh.bsm.price`` / ``greeks``."""
        return {
            "is_call": self.is_call,
            "spot": self.spot,
            "strike": self.strike,
            "t": self.t,
            "rate": self.rate,
            "div": self.div,
            "vol": self.vol,
        }

    def rows(self):
        """(is_call, spot, strike, t, rate, div, vol) per option, as Python scalars."""
        return zip(
            self.is_call.tolist(),
            self.spot.tolist(),
            self.strike.tolist(),
            self.t.tolist(),
            self.rate.tolist(),
            self.div.tolist(),
            self.vol.tolist(),
        )


def spx_like_cases(n: int, seed: int = SPX_SEED) -> Cases:
    """``n`` random SPX-like European options (fixed seed -> the same options every run).

    SPX 3,000-6,000; strikes log-uniform in 0.5x-1.6x spot (condor wings and deep
    wings); expiries from 5 minutes to 2 years with most mass in 0DTE-3M; vols 5 %-120 %;
    rates -1 %..6 %, dividend yields 0-4 % (so q > r happens).
    """
    rng = np.random.default_rng(seed)
    spot = rng.uniform(3000.0, 6000.0, n)
    strike = spot * np.exp(rng.uniform(np.log(0.5), np.log(1.6), n))
    # Expiries: a third intraday (5 minutes to 1 day), the rest 1 day to 2 years.
    intraday = rng.uniform(FIVE_MINUTES, 1.0 / 365.0, n)
    days = np.exp(rng.uniform(0.0, np.log(730.0), n)) / 365.0
    t = np.where(rng.random(n) < 1.0 / 3.0, intraday, days)
    vol = np.exp(rng.uniform(np.log(0.05), np.log(1.2), n))
    rate = rng.uniform(-0.01, 0.06, n)
    div = rng.uniform(0.0, 0.04, n)
    is_call = rng.random(n) < 0.5
    return Cases(is_call, spot, strike, t, rate, div, vol)


def edge_cases() -> Cases:
    """The corners of the issue's domain on an SPX-sized spot, as a full grid:
    T from 5 minutes to 5 years, K/S from 0.2 to 5, vol from 0.5 % to 300 %,
    negative rates, and dividend yields above the rate."""
    ts = [FIVE_MINUTES, 1.0 / 365.0, 7.0 / 365.0, 0.25, 1.0, 5.0]
    moneyness = [0.2, 0.5, 0.9, 1.0, 1.1, 2.0, 5.0]
    vols = [0.005, 0.05, 0.2, 1.0, 3.0]
    rate_div = [(0.04, 0.015), (-0.01, 0.0), (0.01, 0.05), (-0.005, 0.03)]
    grid = np.array(
        [
            (call, m, t, r, q, v)
            for call in (True, False)
            for m in moneyness
            for t in ts
            for r, q in rate_div
            for v in vols
        ]
    )
    spot = np.full(len(grid), 4500.0)
    return Cases(
        is_call=grid[:, 0].astype(bool),
        spot=spot,
        strike=spot * grid[:, 1],
        t=grid[:, 2],
        rate=grid[:, 3],
        div=grid[:, 4],
        vol=grid[:, 5],
    )


@pytest.fixture(scope="session")
def spx_cases() -> Cases:
    """The shared 2,500 random SPX-like options."""
    return spx_like_cases(2500)


@pytest.fixture(scope="session")
def calm_inputs():
    """A function ``calm_inputs(spx, until=None)``: diagnostic inputs under which rule
    (c)'s four conditions hold on every day of ``spx`` up to ``until`` (a breadth line at
    a new high each day, core CPI 2 % and a steady FOMC published monthly, a constant
    rate differential) and fail after it (the breadth line falling, CPI 5 %, hawkish)."""
    import datetime as dt

    import polars as pl

    from alvh.backtesting.inputs import StateInputs

    def build(spx: pl.DataFrame, until: dt.date | None = None) -> StateInputs:
        days = spx["date"].to_list()
        cut = until or days[-1]
        calm = [d <= cut for d in days]
        level, line = 0.0, []
        for ok in calm:
            level += 1.0 if ok else -1.0
            line.append(level)
        first = days[0] - dt.timedelta(days=31)
        months = [first + dt.timedelta(days=30 * i) for i in range(len(days) // 20 + 3)]
        return StateInputs(
            breadth=pl.DataFrame({"date": days, "line": line}),
            breadth_source="test: a line at its high while calm",
            macro=pl.DataFrame(
                {
                    "date": months,
                    "cpi_yoy": [0.02 if m <= cut else 0.05 for m in months],
                    "fomc_tone": ["steady" if m <= cut else "hawkish" for m in months],
                }
            ),
            rates=pl.DataFrame({"date": days, "differential": [1.0] * len(days)}),
        )

    return build
