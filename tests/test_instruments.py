"""Instruments (`alvh.SpxOption`, `VixFuture`, `VixOption`): multipliers, signs, validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

import alvh
from alvh import SpxOption, VixFuture, VixOption
from alvh.errors import InputTypeError, InvalidInputError

MAR21 = dt.date(2025, 3, 21)  # SPX monthly, March 2025
VIX_MAR = dt.date(2025, 3, 18)  # VIX March 2025 (Good-Friday adjusted Tuesday)


def test_multipliers_follow_design():
    assert SpxOption.MULTIPLIER == 100 and SpxOption(MAR21, 5600, False, 1).multiplier == 100
    assert VixFuture.MULTIPLIER == 1000 and VixFuture(VIX_MAR, 1).multiplier == 1000
    assert VixOption.MULTIPLIER == 100 and VixOption(VIX_MAR, 25, True, 1).multiplier == 100


def test_fields_are_normalized_and_frozen():
    leg = SpxOption(MAR21, 5600, False, -2.0, 35)
    assert leg.strike == 5600.0 and isinstance(leg.strike, float)
    assert leg.quantity == -2 and isinstance(leg.quantity, int)
    assert leg.entry_price == 35.0 and leg.right == "put" and leg.kind == "spx_option"
    assert not leg.is_long
    with pytest.raises(dataclasses.FrozenInstanceError):
        leg.strike = 5700.0  # type: ignore[misc]
    assert SpxOption(MAR21, 5600, True, 1).entry_price == 0.0  # default: not recorded


def test_entry_cost_is_signed_dollars_and_futures_cost_nothing():
    assert SpxOption(MAR21, 5625, False, -10, 35.2).entry_cost == pytest.approx(-35_200.0)
    assert VixOption(VIX_MAR, 25, True, 5, 0.85).entry_cost == pytest.approx(425.0)
    assert VixFuture(VIX_MAR, 1, 19.3).entry_cost == 0.0


def test_vix_strikes_on_the_half_point_grid_are_accepted():
    assert VixOption(VIX_MAR, 22.5, True, 1).strike == 22.5
    assert VixOption(VIX_MAR, 100, True, 1).strike == 100.0


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (lambda v: SpxOption(MAR21, v, False, 1), "strike", 5612.5),
        (lambda v: SpxOption(MAR21, v, False, 1), "strike", 0.0),
        (lambda v: SpxOption(MAR21, v, False, 1), "strike", -5600.0),
        (lambda v: SpxOption(MAR21, v, False, 1), "strike", math.nan),
        (lambda v: VixOption(VIX_MAR, v, True, 1), "strike", 22.25),
        (lambda v: SpxOption(MAR21, 5600, False, v), "quantity", 0),
        (lambda v: SpxOption(MAR21, 5600, False, v), "quantity", 1.5),
        (lambda v: VixFuture(VIX_MAR, v), "quantity", 0),
        (lambda v: SpxOption(MAR21, 5600, False, 1, v), "entry_price", math.nan),
        (lambda v: SpxOption(MAR21, 5600, False, 1, v), "entry_price", -0.05),
        (lambda v: VixFuture(VIX_MAR, 1, v), "entry_price", math.inf),
        (lambda v: SpxOption(v, 5600, False, 1), "expiry", dt.date(2025, 3, 22)),  # Saturday
        (lambda v: VixOption(v, 25, True, 1), "expiry", dt.date(2025, 4, 18)),  # Good Friday
    ],
)
def test_bad_values_name_the_field_and_value(make, field, value):
    with pytest.raises(InvalidInputError) as info:
        make(value)
    assert info.value.arg == field
    assert field in str(info.value) and repr(value) in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: SpxOption("2025-03-21", 5600, False, 1), "expiry"),  # type: ignore[arg-type]
        (lambda: SpxOption(dt.datetime(2025, 3, 21, 16), 5600, False, 1), "expiry"),
        (lambda: SpxOption(MAR21, "5600", False, 1), "strike"),  # type: ignore[arg-type]
        (lambda: SpxOption(MAR21, 5600, "put", 1), "is_call"),  # type: ignore[arg-type]
        (lambda: SpxOption(MAR21, 5600, False, True), "quantity"),
        (lambda: VixFuture(VIX_MAR, 1, None), "entry_price"),  # type: ignore[arg-type]
    ],
)
def test_wrong_types_raise_type_errors_naming_the_field(make, field):
    with pytest.raises(InputTypeError, match=field) as info:
        make()
    assert isinstance(info.value, TypeError)


def test_with_quantity_revalidates():
    leg = VixOption(VIX_MAR, 25, True, 5, 0.85)
    assert leg.with_quantity(-3) == VixOption(VIX_MAR, 25, True, -3, 0.85)
    with pytest.raises(InvalidInputError, match="quantity"):
        leg.with_quantity(0)


def test_str_is_a_readable_ticket():
    assert str(SpxOption(MAR21, 5625, False, -10, 35.2)) == "-10 SPX 2025-03-21 5625 P @ 35.2"
    assert str(VixFuture(VIX_MAR, 1, 19.3)) == "+1 VX 2025-03-18 @ 19.3"


def test_exported_from_the_package():
    assert alvh.SpxOption is SpxOption and alvh.VixFuture is VixFuture
    assert alvh.VixOption is VixOption
