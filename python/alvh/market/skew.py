"""`VixLinkedSkew`: the default SPX vol model of DESIGN.md ("Market model"): ATM vol
per tenor from the VIX term structure times an ATM/VIX ratio, and a quadratic smile in
standardized moneyness ``m = ln(K/F) / (atm * sqrt(tau))``. Fit it to a chain with
`alvh.market.fit.fit_vix_linked_skew`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from alvh._core.checks import check_fields
from alvh._core.types import FloatArray
from alvh.market.conventions import DAYS_PER_YEAR, MAX_VOL, VIX_TENOR_DAYS
from alvh.market.vix import future_arrays, interp_rows

__all__ = ["VixLinkedSkew"]


# --------------------------------------------------------------------------- SPX vol model


@dataclass(frozen=True)
class VixLinkedSkew:
    """The default SPX vol surface: VIX term structure for the ATM level, a
    quadratic smile in standardized moneyness for the strikes.

    **ATM vol.** Pillars of (tenor, vol): the VIX spot at 30 days, and each VIX
    future expiring at ``T_i`` (the market's 30-day implied vol starting at ``T_i``)
    at ``(T_i + 30/365, F_i / 100)``; every pillar times ``atm_vix_ratio``.
    Between pillars the total variance ``w = vol**2 * tau`` is linear in ``tau``.
    Extrapolation keeps the vol flat: below the first pillar ``w`` is linear from
    ``(0, 0)`` (the 30-day vol applies to 0DTE..30 days), beyond the last pillar the
    last pillar's vol. A backwardated curve that would make total variance *fall*
    with tenor (a calendar arbitrage) has that pillar raised to the previous total
    variance (zero forward variance), so ``w`` never decreases.

    **Smile.** ``m = ln(K/F) / (atm * sqrt(tau))`` clipped to
    ``[-moneyness_limit, moneyness_limit]``, and
    ``sigma = atm * max(1 + skew*m + curvature*m**2, floor_ratio)``.
    At ``tau == 0`` the smile is flat (the vol of an expiring option is unused).

    Defaults and why:

    - ``atm_vix_ratio = 0.9``: the VIX is a variance-swap rate over all strikes, so
      it carries the put-skew premium and sits above ATM implied vol; SPX 30-day ATM
      vol has typically been 85-95 % of the VIX.
    - ``skew = -0.25``, ``curvature = 0.05``: a 1-month SPX 25-delta risk reversal of
      about -5 vol points and a 25-delta butterfly of about +0.5 point at ATM ~14 %
      (25 delta is m ~ -/+0.67). Negative skew: puts richer than calls.
    - ``floor_ratio = 0.5``: no vol below half the ATM vol (a quadratic with a user's
      b <= 0 would otherwise go to zero or negative in the call wing; with the default
      skew and curvature the minimum is 0.69 ATM and the floor does not bind).
    - ``moneyness_limit = 4.0``: the smile is flat beyond 4 standard deviations; a
      quadratic fitted near the money would otherwise give absurd vols at far strikes
      on short tenors (ln(K/F) / sqrt(tau) blows up).
    """

    atm_vix_ratio: float = 0.9
    skew: float = -0.25
    curvature: float = 0.05
    floor_ratio: float = 0.5
    moneyness_limit: float = 4.0

    def __post_init__(self) -> None:
        check_fields(
            self,
            {
                "atm_vix_ratio": (0.0, MAX_VOL, True),
                "skew": (-5.0, 5.0, False),
                "curvature": (-5.0, 5.0, False),
                "floor_ratio": (0.0, 1.0, True),
                "moneyness_limit": (0.0, 20.0, True),
            },
        )

    def term_structure(
        self, *, vix: float, future_taus: Any = (), future_prices: Any = ()
    ) -> tuple[FloatArray, FloatArray]:
        """(pillar tenors in years, ATM total variances), pillars sorted, ``w`` non-decreasing."""
        taus, prices = future_arrays(future_taus, future_prices)
        pillar_taus, variance = self.term_structure_rows(
            vix=np.array([float(vix)]), future_taus=taus, future_prices=prices[None, :]
        )
        return pillar_taus, variance[0]

    def term_structure_rows(
        self, *, vix: FloatArray, future_taus: FloatArray, future_prices: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """`term_structure` for several VIX scenarios: ``vix`` ``(V,)``, futures tenors
        ``(P,)`` shared by all, prices ``(V, P)`` -> pillar tenors and total variances
        ``(V, P')``."""
        keep = future_taus > 0.0  # a future expiring now has the VIX's own pillar
        month = VIX_TENOR_DAYS / DAYS_PER_YEAR
        pillar_taus = np.concatenate(([month], future_taus[keep] + month))
        vix_column = np.asarray(vix, dtype=np.float64).reshape(-1, 1)
        levels = np.concatenate((vix_column, future_prices[:, keep]), axis=1)
        pillar_vols = self.atm_vix_ratio * levels / 100.0
        order = np.argsort(pillar_taus, kind="stable")
        pillar_taus, pillar_vols = pillar_taus[order], pillar_vols[:, order]
        total_variance = np.maximum.accumulate(pillar_vols**2 * pillar_taus, axis=1)
        return pillar_taus, total_variance

    def atm_vol(
        self,
        tau: Any,
        *,
        vix: float,
        future_taus: Any = (),
        future_prices: Any = (),
        expiry: Any = None,
    ) -> FloatArray:
        """ATM vol at tenors ``tau`` (years), vectorized; see the class doc for the rules.
        ``expiry`` is unused (the SVI surface's ATM ratio depends on it)."""
        taus, prices = future_arrays(future_taus, future_prices)
        tau_years = np.asarray(tau, dtype=np.float64)
        rows = self.atm_vol_rows(
            tau_years.reshape(-1),
            vix=np.array([float(vix)]),
            future_taus=taus,
            future_prices=prices[None, :],
        )
        return np.asarray(rows[0].reshape(tau_years.shape), dtype=np.float64)

    def atm_vol_rows(
        self,
        tau: FloatArray,
        *,
        vix: FloatArray,
        future_taus: FloatArray,
        future_prices: FloatArray,
        expiry: Any = None,
    ) -> FloatArray:
        """`atm_vol` for several VIX scenarios at once: tenors ``tau`` ``(L,)``, ``vix``
        ``(V,)``, futures as in `term_structure_rows` -> ATM vols ``(V, L)`` (``expiry``
        unused, as in `atm_vol`)."""
        pillar_taus, variance = self.term_structure_rows(
            vix=vix, future_taus=future_taus, future_prices=future_prices
        )
        rows = variance.shape[0]
        inside = interp_rows(
            tau,
            np.concatenate(([0.0], pillar_taus)),
            np.concatenate((np.zeros((rows, 1)), variance), axis=1),
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            vol = np.sqrt(inside / tau)
        last_vol = np.sqrt(variance[:, -1:] / pillar_taus[-1])
        first_vol = np.sqrt(variance[:, :1] / pillar_taus[0])
        vol = np.where(tau > pillar_taus[-1], last_vol, vol)
        return np.asarray(np.where(tau > 0.0, vol, first_vol), dtype=np.float64)

    def smile(self, *, strike: Any, forward: Any, tau: Any, atm: Any, expiry: Any = None) -> FloatArray:
        """``sigma(K)`` around ``atm`` at forward ``forward`` and tenor ``tau``, vectorized
        (one smile for every expiry: ``expiry`` is unused)."""
        strike_a, forward_a, tau_a, atm_a = np.broadcast_arrays(
            *(np.asarray(x, dtype=np.float64) for x in (strike, forward, tau, atm))
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.log(strike_a / forward_a) / (atm_a * np.sqrt(tau_a))
        m = np.where(tau_a > 0.0, m, 0.0)
        m = np.clip(m, -self.moneyness_limit, self.moneyness_limit)
        shape = np.maximum(1.0 + self.skew * m + self.curvature * m * m, self.floor_ratio)
        return np.asarray(atm_a * shape, dtype=np.float64)
