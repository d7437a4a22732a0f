"""Market breadth: the advance-decline line and its negative divergence from the SPX.

- `ad_line`: ``AD[t] = sum_{s <= t} (advances[s] - declines[s])``, in net issues. Its
  level depends on where the data starts; only its moves and its own highs matter.
- `ad_negative_divergence`: the SPX at a new ``window``-day high while the A/D line
  stays more than ``tolerance`` below its own ``window``-day high: price makes the high
  on fewer stocks (DESIGN.md "The layer policy", rule (b)).
- `at_high`: a line at its own ``window``-day high (the breadth bid of rule (c)).
- `proxy_line`: a breadth line from index levels when no advance-decline counts exist:
  the mean log level of broad indices (the NYSE Composite, the Russell 2000). It is a
  proxy, not an A/D line: it says whether the broad and small-cap market confirms the
  S&P 500's highs, which the A/D line measures issue by issue; every decision that
  reads it says so (`alvh.MarketState.breadth_source`).
"""

from __future__ import annotations

import polars as pl

from alvh.errors import InvalidInputError
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


def at_high(line: str | pl.Expr, *, window: int = DEFAULT_WINDOW) -> pl.Expr:
    """True when ``line[t] >= max(line[t-window+1 .. t])``; null on the first
    ``window - 1`` rows and where a null falls inside the window."""
    window = checks.window("window", window)
    x = checks.expr("line", line)
    high = x.rolling_max(window)
    return checks.named(pl.when(high.is_not_null()).then(x >= high), line)


def proxy_line(*levels: str | pl.Expr) -> pl.Expr:
    """The mean of ``ln(level)`` over the given index columns (module doc): a breadth
    line from index levels. Null where any level is null or not positive."""
    if not levels:
        raise InvalidInputError("proxy_line needs at least one index column")
    logs = [checks.expr(f"levels[{i}]", x) for i, x in enumerate(levels)]
    terms: list[pl.Expr] = [pl.when(x > 0.0).then(x.log()) for x in logs]
    total = terms[0]
    for term in terms[1:]:  # plain sums: a null level makes the line null (sum_horizontal skips it)
        total = total + term
    return checks.named(total / len(logs), levels[0])


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


__all__ = ["DEFAULT_WINDOW", "ad_line", "ad_negative_divergence", "add_breadth", "at_high", "proxy_line"]
