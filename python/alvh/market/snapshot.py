"""The market model: SPX spot, rates, the VIX and its futures curve, the SPX vol
surface and the vol-of-vol of VIX options, as of one explicit date.

- `VixFutures`: the VIX futures curve, explicit (listed expiries and prices) or the
  mean-reverting model ``F(tau) = theta + (VIX - theta) * exp(-kappa * tau)``.
- `alvh.market.ssvi.SsviSurface`: the default SPX vol model of DESIGN.md ("Market
  model"): ATM vol per tenor from the VIX term structure (`alvh.market.term`) and the
  arbitrage-free SSVI smile, its ATM level solved so that its own options give the VIX.
- `alvh.market.svi.SviSurface` (optional): SVI slices per expiry fitted to a chain, on top
  of a VIX term structure; `Market` takes either model as ``vol_model``.
- `VolOfVol`: the Black-76 vol of VIX options as a function of their tenor.
- `Market`: all of the above plus the as-of date, SPX, rate and dividend yield;
  ``bump()`` moves it (spot, VIX, days forward) under a vol dynamics rule, and
  ``from_toml`` / ``to_toml`` read and write the format of ``docs/market_format.md``.

Units follow DESIGN.md: ``t``/``tau`` in years ACT/365 (calendar days / 365), vols
as decimals, the VIX and its futures in points (20.0 = 20 %), rate and dividend
yield continuously compounded decimals. The valuation date is always ``as_of``,
never the wall clock. Vectorized methods return float64 numpy arrays of the
broadcast shape of their inputs (0-d for scalars), like `alvh.bsm`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alvh._core import toml
from alvh._core.checks import bad, check_fields, finite_number, input_error, plain_date
from alvh._core.io import atomic_write
from alvh._core.types import FloatArray
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.cboe import solve_vix_ratio
from alvh.market.conventions import DAYS_PER_YEAR, VIX_TENOR_DAYS, check_dynamics
from alvh.market.ssvi import SsviSurface
from alvh.market.svi import SviSlice, SviSurface
from alvh.market.term import VixTermStructure
from alvh.market.vix import VixFutures, VolOfVol

__all__ = ["FORMAT_VERSION", "Market", "MarketReader"]

#: The TOML format version `Market.to_toml` writes and `from_toml` reads.
FORMAT_VERSION = 1

# --------------------------------------------------------------------------- the market


@lru_cache(maxsize=8192)
def _solved_ratio(
    as_of: date, spot: float, rate: float, div: float, vix: float, futures: VixFutures, surface: SsviSurface
) -> float:
    """`solve_vix_ratio` for an unsolved surface in the market of these fields, cached: a
    backtest builds the same day's market once per policy (a pure function of its
    arguments, so the cache changes no number)."""
    start = Market(
        as_of=as_of,
        spot=spot,
        rate=rate,
        div=div,
        vix=vix,
        futures=futures,
        vol_model=replace(surface, atm_vix_ratio=0.8),
    )
    return solve_vix_ratio(start)


def _refuse_falling_variance(as_of: date, vix: float, futures: VixFutures) -> None:
    """`InvalidInputError` when a listed future's pillar (`alvh.market.term`) carries less
    ATM total variance than a shorter one: the VIX at 30 days, each future ``F_i`` at its
    expiry + 30 days, ``w ~ F^2 tau`` (the ATM/VIX ratio is common and cancels)."""
    month = VIX_TENOR_DAYS / DAYS_PER_YEAR
    best, best_name = (vix / 100.0) ** 2 * month, f"the VIX {vix:g} (30 days)"
    for i, (expiry, price) in enumerate(zip(futures.expiries, futures.prices)):
        tau = (expiry - as_of).days / DAYS_PER_YEAR + month
        if tau <= month:
            continue  # expiring today: the VIX's own pillar
        w = (price / 100.0) ** 2 * tau
        if w < best * (1.0 - 1e-12):
            raise input_error(
                f"futures.prices[{i}]: the VIX future expiring {expiry.isoformat()} at {price:g} makes "
                f"the SPX ATM total variance fall with tenor ({w:.6g} at {tau * DAYS_PER_YEAR:.0f} days "
                f"< {best:.6g} of {best_name}): a surface on it has calendar arbitrage. Pass "
                "repair_calendar=True (TOML: vix_futures.repair_calendar = true) to raise that pillar "
                "to zero forward variance instead",
                arg="futures.prices",
                value=price,
                index=i,
            )
        if w >= best:
            best, best_name = w, f"the {expiry.isoformat()} future {price:g}"


@dataclass(frozen=True)
class Market:
    """One market snapshot: as-of date, SPX ``spot``, ``rate``, ``div``, ``vix``
    (points), the VIX ``futures`` curve, the SPX ``vol_model`` (an
    `alvh.market.ssvi.SsviSurface`, or an `alvh.market.svi.SviSurface` for SVI per expiry)
    and the ``vol_of_vol`` of VIX options. An `SsviSurface` without an ``atm_vix_ratio``
    (the default) has it solved here, so that the Cboe VIX formula on this market's own
    30-day options gives back ``vix`` (`alvh.market.cboe.solve_vix_ratio`).

    ``as_of`` is always explicit (never today's date). ``scenario_base`` and
    ``dynamics`` are set by `bump`: a market bumped with sticky-strike or parallel
    dynamics keeps the market it was bumped from, whose smile it shifts.
    """

    as_of: date
    spot: float
    rate: float
    div: float
    vix: float
    futures: VixFutures = field(default_factory=VixFutures)
    vol_model: SsviSurface | SviSurface = field(default_factory=SsviSurface)
    vol_of_vol: VolOfVol = field(default_factory=VolOfVol)
    dynamics: str = "sticky_moneyness"
    scenario_base: Market | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        plain_date("as_of", self.as_of)
        check_fields(
            self,
            {
                "spot": (0.0, 1e7, True),
                "rate": (-0.5, 1.0, False),
                "div": (-0.5, 1.0, False),
                "vix": (0.0, 500.0, True),
            },
        )
        from alvh.market.svi import SviSurface  # alvh.market.svi builds on this module

        parts: dict[str, tuple[type, ...]] = {
            "futures": (VixFutures,),
            "vol_model": (SsviSurface, SviSurface),
            "vol_of_vol": (VolOfVol,),
        }
        for name, kinds in parts.items():
            if not isinstance(getattr(self, name), kinds):
                wanted = " or ".join(kind.__name__ for kind in kinds)
                raise InputTypeError(f"{name} must be a {wanted}, got {type(getattr(self, name)).__name__}")
        for i, expiry in enumerate(self.futures.expiries):
            if expiry < self.as_of:
                raise bad(
                    "futures.expiries",
                    expiry.isoformat(),
                    f"on or after as_of {self.as_of.isoformat()} (an expired future)",
                    i,
                )
        check_dynamics(self.dynamics)
        if self.futures.is_explicit and not self.futures.repair_calendar:
            _refuse_falling_variance(self.as_of, self.vix, self.futures)
        if self.scenario_base is not None and not isinstance(self.scenario_base, Market):
            raise InputTypeError("scenario_base must be a Market or None")
        if isinstance(self.vol_model, SsviSurface) and not self.vol_model.solved:
            # VIX consistency by construction: the ATM level is set so that the Cboe
            # formula on this market's own 30-day options gives its VIX.
            ratio = _solved_ratio(
                self.as_of, self.spot, self.rate, self.div, self.vix, self.futures, self.vol_model
            )
            object.__setattr__(self, "vol_model", replace(self.vol_model, atm_vix_ratio=ratio))

    # ----------------------------------------------------------------- time

    def _days(self, expiry: Any) -> tuple[NDArray[np.int64], bool]:
        """Calendar days from ``as_of`` to each expiry; an expiry before ``as_of`` is an error."""
        scalar = isinstance(expiry, (date, np.datetime64, str))
        if isinstance(expiry, datetime):
            raise InputTypeError(f"expiry must be a date, got datetime {expiry!r}")
        try:
            dates = np.asarray(expiry, dtype="datetime64[D]")
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"expiry must be a date or an array of dates: {exc}") from exc
        if np.isnat(dates).any():
            i = int(np.flatnonzero(np.isnat(dates).ravel())[0])
            raise bad("expiry", "NaT", "a date", i)
        days = (dates - np.datetime64(self.as_of, "D")).astype(np.int64)
        if (days < 0).any():
            i = int(np.flatnonzero(days.ravel() < 0)[0])
            raise bad(
                "expiry",
                str(dates.ravel()[i]),
                f"on or after as_of {self.as_of.isoformat()}",
                None if scalar or dates.ndim == 0 else i,
            )
        return days, scalar

    def t(self, expiry: Any) -> FloatArray:
        """Years ACT/365 from ``as_of`` to ``expiry`` (a date or an array of dates).

        An expiry on ``as_of`` gives 0 (the option is settled at intrinsic that day);
        one before ``as_of`` is an `InvalidInputError`.
        """
        days, _ = self._days(expiry)
        return np.asarray(days / DAYS_PER_YEAR, dtype=np.float64)

    def forward(self, expiry: Any) -> FloatArray:
        """SPX forward ``spot * exp((rate - div) * t)`` for each expiry."""
        carry = np.exp((self.rate - self.div) * self.t(expiry))
        return np.asarray(self.spot * carry, dtype=np.float64)

    # ----------------------------------------------------------------- SPX vols

    @cached_property
    def _pillars(self) -> tuple[FloatArray, FloatArray]:
        return self.futures.pillars(as_of=self.as_of, vix=self.vix)

    @cached_property
    def _atm_variance(self) -> tuple[FloatArray, FloatArray]:
        """The SSVI surface's ATM total-variance pillars in this market (``(P,)``,
        ``(1, P)``), built once: `atm_vol` is asked for thousands of times a day."""
        future_taus, future_prices = self._pillars
        return self.vol_model.term_structure_rows(  # type: ignore[union-attr]
            vix=np.array([float(self.vix)]), future_taus=future_taus, future_prices=future_prices[None, :]
        )

    def atm_vol(self, expiry: Any) -> FloatArray:
        """ATM vol of the SPX at each expiry, from the VIX term structure (times the
        expiry's ATM ratio under an `alvh.market.svi.SviSurface`)."""
        return self._atm_vol_at(self.t(expiry), expiry)

    def _atm_vol_at(self, tau: FloatArray, expiry: Any) -> FloatArray:
        if isinstance(self.vol_model, VixTermStructure):  # SSVI: the cached pillars
            pillar_taus, variance = self._atm_variance
            tau_years = np.asarray(tau, dtype=np.float64)
            rows = VixTermStructure.atm_vol_on_pillars(tau_years.reshape(-1), pillar_taus, variance)
            return np.asarray(rows[0].reshape(tau_years.shape), dtype=np.float64)
        future_taus, future_prices = self._pillars
        return self.vol_model.atm_vol(
            tau,
            vix=self.vix,
            future_taus=future_taus,
            future_prices=future_prices,
            expiry=expiry,
        )

    def own_smile_vol(self, strike: FloatArray, expiry: Any) -> FloatArray:
        """The vol model's smile at ``strike`` and ``expiry`` in this market, without the
        scenario dynamics of `spx_vol` (the base vols a projection moves)."""
        tau = self.t(expiry)
        forward = np.asarray(self.spot * np.exp((self.rate - self.div) * tau), dtype=np.float64)
        return self.vol_model.smile(
            strike=strike,
            forward=forward,
            tau=tau,
            atm=self._atm_vol_at(tau, expiry),
            expiry=expiry,
        )

    def spx_vol(self, strike: Any, expiry: Any) -> FloatArray:
        """SPX implied vol at ``strike`` and ``expiry`` (both broadcast), vectorized.

        Under the market's ``dynamics`` (see `bump`): sticky moneyness uses this
        market's forward and ATM vols; sticky strike is the base market's vol at the
        same strike plus the ATM change for that expiry; parallel is the base
        market's vol plus ``atm_vix_ratio * (vix - base vix) / 100`` everywhere. All are
        floored at ``floor_ratio`` times this market's ATM vol.
        """
        strikes = np.asarray(strike, dtype=np.float64)
        wrong = ~(np.isfinite(strikes) & (strikes > 0.0))
        if wrong.any():
            i = int(np.flatnonzero(wrong.ravel())[0])
            index = None if strikes.ndim == 0 else i
            raise bad("strike", float(strikes.ravel()[i]), "positive and finite", index)
        base = self.scenario_base
        if base is None or self.dynamics == "sticky_moneyness":
            return self.own_smile_vol(strikes, expiry)
        atm_now = self.atm_vol(expiry)
        if self.dynamics == "sticky_strike":
            change: Any = atm_now - base.atm_vol(expiry)
        else:  # parallel
            change = self.vol_model.ratio * (self.vix - base.vix) / 100.0
        vol = base.own_smile_vol(strikes, expiry) + change
        return np.asarray(np.maximum(vol, self.vol_model.floor_ratio * atm_now), dtype=np.float64)

    # ----------------------------------------------------------------- VIX

    def vix_future(self, expiry: date) -> float:
        """The VIX futures price for ``expiry`` (points); listed curves must list it."""
        return self.futures.price(plain_date("expiry", expiry), as_of=self.as_of, vix=self.vix)

    def vix_option_vol(self, expiry: Any) -> FloatArray:
        """Black-76 vol of VIX options expiring at ``expiry`` (on that expiry's future)."""
        return self.vol_of_vol.vol(self.t(expiry), vix=self.vix)

    # ----------------------------------------------------------------- scenarios

    # Vectorized over VIX shifts: the grid and the projection resolve many scenario
    # markets at once. Row v of each result equals the same quantity read from
    # ``self.bump(vix_shift=shifts[v], days=day, dynamics=...)`` (tests pin this).

    def _scenario_date(self, shifts: Any, day: int) -> tuple[FloatArray, date]:
        if self.scenario_base is not None:
            raise InvalidInputError(
                f"scenario_* methods need a base market, not one bumped with {self.dynamics!r} dynamics"
            )
        moves = np.asarray(shifts, dtype=np.float64).reshape(-1)
        low = self.vix + moves <= 0.0
        if low.any() or not np.isfinite(moves).all():
            i = int(np.flatnonzero(low | ~np.isfinite(moves))[0])
            raise bad(
                "shifts",
                float(moves[i]),
                f"finite and greater than -{self.vix:g} (the VIX must stay positive)",
                i,
            )
        if isinstance(day, (bool, np.bool_)) or not isinstance(day, (int, np.integer)) or day < 0:
            raise bad("day", day, "a whole number of days, zero or positive")
        as_of = self.as_of + timedelta(days=int(day))
        self.futures.after(as_of)  # a listed curve that has run out is an error, as in bump
        return moves, as_of

    @staticmethod
    def _tenors(expiry: Any, as_of: date) -> FloatArray:
        dates = np.asarray(expiry, dtype="datetime64[D]").reshape(-1)
        return np.asarray(
            (dates - np.datetime64(as_of, "D")).astype(np.int64) / DAYS_PER_YEAR, dtype=np.float64
        )

    def scenario_atm_vols(self, expiry: Any, *, shifts: Any, day: int) -> FloatArray:
        """SPX ATM vols ``(V, L)`` of the expiries ``(L,)`` after the VIX moves by each of
        ``shifts`` ``(V,)`` points and ``day`` calendar days pass: row v is
        ``self.bump(vix_shift=shifts[v], days=day).atm_vol(expiry)``. An expiry before the
        scenario date gets the 0-tenor vol (unused: that leg is settled)."""
        moves, as_of = self._scenario_date(shifts, day)
        vix = self.vix + moves
        taus, prices = self.futures.after(as_of).pillar_rows(as_of=as_of, vix=vix, shifts=moves)
        negative = (prices <= 0.0).any(axis=1)
        if negative.any():
            i = int(np.flatnonzero(negative)[0])
            raise bad("shifts", float(moves[i]), "small enough to keep every future positive", i)
        return self.vol_model.atm_vol_rows(
            self._tenors(expiry, as_of),
            vix=vix,
            future_taus=taus,
            future_prices=prices,
            expiry=expiry,
        )

    def scenario_spx_vols(
        self,
        strike: Any,
        expiry: Any,
        *,
        shifts: Any,
        day: int,
        dynamics: str = "sticky_moneyness",
    ) -> FloatArray:
        """SPX vols ``(V, L)`` at ``strike``/``expiry`` ``(L,)`` in the scenarios of
        `scenario_atm_vols` under ``dynamics``: row v is
        ``self.bump(vix_shift=shifts[v], days=day, dynamics=dynamics).spx_vol(strike, expiry)``
        (the spot unmoved)."""
        dynamics = check_dynamics(dynamics)
        strikes = np.asarray(strike, dtype=np.float64).reshape(-1)
        atm = self.scenario_atm_vols(expiry, shifts=shifts, day=day)
        model = self.vol_model
        if dynamics == "sticky_moneyness":
            as_of = self.as_of + timedelta(days=int(day))
            tau = self._tenors(expiry, as_of)
            forward = self.spot * np.exp((self.rate - self.div) * tau)
            return model.smile(
                strike=strikes,
                forward=forward,
                tau=np.maximum(tau, 0.0),
                atm=atm,
                expiry=np.asarray(expiry, dtype="datetime64[D]").reshape(-1),
            )
        smile = self.own_smile_vol(strikes, expiry)
        if dynamics == "sticky_strike":
            change: Any = atm - self.atm_vol(expiry)
        else:  # parallel
            moves = np.asarray(shifts, dtype=np.float64).reshape(-1, 1)
            change = model.ratio * moves / 100.0
        return np.asarray(np.maximum(smile + change, model.floor_ratio * atm), dtype=np.float64)

    def scenario_vix_futures(self, expiry: Any, *, shifts: Any, day: int) -> FloatArray:
        """VIX futures prices ``(V, L)`` for the expiries ``(L,)`` in the scenarios of
        `scenario_atm_vols`: a listed price moved by ``shift * exp(-kappa * tau)``, or the
        model at the shifted VIX. A future that expired by the scenario date has its
        settlement: its price on its own expiry day in the same VIX scenario (listed
        price + shift, or the shifted VIX itself). Listed curves must list every expiry."""
        moves, as_of = self._scenario_date(shifts, day)
        dates = np.asarray(expiry, dtype="datetime64[D]").reshape(-1)
        tau = np.maximum(self._tenors(dates, as_of), 0.0)
        futures = self.futures
        if not futures.is_explicit:
            return futures.model_level(tau[None, :], vix=(self.vix + moves)[:, None])
        listed = np.array(futures.expiries, dtype="datetime64[D]")
        position = np.searchsorted(listed, dates)
        found = (position < listed.size) & (listed[np.minimum(position, listed.size - 1)] == dates)
        if not found.all():
            missing = dates[np.flatnonzero(~found)[0]].astype(object)
            futures.price(missing, as_of=self.as_of, vix=self.vix)  # raises, naming the expiry
        prices = np.asarray(futures.prices, dtype=np.float64)[position]
        moved = prices[None, :] + moves[:, None] * np.exp(-futures.kappa * tau)[None, :]
        return np.asarray(moved, dtype=np.float64)

    def bump(
        self,
        *,
        spot_move: float = 0.0,
        vix_shift: float = 0.0,
        days: int = 0,
        dynamics: str = "sticky_moneyness",
    ) -> Market:
        """A new market: SPX moved by ``spot_move`` (relative: -0.05 = -5 %), the VIX by
        ``vix_shift`` points, ``days`` calendar days later (``as_of + days``).

        Futures: the model curve follows the VIX spot; a listed curve moves by
        ``vix_shift * exp(-kappa * tau)`` per expiry, keeps its prices through time,
        and drops the futures that expired. Rate, div and the model parameters stay.

        ``dynamics`` says how the SPX smile follows:

        - ``"sticky_moneyness"`` (default): the smile is recomputed from the new
          forward and the new ATM term structure (the smile moves with spot).
        - ``"sticky_strike"``: the vol at each strike keeps its level in the market
          bumped from, plus the change of that expiry's ATM vol.
        - ``"parallel"``: every vol of the market bumped from plus the same
          ``atm_vix_ratio * vix_shift / 100`` (the 30-day ATM change), whatever the
          strike or expiry.

        Bumps compose: bumping a bumped market measures from the first market
        (the same dynamics are required along the chain).
        """
        dynamics = check_dynamics(dynamics)
        move = finite_number("spot_move", spot_move)
        if move <= -1.0:
            raise bad("spot_move", move, "greater than -1 (a relative move, -0.05 = -5 %)")
        shift = finite_number("vix_shift", vix_shift)
        if isinstance(days, (bool, np.bool_)) or not isinstance(days, (int, np.integer)):
            raise InputTypeError(f"days must be an int, got {type(days).__name__} {days!r}")
        if days < 0:
            raise bad("days", int(days), "zero or positive")
        if self.scenario_base is not None and dynamics != self.dynamics:
            raise InvalidInputError(
                f"dynamics must match the market being bumped ({self.dynamics!r}); got {dynamics!r}"
            )
        new_vix = self.vix + shift
        if new_vix <= 0.0:
            raise bad("vix_shift", shift, f"greater than -{self.vix:g} (the VIX must stay positive)")
        as_of = self.as_of + timedelta(days=int(days))
        futures = self.futures.after(as_of).shifted(shift, as_of=as_of)
        if futures.is_explicit and (shift != 0.0 or days > 0):  # a scenario, not quotes
            futures = replace(futures, repair_calendar=True)
        if dynamics == "sticky_moneyness":
            base = None
        else:
            base = self.scenario_base if self.scenario_base is not None else self
        return replace(
            self,
            as_of=as_of,
            spot=self.spot * (1.0 + move),
            vix=new_vix,
            futures=futures,
            dynamics=dynamics,
            scenario_base=base,
        )

    def shifted(self, vix_shift_points: float, *, dynamics: str = "sticky_moneyness") -> Market:
        """The market after the VIX moves by ``vix_shift_points`` (``bump(vix_shift=...)``)."""
        return self.bump(vix_shift=vix_shift_points, dynamics=dynamics)

    # ----------------------------------------------------------------- TOML

    def to_dict(self) -> dict[str, Any]:
        """The TOML document as a dict (see ``docs/market_format.md``)."""
        if self.scenario_base is not None:
            raise InvalidInputError(
                f"a market bumped with {self.dynamics!r} dynamics is a scenario state relative to "
                f"its base market, not market data; save the base market instead"
            )
        futures: dict[str, Any]
        if self.futures.is_explicit:
            futures = {
                "model": "explicit",
                "kappa": self.futures.kappa,
                **({"repair_calendar": True} if self.futures.repair_calendar else {}),
                "curve": [
                    {"expiry": expiry, "price": price}
                    for expiry, price in zip(self.futures.expiries, self.futures.prices)
                ],
            }
        else:
            futures = {
                "model": "mean_reverting",
                "theta": self.futures.theta,
                "kappa": self.futures.kappa,
            }
        vm, vv = self.vol_model, self.vol_of_vol
        spx_vol: dict[str, Any]
        if isinstance(vm, SsviSurface):
            spx_vol = {
                "model": "ssvi",
                "atm_vix_ratio": vm.atm_vix_ratio,
                "rho": vm.rho,
                "eta": vm.eta,
                "gamma": vm.gamma,
                "floor_ratio": vm.floor_ratio,
            }
        else:
            spx_vol = {
                "model": "svi",
                "atm_vix_ratio": vm.base.atm_vix_ratio,
                "floor_ratio": vm.base.floor_ratio,
                "moneyness_limit": vm.moneyness_limit,
                "slices": [
                    {
                        "expiry": expiry,
                        "a": s.a,
                        "b": s.b,
                        "rho": s.rho,
                        "m": s.m,
                        "sigma": s.sigma,
                        "atm_ratio": s.atm_ratio,
                    }
                    for expiry, s in vm.slices.items()
                ],
            }
        return {
            "format_version": FORMAT_VERSION,
            "as_of": self.as_of,
            "spot": self.spot,
            "rate": self.rate,
            "div": self.div,
            "vix": self.vix,
            "vix_futures": futures,
            "spx_vol": spx_vol,
            "vol_of_vol": {
                "short_vol": vv.short_vol,
                "long_vol": vv.long_vol,
                "decay_years": vv.decay_years,
                "vix_exponent": vv.vix_exponent,
                "reference_vix": vv.reference_vix,
            },
        }

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write the market to ``path`` atomically (temp file, fsync, rename): a crash
        leaves either the old file or the new one, never a torn one."""
        import tomli_w

        header = "# alvh market snapshot (format: docs/market_format.md)\n"
        text = header + tomli_w.dumps(self.to_dict())
        atomic_write(Path(path), text.encode("utf-8"))

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Market:
        """Read a market written in the format of ``docs/market_format.md``.

        A malformed file, a missing or unknown key, or a bad value raises
        `InvalidInputError` (a ``ValueError``) naming the file and the field, with
        the line where it can be found.
        """
        text, document = toml.load(path)
        return MarketReader(text).read(document)


# --------------------------------------------------------------------------- TOML reading

_TOP_KEYS = {
    "format_version",
    "as_of",
    "spot",
    "rate",
    "div",
    "vix",
    "vix_futures",
    "spx_vol",
    "vol_of_vol",
}
_FUTURES_KEYS = {"model", "theta", "kappa", "curve", "repair_calendar"}
_SPX_VOL_MODELS = ("ssvi", "svi")
#: ``model = "ssvi"`` (the default): its parameters (an absent ``atm_vix_ratio`` is solved
#: from the VIX).
_SSVI_KEYS = {"model", "atm_vix_ratio", "rho", "eta", "gamma", "floor_ratio"}
#: ``model = "svi"``: the term structure, the clip, and the per-expiry ``slices`` (see
#: `alvh.market.svi.SviSlice`).
_SVI_KEYS = {"model", "atm_vix_ratio", "floor_ratio", "moneyness_limit", "slices"}
_SVI_SLICE_KEYS = ("expiry", "a", "b", "rho", "m", "sigma", "atm_ratio")
_VOL_OF_VOL_KEYS = {"short_vol", "long_vol", "decay_years", "vix_exponent", "reference_vix"}


class MarketReader:
    """Turns a parsed TOML document into a `Market`, with errors that name the file,
    the dotted field and (found in the text) its line."""

    def __init__(self, text: toml.TomlText) -> None:
        self.text = text
        self.source = text.source

    def error(self, section: str, key: str, problem: str) -> InvalidInputError:
        """``FILE:LINE: field SECTION.KEY: problem`` (`alvh._core.toml`)."""
        return self.text.error(f"{section}.{key}" if section else key, problem)

    def table(self, document: Mapping[str, Any], section: str, allowed: set[str]) -> dict[str, Any]:
        value = document.get(section, {})
        if not isinstance(value, dict):
            raise self.error("", section, f"must be a table [{section}], got {type(value).__name__}")
        self.known(value, section, allowed)
        return value

    def known(self, table: Mapping[str, Any], section: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.error(section, key, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def number(self, table: Mapping[str, Any], section: str, key: str, default: Any = None) -> Any:
        if key not in table:
            if default is None:
                raise self.error(section, key, "missing (required)")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(section, key, f"must be a number, got {type(value).__name__} {value!r}")
        return float(value)

    def date(self, table: Mapping[str, Any], section: str, key: str) -> date:
        if key not in table:
            raise self.error(section, key, "missing (required)")
        value = table[key]
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.error(
                section,
                key,
                f"must be a TOML date such as 2024-10-18 (unquoted), got {type(value).__name__} {value!r}",
            )
        return value

    def build(self, section: str, make: Any) -> Any:
        """Call a constructor, re-raising its validation error with the file and field."""
        try:
            return make()
        except (InvalidInputError, InputTypeError) as exc:
            arg = getattr(exc, "arg", None) or str(exc).split(" ", 1)[0]
            raise self.error(section, str(arg), str(exc)) from None

    def read(self, document: Mapping[str, Any]) -> Market:
        self.known(document, "", _TOP_KEYS)
        version = document.get("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise self.error(
                "",
                "format_version",
                f"unsupported version {version!r} (this alvh reads {FORMAT_VERSION})",
            )
        futures = self.futures(self.table(document, "vix_futures", _FUTURES_KEYS))
        vol_model = self.vol_model(self.table(document, "spx_vol", _SSVI_KEYS | _SVI_KEYS))
        vv = self.table(document, "vol_of_vol", _VOL_OF_VOL_KEYS)
        vv_defaults = VolOfVol()
        vol_of_vol = self.build(
            "vol_of_vol",
            lambda: VolOfVol(
                **{
                    key: self.number(vv, "vol_of_vol", key, getattr(vv_defaults, key))
                    for key in _VOL_OF_VOL_KEYS
                }
            ),
        )
        fields = {
            "as_of": self.date(document, "", "as_of"),
            **{key: self.number(document, "", key) for key in ("spot", "rate", "div", "vix")},
        }
        try:
            return Market(**fields, futures=futures, vol_model=vol_model, vol_of_vol=vol_of_vol)
        except InvalidInputError as exc:
            if exc.arg == "futures.expiries" and exc.index is not None:
                raise self.error("vix_futures", f"curve[{exc.index}].expiry", str(exc)) from None
            if exc.arg == "futures.prices" and exc.index is not None:
                raise self.error("vix_futures", f"curve[{exc.index}].price", str(exc)) from None
            raise self.error("", str(exc.arg or str(exc).split(" ", 1)[0]), str(exc)) from None

    def svi(self, table: Mapping[str, Any]) -> SviSurface:
        """``model = "svi"``: the term structure (``atm_vix_ratio``, ``floor_ratio``), the
        clip and the ``[[spx_vol.slices]]``, one table per expiry with every key of
        `_SVI_SLICE_KEYS`."""
        section = "spx_vol"
        self.known(table, section, _SVI_KEYS)
        defaults = VixTermStructure()
        base = self.build(
            section,
            lambda: VixTermStructure(
                **{
                    key: self.number(table, section, key, getattr(defaults, key))
                    for key in ("atm_vix_ratio", "floor_ratio")
                }
            ),
        )
        limit = self.number(table, section, "moneyness_limit", 4.0)
        slices = table.get("slices")
        if not isinstance(slices, list) or not slices:
            raise self.error(
                section,
                "slices",
                "model = 'svi' needs a non-empty list of [[spx_vol.slices]] tables "
                f"({', '.join(_SVI_SLICE_KEYS)})",
            )
        built: dict[date, SviSlice] = {}
        for i, entry in enumerate(slices):
            name = f"slices[{i}]"
            if not isinstance(entry, dict):
                raise self.error(section, name, f"must be a table, got {entry!r}")
            for key in entry:
                if key not in _SVI_SLICE_KEYS:
                    raise self.error(
                        section,
                        f"{name}.{key}",
                        f"unknown key (allowed: {', '.join(_SVI_SLICE_KEYS)})",
                    )
            for key in _SVI_SLICE_KEYS:
                if key not in entry:
                    raise self.error(section, f"{name}.{key}", "missing (required)")
            expiry = entry["expiry"]
            if isinstance(expiry, datetime) or not isinstance(expiry, date):
                raise self.error(
                    section,
                    f"{name}.expiry",
                    f"must be a TOML date such as 2024-11-15 (unquoted), got {expiry!r}",
                )
            if expiry in built:
                raise self.error(section, f"{name}.expiry", f"{expiry.isoformat()} has a slice already")
            params = {}
            for key in _SVI_SLICE_KEYS[1:]:
                value = entry[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise self.error(section, f"{name}.{key}", f"must be a number, got {value!r}")
                params[key] = float(value)
            try:
                built[expiry] = SviSlice(**params)
            except (InvalidInputError, InputTypeError) as exc:
                field_name = getattr(exc, "arg", None) or "a"
                raise self.error(section, f"{name}.{field_name}", str(exc)) from None
        return self.build(section, lambda: SviSurface(built, base=base, moneyness_limit=limit))

    def vol_model(self, spx: Mapping[str, Any]) -> SsviSurface | SviSurface:
        """The ``[spx_vol]`` table's model: SSVI (the default) or SVI slices."""
        model_name = spx.get("model", "ssvi")
        if model_name == "ssvi":
            return self.ssvi(spx)
        if model_name == "svi":
            return self.svi(spx)
        raise self.error(
            "spx_vol",
            "model",
            f"unknown SPX vol model {model_name!r} (known: "
            f"{', '.join(repr(name) for name in _SPX_VOL_MODELS)})",
        )

    def ssvi(self, spx: Mapping[str, Any]) -> SsviSurface:
        """``model = "ssvi"``: the SSVI parameters (defaults of `SsviSurface` for absent ones)."""
        self.known(spx, "spx_vol", _SSVI_KEYS)
        defaults = SsviSurface()
        values: dict[str, Any] = {
            key: self.number(spx, "spx_vol", key, getattr(defaults, key))
            for key in ("rho", "eta", "gamma", "floor_ratio")
        }
        if "atm_vix_ratio" in spx:
            values["atm_vix_ratio"] = self.number(spx, "spx_vol", "atm_vix_ratio")
        return self.build("spx_vol", lambda: SsviSurface(**values))

    def futures(self, table: Mapping[str, Any]) -> VixFutures:
        section = "vix_futures"
        model = table.get("model", "explicit" if "curve" in table else "mean_reverting")
        theta = self.number(table, section, "theta", 20.0)
        kappa = self.number(table, section, "kappa", 2.0)
        if model == "mean_reverting":
            for key in ("curve", "repair_calendar"):
                if key in table:
                    raise self.error(section, key, "not allowed with model = 'mean_reverting'")
            return self.build(section, lambda: VixFutures.mean_reverting(theta=theta, kappa=kappa))
        if model != "explicit":
            raise self.error(section, "model", f"must be 'explicit' or 'mean_reverting', got {model!r}")
        if "theta" in table:
            raise self.error(section, "theta", "only used by model = 'mean_reverting'")
        repair = table.get("repair_calendar", False)
        if not isinstance(repair, bool):
            raise self.error(section, "repair_calendar", f"must be true or false, got {repair!r}")
        curve = table.get("curve")
        if not isinstance(curve, list) or not curve:
            raise self.error(
                section,
                "curve",
                "an explicit curve needs a non-empty list of {expiry, price} tables",
            )
        expiries, prices = [], []
        for i, point in enumerate(curve):
            name = f"curve[{i}]"
            if not isinstance(point, dict):
                raise self.error(
                    section, name, f"must be a table {{expiry = ..., price = ...}}, got {point!r}"
                )
            for key in point:
                if key not in ("expiry", "price"):
                    raise self.error(section, f"{name}.{key}", "unknown key (allowed: expiry, price)")
            for key in ("expiry", "price"):
                if key not in point:
                    raise self.error(section, f"{name}.{key}", "missing (required)")
            expiry, price = point["expiry"], point["price"]
            if isinstance(expiry, datetime) or not isinstance(expiry, date):
                raise self.error(
                    section,
                    f"{name}.expiry",
                    f"must be a TOML date such as 2024-11-20 (unquoted), got {expiry!r}",
                )
            expiries.append(expiry)
            if isinstance(price, bool) or not isinstance(price, (int, float)):
                raise self.error(section, f"{name}.price", f"must be a number, got {price!r}")
            prices.append(float(price))
        try:
            return VixFutures(
                expiries=tuple(expiries), prices=tuple(prices), kappa=kappa, repair_calendar=repair
            )
        except (InvalidInputError, InputTypeError) as exc:
            index = getattr(exc, "index", None)
            arg = getattr(exc, "arg", None)
            if arg in ("expiries", "prices") and index is not None:
                field_name = f"curve[{index}].{'expiry' if arg == 'expiries' else 'price'}"
            else:
                field_name = str(arg or "curve")
            raise self.error(section, field_name, str(exc)) from None
