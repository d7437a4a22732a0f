"""Implied vol to (nearly) full double precision: against the exact root of the
rounded input price, found with mpmath at 50 digits, across total vols from 1e-5 to 3
and log-moneyness from 0 to -3 (Black-76, t = 1, so sigma is the total vol).

The native backend answers most rows with a vectorized Householder stage and the
rest with Let's Be Rational; both must land within a few ulp of the exact root."""

from __future__ import annotations

import mpmath
import numpy as np

import alvh


def _cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mpmath.mp.dps = 50
    rng = np.random.default_rng(11)
    strikes, prices, roots = [], [], []
    for low, high in [(1e-5, 1e-3), (1e-3, 1e-2), (1e-2, 1e-1), (1e-1, 1.0), (1.0, 3.0)]:
        for _ in range(40):
            total_vol = float(np.exp(rng.uniform(np.log(low), np.log(high))))
            x = -float(np.exp(rng.uniform(np.log(1e-6), np.log(3.0)))) if rng.random() < 0.9 else 0.0
            strike = mpmath.e ** (-mpmath.mpf(x))
            strike = mpmath.mpf(float(strike))  # the strike the test passes, exactly

            def call(v, strike=strike):
                d1 = mpmath.log(1 / strike) / v + v / 2
                return mpmath.ncdf(d1) - strike * mpmath.ncdf(d1 - v)

            price = float(call(mpmath.mpf(total_vol)))
            if price <= 1e-300:
                continue
            root = mpmath.findroot(
                lambda v, price=price: call(v) - mpmath.mpf(price), mpmath.mpf(total_vol), tol=1e-40
            )
            strikes.append(float(strike))
            prices.append(price)
            roots.append(float(root))
    return np.array(strikes), np.array(prices), np.array(roots)


STRIKES, PRICES, ROOTS = _cases()


def test_implied_vol_is_within_a_few_ulp_of_the_exact_root(backend: str) -> None:
    vols = alvh.black76.implied_vol(price=PRICES, is_call=True, forward=1.0, strike=STRIKES, t=1.0, rate=0.0)
    relative_error = np.abs(vols - ROOTS) / ROOTS
    worst = int(np.argmax(relative_error))
    assert relative_error.max() <= 32 * np.finfo(float).eps, (
        f"worst: strike {STRIKES[worst]!r}, price {PRICES[worst]!r}, "
        f"vol {vols[worst]!r} vs exact {ROOTS[worst]!r}"
    )
    assert len(ROOTS) > 150


def test_case_set_spans_tiny_and_ordinary_total_vols() -> None:
    # Tiny total vols far from the money go to Let's Be Rational, ordinary ones to the
    # vectorized stage: the set above must hold both kinds for the test to mean much.
    assert (ROOTS < 1e-3).sum() >= 20 and ((ROOTS > 0.05) & (ROOTS < 1.0)).sum() >= 20
