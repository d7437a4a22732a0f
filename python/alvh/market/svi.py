"""SVI per expiry: the optional SPX vol model of DESIGN.md ("Market model").

- `SviSlice`: one expiry's raw SVI smile (Gatheral 2004) in total implied variance,
  ``w(k) = a + b * (rho * (k - m) + sqrt((k - m)**2 + sigma**2))`` with
  ``k = ln(K/F)`` and ``w = vol**2 * tau``, plus the ``atm_ratio`` that ties its ATM
  level to the VIX term structure; its butterfly-arbitrage check (Gatheral &
  Jacquier 2014, "Arbitrage-free SVI volatility surfaces", the density factor
  ``g(k) >= 0``) and `fit_slice`, the least-squares fit of one expiry.
- `SviSurface`: slices keyed by expiry date on top of a `VixTermStructure` (``base``)
  that gives the ATM term structure; usable as ``Market(vol_model=SviSurface(...))``.
  `calendar_check` compares consecutive slices (``w`` must not fall with expiry).

**How a surface moves** (so that VIX shifts and days forward work as with the
default model). At fit time each slice records ``atm_ratio = atm_svi / model_atm``:
its own ATM vol ``sqrt(w(0) / tau)`` over the ``base`` ATM vol of that expiry
in the fit market. In any market (the fit market, or one bumped in spot, VIX or
days), the ATM vol of an expiry is ``atm_ratio * model_atm`` of *that* market, and
the smile is sticky in standardized moneyness ``x = ln(K/F) / (atm * sqrt(tau))``:
``sigma(K) = atm * sqrt(w(x * sqrt(w0)) / w0)`` with ``w0 = w(0)``. In the fit market
``atm * sqrt(tau) = sqrt(w0)``, so this is exactly the fitted SVI vol. ``x`` is clipped
to ``+-moneyness_limit`` (a slice fitted near the money is not trusted beyond) and the
vol floored at ``base.floor_ratio * atm``.

**Expiries without a slice**: the ``atm_ratio`` is interpolated linearly in expiry
date between the neighbouring slices and held flat beyond the first and last; the
smile shape is that of the nearest slice in expiry date (on a tie, the later one,
whose tenor covers the expiry).

Units: ``k`` natural log-moneyness, ``w`` total variance (vol**2 * years), ``tau`` years
ACT/365, vols decimals. The Rust grid kernel evaluates the same smile (``svi`` of
``alvh._native.scenario_grid``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from alvh._core.checks import bad, check_fields, finite_number, plain_date
from alvh._core.types import FloatArray
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.term import VixTermStructure

if TYPE_CHECKING:
    pass

__all__ = [
    "CALENDAR_TOLERANCE",
    "DEFAULT_K_GRID",
    "PARAMS",
    "ButterflyCheck",
    "CalendarCheck",
    "SliceFit",
    "SviSlice",
    "SviSurface",
    "calendar_check",
    "fit_slice",
    "svi_smile",
    "svi_total_variance",
]


#: The raw SVI parameters, in the order of the grid kernel's per-leg shapes.
PARAMS = ("a", "b", "rho", "m", "sigma")

#: Default log-moneyness grid of the arbitrage checks: ``ln(K/F)`` from -1.5 to 1.5
#: (strikes 0.22x to 4.5x the forward, every listed SPX strike), 1201 points.
DEFAULT_K_GRID = np.linspace(-1.5, 1.5, 1201)

#: Total variance drops smaller than this count as rounding, not calendar arbitrage.
CALENDAR_TOLERANCE = 1e-12


def _k_grid(k: Any) -> FloatArray:
    grid = DEFAULT_K_GRID if k is None else np.asarray(k, dtype=np.float64).reshape(-1)
    if grid.size == 0 or not np.isfinite(grid).all():
        raise InvalidInputError("k must be a non-empty grid of finite log-moneyness values")
    return grid


def svi_total_variance(k: Any, a: Any, b: Any, rho: Any, m: Any, sigma: Any) -> FloatArray:
    """Raw SVI total variance ``a + b * (rho * (k - m) + sqrt((k - m)**2 + sigma**2))``,
    vectorized over every argument (no checks: see `SviSlice` for those)."""
    km = np.asarray(k, dtype=np.float64) - m
    return np.asarray(a + b * (rho * km + np.sqrt(km * km + sigma * sigma)), dtype=np.float64)


# --------------------------------------------------------------------------- one slice


@dataclass(frozen=True)
class SviSlice:
    """One expiry's raw SVI smile in total variance (see the module doc).

    ``a`` (total variance level), ``b >= 0`` (wing slope), ``|rho| < 1`` (skew),
    ``m`` (horizontal shift, log-moneyness), ``sigma > 0`` (ATM curvature scale,
    log-moneyness), with ``a + b * sigma * sqrt(1 - rho**2) >= 0`` (the minimum of
    ``w``, so ``w >= 0``) and ``w(0) > 0``. ``atm_ratio`` (default 1.0, positive):
    the slice's ATM vol over the term structure's ATM vol of its expiry, recorded at
    fit time (`SviSurface`). A bad value raises `InvalidInputError` naming the field.
    """

    a: float
    b: float
    rho: float
    m: float
    sigma: float
    atm_ratio: float = 1.0

    def __post_init__(self) -> None:
        for name in ("a", "m"):
            object.__setattr__(self, name, finite_number(name, getattr(self, name)))
        check_fields(
            self,
            {
                "b": (0.0, math.inf, False),
                "sigma": (0.0, math.inf, True),
                "atm_ratio": (0.0, 10.0, True),
            },
        )
        rho = finite_number("rho", self.rho)
        if not -1.0 < rho < 1.0:
            raise bad("rho", rho, "strictly between -1 and 1")
        object.__setattr__(self, "rho", rho)
        if self.min_total_variance < 0.0:
            raise bad(
                "a",
                self.a,
                f"at least -b * sigma * sqrt(1 - rho**2) = "
                f"{-self.b * self.sigma * math.sqrt(1.0 - self.rho**2):.6g} "
                f"(the minimum of w(k) must not be negative)",
            )
        if not self.w0 > 0.0:
            raise bad("a", self.a, "such that the ATM total variance w(0) is positive")

    @property
    def min_total_variance(self) -> float:
        """``min_k w(k) = a + b * sigma * sqrt(1 - rho**2)``."""
        return self.a + self.b * self.sigma * math.sqrt(1.0 - self.rho * self.rho)

    @property
    def w0(self) -> float:
        """The ATM (``k = 0``) total variance ``w(0)``."""
        return float(self.total_variance(0.0))

    def params(self) -> tuple[float, float, float, float, float]:
        """``(a, b, rho, m, sigma)``."""
        return (self.a, self.b, self.rho, self.m, self.sigma)

    def total_variance(self, k: Any) -> FloatArray:
        """``w(k)`` at log-moneyness ``k = ln(K/F)``, vectorized."""
        return svi_total_variance(k, *self.params())

    def implied_vol(self, k: Any, tau: Any) -> FloatArray:
        """``sqrt(w(k) / tau)``: the slice's Black-Scholes vol at tenor ``tau`` (years)."""
        return np.asarray(np.sqrt(self.total_variance(k) / np.asarray(tau)), dtype=np.float64)

    def derivatives(self, k: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(w, dw/dk, d2w/dk2)`` at ``k``, vectorized."""
        km = np.asarray(k, dtype=np.float64) - self.m
        root = np.sqrt(km * km + self.sigma * self.sigma)
        w = self.a + self.b * (self.rho * km + root)
        dw = self.b * (self.rho + km / root)
        d2w = self.b * self.sigma * self.sigma / root**3
        return w, dw, d2w

    def density_factor(self, k: Any) -> FloatArray:
        """Gatheral & Jacquier's ``g(k) = (1 - k w'/(2w))**2 - (w'**2/4)(1/w + 1/4) + w''/2``:
        the risk-neutral density is ``g(k)`` times a positive factor, so ``g < 0``
        anywhere is a butterfly arbitrage."""
        w, dw, d2w = self.derivatives(k)
        k_arr = np.asarray(k, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (1.0 - k_arr * dw / (2.0 * w)) ** 2 - dw * dw / 4.0 * (1.0 / w + 0.25) + d2w / 2.0
        return np.asarray(g, dtype=np.float64)

    def butterfly_check(self, k: Any = None, *, expiry: date | None = None) -> ButterflyCheck:
        """Evaluates ``g`` on the log-moneyness grid ``k`` (default `DEFAULT_K_GRID`)."""
        grid = _k_grid(k)
        g = self.density_factor(grid)
        worst = int(np.nanargmin(g))
        bad = grid[~(g >= 0.0)]
        return ButterflyCheck(
            expiry=expiry,
            arbitrage_free=bad.size == 0,
            min_g=float(g[worst]),
            k_at_min=float(grid[worst]),
            k_range=(float(bad.min()), float(bad.max())) if bad.size else None,
        )


@dataclass(frozen=True)
class ButterflyCheck:
    """Gatheral's ``g(k) >= 0`` on a log-moneyness grid: ``arbitrage_free``, the
    minimum ``min_g`` and where (``k_at_min``), and the ``k_range`` (lowest, highest
    ``k``) where ``g < 0`` (None when free of arbitrage)."""

    expiry: date | None
    arbitrage_free: bool
    min_g: float
    k_at_min: float
    k_range: tuple[float, float] | None


@dataclass(frozen=True)
class CalendarCheck:
    """Total variance of two consecutive slices, ``earlier`` and ``later``: calendar
    arbitrage where ``w_later(k) < w_earlier(k)``. ``max_drop`` is the largest
    ``w_earlier - w_later`` on the grid (<= 0 when free of arbitrage), at ``k_at_max``."""

    earlier: date
    later: date
    arbitrage_free: bool
    max_drop: float
    k_at_max: float


# --------------------------------------------------------------------------- the surface


def _day_numbers(expiry: Any) -> NDArray[np.int64]:
    """Days since 1970-01-01 of a date or an array of dates."""
    try:
        days = np.asarray(expiry, dtype="datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"expiry must be a date or an array of dates: {exc}") from exc
    return days.astype(np.int64)


def _required_expiry(expiry: Any) -> Any:
    if expiry is None:
        raise InvalidInputError(
            "expiry is required with an SviSurface (its smile and ATM ratio are per expiry)"
        )
    return expiry


@dataclass(frozen=True)
class SviSurface:
    """SVI slices keyed by expiry date over a `VixTermStructure` (``base``).

    See the module doc (`alvh.market.svi`) for how the ATM level follows the VIX and time,
    the sticky-moneyness smile and the rule for expiries without a slice. The
    smile's ``floor_ratio`` is that of ``base``, its clip ``moneyness_limit`` (default 4
    standard deviations) its own; ``base``'s
    ``atm_vix_ratio`` drives the ATM term structure (and the ``parallel`` dynamics of
    `Market.bump`), as in the default model. Build one with `alvh.fit_svi`
    (`alvh.market.fit`) from an option chain, or from known parameters:
    ``SviSurface({date(2025, 3, 21): SviSlice(a=..., ...)}, base=VixTermStructure())``.
    """

    slices: Mapping[date, SviSlice]
    base: VixTermStructure = field(default_factory=VixTermStructure)
    moneyness_limit: float = 4.0

    def __post_init__(self) -> None:
        if not isinstance(self.slices, Mapping):
            raise InputTypeError(
                f"slices must be a mapping of expiry date to SviSlice, got {type(self.slices).__name__}"
            )
        if not self.slices:
            raise InvalidInputError("an SviSurface needs at least one slice")
        for expiry, svi_slice in self.slices.items():
            plain_date("slices expiry", expiry)
            if not isinstance(svi_slice, SviSlice):
                raise InputTypeError(
                    f"slices[{expiry.isoformat()}] must be an SviSlice, got {type(svi_slice).__name__}"
                )
        if not isinstance(self.base, VixTermStructure):
            raise InputTypeError(f"base must be a VixTermStructure, got {type(self.base).__name__}")
        if self.base.atm_vix_ratio is None:
            raise InvalidInputError(
                "base.atm_vix_ratio must be set (an SsviSurface is solved by the Market holding it: "
                "use market.vol_model)"
            )
        check_fields(self, {"moneyness_limit": (0.0, 20.0, True)})
        ordered = dict(sorted(self.slices.items()))
        object.__setattr__(self, "slices", MappingProxyType(ordered))

    def __hash__(self) -> int:
        return hash((tuple(self.slices.items()), self.base, self.moneyness_limit))

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mapping view does not pickle; rebuild from a plain dict.
        return (SviSurface, (dict(self.slices), self.base, self.moneyness_limit))

    # -- the base model's parameters the market uses
    @property
    def atm_vix_ratio(self) -> float:
        """The ATM/VIX ratio of the term structure (``base.atm_vix_ratio``)."""
        return self.base.atm_vix_ratio

    @property
    def ratio(self) -> float:
        """The same (``base.ratio``), as on `VixTermStructure`."""
        return self.base.ratio

    @property
    def floor_ratio(self) -> float:
        """No vol below this times the ATM vol (``base.floor_ratio``)."""
        return self.base.floor_ratio

    @property
    def expiries(self) -> tuple[date, ...]:
        """The slices' expiries, ascending."""
        return tuple(self.slices)

    # -- per expiry
    def _knots(self) -> NDArray[np.int64]:
        return _day_numbers(list(self.slices))

    def atm_ratio(self, expiry: Any) -> FloatArray:
        """The ATM ratio of each expiry: the slice's own, linear in expiry date between
        slices, flat beyond the first and last (vectorized)."""
        ratios = np.array([s.atm_ratio for s in self.slices.values()], dtype=np.float64)
        days = _day_numbers(expiry)
        return np.asarray(np.interp(days, self._knots(), ratios), dtype=np.float64)

    def nearest_slice_index(self, expiry: Any) -> NDArray[np.int64]:
        """Index (in `expiries`) of the slice nearest each expiry in date; ties go to
        the later slice."""
        knots = self._knots()
        days = _day_numbers(expiry)
        right = np.clip(np.searchsorted(knots, days, side="left"), 0, knots.size - 1)
        left = np.clip(right - 1, 0, knots.size - 1)
        # On a tie (equal distance) the later slice wins: `<` keeps `right`.
        use_left = np.abs(days - knots[left]) < np.abs(knots[right] - days)
        return np.asarray(np.where(use_left, left, right), dtype=np.int64)

    def shapes(self, expiry: Any) -> FloatArray:
        """``(a, b, rho, m, sigma, w0)`` of the smile used at each expiry, shaped
        ``expiry.shape + (6,)`` (the per-leg shapes of the grid kernel)."""
        table = np.array([(*s.params(), s.w0) for s in self.slices.values()], dtype=np.float64)
        return np.asarray(table[self.nearest_slice_index(expiry)], dtype=np.float64)

    # -- the vol model interface of `Market` (that of `SsviSurface`, with the expiry)
    def atm_vol_rows(
        self,
        tau: FloatArray,
        *,
        vix: FloatArray,
        future_taus: FloatArray,
        future_prices: FloatArray,
        expiry: Any = None,
    ) -> FloatArray:
        """`atm_vol` for several VIX scenarios: ``(V, L)`` for tenors and expiries ``(L,)``
        (`VixTermStructure.atm_vol_rows` times each expiry's ATM ratio)."""
        model_atm = self.base.atm_vol_rows(tau, vix=vix, future_taus=future_taus, future_prices=future_prices)
        ratio = self.atm_ratio(_required_expiry(expiry)).reshape(1, -1)
        return np.asarray(ratio * model_atm, dtype=np.float64)

    def atm_vol(
        self,
        tau: Any,
        *,
        vix: float,
        future_taus: Any = (),
        future_prices: Any = (),
        expiry: Any = None,
    ) -> FloatArray:
        """ATM vol at tenors ``tau`` (years) of the expiries ``expiry``: ``atm_ratio(expiry)``
        times the base model's ATM vol (`VixTermStructure.atm_vol`)."""
        model_atm = self.base.atm_vol(tau, vix=vix, future_taus=future_taus, future_prices=future_prices)
        return np.asarray(self.atm_ratio(_required_expiry(expiry)) * model_atm, dtype=np.float64)

    def smile(self, *, strike: Any, forward: Any, tau: Any, atm: Any, expiry: Any = None) -> FloatArray:
        """``sigma(K)`` around ``atm`` at forward ``forward``, tenor ``tau`` and the smile
        of ``expiry``, vectorized (sticky standardized moneyness, see the module doc)."""
        params = np.moveaxis(self.shapes(_required_expiry(expiry)), -1, 0)
        strike_a, forward_a, tau_a, atm_a, *shape = np.broadcast_arrays(
            *(np.asarray(x, dtype=np.float64) for x in (strike, forward, tau, atm)), *params
        )
        return svi_smile(
            strike_a,
            forward_a,
            tau_a,
            atm_a,
            *shape,
            floor_ratio=self.floor_ratio,
            moneyness_limit=self.moneyness_limit,
        )

    # -- diagnostics
    def butterfly_checks(self, k: Any = None) -> dict[date, ButterflyCheck]:
        """`SviSlice.butterfly_check` of every slice on the grid ``k``."""
        return {e: s.butterfly_check(k, expiry=e) for e, s in self.slices.items()}

    def calendar_checks(self, k: Any = None) -> tuple[CalendarCheck, ...]:
        """`calendar_check` of the slices."""
        return calendar_check(self.slices, k)


def svi_smile(
    strike: Any,
    forward: Any,
    tau: Any,
    atm: Any,
    a: Any,
    b: Any,
    rho: Any,
    m: Any,
    sigma: Any,
    w0: Any,
    *,
    floor_ratio: float,
    moneyness_limit: float,
) -> FloatArray:
    """The SVI smile in sticky standardized moneyness, op for op as the grid kernel:
    ``x = clip(ln(K/F) / (atm sqrt(tau)), +-limit)`` (0 at ``tau == 0``),
    ``sigma(K) = atm * max(sqrt(w(x sqrt(w0)) / w0), floor_ratio)``."""
    strike_a, forward_a, tau_a, atm_a = (np.asarray(v, dtype=np.float64) for v in (strike, forward, tau, atm))
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log(strike_a / forward_a) / (atm_a * np.sqrt(tau_a))
    x = np.where(tau_a > 0.0, x, 0.0)
    x = np.clip(x, -moneyness_limit, moneyness_limit)
    k = x * np.sqrt(w0) - m
    w = a + b * (rho * k + np.sqrt(k * k + sigma * sigma))
    ratio = np.maximum(np.sqrt(np.maximum(w, 0.0) / w0), floor_ratio)
    return np.asarray(atm_a * ratio, dtype=np.float64)


def calendar_check(slices: Mapping[date, SviSlice], k: Any = None) -> tuple[CalendarCheck, ...]:
    """Consecutive slices (by expiry) compared on the log-moneyness grid ``k`` (default
    `DEFAULT_K_GRID`): total variance must not fall with expiry at any ``k``
    (drops under `CALENDAR_TOLERANCE` are rounding)."""
    grid = _k_grid(k)
    ordered = sorted(slices.items())
    checks = []
    for (early, s_early), (late, s_late) in zip(ordered, ordered[1:]):
        drop = s_early.total_variance(grid) - s_late.total_variance(grid)
        worst = int(np.argmax(drop))
        checks.append(
            CalendarCheck(
                earlier=early,
                later=late,
                arbitrage_free=bool(drop[worst] <= CALENDAR_TOLERANCE),
                max_drop=float(drop[worst]),
                k_at_max=float(grid[worst]),
            )
        )
    return tuple(checks)


# --------------------------------------------------------------------------- fitting one slice


@dataclass(frozen=True)
class SliceFit:
    """The least-squares fit of one expiry: the ``slice`` (``atm_ratio`` 1.0, set by the
    caller), and `scipy.optimize.least_squares`'s ``success``, ``message``, ``nfev``."""

    slice: SviSlice
    success: bool
    message: str
    nfev: int


def _params_from_search(x: FloatArray) -> tuple[float, float, float, float, float]:
    """(a, b, rho, m, sigma) from the search variables (min w, b, rho, m, sigma)."""
    w_min, b, rho, m, sigma = (float(v) for v in x)
    return w_min - b * sigma * math.sqrt(1.0 - rho * rho), b, rho, m, sigma


def _quasi_explicit_start(k: FloatArray, w: FloatArray, weight_w: FloatArray, residual: Any) -> FloatArray:
    """A starting point by Zeliade's quasi-explicit reduction (Zeliade Systems 2009,
    "Quasi-explicit calibration of Gatheral's SVI model"): for fixed ``(m, sigma)``,
    ``w = a + d*y + c*sqrt(y**2 + 1)`` with ``y = (k - m) / sigma`` is linear in
    ``(a, d, c)`` (``c = b*sigma``, ``d = rho*b*sigma``). A grid of ``(m, sigma)`` is
    solved by weighted linear least squares, each solution projected onto the
    constraints, and the best by the vol residual returned (as search variables)."""
    span = max(float(k.max() - k.min()), 1e-3)
    best: tuple[float, FloatArray] | None = None
    for m in np.linspace(k.min() - 0.25 * span, k.max() + 0.25 * span, 13):
        for sigma in np.geomspace(0.02 * span, 2.0 * span, 12):
            y = (k - m) / sigma
            design = np.column_stack((np.ones_like(y), y, np.sqrt(y * y + 1.0)))
            coef, *_ = np.linalg.lstsq(design * weight_w[:, None], w * weight_w, rcond=None)
            a, d, c = (float(v) for v in coef)
            c = max(c, 1e-8)
            rho = float(np.clip(d / c, -0.98, 0.98))
            b = c / sigma
            w_min = max(a + c * math.sqrt(1.0 - rho * rho), 1e-10)
            x = np.array([w_min, b, rho, m, sigma])
            cost = float(np.sum(residual(x) ** 2))
            if math.isfinite(cost) and (best is None or cost < best[0]):
                best = (cost, x)
    assert best is not None  # the grid always has finite candidates
    return best[1]


def fit_slice(k: Any, vol: Any, tau: float, weight: Any = None) -> SliceFit:
    """Fit one raw SVI slice to market vols ``vol`` at log-moneyness ``k`` (years ``tau``).

    Minimizes ``sum(weight * (sqrt(w(k)/tau) - vol))**2`` (vol residuals; ``weight``
    default 1) with `scipy.optimize.least_squares` over the bounded search variables
    ``(min w >= 0, 0 <= b <= 2, |rho| <= 0.999, m, sigma > 0)``: the minimum of ``w``
    instead of ``a`` keeps ``w >= 0`` a box constraint, and ``b <= 2`` is Roger Lee's
    moment bound on the wings' slope (``b (1 + |rho|) <= 2``). Starts from the
    quasi-explicit solution (`_quasi_explicit_start`). Needs at least 5 points.
    """
    from scipy.optimize import least_squares

    k_arr = np.asarray(k, dtype=np.float64).reshape(-1)
    vol_arr = np.asarray(vol, dtype=np.float64).reshape(-1)
    weights = np.ones_like(k_arr) if weight is None else np.asarray(weight, dtype=np.float64)
    if not (k_arr.size == vol_arr.size == weights.size):
        raise InvalidInputError(
            f"k, vol and weight must have one length; got {k_arr.size}, {vol_arr.size}, {weights.size}"
        )
    if k_arr.size < len(PARAMS):
        raise InvalidInputError(
            f"an SVI slice needs at least {len(PARAMS)} points (one per parameter); got {k_arr.size}"
        )
    tau = finite_number("tau", tau)
    if tau <= 0.0:
        raise bad("tau", tau, "positive (years)")
    finite = np.isfinite(k_arr) & np.isfinite(vol_arr) & (vol_arr > 0.0) & np.isfinite(weights)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise bad("vol", float(vol_arr[i]), "positive and finite, with finite k and weight", i)

    def residual(x: FloatArray) -> FloatArray:
        w = svi_total_variance(k_arr, *_params_from_search(x))
        return np.asarray(weights * (np.sqrt(np.maximum(w, 0.0) / tau) - vol_arr))

    w_market = vol_arr * vol_arr * tau
    # A vol residual is a total-variance residual over 2 * vol * tau.
    start = _quasi_explicit_start(k_arr, w_market, weights / (2.0 * vol_arr * tau), residual)
    span = max(float(k_arr.max() - k_arr.min()), 1e-3)
    lower = np.array([0.0, 0.0, -0.999, k_arr.min() - 2.0 * span, 1e-6])
    upper = np.array(
        [max(2.0 * float(w_market.max()), 1e-8), 2.0, 0.999, k_arr.max() + 2.0 * span, 10.0 * span + 1.0]
    )
    start = np.clip(start, lower + 1e-12 * (upper - lower), upper - 1e-12 * (upper - lower))
    solution = least_squares(
        residual,
        start,
        bounds=(lower, upper),
        x_scale="jac",
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
        max_nfev=5000,
    )
    a, b, rho, m, sigma = _params_from_search(solution.x)
    return SliceFit(
        slice=SviSlice(a=a, b=b, rho=rho, m=m, sigma=sigma),
        success=bool(solution.success),
        message=str(solution.message),
        nfev=int(solution.nfev),
    )
