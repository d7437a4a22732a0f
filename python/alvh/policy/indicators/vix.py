"""VIX-complex diagnostics: futures term-structure ratios and put-skew steepening.

- `term_ratio`: ``VIX / VX1`` (spot over the front future) and ``VX1 / VX2`` (front over
  second future). A ratio above 1 is **backwardation** (near vol priced above far vol:
  genuine stress); below 1 contango (the usual, calm shape). Inputs in VIX points.
- `zscore` / `skew_steepening`: a rolling z-score of a put-skew series (the CBOE SKEW
  index, or 25-delta put vol minus ATM vol) and the flag ``z > threshold``.
"""

from __future__ import annotations

import polars as pl

from alvh.policy.indicators import checks

#: Default window of the skew z-score, trading days (about a quarter).
DEFAULT_SKEW_WINDOW = 60
#: Default z-score above which the skew counts as steepening.
DEFAULT_SKEW_THRESHOLD = 2.0


def term_ratio(near: str | pl.Expr, far: str | pl.Expr) -> pl.Expr:
    """``near / far``: e.g. ``term_ratio("vix", "vx1")`` (VIX/VX1) or
    ``term_ratio("vx1", "vx2")`` (VX1/VX2). > 1 = backwardation. Null where either is null
    or ``far <= 0`` (a bad quote, not a ratio)."""
    numerator, denominator = checks.expr("near", near), checks.expr("far", far)
    return checks.named(pl.when(denominator > 0).then(numerator / denominator), near)


def backwardation(ratio: str | pl.Expr) -> pl.Expr:
    """True where a term-structure ratio (`term_ratio`) is above 1 (null stays null)."""
    return checks.named(checks.expr("ratio", ratio) > 1.0, ratio)


def zscore(x: str | pl.Expr, *, window: int = DEFAULT_SKEW_WINDOW) -> pl.Expr:
    """Rolling z-score ``(x[t] - mean) / std`` over the trailing ``window`` rows including
    ``t`` (sample std, divisor ``window - 1``; ``window >= 2``). Dimensionless. Null on the
    first ``window - 1`` rows and where the window's std is 0 (a flat series)."""
    window = checks.window("window", window, minimum=2)
    series = checks.expr("x", x)
    spread = series.rolling_std(window)
    score = pl.when(spread > 0).then((series - series.rolling_mean(window)) / spread)
    return checks.named(score, x)


def skew_steepening(
    skew: str | pl.Expr,
    *,
    window: int = DEFAULT_SKEW_WINDOW,
    threshold: float = DEFAULT_SKEW_THRESHOLD,
) -> pl.Expr:
    """True where `zscore` of ``skew`` over ``window`` exceeds ``threshold`` (strictly;
    defaults 60 days, 2.0). ``skew`` must rise as puts get dearer (the SKEW index, or
    put vol minus ATM vol). Null where the z-score is null."""
    threshold = checks.number("threshold", threshold)
    return checks.named(zscore(skew, window=window) > threshold, skew)


def add_term_structure(
    frame: pl.DataFrame,
    *,
    vix: str | None = "vix",
    vx1: str = "vx1",
    vx2: str | None = "vx2",
    date: str | None = None,
) -> pl.DataFrame:
    """``frame`` with ``vix_vx1_ratio`` / ``vix_vx1_backwardation`` (when ``vix`` is given)
    and ``vx1_vx2_ratio`` / ``vx1_vx2_backwardation`` (when ``vx2`` is given); pass
    ``None`` for a series you do not have. ``vx1`` is required."""
    checks.frame(frame, {"vix": vix, "vx1": vx1, "vx2": vx2}, date)
    columns: list[pl.Expr] = []
    if vix is not None:
        ratio = term_ratio(vix, vx1)
        columns += [ratio.alias("vix_vx1_ratio"), backwardation(ratio).alias("vix_vx1_backwardation")]
    if vx2 is not None:
        ratio = term_ratio(vx1, vx2)
        columns += [ratio.alias("vx1_vx2_ratio"), backwardation(ratio).alias("vx1_vx2_backwardation")]
    return frame.with_columns(columns)


def add_skew(
    frame: pl.DataFrame,
    *,
    skew: str = "skew",
    window: int = DEFAULT_SKEW_WINDOW,
    threshold: float = DEFAULT_SKEW_THRESHOLD,
    date: str | None = None,
) -> pl.DataFrame:
    """``frame`` with ``skew_zscore`` (`zscore`) and ``skew_steepening``
    (`skew_steepening`) of the ``skew`` column."""
    checks.frame(frame, {"skew": skew}, date)
    return frame.with_columns(
        zscore(skew, window=window).alias("skew_zscore"),
        skew_steepening(skew, window=window, threshold=threshold).alias("skew_steepening"),
    )


__all__ = [
    "DEFAULT_SKEW_THRESHOLD",
    "DEFAULT_SKEW_WINDOW",
    "add_skew",
    "add_term_structure",
    "backwardation",
    "skew_steepening",
    "term_ratio",
    "zscore",
]
