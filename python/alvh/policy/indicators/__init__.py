"""`alvh.policy.indicators`: the layer policy's diagnostics as Polars expressions.

Each indicator is an expression builder taking column names or ``pl.Expr``s and returning
a ``pl.Expr`` (``df.with_columns(alvh.policy.indicators.ema("close", span=20))``), plus
``add_*`` frame helpers that check the columns (and an optional date column: unique,
ascending) and add named columns. Rows are taken in frame order; sort by date first.

- `trend`: `ema`, `macd` (12/26/9, histogram, `expanding` flag), `rsi` (Wilder, 14),
  with TA-Lib's conventions (SMA-seeded EMAs, TA-Lib's MACD alignment).
- `breadth`: `ad_line`, `ad_negative_divergence`.
- `volatility`: `close_to_close`, `parkinson`, `garman_klass`, `yang_zhang` (annualized
  with 252 days), `implied_minus_realized`.
- `vix`: `term_ratio` (VIX/VX1, VX1/VX2), `backwardation`, `zscore`, `skew_steepening`.
- `correlation`: `rolling_correlation`, `tightening`, `add_spx_correlations`.

A builder's output is named after its first input (``ema("close", span=20)`` is
``"close"``), as Polars' own expressions are: ``.alias`` it. Leading rows where an
indicator is undefined are null. Bad windows, thresholds and
missing columns raise `alvh.errors.InvalidInputError` naming the argument. Not imported
by ``import alvh`` (it is loaded on first use of ``alvh.policy.indicators``).
"""

from __future__ import annotations

from alvh.policy.indicators import breadth, correlation, trend, vix, volatility
from alvh.policy.indicators.breadth import ad_line, ad_negative_divergence, add_breadth
from alvh.policy.indicators.correlation import (
    add_spx_correlations,
    log_returns,
    rolling_correlation,
    tightening,
)
from alvh.policy.indicators.trend import add_ema, add_macd, add_rsi, ema, expanding, macd, macd_hist, rsi
from alvh.policy.indicators.vix import (
    add_skew,
    add_term_structure,
    backwardation,
    skew_steepening,
    term_ratio,
    zscore,
)
from alvh.policy.indicators.volatility import (
    add_implied_minus_realized,
    add_realized_vol,
    close_to_close,
    garman_klass,
    implied_minus_realized,
    parkinson,
    yang_zhang,
    yang_zhang_k,
)

__all__ = [
    "ad_line",
    "ad_negative_divergence",
    "add_breadth",
    "add_ema",
    "add_implied_minus_realized",
    "add_macd",
    "add_realized_vol",
    "add_rsi",
    "add_skew",
    "add_spx_correlations",
    "add_term_structure",
    "backwardation",
    "breadth",
    "close_to_close",
    "correlation",
    "ema",
    "expanding",
    "garman_klass",
    "implied_minus_realized",
    "log_returns",
    "macd",
    "macd_hist",
    "parkinson",
    "rolling_correlation",
    "rsi",
    "skew_steepening",
    "term_ratio",
    "tightening",
    "trend",
    "vix",
    "volatility",
    "yang_zhang",
    "yang_zhang_k",
    "zscore",
]
