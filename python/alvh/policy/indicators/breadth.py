"""Market breadth: the advance-decline line and its negative divergence from the SPX.

- `ad_line`: ``AD[t] = sum_{s <= t} (advances[s] - declines[s])``, in net issues. Its
  level depends on where the data starts; only its moves and its own highs matter.
- `ad_negative_divergence`: the SPX at a new ``window``-day high while the A/D line
  stays more than ``tolerance`` below its own ``window``-day high: price makes the high
  on fewer stocks (DESIGN.md "The layer policy", rule (b)).
"""

from __future__ import annotations

import polars as pl

from alvh.policy.indicators import checks

#: Default window of the divergence test, trading days (about a month).
DEFAULT_WINDOW = 20


def ad_line(advances: str | pl.Expr, declines: str | pl.Expr) -> pl.Expr:
    """The advance-decline line: cumulative sum of ``advances - declines`` (net issues).

    Rows where either count is null are null and add nothing to later values.
    """
    net = checks.expr("advances", advances) - checks.expr("declines", declines)
    return checks.named(net.cum_sum(), advances)


def ad_negative_divergence(
    spx: str | pl.Expr,
    ad: str | pl.Expr,
    *,
    window: int = DEFAULT_WINDOW,
    tolerance: float = 0.0,
) -> pl.Expr:
    """True on day ``t`` when, over the trailing ``window`` rows ``t-window+1 .. t``:

    - the SPX makes a new high: ``spx[t] >= max(spx[t-window+1 .. t])`` (ties count), and
    - the A/D line lags: ``ad[t] < max(ad[t-window+1 .. t]) - tolerance``.

    ``tolerance`` (>= 0, default 0) is in the A/D line's units (net issues), so a small
    dip of the line below its high does not fire. Null on the first ``window - 1`` rows
    and wherever a null of either series falls inside the window; False otherwise. Default window 20.
    """
    window = checks.window("window", window)
    tolerance = checks.number("tolerance", tolerance, minimum=0.0)
    price = checks.expr("spx", spx)
    breadth = checks.expr("ad", ad)
    new_high = price >= price.rolling_max(window)
    lagging = breadth < breadth.rolling_max(window) - tolerance
    decided = new_high.is_not_null() & lagging.is_not_null()
    return checks.named(pl.when(decided).then(new_high & lagging), spx)


def add_breadth(
    frame: pl.DataFrame,
    *,
    advances: str = "advances",
    declines: str = "declines",
    spx: str = "close",
    window: int = DEFAULT_WINDOW,
    tolerance: float = 0.0,
    date: str | None = None,
) -> pl.DataFrame:
    """``frame`` with ``ad_line`` (`ad_line`) and ``ad_negative_divergence``
    (`ad_negative_divergence` of ``spx`` against that line).

    ``date``: optional date column, checked unique and ascending.
    """
    checks.frame(frame, {"advances": advances, "declines": declines, "spx": spx}, date)
    line = ad_line(advances, declines)
    return frame.with_columns(
        line.alias("ad_line"),
        ad_negative_divergence(spx, line, window=window, tolerance=tolerance).alias("ad_negative_divergence"),
    )


__all__ = ["DEFAULT_WINDOW", "ad_line", "ad_negative_divergence", "add_breadth"]
