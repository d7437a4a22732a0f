"""Model-free SSVI slices of an option chain: `fit_ssvi_slices` fits, for each expiry,
the SSVI smile ``w(k) = theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2))``
(`alvh.market.ssvi`) with its own ``theta``, ``rho`` and ``phi`` (the per-expiry
"SSVI slice" of Gatheral & Jacquier 2014, section 4, and Corbetta et al. 2019), from the
chain alone: no spot, rate or VIX is needed.

**Forward and discount per expiry** come from put-call parity, ``C - P = D (F - K)``:
a least-squares line through the (up to) `PARITY_STRIKES` strikes, both sides bid, whose
call and put mids are closest (those are the most liquid, nearest the money); its slope
is ``-D`` and its intercept ``D F``. An expiry with fewer than 3 such strikes, or a
parity line that gives ``D`` outside (0, 1.5] or ``F <= 0``, is skipped with the reason.

**Vols.** Each out-of-the-money mid (puts below the parity forward, calls at or above it,
with a bid) becomes a Black-76 vol at that forward and discount; strikes outside
``|k| <= max_abs_k`` are left out (the far wings are quoted at a tick, where a mid is not
a price).

**Fit.** Least squares over ``(theta, rho, psi = theta phi)`` with ``psi`` searched as a
share of the slice's butterfly bound ``min(4 / (1 + |rho|), 2 sqrt(theta / (1 + |rho|)))``
(their Theorem 4.2: ``theta phi (1 + |rho|) < 4`` and ``theta phi^2 (1 + |rho|) <= 4``), so
every slice returned is free of butterfly arbitrage. Residuals are vol differences,
vega-weighted by default as in `alvh.market.fit` (``weighting="equal"`` for plain ones).

**What it is for.** A per-expiry ATM level (``theta``), skew and curvature read straight
off a chain; ``eta_at_gamma``: the power-law ``eta`` that gives the slice's ``phi`` at its
``theta`` for the ``gamma`` asked (``phi theta^gamma (1 + theta)^(1 - gamma)``), which is
how `alvh.market.ssvi.SsviSurface`'s defaults are tied to the bundled SPX chain
(`reference_chain`). The ``calendar_ok`` column says whether the slice's total variance
lies at or above the previous expiry's at every ``k`` of a grid on ``[-1, 0.5]``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh import black76
from alvh._core.types import FloatArray
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.chain import is_loaded_chain, load_chain
from alvh.market.conventions import DAYS_PER_YEAR
from alvh.market.ssvi import ssvi_total_variance

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "MIN_SLICE_ROWS",
    "PARITY_STRIKES",
    "REFERENCE_CHAIN_AS_OF",
    "SliceFit",
    "fit_ssvi_slices",
    "reference_chain",
]

#: Strikes (nearest the money by |call mid - put mid|) the parity line is fitted through.
PARITY_STRIKES = 10
#: An expiry is fitted from at least this many out-of-the-money vols.
MIN_SLICE_ROWS = 6
#: The quote date of `reference_chain` (see `REFERENCE_CHAIN_FILE`'s SOURCES.md).
REFERENCE_CHAIN_AS_OF = date(2026, 4, 2)

_SAMPLE = Path(__file__).resolve().parent / "sample"
REFERENCE_CHAIN_FILE = _SAMPLE / "spx_chain_2026-04-02.csv"

_WEIGHTINGS = ("vega", "equal")
_CALENDAR_K = np.linspace(-1.0, 0.5, 151)


def reference_chain() -> pl.DataFrame:
    """The bundled real SPX chain: all strikes of the 2026-06-30 expiry as quoted at the
    2026-04-02 close (a `load_chain` frame; provenance and licence in
    ``alvh/market/sample/SOURCES.md``). `SsviSurface`'s default ``rho`` and ``eta`` are
    its `fit_ssvi_slices` fit."""
    return load_chain(REFERENCE_CHAIN_FILE)


@dataclass(frozen=True)
class SliceFit:
    """One expiry's fitted slice (a row of `fit_ssvi_slices`'s frame)."""

    expiry: date
    days: int
    t: float
    forward: float
    discount: float
    rows_used: int
    theta: float
    rho: float
    phi: float
    rmse: float
    success: bool

    @property
    def atm_vol(self) -> float:
        return math.sqrt(self.theta / self.t)

    def eta_at(self, gamma: float) -> float:
        """The power-law ``eta`` whose ``phi(theta)`` equals this slice's ``phi``."""
        return self.phi * self.theta**gamma * (1.0 + self.theta) ** (1.0 - gamma)

    def total_variance(self, k: Any) -> FloatArray:
        """``w(k)`` of this slice (``phi`` as ``eta`` with ``gamma = 0``)."""
        eta = self.phi * (1.0 + self.theta)  # phi(theta) = eta / (1 + theta) at gamma 0
        return ssvi_total_variance(k, self.theta, rho=self.rho, eta=eta, gamma=0.0)


def _bound(theta: float, rho: float) -> float:
    """The largest ``psi = theta phi`` free of butterfly arbitrage (module doc)."""
    a = 1.0 + abs(rho)
    return min(4.0 / a, 2.0 * math.sqrt(theta / a))


def _parity(strike: FloatArray, call_mid: FloatArray, put_mid: FloatArray) -> tuple[float, float] | str:
    """``(forward, discount)`` from the parity line, or why there is none."""
    if strike.size < 3:
        return f"{strike.size} strikes with both a call and a put bid, fewer than 3 for put-call parity"
    nearest = np.argsort(np.abs(call_mid - put_mid), kind="stable")[:PARITY_STRIKES]
    design = np.column_stack([np.ones(nearest.size), -strike[nearest]])
    (intercept, discount), *_ = np.linalg.lstsq(design, call_mid[nearest] - put_mid[nearest], rcond=None)
    if not (0.0 < discount <= 1.5) or intercept <= 0.0:
        return f"put-call parity gives discount {discount:.6g} and forward x discount {intercept:.6g}"
    return float(intercept / discount), float(discount)


def _pairs(frame: pl.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Strikes quoted with a bid on both sides and their call and put mids."""
    import polars as pl

    live = frame.filter(pl.col("bid") > 0.0).with_columns(mid=(pl.col("bid") + pl.col("ask")) / 2.0)
    calls = live.filter(pl.col("type") == "call").group_by("strike").agg(pl.col("mid").mean().alias("c"))
    puts = live.filter(pl.col("type") == "put").group_by("strike").agg(pl.col("mid").mean().alias("p"))
    both = calls.join(puts, on="strike").sort("strike")
    return (
        both.get_column("strike").to_numpy().astype(np.float64),
        both.get_column("c").to_numpy().astype(np.float64),
        both.get_column("p").to_numpy().astype(np.float64),
    )


def _fit_slice(
    k: FloatArray, vol: FloatArray, weight: FloatArray, t: float
) -> tuple[float, float, float, Any]:
    """``(theta, rho, phi, solution)`` of one expiry (module doc)."""
    from scipy.optimize import least_squares

    atm = float(np.interp(0.0, k, vol)) if k.min() < 0.0 < k.max() else float(vol[np.argmin(np.abs(k))])
    theta0 = atm * atm * t

    def unpack(x: FloatArray) -> tuple[float, float, float]:
        theta, rho, share = (float(v) for v in x)
        return theta, rho, share * _bound(theta, rho) / theta

    def residuals(x: FloatArray) -> FloatArray:
        theta, rho, phi = unpack(x)
        w = ssvi_total_variance(k, theta, rho=rho, eta=phi * (1.0 + theta), gamma=0.0)
        return np.asarray(weight * (np.sqrt(np.maximum(w, 0.0) / t) - vol), dtype=np.float64)

    solution = least_squares(
        residuals,
        np.array([theta0, -0.5, 0.5]),
        bounds=([theta0 * 0.25, -0.999, 1e-4], [theta0 * 4.0, 0.999, 1.0]),
        x_scale="jac",
        xtol=1e-12,
        ftol=1e-12,
        gtol=1e-12,
        max_nfev=2000,
    )
    theta, rho, phi = unpack(solution.x)
    return theta, rho, phi, solution


def fit_ssvi_slices(
    chain: str | os.PathLike[str] | pl.DataFrame,
    *,
    as_of: date,
    weighting: str = "vega",
    max_abs_k: float = 0.5,
    gamma: float = 0.5,
) -> pl.DataFrame:
    """One SSVI slice per expiry of ``chain`` (module doc), a Polars frame sorted by
    expiry: ``expiry``, ``days``, ``t`` (ACT/365 from ``as_of``), ``forward``,
    ``discount``, ``rate`` (``-ln(discount) / t``), ``rows_used``, ``theta``, ``atm_vol``,
    ``rho``, ``phi``, ``eta_at_gamma`` (for ``gamma``), ``rmse`` (unweighted, vol points),
    ``calendar_ok`` and ``skipped`` (why an expiry has no slice; null when fitted).

    Raises `InvalidInputError` naming the argument for a bad ``as_of``, ``weighting``,
    ``max_abs_k`` or ``gamma``, and when no expiry can be fitted (with each one's reason).
    """
    import polars as pl

    if not isinstance(as_of, date):
        raise InputTypeError(f"as_of must be a date, got {type(as_of).__name__}")
    if weighting not in _WEIGHTINGS:
        raise InvalidInputError(f"weighting must be one of {', '.join(_WEIGHTINGS)}; got {weighting!r}")
    if not (isinstance(max_abs_k, (int, float)) and 0.0 < max_abs_k <= 3.0):
        raise InvalidInputError(f"max_abs_k must be in (0, 3]; got {max_abs_k!r}")
    if not (isinstance(gamma, (int, float)) and 0.0 <= gamma <= 1.0):
        raise InvalidInputError(f"gamma must be in [0, 1]; got {gamma!r}")
    frame: pl.DataFrame = chain if is_loaded_chain(chain) else load_chain(chain)

    records: list[dict[str, Any]] = []
    previous: SliceFit | None = None
    for expiry in sorted(frame.get_column("expiry").unique().to_list()):
        days = (expiry - as_of).days
        record: dict[str, Any] = {"expiry": expiry, "days": days}
        fit = None
        if days <= 0:
            record["skipped"] = f"expires on or before as_of {as_of.isoformat()}"
        else:
            fit, why = _expiry_slice(
                frame.filter(pl.col("expiry") == expiry), expiry, days, weighting, max_abs_k
            )
            record["skipped"] = why
        if fit is not None:
            calendar_ok = previous is None or bool(
                np.all(fit.total_variance(_CALENDAR_K) >= previous.total_variance(_CALENDAR_K) - 1e-12)
            )
            record.update(
                t=fit.t,
                forward=fit.forward,
                discount=fit.discount,
                rate=-math.log(fit.discount) / fit.t,
                rows_used=fit.rows_used,
                theta=fit.theta,
                atm_vol=fit.atm_vol,
                rho=fit.rho,
                phi=fit.phi,
                eta_at_gamma=fit.eta_at(gamma),
                rmse=fit.rmse,
                calendar_ok=calendar_ok,
            )
            previous = fit
        records.append(record)
    schema = {
        "expiry": pl.Date,
        "days": pl.Int64,
        "t": pl.Float64,
        "forward": pl.Float64,
        "discount": pl.Float64,
        "rate": pl.Float64,
        "rows_used": pl.Int64,
        "theta": pl.Float64,
        "atm_vol": pl.Float64,
        "rho": pl.Float64,
        "phi": pl.Float64,
        "eta_at_gamma": pl.Float64,
        "rmse": pl.Float64,
        "calendar_ok": pl.Boolean,
        "skipped": pl.Utf8,
    }
    out = pl.DataFrame([{c: r.get(c) for c in schema} for r in records], schema=schema)
    if out.get_column("skipped").null_count() == 0:
        reasons = "; ".join(f"{r['expiry']}: {r['skipped']}" for r in records)
        raise InvalidInputError(f"chain has no expiry an SSVI slice can be fitted to ({reasons})")
    return out


def _expiry_slice(
    quotes: pl.DataFrame, expiry: date, days: int, weighting: str, max_abs_k: float
) -> tuple[SliceFit | None, str | None]:
    """One expiry's `SliceFit`, or None and why not."""
    import polars as pl

    t = days / DAYS_PER_YEAR
    parity = _parity(*_pairs(quotes))
    if isinstance(parity, str):
        return None, parity
    forward, discount = parity
    rate = -math.log(discount) / t
    live = quotes.filter(pl.col("bid") > 0.0)
    strike = live.get_column("strike").to_numpy().astype(np.float64)
    is_call = (live.get_column("type") == "call").to_numpy()
    mid = (live.get_column("bid").to_numpy() + live.get_column("ask").to_numpy()) / 2.0
    k = np.log(strike / forward)
    otm = np.where(is_call, strike >= forward, strike < forward) & (np.abs(k) <= max_abs_k)
    vol = black76.implied_vol(
        price=mid[otm],
        is_call=is_call[otm],
        forward=forward,
        strike=strike[otm],
        t=t,
        rate=rate,
        errors="nan",
    )
    good = np.isfinite(vol)
    k_used, vol_used = k[otm][good], vol[good]
    if k_used.size < MIN_SLICE_ROWS:
        return None, f"{k_used.size} out-of-the-money vols, fewer than {MIN_SLICE_ROWS}"
    order = np.argsort(k_used, kind="stable")
    k_used, vol_used = k_used[order], vol_used[order]
    if weighting == "vega":
        vega = black76.greeks(
            is_call=k_used >= 0.0,
            forward=forward,
            strike=forward * np.exp(k_used),
            t=t,
            rate=rate,
            vol=vol_used,
        ).vega
        weight = vega / float(np.mean(vega))
    else:
        weight = np.ones(k_used.size)
    theta, rho, phi, solution = _fit_slice(k_used, vol_used, weight, t)
    fitted = np.sqrt(ssvi_total_variance(k_used, theta, rho=rho, eta=phi * (1.0 + theta), gamma=0.0) / t)
    return (
        SliceFit(
            expiry=expiry,
            days=days,
            t=t,
            forward=forward,
            discount=discount,
            rows_used=int(k_used.size),
            theta=theta,
            rho=rho,
            phi=phi,
            rmse=float(np.sqrt(np.mean((fitted - vol_used) ** 2)) * 100.0),
            success=bool(solution.success),
        ),
        None,
    )
