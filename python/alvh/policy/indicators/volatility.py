"""Realized volatility from daily OHLC, and the implied-minus-realized spread.

Every estimator returns an **annualized decimal vol** (0.20 = 20 %) over a trailing
window of ``window`` trading days, annualized with ``periods_per_year`` (default 252
trading days): ``sigma = sqrt(periods_per_year * daily_variance)``. Logs are natural.

============================  ==============================================================
estimator                     daily variance over rows ``t-n+1 .. t``
============================  ==============================================================
`close_to_close`              sample variance (n - 1) of ``r = ln(C[t] / C[t-1])``
`parkinson`                   ``mean(ln(H/L)^2) / (4 ln 2)`` (Parkinson 1980)
`garman_klass`                ``mean(0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2)`` (Garman and
                              Klass 1980)
`yang_zhang`                  ``var(o) + k var(c) + (1 - k) mean(rs)`` with overnight
                              ``o = ln(O[t]/C[t-1])``, open-to-close ``c = ln(C/O)`` (sample
                              variances), Rogers-Satchell ``rs = ln(H/C) ln(H/O) +
                              ln(L/C) ln(L/O)`` and ``k = 0.34 / (1.34 + (n+1)/(n-1))``
                              (Yang and Zhang 2000)
============================  ==============================================================

References: M. Parkinson, "The Extreme Value Method for Estimating the Variance of the
Rate of Return", J. Business 53(1), 1980; M. Garman and M. Klass, "On the Estimation of
Security Price Volatilities from Historical Data", J. Business 53(1), 1980; L. Rogers and
S. Satchell, "Estimating Variance from High, Low and Closing Prices", Ann. Appl. Probab.
1(4), 1991; D. Yang and Q. Zhang, "Drift-Independent Volatility Estimation Based on High,
Low, Open, and Close Prices", J. Business 73(3), 2000.

Estimators that use the previous close (close-to-close, Yang-Zhang) are null on the first
``n`` rows; the others on the first ``n - 1``; every estimator is null where a null falls
inside its window. The frame helpers check that prices are finite and > 0 and that each
bar has ``low <= open, close <= high`` (the expression builders cannot raise: they give NaN
on such rows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from alvh._core.checks import input_error
from alvh.policy.indicators import checks

#: Default window, trading days: about one calendar month, the VIX's 30-day horizon.
DEFAULT_WINDOW = 21
#: Trading days per year used to annualize.
TRADING_DAYS = 252
ESTIMATORS = ("close_to_close", "parkinson", "garman_klass", "yang_zhang")

_LN2 = math.log(2.0)


def _annualize(daily_variance: pl.Expr, periods_per_year: int) -> pl.Expr:
    periods = checks.window("periods_per_year", periods_per_year)
    return (daily_variance * float(periods)).sqrt()


def close_to_close(
    close: str | pl.Expr, *, window: int = DEFAULT_WINDOW, periods_per_year: int = TRADING_DAYS
) -> pl.Expr:
    """Close-to-close vol: ``sqrt(periods_per_year) * std(ln(C[t]/C[t-1]))`` over the last
    ``window`` returns, sample std (divisor ``window - 1``); ``window >= 2``. Annualized
    decimal; null on the first ``window`` rows."""
    window = checks.window("window", window, minimum=2)
    price = checks.expr("close", close)
    returns = (price / price.shift(1)).log()
    return checks.named(_annualize(returns.rolling_var(window), periods_per_year), close)


def parkinson(
    high: str | pl.Expr,
    low: str | pl.Expr,
    *,
    window: int = DEFAULT_WINDOW,
    periods_per_year: int = TRADING_DAYS,
) -> pl.Expr:
    """Parkinson (1980) high-low vol: ``sqrt(periods_per_year * mean(ln(H/L)^2) / (4 ln 2))``
    over the last ``window`` days. Annualized decimal; null on the first ``window - 1`` rows."""
    window = checks.window("window", window)
    range_log = (checks.expr("high", high) / checks.expr("low", low)).log()
    daily = (range_log**2).rolling_mean(window) / (4.0 * _LN2)
    return checks.named(_annualize(daily, periods_per_year), high)


def garman_klass(
    open: str | pl.Expr,
    high: str | pl.Expr,
    low: str | pl.Expr,
    close: str | pl.Expr,
    *,
    window: int = DEFAULT_WINDOW,
    periods_per_year: int = TRADING_DAYS,
) -> pl.Expr:
    """Garman-Klass (1980) vol: ``sqrt(periods_per_year * mean(0.5 ln(H/L)^2 -
    (2 ln 2 - 1) ln(C/O)^2))`` over the last ``window`` days (no overnight term).
    Annualized decimal; null on the first ``window - 1`` rows."""
    window = checks.window("window", window)
    range_log = (checks.expr("high", high) / checks.expr("low", low)).log()
    body_log = (checks.expr("close", close) / checks.expr("open", open)).log()
    daily = 0.5 * range_log**2 - (2.0 * _LN2 - 1.0) * body_log**2
    return checks.named(_annualize(daily.rolling_mean(window), periods_per_year), open)


def yang_zhang_k(window: int) -> float:
    """Yang and Zhang's weight ``k = 0.34 / (1.34 + (n + 1) / (n - 1))``, ``n = window >= 2``."""
    n = checks.window("window", window, minimum=2)
    return 0.34 / (1.34 + (n + 1) / (n - 1))


def yang_zhang(
    open: str | pl.Expr,
    high: str | pl.Expr,
    low: str | pl.Expr,
    close: str | pl.Expr,
    *,
    window: int = DEFAULT_WINDOW,
    periods_per_year: int = TRADING_DAYS,
) -> pl.Expr:
    """Yang-Zhang (2000) vol: ``sqrt(periods_per_year * (var(o) + k var(c) + (1 - k)
    mean(rs)))`` over the last ``window >= 2`` days, with ``o = ln(O[t]/C[t-1])``,
    ``c = ln(C[t]/O[t])`` (sample variances, divisor ``window - 1``), Rogers-Satchell
    ``rs = ln(H/C) ln(H/O) + ln(L/C) ln(L/O)`` and ``k = `yang_zhang_k`(window)``.
    Annualized decimal; null on the first ``window`` rows."""
    k = yang_zhang_k(window)
    o, h, lo, c = (
        checks.expr("open", open),
        checks.expr("high", high),
        checks.expr("low", low),
        checks.expr("close", close),
    )
    overnight = (o / c.shift(1)).log()
    open_to_close = (c / o).log()
    rogers_satchell = (h / c).log() * (h / o).log() + (lo / c).log() * (lo / o).log()
    daily = (
        overnight.rolling_var(window)
        + k * open_to_close.rolling_var(window)
        + (1.0 - k) * rogers_satchell.rolling_mean(window)
    )
    return checks.named(_annualize(daily, periods_per_year), open)


def implied_minus_realized(vix: str | pl.Expr, realized: str | pl.Expr) -> pl.Expr:
    """The implied-minus-realized spread ``vix / 100 - realized``, a decimal vol
    (0.04 = 4 vol points): the VIX in points, ``realized`` an annualized decimal vol
    (e.g. `close_to_close` over 21 days). Positive = options price more movement than
    the index has delivered. Null where either input is null."""
    spread = checks.expr("vix", vix) / 100.0 - checks.expr("realized", realized)
    return checks.named(spread, vix)


def _estimator_columns(
    estimators: Sequence[str], open: str, high: str, low: str, close: str
) -> dict[str, str | None]:
    if isinstance(estimators, str):
        estimators = (estimators,)
    unknown = [name for name in estimators if name not in ESTIMATORS]
    if unknown or not estimators:
        raise input_error(
            f"estimators must be a non-empty list of {ESTIMATORS}, got {list(estimators)!r}",
            arg="estimators",
        )
    needs_ohlc = {"garman_klass", "yang_zhang"} & set(estimators)
    return {
        "open": open if needs_ohlc else None,
        "high": high if needs_ohlc or "parkinson" in estimators else None,
        "low": low if needs_ohlc or "parkinson" in estimators else None,
        "close": close if needs_ohlc or "close_to_close" in estimators else None,
    }


def _estimator(
    name: str, open: str, high: str, low: str, close: str, window: int, periods_per_year: int
) -> pl.Expr:
    if name == "close_to_close":
        return close_to_close(close, window=window, periods_per_year=periods_per_year)
    if name == "parkinson":
        return parkinson(high, low, window=window, periods_per_year=periods_per_year)
    if name == "garman_klass":
        return garman_klass(open, high, low, close, window=window, periods_per_year=periods_per_year)
    return yang_zhang(open, high, low, close, window=window, periods_per_year=periods_per_year)


def add_realized_vol(
    frame: pl.DataFrame,
    *,
    open: str = "open",
    high: str = "high",
    low: str = "low",
    close: str = "close",
    window: int = DEFAULT_WINDOW,
    estimators: Sequence[str] = ESTIMATORS,
    periods_per_year: int = TRADING_DAYS,
    date: str | None = None,
) -> pl.DataFrame:
    """``frame`` with one column ``rv_{estimator}`` per requested estimator (annualized
    decimal vol over ``window`` days). Only the columns the estimators need must exist
    (close-to-close: ``close``; Parkinson: ``high``, ``low``; the others all four).

    ``date``: optional date column, checked unique and ascending.
    """
    columns = _estimator_columns(estimators, open, high, low, close)
    checks.frame(frame, columns, date)
    checks.positive_prices(frame, columns)
    checks.ohlc_consistent(frame, columns["open"], columns["high"], columns["low"], columns["close"])
    names = (estimators,) if isinstance(estimators, str) else tuple(estimators)
    return frame.with_columns(
        _estimator(name, open, high, low, close, window, periods_per_year).alias(f"rv_{name}")
        for name in names
    )


def add_implied_minus_realized(
    frame: pl.DataFrame,
    *,
    vix: str = "vix",
    open: str = "open",
    high: str = "high",
    low: str = "low",
    close: str = "close",
    window: int = DEFAULT_WINDOW,
    estimator: str = "close_to_close",
    periods_per_year: int = TRADING_DAYS,
    date: str | None = None,
) -> pl.DataFrame:
    """``frame`` with ``implied_minus_realized`` = ``vix / 100`` minus the SPX realized vol
    of ``estimator`` over ``window`` days (default close-to-close, 21 days), a decimal.

    The VIX looks 30 calendar days forward and the realized vol ``window`` trading days
    back, so the spread is the premium of implied over *recent* realized movement.
    """
    columns = _estimator_columns((estimator,), open, high, low, close)
    checks.frame(frame, {**columns, "vix": vix}, date)
    checks.positive_prices(frame, columns)
    checks.ohlc_consistent(frame, columns["open"], columns["high"], columns["low"], columns["close"])
    realized = _estimator(estimator, open, high, low, close, window, periods_per_year)
    return frame.with_columns(implied_minus_realized(vix, realized).alias("implied_minus_realized"))


__all__ = [
    "DEFAULT_WINDOW",
    "ESTIMATORS",
    "TRADING_DAYS",
    "add_implied_minus_realized",
    "add_realized_vol",
    "close_to_close",
    "garman_klass",
    "implied_minus_realized",
    "parkinson",
    "yang_zhang",
    "yang_zhang_k",
]
