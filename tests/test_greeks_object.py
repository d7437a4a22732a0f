"""`alvh.Greeks`: the Polars view, the trader-unit scalings and ``out=`` buffer reuse.

Trader units (DESIGN.md Conventions): vega per vol point (0.01), theta per calendar
day (1/365 year, ACT/365), rho per rate point (0.01), vanna per vol point, volga per
vol point squared (vega-per-point per vol point), charm per calendar day.
"""

from __future__ import annotations

import numpy as np
import pytest

import alvh
from alvh import Greeks

NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")
TRADER = (
    "price",
    "delta",
    "gamma",
    "vega_per_point",
    "theta_per_day",
    "rho_per_point",
    "vanna_per_point",
    "volga_per_point",
    "charm_per_day",
)
CONDOR = dict(
    is_call=np.array([False, False, True, True]),
    spot=4500.0,
    strike=np.array([4200.0, 4300.0, 4700.0, 4800.0]),
    t=30 / 365,
    rate=0.04,
    div=0.015,
    vol=np.array([0.24, 0.22, 0.15, 0.14]),
)


def test_to_polars_has_one_row_per_option_and_the_raw_columns_in_kernel_order(backend):
    greeks = alvh.bsm.greeks(**CONDOR)
    frame = greeks.to_polars()
    assert frame.columns == list(NAMES)
    assert frame.height == 4
    for name in NAMES:
        assert str(frame.schema[name]) == "Float64"
        np.testing.assert_array_equal(frame[name].to_numpy(), getattr(greeks, name))
    assert greeks.to_polars(units="raw").equals(frame)


def test_to_polars_trader_units_columns_and_scalings(backend):
    greeks = alvh.bsm.greeks(**CONDOR)
    frame = greeks.to_polars(units="trader")
    assert frame.columns == list(TRADER)
    scaling = {
        "price": ("price", 1.0),
        "delta": ("delta", 1.0),
        "gamma": ("gamma", 1.0),
        "vega_per_point": ("vega", 100.0),
        "theta_per_day": ("theta", 365.0),
        "rho_per_point": ("rho", 100.0),
        "vanna_per_point": ("vanna", 100.0),
        "volga_per_point": ("volga", 10_000.0),
        "charm_per_day": ("charm", 365.0),
    }
    for column, (raw, divisor) in scaling.items():
        np.testing.assert_allclose(
            frame[column].to_numpy(), getattr(greeks, raw) / divisor, rtol=1e-15, atol=0
        )


def test_trader_unit_properties_are_the_documented_scalings(backend):
    g = alvh.bsm.greeks(**CONDOR)
    np.testing.assert_allclose(g.vega_per_point, g.vega / 100, rtol=1e-15)
    np.testing.assert_allclose(g.theta_per_day, g.theta / 365, rtol=1e-15)
    np.testing.assert_allclose(g.rho_per_point, g.rho / 100, rtol=1e-15)
    np.testing.assert_allclose(g.vanna_per_point, g.vanna / 100, rtol=1e-15)
    np.testing.assert_allclose(g.volga_per_point, g.volga / 10_000, rtol=1e-15)
    np.testing.assert_allclose(g.charm_per_day, g.charm / 365, rtol=1e-15)


def test_trader_units_mean_what_their_names_say(backend):
    """One vol point, one calendar day, one rate point: each view equals the change in
    value (or delta, or vega per point) over that unit move, taken symmetrically so
    that the curvature cancels (what is left is < 1 % here)."""
    g = alvh.bsm.greeks(**CONDOR)
    vol, t, rate = CONDOR["vol"], CONDOR["t"], CONDOR["rate"]

    def per_unit(field, arg, step):
        up = getattr(alvh.bsm.greeks(**{**CONDOR, arg: CONDOR[arg] + step}), field)
        down = getattr(alvh.bsm.greeks(**{**CONDOR, arg: CONDOR[arg] - step}), field)
        return (up - down) / 2

    day = 1 / 365
    assert vol.min() > 0.01 and t > day and rate > 0
    np.testing.assert_allclose(per_unit("price", "vol", 0.01), g.vega_per_point, rtol=0.01)
    np.testing.assert_allclose(
        -per_unit("price", "t", day), g.theta_per_day, rtol=0.01
    )  # a day passes: T falls
    np.testing.assert_allclose(per_unit("price", "rate", 0.01), g.rho_per_point, rtol=0.01)
    np.testing.assert_allclose(per_unit("delta", "vol", 0.01), g.vanna_per_point, rtol=0.01)
    np.testing.assert_allclose(-per_unit("delta", "t", day), g.charm_per_day, rtol=0.01)
    np.testing.assert_allclose(per_unit("vega_per_point", "vol", 0.01), g.volga_per_point, rtol=0.01)


def test_to_polars_flattens_multidimensional_greeks_in_c_order(backend):
    greeks = alvh.bsm.greeks(
        **{
            **CONDOR,
            "strike": CONDOR["strike"][:, None],
            "vol": np.array([0.15, 0.25, 0.35]),
            "is_call": True,
        }
    )
    assert greeks.shape == (4, 3)
    frame = greeks.to_polars(units="trader")
    assert frame.height == 12
    np.testing.assert_array_equal(frame["price"].to_numpy(), greeks.price.reshape(-1))


def test_to_polars_of_a_scalar_is_one_row(backend):
    frame = alvh.bsm.greeks(
        is_call=True, spot=4500.0, strike=4500.0, t=0.1, rate=0.04, div=0.0, vol=0.2
    ).to_polars()
    assert frame.height == 1


def test_to_polars_rejects_unknown_units(backend):
    with pytest.raises(ValueError) as info:
        alvh.bsm.greeks(**CONDOR).to_polars(units="dollars")
    assert "units" in str(info.value)


def test_greeks_empty_has_nine_float64_arrays_of_the_shape():
    for shape in (5, (5,), (2, 3), ()):
        g = Greeks.empty(shape)
        expected = (shape,) if isinstance(shape, int) else shape
        assert g.shape == expected
        for name in NAMES:
            array = getattr(g, name)
            assert array.shape == expected and array.dtype == np.float64 and array.flags.c_contiguous
    g = Greeks.empty(3)
    assert len({id(a) for a in g.arrays()}) == 9  # nine separate buffers


def test_greeks_out_buffers_are_written_in_place_and_returned(backend):
    out = Greeks.empty(4)
    buffers = out.arrays()
    for array in buffers:
        array.fill(np.nan)
    result = alvh.bsm.greeks(out=out, **CONDOR)
    assert result is out
    fresh = alvh.bsm.greeks(**CONDOR)
    for name, array in zip(NAMES, buffers):
        assert getattr(result, name) is array, name
        np.testing.assert_array_equal(array, getattr(fresh, name), err_msg=name)


def test_greeks_out_buffers_are_reused_across_calls(backend):
    out = Greeks.empty((4,))
    buffers = out.arrays()
    for vol in (0.1, 0.3, 0.6):
        result = alvh.bsm.greeks(out=out, **{**CONDOR, "vol": vol})
        assert result is out and all(a is b for a, b in zip(result.arrays(), buffers))
        np.testing.assert_array_equal(out.price, alvh.bsm.price(**{**CONDOR, "vol": vol}))


def test_black76_greeks_out_in_place_on_two_dimensional_shape(backend):
    strikes = np.array([[15.0, 20.0, 25.0], [30.0, 35.0, 40.0]])
    out = Greeks.empty((2, 3))
    result = alvh.black76.greeks(
        out=out, is_call=True, forward=22.0, strike=strikes, t=45 / 365, rate=0.04, vol=1.2
    )
    assert result is out
    fresh = alvh.black76.greeks(is_call=True, forward=22.0, strike=strikes, t=45 / 365, rate=0.04, vol=1.2)
    for name in NAMES:
        np.testing.assert_array_equal(getattr(out, name), getattr(fresh, name), err_msg=name)


def test_price_out_buffer_is_written_in_place_and_returned(backend):
    out = np.full(4, np.nan)
    result = alvh.bsm.price(out=out, **CONDOR)
    assert result is out
    np.testing.assert_array_equal(out, alvh.bsm.price(**CONDOR))
    out2 = np.full((2, 2), np.nan)
    result2 = alvh.black76.price(
        out=out2, is_call=False, forward=20.0, strike=[[18.0, 19.0], [21.0, 22.0]], t=0.1, rate=0.04, vol=0.9
    )
    assert result2 is out2 and np.isfinite(out2).all()


def test_out_with_errors_nan_fills_bad_rows_with_nan(backend):
    out = Greeks.empty(4)
    vols = CONDOR["vol"].copy()
    vols[2] = -1.0
    alvh.bsm.greeks(out=out, errors="nan", **{**CONDOR, "vol": vols})
    for name in NAMES:
        array = getattr(out, name)
        assert np.isnan(array[2]) and np.isfinite(array[[0, 1, 3]]).all(), name


def test_greeks_repr_names_the_shape(backend):
    assert "shape=(4,)" in repr(alvh.bsm.greeks(**CONDOR))
