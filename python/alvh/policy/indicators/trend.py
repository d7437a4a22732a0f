"""Trend and momentum: EMA, MACD with its "expanding" flag, Wilder's RSI.

The conventions are TA-Lib's (``talib.EMA``, ``talib.MACD``, ``talib.RSI``, default
compatibility mode, no unstable period), so values agree with TA-Lib to rounding:

- An EMA of period ``n`` has ``alpha = 2 / (n + 1)`` and starts on the ``n``-th value
  with the simple mean of the first ``n`` values (the SMA seed); from there
  ``ema[t] = ema[t-1] + alpha * (x[t] - ema[t-1])``.
- Wilder smoothing (RSI) is the same recursion with ``alpha = 1 / n``.

Leading values where an indicator is undefined are null (never NaN or 0). Leading nulls
of the input are skipped: the indicator starts on the first ``n`` non-null values. A null
*after* the first value (a gap) makes every later value null, as a NaN does in TA-Lib: fill
or drop gaps first. NaN inputs propagate as NaN.
"""

from __future__ import annotations

import polars as pl

from alvh.policy.indicators import checks


def _seeded_ewm(x: pl.Expr, *, alpha: float, seed_length: int, start_count: int) -> pl.Expr:
    """The recursion ``y[t] = y[t-1] + alpha * (x[t] - y[t-1])``, started on the
    ``start_count``-th non-null value of ``x`` with the mean of the last ``seed_length``
    values there (``start_count >= seed_length``); null before that and after a gap."""
    present = x.is_not_null()
    count = present.cum_sum()
    first = present & (count == start_count)
    source = (
        pl.when(first).then(x.rolling_mean(seed_length)).when(count > start_count).then(x).otherwise(None)
    )
    smoothed = source.ewm_mean(alpha=alpha, adjust=False, ignore_nulls=True)
    gap = (x.is_null() & (count > 0)).cum_sum() > 0
    return pl.when(gap | (count < start_count)).then(None).otherwise(smoothed)


def ema(x: str | pl.Expr, *, span: int) -> pl.Expr:
    """Exponential moving average of period ``span``, seeded with an SMA, as ``talib.EMA``.

    ``alpha = 2 / (span + 1)``; ``ema`` is null on the first ``span - 1`` rows, equals the
    mean of the first ``span`` values on row ``span - 1``, then
    ``ema[t] = ema[t-1] + alpha * (x[t] - ema[t-1])``. Units: those of ``x``.
    """
    span = checks.window("span", span)
    smoothed = _seeded_ewm(checks.expr("x", x), alpha=2.0 / (span + 1), seed_length=span, start_count=span)
    return checks.named(smoothed, x)


def _macd_parts(x: str | pl.Expr, fast: int, slow: int, signal: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    fast = checks.window("fast", fast)
    slow = checks.window("slow", slow)
    signal = checks.window("signal", signal)
    if fast >= slow:
        raise checks.invalid("fast", f"fast must be < slow, got fast={fast}, slow={slow}", fast)
    price = checks.expr("x", x)
    # TA-Lib starts both EMAs on the same row (slow - 1): the fast one is seeded there with
    # the mean of the last `fast` values, not on row fast - 1 (ta_MACD.c, INT_MACD).
    fast_ema = _seeded_ewm(price, alpha=2.0 / (fast + 1), seed_length=fast, start_count=slow)
    slow_ema = _seeded_ewm(price, alpha=2.0 / (slow + 1), seed_length=slow, start_count=slow)
    raw_line = fast_ema - slow_ema
    signal_line = _seeded_ewm(raw_line, alpha=2.0 / (signal + 1), seed_length=signal, start_count=signal)
    # As TA-Lib, all three outputs start on the signal's first row, slow + signal - 2.
    line = pl.when(signal_line.is_null()).then(None).otherwise(raw_line)
    return line, signal_line, line - signal_line


def macd(x: str | pl.Expr, *, fast: int = 12, slow: int = 26, signal: int = 9) -> pl.Expr:
    """MACD(fast, slow, signal) as ``talib.MACD``: a struct of ``macd``, ``macd_signal``,
    ``macd_hist`` (unnest it, or use `add_macd`).

    - ``macd = EMA_fast(x) - EMA_slow(x)``, both EMAs starting on row ``slow - 1`` (the fast
      one seeded there with the mean of the last ``fast`` values, TA-Lib's alignment);
    - ``macd_signal = EMA_signal(macd)`` (SMA-seeded on its first ``signal`` values);
    - ``macd_hist = macd - macd_signal``.

    All three are null on the first ``slow + signal - 2`` rows (33 for 12/26/9), as in
    TA-Lib. Requires ``fast < slow``. Units: those of ``x`` (index points for the SPX).
    """
    line, signal_line, hist = _macd_parts(x, fast, slow, signal)
    return pl.struct(line.alias("macd"), signal_line.alias("macd_signal"), hist.alias("macd_hist"))


def macd_hist(x: str | pl.Expr, *, fast: int = 12, slow: int = 26, signal: int = 9) -> pl.Expr:
    """The MACD histogram ``macd - macd_signal`` alone (see `macd`)."""
    return checks.named(_macd_parts(x, fast, slow, signal)[2], x)


def expanding(hist: str | pl.Expr, *, days: int = 3) -> pl.Expr:
    """True on day ``t`` when ``|hist|`` rose on each of the last ``days`` days:
    ``|h[t]| > |h[t-1]| > ... > |h[t-days]|`` (strict; ``days`` comparisons, ``days + 1``
    values). Null while any of those values is null (the first ``days`` rows of the
    histogram), False otherwise. Default ``days = 3``.

    It reads momentum building in either direction; the sign of ``hist`` says which
    (negative = bearish). A zero crossing with a larger magnitude counts as a rise.
    """
    days = checks.window("days", days)
    magnitude = checks.expr("hist", hist).abs()
    rises = [magnitude.shift(lag) > magnitude.shift(lag + 1) for lag in range(days)]
    missing = [magnitude.shift(lag).is_null() for lag in range(days + 1)]
    flag = pl.when(pl.any_horizontal(missing)).then(None).otherwise(pl.all_horizontal(rises))
    return checks.named(flag, hist)


def rsi(x: str | pl.Expr, *, period: int = 14) -> pl.Expr:
    """Wilder's RSI as ``talib.RSI``, in points 0..100.

    With ``d[t] = x[t] - x[t-1]``, gains ``max(d, 0)`` and losses ``max(-d, 0)``: the
    averages start on row ``period`` as the simple means of the first ``period`` gains /
    losses, then ``avg[t] = (avg[t-1] * (period - 1) + value[t]) / period`` (Wilder).
    ``rsi = 100 * avg_gain / (avg_gain + avg_loss)``; when ``avg_gain + avg_loss`` is 0 (a
    flat window) it is 0, as TA-Lib (0.6+ C core: it has no 1e-8 zero band any more, so
    prices of 1e-7 or a decayed plateau still give a ratio). Null on the first ``period``
    rows. Default 14.
    """
    period = checks.window("period", period)
    change = checks.expr("x", x).diff()
    gain = change.clip(lower_bound=0.0)
    loss = (-change).clip(lower_bound=0.0)
    alpha = 1.0 / period
    avg_gain = _seeded_ewm(gain, alpha=alpha, seed_length=period, start_count=period)
    avg_loss = _seeded_ewm(loss, alpha=alpha, seed_length=period, start_count=period)
    total = avg_gain + avg_loss
    # clipped: the running averages' rounding can put a rising-only series a few ulps
    # above 100 (100.00000000000001 on a VIX path climbing 0.05 a day), out of range
    index = pl.when(total == 0.0).then(0.0).otherwise((100.0 * avg_gain / total).clip(0.0, 100.0))
    return checks.named(index, x)


def add_macd(
    frame: pl.DataFrame,
    *,
    column: str = "close",
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    expanding_days: int = 3,
    date: str | None = None,
    prefix: str = "macd",
) -> pl.DataFrame:
    """``frame`` with MACD columns ``{prefix}``, ``{prefix}_signal``, ``{prefix}_hist`` (as
    `macd`) and ``{prefix}_expanding`` (`expanding` of the histogram over ``expanding_days``).

    ``date``: optional date column, checked unique and ascending (rows are taken in order).
    """
    checks.frame(frame, {"column": column}, date)
    days = checks.window("expanding_days", expanding_days)
    line, signal_line, hist = _macd_parts(column, fast, slow, signal)
    return frame.with_columns(
        line.alias(prefix),
        signal_line.alias(f"{prefix}_signal"),
        hist.alias(f"{prefix}_hist"),
        expanding(hist, days=days).alias(f"{prefix}_expanding"),
    )


def add_rsi(
    frame: pl.DataFrame,
    *,
    column: str = "vix",
    period: int = 14,
    date: str | None = None,
    name: str | None = None,
) -> pl.DataFrame:
    """``frame`` with `rsi` of ``column`` as ``name`` (default ``"{column}_rsi"``).
    The DESIGN's diagnostic is the RSI(14) of the VIX, hence ``column="vix"``."""
    checks.frame(frame, {"column": column}, date)
    return frame.with_columns(rsi(column, period=period).alias(name or f"{column}_rsi"))


def add_ema(
    frame: pl.DataFrame,
    *,
    column: str = "close",
    span: int,
    date: str | None = None,
    name: str | None = None,
) -> pl.DataFrame:
    """``frame`` with `ema` of ``column`` as ``name`` (default ``"{column}_ema_{span}"``)."""
    checks.frame(frame, {"column": column}, date)
    return frame.with_columns(ema(column, span=span).alias(name or f"{column}_ema_{span}"))


__all__ = ["add_ema", "add_macd", "add_rsi", "ema", "expanding", "macd", "macd_hist", "rsi"]
