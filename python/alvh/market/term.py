"""`VixTermStructure`: the SPX ATM vol per tenor from the VIX and its futures curve
(DESIGN.md "Market model"), the ATM level `alvh.market.ssvi.SsviSurface` (the default
SPX surface) and `alvh.market.svi.SviSurface` build their smiles around.

**Pillars.** ``(tenor, vol)``: the VIX spot at 30 days, and each VIX future expiring at
``T_i`` (the market's 30-day implied vol starting at ``T_i``) at ``(T_i + 30/365, F_i /
100)``; every pillar times ``atm_vix_ratio`` (ATM vol over the VIX-implied level).
Between pillars the total variance ``w = vol**2 * tau`` is linear in ``tau``.
Extrapolation keeps the vol flat: below the first pillar ``w`` is linear from ``(0, 0)``
(the 30-day vol applies to 0DTE..30 days), beyond the last pillar the last pillar's vol.

**Never falling.** A listed curve whose future would make the total variance *fall*
with tenor (an SSVI surface on it would carry calendar arbitrage) is refused by `Market`
with an `InvalidInputError` naming the future, unless the curve says
``repair_calendar=True`` (`alvh.market.vix.VixFutures`); then, and for every curve the
model derives itself (the mean-reverting curve, a `Market.bump` after a VIX shock or days
forward), that pillar is raised to the previous total variance: zero forward variance
over that stretch, the least change that keeps ``theta(tau)`` non-decreasing. The repair
exists because a VIX future is not a forward volatility (it sits below the square root of
the forward variance by a convexity term and carries a risk premium): a steeply
backwardated listed curve, as on 2008-10-24 or 2020-03-16, is a market, and the model
curve after a large VIX shock backwardates the same way; refusing by default makes that
choice the user's, never silent. `alvh.market.check_arbitrage` confirms the repaired
surfaces have no calendar spreads.

``floor_ratio``: under sticky-strike and parallel dynamics (`Market.bump`) no vol falls
below this times the ATM vol of the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from alvh._core.checks import check_fields
from alvh._core.types import FloatArray
from alvh.errors import InvalidInputError
from alvh.market.conventions import DAYS_PER_YEAR, MAX_VOL, VIX_TENOR_DAYS
from alvh.market.vix import future_arrays, interp_rows

__all__ = ["VixTermStructure"]


@dataclass(frozen=True)
class VixTermStructure:
    """The VIX-linked ATM term structure of the module doc.

    ``atm_vix_ratio`` (default 0.8: about what the default SSVI surface solves to, see
    `alvh.market.ssvi`), ``floor_ratio`` (default 0.5).
    """

    atm_vix_ratio: float = 0.8
    floor_ratio: float = 0.5

    def __post_init__(self) -> None:
        check_fields(self, {"atm_vix_ratio": (0.0, MAX_VOL, True), "floor_ratio": (0.0, 1.0, True)})

    @property
    def ratio(self) -> float:
        """``atm_vix_ratio``, which must be set (an `alvh.market.ssvi.SsviSurface` has it
        once a `Market` has solved it)."""
        if self.atm_vix_ratio is None:
            raise InvalidInputError(
                "atm_vix_ratio is not set: an SsviSurface gets it from the Market that holds it"
            )
        return float(self.atm_vix_ratio)

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
        return self.atm_vol_on_pillars(tau, pillar_taus, variance)

    @staticmethod
    def atm_vol_on_pillars(tau: FloatArray, pillar_taus: FloatArray, variance: FloatArray) -> FloatArray:
        """ATM vols ``(V, L)`` at tenors ``tau`` ``(L,)`` from pillars already built by
        `term_structure_rows` (``variance`` ``(V, P)``); the interpolation and flat
        extrapolation of the module doc. A `alvh.Market` caches its pillars and calls
        this directly: the pillars do not change within a market, its vols are asked for
        many times a day."""
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
