"""The backtest (issue 13 target: a 23-year daily backtest of one policy with the
projection check on <= 15 s on 2 cores): `alvh.backtesting.daily.replay` of the condor
schedule under the `early` policy on the bundled 2000-01-03..2022-11-08 SPX/VIX history
(5,750 days, about 1,200 decisions, each with its projections, break-evens at T+0 and
T+10 and CVaR-sized candidates; every day at its 3-month bill rate; the diagnostics fed
the sample's breadth proxy, core CPI and term spread, as `alvh demo` does), and without a
policy. The Market's VIX-ratio solves are cached per process:
each round clears the cache, so both rounds pay them as a fresh process would.
"""

from __future__ import annotations

import pytest

import alvh
from alvh.backtesting.daily import daily_states, replay


@pytest.fixture(scope="module")
def history():
    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.data import rates_for, sample_data
    from alvh.backtesting.inputs import sample_inputs

    sample = sample_data()
    spx, vix = sample.spx, sample.vix.select("date", "close")
    return spx, vix, rates_for(replay_days(spx, vix), sample.rates), sample_inputs(sample)


@pytest.mark.benchmark(group="backtest")
@pytest.mark.parametrize("policy_name", ["none", "early"])
def test_23_year_replay(benchmark, history, policy_name):
    from alvh.market.snapshot import _solved_ratio

    spx, vix, rates, inputs = history
    policy = None if policy_name == "none" else alvh.Policy.preset(policy_name)
    benchmark.extra_info.update(
        task="backtest", implementation=f"alvh native, replay ({policy_name})", options=1
    )

    def run():
        _solved_ratio.cache_clear()  # as in a fresh process
        states = None if policy is None else daily_states(spx, vix, rules=policy.rules, inputs=inputs)
        return replay(spx, vix, policy=policy, states=states, rates=rates)

    result = benchmark.pedantic(run, rounds=2, iterations=1, warmup_rounds=0)
    assert result.equity.height == 5750
