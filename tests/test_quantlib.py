"""alvh against QuantLib (the Python wheel; written and checked with QuantLib 1.44).

Reference route: ``ql.BlackCalculator(payoff, forward, stdDev, discount)``, which is
the calculator ``AnalyticEuropeanEngine`` itself uses, fed with the *exact* time to
expiry (forward = S e^{(r-q)t}, stdDev = vol sqrt(t), discount = e^{-rt}) so that no
date arithmetic stands between QuantLib's t and ours. One test also goes the full
way - flat ``FlatForward`` / ``BlackConstantVol`` curves on ``Actual365Fixed``, an
explicit evaluation date, ``BlackScholesMertonProcess`` and
``AnalyticEuropeanEngine`` - on whole-day expiries, where QuantLib's year fraction
``days / 365`` equals our ``t`` bit for bit.

Units: QuantLib's ``theta`` is already dV/dt per year of calendar time, ``vega`` per
1.00 of vol and ``rho`` per 1.00 of rate with the dividend curve held fixed: the
same as ours. For Black-76 QuantLib's ``deltaForward`` / ``gammaForward`` are the
Greeks with respect to the forward, and rho (forward held fixed) is the derivative
of QuantLib's price with respect to the discount rate alone.

vanna, volga and charm: QuantLib 1.44's ``BlackCalculator.volga`` is off by a factor sqrt(T) (it
returns d2V/dvol2 / sqrt(T)), so none of QuantLib's second-order outputs are used. They are
compared with 5-point central differences of QuantLib's analytic first-order Greeks (vanna =
d delta/d vol, volga = d vega/d vol, charm = -d delta/dT).

Tolerances. Where the value is not tiny: 1e-10 relative. Added to that, per output,
QuantLib's own rounding (not ours - the 60-digit mpmath check in
test_reference_values.py shows ours is ~1e-13):
- QuantLib's normal CDF is 0.5 * (1 + erf(x / sqrt 2)) (an asymptotic series below
  1e-8): its error is absolute, about 1e-16, not relative. Hence 2e-15 x (the size of
  the terms it multiplies) on price, delta and rho.
- QuantLib's theta is the Black-Scholes PDE solved for theta,
  -(ln(D) V + ln(F/S) S delta - sigma^2 T S^2 gamma / 2) / T; ln(F/S) of a rounded F
  carries an absolute error of ~1e-16, divided by T: 4e-15 x (|V| + S |delta|) / T.
- Finite differences: ten times their own error estimate (the change between steps
  h and 2h), plus the rounding of the differenced values, ~1e-15 x |f| / h.
- Everywhere: 1e-14 of the output's natural scale (S for price, vega, theta, rho,
  volga; 1 for delta, vanna, charm; 1/S for gamma), which only matters for values
  far below anything QuantLib resolves (1e-20 and less).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

import alvh
from conftest import FIVE_MINUTES, Cases, edge_cases, spx_like_cases

ql = pytest.importorskip("QuantLib")

NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")
FIRST_ORDER = ("price", "delta", "gamma", "vega", "theta", "rho")
RTOL_ANALYTIC = 1e-10
# The finite differences (5-point stencil, h = 1e-3 relative) are good to ~1e-10
# relative where well conditioned; 1e-8 leaves room without hiding a wrong formula.
RTOL_FINITE_DIFFERENCE = 1e-8


def _calculator(is_call: bool, forward: float, strike: float, t: float, rate: float, vol: float):
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, strike)
    return ql.BlackCalculator(payoff, forward, vol * math.sqrt(t), math.exp(-rate * t))


def _five_point(fn, x: float, h: float) -> float:
    return (fn(x - 2 * h) - 8 * fn(x - h) + 8 * fn(x + h) - fn(x + 2 * h)) / (12 * h)


def _derivative(fn, x: float, h: float, f_scale: float) -> tuple[float, float]:
    """d fn/dx at x and an error allowance for it (see the module docstring)."""
    fine, coarse = _five_point(fn, x, h), _five_point(fn, x, 2 * h)
    rounding = 1e-15 * (abs(fn(x)) + f_scale) / h
    return fine, 10 * abs(fine - coarse) + rounding


@dataclass
class Reference:
    """QuantLib's values and the allowance for QuantLib's own error, per output."""

    value: dict[str, np.ndarray]
    allowance: dict[str, np.ndarray]


def _bsm_reference_row(is_call, s, k, t, r, q, v):
    def calc(t_=t, v_=v):
        return _calculator(is_call, s * math.exp((r - q) * t_), k, t_, r, v_)

    bc = calc()
    value = {
        "price": bc.value(),
        "delta": bc.delta(s),
        "gamma": bc.gamma(s),
        "vega": bc.vega(t),
        "theta": bc.theta(s, t),
        "rho": bc.rho(t),
    }
    dq, dr = math.exp(-q * t), math.exp(-r * t)
    allowance = {
        "price": 2e-15 * (s * dq + k * dr),
        "delta": 2e-15 * dq,
        "gamma": 0.0,
        "vega": 0.0,
        "theta": 4e-15 * (abs(value["price"]) + s * abs(value["delta"])) / t
        + 2e-15 * (abs(q) * s * dq + abs(r) * k * dr),
        "rho": 2e-15 * t * k * dr,
    }
    value["vanna"], allowance["vanna"] = _derivative(lambda x: calc(v_=x).delta(s), v, 1e-3 * v, dq)
    value["volga"], allowance["volga"] = _derivative(lambda x: calc(v_=x).vega(t), v, 1e-3 * v, 0.0)
    # Relative step 1e-2 in T: at 5-minute expiries QuantLib's delta carries noise
    # from ln(F/K) of a rounded F, which a smaller step would amplify.
    charm, allowance["charm"] = _derivative(lambda x: calc(t_=x).delta(s), t, 1e-2 * t, dq)
    value["charm"] = -charm
    return value, allowance


def _black76_reference_row(is_call, f, k, t, r, v):
    def calc(t_=t, v_=v, r_=r):
        return _calculator(is_call, f, k, t_, r_, v_)

    bc = calc()
    dr = math.exp(-r * t)
    value = {
        "price": bc.value(),
        "delta": bc.deltaForward(),
        "gamma": bc.gammaForward(),
        "vega": bc.vega(t),
        "theta": bc.theta(f, t),
    }
    allowance = {
        "price": 2e-15 * (f + k) * dr,
        "delta": 2e-15 * dr,
        "gamma": 0.0,
        "vega": 0.0,
        "theta": 4e-15 * (abs(value["price"]) + f * abs(value["delta"])) / t + 2e-15 * abs(r) * (f + k) * dr,
    }
    # Black-76 rho holds the forward fixed: only the discount factor moves.
    value["rho"], allowance["rho"] = _derivative(lambda x: calc(r_=x).value(), r, 1e-4, (f + k) * dr)
    value["vanna"], allowance["vanna"] = _derivative(lambda x: calc(v_=x).deltaForward(), v, 1e-3 * v, dr)
    value["volga"], allowance["volga"] = _derivative(lambda x: calc(v_=x).vega(t), v, 1e-3 * v, 0.0)
    charm, allowance["charm"] = _derivative(lambda x: calc(t_=x).deltaForward(), t, 1e-2 * t, dr)
    value["charm"] = -charm
    return value, allowance


def _collect(rows) -> Reference:
    rows = list(rows)
    return Reference(
        value={n: np.array([r[0][n] for r in rows]) for n in NAMES},
        allowance={n: np.array([r[1][n] for r in rows]) for n in NAMES},
    )


def natural_scale(name: str, underlying: np.ndarray) -> np.ndarray:
    """The size an output is measured against when it is tiny (see module docstring)."""
    unit = {
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
    return np.asarray(underlying, dtype=float) ** unit[name]


def assert_matches(name: str, got: np.ndarray, ref: Reference, underlying: np.ndarray, cases) -> None:
    expected = ref.value[name]
    rtol = RTOL_ANALYTIC if name in FIRST_ORDER else RTOL_FINITE_DIFFERENCE
    tolerance = rtol * np.abs(expected) + ref.allowance[name] + 1e-14 * natural_scale(name, underlying)
    error = np.abs(got - expected)
    bad = ~(error <= tolerance)  # NaN fails too
    if bad.any():
        i = int(np.argmax(np.where(bad, error / tolerance, -np.inf)))
        detail = {f: float(np.asarray(getattr(cases, f))[i]) for f in cases.__dataclass_fields__}
        pytest.fail(
            f"{name}: {int(bad.sum())} of {len(expected)} outside tolerance; worst row {i} {detail}: "
            f"alvh {got[i]!r}, QuantLib {expected[i]!r}, |error| {error[i]:.3e} "
            f"> tolerance {tolerance[i]:.3e}"
        )


@pytest.fixture(scope="module")
def random_cases() -> tuple[Cases, Reference]:
    cases = spx_like_cases(2500)
    return cases, _collect(_bsm_reference_row(*row) for row in cases.rows())


@pytest.fixture(scope="module")
def corner_cases() -> tuple[Cases, Reference]:
    cases = edge_cases()
    return cases, _collect(_bsm_reference_row(*row) for row in cases.rows())


@pytest.mark.parametrize("name", NAMES)
def test_bsm_matches_quantlib_on_2500_random_spx_like_options(backend, random_cases, name):
    cases, ref = random_cases
    greeks = alvh.bsm.greeks(**cases.kwargs())
    assert_matches(name, getattr(greeks, name), ref, cases.spot, cases)


@pytest.mark.parametrize("name", NAMES)
def test_bsm_matches_quantlib_on_domain_corners(backend, corner_cases, name):
    """5-minute expiries, K/S 0.2-5, vol 0.5 %-300 %, negative rates, q > r."""
    cases, ref = corner_cases
    assert FIVE_MINUTES in cases.t and 0.005 in cases.vol and 3.0 in cases.vol
    greeks = alvh.bsm.greeks(**cases.kwargs())
    assert_matches(name, getattr(greeks, name), ref, cases.spot, cases)


def test_bsm_price_only_path_matches_quantlib(backend, random_cases):
    cases, ref = random_cases
    assert_matches("price", alvh.bsm.price(**cases.kwargs()), ref, cases.spot, cases)


@dataclass(frozen=True)
class VixCases:
    is_call: np.ndarray
    forward: np.ndarray
    strike: np.ndarray
    t: np.ndarray
    rate: np.ndarray
    vol: np.ndarray

    def kwargs(self):
        return {
            "is_call": self.is_call,
            "forward": self.forward,
            "strike": self.strike,
            "t": self.t,
            "rate": self.rate,
            "vol": self.vol,
        }


def vix_option_cases(n: int, seed: int = 76) -> VixCases:
    """VIX-option-like Black-76 inputs: VIX futures 11-60, strikes 0.5x-3x the future,
    1 day to 1 year, vol of vol 30 %-300 %, rates -1 %..6 %."""
    rng = np.random.default_rng(seed)
    forward = rng.uniform(11.0, 60.0, n)
    strike = np.round(forward * np.exp(rng.uniform(np.log(0.5), np.log(3.0), n)) * 2) / 2
    t = np.exp(rng.uniform(np.log(1 / 365), 0.0, n))
    vol = np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    rate = rng.uniform(-0.01, 0.06, n)
    return VixCases(rng.random(n) < 0.5, forward, strike, t, rate, vol)


@pytest.fixture(scope="module")
def vix_cases() -> tuple[VixCases, Reference]:
    cases = vix_option_cases(600)
    rows = zip(
        cases.is_call.tolist(),
        cases.forward.tolist(),
        cases.strike.tolist(),
        cases.t.tolist(),
        cases.rate.tolist(),
        cases.vol.tolist(),
    )
    return cases, _collect(_black76_reference_row(*row) for row in rows)


@pytest.mark.parametrize("name", NAMES)
def test_black76_matches_quantlib_on_vix_option_like_cases(backend, vix_cases, name):
    cases, ref = vix_cases
    greeks = alvh.black76.greeks(**cases.kwargs())
    assert_matches(name, getattr(greeks, name), ref, cases.forward, cases)


@pytest.fixture
def evaluation_date():
    """An explicit QuantLib evaluation date (never today's), restored afterwards."""
    settings = ql.Settings.instance()
    previous = settings.evaluationDate
    today = ql.Date(17, ql.March, 2025)
    settings.evaluationDate = today
    yield today
    settings.evaluationDate = previous


def test_bsm_matches_quantlib_analytic_european_engine_on_whole_day_expiries(backend, evaluation_date):
    """The full QuantLib route: flat curves on Actual365Fixed and AnalyticEuropeanEngine."""
    today = evaluation_date
    day_counter = ql.Actual365Fixed()
    base = spx_like_cases(300, seed=365)
    days = np.random.default_rng(365).integers(1, 3 * 365, len(base))
    cases = Cases(base.is_call, base.spot, base.strike, days / 365.0, base.rate, base.div, base.vol)

    spot, rate, div, vol = (ql.SimpleQuote(0.0) for _ in range(4))
    rate_curve = ql.YieldTermStructureHandle(
        ql.FlatForward(today, ql.QuoteHandle(rate), day_counter, ql.Continuous)
    )
    div_curve = ql.YieldTermStructureHandle(
        ql.FlatForward(today, ql.QuoteHandle(div), day_counter, ql.Continuous)
    )
    vol_curve = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(today, ql.NullCalendar(), ql.QuoteHandle(vol), day_counter)
    )
    process = ql.BlackScholesMertonProcess(ql.QuoteHandle(spot), div_curve, rate_curve, vol_curve)
    engine = ql.AnalyticEuropeanEngine(process)

    rows = []
    for (is_call, s, k, t, r, q, v), n in zip(cases.rows(), days.tolist()):
        expiry = today + int(n)
        assert day_counter.yearFraction(today, expiry) == t  # QuantLib's t is ours exactly
        spot.setValue(s)
        rate.setValue(r)
        div.setValue(q)
        vol.setValue(v)
        option = ql.EuropeanOption(
            ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, k),
            ql.EuropeanExercise(expiry),
        )
        option.setPricingEngine(engine)
        value, allowance = _bsm_reference_row(is_call, s, k, t, r, q, v)
        value.update(
            price=option.NPV(),
            delta=option.delta(),
            gamma=option.gamma(),
            vega=option.vega(),
            theta=option.theta(),
            rho=option.rho(),
        )
        rows.append((value, allowance))
    ref = _collect(rows)
    greeks = alvh.bsm.greeks(**cases.kwargs())
    for name in FIRST_ORDER:
        assert_matches(name, getattr(greeks, name), ref, cases.spot, cases)
