"""Rolling correlation of user series (REITs, high-P/E baskets, ...) with the SPX, and its
tightening: when such series start moving with the index, diversification is leaving
the book (DESIGN.md "The layer policy", diagnostics).

Correlations are Pearson's, of daily **log returns** ``ln(x[t] / x[t-1])`` (computed
from levels by the frame helper; `rolling_correlation` takes whatever it is given).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from alvh._core.checks import input_error
from alvh.policy.indicators import checks

#: Default correlation window, trading days.
DEFAULT_WINDOW = 20
#: Default lookback of the tightening test, trading days.
DEFAULT_LOOKBACK = 10
#: Default rise of the correlation over the lookback that counts as tightening.
DEFAULT_THRESHOLD = 0.2


def log_returns(x: str | pl.Expr) -> pl.Expr:
    """``ln(x[t] / x[t-1])``; null on the first row."""
    level = checks.expr("x", x)
    return checks.named((level / level.shift(1)).log(), x)


def rolling_correlation(a: str | pl.Expr, b: str | pl.Expr, *, window: int = DEFAULT_WINDOW) -> pl.Expr:
    """Pearson correlation of ``a`` and ``b`` over the trailing ``window`` rows
    (``window >= 2``), in [-1, 1]. Null until ``window`` rows with both values are in the
    window, when a null falls in it, and where either series is flat (undefined)."""
    window = checks.window("window", window, minimum=2)
    corr = pl.rolling_corr(checks.expr("a", a), checks.expr("b", b), window_size=window)
    return checks.named(pl.when(corr.is_finite()).then(corr.clip(-1.0, 1.0)), a)


def tightening(
    correlation: str | pl.Expr,
    *,
    lookback: int = DEFAULT_LOOKBACK,
    threshold: float = DEFAULT_THRESHOLD,
) -> pl.Expr:
    """True on day ``t`` when ``corr[t] - corr[t - lookback] > threshold`` (defaults 10
    days, 0.2): the correlation rose by more than ``threshold`` over ``lookback`` days.
    Null where either value is null."""
    lookback = checks.window("lookback", lookback)
    threshold = checks.number("threshold", threshold)
    corr = checks.expr("correlation", correlation)
    return checks.named((corr - corr.shift(lookback)) > threshold, correlation)


def add_spx_correlations(
    frame: pl.DataFrame,
    *,
    series: Sequence[str],
    spx: str = "close",
    window: int = DEFAULT_WINDOW,
    lookback: int = DEFAULT_LOOKBACK,
    threshold: float = DEFAULT_THRESHOLD,
    levels: bool = True,
    date: str | None = None,
) -> pl.DataFrame:
    """``frame`` with, for each column ``name`` in ``series``, ``corr_{name}`` (the rolling
    correlation of its log returns with the SPX's over ``window`` days) and
    ``corr_{name}_tightening`` (`tightening` over ``lookback`` days by ``threshold``).

    ``levels=True``: ``series`` and ``spx`` are prices (returns are taken here; the first
    correlation is on row ``window``); ``False``: they already are returns.
    """
    if isinstance(series, str):
        series = [series]
    if not series:
        raise input_error("series must name at least one column", arg="series")
    columns: dict[str, str | None] = {"spx": spx}
    columns.update({f"series[{i}]": name for i, name in enumerate(series)})
    checks.frame(frame, columns, date)
    if levels:
        checks.positive_prices(frame, columns)

    def returns(name: str) -> pl.Expr:
        return log_returns(name) if levels else checks.expr(name, name)

    added: list[pl.Expr] = []
    for name in series:
        corr = rolling_correlation(returns(name), returns(spx), window=window)
        added += [
            corr.alias(f"corr_{name}"),
            tightening(corr, lookback=lookback, threshold=threshold).alias(f"corr_{name}_tightening"),
        ]
    return frame.with_columns(added)


__all__ = [
    "DEFAULT_LOOKBACK",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "add_spx_correlations",
    "log_returns",
    "rolling_correlation",
    "tightening",
]
