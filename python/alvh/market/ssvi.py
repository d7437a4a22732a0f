"""`SsviSurface`: the VIX-linked SSVI surface of Gatheral & Jacquier ("Arbitrage-free SVI
volatility surfaces", Quantitative Finance 14(1), 2014), DESIGN.md "Market model".

**Smile.** At log-moneyness ``k = ln(K/F)`` and ATM total variance ``theta`` (``= atm^2
tau``), the total implied variance is (their eq. 4.1)

    w(k, theta) = theta / 2 * (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2)),

with the power-law curvature ``phi(theta) = eta / (theta^gamma (1 + theta)^(1 - gamma))``
(their eq. 4.5; chosen over the Heston-like ``phi`` because its wings do not flatten for
short tenors, where the condor sells, and it has the closed-form butterfly condition
below). The vol is ``sqrt(w / tau)``; at ``tau = 0`` the smile is flat.

**No static arbitrage** (checked in ``__post_init__``, an `InvalidInputError` naming the
condition): ``|rho| < 1``, ``eta >= 0`` (``eta = 0``: ``phi = 0``, a flat smile),
``0 < gamma <= 1/2`` and ``eta (1 + |rho|) <= 2``:
with ``gamma <= 1/2`` this gives ``theta phi(theta) (1 + |rho|) < 4`` and ``theta
phi(theta)^2 (1 + |rho|) <= 4`` for every ``theta`` (their Theorem 4.2 and Remark 4.4:
no butterfly arbitrage), and ``theta phi(theta)`` rises while ``phi`` falls with
``theta`` (Theorem 4.1 / Corollary 4.1: no calendar arbitrage as long as ``theta(tau)``
does not fall, which `term_structure_rows` guarantees).

**ATM term structure.** `alvh.market.term.VixTermStructure`'s: pillars at 30 days (the
VIX) and at each VIX future's expiry + 30 days (its price), total variance non-decreasing
in the tenor, times ``atm_vix_ratio`` (ATM vol over the VIX-implied level). The ratio is not a free
parameter in a `Market`: it is solved there (`Market` calls `solve_vix_ratio`) so that
the Cboe VIX formula on the market's own 30-day options gives back the input VIX.

Defaults and where they come from (SPX): ``rho = -0.78`` and ``eta = 0.93`` are the
SSVI-slice fit of a real SPX chain, rounded to two decimals: all strikes of the
2026-06-30 expiry at the 2026-04-02 close (89 days, 371 out-of-the-money mids with a bid
within ``|ln(K/F)| <= 0.5``; the chain ships as `alvh.market.slices.reference_chain`, its
source and licence in ``alvh/market/sample/SOURCES.md``), fitted by
`alvh.market.slices.fit_ssvi_slices` with vega weights (fitted rho -0.776, phi 9.77 at
theta 0.0090, i.e. eta 0.931 for gamma 1/2; RMSE 1.01 vol points over the whole slice,
0.16 over ``-0.15 <= k <= 0.06`` where the condor and its hedges trade; a test refits it
and checks these defaults). ``gamma = 0.5`` cannot be identified from one expiry: it is
the square-root form of their Remark 4.4, the largest ``gamma`` for which ``eta (1 +
|rho|) <= 2`` (here 1.65) suffices against butterflies, and it keeps short-dated smiles
steep (``phi ~ theta^-1/2``). No published SPX SSVI parameter set is cited: none could be
read and checked here, and a fit anyone can rerun on bundled data is the stronger
reference. `alvh.market.fit_ssvi` refits all three to a user's own multi-expiry chain.
Measured with them: the ATM/VIX ratio solves to 0.838-0.852 for VIX 9-90 (0.796-0.808
with the earlier hand-set rho -0.7, eta 1.15) and the SKEW-like tail index (`skew_index`)
is 123.8-125.4 (historical SKEW range about 100-170).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from alvh._core.checks import check_fields, input_error
from alvh._core.types import FloatArray
from alvh.market.term import VixTermStructure

__all__ = ["SsviSurface", "ssvi_total_variance"]


def ssvi_total_variance(k: Any, theta: Any, *, rho: float, eta: float, gamma: float) -> FloatArray:
    """``w(k, theta)`` of the module doc, vectorized (``theta > 0``)."""
    k_a, theta_a = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(theta, dtype=np.float64))
    phi = eta / (theta_a**gamma * (1.0 + theta_a) ** (1.0 - gamma))
    pk = phi * k_a
    return np.asarray(
        theta_a / 2.0 * (1.0 + rho * pk + np.sqrt((pk + rho) ** 2 + 1.0 - rho * rho)), dtype=np.float64
    )


@dataclass(frozen=True)
class SsviSurface(VixTermStructure):
    """The SSVI surface of the module doc: `VixTermStructure`'s ATM level (``atm_vix_ratio``
    and the VIX/futures pillars; ``floor_ratio`` bounds sticky-strike and parallel bumps)
    and the SSVI smile ``rho``, ``eta``, ``gamma``. The default SPX vol model of `Market`;
    the scenario-grid and projection kernels evaluate the same smile."""

    #: ATM vol over the VIX-implied level; None (the default): solved by the `Market` that
    #: holds the surface, so that its own options give back its VIX (`solve_vix_ratio`).
    atm_vix_ratio: float | None = None  # type: ignore[assignment]
    rho: float = -0.78
    eta: float = 0.93
    gamma: float = 0.5

    def __post_init__(self) -> None:
        if self.atm_vix_ratio is None:  # to be solved: check the rest with a placeholder
            replace(self, atm_vix_ratio=1.0)
        else:
            super().__post_init__()
        check_fields(self, {"rho": (-1.0, 1.0, True), "eta": (0.0, 10.0, False), "gamma": (0.0, 0.5, True)})
        if abs(self.rho) >= 1.0:
            raise input_error(
                f"rho must be inside (-1, 1); got rho = {self.rho!r}", arg="rho", value=self.rho
            )
        if self.eta * (1.0 + abs(self.rho)) > 2.0 + 1e-12:
            raise input_error(
                f"eta (1 + |rho|) must be <= 2 for a surface free of butterfly arbitrage "
                f"(Gatheral & Jacquier 2014, Remark 4.4); got eta = {self.eta!r}, rho = "
                f"{self.rho!r}: {self.eta * (1.0 + abs(self.rho)):.4g}",
                arg="eta",
                value=self.eta,
            )

    @property
    def solved(self) -> bool:
        """Whether ``atm_vix_ratio`` is set (a surface outside a `Market` may not be)."""
        return self.atm_vix_ratio is not None

    def total_variance(self, k: Any, theta: Any) -> FloatArray:
        """``w(k, theta)`` with this surface's parameters."""
        return ssvi_total_variance(k, theta, rho=self.rho, eta=self.eta, gamma=self.gamma)

    def smile(self, *, strike: Any, forward: Any, tau: Any, atm: Any, expiry: Any = None) -> FloatArray:
        """``sigma(K) = sqrt(w(ln(K/F), atm^2 tau) / tau)``, vectorized; flat at ``tau = 0``."""
        strike_a, forward_a, tau_a, atm_a = np.broadcast_arrays(
            *(np.asarray(x, dtype=np.float64) for x in (strike, forward, tau, atm))
        )
        live = tau_a > 0.0
        safe_tau = np.where(live, tau_a, 1.0)
        theta = np.maximum(atm_a * atm_a * safe_tau, 1e-300)
        w = self.total_variance(np.log(strike_a / forward_a), theta)
        return np.asarray(np.where(live, np.sqrt(w / safe_tau), atm_a), dtype=np.float64)

    def skew_index(self, *, theta: float, tau: float) -> float:
        """The Cboe SKEW-like tail measure ``100 - 10 S`` of this smile's risk-neutral
        density at total variance ``theta`` and tenor ``tau`` (``S`` its skewness of
        ``ln(S_T/F)``), by numerical integration of the Breeden-Litzenberger density."""
        k = np.linspace(-2.5, 1.0, 7001)
        w = self.total_variance(k, theta)
        vol = np.sqrt(w / tau)
        from alvh import black76

        strikes = np.exp(k)
        calls = black76.price(is_call=True, forward=1.0, strike=strikes, t=tau, rate=0.0, vol=vol)
        density = np.gradient(np.gradient(calls, strikes), strikes)
        density = np.clip(density, 0.0, None)
        mass = np.trapezoid(density, strikes)
        x = k
        mean = np.trapezoid(density * x, strikes) / mass
        var = np.trapezoid(density * (x - mean) ** 2, strikes) / mass
        third = np.trapezoid(density * (x - mean) ** 3, strikes) / mass
        return float(100.0 - 10.0 * third / var**1.5) if var > 0 else math.nan
