"""Every bad-input path of DESIGN.md "Bad input", on both backends.

A user's mistake gets a clear Python exception naming the argument, the offending
value and (for arrays) the index of the first offending element: ValueError for bad
values and mismatched shapes, TypeError for wrong types. Never a crash, a Rust panic
text or a silently wrong number. errors="nan" turns bad rows into NaN and computes
the rest. Inputs of any numeric dtype, stride or broadcast give correct results.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import alvh
from alvh import Greeks
from alvh.errors import AlvhError, InvalidInputError, ShapeError

NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")
GOOD = dict(is_call=True, spot=4500.0, strike=4400.0, t=30 / 365, rate=0.04, div=0.015, vol=0.2)
B76 = dict(is_call=False, forward=20.0, strike=25.0, t=30 / 365, rate=0.04, vol=1.1)

FUNCTIONS = {
    "bsm.price": alvh.bsm.price,
    "bsm.greeks": alvh.bsm.greeks,
    "black76.price": alvh.black76.price,
    "black76.greeks": alvh.black76.greeks,
}


def _args(model: str, **changes):
    base = dict(GOOD) if model == "bsm" else dict(B76)
    base.update(changes)
    return base


def assert_names_the_offender(err: BaseException, arg: str, index: int, value: float) -> None:
    """The message and the attributes name the argument, the index and the value."""
    assert isinstance(err, InvalidInputError) and isinstance(err, ValueError)
    message = str(err)
    assert "panick" not in message.lower()
    assert err.arg == arg, message
    assert err.index == index, message
    assert err.value == value or (math.isnan(value) and math.isnan(err.value)), message
    assert message.startswith(arg), message
    found = re.search(rf"\b{re.escape(arg)}\[(\d+)\] = (\S+)", message)
    assert found, message
    assert int(found.group(1)) == index, message
    shown = float(found.group(2))
    assert shown == value or (math.isnan(shown) and math.isnan(value)), message


POSITIVE_ARGS = ["spot", "strike", "t", "vol"]
NOT_POSITIVE = [-1.0, 0.0, -0.0, np.nan, np.inf, -np.inf]


@pytest.mark.parametrize("arg", POSITIVE_ARGS)
@pytest.mark.parametrize("bad", NOT_POSITIVE)
@pytest.mark.parametrize("function", ["bsm.price", "bsm.greeks"])
def test_non_positive_or_non_finite_value_names_argument_index_and_value(backend, arg, bad, function):
    values = np.full(7, GOOD[arg])
    values[4] = bad
    values[6] = bad
    with pytest.raises(InvalidInputError) as info:
        FUNCTIONS[function](**_args("bsm", **{arg: values}))
    assert_names_the_offender(info.value, arg, 4, bad)


@pytest.mark.parametrize("arg", ["rate", "div"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rate_or_div_names_argument_index_and_value(backend, arg, bad):
    values = np.full(5, GOOD[arg])
    values[2] = bad
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.greeks(**_args("bsm", **{arg: values}))
    assert_names_the_offender(info.value, arg, 2, bad)


@pytest.mark.parametrize("arg", ["forward", "strike", "t", "vol"])
def test_black76_bad_value_names_the_black76_argument(backend, arg):
    values = np.full(3, B76[arg])
    values[1] = -2.0
    for function in (alvh.black76.price, alvh.black76.greeks):
        with pytest.raises(InvalidInputError) as info:
            function(**_args("black76", **{arg: values}))
        assert_names_the_offender(info.value, arg, 1, -2.0)


def test_black76_non_finite_rate_is_named(backend):
    with pytest.raises(InvalidInputError) as info:
        alvh.black76.price(**_args("black76", rate=[0.01, np.nan]))
    assert_names_the_offender(info.value, "rate", 1, np.nan)


def test_negative_rates_and_dividend_above_rate_are_valid(backend):
    price = alvh.bsm.price(**_args("bsm", rate=-0.01, div=0.05))
    assert np.isfinite(price)


def test_bad_scalar_argument_is_reported_at_index_0(backend):
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.price(**_args("bsm", spot=-4500.0, strike=np.linspace(4000, 5000, 5)))
    assert_names_the_offender(info.value, "spot", 0, -4500.0)


def test_first_bad_row_wins_across_arguments(backend):
    spot = np.full(8, 4500.0)
    vol = np.full(8, 0.2)
    spot[5] = -1.0
    vol[2] = 0.0
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.price(**_args("bsm", spot=spot, vol=vol))
    assert_names_the_offender(info.value, "vol", 2, 0.0)


def test_within_a_row_the_first_argument_in_signature_order_is_named(backend):
    strike = np.full(4, 4400.0)
    vol = np.full(4, 0.2)
    strike[3] = np.nan
    vol[3] = -0.1
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.greeks(**_args("bsm", strike=strike, vol=vol))
    assert_names_the_offender(info.value, "strike", 3, np.nan)


def test_bad_row_in_a_large_parallel_batch_is_the_first_one(backend):
    n = 200_000  # above the native parallel threshold: many chunks on many threads
    t = np.full(n, 0.25)
    t[[150_000, 123_457, 199_999]] = -1.0
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.greeks(**_args("bsm", t=t))
    assert_names_the_offender(info.value, "t", 123_457, -1.0)


@pytest.mark.parametrize("model", ["bsm", "black76"])
def test_errors_nan_gives_nan_rows_and_computes_the_rest(backend, model):
    underlying = "spot" if model == "bsm" else "forward"
    strikes = np.linspace(0.8, 1.2, 9) * _args(model)[underlying]
    vols = np.full(9, 0.3)
    spots = np.full(9, _args(model)[underlying])
    vols[1] = -0.3
    vols[6] = np.nan
    spots[4] = 0.0
    bad = np.zeros(9, dtype=bool)
    bad[[1, 4, 6]] = True
    module = alvh.bsm if model == "bsm" else alvh.black76
    args = _args(model, strike=strikes, vol=vols, **{underlying: spots})
    clean = _args(model, strike=strikes[~bad], vol=vols[~bad], **{underlying: spots[~bad]})

    price = module.price(errors="nan", **args)
    assert np.isnan(price[bad]).all()
    np.testing.assert_array_equal(price[~bad], module.price(**clean))

    greeks = module.greeks(errors="nan", **args)
    expected = module.greeks(**clean)
    for name in NAMES:
        values = getattr(greeks, name)
        assert np.isnan(values[bad]).all(), name
        np.testing.assert_array_equal(values[~bad], getattr(expected, name), err_msg=name)


def test_implied_vol_bad_inputs_name_the_argument(backend):
    kwargs = dict(is_call=True, spot=4500.0, strike=4500.0, t=0.25, rate=0.04, div=0.015)
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.implied_vol(price=[100.0, -5.0], **kwargs)
    assert_names_the_offender(info.value, "price", 1, -5.0)
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.implied_vol(price=[100.0, np.nan], **kwargs)
    assert_names_the_offender(info.value, "price", 1, np.nan)
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.implied_vol(price=100.0, **dict(kwargs, strike=[4500.0, 4500.0, -1.0]))
    assert_names_the_offender(info.value, "strike", 2, -1.0)
    with pytest.raises(InvalidInputError) as info:
        alvh.bsm.implied_vol(price=100.0, **dict(kwargs, div=[np.inf, 0.0]))
    assert_names_the_offender(info.value, "div", 0, np.inf)
    vols = alvh.bsm.implied_vol(price=[100.0, -5.0, 100.0], errors="nan", **kwargs)
    assert np.isnan(vols[1]) and np.isfinite(vols[[0, 2]]).all()


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_mismatched_shapes_raise_shape_error(backend, function):
    model = function.split(".")[0]
    with pytest.raises(ShapeError) as info:
        FUNCTIONS[function](**_args(model, strike=np.ones(3) * 20, vol=np.full(4, 0.2)))
    err = info.value
    assert isinstance(err, ValueError)
    assert "strike" in str(err) and "vol" in str(err)
    assert "(3,)" in str(err) and "(4,)" in str(err)


def test_mismatched_shapes_raise_even_with_errors_nan(backend):
    with pytest.raises(ShapeError):
        alvh.bsm.price(
            errors="nan", **_args("bsm", spot=np.ones((2, 3)) * 4500, strike=np.ones((3, 2)) * 4500)
        )
    with pytest.raises(ShapeError):
        alvh.bsm.implied_vol(
            price=np.ones(5),
            is_call=True,
            spot=4500.0,
            strike=np.full(4, 4500.0),
            t=0.1,
            rate=0.0,
            div=0.0,
        )


WRONG_TYPES = [
    "4500",
    None,
    np.array([4500.0, None], dtype=object),
    np.array([4500.0, 4600.0], dtype=object),
    ["4500", "4600"],
    True,
    np.array([True, False]),
    {"spot": 4500.0},
    4500.0 + 1j,
    np.array([4500.0 + 0j]),
]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=lambda v: type(v).__name__ + "-" + repr(v)[:20])
@pytest.mark.parametrize("arg", ["spot", "strike", "t", "rate", "div", "vol"])
def test_wrong_type_raises_type_error_naming_the_argument(backend, arg, value):
    with pytest.raises(TypeError) as info:
        alvh.bsm.price(**_args("bsm", **{arg: value}))
    assert isinstance(info.value, AlvhError)
    assert arg in str(info.value)
    assert "panick" not in str(info.value).lower()


@pytest.mark.parametrize("value", [None, 1.0, np.array([1.0, 0.0]), np.array([1, 0]), object()])
def test_is_call_of_the_wrong_type_raises_type_error(backend, value):
    with pytest.raises(TypeError) as info:
        alvh.bsm.price(**_args("bsm", is_call=value))
    assert "is_call" in str(info.value)


def test_is_call_bad_word_raises_value_error_naming_the_element(backend):
    with pytest.raises(ValueError) as info:
        alvh.bsm.price(**_args("bsm", is_call=np.array(["call", "put", "straddle"])))
    assert "is_call" in str(info.value) and "straddle" in str(info.value) and "[2]" in str(info.value)
    with pytest.raises(ValueError):
        alvh.bsm.price(**_args("bsm", is_call="strangle"))


def test_is_call_accepts_call_put_words(backend):
    words = alvh.bsm.price(**_args("bsm", is_call=np.array(["call", "PUT", "c", " p "])))
    flags = alvh.bsm.price(**_args("bsm", is_call=np.array([True, False, True, False])))
    np.testing.assert_array_equal(words, flags)
    assert float(alvh.bsm.price(**_args("bsm", is_call="put"))) == float(
        alvh.bsm.price(**_args("bsm", is_call=False))
    )


def test_implied_vol_wrong_price_type_raises_type_error(backend):
    with pytest.raises(TypeError) as info:
        alvh.bsm.implied_vol(price="12.5", is_call=True, spot=4500.0, strike=4500.0, t=0.1, rate=0.0, div=0.0)
    assert "price" in str(info.value)


@pytest.mark.parametrize("errors", ["ignore", "NaN", "coerce", "", None])
@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_unknown_errors_mode_raises_value_error(backend, function, errors):
    model = function.split(".")[0]
    with pytest.raises(ValueError) as info:
        FUNCTIONS[function](errors=errors, **_args(model))
    assert "errors" in str(info.value)


def test_unknown_errors_mode_in_implied_vol_raises_value_error(backend):
    with pytest.raises(ValueError):
        alvh.bsm.implied_vol(
            price=100.0, is_call=True, spot=4500.0, strike=4500.0, t=0.1, rate=0.0, div=0.0, errors="skip"
        )


def test_arguments_are_keyword_only(backend):
    with pytest.raises(TypeError):
        alvh.bsm.price(True, 4500.0, 4400.0, 0.1, 0.04, 0.015, 0.2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        alvh.bsm.price(**_args("bsm", volatility=0.2))  # a misspelled name
    with pytest.raises(TypeError):
        alvh.black76.price(**_args("black76", div=0.01))  # Black-76 has no dividend yield


STRIKES = np.linspace(4000.0, 5000.0, 6)


@pytest.mark.parametrize(
    "out, error",
    [
        (np.empty(5), ValueError),  # wrong length
        (np.empty((2, 3)), ValueError),  # wrong shape
        (np.empty(6, dtype=np.float32), TypeError),  # wrong dtype
        (np.empty(6, dtype=np.int64), TypeError),
        (np.empty(12)[::2], ValueError),  # not contiguous
        ([0.0] * 6, TypeError),  # not an array
    ],
    ids=["length", "shape", "float32", "int64", "strided", "list"],
)
def test_bad_out_buffer_is_rejected(backend, out, error):
    with pytest.raises(error) as info:
        alvh.bsm.price(out=out, **_args("bsm", strike=STRIKES))
    assert "out" in str(info.value)
    with pytest.raises(error):
        alvh.bsm.implied_vol(
            price=np.full(6, 50.0),
            out=out,
            is_call=True,
            spot=4500.0,
            strike=STRIKES,
            t=0.25,
            rate=0.0,
            div=0.0,
        )


def test_read_only_or_fortran_order_out_is_rejected(backend):
    read_only = np.empty(6)
    read_only.flags.writeable = False
    with pytest.raises(ValueError):
        alvh.bsm.price(out=read_only, **_args("bsm", strike=STRIKES))
    fortran = np.empty((3, 2), order="F")
    with pytest.raises(ValueError):
        alvh.bsm.price(out=fortran, **_args("bsm", strike=STRIKES.reshape(3, 2)))


def test_bad_greeks_out_is_rejected(backend):
    args = _args("bsm", strike=STRIKES)
    with pytest.raises(TypeError):
        alvh.bsm.greeks(out=np.empty(6), **args)
    with pytest.raises(ValueError):
        alvh.bsm.greeks(out=Greeks.empty(5), **args)
    arrays = [np.empty(6) for _ in NAMES]
    arrays[3] = np.empty(6, dtype=np.float32)
    with pytest.raises(TypeError) as info:
        alvh.bsm.greeks(out=Greeks(*arrays), **args)
    assert "vega" in str(info.value)
    arrays[3] = np.empty(12)[::2]
    with pytest.raises(ValueError) as info:
        alvh.bsm.greeks(out=Greeks(*arrays), **args)
    assert "vega" in str(info.value)


def _reference_prices(**changes):
    """Prices from plain contiguous float64 arrays of the full length."""
    args = _args("bsm", **changes)
    full = np.broadcast_arrays(*(np.asarray(v) for v in args.values()))
    return alvh.bsm.price(**{k: np.ascontiguousarray(v) for k, v in zip(args, full)})


def test_strided_and_non_contiguous_inputs_give_correct_results(backend):
    base = np.linspace(3000.0, 6000.0, 40)
    strided = base[::4]
    reversed_ = base[::-1][:10]
    column = np.linspace(3000.0, 6000.0, 20).reshape(10, 2)[:, 1]
    for strikes in (strided, reversed_, column):
        assert not strikes.flags.c_contiguous or strikes.strides[0] < 0
        np.testing.assert_array_equal(
            alvh.bsm.price(**_args("bsm", strike=strikes)),
            _reference_prices(strike=np.array(strikes, copy=True)),
        )


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16, np.float32, np.float16, np.float64])
def test_any_real_numeric_dtype_gives_the_float64_result(backend, dtype):
    strikes = np.array([4000, 4250, 4500, 4750, 5000], dtype=dtype)
    expected = _reference_prices(strike=strikes.astype(np.float64))
    got = alvh.bsm.price(**_args("bsm", strike=strikes))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


def test_python_lists_ints_and_numpy_scalars_are_accepted(backend):
    expected = _reference_prices(strike=np.array([4400.0, 4500.0]))
    np.testing.assert_array_equal(alvh.bsm.price(**_args("bsm", strike=[4400, 4500], spot=4500)), expected)
    np.testing.assert_array_equal(
        alvh.bsm.price(**_args("bsm", strike=[np.float32(4400), np.int64(4500)], vol=np.float64(0.2))),
        expected,
    )


def test_two_dimensional_broadcasting(backend):
    strikes = np.linspace(4000.0, 5000.0, 5)[:, None]
    vols = np.array([0.1, 0.2, 0.4])[None, :]
    calls = np.array([True, False, True])
    price = alvh.bsm.price(**_args("bsm", strike=strikes, vol=vols, is_call=calls))
    assert price.shape == (5, 3)
    np.testing.assert_array_equal(price, _reference_prices(strike=strikes, vol=vols, is_call=calls))
    greeks = alvh.bsm.greeks(**_args("bsm", strike=strikes, vol=vols, is_call=calls))
    for name in NAMES:
        assert getattr(greeks, name).shape == (5, 3)
    np.testing.assert_array_equal(greeks.price, price)
    vols_back = alvh.bsm.implied_vol(
        price=price,
        is_call=calls,
        spot=4500.0,
        strike=strikes,
        t=GOOD["t"],
        rate=GOOD["rate"],
        div=GOOD["div"],
    )
    assert vols_back.shape == (5, 3)
    np.testing.assert_allclose(vols_back, np.broadcast_to(vols, (5, 3)), rtol=0, atol=1e-9)


def test_three_dimensional_broadcasting(backend):
    spot = np.array([4400.0, 4500.0])[:, None, None]
    strike = np.array([4300.0, 4500.0, 4700.0])[None, :, None]
    t = np.array([1 / 365, 0.1, 0.5, 1.0])
    price = alvh.bsm.price(**_args("bsm", spot=spot, strike=strike, t=t))
    assert price.shape == (2, 3, 4)
    np.testing.assert_array_equal(price, _reference_prices(spot=spot, strike=strike, t=t))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0)])
def test_empty_arrays_give_empty_results(backend, shape):
    strikes = np.empty(shape)
    price = alvh.bsm.price(**_args("bsm", strike=strikes))
    assert price.shape == shape and price.dtype == np.float64
    greeks = alvh.bsm.greeks(**_args("bsm", strike=strikes))
    for name in NAMES:
        assert getattr(greeks, name).shape == shape
    assert alvh.black76.price(**_args("black76", strike=strikes)).shape == shape
    vols = alvh.bsm.implied_vol(
        price=np.empty(shape), is_call=True, spot=4500.0, strike=strikes, t=0.1, rate=0.0, div=0.0
    )
    assert vols.shape == shape


def test_scalar_inputs_give_zero_dimensional_results(backend):
    price = alvh.bsm.price(**GOOD)
    assert isinstance(price, np.ndarray) and price.shape == () and price.dtype == np.float64
    greeks = alvh.bsm.greeks(**GOOD)
    for name in NAMES:
        value = getattr(greeks, name)
        assert isinstance(value, np.ndarray) and value.shape == (), name
    assert alvh.black76.price(**B76).shape == ()
    vol = alvh.bsm.implied_vol(price=price, **{k: v for k, v in GOOD.items() if k != "vol"})
    assert vol.shape == () and abs(float(vol) - 0.2) < 1e-12


def test_size_one_arrays_keep_their_shape(backend):
    assert alvh.bsm.price(**_args("bsm", strike=[4400.0])).shape == (1,)
    assert alvh.bsm.price(**_args("bsm", strike=[[4400.0]])).shape == (1, 1)


def test_no_bad_input_ever_shows_a_rust_panic(backend):
    """Every error raised for a bad input is an ordinary Exception (PyO3's
    PanicException derives from BaseException) and says nothing about a panic."""
    attempts = [
        lambda: alvh.bsm.price(**_args("bsm", spot=np.array([np.nan] * 3))),
        lambda: alvh.bsm.greeks(**_args("bsm", t=np.zeros((2, 2)))),
        lambda: alvh.bsm.price(**_args("bsm", strike=np.ones(3), vol=np.ones(2))),
        lambda: alvh.bsm.price(out=np.empty(3), **_args("bsm", strike=np.ones(4) * 4500)),
        lambda: alvh.bsm.implied_vol(
            price=[1e9], is_call=True, spot=1.0, strike=1.0, t=1.0, rate=0.0, div=0.0
        ),
        lambda: alvh.bsm.implied_vol(
            price=[-1.0], is_call=True, spot=1.0, strike=1.0, t=1.0, rate=0.0, div=0.0
        ),
        lambda: alvh.black76.greeks(**_args("black76", forward=[-20.0])),
        lambda: alvh.bsm.price(**_args("bsm", vol=np.array([1e308, -1e-308]))),
        lambda: alvh.bsm.price(**_args("bsm", is_call=np.array([b"maybe"]))),
        lambda: alvh.bsm.price(**_args("bsm", spot=np.array(["a"]))),
    ]
    for attempt in attempts:
        try:
            attempt()
        except Exception as err:  # noqa: BLE001 - the point: an ordinary exception
            assert isinstance(err, (ValueError, TypeError)), repr(err)
            assert "panick" not in str(err).lower() and "rust" not in type(err).__module__.lower()
        else:
            pytest.fail("no error raised")


# -- issue 16, point 1: a vol above ~1.3e154 squared to infinity and priced options at 0 ----


@pytest.mark.parametrize("vol", [1e150, 1e155, 1e200, 1e308])
def test_huge_vols_give_the_pricing_limits_on_both_backends(backend, vol):
    # call -> S e^-qT, put -> K e^-rT (vol -> infinity), for BSM and Black-76
    put = alvh.bsm.price(is_call=False, spot=100.0, strike=100.0, t=0.5, rate=0.03, div=0.01, vol=vol)
    call = alvh.bsm.price(is_call=True, spot=100.0, strike=100.0, t=0.5, rate=0.03, div=0.01, vol=vol)
    assert put == pytest.approx(100.0 * math.exp(-0.03 * 0.5), rel=1e-12)
    assert call == pytest.approx(100.0 * math.exp(-0.01 * 0.5), rel=1e-12)
    b76 = alvh.black76.price(is_call=False, forward=100.0, strike=100.0, t=0.5, rate=0.03, vol=vol)
    assert b76 == pytest.approx(100.0 * math.exp(-0.03 * 0.5), rel=1e-12)
    # a total vol that overflows (vol 1e308 over 4 years) still gives the limit
    long = alvh.bsm.price(is_call=False, spot=100.0, strike=100.0, t=4.0, rate=0.03, div=0.01, vol=1e308)
    assert long == pytest.approx(100.0 * math.exp(-0.03 * 4.0), rel=1e-12)
    g = alvh.bsm.greeks(is_call=False, spot=100.0, strike=100.0, t=0.5, rate=0.03, div=0.01, vol=vol)
    assert g.price == pytest.approx(put, rel=1e-15) and abs(g.delta) < 1e-12 and g.gamma == 0.0
    assert g.rho == pytest.approx(-0.5 * 100.0 * math.exp(-0.03 * 0.5), rel=1e-12)


# -- issue 16, point 8: an out= buffer that is also an input ---------------------------------


def test_out_may_alias_an_input_on_both_backends(backend):
    # before: the native backend raised "TypeError: strike must be a float or a 1-D float64
    # array, got ndarray"; the fallback computed it
    strikes = np.array([90.0, 100.0, 110.0])
    want = alvh.bsm.price(is_call=True, spot=100.0, strike=strikes.copy(), t=0.5, rate=0.03, div=0.0, vol=0.2)
    got = alvh.bsm.price(
        is_call=True, spot=100.0, strike=strikes, t=0.5, rate=0.03, div=0.0, vol=0.2, out=strikes
    )
    assert got is strikes and np.array_equal(strikes, want)
    prices = want.copy()
    vols = alvh.bsm.implied_vol(
        price=prices,
        is_call=True,
        spot=100.0,
        strike=[90.0, 100.0, 110.0],
        t=0.5,
        rate=0.03,
        div=0.0,
        out=prices,
    )
    assert vols is prices and np.allclose(prices, 0.2, atol=1e-12)
    g = alvh.Greeks.empty((3,))
    g.vega[...] = [0.2, 0.25, 0.3]
    ref = alvh.bsm.greeks(
        is_call=False, spot=100.0, strike=100.0, t=0.5, rate=0.03, div=0.0, vol=g.vega.copy()
    )
    alvh.bsm.greeks(is_call=False, spot=100.0, strike=100.0, t=0.5, rate=0.03, div=0.0, vol=g.vega, out=g)
    for name in ("price", "delta", "vega", "theta"):
        assert np.array_equal(getattr(g, name), getattr(ref, name)), name
