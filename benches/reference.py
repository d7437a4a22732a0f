"""A naive numpy + scipy reference: the textbook BSM formulas written the obvious way.

This is the baseline a quant would write in an afternoon: whole-array numpy
expressions, ``scipy.special.ndtr`` for the normal CDF, d1/d2 and N(d) computed once
and shared. It is not tuned (no fused loops, no output buffers) and not
deliberately slow either. Formulas: Haug, *The Complete Guide to Option Pricing
Formulas* (2nd ed.), ch. 1 and 2.2 (generalized BSM with cost of carry b = r - q);
theta and charm are derivatives as calendar time passes (= -d/dT), per year.

The implied vol is a vectorized, bracketed Newton iteration that keeps iterating
only on the options that have not converged.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

_INV_SQRT_2PI = 0.3989422804014327

#: Output names, in alvh's kernel order.
OUTPUTS = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")


def _d1_d2(spot, strike, t, rate, div, vol):
    sqrt_t = np.sqrt(t)
    vol_sqrt_t = vol * sqrt_t
    d1 = (np.log(spot / strike) + (rate - div + 0.5 * vol * vol) * t) / vol_sqrt_t
    return d1, d1 - vol_sqrt_t, sqrt_t


def price(is_call, spot, strike, t, rate, div, vol):
    d1, d2, _ = _d1_d2(spot, strike, t, rate, div, vol)
    sign = np.where(is_call, 1.0, -1.0)
    return sign * (spot * np.exp(-div * t) * ndtr(sign * d1) - strike * np.exp(-rate * t) * ndtr(sign * d2))


def greeks(is_call, spot, strike, t, rate, div, vol) -> dict[str, np.ndarray]:
    """Price and the eight Greeks of DESIGN.md, in alvh's raw units."""
    d1, d2, sqrt_t = _d1_d2(spot, strike, t, rate, div, vol)
    sign = np.where(is_call, 1.0, -1.0)
    div_discount = np.exp(-div * t)
    rate_discount = np.exp(-rate * t)
    n_d1 = ndtr(sign * d1)
    n_d2 = ndtr(sign * d2)
    pdf_d1 = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    spot_leg = spot * div_discount
    strike_leg = strike * rate_discount

    option_price = sign * (spot_leg * n_d1 - strike_leg * n_d2)
    delta = sign * div_discount * n_d1
    gamma = div_discount * pdf_d1 / (spot * vol * sqrt_t)
    vega = spot_leg * pdf_d1 * sqrt_t
    theta = -spot_leg * pdf_d1 * vol / (2.0 * sqrt_t) + sign * (
        div * spot_leg * n_d1 - rate * strike_leg * n_d2
    )
    rho = sign * strike_leg * t * n_d2
    vanna = -div_discount * pdf_d1 * d2 / vol
    volga = vega * d1 * d2 / vol
    charm = sign * div * div_discount * n_d1 - div_discount * pdf_d1 * (
        2.0 * (rate - div) * t - d2 * vol * sqrt_t
    ) / (2.0 * t * vol * sqrt_t)
    return {
        "price": option_price,
        "delta": delta,
        "gamma": gamma,
        "vega": vega,
        "theta": theta,
        "rho": rho,
        "vanna": vanna,
        "volga": volga,
        "charm": charm,
    }


def _price_and_vega(is_call, spot, strike, t, rate, div, vol):
    d1, d2, sqrt_t = _d1_d2(spot, strike, t, rate, div, vol)
    sign = np.where(is_call, 1.0, -1.0)
    spot_leg = spot * np.exp(-div * t)
    option_price = sign * (spot_leg * ndtr(sign * d1) - strike * np.exp(-rate * t) * ndtr(sign * d2))
    return option_price, spot_leg * _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1) * sqrt_t


def implied_vol(price_target, is_call, spot, strike, t, rate, div, *, max_iterations=100):
    """Bracketed Newton on [1e-6, 10]; NaN outside the no-arbitrage bounds or without convergence.

    An option is done when its Newton step is below 1e-12 of the vol, or its price
    residual below 1e-15 of S e^{-qT} + K e^{-rT} (rounding level).
    """
    price_target, is_call, strike, t = np.broadcast_arrays(
        np.asarray(price_target, float),
        np.asarray(is_call, bool),
        np.asarray(strike, float),
        np.asarray(t, float),
    )
    spot_leg = spot * np.exp(-div * t)
    strike_leg = strike * np.exp(-rate * t)
    lower = np.where(is_call, np.maximum(spot_leg - strike_leg, 0.0), np.maximum(strike_leg - spot_leg, 0.0))
    upper = np.where(is_call, spot_leg, strike_leg)
    result = np.full(price_target.shape, np.nan)
    active = np.flatnonzero((price_target > lower) & (price_target < upper))
    # Brenner-Subrahmanyam at the money, clipped: a start inside the bracket.
    vol = np.clip(np.sqrt(2.0 * np.pi / t[active]) * price_target[active] / spot_leg[active], 0.05, 3.0)
    low = np.full(active.size, 1e-6)
    high = np.full(active.size, 10.0)
    for _ in range(max_iterations):
        if active.size == 0:
            break
        model, vega = _price_and_vega(is_call[active], spot, strike[active], t[active], rate, div, vol)
        residual = model - price_target[active]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = residual / vega
        small_step = np.abs(step) <= 1e-12 * vol
        done = small_step | (np.abs(residual) <= 1e-15 * (spot_leg[active] + strike_leg[active]))
        result[active[done]] = np.where(small_step[done], vol[done] - step[done], vol[done])
        keep = ~done
        active, vol, low, high = active[keep], vol[keep], low[keep], high[keep]
        residual, step = residual[keep], step[keep]
        high = np.where(residual > 0.0, vol, high)
        low = np.where(residual < 0.0, vol, low)
        newton = vol - step
        vol = np.where((newton > low) & (newton < high), newton, 0.5 * (low + high))
    return result
