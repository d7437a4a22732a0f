"""Scenario sets (`alvh.risk.scenarios`): the event-date rules, validation errors that
name the field, ``resolve`` into the engine's per-day arrays, ``product``, the
TOML format with its error messages, and the built-ins.

Dates checked by hand against a calendar: the BEA's Q4 2024 advance estimate came
out on Thursday 2025-01-30, the last Thursday of January 2025.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh.errors import InputTypeError, InvalidInputError
from alvh.risk import scenarios
from alvh.risk.scenarios import Event, Scenario, ScenarioSet

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "scenarios.toml"
AS_OF = date(2025, 1, 20)  # Martin Luther King Jr. Day: an exchange holiday


def event(**changes) -> Event:
    fields = dict(
        name="gdp",
        date=date(2025, 1, 30),
        spx_jump_mean=-0.01,
        spx_jump_std=0.005,
        vix_jump_mean=0.08,
        vix_jump_std=0.03,
    )
    fields.update(changes)
    return Event(**fields)


def scenario(**changes) -> Scenario:
    fields = dict(
        name="base",
        probability=1.0,
        spx_drift=0.05,
        diffusion_vol=None,
        vix_beta=-8.0,
        vol_of_vix=0.9,
        vix_kappa=5.0,
        vix_theta=None,
        events=(event(),),
    )
    fields.update(changes)
    return Scenario(**fields)


def two(p: float = 0.5, q: float = 0.5, **changes) -> ScenarioSet:
    return ScenarioSet(
        name="two",
        scenarios=(scenario(name="up", probability=p), scenario(name="down", probability=q, **changes)),
    )


# --------------------------------------------------------------------------- date rules


@pytest.mark.parametrize(
    ("year", "quarter", "release"),
    [
        (2024, 4, date(2025, 1, 30)),  # BEA's actual date for Q4 2024
        (2024, 3, date(2024, 10, 31)),
        (2024, 1, date(2024, 4, 25)),
        (2018, 2, date(2018, 7, 26)),
    ],
)
def test_gdp_advance_release_is_the_last_thursday_of_the_month_after_the_quarter(year, quarter, release):
    assert scenarios.gdp_advance_release(year, quarter) == release
    assert release.weekday() == 3


def test_next_gdp_release_is_strictly_after_as_of():
    assert scenarios.next_gdp_advance_release(AS_OF) == date(2025, 1, 30)
    assert scenarios.next_gdp_advance_release(date(2025, 1, 30)) == date(2025, 4, 24)
    assert scenarios.next_gdp_advance_release(date(2024, 12, 31)) == date(2025, 1, 30)


def test_earnings_season_days_are_business_days_of_the_four_weeks_from_the_15th():
    days = scenarios.earnings_season_days(date(2025, 1, 10), date(2025, 2, 20))
    assert days[0] == date(2025, 1, 15)
    assert days[-1] == date(2025, 2, 11)  # 15 Jan + 27 days
    assert date(2025, 1, 20) not in days  # MLK day: exchange holiday
    assert all(d.weekday() < 5 for d in days)
    assert len(days) == 19
    assert scenarios.earnings_season_days(date(2025, 3, 1), date(2025, 3, 31)) == []


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"probability": 0.0}, "probability"),
        ({"probability": 1.5}, "probability"),
        ({"probability": math.nan}, "probability"),
        ({"spx_drift": math.inf}, "spx_drift"),
        ({"diffusion_vol": -0.1}, "diffusion_vol"),
        ({"diffusion_vol": 20.0}, "diffusion_vol"),  # 20 for 20 %: a typo
        ({"vix_beta": math.nan}, "vix_beta"),
        ({"vol_of_vix": -0.5}, "vol_of_vix"),
        ({"vix_kappa": -1.0}, "vix_kappa"),
        ({"vix_theta": 0.0}, "vix_theta"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_scenario_values_name_the_field_and_value(changes, field):
    with pytest.raises(InvalidInputError, match=rf"^{field} must be .*got {field} = ") as info:
        scenario(**changes)
    assert info.value.arg == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"spx_jump_std": -0.01}, "spx_jump_std"),
        ({"vix_jump_std": -0.01}, "vix_jump_std"),
        ({"spx_jump_mean": math.nan}, "spx_jump_mean"),
        ({"vix_jump_mean": -math.inf}, "vix_jump_mean"),
    ],
)
def test_bad_event_values_name_the_field(changes, field):
    with pytest.raises(InvalidInputError, match=rf"^{field} must be") as info:
        event(**changes)
    assert info.value.arg == field


def test_wrong_types_are_type_errors():
    with pytest.raises(InputTypeError, match="vol_of_vix must be a number"):
        scenario(vol_of_vix="0.9")
    with pytest.raises(InputTypeError, match="probability must be a number"):
        scenario(probability=True)
    with pytest.raises(InputTypeError, match="date must be a datetime.date"):
        event(date=datetime(2025, 1, 30, 8, 30))
    with pytest.raises(InputTypeError, match=r"events\[0\] must be"):
        scenario(events=({"name": "gdp"},))


def test_probabilities_not_summing_to_one_name_the_set_and_the_sum():
    with pytest.raises(InvalidInputError, match=r"'two' must sum to 1; they sum to 0\.9"):
        two(0.5, 0.4)
    two(0.5, 0.5 + 5e-10)  # inside the 1e-9 tolerance


def test_duplicate_scenario_names_are_an_error():
    with pytest.raises(InvalidInputError, match=r"scenarios\[1\]\.name must be unique") as info:
        ScenarioSet(name="dup", scenarios=(scenario(probability=0.5), scenario(probability=0.5)))
    assert info.value.arg == "scenarios[1].name"


def test_empty_set_is_an_error():
    with pytest.raises(InvalidInputError, match="scenarios must be non-empty"):
        ScenarioSet(name="empty", scenarios=())


@pytest.mark.parametrize("days", [0, 31, -5])
def test_days_outside_1_to_30_is_an_error(days):
    with pytest.raises(InvalidInputError, match=rf"days must be in 1\.\.30.*days = {days}"):
        two().resolve(AS_OF, days, vix_theta_default=20.0)


def test_days_and_theta_default_types():
    with pytest.raises(InputTypeError, match="days must be an int"):
        two().resolve(AS_OF, 10.0, vix_theta_default=20.0)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="days must be an int"):
        two().resolve(AS_OF, True, vix_theta_default=20.0)
    with pytest.raises(InvalidInputError, match="vix_theta_default must be"):
        two().resolve(AS_OF, 10, vix_theta_default=-1.0)


def test_unknown_builtin_lists_the_known_ones():
    with pytest.raises(InvalidInputError, match="'fomc'.*gdp, earnings, gdp_x_earnings"):
        scenarios.by_name("fomc", AS_OF)


# --------------------------------------------------------------------------- resolve


def test_resolve_puts_the_gdp_release_on_day_10():
    # as_of 2025-01-20, release 2025-01-30: step d = 10, column 9.
    resolved = scenarios.gdp(AS_OF).resolve(AS_OF, 10, vix_theta_default=20.0)
    assert resolved.jump_mean.shape == (4, 10)
    recession = resolved.names.index("recession")
    assert resolved.jump_mean[recession, 9] == pytest.approx(-0.0075)
    assert resolved.vix_jump_mean[recession, 9] == pytest.approx(-0.0075 * scenarios.VIX_BETA)
    assert not resolved.jump_mean[:, :9].any()
    assert resolved.days == 10


def test_events_outside_the_horizon_are_ignored():
    resolved = scenarios.gdp(AS_OF).resolve(AS_OF, 9, vix_theta_default=20.0)
    assert not resolved.jump_mean.any() and not resolved.vix_jump_mean.any()
    # ... but the drifts still differ.
    assert len(set(resolved.drift.tolist())) == 4
    before = ScenarioSet(name="s", scenarios=(scenario(events=(event(date=AS_OF),)),))
    assert not before.resolve(AS_OF, 30, vix_theta_default=20.0).jump_mean.any()


def test_same_day_events_add_means_and_variances():
    day = date(2025, 1, 22)
    two_events = (
        event(date=day, spx_jump_mean=-0.01, spx_jump_std=0.03, vix_jump_std=0.0),
        event(date=day, spx_jump_mean=0.004, spx_jump_std=0.04, vix_jump_std=0.05),
    )
    resolved = ScenarioSet(name="s", scenarios=(scenario(events=two_events),)).resolve(
        AS_OF, 5, vix_theta_default=20.0
    )
    assert resolved.jump_mean[0, 1] == pytest.approx(-0.006)
    assert resolved.jump_std[0, 1] == pytest.approx(0.05)  # sqrt(0.03^2 + 0.04^2)
    assert resolved.vix_jump_mean[0, 1] == pytest.approx(0.16)
    assert resolved.vix_jump_std[0, 1] == pytest.approx(0.05)


@given(
    offsets=st.lists(st.integers(min_value=-5, max_value=40), min_size=1, max_size=6),
    days=st.integers(min_value=1, max_value=30),
)
def test_each_event_lands_in_column_days_from_as_of_minus_one(offsets, days):
    events = tuple(
        event(date=date.fromordinal(AS_OF.toordinal() + k), spx_jump_mean=0.001 * (i + 1), spx_jump_std=0.0)
        for i, k in enumerate(offsets)
    )
    resolved = ScenarioSet(name="s", scenarios=(scenario(events=events),)).resolve(
        AS_OF, np.int64(days), vix_theta_default=20.0
    )
    expected = np.zeros(days)
    for i, k in enumerate(offsets):
        if 1 <= k <= days:
            expected[k - 1] += 0.001 * (i + 1)
    np.testing.assert_allclose(resolved.jump_mean[0], expected)
    assert resolved.days == days and resolved.jump_mean.shape == (1, days)


def test_resolve_fills_market_defaults_and_marks_vix_vol_with_nan():
    resolved = two(vix_theta=24.0, diffusion_vol=0.2).resolve(AS_OF, 5, vix_theta_default=19.5)
    np.testing.assert_array_equal(resolved.vix_theta, [19.5, 24.0])
    assert math.isnan(resolved.diffusion_vol[0]) and resolved.diffusion_vol[1] == 0.2
    for f in dataclasses.fields(resolved):
        value = getattr(resolved, f.name)
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float64 and not value.flags.writeable, f.name


# --------------------------------------------------------------------------- product, built-ins


def test_gdp_x_earnings_has_12_scenarios_summing_to_one():
    combined = scenarios.gdp_x_earnings(AS_OF)
    assert len(combined.scenarios) == 12
    assert math.fsum(s.probability for s in combined.scenarios) == pytest.approx(1.0, abs=1e-12)
    assert combined.names[0] == "expansion × beat"
    assert combined.name == "gdp_x_earnings"
    recession_miss = combined.scenarios[combined.names.index("recession × miss")]
    assert recession_miss.probability == pytest.approx(0.1386 * 0.25)
    assert recession_miss.spx_drift == scenarios.GDP_REGIME_DRIFT["recession"]


def test_product_sums_drifts_concatenates_events_and_keeps_self_dynamics():
    a = ScenarioSet(name="a", scenarios=(scenario(name="x", spx_drift=0.1, vix_kappa=3.0),))
    b = ScenarioSet(
        name="b",
        scenarios=(
            scenario(
                name="p",
                probability=0.4,
                spx_drift=0.02,
                diffusion_vol=0.3,
                vix_theta=25.0,
                vix_kappa=9.0,
                events=(event(name="e2"),),
            ),
            scenario(name="q", probability=0.6, spx_drift=0.0),
        ),
    )
    product = a.product(b)
    assert product.name == "a × b" and product.names == ("x × p", "x × q")
    first = product.scenarios[0]
    assert first.spx_drift == pytest.approx(0.12)
    assert first.vix_kappa == 3.0
    assert first.diffusion_vol == 0.3 and first.vix_theta == 25.0  # a left them to the market
    assert [e.name for e in first.events] == ["gdp", "e2"]


def test_product_day_10_carries_both_gdp_and_earnings():
    combined = scenarios.gdp_x_earnings(AS_OF).resolve(AS_OF, 10, vix_theta_default=20.0)
    row = combined.names.index("expansion × beat")
    earnings_mean = scenarios.EARNINGS_SPX_EXCESS_STD / math.sqrt(20)
    # Earnings days from 2025-01-21 (day 1); none on the weekend 25-26 Jan (days 5, 6).
    np.testing.assert_allclose(
        combined.jump_mean[row, :9], [earnings_mean] * 4 + [0, 0] + [earnings_mean] * 3
    )
    assert combined.jump_mean[row, 9] == pytest.approx(earnings_mean + 0.0025)
    assert combined.jump_std[row, 9] == pytest.approx(scenarios.EARNINGS_SPX_EXCESS_STD / math.sqrt(2))


def test_earnings_outside_the_season_has_no_events():
    quiet = scenarios.earnings(date(2025, 3, 1))
    assert all(not s.events for s in quiet.scenarios)


@pytest.mark.parametrize("name", sorted(scenarios.BUILT_INS))
def test_builtins_by_name_are_valid_sets(name):
    built = scenarios.by_name(name, AS_OF)
    assert built.name == name
    assert math.fsum(s.probability for s in built.scenarios) == pytest.approx(1.0, abs=1e-9)


def test_importing_scenarios_does_not_need_the_data_extra():
    code = "import sys, alvh.risk.scenarios; assert 'arch' not in sys.modules, 'arch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- TOML


@pytest.mark.parametrize("name", sorted(scenarios.BUILT_INS))
def test_toml_round_trip(tmp_path, name):
    original = scenarios.by_name(name, AS_OF)
    path = tmp_path / "set.toml"
    original.to_toml(path)
    assert ScenarioSet.from_toml(path) == original
    assert [p.name for p in tmp_path.iterdir()] == ["set.toml"]  # no temp file left


def test_example_file_loads():
    example = ScenarioSet.from_toml(EXAMPLE)
    assert example.names == ("calm", "hawkish fomc", "growth scare")
    calm, hawkish, scare = example.scenarios
    assert calm.vix_beta == scenarios.VIX_BETA and calm.diffusion_vol is None
    assert scare.vix_theta == 24.0 and scare.diffusion_vol == 0.25
    resolved = example.resolve(AS_OF, 10, vix_theta_default=20.0)
    assert resolved.jump_mean[1, 8] == -0.01  # FOMC 2025-01-29 = day 9


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad_set.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
name = "mine"

[[scenarios]]
name = "a"
probability = 0.5
spx_drift = 0.0

[[scenarios]]
name = "b"
probability = 0.5
spx_drift = 0.0
vol_of_vix = 0.9

[[scenarios.events]]
name = "gdp"
date = 2025-01-30
spx_jump_std = 0.01
"""


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "vol_of_vix = 0.9",
            "vol_of_vix = -0.9",
            r"bad_set\.toml:12: field scenarios\[1\]\.vol_of_vix: "
            r"scenarios\[1\]\.vol_of_vix must be in \[0, 20\]; got scenarios\[1\]\.vol_of_vix = -0\.9",
        ),
        (
            "spx_jump_std = 0.01",
            "spx_jump_std = -0.01",
            r"bad_set\.toml:17: field scenarios\[1\]\.events\[0\]\.spx_jump_std",
        ),
        (
            "date = 2025-01-30",
            'date = "2025-01-30"',
            r"bad_set\.toml:16: field scenarios\[1\]\.events\[0\]\.date: must be a TOML date",
        ),
        (
            "vol_of_vix = 0.9",
            "vol_of_vx = 0.9",
            r"bad_set\.toml:12: field scenarios\[1\]\.vol_of_vx: unknown key",
        ),
        (
            'name = "a"\nprobability = 0.5',
            'name = "a"\nprobability = 0.4',
            r"bad_set\.toml: field scenarios\[\*\]\.probability: .*'mine' must sum to 1; they sum to 0\.9",
        ),
        ('name = "b"', 'name = "a"', r"bad_set\.toml:9: field scenarios\[1\]\.name: .*unique"),
        (
            "probability = 0.5\nspx_drift = 0.0\nvol",
            "spx_drift = 0.0\nvol",
            r"bad_set\.toml:8: field scenarios\[1\]\.probability: missing",
        ),
        (
            "vol_of_vix = 0.9",
            'vol_of_vix = "high"',
            r"bad_set\.toml:12: field scenarios\[1\]\.vol_of_vix: must be a number",
        ),
        ('name = "mine"', 'name = "mine"\nformat_version = 2', r"field format_version: unsupported"),
        ('name = "mine"', 'name = "mine"\ncolor = 1', r"bad_set\.toml:2: field color: unknown key"),
        ("vol_of_vix = 0.9", "vol_of_vix = 0.9 0.1", r"bad_set\.toml: not valid TOML"),
    ],
)
def test_malformed_files_name_the_file_line_and_field(tmp_path, old, new, match):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(InvalidInputError, match=match):
        ScenarioSet.from_toml(path)


def test_minimal_file_takes_the_documented_defaults(tmp_path):
    loaded = ScenarioSet.from_toml(_write(tmp_path, GOOD))
    a = loaded.scenarios[0]
    assert (a.vix_beta, a.vol_of_vix, a.vix_kappa) == (
        scenarios.VIX_BETA,
        scenarios.VOL_OF_VIX,
        scenarios.VIX_KAPPA,
    )
    assert a.diffusion_vol is None and a.vix_theta is None and a.events == ()
    gdp_event = loaded.scenarios[1].events[0]
    assert (gdp_event.spx_jump_mean, gdp_event.vix_jump_mean, gdp_event.vix_jump_std) == (0, 0, 0)
