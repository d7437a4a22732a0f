"""The calibration (`alvh.risk.calibrate`) on the real data bundled with arch and
statsmodels: plausible values, determinism, and that the defaults written into
`alvh.risk.scenarios` are these numbers rounded (the comments there cite each one).
"""

from __future__ import annotations

import math
import sys
from datetime import date

import polars as pl
import pytest

pytest.importorskip("arch")
pytest.importorskip("statsmodels")

from alvh.risk import calibrate, scenarios  # noqa: E402


@pytest.fixture(scope="module")
def dynamics() -> calibrate.SpxVixDynamics:
    return calibrate.spx_vix_dynamics()


@pytest.fixture(scope="module")
def jumps() -> calibrate.EventJumps:
    return calibrate.event_jumps()


@pytest.fixture(scope="module")
def regimes() -> calibrate.GdpRegimes:
    return calibrate.gdp_regimes()


def within_rounding(constant: float, calibrated: float, decimals: int) -> bool:
    """``constant`` is ``calibrated`` rounded to ``decimals`` places (half a unit of slack)."""
    return abs(constant - calibrated) <= 0.5 * 10.0**-decimals + 1e-12


def test_spx_vix_dynamics_are_plausible(dynamics):
    assert dynamics.vix_beta < 0
    assert dynamics.vix_beta_stderr < 0.1 * abs(dynamics.vix_beta)
    assert 0.3 < dynamics.vol_of_vix < 2.0
    assert 0 < dynamics.vix_phi < 1 and dynamics.vix_kappa > 0
    assert dynamics.vix_kappa == pytest.approx(-math.log(dynamics.vix_phi) * 252)
    assert 10 < dynamics.vix_theta < 25
    assert dynamics.n_obs > 1200
    assert dynamics.first_date.year == 2014 and dynamics.last_date == date(2018, 12, 31)


def test_dynamics_constants_are_the_calibration_rounded(dynamics):
    assert within_rounding(scenarios.VIX_BETA, dynamics.vix_beta, 2)
    assert within_rounding(scenarios.VOL_OF_VIX, dynamics.vol_of_vix, 2)
    assert within_rounding(scenarios.VIX_KAPPA, dynamics.vix_kappa, 1)


def test_event_jumps_count_the_rule_days(jumps):
    # Four releases a year, 1999-2018; VIX data only from 2014.
    assert jumps.gdp.n_event_days == 80 and jumps.gdp.n_vix_event_days == 20
    assert jumps.earnings.n_event_days > 1500
    assert jumps.first_date.year == 1999 and jumps.last_date == date(2018, 12, 31)
    for row in (jumps.gdp, jumps.earnings):
        assert row.spx_jump_std >= 0 and row.vix_jump_std >= 0
        assert math.isfinite(row.vix_jump_mean) and math.isfinite(row.spx_jump_mean)


def test_event_constants_are_the_calibration_rounded(jumps):
    assert within_rounding(scenarios.GDP_SPX_JUMP_STD, jumps.gdp.spx_jump_std, 4)
    assert within_rounding(scenarios.GDP_VIX_JUMP_STD, jumps.gdp.vix_jump_std, 4)
    assert within_rounding(scenarios.EARNINGS_SPX_EXCESS_STD, jumps.earnings.spx_jump_std, 4)
    assert within_rounding(scenarios.EARNINGS_VIX_EXCESS_STD, jumps.earnings.vix_jump_std, 3)


def test_gdp_regimes_partition_the_quarters(regimes):
    assert [r.regime for r in regimes.regimes] == list(scenarios.GDP_REGIME_PROBABILITY)
    assert sum(r.n_quarters for r in regimes.regimes) == 202
    assert math.fsum(r.frequency for r in regimes.regimes) == pytest.approx(1.0)
    assert (regimes.first_quarter, regimes.last_quarter) == ("1959Q2", "2009Q3")
    assert regimes.by_name("expansion").spx_drift > 0 > regimes.by_name("recession").spx_drift


def test_gdp_constants_are_the_calibration_rounded(regimes):
    for regime, probability in scenarios.GDP_REGIME_PROBABILITY.items():
        assert within_rounding(probability, regimes.by_name(regime).frequency, 4), regime
    # Only these two drifts are calibrated; the others are documented assumptions.
    for regime in ("expansion", "recession"):
        drift = regimes.by_name(regime).spx_drift
        assert within_rounding(scenarios.GDP_REGIME_DRIFT[regime], drift, 2), regime


def test_results_are_deterministic_frames(dynamics, jumps, regimes):
    assert calibrate.spx_vix_dynamics() == dynamics
    assert dynamics.to_polars().height == 1
    frame = jumps.to_polars()
    assert frame["kind"].to_list() == ["gdp", "earnings"]
    assert isinstance(regimes.to_polars(), pl.DataFrame) and regimes.to_polars().height == 4


def test_missing_data_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "arch.data.sp500", None)
    with pytest.raises(ImportError, match=r"'data' extra .*pip install 'alvh\[data\]'"):
        calibrate.spx_vix_dynamics()
