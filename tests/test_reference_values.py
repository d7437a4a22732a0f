"""Textbook values and a 60-digit reference.

1. Haug's values as QuantLib's own test suite uses them (lballabio/QuantLib,
   test-suite/europeanoption.cpp, tests ``testValues`` and ``testGreekValues``).
   QuantLib cites them as: "Option pricing formulas", E.G. Haug, McGraw-Hill 1998,
   pag 2-8, pag 24, pag 27 (values) and pag 11-16 (Greeks) - the first edition of
   what became "The Complete Guide to Option Pricing Formulas" (2nd ed. 2007). They
   are printed to 4 decimals, hence QuantLib's (and our) tolerance 1e-4.
2. Black-76 for VIX options: Haug's futures-option example (F = 19, K = 19,
   T = 0.75, r = 0.10, vol = 0.28: call = put = 1.7011, the b = 0 row of pag 2-8),
   and VIX-like options against the 60-digit reference.
3. A 60-digit mpmath reference (mp.dps = 60): prices and all eight Greeks from the
   closed forms (Haug 2007, ch. 1 and 2: generalized BSM with cost of carry b = r - q;
   Black-76 is b = 0 with rho = -T V), themselves checked against mpmath's numerical
   derivatives of the mpmath price. The issue's accuracy target: within 1e-10
   relative wherever |value| >= 1e-6 x its natural scale, and within 1e-11 x that
   scale absolutely everywhere. Natural scales (by dimension, with the underlying
   U = spot or forward as the unit of money): price, vega, theta, rho, volga: U;
   delta, vanna, charm: 1; gamma: 1/U. Where an output is larger than that scale
   (the per-year theta and charm of a 5-minute option run to 1e5 x U), the output
   itself is the scale of the absolute bound.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

import alvh
from conftest import FIVE_MINUTES, Cases, edge_cases, spx_like_cases

NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")

CALL, PUT = True, False

# fmt: off
# (is_call, strike, spot, q, r, t, vol, value) -- QuantLib testValues (Haug 1998, pag 2-8, 24, 27).
HAUG_VALUES = [
    # pag 2-8
    (CALL,  65.00,  60.00, 0.00, 0.08, 0.25, 0.30,  2.1334),
    (PUT,   95.00, 100.00, 0.05, 0.10, 0.50, 0.20,  2.4648),
    (PUT,   19.00,  19.00, 0.10, 0.10, 0.75, 0.28,  1.7011),
    (CALL,  19.00,  19.00, 0.10, 0.10, 0.75, 0.28,  1.7011),
    (CALL,   1.60,   1.56, 0.08, 0.06, 0.50, 0.12,  0.0291),
    (PUT,   70.00,  75.00, 0.05, 0.10, 0.50, 0.35,  4.0870),
    # pag 24
    (CALL, 100.00,  90.00, 0.10, 0.10, 0.10, 0.15,  0.0205),
    (CALL, 100.00, 100.00, 0.10, 0.10, 0.10, 0.15,  1.8734),
    (CALL, 100.00, 110.00, 0.10, 0.10, 0.10, 0.15,  9.9413),
    (CALL, 100.00,  90.00, 0.10, 0.10, 0.10, 0.25,  0.3150),
    (CALL, 100.00, 100.00, 0.10, 0.10, 0.10, 0.25,  3.1217),
    (CALL, 100.00, 110.00, 0.10, 0.10, 0.10, 0.25, 10.3556),
    (CALL, 100.00,  90.00, 0.10, 0.10, 0.10, 0.35,  0.9474),
    (CALL, 100.00, 100.00, 0.10, 0.10, 0.10, 0.35,  4.3693),
    (CALL, 100.00, 110.00, 0.10, 0.10, 0.10, 0.35, 11.1381),
    (CALL, 100.00,  90.00, 0.10, 0.10, 0.50, 0.15,  0.8069),
    (CALL, 100.00, 100.00, 0.10, 0.10, 0.50, 0.15,  4.0232),
    (CALL, 100.00, 110.00, 0.10, 0.10, 0.50, 0.15, 10.5769),
    (CALL, 100.00,  90.00, 0.10, 0.10, 0.50, 0.25,  2.7026),
    (CALL, 100.00, 100.00, 0.10, 0.10, 0.50, 0.25,  6.6997),
    (CALL, 100.00, 110.00, 0.10, 0.10, 0.50, 0.25, 12.7857),
    (CALL, 100.00,  90.00, 0.10, 0.10, 0.50, 0.35,  4.9329),
    (CALL, 100.00, 100.00, 0.10, 0.10, 0.50, 0.35,  9.3679),
    (CALL, 100.00, 110.00, 0.10, 0.10, 0.50, 0.35, 15.3086),
    (PUT,  100.00,  90.00, 0.10, 0.10, 0.10, 0.15,  9.9210),
    (PUT,  100.00, 100.00, 0.10, 0.10, 0.10, 0.15,  1.8734),
    (PUT,  100.00, 110.00, 0.10, 0.10, 0.10, 0.15,  0.0408),
    (PUT,  100.00,  90.00, 0.10, 0.10, 0.10, 0.25, 10.2155),
    (PUT,  100.00, 100.00, 0.10, 0.10, 0.10, 0.25,  3.1217),
    (PUT,  100.00, 110.00, 0.10, 0.10, 0.10, 0.25,  0.4551),
    (PUT,  100.00,  90.00, 0.10, 0.10, 0.10, 0.35, 10.8479),
    (PUT,  100.00, 100.00, 0.10, 0.10, 0.10, 0.35,  4.3693),
    (PUT,  100.00, 110.00, 0.10, 0.10, 0.10, 0.35,  1.2376),
    (PUT,  100.00,  90.00, 0.10, 0.10, 0.50, 0.15, 10.3192),
    (PUT,  100.00, 100.00, 0.10, 0.10, 0.50, 0.15,  4.0232),
    (PUT,  100.00, 110.00, 0.10, 0.10, 0.50, 0.15,  1.0646),
    (PUT,  100.00,  90.00, 0.10, 0.10, 0.50, 0.25, 12.2149),
    (PUT,  100.00, 100.00, 0.10, 0.10, 0.50, 0.25,  6.6997),
    (PUT,  100.00, 110.00, 0.10, 0.10, 0.50, 0.25,  3.2734),
    (PUT,  100.00,  90.00, 0.10, 0.10, 0.50, 0.35, 14.4452),
    (PUT,  100.00, 100.00, 0.10, 0.10, 0.50, 0.35,  9.3679),
    (PUT,  100.00, 110.00, 0.10, 0.10, 0.50, 0.35,  5.7963),
    # pag 27
    (CALL,  40.00,  42.00, 0.08, 0.04, 0.75, 0.35,  5.0975),
]

# (quantity, is_call, strike, spot, q, r, t, vol, value) -- QuantLib testGreekValues
# (Haug 1998, pag 11-16). QuantLib's theta is per year, thetaPerDay = theta / 365,
# elasticity = delta S / V, dividendRho = dV/dq.
HAUG_GREEKS = [
    ("delta",        CALL, 100.00, 105.00, 0.10, 0.10, 0.5,      0.36,   0.5946),
    ("delta",        PUT,  100.00, 105.00, 0.10, 0.10, 0.5,      0.36,  -0.3566),
    ("elasticity",   PUT,  100.00, 105.00, 0.10, 0.10, 0.5,      0.36,  -4.8775),
    ("gamma",        CALL,  60.00,  55.00, 0.00, 0.10, 0.75,     0.30,   0.0278),
    ("gamma",        PUT,   60.00,  55.00, 0.00, 0.10, 0.75,     0.30,   0.0278),
    ("vega",         CALL,  60.00,  55.00, 0.00, 0.10, 0.75,     0.30,  18.9358),
    ("vega",         PUT,   60.00,  55.00, 0.00, 0.10, 0.75,     0.30,  18.9358),
    ("theta",        PUT,  405.00, 430.00, 0.05, 0.07, 1.0/12.0, 0.20, -31.1924),
    ("theta_per_day", PUT, 405.00, 430.00, 0.05, 0.07, 1.0/12.0, 0.20,  -0.0855),
    ("rho",          CALL,  75.00,  72.00, 0.00, 0.09, 1.0,      0.19,  38.7325),
    ("dividend_rho", PUT,  490.00, 500.00, 0.05, 0.08, 0.25,     0.15,  42.2254),
]
# fmt: on


@pytest.mark.parametrize("is_call, strike, spot, q, r, t, vol, expected", HAUG_VALUES)
def test_bsm_price_matches_haug_textbook_value(backend, is_call, strike, spot, q, r, t, vol, expected):
    got = alvh.bsm.price(is_call=is_call, spot=spot, strike=strike, t=t, rate=r, div=q, vol=vol)
    assert abs(float(got) - expected) <= 1e-4


@pytest.mark.parametrize("quantity, is_call, strike, spot, q, r, t, vol, expected", HAUG_GREEKS)
def test_bsm_greek_matches_haug_textbook_value(
    backend, quantity, is_call, strike, spot, q, r, t, vol, expected
):
    args = dict(is_call=is_call, spot=spot, strike=strike, t=t, rate=r, vol=vol)
    g = alvh.bsm.greeks(div=q, **args)
    if quantity == "elasticity":
        got = float(g.delta) * spot / float(g.price)
    elif quantity == "theta_per_day":
        got = float(g.theta_per_day)
    elif quantity == "dividend_rho":
        # alvh has no dividend rho: a central difference of alvh's price (error ~1e-8).
        h = 1e-5
        up = alvh.bsm.price(div=q + h, **args)
        down = alvh.bsm.price(div=q - h, **args)
        got = float(up - down) / (2 * h)
    else:
        got = float(getattr(g, quantity))
    assert abs(got - expected) <= 1e-4


def test_black76_matches_haug_futures_option_example(backend):
    """Haug 1998, pag 2-8 (the b = 0 row of QuantLib's testValues): F = K = 19,
    T = 0.75, r = 10 %, vol = 28 % -> call = put = 1.7011."""
    kwargs = dict(forward=19.0, strike=19.0, t=0.75, rate=0.10, vol=0.28)
    call = alvh.black76.price(is_call=True, **kwargs)
    put = alvh.black76.price(is_call=False, **kwargs)
    assert abs(float(put) - 1.7011) <= 1e-4
    assert abs(float(call) - 1.7011) <= 1e-4
    # At the money forward, call and put are equal (parity: C - P = e^{-rT}(F - K) = 0).
    assert abs(float(call - put)) <= 1e-14


# ---------------------------------------------------------------- 60-digit reference

mp.mp.dps = 60


def _ncdf(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2


def _npdf(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def mp_price(model, is_call, s, k, t, r, q, v):
    """The 60-digit price (a function of mpf arguments, for mpmath.diff)."""
    if model == "black76":
        q = r
    w = 1 if is_call else -1
    total_vol = v * mp.sqrt(t)
    d1 = (mp.log(s / k) + (r - q + v * v / 2) * t) / total_vol
    d2 = d1 - total_vol
    return w * (s * mp.exp(-q * t) * _ncdf(w * d1) - k * mp.exp(-r * t) * _ncdf(w * d2))


def mp_greeks(model, is_call, s, k, t, r, q, v):
    """Price and the eight Greeks from the closed forms, at 60 digits, in alvh's units."""
    s, k, t, r, q, v = (mp.mpf(x) for x in (s, k, t, r, q, v))
    if model == "black76":
        q = r
    w = 1 if is_call else -1
    sqrt_t = mp.sqrt(t)
    total_vol = v * sqrt_t
    d1 = (mp.log(s / k) + (r - q + v * v / 2) * t) / total_vol
    d2 = d1 - total_vol
    carry_discount, discount = mp.exp(-q * t), mp.exp(-r * t)
    forward_leg = s * carry_discount * _ncdf(w * d1)
    strike_leg = k * discount * _ncdf(w * d2)
    price = w * (forward_leg - strike_leg)
    pdf = _npdf(d1)
    vega = s * carry_discount * pdf * sqrt_t
    return {
        "price": price,
        "delta": w * carry_discount * _ncdf(w * d1),
        "gamma": carry_discount * pdf / (s * total_vol),
        "vega": vega,
        "theta": -s * carry_discount * pdf * v / (2 * sqrt_t) + w * (q * forward_leg - r * strike_leg),
        "rho": -t * price if model == "black76" else w * t * strike_leg,
        "vanna": -carry_discount * pdf * d2 / v,
        "volga": vega * d1 * d2 / v,
        "charm": w * q * carry_discount * _ncdf(w * d1)
        - carry_discount * pdf * ((r - q) / total_vol - d2 / (2 * t)),
    }


@pytest.mark.parametrize("model", ["bsm", "black76"])
@pytest.mark.parametrize(
    "row",
    [
        (True, 4500.0, 4600.0, 30 / 365, 0.04, 0.015, 0.18),
        (False, 4500.0, 3800.0, 0.01, -0.01, 0.03, 0.9),
        (True, 20.0, 30.0, 0.2, 0.05, 0.0, 1.4),
        (False, 4500.0, 4500.0, FIVE_MINUTES, 0.02, 0.05, 0.3),
    ],
)
def test_mpmath_closed_forms_equal_mpmath_derivatives_of_the_price(model, row):
    """Validates the reference itself: each closed-form Greek equals mpmath's numerical
    derivative of the 60-digit price (to 1e-25 relative), so the reference does not
    merely repeat the library's formulas."""
    is_call, s, k, t, r, q, v = row
    s, k, t, r, q, v = (mp.mpf(x) for x in (s, k, t, r, q, v))

    def price(s_=s, t_=t, r_=r, v_=v):
        return mp_price(model, is_call, s_, k, t_, r_, q, v_)

    numeric = {
        "price": price(),
        "delta": mp.diff(lambda x: price(s_=x), s),
        "gamma": mp.diff(lambda x: price(s_=x), s, 2),
        "vega": mp.diff(lambda x: price(v_=x), v),
        "theta": -mp.diff(lambda x: price(t_=x), t),  # calendar time passing = -d/dT
        # Black-76 rho holds the forward fixed; mp_price takes the forward as `s`.
        "rho": mp.diff(lambda x: price(r_=x), r),
        "vanna": mp.diff(lambda a, b: price(s_=a, v_=b), (s, v), (1, 1)),
        "volga": mp.diff(lambda x: price(v_=x), v, 2),
        "charm": -mp.diff(lambda a, b: price(s_=a, t_=b), (s, t), (1, 1)),
    }
    closed = mp_greeks(model, is_call, s, k, t, r, q, v)
    for name in NAMES:
        assert abs(closed[name] - numeric[name]) <= mp.mpf("1e-25") * (abs(numeric[name]) + 1e-30), name


def natural_scale(name: str, underlying: np.ndarray) -> np.ndarray:
    power = {
        "price": 1,
        "delta": 0,
        "gamma": -1,
        "vega": 1,
        "theta": 1,
        "rho": 1,
        "vanna": 0,
        "volga": 1,
        "charm": 0,
    }
    return np.asarray(underlying, dtype=float) ** power[name]


def _underflow_cases() -> Cases:
    """Options worth less than the smallest double: deep out of the money, 5 minutes,
    low vol (the 60-digit price is below 1e-300)."""
    spot = np.full(8, 4500.0)
    return Cases(
        is_call=np.array([True, True, True, False, False, False, True, False]),
        spot=spot,
        strike=spot * np.array([5.0, 2.0, 1.2, 0.2, 0.5, 0.8, 1.05, 0.95]),
        t=np.where(np.arange(8) % 3 == 2, 1 / 365, FIVE_MINUTES),  # 5 minutes, 1 day for rows 2 and 5
        rate=np.full(8, 0.04),
        div=np.full(8, 0.015),
        vol=np.array([0.005, 0.05, 0.005, 0.005, 0.05, 0.005, 0.005, 0.005]),
    )


def _concat(*parts: Cases) -> Cases:
    return Cases(*(np.concatenate([getattr(p, f) for p in parts]) for f in Cases.__dataclass_fields__))


def _vix_cases(n: int, seed: int = 1976) -> Cases:
    """VIX-option-like Black-76 inputs (``spot`` holds the VIX future, ``div`` unused)."""
    rng = np.random.default_rng(seed)
    forward = rng.uniform(11.0, 60.0, n)
    return Cases(
        is_call=rng.random(n) < 0.5,
        spot=forward,
        strike=forward * np.exp(rng.uniform(np.log(0.5), np.log(3.0), n)),
        t=np.exp(rng.uniform(np.log(FIVE_MINUTES), 0.0, n)),
        rate=rng.uniform(-0.01, 0.06, n),
        div=np.zeros(n),
        vol=np.exp(rng.uniform(np.log(0.3), np.log(3.0), n)),
    )


def _reference(model: str, cases: Cases) -> dict[str, np.ndarray]:
    rows = [mp_greeks(model, *row) for row in cases.rows()]
    return {name: np.array([float(r[name]) for r in rows]) for name in NAMES}


@pytest.fixture(scope="module")
def bsm_reference():
    # 300 random SPX-like options, the 1,680-option grid of the domain's corners and
    # options whose value underflows.
    cases = _concat(spx_like_cases(300, seed=60), edge_cases(), _underflow_cases())
    return cases, _reference("bsm", cases)


@pytest.fixture(scope="module")
def black76_reference():
    cases = _vix_cases(300)
    return cases, _reference("black76", cases)


def _compute(model: str, cases: Cases):
    if model == "bsm":
        return alvh.bsm.greeks(**cases.kwargs())
    return alvh.black76.greeks(
        is_call=cases.is_call,
        forward=cases.spot,
        strike=cases.strike,
        t=cases.t,
        rate=cases.rate,
        vol=cases.vol,
    )


def assert_accuracy_target(name: str, got: np.ndarray, expected: np.ndarray, cases: Cases) -> None:
    scale = natural_scale(name, cases.spot)
    error = np.abs(got - expected)
    significant = np.abs(expected) >= 1e-6 * scale
    relative_ok = ~significant | (error <= 1e-10 * np.abs(expected))
    # An output far above its natural scale (theta or charm of a 5-minute option) is
    # its own scale: the absolute bound then asks for 1e-11 relative.
    absolute_ok = error <= 1e-11 * np.maximum(scale, np.abs(expected))  # NaN fails here
    bad = ~(relative_ok & absolute_ok)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = {f: float(np.asarray(getattr(cases, f))[i]) for f in Cases.__dataclass_fields__}
        pytest.fail(
            f"{name}: {int(bad.sum())} of {len(got)} miss the accuracy target; first: row {i} {row}: "
            f"alvh {got[i]!r}, 60-digit {expected[i]!r}, relative error {error[i] / abs(expected[i]):.2e}, "
            f"error / natural scale {error[i] / scale[i]:.2e}"
        )


@pytest.mark.parametrize("name", NAMES)
def test_bsm_meets_accuracy_target_against_60_digit_reference(backend, bsm_reference, name):
    cases, reference = bsm_reference
    assert_accuracy_target(name, getattr(_compute("bsm", cases), name), reference[name], cases)


@pytest.mark.parametrize("name", NAMES)
def test_black76_meets_accuracy_target_on_vix_options_against_60_digit_reference(
    backend, black76_reference, name
):
    cases, reference = black76_reference
    assert_accuracy_target(name, getattr(_compute("black76", cases), name), reference[name], cases)


def test_bsm_price_only_path_meets_accuracy_target(backend, bsm_reference):
    cases, reference = bsm_reference
    assert_accuracy_target("price", alvh.bsm.price(**cases.kwargs()), reference["price"], cases)


def test_underflowed_price_is_zero_never_nan(backend):
    cases = _underflow_cases()
    reference = _reference("bsm", cases)
    assert (np.abs(reference["price"]) < 1e-300).all()  # they really do underflow
    prices = alvh.bsm.price(**cases.kwargs())
    greeks = alvh.bsm.greeks(**cases.kwargs())
    assert not np.isnan(prices).any()
    assert (prices >= 0.0).all() and (prices <= 1e-300).all()
    for name in NAMES:
        values = getattr(greeks, name)
        assert np.isfinite(values).all(), name


def test_extreme_but_valid_inputs_give_finite_results(backend):
    """Far outside the SPX domain (K/S 1e-6..1e6, t 1e-12..100 years, vol 1e-8..5000 %,
    rates -50 %..4 %, dividend yields to 50 %): every output is a number."""
    grid = np.array(
        np.meshgrid(
            [1e-6, 0.2, 1.0, 5.0, 1e6],
            [1e-12, 1e-8, FIVE_MINUTES, 1.0, 100.0],
            [1e-8, 1e-4, 0.005, 3.0, 50.0],
            [-0.5, 0.0, 0.04],
            [0.0, 0.5],
            [True, False],
        )
    ).reshape(6, -1)
    kwargs = dict(
        is_call=grid[5].astype(bool),
        spot=4500.0,
        strike=4500.0 * grid[0],
        t=grid[1],
        vol=grid[2],
        rate=grid[3],
        div=grid[4],
    )
    assert np.isfinite(alvh.bsm.price(**kwargs)).all()
    greeks = alvh.bsm.greeks(**kwargs)
    for name in NAMES:
        assert np.isfinite(getattr(greeks, name)).all(), name


@pytest.mark.parametrize(
    "is_call, forward, strike, t, rate, vol",
    [
        (True, 18.5, 25.0, 30 / 365, 0.045, 1.10),  # a 30-day OTM VIX call
        (True, 32.0, 50.0, 7 / 365, 0.045, 2.20),  # a weekly VIX call in a spike
        (False, 22.0, 17.0, 60 / 365, 0.045, 0.85),  # a 60-day VIX put
        (True, 14.0, 14.0, 1 / 365, -0.005, 3.00),  # 1 day, 300 % vol of vol
    ],
)
def test_black76_vix_option_price_and_greeks_match_60_digit_reference(
    backend, is_call, forward, strike, t, rate, vol
):
    reference = mp_greeks("black76", is_call, forward, strike, t, rate, 0.0, vol)
    g = alvh.black76.greeks(is_call=is_call, forward=forward, strike=strike, t=t, rate=rate, vol=vol)
    for name in NAMES:
        expected = float(reference[name])
        assert abs(float(getattr(g, name)) - expected) <= 1e-10 * abs(expected) + 1e-13, name
    # Black-76 rho holds the future fixed: -T V.
    assert math.isclose(float(g.rho), -t * float(g.price), rel_tol=1e-14)
