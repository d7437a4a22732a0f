"""Generalized Black–Scholes–Merton: European options on a spot with a continuous
dividend yield (SPX options).

Every function is vectorized: arguments are scalars or array-likes that broadcast
together, all keyword-only, and results are float64 arrays of the broadcast shape.
Units: ``t`` in years (ACT/365), ``vol``, ``rate`` and ``div`` as decimals
(0.20 = 20 %), continuously compounded. ``is_call`` is a bool (or ``"call"`` /
``"put"``) per option.

``errors="raise"`` (default) raises `alvh.errors.InvalidInputError` naming the first
bad argument and index; ``errors="nan"`` returns NaN in bad rows and computes the rest.
"""

from __future__ import annotations

from typing import Any

from alvh._core.types import FloatArray
from alvh.pricing import dispatch as _pricing
from alvh.pricing.greeks import Greeks

__all__ = ["greeks", "implied_vol", "price"]


def price(
    *,
    is_call: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    div: Any,
    vol: Any,
    out: FloatArray | None = None,
    errors: str = "raise",
) -> FloatArray:
    """Option prices. ``out=`` writes into a preallocated float64 array of the result shape."""
    return _pricing.price(
        "bsm",
        underlying=spot,
        div=div,
        out=out,
        errors=errors,
        is_call=is_call,
        strike=strike,
        t=t,
        rate=rate,
        vol=vol,
    )


def greeks(
    *,
    is_call: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    div: Any,
    vol: Any,
    out: Greeks | None = None,
    errors: str = "raise",
) -> Greeks:
    """Price and delta, gamma, vega, theta, rho, vanna, volga, charm in one pass.

    Raw units: vega per 1.00 vol, theta per year, rho per 1.00 rate, charm per year;
    see `alvh.Greeks` for trader-unit views. ``out=Greeks.empty(shape)`` reuses buffers.
    """
    return _pricing.greeks(
        "bsm",
        underlying=spot,
        div=div,
        out=out,
        errors=errors,
        is_call=is_call,
        strike=strike,
        t=t,
        rate=rate,
        vol=vol,
    )


def implied_vol(
    *,
    price: Any,
    is_call: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    div: Any,
    out: FloatArray | None = None,
    errors: str = "raise",
) -> FloatArray:
    """The volatility that reproduces ``price`` (Jäckel's "Let's Be Rational" natively).

    A price outside the no-arbitrage bounds (at or below the discounted intrinsic
    value, at or above the discounted forward for calls / strike for puts) has no
    solution: `alvh.errors.NoSolutionError` with ``errors="raise"``, NaN with ``"nan"``.
    """
    return _pricing.implied_vol(
        "bsm",
        underlying=spot,
        div=div,
        out=out,
        errors=errors,
        price=price,
        is_call=is_call,
        strike=strike,
        t=t,
        rate=rate,
    )
