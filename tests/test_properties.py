"""Properties that hold for every option (hypothesis, derandomized: see conftest).

Put-call parity, the no-arbitrage price bounds, monotonicity in vol and strike,
each Greek against a central finite difference of alvh's own price, and Black-76 as
BSM with the dividend yield equal to the rate.

Domain: S = 100 (prices scale with S), K 40-250, T 1 day - 3 years, vol 3 %-150 %,
r -2 %..8 %, q 0-8 %. The finite-difference checks draw from a slightly narrower,
well-conditioned domain (see ``fd_options``) so that their own error stays far
below a wrong-formula error (a sign or a factor, i.e. O(1) relative).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alvh

EPS = np.finfo(float).eps
NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")

options = st.fixed_dictionaries(
    {
        "is_call": st.booleans(),
        "spot": st.just(100.0),
        "strike": st.floats(40.0, 250.0),
        "t": st.floats(1 / 365, 3.0),
        "rate": st.floats(-0.02, 0.08),
        "div": st.floats(0.0, 0.08),
        "vol": st.floats(0.03, 1.5),
    }
)


def _legs(o):
    return o["spot"] * np.exp(-o["div"] * o["t"]), o["strike"] * np.exp(-o["rate"] * o["t"])


@given(o=options)
def test_put_call_parity(backend, o):
    """C - P = S e^{-qT} - K e^{-rT}."""
    args = {k: v for k, v in o.items() if k != "is_call"}
    call = float(alvh.bsm.price(is_call=True, **args))
    put = float(alvh.bsm.price(is_call=False, **args))
    forward_leg, strike_leg = _legs(o)
    assert abs((call - put) - (forward_leg - strike_leg)) <= 8 * EPS * (forward_leg + strike_leg)


@given(o=options)
def test_black76_put_call_parity(backend, o):
    """C - P = e^{-rT} (F - K)."""
    args = dict(forward=o["spot"], strike=o["strike"], t=o["t"], rate=o["rate"], vol=o["vol"])
    call = float(alvh.black76.price(is_call=True, **args))
    put = float(alvh.black76.price(is_call=False, **args))
    discount = np.exp(-o["rate"] * o["t"])
    assert abs((call - put) - discount * (o["spot"] - o["strike"])) <= 8 * EPS * discount * (
        o["spot"] + o["strike"]
    )


@given(o=options)
def test_price_within_no_arbitrage_bounds(backend, o):
    """max(0, +-(S e^{-qT} - K e^{-rT})) <= V <= S e^{-qT} (call) or K e^{-rT} (put)."""
    price = float(alvh.bsm.price(**o))
    forward_leg, strike_leg = _legs(o)
    slack = 4 * EPS * (forward_leg + strike_leg)
    intrinsic = (forward_leg - strike_leg) if o["is_call"] else (strike_leg - forward_leg)
    upper = forward_leg if o["is_call"] else strike_leg
    assert price >= 0.0
    assert price >= intrinsic - slack
    assert price <= upper + slack


@given(o=options, bump=st.floats(1e-3, 1.0))
def test_price_increases_with_vol(backend, o, bump):
    lower = float(alvh.bsm.price(**o))
    higher = float(alvh.bsm.price(**dict(o, vol=o["vol"] + bump)))
    forward_leg, strike_leg = _legs(o)
    assert higher >= lower - 4 * EPS * (forward_leg + strike_leg)


@given(o=options, bump=st.floats(1e-3, 50.0))
def test_call_falls_and_put_rises_with_strike(backend, o, bump):
    near = float(alvh.bsm.price(**o))
    far = float(alvh.bsm.price(**dict(o, strike=o["strike"] + bump)))
    forward_leg, strike_leg = _legs(o)
    slack = 4 * EPS * (forward_leg + 2 * strike_leg)
    if o["is_call"]:
        assert far <= near + slack
    else:
        assert far >= near - slack
    # ... and by no more than the discounted strike difference (the slope is within [-e^{-rT}, 0]).
    assert abs(far - near) <= bump * np.exp(-o["rate"] * o["t"]) + slack


@given(o=options)
def test_vectorized_call_equals_scalar_calls(backend, o):
    """A row's result does not depend on its neighbours or on scalar/array form."""
    vols = np.array([o["vol"], 0.2, o["vol"], 0.9])
    batch = alvh.bsm.greeks(**dict(o, vol=vols))
    single = alvh.bsm.greeks(**o)
    for name in NAMES:
        assert getattr(batch, name)[0] == getattr(batch, name)[2] == float(getattr(single, name)), name


# ------------------------------------------------------------------ finite differences

fd_options = st.fixed_dictionaries(
    {
        "is_call": st.booleans(),
        "spot": st.just(100.0),
        "strike": st.floats(60.0, 160.0),
        "t": st.floats(0.05, 2.0),
        "rate": st.floats(-0.02, 0.08),
        "div": st.floats(0.0, 0.08),
        "vol": st.floats(0.1, 1.0),
    }
)

# Stencils, each one vectorized call: 5-point central first differences (step 1e-3 of
# the argument's natural width: S vol sqrt(T) for the spot, vol, T), 5-point second
# differences (step 1e-2) and products of first differences for the mixed ones.
# Truncation is O(h^4), ~1e-9 relative here; the rounding of each stencil is bounded
# explicitly (eps x max|V| x sum|weights| / h^k) and allowed ten times over. A wrong
# Greek (a sign, a factor, a missing term) is off by O(1), far outside.
OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
FIRST = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0
SECOND_OFFSETS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
SECOND = np.array([-1.0, 16.0, -30.0, 16.0, -1.0]) / 12.0
FD_RTOL = 1e-6
# Absolute allowance (times the natural scale: S for price-like outputs, 1 for delta-like,
# 1/S for gamma) where a Greek passes through zero.
FD_ATOL = 1e-8


def _price(model, o, **bumped):
    args = dict(o, **bumped)
    if model == "black76":
        args["forward"] = args.pop("spot")
        del args["div"]
        return alvh.black76.price(**args)
    return alvh.bsm.price(**args)


def _greeks(model, o):
    args = dict(o)
    if model == "black76":
        args["forward"] = args.pop("spot")
        del args["div"]
        return alvh.black76.greeks(**args)
    return alvh.bsm.greeks(**args)


def first_difference(model, o, arg, h):
    """(derivative, its rounding error bound: eps x max|V| x sum|weights| / h)."""
    prices = _price(model, o, **{arg: o[arg] + h * OFFSETS})
    return float(FIRST @ prices) / h, EPS * np.abs(prices).max() * np.abs(FIRST).sum() / h


def second_difference(model, o, arg, h):
    prices = _price(model, o, **{arg: o[arg] + h * SECOND_OFFSETS})
    return float(SECOND @ prices) / h**2, EPS * np.abs(prices).max() * np.abs(SECOND).sum() / h**2


def mixed_difference(model, o, arg_a, h_a, arg_b, h_b):
    grid = _price(
        model, o, **{arg_a: o[arg_a] + h_a * OFFSETS[:, None], arg_b: o[arg_b] + h_b * OFFSETS[None, :]}
    )
    rounding = EPS * np.abs(grid).max() * np.abs(FIRST).sum() ** 2 / (h_a * h_b)
    return float(FIRST @ grid @ FIRST) / (h_a * h_b), rounding


@pytest.mark.parametrize("model", ["bsm", "black76"])
@given(o=fd_options)
def test_greeks_equal_central_differences_of_price(backend, model, o):
    s, v, t = o["spot"], o["vol"], o["t"]
    g = _greeks(model, o)
    # The price moves in S on the scale of one standard deviation, S vol sqrt(T).
    s_width = s * v * np.sqrt(t)
    numeric = {
        "delta": first_difference(model, o, "spot", 1e-3 * s_width),
        "vega": first_difference(model, o, "vol", 1e-3 * v),
        # theta is dV/dt as calendar time passes: -dV/dT (sign flipped below).
        "theta": first_difference(model, o, "t", 1e-3 * t),
        # Black-76: the forward is an input, so bumping the rate moves only the discount.
        "rho": first_difference(model, o, "rate", 1e-4),
        "gamma": second_difference(model, o, "spot", 1e-2 * s_width),
        "volga": second_difference(model, o, "vol", 1e-2 * v),
        "vanna": mixed_difference(model, o, "spot", 2e-3 * s_width, "vol", 2e-3 * v),
        # charm = d(delta)/dt = -d2V/dS dT (sign flipped below).
        "charm": mixed_difference(model, o, "spot", 2e-3 * s_width, "t", 1e-3 * t),
    }
    theta, theta_rounding = numeric["theta"]
    numeric["theta"] = (-theta, theta_rounding)
    charm, charm_rounding = numeric["charm"]
    numeric["charm"] = (-charm, charm_rounding)
    scale = {"delta": 1, "vega": s, "theta": s, "rho": s, "gamma": 1 / s, "volga": s, "vanna": 1, "charm": 1}
    for name, (expected, rounding) in numeric.items():
        got = float(getattr(g, name))
        tolerance = FD_RTOL * abs(expected) + FD_ATOL * scale[name] + 10 * rounding
        assert abs(got - expected) <= tolerance, (name, got, expected, tolerance)


@given(o=options)
def test_black76_equals_bsm_with_dividend_yield_equal_to_rate(backend, o):
    """Black-76 on F is BSM on S = F with q = r, for the price and every Greek but rho
    (Black-76 holds the forward fixed: rho = -T V)."""
    b76 = alvh.black76.greeks(
        is_call=o["is_call"], forward=o["spot"], strike=o["strike"], t=o["t"], rate=o["rate"], vol=o["vol"]
    )
    bsm = alvh.bsm.greeks(**dict(o, div=o["rate"]))
    for name in NAMES:
        if name == "rho":
            continue
        a, b = float(getattr(b76, name)), float(getattr(bsm, name))
        assert abs(a - b) <= 1e-13 * abs(b) + 1e-300, name
    assert float(b76.rho) == pytest.approx(-o["t"] * float(b76.price), rel=1e-14, abs=1e-300)
