"""Black-76: European options on a futures/forward price (VIX options on the VIX
future of the same expiry). Greeks are taken with respect to the forward; rho holds
the forward fixed (rho = -t * price).

Vectorized and keyword-only like `alvh.bsm`, with ``forward`` in place of ``spot``
and no dividend yield.
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
    forward: Any,
    strike: Any,
    t: Any,
    rate: Any,
    vol: Any,
    out: FloatArray | None = None,
    errors: str = "raise",
) -> FloatArray:
    """Option prices (discounted at ``rate``)."""
    return _pricing.price(
        "black76",
        underlying=forward,
        div=None,
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
    forward: Any,
    strike: Any,
    t: Any,
    rate: Any,
    vol: Any,
    out: Greeks | None = None,
    errors: str = "raise",
) -> Greeks:
    """Price and the eight Greeks with respect to the forward, in one pass."""
    return _pricing.greeks(
        "black76",
        underlying=forward,
        div=None,
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
    forward: Any,
    strike: Any,
    t: Any,
    rate: Any,
    out: FloatArray | None = None,
    errors: str = "raise",
) -> FloatArray:
    """The Black-76 volatility that reproduces ``price`` (NaN/error outside the bounds)."""
    return _pricing.implied_vol(
        "black76",
        underlying=forward,
        div=None,
        out=out,
        errors=errors,
        price=price,
        is_call=is_call,
        strike=strike,
        t=t,
        rate=rate,
    )
