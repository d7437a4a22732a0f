"""alvh.policy: the layer configuration, presets, TOML and the layer state machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh.errors import InputTypeError, InvalidInputError
from alvh.policy import ACTIONS, Layer, Policy, Rules, Sizing

# The issue's VIX path and the layer expected on each day: bands 17-22 / 24-29 / 30+,
# exit buffers 1 point. Both presets share the bands (patient's waiting is a decision of
# rule (c), not a missing layer); a custom policy with layer 1 disabled skips it.
VIX_PATH = [16, 18, 23, 21, 25, 31, 28, 23, 15]
EXPECTED = {
    "early": [0, 1, 1, 1, 2, 3, 2, 2, 0],
    "patient": [0, 1, 1, 1, 2, 3, 2, 2, 0],
    "layer 1 disabled": [0, 0, 0, 0, 2, 3, 2, 2, 0],
}


def _policy(name: str) -> Policy:
    if name == "layer 1 disabled":
        early = Policy.preset("early")
        first = early.layers[0]
        layer1 = Layer(1, first.start, first.end, first.exit_buffer, first.actions, enabled=False)
        return early.with_changes(name="no-layer-1", layers=(layer1, *early.layers[1:]))
    return Policy.preset(name)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_layers_along_the_issue_vix_path(name):
    assert _policy(name).layer_path(VIX_PATH) == EXPECTED[name]


def test_patient_is_early_with_rule_c_on():
    early, patient = Policy.preset("early"), Policy.preset("patient")
    assert early.rules.patience is False and patient.rules.patience is True
    assert patient.layers == early.layers and patient.sizing == early.sizing
    assert patient.rules.patience_conditions == (
        "inflation_contained",
        "fomc_steady",
        "rate_differential_stable",
        "breadth_bid",
    )
    with pytest.raises(InvalidInputError, match=r"rules\.patience_conditions\[1\] must be one of"):
        Rules(patience_conditions=("breadth_bid", "sunny_weather"))
    with pytest.raises(InvalidInputError, match="non-empty list without repeats"):
        Rules(patience_conditions=("breadth_bid", "breadth_bid"))
    with pytest.raises(InvalidInputError, match=r"rules\.rate_stability"):
        Rules(rate_stability=-1.0)


@pytest.mark.parametrize(
    "vix, current, expected",
    [
        (22.5, 1, 1),  # between bands: layer 1 holds
        (23.5, 0, 1),  # from 0 into the gap: at least layer 1 (17 <= VIX)
        (29.5, 3, 3),  # between layers 2 and 3: layer 3 holds
        (29.5, 2, 2),  # ... and layer 2 does not move up before 30
        (29.0, 3, 3),  # exactly at layer 3's exit: still in (29 = 30 - 1)
        (28.99, 3, 2),  # below it: down one
        (16.0, 1, 1),  # layer 1's exit is 16: holds at 16
        (15.99, 1, 0),
        (10.0, 3, 0),  # a collapse walks all the way down
        (35.0, 0, 3),  # a jump goes straight up
    ],
)
def test_hysteresis_and_exit_buffers(vix, current, expected):
    assert Policy.preset("early").next_layer(vix, current) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=5.0, max_value=90.0), min_size=1, max_size=40))
def test_layer_is_consistent_with_the_bands(path):
    policy = Policy.preset("early")
    for v, layer in zip(path, policy.layer_path(path)):
        # never above the band the VIX reached, never more than a buffer below its start
        entered = max([x.number for x in policy.layers if x.start <= v], default=0)
        assert layer >= entered
        if layer:
            band = policy.layers[layer - 1]
            assert v >= band.start - band.exit_buffer


def test_version_follows_the_configuration_not_the_name():
    early = Policy.preset("early")
    assert early.version == Policy("renamed").version
    assert early.version != Policy.preset("patient").version
    changed = early.with_changes(sizing=Sizing(layer_cap=0.02))
    assert changed.version != early.version
    assert len(early.version) == 16


def test_toml_round_trip(tmp_path: Path):
    for name in ("early", "patient"):
        policy = Policy.preset(name)
        path = tmp_path / f"{name}.toml"
        policy.to_toml(path)
        again = Policy.from_toml(path)
        assert again == policy and again.version == policy.version


#: The early preset's three layers, for files that test another section.
LAYERS_TEXT = (
    "[[layers]]\nstart = 17\nend = 22\nexit_buffer = 1\nactions = []\n"
    "[[layers]]\nstart = 24\nend = 29\nexit_buffer = 1\nactions = []\n"
    "[[layers]]\nstart = 30\nexit_buffer = 1\nactions = []\n"
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, field",
    [
        (
            "name = 'x'\n[[layers]]\nstart = 17\nend = 25\nexit_buffer = 1\nactions = []\n"
            "[[layers]]\nstart = 24\nend = 29\nexit_buffer = 1\nactions = []\n"
            "[[layers]]\nstart = 30\nexit_buffer = 1\nactions = []\n",
            "layers[2].start",
        ),
        ("name = 'x'\n" + LAYERS_TEXT + "[sizing]\nlayer_cap = 1.5\n", "sizing.layer_cap"),
        ("name = 'x'\n" + LAYERS_TEXT + "[sizing]\nlayer_cap = 0.03\ntotal_cap = 0.02\n", "sizing.total_cap"),
        (
            "name = 'x'\n[[layers]]\nstart = 17\nend = 22\nexit_buffer = 1\nactions = ['buy_puts']\n"
            "[[layers]]\nstart = 24\nend = 29\nexit_buffer = 1\nactions = []\n"
            "[[layers]]\nstart = 30\nexit_buffer = 1\nactions = []\n",
            "layers[1].actions[0]",
        ),
        ("name = 'x'\n" + LAYERS_TEXT + "[rules]\nmacd_expanding_dayz = 3\n", "rules.macd_expanding_dayz"),
        ("name = 'x'\n" + LAYERS_TEXT + "[rules]\nprojection_days = 20\n", "rules.projection_days"),
        ("name = 'x'\nlayers = 5\n", "layers"),
        ("name = 'x'\nbands = []\n", "bands"),
        ("", "name"),  # issue 16 point 2: an empty file was the early preset named "custom"
        ("name = 'x'\n", "layers"),
    ],
)
def test_bad_policy_files_name_the_file_and_field(tmp_path: Path, text: str, field: str):
    path = _write(tmp_path, text)
    with pytest.raises((InvalidInputError, InputTypeError)) as info:
        Policy.from_toml(path)
    message = str(info.value)
    assert str(path) in message and field in message, message


def test_malformed_toml_names_the_file(tmp_path: Path):
    path = _write(tmp_path, "name = \n")
    with pytest.raises(InvalidInputError, match="policy.toml: not valid TOML"):
        Policy.from_toml(path)


def test_direct_construction_errors():
    with pytest.raises(InvalidInputError, match="preset"):
        Policy.preset("eager")
    with pytest.raises(InvalidInputError, match="end"):
        Layer(1, 22.0, 17.0, 1.0, ())
    with pytest.raises(InvalidInputError, match="exit_buffer"):
        Layer(2, 24.0, 29.0, -1.0, ())
    with pytest.raises(InvalidInputError, match="cvar_budget"):
        Rules(cvar_budget=0.0)
    with pytest.raises(InvalidInputError, match="vix"):
        Policy.preset("early").next_layer(-3.0, 0)
    with pytest.raises(InvalidInputError, match=r"vix_closes\[2\]"):
        Policy.preset("early").layer_path([18.0, 19.0, float("nan")])
    assert set(ACTIONS) >= {"roll_short_strikes", "long_vix_calls", "neutralize_delta"}
