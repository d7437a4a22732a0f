"""The backtest (issue 6 target: a 5-year daily backtest of one policy with the
projection check on <= 10 s on 2 cores): `alvh.backtesting.daily.replay` of the condor
schedule under the `early` policy on the 2014-2018 SPX/VIX history shipped with arch
(1,257 days; about 157 decisions, each with its projections), and without a policy.
"""

from __future__ import annotations

import pytest

import alvh
from alvh.backtesting.daily import daily_states, replay


@pytest.fixture(scope="module")
def history():
    data = pytest.importorskip("alvh.backtesting.data")
    sample = data.sample_data()
    return sample.spx, sample.vix.select("date", "close")


@pytest.mark.benchmark(group="backtest")
@pytest.mark.parametrize("policy_name", ["none", "early"])
def test_five_year_replay(benchmark, history, policy_name):
    spx, vix = history
    policy = None if policy_name == "none" else alvh.Policy.preset(policy_name)
    benchmark.extra_info.update(
        task="backtest", implementation=f"alvh native, replay ({policy_name})", options=1
    )

    def run():
        states = None if policy is None else daily_states(spx, vix, rules=policy.rules)
        return replay(spx, vix, policy=policy, states=states)

    result = benchmark.pedantic(run, rounds=2, iterations=1, warmup_rounds=0)
    assert result.equity.height > 1200
