"""Fit the SPX vol models to an option chain (`alvh.market.chain.load_chain`):
`fit_ssvi` (the default surface's ``rho``, ``eta``, ``gamma`` and optionally its ATM
level) and `fit_svi` (one raw SVI slice per expiry on the VIX-linked term structure).

**Fit.** Mids become implied vols (`alvh.bsm.implied_vol` with the market's spot, rate,
dividend yield and ``t = market.t(expiry)``); the out-of-the-money options (puts struck
below the forward, calls at or above it) are kept, and the parameters are fitted by least
squares against ``market.spx_vol`` of a candidate market. Residuals are vega-weighted vol
differences by default: a vol residual times the option's vega (at its market vol)
relative to the mean vega, which is a price residual expressed in vol units, so the
low-vega wings, whose mid-implied vols are noisy (a tick there is many vol points), count
less. ``weighting="equal"`` gives plain vol residuals. Every row of the chain appears in
`FitResult.to_polars` with its market and model vol or the reason it was excluded.

**SVI per expiry.** `fit_svi` uses the same rows and weights to fit one raw SVI slice
per expiry with at least `MIN_SVI_ROWS` usable rows (`alvh.market.svi.fit_slice`), on top
of the market's VIX-linked term structure (`alvh.market.svi.SviSurface`); expiries with
fewer rows are listed as skipped. A fitted slice with butterfly arbitrage, or two slices
with a calendar spread violation, make the fit an `InvalidInputError` (refused, not
repaired: a repaired slice no longer fits the quotes it came from, and using it silently
would price the condor's wings off an arbitrage); ``allow_arbitrage=True`` returns the
result anyway, with the violations in the `SviFitResult`, to inspect them.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from alvh import bsm
from alvh._core.types import FloatArray
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.chain import is_loaded_chain, load_chain
from alvh.market.snapshot import Market
from alvh.market.ssvi import SsviSurface
from alvh.market.svi import ButterflyCheck, CalendarCheck, SviSlice, SviSurface, fit_slice
from alvh.market.term import VixTermStructure

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "MIN_SVI_ROWS",
    "REASON_EXPIRED",
    "REASON_EXPIRING",
    "REASON_FEW_ROWS",
    "REASON_ITM",
    "REASON_NO_VOL",
    "REASON_ZERO_BID",
    "WEIGHTINGS",
    "FitResult",
    "SviFitResult",
    "SviSliceReport",
    "fit_ssvi",
    "fit_svi",
]

#: Why a fit leaves a row out (the ``reason`` column of `FitResult.to_polars`).
REASON_EXPIRED = "expired (expiry before the market's as_of)"
REASON_EXPIRING = "expires on the market's as_of (no time value)"
REASON_ZERO_BID = "zero bid (the mid of 0/ask is not a price)"
REASON_ITM = "in the money (the fit uses puts below the forward and calls at or above it)"
REASON_NO_VOL = "no implied vol (mid outside the no-arbitrage bounds)"
#: `fit_svi`: a usable row of an expiry with too few usable rows for a slice.
REASON_FEW_ROWS = "its expiry has too few usable rows for an SVI slice"

#: `fit_svi` fits an expiry's slice from this many usable rows (one per SVI parameter).
MIN_SVI_ROWS = 5

WEIGHTINGS = ("vega", "equal")


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True, eq=False)
class FitResult:
    """The outcome of `fit_ssvi`.

    ``model``: the fitted `SsviSurface`; ``market``: the input market with it;
    ``rmse``: root-mean-square of (model vol - market vol) over the rows used, in vol
    points (1.0 = 1 % vol), unweighted whatever the weighting; ``rows_used`` /
    ``rows_excluded``: counts; ``excluded``: reason -> count of the rows left out;
    ``success`` / ``message`` / ``nfev``: from `scipy.optimize.least_squares`.
    """

    model: SsviSurface
    market: Market
    rmse: float
    rows_used: int
    rows_excluded: int
    excluded: dict[str, int]
    weighting: str
    fit_ratio: bool
    success: bool
    message: str
    nfev: int
    _rows: dict[str, Any] = field(repr=False)

    def to_polars(self) -> pl.DataFrame:
        """One row per chain row: the quote, ``t``, ``forward``, ``mid``, ``market_vol``
        (implied from the mid, null when excluded before or by the solve),
        ``model_vol`` (fitted), ``residual`` (model - market, vol points), ``weight``,
        ``used`` and ``reason`` (null for used rows)."""
        return _rows_frame(self._rows)


def _rows_frame(rows: dict[str, Any]) -> pl.DataFrame:
    import polars as pl

    frame = pl.DataFrame(rows, schema_overrides={"line": pl.Int64, "reason": pl.Utf8})
    return frame.with_columns(
        pl.col(c).fill_nan(None) for c in ("t", "forward", "market_vol", "model_vol", "residual", "weight")
    )


@dataclass(frozen=True, eq=False)
class _ChainRows:
    """A chain's rows prepared for a fit: quotes, ``t``, ``forward``, ``mid``, the implied
    ``market_vol`` of the candidate rows and the exclusion ``reason`` of each row (None
    for a usable row)."""

    frame: pl.DataFrame
    expiry: NDArray[Any]
    strike: FloatArray
    is_call: NDArray[np.bool_]
    bid: FloatArray
    ask: FloatArray
    mid: FloatArray
    t: FloatArray
    forward: FloatArray
    market_vol: FloatArray
    reason: list[str | None]

    @property
    def used(self) -> NDArray[np.bool_]:
        return np.array([r is None for r in self.reason], dtype=bool)

    def excluded(self) -> dict[str, int]:
        return dict(Counter(r for r in self.reason if r is not None))

    def vega(self, rows: NDArray[np.int64], market: Market) -> FloatArray:
        """BSM vega of ``rows`` at their market vols."""
        return bsm.greeks(
            is_call=self.is_call[rows],
            spot=market.spot,
            strike=self.strike[rows],
            t=self.t[rows],
            rate=market.rate,
            div=market.div,
            vol=self.market_vol[rows],
        ).vega

    def table(self, model_vol: FloatArray, weights: FloatArray) -> dict[str, Any]:
        """The columns of `FitResult.to_polars` (residuals in vol points)."""
        frame = self.frame
        return {
            "row": frame.get_column("row").to_list(),
            "line": frame.get_column("line").to_list(),
            "expiry": frame.get_column("expiry").to_list(),
            "strike": self.strike,
            "type": frame.get_column("type").to_list(),
            "bid": self.bid,
            "ask": self.ask,
            "t": self.t,
            "forward": self.forward,
            "mid": self.mid,
            "market_vol": self.market_vol,
            "model_vol": model_vol,
            "residual": (model_vol - self.market_vol) * 100.0,
            "weight": weights,
            "used": self.used,
            "reason": list(self.reason),
        }


def _weights(rows: _ChainRows, use: NDArray[np.int64], market: Market, weighting: str) -> FloatArray:
    """The residual weights of ``use``: vega over its mean (``"vega"``) or ones."""
    if weighting == "vega":
        vega = rows.vega(use, market)
        mean_vega = float(np.mean(vega))
        if mean_vega > 0.0:
            return np.asarray(vega / mean_vega, dtype=np.float64)
    return np.ones(use.size)


def _check_fit_args(market: Any, weighting: Any) -> None:
    if not isinstance(market, Market):
        raise InputTypeError(f"market must be a Market, got {type(market).__name__}")
    if market.scenario_base is not None:
        raise InvalidInputError(
            "market is a scenario state bumped with sticky-strike or parallel dynamics; "
            "fit the smile on a base market"
        )
    if weighting not in WEIGHTINGS:
        raise InvalidInputError(f"weighting must be one of {', '.join(WEIGHTINGS)}; got {weighting!r}")


def _chain_rows(chain: str | os.PathLike[str] | pl.DataFrame, market: Market) -> _ChainRows:
    """Load the chain and sort its rows into usable ones (out of the money, live, with a
    bid, with an implied vol) and excluded ones with their reason."""
    frame: pl.DataFrame = chain if is_loaded_chain(chain) else load_chain(chain)
    n = frame.height

    expiry = np.asarray(frame.get_column("expiry").to_numpy(), dtype="datetime64[D]")
    strike = frame.get_column("strike").to_numpy().astype(np.float64)
    is_call = (frame.get_column("type") == "call").to_numpy()
    bid = frame.get_column("bid").to_numpy().astype(np.float64)
    ask = frame.get_column("ask").to_numpy().astype(np.float64)
    mid = 0.5 * (bid + ask)

    reason: list[str | None] = [None] * n
    days = (expiry - np.datetime64(market.as_of, "D")).astype(np.int64)
    alive = days > 0
    t = np.full(n, np.nan)
    forward = np.full(n, np.nan)
    if alive.any():
        t[alive] = market.t(expiry[alive])
        forward[alive] = market.forward(expiry[alive])
    otm = np.where(is_call, strike >= forward, strike < forward)
    zero_bid = bid == 0.0
    for i in range(n):
        if days[i] < 0:
            reason[i] = REASON_EXPIRED
        elif days[i] == 0:
            reason[i] = REASON_EXPIRING
        elif zero_bid[i]:
            reason[i] = REASON_ZERO_BID
        elif not otm[i]:
            reason[i] = REASON_ITM
    candidates = np.array([r is None for r in reason], dtype=bool)

    market_vol = np.full(n, np.nan)
    if candidates.any():
        idx = np.flatnonzero(candidates)
        market_vol[idx] = bsm.implied_vol(
            price=mid[idx],
            is_call=is_call[idx],
            spot=market.spot,
            strike=strike[idx],
            t=t[idx],
            rate=market.rate,
            div=market.div,
            errors="nan",
        )
        for i in idx[~np.isfinite(market_vol[idx])]:
            reason[int(i)] = REASON_NO_VOL
    return _ChainRows(
        frame=frame,
        expiry=expiry,
        strike=strike,
        is_call=is_call,
        bid=bid,
        ask=ask,
        mid=mid,
        t=t,
        forward=forward,
        market_vol=market_vol,
        reason=reason,
    )


def _too_few_rows(rows: _ChainRows, usable: int, needed: int, what: str) -> InvalidInputError:
    summary = "; ".join(f"{count} {why}" for why, count in rows.excluded().items()) or "none"
    return InvalidInputError(
        f"the chain has {usable} usable rows, fewer than the {needed} {what} "
        f"(of {rows.frame.height} rows; excluded: {summary})"
    )


def _fit_result(
    rows: _ChainRows,
    use: NDArray[np.int64],
    weight: FloatArray,
    fitted: Market,
    model: SsviSurface,
    solution: Any,
    *,
    weighting: str,
    fit_ratio: bool,
) -> FitResult:
    """A fit's `FitResult`: the model vols of the used rows in the fitted market, the
    per-row table, the unweighted RMSE, and the optimizer's outcome."""
    n = rows.frame.height
    model_vol = np.full(n, np.nan)
    model_vol[use] = fitted.spx_vol(rows.strike[use], rows.expiry[use])
    weights = np.full(n, np.nan)
    weights[use] = weight
    table = rows.table(model_vol, weights)
    return FitResult(
        model=model,
        market=fitted,
        rmse=float(np.sqrt(np.mean(table["residual"][use] ** 2))),
        rows_used=int(use.size),
        rows_excluded=n - int(use.size),
        excluded=rows.excluded(),
        weighting=weighting,
        fit_ratio=fit_ratio,
        success=bool(solution.success),
        message=str(solution.message),
        nfev=int(solution.nfev),
        _rows=table,
    )


# --------------------------------------------------------------------------- SSVI


def _ssvi(params: FloatArray, base: SsviSurface, fit_ratio: bool) -> SsviSurface:
    """The candidate surface: ``eta`` as a share of its no-arbitrage bound, so that every
    point the optimizer tries is an arbitrage-free surface."""
    rho, share, gamma = (float(p) for p in params[:3])
    ratio = float(params[3]) if fit_ratio else None
    return replace(base, rho=rho, eta=share * 2.0 / (1.0 + abs(rho)), gamma=gamma, atm_vix_ratio=ratio)


def fit_ssvi(
    chain: str | os.PathLike[str] | pl.DataFrame,
    market: Market,
    *,
    fit_ratio: bool = False,
    weighting: str = "vega",
) -> FitResult:
    """Fit the `SsviSurface` parameters ``rho``, ``eta`` and ``gamma`` to an option chain,
    under the no-arbitrage constraints (``|rho| < 1``, ``0 < gamma <= 1/2``, ``eta (1 +
    |rho|) <= 2``: the fit searches ``eta`` as a share of that bound, so every candidate
    is free of static arbitrage).

    With ``fit_ratio=False`` (the default) each candidate's ATM level is solved from the
    market's VIX (the surface stays VIX-consistent: its own options give back the VIX);
    ``fit_ratio=True`` fits ``atm_vix_ratio`` to the quotes as a fourth parameter instead
    (compare `alvh.market.cboe.model_vix` of the result with the VIX to see how far the
    chain's ATM level is from the index's). Rows and weights as in the module doc;
    ``market.vol_model`` gives the starting point when it is an `SsviSurface` (else the
    defaults).
    """
    from scipy.optimize import least_squares

    _check_fit_args(market, weighting)
    base = market.vol_model if isinstance(market.vol_model, SsviSurface) else SsviSurface()
    rows = _chain_rows(chain, market)
    use = np.flatnonzero(rows.used)
    n_params = 4 if fit_ratio else 3
    if use.size < n_params:
        raise _too_few_rows(rows, int(use.size), n_params, "parameters to fit")
    start_market = replace(market, vol_model=replace(base, atm_vix_ratio=None))
    weight = _weights(rows, use, start_market, weighting)
    used_expiry, used_strike, used_vol = rows.expiry[use], rows.strike[use], rows.market_vol[use]

    def residuals(params: FloatArray) -> FloatArray:
        candidate = replace(market, vol_model=_ssvi(params, base, fit_ratio))
        vols = candidate.spx_vol(used_strike, used_expiry)
        return np.asarray(weight * (vols - used_vol), dtype=np.float64)

    bound = 2.0 / (1.0 + abs(base.rho))
    start = [base.rho, min(base.eta / bound, 1.0), base.gamma]
    lower, upper = [-0.999, 1e-3, 1e-3], [0.999, 1.0, 0.5]
    if fit_ratio:
        start.append(start_market.vol_model.ratio)
        lower.append(1e-3)
        upper.append(5.0)
    start = [min(max(x, lo + 1e-9), hi - 1e-9) for x, lo, hi in zip(start, lower, upper)]
    solution = least_squares(
        residuals,
        np.asarray(start, dtype=np.float64),
        bounds=(lower, upper),
        x_scale="jac",
        xtol=1e-12,
        ftol=1e-12,
        gtol=1e-12,
        max_nfev=400,
    )
    fitted = replace(market, vol_model=_ssvi(solution.x, base, fit_ratio))
    surface = fitted.vol_model if isinstance(fitted.vol_model, SsviSurface) else base
    return _fit_result(rows, use, weight, fitted, surface, solution, weighting=weighting, fit_ratio=fit_ratio)


# --------------------------------------------------------------------------- SVI


@dataclass(frozen=True)
class SviSliceReport:
    """How one expiry's SVI slice fitted: ``tau`` (years) and ``forward`` in the fit
    market, ``rows`` used, ``rmse`` and ``max_error`` of the model vols (vol points,
    unweighted), ``atm_vol`` (the slice's ``sqrt(w(0) / tau)``), ``model_atm`` (the
    term structure's ATM vol of the expiry), ``atm_ratio`` (their ratio) and
    `scipy.optimize.least_squares`'s ``success`` / ``message`` / ``nfev``."""

    expiry: date
    tau: float
    forward: float
    rows: int
    rmse: float
    max_error: float
    atm_vol: float
    model_atm: float
    atm_ratio: float
    success: bool
    message: str
    nfev: int


@dataclass(frozen=True, eq=False)
class SviFitResult:
    """The outcome of `fit_svi`.

    ``model``: the fitted `SviSurface`; ``market``: the input market with it;
    ``slices``: expiry -> `SviSliceReport`; ``skipped``: expiry -> why no slice was
    fitted; ``butterfly``: expiry -> `alvh.market.svi.ButterflyCheck`; ``calendar``: the
    `alvh.market.svi.CalendarCheck` of each pair of consecutive slices; ``rmse``: over every
    row used, vol points; ``rows_used`` / ``rows_excluded`` / ``excluded`` (reason ->
    count) as in `FitResult`. Violations of no-arbitrage are reported, not repaired.
    """

    model: SviSurface
    market: Market
    slices: dict[date, SviSliceReport]
    skipped: dict[date, str]
    butterfly: dict[date, ButterflyCheck]
    calendar: tuple[CalendarCheck, ...]
    rmse: float
    rows_used: int
    rows_excluded: int
    excluded: dict[str, int]
    weighting: str
    _rows: dict[str, Any] = field(repr=False)

    @property
    def success(self) -> bool:
        """Every slice's least-squares solve converged."""
        return all(report.success for report in self.slices.values())

    @property
    def arbitrage_free(self) -> bool:
        """No butterfly and no calendar violation on the checks' grid."""
        return all(c.arbitrage_free for c in self.butterfly.values()) and all(
            c.arbitrage_free for c in self.calendar
        )

    def to_polars(self) -> pl.DataFrame:
        """One row per chain row, with the columns of `FitResult.to_polars`."""
        return _rows_frame(self._rows)

    def slices_to_polars(self) -> pl.DataFrame:
        """One row per fitted expiry: its `SviSliceReport`, the slice's parameters and
        its butterfly check (``butterfly_free``, ``min_g``)."""
        import polars as pl

        records = []
        for expiry, report in self.slices.items():
            svi_slice = self.model.slices[expiry]
            check = self.butterfly[expiry]
            records.append(
                {
                    **{name: getattr(report, name) for name in SviSliceReport.__dataclass_fields__},
                    **dict(zip(("a", "b", "rho", "m", "sigma"), svi_slice.params())),
                    "butterfly_free": check.arbitrage_free,
                    "min_g": check.min_g,
                }
            )
        return pl.DataFrame(records)


def fit_svi(
    chain: str | os.PathLike[str] | pl.DataFrame,
    market: Market,
    *,
    weighting: str = "vega",
    min_rows: int = MIN_SVI_ROWS,
    k: Any = None,
    allow_arbitrage: bool = False,
) -> SviFitResult:
    """Fit one raw SVI slice per expiry of an option chain: an `SviSurface` on top of
    the market's term structure (its solved `SsviSurface`; a market that already holds
    an `SviSurface` keeps that surface's ``base``).

    Rows are chosen as in `fit_ssvi` (out-of-the-money mids with an implied
    vol; see the module doc), and weighted the same way per expiry (``"vega"`` or
    ``"equal"``). Every expiry with at least ``min_rows`` (default 5, one per
    parameter) usable rows gets a slice by `alvh.market.svi.fit_slice` on ``k = ln(K/F)``
    and ``tau = market.t(expiry)``; its ``atm_ratio`` is ``sqrt(w(0) / tau)`` over the
    base model's ATM vol of that expiry in ``market``. Other expiries are listed in
    ``skipped`` with the reason (their usable rows are marked with `REASON_FEW_ROWS`).
    The slices are checked for butterfly (Gatheral's ``g(k) >= 0``) and calendar
    arbitrage on the log-moneyness grid ``k`` (default `alvh.market.svi.DEFAULT_K_GRID`):
    a violation is an `InvalidInputError` naming the expiry and the condition, unless
    ``allow_arbitrage=True`` (the result then carries the violations, to inspect them).

    Raises `InvalidInputError` when no expiry has ``min_rows`` usable rows, for a
    scenario (bumped) market, and for an unknown ``weighting``.
    """
    from alvh.market.svi import DEFAULT_K_GRID

    _check_fit_args(market, weighting)
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < MIN_SVI_ROWS:
        raise InvalidInputError(
            f"min_rows must be an int of at least {MIN_SVI_ROWS} (one row per SVI "
            f"parameter); got {min_rows!r}"
        )
    model = market.vol_model
    base = model.base if isinstance(model, SviSurface) else model
    future_taus, future_prices = market.futures.pillars(as_of=market.as_of, vix=market.vix)
    rows = _chain_rows(chain, market)
    n = rows.frame.height
    usable = np.flatnonzero(rows.used)
    if usable.size < min_rows:
        raise _too_few_rows(rows, int(usable.size), min_rows, "rows an SVI slice needs")

    slices: dict[date, SviSlice] = {}
    reports: dict[date, SviSliceReport] = {}
    skipped: dict[date, str] = {}
    weights = np.full(n, np.nan)
    fitted_rows: dict[date, NDArray[np.int64]] = {}
    reason = rows.reason
    for expiry64 in np.unique(rows.expiry):
        expiry: date = expiry64.item()
        in_expiry = rows.expiry == expiry64
        use = np.flatnonzero(in_expiry & rows.used)
        if use.size < min_rows:
            skipped[expiry] = (
                f"{use.size} usable rows, fewer than the {min_rows} an SVI slice needs "
                f"(of {int(in_expiry.sum())} rows)"
            )
            for i in use.tolist():
                reason[i] = REASON_FEW_ROWS
            continue
        tau = float(rows.t[use[0]])
        log_moneyness = np.log(rows.strike[use] / rows.forward[use])
        weight = _weights(rows, use, market, weighting)
        fit = fit_slice(log_moneyness, rows.market_vol[use], tau, weight)
        atm_vol = math.sqrt(fit.slice.w0 / tau)
        model_atm = float(
            base.atm_vol(tau, vix=market.vix, future_taus=future_taus, future_prices=future_prices)
        )
        slices[expiry] = replace(fit.slice, atm_ratio=atm_vol / model_atm)
        weights[use] = weight
        fitted_rows[expiry] = use
        reports[expiry] = SviSliceReport(
            expiry=expiry,
            tau=tau,
            forward=float(rows.forward[use[0]]),
            rows=int(use.size),
            rmse=math.nan,
            max_error=math.nan,
            atm_vol=atm_vol,
            model_atm=model_atm,
            atm_ratio=atm_vol / model_atm,
            success=fit.success,
            message=fit.message,
            nfev=fit.nfev,
        )
    if not slices:
        raise InvalidInputError(
            f"no expiry of the chain has the {min_rows} usable rows an SVI slice needs: "
            + "; ".join(f"{e.isoformat()}: {why}" for e, why in skipped.items())
        )
    # The slices ride on the term structure alone (a solved SSVI base keeps only its level).
    term = VixTermStructure(atm_vix_ratio=base.atm_vix_ratio, floor_ratio=base.floor_ratio)
    surface = SviSurface(slices, base=term)
    grid = DEFAULT_K_GRID if k is None else k
    butterfly, calendar = surface.butterfly_checks(grid), surface.calendar_checks(grid)
    if not allow_arbitrage:
        _refuse_arbitrage(butterfly, calendar)
    fitted = replace(market, vol_model=surface)
    used = rows.used
    use_all = np.flatnonzero(used)
    model_vol = np.full(n, np.nan)
    live = np.isfinite(rows.t)
    model_vol[live] = fitted.spx_vol(rows.strike[live], rows.expiry[live])
    table = rows.table(model_vol, weights)
    for expiry, use in fitted_rows.items():
        errors = table["residual"][use]
        reports[expiry] = replace(
            reports[expiry],
            rmse=float(np.sqrt(np.mean(errors**2))),
            max_error=float(np.abs(errors).max()),
        )
    return SviFitResult(
        model=surface,
        market=fitted,
        slices=reports,
        skipped=skipped,
        butterfly=butterfly,
        calendar=calendar,
        rmse=float(np.sqrt(np.mean(table["residual"][use_all] ** 2))),
        rows_used=int(use_all.size),
        rows_excluded=n - int(use_all.size),
        excluded=rows.excluded(),
        weighting=weighting,
        _rows=table,
    )


def _refuse_arbitrage(butterfly: dict[date, ButterflyCheck], calendar: tuple[CalendarCheck, ...]) -> None:
    """`fit_svi`'s refusal: the first slice with butterfly arbitrage, or pair of slices with
    a calendar spread violation, as an `InvalidInputError`."""
    for expiry, check in butterfly.items():
        if not check.arbitrage_free:
            low, high = check.k_range or (check.k_at_min, check.k_at_min)
            raise InvalidInputError(
                f"the SVI slice fitted to expiry {expiry.isoformat()} has butterfly arbitrage "
                f"(Gatheral's density factor g(k) < 0 for k = ln(K/F) in [{low:.3f}, {high:.3f}], "
                f"min g = {check.min_g:.3g}); refusing to use it (fit_svi(..., allow_arbitrage=True) "
                "returns it to inspect, fit_ssvi fits an arbitrage-free surface)"
            )
    for pair in calendar:
        if not pair.arbitrage_free:
            raise InvalidInputError(
                f"the SVI slices of {pair.earlier.isoformat()} and {pair.later.isoformat()} have "
                f"calendar arbitrage (total variance falls by {pair.max_drop:.3g} at k = "
                f"{pair.k_at_max:.3f}); refusing to use them (fit_svi(..., allow_arbitrage=True) "
                "returns them to inspect, fit_ssvi fits an arbitrage-free surface)"
            )
