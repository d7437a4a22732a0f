"""`alvh.policy.indicators`: TA-Lib parity (EMA, MACD, RSI) on the arch S&P 500 closes and on
random walks, textbook transcriptions of the realized-vol estimators, and constructed
series on which each flag must fire, or must not.

Reference: TA-Lib's Python wrapper (``talib``, C library bundled in its wheels), default
compatibility mode; tolerance 1e-9 absolute, and the undefined rows must coincide
(TA-Lib's NaN = our null).
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import alvh.policy.indicators as ind
from alvh.errors import InputTypeError, InvalidInputError

TALIB_TOL = 1e-9
JAN2, JAN3, JAN4 = dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)


@pytest.fixture(scope="module")
def sp500() -> pl.DataFrame:
    """Daily S&P 500 OHLC 1999-2018 from `arch` (5031 rows), columns lower-cased."""
    from arch.data import sp500 as data

    frame = pl.from_pandas(data.load().reset_index())
    return frame.rename({name: name.lower() for name in frame.columns})


def random_walk(seed: int, n: int = 2000, start: float = 100.0) -> np.ndarray:
    """A positive geometric random walk with fat-ish daily moves (1.5 % vol)."""
    rng = np.random.default_rng(seed)
    return start * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))


def assert_matches_talib(ours: pl.Series, theirs: np.ndarray, tol: float = TALIB_TOL) -> float:
    """Same undefined rows (null vs NaN), values within ``tol``; returns the max diff."""
    assert ours.is_nan().sum() == 0, "undefined rows must be null, not NaN"
    values = ours.to_numpy().astype(float)  # null -> NaN
    np.testing.assert_array_equal(np.isnan(values), np.isnan(theirs))
    defined = ~np.isnan(theirs)
    assert defined.sum() > 0
    diff = float(np.max(np.abs(values[defined] - theirs[defined])))
    assert diff <= tol
    return diff


# -- TA-Lib parity -------------------------------------------------------------------
@pytest.fixture(scope="module")
def talib():
    return pytest.importorskip("talib")


def closes(sp500: pl.DataFrame, source: str) -> np.ndarray:
    if source == "sp500":
        return sp500["close"].to_numpy()
    return random_walk(int(source.removeprefix("walk")))


@pytest.mark.parametrize("source", ["sp500", "walk1", "walk2"])
@pytest.mark.parametrize("span", [2, 10, 20, 50, 200])
def test_ema_matches_talib_ema(talib, sp500, source, span):
    close = closes(sp500, source)
    ours = pl.DataFrame({"close": close}).select(ind.ema("close", span=span)).to_series()
    assert_matches_talib(ours, talib.EMA(close, timeperiod=span))


@pytest.mark.parametrize("source", ["sp500", "walk1", "walk2"])
@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 10, 16)])
def test_macd_matches_talib_macd_line_signal_and_histogram(talib, sp500, source, fast, slow, signal):
    close = closes(sp500, source)
    out = (
        pl.DataFrame({"close": close})
        .select(ind.macd("close", fast=fast, slow=slow, signal=signal).alias("m"))
        .unnest("m")
    )
    line, signal_line, hist = talib.MACD(close, fastperiod=fast, slowperiod=slow, signalperiod=signal)
    assert_matches_talib(out["macd"], line)
    assert_matches_talib(out["macd_signal"], signal_line)
    assert_matches_talib(out["macd_hist"], hist)
    assert out["macd"].null_count() == slow + signal - 2


@pytest.mark.parametrize("source", ["sp500", "walk1", "walk3"])
@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_matches_talib_wilder_rsi(talib, sp500, source, period):
    close = closes(sp500, source)
    ours = pl.DataFrame({"close": close}).select(ind.rsi("close", period=period)).to_series()
    assert_matches_talib(ours, talib.RSI(close, timeperiod=period))
    assert ours.null_count() == period


def test_rsi_of_a_vix_like_series_matches_talib(talib):
    # A mean-reverting positive series with plateaus (repeated values: zero changes).
    rng = np.random.default_rng(7)
    vix = np.empty(1500)
    vix[0] = 18.0
    for t in range(1, vix.size):
        vix[t] = max(9.0, vix[t - 1] + 0.05 * (18.0 - vix[t - 1]) + rng.normal(0, 1.2))
    vix = np.round(vix, 1)
    ours = pl.DataFrame({"vix": vix}).select(ind.rsi("vix")).to_series()
    assert_matches_talib(ours, talib.RSI(vix, timeperiod=14))


# -- EMA / MACD / RSI behaviour --------------------------------------------------------
def test_ema_starts_with_the_sma_of_the_first_span_values():
    frame = pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 10.0]})
    out = frame.select(ind.ema("x", span=3)).to_series().to_list()
    # alpha = 0.5; seed mean(1, 2, 3) = 2 on row 2; then 2 + .5*(4-2) = 3; 3 + .5*(10-3) = 6.5
    assert out == [None, None, 2.0, 3.0, 6.5]


def test_leading_nulls_are_skipped_and_a_gap_nulls_everything_after_it():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    shifted = pl.DataFrame({"x": [None, None, *values]}).select(ind.ema("x", span=3))
    assert shifted.to_series().to_list() == [None, None, None, None, 2.0, 3.0, 6.5]
    gapped = pl.DataFrame({"x": [1.0, 2.0, 3.0, None, 4.0, 5.0]}).select(ind.ema("x", span=2))
    assert gapped.to_series().to_list() == [None, 1.5, 1.5 + 2 / 3 * 1.5, None, None, None]


def test_expanding_is_true_only_after_days_consecutive_rises_of_abs_histogram():
    hist = [0.5, 1.0, 2.0, 3.0, 2.5, -3.0, -4.0, -5.0, -5.0, 6.0]
    frame = pl.DataFrame({"h": hist})
    out = frame.select(ind.expanding("h", days=3)).to_series().to_list()
    # |h| = .5 1 2 3 2.5 3 4 5 5 6: rises through row 3; 3 -> 2.5 breaks; rows 5-7 rise
    # again (the sign flip at row 5 counts: |-3| > |2.5|); 5 -> 5 is no rise.
    assert out == [None, None, None, True, False, False, False, True, False, False]
    one_day = frame.select(ind.expanding("h", days=1)).to_series().to_list()
    assert one_day == [None, True, True, True, False, True, True, True, False, True]


def test_add_macd_adds_the_four_columns_equal_to_the_expression(sp500):
    frame = sp500.select("date", "close")
    out = ind.add_macd(frame, date="date")
    direct = frame.select(ind.macd("close").alias("m")).unnest("m")
    assert out["macd_hist"].equals(direct["macd_hist"])
    expected = direct.select(ind.expanding("macd_hist", days=3)).to_series()
    assert out["macd_expanding"].equals(expected, check_names=False)
    assert out["macd_expanding"].null_count() == 33 + 3
    assert 0 < out["macd_expanding"].sum() < out.height


def test_rsi_is_100_on_a_rising_series_and_0_on_a_flat_one_as_talib():
    rising = pl.DataFrame({"x": np.arange(1.0, 31.0)}).select(ind.rsi("x")).to_series()
    assert rising.drop_nulls().to_list() == [100.0] * 16
    flat = pl.DataFrame({"x": np.full(30, 20.0)}).select(ind.rsi("x")).to_series()
    assert flat.drop_nulls().to_list() == [0.0] * 16


# -- breadth ---------------------------------------------------------------------------
def divergence_frame(ad_tail_drop: float, spx_new_high: bool = True) -> pl.DataFrame:
    """25 days: SPX rises every day (or stalls at the end); the A/D line rises for 15
    days, then its net issues turn negative so the line ends `ad_tail_drop` below its
    high (0: it keeps rising)."""
    n = 25
    spx = 4000.0 + 10.0 * np.arange(n)
    if not spx_new_high:
        spx[-1] = spx[-5]
    net = np.full(n, 100.0)
    if ad_tail_drop > 0:
        net[15:] = -ad_tail_drop / (n - 15)
    advances = 1500.0 + np.maximum(net, 0)
    declines = 1500.0 - np.minimum(net, 0)
    return pl.DataFrame({"close": spx, "adv": advances, "dec": declines})


def test_ad_line_is_the_cumulative_net_advances():
    frame = pl.DataFrame({"adv": [10.0, 5.0, 7.0], "dec": [4.0, 9.0, 7.0]})
    assert frame.select(ind.ad_line("adv", "dec")).to_series().to_list() == [6.0, 2.0, 2.0]


def test_negative_divergence_fires_when_spx_makes_a_high_the_ad_line_does_not():
    out = ind.add_breadth(divergence_frame(500.0), advances="adv", declines="dec", window=20)
    fired = out["ad_negative_divergence"]
    assert fired[:19].null_count() == 19  # window - 1 undefined rows
    assert fired[19:].to_list() == [True] * 6  # rows 19-24: SPX at highs, A/D below its peak
    # The line is 50 * (t - 14) below its high on row t: with a tolerance of 300 the
    # signal waits for a lag of *more* than 300 (row 21).
    lenient = ind.add_breadth(
        divergence_frame(500.0), advances="adv", declines="dec", window=20, tolerance=300.0
    )
    assert lenient["ad_negative_divergence"][19:].to_list() == [False, False] + [True] * 4
    assert out["ad_line"][14] == 1500.0 and out["ad_line"][24] == 1000.0
    # A missing breadth day inside the window: undecided (null), not False.
    gapped = divergence_frame(500.0).with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("close")).alias("close")
    )
    flags = ind.add_breadth(gapped, advances="adv", declines="dec")["ad_negative_divergence"]
    assert flags[19:].to_list() == [None] * 4 + [True] * 2  # row 3 leaves the window at row 23


def test_negative_divergence_does_not_fire_with_confirming_breadth_or_without_a_spx_high():
    confirming = ind.add_breadth(divergence_frame(0.0), advances="adv", declines="dec")
    assert confirming["ad_negative_divergence"].drop_nulls().to_list() == [False] * 6
    no_high = ind.add_breadth(divergence_frame(500.0, spx_new_high=False), advances="adv", declines="dec")
    assert no_high["ad_negative_divergence"][-1] is False


# -- realized vol: textbook transcriptions ---------------------------------------------
def textbook_realized(o, h, l, c, n, estimator):
    """Direct loops over each window (Parkinson 1980, Garman-Klass 1980, Yang-Zhang 2000)."""
    out = np.full(c.size, np.nan)
    for t in range(c.size):
        rows = np.arange(t - n + 1, t + 1)
        if estimator in ("close_to_close", "yang_zhang"):
            if rows[0] < 1:
                continue
        elif rows[0] < 0:
            continue
        if estimator == "close_to_close":
            r = np.log(c[rows] / c[rows - 1])
            var = np.sum((r - r.mean()) ** 2) / (n - 1)
        elif estimator == "parkinson":
            var = np.mean(np.log(h[rows] / l[rows]) ** 2) / (4 * math.log(2))
        elif estimator == "garman_klass":
            var = np.mean(
                0.5 * np.log(h[rows] / l[rows]) ** 2 - (2 * math.log(2) - 1) * np.log(c[rows] / o[rows]) ** 2
            )
        else:
            on = np.log(o[rows] / c[rows - 1])
            oc = np.log(c[rows] / o[rows])
            rs = np.log(h[rows] / c[rows]) * np.log(h[rows] / o[rows]) + np.log(l[rows] / c[rows]) * np.log(
                l[rows] / o[rows]
            )
            k = 0.34 / (1.34 + (n + 1) / (n - 1))
            var = np.var(on, ddof=1) + k * np.var(oc, ddof=1) + (1 - k) * np.mean(rs)
        out[t] = math.sqrt(252 * var)
    return out


@pytest.mark.parametrize("window", [2, 5, 21, 63])
def test_realized_vol_estimators_match_their_textbook_formulas(sp500, window):
    sample = sp500.slice(1000, 400)
    out = ind.add_realized_vol(sample, window=window, date="date")
    ohlc = [sample[name].to_numpy() for name in ("open", "high", "low", "close")]
    for estimator in ind.volatility.ESTIMATORS:
        expected = textbook_realized(*ohlc, window, estimator)
        ours = out[f"rv_{estimator}"]
        assert ours.is_nan().sum() == 0
        got = ours.to_numpy().astype(float)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=estimator)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13, err_msg=estimator)


def test_parkinson_of_a_constant_range_is_that_range_scaled():
    u = 0.02  # ln(H/L) every day
    frame = pl.DataFrame({"high": np.full(30, 100.0 * math.exp(u)), "low": np.full(30, 100.0)})
    vol = frame.select(ind.parkinson("high", "low", window=10)).to_series().drop_nulls()
    assert vol.len() == 21
    np.testing.assert_allclose(vol.to_numpy(), u * math.sqrt(252 / (4 * math.log(2))), rtol=1e-13)


def test_garman_klass_with_close_at_open_is_half_the_squared_range():
    u = 0.03
    frame = pl.DataFrame(
        {"open": [100.0] * 12, "high": [100 * math.exp(u)] * 12, "low": [100.0] * 12, "close": [100.0] * 12}
    )
    vol = frame.select(ind.garman_klass("open", "high", "low", "close", window=5))
    np.testing.assert_allclose(vol.to_series().drop_nulls().to_numpy(), u * math.sqrt(0.5 * 252), rtol=1e-13)


def test_realized_vol_is_price_scale_free_and_linear_in_log_moves(sp500):
    sample = sp500.slice(2000, 300)
    base = ind.add_realized_vol(sample, window=21)
    scaled = ind.add_realized_vol(
        sample.with_columns(pl.col("open", "high", "low", "close") * 7.5), window=21
    )
    doubled = ind.add_realized_vol(  # every log price doubled: every log ratio doubles
        sample.with_columns(pl.col("open", "high", "low", "close").log().mul(2).exp()),
        window=21,
    )
    for estimator in ind.volatility.ESTIMATORS:
        name = f"rv_{estimator}"
        np.testing.assert_allclose(scaled[name].to_numpy(), base[name].to_numpy(), rtol=1e-9)
        np.testing.assert_allclose(doubled[name].to_numpy(), 2 * base[name].to_numpy(), rtol=1e-9)
    daily = sample.select(ind.close_to_close("close", window=21, periods_per_year=1))
    np.testing.assert_allclose(
        base["rv_close_to_close"].to_numpy(), math.sqrt(252) * daily.to_series().to_numpy()
    )


def test_yang_zhang_k_is_the_papers_weight():
    assert ind.yang_zhang_k(21) == pytest.approx(0.34 / (1.34 + 22 / 20), rel=1e-15)
    with pytest.raises(InvalidInputError, match="window"):
        ind.yang_zhang_k(1)


def test_implied_minus_realized_is_vix_over_100_minus_realized(sp500):
    frame = pl.DataFrame({"vix": [20.0, 15.0, None], "rv": [0.15, 0.18, 0.1]})
    out = frame.select(ind.implied_minus_realized("vix", "rv")).to_series().to_list()
    assert out[0] == pytest.approx(0.05) and out[1] == pytest.approx(-0.03) and out[2] is None
    sample = sp500.slice(0, 60).with_columns(vix=pl.lit(25.0))
    spread = ind.add_implied_minus_realized(sample, window=21)["implied_minus_realized"]
    realized = ind.add_realized_vol(sample, window=21, estimators=["close_to_close"])
    np.testing.assert_allclose(spread.to_numpy(), 0.25 - realized["rv_close_to_close"].to_numpy(), rtol=1e-15)


# -- VIX term structure and skew --------------------------------------------------------
def test_term_ratios_and_backwardation_flags():
    frame = pl.DataFrame({"vix": [15.0, 30.0, 20.0], "vx1": [16.0, 27.0, 0.0], "vx2": [17.0, 25.0, 21.0]})
    out = ind.add_term_structure(frame)
    assert out["vix_vx1_ratio"].to_list()[:2] == [15 / 16, 30 / 27]
    assert out["vix_vx1_ratio"][2] is None  # a zero future is a bad quote, not a ratio
    assert out["vix_vx1_backwardation"].to_list() == [False, True, None]
    assert out["vx1_vx2_backwardation"].to_list() == [False, True, False]
    only_futures = ind.add_term_structure(frame.drop("vix"), vix=None)
    assert "vix_vx1_ratio" not in only_futures.columns
    assert "vx1_vx2_ratio" in only_futures.columns


def test_skew_zscore_matches_numpy_and_steepening_fires_on_a_spike():
    rng = np.random.default_rng(3)
    skew = 130.0 + rng.normal(0, 2.0, 120)
    skew[100] = 150.0  # a 10-sigma jump in the SKEW index
    out = ind.add_skew(pl.DataFrame({"skew": skew}), window=60, threshold=2.0)
    z = out["skew_zscore"].to_numpy().astype(float)
    for t in (59, 80, 100, 119):
        w = skew[t - 59 : t + 1]
        assert z[t] == pytest.approx((skew[t] - w.mean()) / w.std(ddof=1), rel=1e-9)
    assert np.isnan(z[:59]).all()
    steep = out["skew_steepening"]
    assert steep[100] is True
    assert steep[60:100].sum() <= 2  # noise rarely crosses 2 sigma
    flat = pl.DataFrame({"s": [1.0] * 10}).select(ind.zscore("s", window=5)).to_series()
    assert flat.null_count() == 10  # zero std: undefined, not inf or NaN


# -- correlation -----------------------------------------------------------------------
def test_rolling_correlation_matches_numpy_corrcoef():
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=200), rng.normal(size=200)
    b = 0.6 * a + 0.8 * b
    out = pl.DataFrame({"a": a, "b": b}).select(ind.rolling_correlation("a", "b", window=30))
    corr = out.to_series()
    assert corr[:29].null_count() == 29
    for t in (29, 100, 199):
        expected = np.corrcoef(a[t - 29 : t + 1], b[t - 29 : t + 1])[0, 1]
        assert corr[t] == pytest.approx(expected, abs=1e-12)


def test_correlation_tightening_fires_when_a_series_starts_moving_with_spx():
    rng = np.random.default_rng(5)
    n = 120
    spx_returns = rng.normal(0, 0.01, n)
    own_returns = rng.normal(0, 0.01, n)
    reit_returns = np.where(np.arange(n) < 80, own_returns, spx_returns)  # coupled from 80
    frame = pl.DataFrame(
        {
            "date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)],
            "close": 4000 * np.exp(np.cumsum(spx_returns)),
            "reit": 50 * np.exp(np.cumsum(reit_returns)),
            "indep": 80 * np.exp(np.cumsum(rng.normal(0, 0.01, n))),
        }
    )
    # Window 30: sampling noise of a 30-day correlation (~0.18) rarely moves it 0.4 in 10 days.
    out = ind.add_spx_correlations(
        frame, series=["reit", "indep"], window=30, lookback=10, threshold=0.4, date="date"
    )
    assert out["corr_reit"][:30].null_count() == 30  # 1 row lost to returns + window - 1
    assert out["corr_reit"][-1] == pytest.approx(1.0)  # the last 30 returns are the SPX's
    assert out["corr_reit_tightening"][:40].null_count() == 40
    assert not out["corr_reit_tightening"][:80].any()
    assert out["corr_reit_tightening"][90:115].any()
    assert out["corr_indep"].drop_nulls().abs().max() < 0.8
    assert out["corr_indep_tightening"].sum() == 0


# -- validation ------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "20", None])
def test_bad_windows_raise_invalid_input_naming_the_argument(bad):
    with pytest.raises(InvalidInputError, match="span") as info:
        ind.ema("x", span=bad)
    assert info.value.arg == "span"
    with pytest.raises(InvalidInputError, match="window"):
        ind.parkinson("high", "low", window=bad)
    with pytest.raises(InvalidInputError, match="signal"):
        ind.macd("x", signal=bad)


def test_other_bad_arguments_are_named():
    with pytest.raises(InvalidInputError, match="window must be an integer >= 2"):
        ind.close_to_close("close", window=1)
    with pytest.raises(InvalidInputError, match="fast must be < slow"):
        ind.macd("x", fast=26, slow=12)
    with pytest.raises(InvalidInputError, match="tolerance"):
        ind.ad_negative_divergence("spx", "ad", tolerance=-1.0)
    with pytest.raises(InvalidInputError, match="threshold"):
        ind.skew_steepening("skew", threshold=float("nan"))
    with pytest.raises(InvalidInputError, match="estimators"):
        ind.add_realized_vol(pl.DataFrame({"close": [1.0]}), estimators=["garch"])
    with pytest.raises(InputTypeError, match="x must be a column name"):
        ind.ema(3.0, span=2)  # type: ignore[arg-type]


def test_missing_column_names_it_and_lists_the_available_ones():
    frame = pl.DataFrame({"date": [dt.date(2024, 1, 2)], "Close": [1.0]})
    with pytest.raises(InvalidInputError, match=r"close.*available columns: \['date', 'Close'\]"):
        ind.add_macd(frame)
    with pytest.raises(InvalidInputError, match="'vx2'") as info:
        ind.add_term_structure(frame.with_columns(vix=pl.lit(1.0), vx1=pl.lit(1.0)))
    assert info.value.arg == "vx2"
    # Parkinson only needs high and low: a frame without open/close is fine.
    ok = ind.add_realized_vol(
        pl.DataFrame({"high": [2.0, 2.0], "low": [1.0, 1.0]}), window=2, estimators=["parkinson"]
    )
    assert ok["rv_parkinson"][1] == pytest.approx(math.log(2) * math.sqrt(252 / (4 * math.log(2))))
    with pytest.raises(InputTypeError, match="polars DataFrame"):
        ind.add_rsi({"vix": [1.0]})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        ("close", 3, 0.0, r"close: column 'close' must hold finite prices > 0; got 0.0 at row 3"),
        ("low", 5, float("nan"), "low: column 'low' must hold finite prices > 0; got nan at row 5"),
        ("high", 4, 90.0, "high is below low at row 4"),
        ("close", 2, 104.0, "close is above high at row 2"),
        ("open", 6, 98.0, "open is below low at row 6"),
    ],
)
def test_realized_vol_helpers_reject_impossible_bars(column, row, value, message):
    bars = pl.DataFrame(
        {"open": [100.0] * 8, "high": [103.0] * 8, "low": [99.0] * 8, "close": [101.0] * 8, "vix": [20.0] * 8}
    )
    broken = bars.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(value).otherwise(pl.col(column)).alias(column)
    )
    with pytest.raises(InvalidInputError, match=message) as info:
        ind.add_realized_vol(broken, window=3)
    assert info.value.arg == column
    with pytest.raises(InvalidInputError, match=message):
        ind.add_implied_minus_realized(broken, window=3, estimator="garman_klass")
    assert ind.add_realized_vol(bars, window=3)["rv_yang_zhang"].null_count() == 3


def test_non_numeric_columns_and_nonpositive_levels_are_rejected():
    frame = pl.DataFrame({"close": ["1", "2"], "reit": [1.0, -2.0], "spx": [1.0, 2.0]})
    with pytest.raises(InputTypeError, match="column 'close' must be numeric, got String"):
        ind.add_macd(frame)
    with pytest.raises(InvalidInputError, match=r"series\[0\]: column 'reit'.*row 1"):
        ind.add_spx_correlations(frame, series=["reit"], spx="spx")
    returns = ind.add_spx_correlations(frame, series=["reit"], spx="spx", levels=False, window=2)
    assert returns["corr_reit"].to_list() == [None, -1.0]  # returns: no positivity needed


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ([JAN2, JAN3, JAN3], "duplicate date 2024-01-03 at row 2"),
        ([JAN3, JAN2, JAN4], "not sorted ascending: row 1"),
        ([JAN2, None, JAN4], "missing date at row 1"),
    ],
)
def test_bad_date_columns_are_rejected_with_the_row(dates, message):
    frame = pl.DataFrame({"day": dates, "vix": [20.0, 21.0, 22.0]})
    with pytest.raises(InvalidInputError, match=message) as info:
        ind.add_rsi(frame, date="day")
    assert info.value.arg == "date"
    with pytest.raises(InvalidInputError, match="'when'.*available"):
        ind.add_rsi(frame, date="when")


def test_import_alvh_does_not_import_the_indicators():
    code = (
        "import sys, alvh; assert 'alvh.policy.indicators' not in sys.modules; "
        "assert callable(alvh.indicators.ema); print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


# -- random walks (hypothesis) -----------------------------------------------------------
@hypothesis_settings(max_examples=40)
@given(
    moves=arrays(
        np.float64,
        st.integers(40, 400),
        elements=st.sampled_from([-0.05, -0.01, -0.002, 0.0, 0.0, 0.003, 0.01, 0.04]),
    ),
    start=st.floats(5.0, 5000.0),
)
def test_trend_indicators_match_talib_on_random_walks_with_plateaus(talib, moves, start):
    close = start * np.exp(np.cumsum(moves))
    # Rounding grows with the price level: 1e-9 absolute holds up to index levels of ~1e3
    # (the VIX, SPX / 5); these walks reach 1e10, where the same relative error is larger.
    tol = TALIB_TOL * max(1.0, float(np.max(close)) / 1e3)
    frame = pl.DataFrame({"close": close})
    out = frame.select(
        ind.ema("close", span=10).alias("ema"),
        ind.rsi("close", period=14).alias("rsi"),
        ind.macd("close").alias("m"),
    ).unnest("m")
    assert_matches_talib(out["ema"], talib.EMA(close, timeperiod=10), tol)
    assert_matches_talib(out["rsi"], talib.RSI(close, timeperiod=14))
    line, signal_line, hist = talib.MACD(close)
    assert_matches_talib(out["macd"], line, tol)
    assert_matches_talib(out["macd_hist"], hist, tol)


def test_expression_outputs_are_named_after_their_first_input_as_polars_does():
    frame = pl.DataFrame({"close": np.linspace(100.0, 120.0, 40), "vix": np.linspace(15, 25, 40)})
    out = frame.select(
        ind.ema("close", span=5),
        ind.rsi(pl.col("vix") * 1.0, period=14),
        ind.zscore("vix", window=5).alias("z"),
    )
    assert out.columns == ["close", "vix", "z"]
    assert out["close"][4] == pytest.approx(frame["close"][:5].mean())
