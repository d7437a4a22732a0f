"""The VIX side of the market model: the VIX futures curve (`VixFutures`, explicit or
mean-reverting) and the Black-76 vol of VIX options by tenor (`VolOfVol`).

Units: tenors in years ACT/365, the VIX and its futures in points, vols as decimals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from alvh._core.checks import bad, check_fields, finite_number, input_error, plain_date
from alvh._core.types import FloatArray
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.conventions import DAYS_PER_YEAR, MAX_VOL, VIX_TENOR_DAYS

__all__ = ["VixFutures", "VolOfVol", "future_arrays", "interp_rows"]

# The mean-reverting curve is sampled monthly for the SPX ATM term structure,
# out to three years (beyond that the ATM vol is flat, see `alvh.market.term.VixTermStructure`).
_MODEL_PILLAR_MONTHS = 36


# --------------------------------------------------------------------------- VIX futures


@dataclass(frozen=True)
class VixFutures:
    """The VIX futures curve.

    Explicit when ``expiries`` is non-empty: the listed futures (expiry dates,
    strictly increasing, with prices in VIX points). `price` is exact at a listed
    expiry and an error elsewhere, because VIX options are priced on the future of
    the *same* expiry (DESIGN.md). Otherwise the mean-reverting model
    ``F(tau) = theta + (VIX - theta) * exp(-kappa * tau)`` prices any expiry.

    Defaults (calibratable):

    - ``theta = 20.0`` VIX points: the VIX has averaged about 19.5 since 1990 and
      the longest-dated futures usually trade near 20-22 (the risk-neutral mean sits
      a little above the historical one), so long tenors revert there.
    - ``kappa = 2.0`` per year (half-life ln 2 / 2 ~ 4 months): what typical curves
      imply, e.g. VIX 13 with a 6-month future near 17, or VIX 35 with a 6-month
      future near 26, both give kappa ~ 1.7-1.9.

    In an explicit curve ``theta`` is unused and ``kappa`` says how a VIX spot move
    propagates along the curve: a shift ``dV`` moves the future at tenor ``tau`` by
    ``dV * exp(-kappa * tau)``, as the model would.

    ``repair_calendar`` (explicit curves): False (the default) makes a `Market` refuse a
    listed curve whose futures would make the SPX ATM total variance fall with tenor
    (`alvh.market.term`); True accepts it and raises each such pillar to zero forward
    variance. Curves a `Market.bump` derives (a VIX shock, days forward) always repair:
    they are scenarios of the model, not quotes.
    """

    expiries: tuple[date, ...] = ()
    prices: tuple[float, ...] = ()
    theta: float = 20.0
    kappa: float = 2.0
    repair_calendar: bool = False

    def __post_init__(self) -> None:
        expiries = tuple(self.expiries)
        prices = tuple(self.prices)
        if len(expiries) != len(prices):
            raise InvalidInputError(
                f"futures expiries and prices must have the same length; got "
                f"{len(expiries)} expiries and {len(prices)} prices"
            )
        for i, expiry in enumerate(expiries):
            plain_date(f"expiries[{i}]", expiry)
            if i and expiry <= expiries[i - 1]:
                problem = "duplicated" if expiry == expiries[i - 1] else "out of order"
                raise bad(
                    "expiries",
                    expiry.isoformat(),
                    f"strictly increasing (expiry {expiry.isoformat()} is {problem})",
                    i,
                )
        checked = []
        for i, price in enumerate(prices):
            number = finite_number(f"prices[{i}]", price)
            if number <= 0.0:
                raise bad("prices", number, "positive VIX points", i)
            checked.append(number)
        object.__setattr__(self, "expiries", expiries)
        object.__setattr__(self, "prices", tuple(checked))
        check_fields(self, {"theta": (0.0, 500.0, True), "kappa": (0.0, 100.0, False)})
        if not isinstance(self.repair_calendar, (bool, np.bool_)):
            kind = type(self.repair_calendar).__name__
            raise InputTypeError(f"repair_calendar must be a bool, got {kind} {self.repair_calendar!r}")

    @classmethod
    def explicit(
        cls,
        points: Mapping[date, float] | Iterable[tuple[date, float]],
        *,
        kappa: float = 2.0,
        repair_calendar: bool = False,
    ) -> VixFutures:
        """A listed curve from ``{expiry: price}`` or ``(expiry, price)`` pairs (sorted here)."""
        items = list(points.items()) if isinstance(points, Mapping) else list(points)
        if not items:
            raise InvalidInputError("an explicit VIX futures curve needs at least one expiry")
        dates = [plain_date("expiry", expiry) for expiry, _ in items]
        if len(set(dates)) != len(dates):
            duplicate = next(d for d in dates if dates.count(d) > 1)
            raise bad("expiries", duplicate.isoformat(), "unique (listed twice)")
        items.sort(key=lambda item: item[0])
        return cls(
            expiries=tuple(e for e, _ in items),
            prices=tuple(p for _, p in items),
            kappa=kappa,
            repair_calendar=repair_calendar,
        )

    @classmethod
    def mean_reverting(cls, *, theta: float = 20.0, kappa: float = 2.0) -> VixFutures:
        """The model curve ``theta + (VIX - theta) * exp(-kappa * tau)``."""
        return cls(theta=theta, kappa=kappa)

    @property
    def is_explicit(self) -> bool:
        """True for a listed curve, False for the mean-reverting model."""
        return bool(self.expiries)

    def model_level(self, tau: Any, *, vix: float | FloatArray) -> FloatArray:
        """The mean-reverting model's futures price at tenor ``tau`` (years), vectorized."""
        tau_years = np.asarray(tau, dtype=np.float64)
        return np.asarray(self.theta + (vix - self.theta) * np.exp(-self.kappa * tau_years), dtype=np.float64)

    def price(self, expiry: date, *, as_of: date, vix: float) -> float:
        """The futures price for ``expiry`` (VIX points).

        Explicit curve: exactly the listed price, or `InvalidInputError` naming the
        expiry and the listed ones. Model: ``F(tau)`` with ``tau`` ACT/365 from ``as_of``.
        """
        plain_date("expiry", expiry)
        if expiry < as_of:
            raise bad("expiry", expiry.isoformat(), f"on or after as_of {as_of.isoformat()}")
        if self.is_explicit:
            try:
                return self.prices[self.expiries.index(expiry)]
            except ValueError:
                listed = ", ".join(e.isoformat() for e in self.expiries)
                raise input_error(
                    f"no VIX futures price for expiry {expiry.isoformat()}: the curve lists "
                    f"{listed}. VIX options are priced on the future of the same expiry, so "
                    f"add that expiry to the curve (or use the mean-reverting model)",
                    arg="expiry",
                ) from None
        tau = (expiry - as_of).days / DAYS_PER_YEAR
        return float(self.model_level(tau, vix=vix))

    def level(self, tau: Any, *, as_of: date, vix: float) -> FloatArray:
        """The term structure at tenors ``tau`` (years), vectorized, for diagnostics.

        Model: ``F(tau)``. Explicit: linear in tau through (0, VIX spot) and the listed
        points, flat at the last listed price beyond it (no data there).
        """
        tau_years = np.asarray(tau, dtype=np.float64)
        if not self.is_explicit:
            return self.model_level(tau_years, vix=vix)
        taus = [(e - as_of).days / DAYS_PER_YEAR for e in self.expiries]
        knots, values = [0.0], [float(vix)]
        for t_i, f_i in zip(taus, self.prices):
            if t_i > 0.0:
                knots.append(t_i)
                values.append(f_i)
        return np.asarray(np.interp(tau_years, knots, values), dtype=np.float64)

    def pillars(self, *, as_of: date, vix: float) -> tuple[FloatArray, FloatArray]:
        """(futures tenors in years, prices) feeding the SPX ATM term structure.

        Explicit: the listed futures with tenor > 0 (one expiring on ``as_of`` settles
        on the VIX itself). Model: the curve sampled every 30 days out to 3 years.
        """
        taus, prices = self.pillar_rows(as_of=as_of, vix=np.array([float(vix)]), shifts=np.zeros(1))
        return taus, prices[0]

    def pillar_rows(
        self, *, as_of: date, vix: FloatArray, shifts: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """`pillars` for several VIX scenarios at once: tenors ``(P,)`` and prices
        ``(V, P)`` when the VIX spot is ``vix[v]``, reached by a move of ``shifts[v]``
        points from this curve's market (a listed price moves by
        ``shift * exp(-kappa * tau)``, as `shifted` does; the model follows ``vix``).
        Prices pushed to zero or below are returned as they are: the caller checks."""
        vix_rows = np.asarray(vix, dtype=np.float64).reshape(-1, 1)
        if self.is_explicit:
            days = [(expiry - as_of).days for expiry in self.expiries]
            listed = np.array(days, dtype=np.float64) / DAYS_PER_YEAR
            keep = listed > 0.0
            taus = listed[keep]
            prices = np.asarray(self.prices, dtype=np.float64)[keep]
            moved = prices + np.asarray(shifts, dtype=np.float64).reshape(-1, 1) * np.exp(-self.kappa * taus)
            return taus, np.asarray(moved, dtype=np.float64)
        months = np.arange(1, _MODEL_PILLAR_MONTHS + 1, dtype=np.float64)
        monthly = months * (VIX_TENOR_DAYS / DAYS_PER_YEAR)
        return monthly, self.model_level(monthly, vix=vix_rows)

    def shifted(self, vix_shift: float, *, as_of: date) -> VixFutures:
        """The curve after the VIX spot moves by ``vix_shift`` points.

        Model: unchanged (it follows the VIX spot by itself). Explicit: each price
        moves by ``vix_shift * exp(-kappa * tau)``; a price pushed to or below zero is
        an error naming the expiry.
        """
        if not self.is_explicit or vix_shift == 0.0:
            return self
        new_prices = []
        for i, (expiry, price) in enumerate(zip(self.expiries, self.prices)):
            tau = (expiry - as_of).days / DAYS_PER_YEAR
            moved = price + vix_shift * math.exp(-self.kappa * tau)
            if moved <= 0.0:
                raise bad(
                    "prices",
                    moved,
                    f"positive after a VIX shift of {vix_shift:+g} (future {expiry.isoformat()})",
                    i,
                )
            new_prices.append(moved)
        return replace(self, prices=tuple(new_prices))

    def after(self, as_of: date) -> VixFutures:
        """The curve without the futures that expired before ``as_of`` (a days-forward roll).

        Listed prices are kept as they are (sticky by expiry); a curve left empty is
        an error, since it would silently turn into the model.
        """
        if not self.is_explicit:
            return self
        keep = [i for i, expiry in enumerate(self.expiries) if expiry >= as_of]
        if not keep:
            raise InvalidInputError(
                f"every listed VIX future expires before {as_of.isoformat()} "
                f"(last {self.expiries[-1].isoformat()}); extend the curve"
            )
        return replace(
            self,
            expiries=tuple(self.expiries[i] for i in keep),
            prices=tuple(self.prices[i] for i in keep),
        )


def future_arrays(future_taus: Any, future_prices: Any) -> tuple[FloatArray, FloatArray]:
    """The futures pillars as 1-D float arrays of one length."""
    taus = np.asarray(future_taus, dtype=np.float64).reshape(-1)
    prices = np.asarray(future_prices, dtype=np.float64).reshape(-1)
    if taus.shape != prices.shape:
        raise InvalidInputError(
            f"future_taus and future_prices must have the same length; got {taus.size} and {prices.size}"
        )
    return taus, prices


def interp_rows(x: FloatArray, knots: FloatArray, values: FloatArray) -> FloatArray:
    """``np.interp(x, knots, values[r])`` for every row r of ``values`` at once, with
    np.interp's arithmetic (slope times offset plus the left value) for x inside
    ``[knots[0], knots[-1]]`` and the last value beyond."""
    j = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, knots.size - 2)
    left, right = values[:, j], values[:, j + 1]
    slope = (right - left) / (knots[j + 1] - knots[j])
    return np.asarray(np.where(x >= knots[-1], values[:, -1:], slope * (x - knots[j]) + left))


# --------------------------------------------------------------------------- vol of vol


@dataclass(frozen=True)
class VolOfVol:
    """Black-76 vol of VIX options (on the future of the same expiry) by tenor:
    ``vvol(tau) = long_vol + (short_vol - long_vol) * exp(-tau / decay_years)``,
    times ``(VIX / reference_vix) ** vix_exponent``. Flat across strikes.

    Defaults and why: VIX options' implied vols are typically 80-150 % for the
    front months and fall with tenor, because a mean-reverting VIX makes long-dated
    futures move less (the Samuelson effect; in the OU model the futures vol decays
    like ``exp(-kappa * tau)``, which the exponential form mirrors).
    ``short_vol = 1.20`` (0DTE limit), ``long_vol = 0.60``, ``decay_years = 0.20``
    give about 100 % at 1 month, 77 % at 3 months, 65 % at 6 months.
    ``vix_exponent = 0.0`` (off): vol-of-vol rises with the VIX level in stress, but
    by less than proportionally; set e.g. 0.3 to scale it with the VIX around
    ``reference_vix = 20.0``.
    """

    short_vol: float = 1.20
    long_vol: float = 0.60
    decay_years: float = 0.20
    vix_exponent: float = 0.0
    reference_vix: float = 20.0

    def __post_init__(self) -> None:
        check_fields(
            self,
            {
                "short_vol": (0.0, MAX_VOL, True),
                "long_vol": (0.0, MAX_VOL, True),
                "decay_years": (0.0, 10.0, True),
                "vix_exponent": (-2.0, 2.0, False),
                "reference_vix": (0.0, 500.0, True),
            },
        )

    def vol(self, tau: Any, *, vix: float | FloatArray) -> FloatArray:
        """The VIX option vol at tenors ``tau`` (years), vectorized."""
        tau_years = np.asarray(tau, dtype=np.float64)
        decay = np.exp(-tau_years / self.decay_years)
        base = self.long_vol + (self.short_vol - self.long_vol) * decay
        scale = (vix / self.reference_vix) ** self.vix_exponent
        return np.asarray(base * scale, dtype=np.float64)
