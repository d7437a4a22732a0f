"""decide() for one day, projection included (issue 5 target: <= 200 ms on 2 cores).

The example condor in examples/market_2025-02-03.toml with the VIX moved to 25 (layer
2), evidence present, a portfolio small enough that the time-shift check does not
defer: the decision runs the base projection and one per candidate (long VIX calls,
SPX put spread), each 2,000 paths x 10 days x 12 scenarios, then the chosen hedge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import alvh
from alvh.policy.state import MarketState

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.benchmark(group="decide")
def test_decide_one_day(benchmark):
    market = alvh.Market.from_toml(EXAMPLES / "market_2025-02-03.toml")
    market = market.bump(vix_shift=25.0 - market.vix)
    book = alvh.Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    state = MarketState(
        date=market.as_of,
        vix=25.0,
        spx=market.spot,
        macd_hist=-3.1,
        macd_expanding=True,
        ad_divergence=True,
        breadth_bid=False,
        vix_rsi=71.0,
        vix_vx1=1.04,
        vx1_vx2=1.01,
        backwardation=True,
        implied_minus_realized=-0.01,
        skew_z=2.4,
        skew_steepening=True,
        correlations={},
        correlation_tightening={},
        cpi_yoy=0.034,
        ppi_yoy=0.031,
        fomc_tone="hawkish",
        custom={},
        missing=(),
    )
    policy = alvh.Policy.preset("early")
    benchmark.extra_info.update(task="decide", implementation="alvh native, Policy.decide", options=1)

    def run():
        return policy.decide(state, book, market, layer=1, portfolio_value=150_000.0, seed=3)

    decision = benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=1)
    assert decision.layer_after == 2 and decision.cvar_before is not None
