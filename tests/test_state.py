"""`alvh.policy.state.MarketState`: the diagnostics of one day on the arch S&P 500 (1999-2018) and
VIX (2014-2018) histories, checked against TA-Lib and numpy computed directly; each
optional input left out; no look-ahead; bad frames named; constructed breadth, skew,
correlation, macro and custom series that fire and that don't; the TOML round trip and
its errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re

import numpy as np
import polars as pl
import pytest

from alvh.errors import InputTypeError, InvalidInputError
from alvh.policy import Rules
from alvh.policy.state import MarketState

#: The Monday the VIX doubled (2018-02-05, close 37.32): a day every diagnostic has history.
DAY = dt.date(2018, 2, 5)
OPTIONAL = ("vix_futures", "breadth", "macro", "rates", "skew", "correlations", "custom")


@pytest.fixture(scope="module")
def spx() -> pl.DataFrame:
    from arch.data import sp500

    frame = pl.from_pandas(sp500.load().reset_index())
    frame = frame.rename({name: name.lower() for name in frame.columns})
    return frame.select(pl.col("date").cast(pl.Date), "open", "high", "low", "close")


@pytest.fixture(scope="module")
def vix() -> pl.DataFrame:
    """FRED's VIXCLS as arch ships it: holidays are rows with a NaN close."""
    from arch.data import vix as data

    frame = pl.from_pandas(data.load().reset_index())
    return frame.select(pl.col("Date").cast(pl.Date).alias("date"), pl.col("vix").alias("close"))


@pytest.fixture(scope="module")
def extras(spx: pl.DataFrame, vix: pl.DataFrame) -> dict[str, object]:
    """Every optional input, constructed on the SPX dates of 2017-2018."""
    rng = np.random.default_rng(7)
    days = spx.filter(pl.col("date") >= dt.date(2017, 1, 1)).select("date", "close")
    n = days.height
    joined = days.join(vix.rename({"close": "vix"}), on="date", how="left")
    vix_level = joined["vix"].fill_nan(None).fill_null(strategy="forward").to_numpy()
    return {
        "vix_futures": days.select("date").with_columns(
            vx1=pl.Series(vix_level * 1.05), vx2=pl.Series(vix_level * 1.10)
        ),
        "breadth": days.select("date").with_columns(
            advances=pl.Series(rng.integers(800, 2200, n)),
            declines=pl.Series(rng.integers(800, 2200, n)),
        ),
        "macro": pl.DataFrame(
            {
                "date": [
                    dt.date(2017, 12, 13),
                    dt.date(2018, 1, 12),
                    dt.date(2018, 1, 31),
                    dt.date(2018, 2, 14),
                ],
                "cpi_yoy": [0.022, 0.021, None, 0.021],
                "ppi_yoy": [0.031, 0.026, None, 0.027],
                "fomc_tone": ["steady", None, "hawkish", None],
            }
        ),
        "rates": _term_spread(),
        "skew": days.select("date").with_columns(skew=pl.Series(130 + rng.normal(0, 3, n))),
        "correlations": {
            "reits": days.select("date", (pl.col("close") * np.exp(rng.normal(0, 0.01, n))).alias("close"))
        },
        "custom": {
            "hy_spread": (
                days.select("date").with_columns(value=pl.Series(rng.normal(4, 1, n))),
                3.0,
                "above",
            )
        },
    }


def _term_spread() -> pl.DataFrame:
    """The bundled 10-year minus 3-month Treasury spread (percentage points), 2017-2018."""
    from alvh.backtesting.data import sample_data

    sample = sample_data()
    both = sample.ten_year.join(sample.rates.select("date", pl.col("rate_pct").alias("bill")), on="date")
    return both.filter(pl.col("date").is_between(dt.date(2017, 1, 1), dt.date(2018, 12, 31))).select(
        "date", (pl.col("rate_pct") - pl.col("bill")).alias("differential")
    )


def state(spx: pl.DataFrame, vix: pl.DataFrame, date: dt.date = DAY, **kwargs: object) -> MarketState:
    return MarketState.from_history(date, spx=spx, vix=vix, **kwargs)  # type: ignore[arg-type]


def weekdays(n: int, end: dt.date = DAY) -> list[dt.date]:
    """The ``n`` weekdays ending on ``end``."""
    out: list[dt.date] = []
    day = end
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day -= dt.timedelta(days=1)
    return out[::-1]


def closes(values: np.ndarray | list[float], end: dt.date = DAY) -> pl.DataFrame:
    return pl.DataFrame({"date": weekdays(len(values), end), "close": np.asarray(values, float)})


# -- values on a known day -------------------------------------------------------------


def test_state_on_2018_02_05_matches_talib_and_numpy(spx, vix):
    import talib

    result = state(spx, vix)
    spx_past = spx.filter(pl.col("date") <= DAY)
    vix_past = vix.filter(pl.col("date") <= DAY).drop_nans().drop_nulls()
    assert result.date == DAY
    assert result.spx == spx_past["close"][-1]
    assert result.vix == 37.32

    _, _, hist = talib.MACD(spx_past["close"].to_numpy(), 12, 26, 9)
    assert result.macd_hist == pytest.approx(hist[-1], abs=1e-9)
    magnitude = np.abs(hist[-4:])
    assert result.macd_expanding == bool(np.all(np.diff(magnitude) > 0))
    assert result.macd_expanding is True  # the selloff of early February 2018

    rsi = talib.RSI(vix_past["close"].to_numpy(), 14)
    assert result.vix_rsi == pytest.approx(rsi[-1], abs=1e-9)

    log_returns = np.diff(np.log(spx_past["close"].to_numpy()[-21:]))
    realized = np.std(log_returns, ddof=1) * math.sqrt(252)
    assert result.implied_minus_realized == pytest.approx(0.3732 - realized, abs=1e-12)

    assert set(result.missing_names) == set(OPTIONAL)
    assert all(entry.endswith(": not given") for entry in result.missing)


def test_state_with_every_input_matches_the_indicators(spx, vix, extras):
    import alvh.policy.indicators as ind

    result = state(spx, vix, **extras)
    assert result.missing == ()
    futures = extras["vix_futures"].filter(pl.col("date") == DAY)  # type: ignore[union-attr]
    assert result.vix_vx1 == pytest.approx(1 / 1.05)
    assert result.vx1_vx2 == pytest.approx(futures["vx1"][0] / futures["vx2"][0])
    assert result.backwardation is False

    skew = ind.add_skew(extras["skew"].filter(pl.col("date") <= DAY))  # type: ignore[union-attr]
    assert result.skew_z == pytest.approx(skew["skew_zscore"][-1], abs=1e-12)
    assert result.skew_steepening == (skew["skew_zscore"][-1] > 2.0)

    breadth = (
        extras["breadth"]
        .join(spx, on="date")
        .filter(  # type: ignore[union-attr]
            pl.col("date") <= DAY
        )
    )
    expected = ind.add_breadth(breadth, window=20)
    assert result.ad_divergence == expected["ad_negative_divergence"][-1]
    line = expected["ad_line"].to_numpy()
    assert result.breadth_bid == bool(line[-1] >= line[-20:].max())

    reits = extras["correlations"]["reits"].filter(pl.col("date") <= DAY)  # type: ignore[index]
    spx_past = spx.filter(pl.col("date") >= reits["date"][0], pl.col("date") <= DAY)
    a = np.diff(np.log(reits["close"].to_numpy()))[-20:]
    b = np.diff(np.log(spx_past["close"].to_numpy()))[-20:]
    assert result.correlations["reits"] == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-9)
    assert set(result.correlation_tightening) == {"reits"}

    assert result.breadth_source == "advances/declines"
    spread = extras["rates"].filter(pl.col("date") <= DAY)["differential"].to_numpy()  # type: ignore[union-attr]
    assert result.rate_differential == spread[-1]
    assert result.rate_differential_change == pytest.approx(spread[-1] - spread[-21], abs=1e-12)
    assert result.rate_differential_stable == (abs(spread[-1] - spread[-21]) <= 0.25)

    # Macro: the readings of 2018-01-12 (null on 01-31 is "no new reading"), the tone of 01-31.
    assert (result.cpi_yoy, result.ppi_yoy, result.fomc_tone) == (0.021, 0.026, "hawkish")
    series = extras["custom"]["hy_spread"][0].filter(pl.col("date") == DAY)  # type: ignore[index]
    value = series["value"][0]
    assert result.custom == {"hy_spread": (value, 3.0, value > 3.0)}


@pytest.mark.parametrize("left_out", OPTIONAL)
def test_each_optional_input_left_out_is_none_and_named_in_missing(spx, vix, extras, left_out):
    fields_of = {
        "vix_futures": ("vix_vx1", "vx1_vx2", "backwardation"),
        "breadth": ("ad_divergence", "breadth_bid", "breadth_source"),
        "macro": ("cpi_yoy", "ppi_yoy", "fomc_tone"),
        "rates": ("rate_differential", "rate_differential_change", "rate_differential_stable"),
        "skew": ("skew_z", "skew_steepening"),
        "correlations": ("correlations", "correlation_tightening"),
        "custom": ("custom",),
    }
    given = {name: frame for name, frame in extras.items() if name != left_out}
    result = state(spx, vix, **given)
    assert result.missing == (f"{left_out}: not given",)
    for name, owned in fields_of.items():
        for field_name in owned:
            value = getattr(result, field_name)
            if name == left_out:
                assert value in (None, {}), field_name
            else:
                assert value not in (None, {}), field_name


def test_too_little_history_gives_none_with_the_rows_needed(spx, vix):
    short_spx = spx.filter(pl.col("date") <= DAY).tail(20)
    short_vix = vix.filter(pl.col("date") <= DAY).drop_nans().tail(10)
    result = state(short_spx, short_vix)
    assert result.macd_hist is None and result.macd_expanding is None
    assert result.vix_rsi is None and result.implied_minus_realized is None
    assert "macd_hist: 20 rows of SPX history, 34 needed" in result.missing
    assert "macd_expanding: 20 rows of SPX history, 37 needed" in result.missing
    assert "vix_rsi: 10 rows of VIX history, 15 needed" in result.missing
    assert "implied_minus_realized: 20 rows of SPX history, 21 needed" in result.missing
    assert result.realized_estimator is None  # no spread, no estimator to name
    # One more row each and they are defined; the expanding window follows the rules.
    exact = state(spx.filter(pl.col("date") <= DAY).tail(35), vix, rules=Rules(macd_expanding_days=1))
    assert exact.macd_hist is not None and exact.macd_expanding is not None


def test_spx_without_open_high_low_still_gives_every_spx_diagnostic(spx, vix):
    full = state(spx, vix)
    close_only = state(spx.select("date", "close"), vix)
    assert close_only == full
    # close-to-close with or without OHLC, and the state says so
    assert full.realized_estimator == close_only.realized_estimator == "close_to_close"


# -- no look-ahead ---------------------------------------------------------------------


def test_rows_after_the_date_change_nothing(spx, vix, extras):
    before = state(spx, vix, **extras)

    def scramble(frame: pl.DataFrame) -> pl.DataFrame:
        later = pl.col("date") > DAY
        return frame.with_columns(
            pl.when(later)
            .then(pl.col(c) * 3 if frame.schema[c].is_numeric() else None)
            .otherwise(pl.col(c))
            .alias(c)
            for c in frame.columns
            if c != "date"
        )

    changed = {
        "vix_futures": scramble(extras["vix_futures"]),  # type: ignore[arg-type]
        "breadth": scramble(extras["breadth"]),  # type: ignore[arg-type]
        "macro": scramble(extras["macro"]),  # type: ignore[arg-type]
        "rates": scramble(extras["rates"]),  # type: ignore[arg-type]
        "skew": scramble(extras["skew"]),  # type: ignore[arg-type]
        "correlations": {"reits": scramble(extras["correlations"]["reits"])},  # type: ignore[index]
        "custom": {"hy_spread": (scramble(extras["custom"]["hy_spread"][0]), 3.0, "above")},  # type: ignore[index]
    }
    assert changed["macro"]["cpi_yoy"][-1] == pytest.approx(0.063)  # the later row did change
    after = state(scramble(spx), scramble(vix), **changed)
    assert after == before
    truncated = state(spx.filter(pl.col("date") <= DAY), vix.filter(pl.col("date") <= DAY), **extras)
    assert truncated == before


def test_a_date_that_is_not_a_trading_day_is_an_error_naming_the_last_one(spx, vix):
    saturday = dt.date(2018, 2, 3)
    with pytest.raises(InvalidInputError, match=r"spx: no row on 2018-02-03.*2018-02-02") as err:
        state(spx, vix, date=saturday)
    assert err.value.arg == "spx"
    with pytest.raises(InvalidInputError, match=r"vix: no row on 2001-03-05.*starts on 2014-01-03"):
        state(spx, vix, date=dt.date(2001, 3, 5))


def test_a_null_close_on_the_date_is_an_error_but_earlier_holiday_rows_are_dropped(spx, vix):
    # FRED lists 2018-01-15 (a holiday) with a NaN close: dropped, the RSI is still defined.
    assert vix.filter(pl.col("date") == dt.date(2018, 1, 15))["close"].is_nan().all()
    assert state(spx, vix).vix_rsi is not None
    holed = vix.with_columns(
        pl.when(pl.col("date") == DAY).then(None).otherwise(pl.col("close")).alias("close")
    )
    with pytest.raises(InvalidInputError, match="vix: the close on 2018-02-05 is missing"):
        state(spx, holed)


# -- bad frames ------------------------------------------------------------------------


def frames_with(extras: dict[str, object], arg: str, bad: pl.DataFrame) -> dict[str, object]:
    out = dict(extras)
    if arg == "correlations":
        out[arg] = {"reits": bad}
    elif arg == "custom":
        out[arg] = {"hy_spread": (bad, 3.0, "above")}
    else:
        out[arg] = bad
    return out


def original(extras: dict[str, object], arg: str, spx: pl.DataFrame, vix: pl.DataFrame) -> pl.DataFrame:
    if arg in ("spx", "vix"):
        return spx if arg == "spx" else vix
    if arg == "correlations":
        return extras[arg]["reits"]  # type: ignore[index, no-any-return]
    if arg == "custom":
        return extras[arg]["hy_spread"][0]  # type: ignore[index, no-any-return]
    return extras[arg]  # type: ignore[return-value]


@pytest.mark.parametrize("arg", ("spx", "vix", *OPTIONAL))
@pytest.mark.parametrize("defect", ("duplicate", "unsorted"))
def test_duplicate_or_unsorted_dates_name_the_frame_and_the_row(spx, vix, extras, arg, defect):
    frame = original(extras, arg, spx, vix)
    # The defect lies after DAY: the date column is checked whole all the same.
    row = min(frame.filter(pl.col("date") <= DAY).height + 1, frame.height - 1)
    dates = frame["date"].to_list()
    if defect == "duplicate":
        dates[row] = dates[row - 1]
    else:
        dates[row - 1], dates[row] = dates[row], dates[row - 1]
    bad = frame.with_columns(pl.Series("date", dates, pl.Date))
    given = frames_with(extras, arg, bad)
    spx_frame, vix_frame = given.pop("spx", spx), given.pop("vix", vix)
    name = {"correlations": "correlations['reits']", "custom": "custom['hy_spread']"}.get(arg, arg)
    word = "duplicate date" if defect == "duplicate" else "not sorted ascending"
    expected = (
        rf"^{re.escape(name)}: .*{word}.* at row {row}"
        if defect == "duplicate"
        else rf"^{re.escape(name)}: .*{word}: row {row}"
    )
    with pytest.raises(InvalidInputError, match=expected) as err:
        state(spx_frame, vix_frame, **given)  # type: ignore[arg-type]
    assert err.value.arg == name


def test_frame_type_columns_and_values_are_checked_naming_the_frame(spx, vix, extras):
    with pytest.raises(InputTypeError, match=r"spx: column 'date' must be pl.Date, got Datetime"):
        state(spx.with_columns(pl.col("date").cast(pl.Datetime)), vix)
    with pytest.raises(InvalidInputError, match=r"vix: column 'close' is missing"):
        state(spx, vix.rename({"close": "vix"}))
    with pytest.raises(InputTypeError, match="vix_futures must be a polars DataFrame"):
        state(spx, vix, vix_futures={"vx1": [1.0]})
    with pytest.raises(InvalidInputError, match=r"spx: .*finite prices > 0.* row 3"):
        state(
            spx.with_columns(
                pl.when(pl.int_range(pl.len()) == 3).then(-1.0).otherwise(pl.col("close")).alias("close")
            ),
            vix,
        )
    with pytest.raises(InvalidInputError, match=r"spx: high is below low"):
        state(spx.with_columns(high=pl.col("low") - 1), vix)
    macro = extras["macro"]
    with pytest.raises(InvalidInputError, match=r"macro: unknown column 'cpi'"):
        state(spx, vix, macro=macro.rename({"cpi_yoy": "cpi"}))  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match=r"macro: fomc_tone at row 2 .*'hawkish!'"):
        state(
            spx,
            vix,
            macro=macro.with_columns(  # type: ignore[union-attr]
                pl.col("fomc_tone").str.replace("hawkish", "hawkish!")
            ),
        )
    with pytest.raises(InvalidInputError, match=r"macro: cpi_yoy at row 1 .* as decimals"):
        state(spx, vix, macro=macro.with_columns(pl.col("cpi_yoy") * 100))  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match=r"custom\['x'\]: direction must be"):
        state(spx, vix, custom={"x": (closes([1.0]).rename({"close": "value"}), 1.0, "over")})
    with pytest.raises(InvalidInputError, match="breadth: .* counts >= 0"):
        state(
            spx,
            vix,
            breadth=extras["breadth"].with_columns(  # type: ignore[union-attr]
                advances=-pl.col("advances")
            ),
        )
    with pytest.raises(InputTypeError, match="date must be a datetime.date"):
        MarketState.from_history(dt.datetime(2018, 2, 5), spx=spx, vix=vix)


# -- constructed series that fire, and that don't -----------------------------------------


def rising_spx(n: int = 40) -> pl.DataFrame:
    return closes(2000.0 + 5.0 * np.arange(n))


def breadth_frame(net: list[int]) -> pl.DataFrame:
    advances = [1500 + max(x, 0) for x in net]
    declines = [1500 + max(-x, 0) for x in net]
    return pl.DataFrame({"date": weekdays(len(net)), "advances": advances, "declines": declines})


def test_ad_divergence_fires_on_a_spx_high_the_ad_line_does_not_confirm():
    spx = rising_spx()
    vix = closes(np.full(40, 15.0))
    fading = state(spx, vix, breadth=breadth_frame([300] * 30 + [-200] * 10))
    assert fading.ad_divergence is True and fading.breadth_bid is False
    confirming = state(spx, vix, breadth=breadth_frame([300] * 40))
    assert confirming.ad_divergence is False and confirming.breadth_bid is True
    # A window longer than the history: undecided, and named.
    long_window = state(spx, vix, rules=Rules(breadth_window=60), breadth=breadth_frame([300] * 40))
    assert long_window.ad_divergence is None and long_window.breadth_bid is None
    assert "ad_divergence: 40 rows of breadth (on SPX dates) history, 60 needed" in long_window.missing


def test_breadth_on_a_stale_date_is_missing_not_used():
    spx, vix = rising_spx(), closes(np.full(40, 15.0))
    stale = breadth_frame([300] * 40).filter(pl.col("date") < DAY)
    result = state(spx, vix, breadth=stale)
    assert result.ad_divergence is None
    assert "breadth: no row on 2018-02-05 (last row 2018-02-02)" in result.missing


def test_skew_steepening_fires_on_a_spike_and_follows_the_rules_threshold():
    rng = np.random.default_rng(3)
    base = 120.0 + rng.normal(0.0, 1.0, 100)
    spx, vix = rising_spx(100), closes(np.full(100, 15.0))
    spike = state(spx, vix, skew=closes(np.append(base[:-1], 135.0)).rename({"close": "skew"}))
    window = np.append(base[:-1], 135.0)[-60:]
    assert spike.skew_z == pytest.approx((135.0 - window.mean()) / window.std(ddof=1))
    assert spike.skew_steepening is True
    calm = state(spx, vix, skew=closes(np.append(base[:-1], base[-61:-1].mean())).rename({"close": "skew"}))
    assert calm.skew_steepening is False
    strict = state(
        spx,
        vix,
        rules=Rules(skew_z_threshold=10.0),
        skew=closes(np.append(base[:-1], 135.0)).rename({"close": "skew"}),
    )
    assert strict.skew_steepening is False


def test_correlation_tightening_fires_when_a_series_starts_moving_with_spx():
    rng = np.random.default_rng(11)
    spx_returns = rng.normal(0.0, 0.01, 60)
    spx = closes(2000.0 * np.exp(np.concatenate([[0.0], np.cumsum(spx_returns)])))
    vix = closes(np.full(61, 15.0))
    own = rng.normal(0.0, 0.01, 60)
    # Independent for 48 days, then the SPX's own moves for the last 12.
    joining = np.concatenate([own[:48], spx_returns[48:]])
    series = {
        "joining": closes(50.0 * np.exp(np.concatenate([[0.0], np.cumsum(joining)]))),
        "levered": spx.with_columns(pl.col("close") * 2.0),  # the same returns throughout
    }
    result = state(spx, vix, correlations=series)
    expected = np.corrcoef(joining[-20:], spx_returns[-20:])[0, 1]
    assert result.correlations["joining"] == pytest.approx(expected, abs=1e-9)
    assert result.correlation_tightening == {"joining": True, "levered": False}
    assert result.correlations["levered"] == pytest.approx(1.0)
    short = state(spx.tail(25), vix, correlations={"levered": series["levered"].tail(25)})
    assert short.correlations == {"levered": pytest.approx(1.0)}
    assert short.correlation_tightening == {}
    assert (
        "correlation_tightening[levered]: 25 rows of levered on SPX dates history, 31 needed"
    ) in short.missing


def test_custom_series_fire_above_or_below_their_threshold_from_the_latest_value():
    spx, vix = rising_spx(), closes(np.full(40, 15.0))
    # Weekly readings: the latest on or before DAY is the one of 2018-02-01.
    weekly = pl.DataFrame(
        {
            "date": [dt.date(2018, 1, 25), dt.date(2018, 2, 1), dt.date(2018, 2, 8)],
            "value": [240.0, 230.0, 999.0],
        }
    )
    result = state(
        spx,
        vix,
        custom={
            "claims_high": (weekly, 235.0, "above"),
            "claims_low": (weekly, 235.0, "below"),
            "future_only": (weekly.tail(1), 1.0, "above"),
        },
    )
    assert result.custom == {"claims_high": (230.0, 235.0, False), "claims_low": (230.0, 235.0, True)}
    assert "custom[future_only]: no value on or before 2018-02-05" in result.missing


def test_term_structure_backwardation_and_a_missing_second_future():
    spx, vix = rising_spx(), closes(np.full(40, 30.0))
    futures = pl.DataFrame({"date": weekdays(3), "vx1": [20.0, 22.0, 25.0], "vx2": [21.0, 22.5, 24.0]})
    stressed = state(spx, vix, vix_futures=futures)
    assert stressed.vix_vx1 == pytest.approx(30.0 / 25.0)
    assert stressed.vx1_vx2 == pytest.approx(25.0 / 24.0)
    assert stressed.backwardation is True
    front_only = state(spx, closes(np.full(40, 20.0)), vix_futures=futures.drop("vx2"))
    assert front_only.vx1_vx2 is None and front_only.backwardation is False
    assert front_only.missing_names.count("vx1_vx2") == 1


def test_macro_series_are_step_functions_known_on_the_date():
    spx, vix = rising_spx(), closes(np.full(40, 15.0))
    macro = pl.DataFrame(
        {
            "date": [dt.date(2018, 1, 12), dt.date(2018, 2, 5), dt.date(2018, 2, 14)],
            "cpi_yoy": [0.021, None, 0.05],
            "fomc_tone": [None, "dovish", None],
        }
    )
    result = state(spx, vix, macro=macro)
    assert (result.cpi_yoy, result.fomc_tone) == (0.021, "dovish")
    assert result.ppi_yoy is None and "ppi_yoy: not in macro" in result.missing
    before = state(
        closes(np.full(40, 2000.0), end=dt.date(2018, 1, 11)),
        closes(np.full(40, 15.0), end=dt.date(2018, 1, 11)),
        date=dt.date(2018, 1, 11),
        macro=macro,
    )
    assert before.cpi_yoy is None and "cpi_yoy: no reading on or before 2018-01-11" in before.missing


# -- TOML --------------------------------------------------------------------------------


def test_toml_round_trip_is_exact_and_to_dict_is_json(spx, vix, extras, tmp_path):
    full = state(spx, vix, **extras)
    sparse = state(spx.filter(pl.col("date") <= DAY).tail(30), vix)
    for original_state in (full, sparse):
        path = tmp_path / "state.toml"
        original_state.to_toml(path)
        assert MarketState.from_toml(path) == original_state
        assert json.loads(json.dumps(original_state.to_dict()))["date"] == "2018-02-05"
    assert [p.name for p in tmp_path.iterdir()] == ["state.toml"]  # no temp file left
    assert "\nmacd_hist =" not in (tmp_path / "state.toml").read_text()  # None is left out


def test_a_hand_written_state_lists_its_absent_diagnostics(tmp_path):
    path = tmp_path / "state.toml"
    path.write_text(
        "date = 2024-10-18\nvix = 18.4\nspx = 5864.7\nmacd_hist = -3.5\n"
        'fomc_tone = "steady"\n[custom.claims]\nvalue = 240.0\nthreshold = 235.0\n'
        "fired = true\n"
    )
    result = MarketState.from_toml(path)
    assert result.macd_hist == -3.5 and result.fomc_tone == "steady"
    assert result.custom == {"claims": (240.0, 235.0, True)}
    assert "macd_expanding: not in the state file" in result.missing
    assert "macd_hist" not in result.missing_names


@pytest.mark.parametrize(
    ("body", "field", "line"),
    [
        ('date = 2018-02-05\nvix = "high"\nspx = 2649.0\n', "vix", 2),
        ("date = 2018-02-05\nvix = 37.3\nspx = 2649.0\nmacd_expanding = 1\n", "macd_expanding", 4),
        ("date = 2018-02-05\nvix = 37.3\nspx = 2649.0\nmacd_hst = 1.0\n", "macd_hst", 4),
        ('date = "2018-02-05"\nvix = 37.3\nspx = 2649.0\n', "date", 1),
        ("date = 2018-02-05\nspx = 2649.0\n", "vix", None),
        ('date = 2018-02-05\nvix = 37.3\nspx = 2649.0\nfomc_tone = "hawk"\n', "fomc_tone", 4),
        (
            'date = 2018-02-05\nvix = 37.3\nspx = 2649.0\nrealized_estimator = "parkinson"\n',
            "realized_estimator",
            4,
        ),
        (
            "date = 2018-02-05\nvix = 37.3\nspx = 2649.0\n[correlations]\nreits = 1.5\n",
            "correlations.reits",
            5,
        ),
        (
            "date = 2018-02-05\nvix = 37.3\nspx = 2649.0\n[custom.claims]\nvalue = 1.0\nthreshold = 2.0\n",
            "custom.claims.fired",
            4,
        ),  # a missing key: its table's line
        ("date = 2018-02-05\nvix = -1.0\nspx = 2649.0\n", "vix", 2),
    ],
)
def test_a_malformed_state_file_names_the_file_and_the_field(tmp_path, body, field, line):
    path = tmp_path / "bad_state.toml"
    path.write_text(body)
    where = f"{path}:{line}" if line else f"{path}"
    with pytest.raises(InvalidInputError, match=rf"^{re.escape(where)}: field {re.escape(field)}:"):
        MarketState.from_toml(path)


def test_a_file_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "state.toml"
    path.write_text("date = 2018-02-05\nvix = \n")
    with pytest.raises(InvalidInputError, match=rf"^{re.escape(str(path))}: not valid TOML"):
        MarketState.from_toml(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vix_rsi", 150.0, r"vix_rsi must be in \[0, 100\]; got 150.0"),
        ("vix_rsi", -1.0, r"vix_rsi must be in \[0, 100\]"),
        ("vix_vx1", 0.0, r"vix_vx1 must be in \(0, inf\]; got 0.0"),
        ("vx1_vx2", -1.0, r"vx1_vx2 must be in \(0, inf\]"),
        ("cpi_yoy", -1.5, r"cpi_yoy must be in \(-1, inf\]"),
        ("macd_hist", float("nan"), r"macd_hist must be a finite number or None; got nan"),
        ("skew_z", "2", r"skew_z must be a finite number or None"),
    ],
)
def test_state_diagnostics_outside_their_range_are_refused(field, value, message):
    # issue 16 point 3: such states were accepted and journaled
    with pytest.raises(InvalidInputError, match=message) as info:
        MarketState(date=DAY, vix=20.0, spx=2700.0, **{field: value})
    assert info.value.arg == field


def test_state_is_frozen_and_checks_its_closes():
    result = MarketState(date=DAY, vix=20.0, spx=2700.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.vix = 30.0  # type: ignore[misc]
    with pytest.raises(InvalidInputError, match="vix must be a finite close > 0"):
        MarketState(date=DAY, vix=0.0, spx=2700.0)


def test_alvh_exports_market_state_lazily():
    import subprocess
    import sys

    code = (
        "import sys, alvh; assert 'alvh.policy.state' not in sys.modules; "
        "from alvh import MarketState; print(MarketState.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "alvh.policy.state"


def test_a_flat_skew_series_gives_an_undefined_z_score_named_in_missing():
    spx, vix = rising_spx(70), closes(np.full(70, 15.0))
    result = state(spx, vix, skew=closes(np.full(70, 120.0)).rename({"close": "skew"}))
    assert result.skew_z is None and result.skew_steepening is None
    assert (
        "skew_z: undefined on 2018-02-05 (a null in the window, or a flat series of the skew history)"
    ) in result.missing


def test_the_documented_example_state_file_reads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "state.toml"
    result = MarketState.from_toml(path)
    assert (result.date, result.vix, result.backwardation) == (DAY, 37.32, True)
    assert result.custom == {"hy_spread": (4.2, 3.0, True)}
    assert result.missing == ()


def test_a_breadth_line_given_directly_is_labelled_and_used_as_the_ad_line(spx, vix):
    from alvh.policy.indicators import breadth as ind

    days = spx.filter(pl.col("date").is_between(dt.date(2017, 6, 1), DAY)).select("date", "close")
    line = days.select("date", (pl.col("close").log() * 0.5).alias("line"))  # moves with the SPX
    result = state(spx, vix, breadth=line, breadth_source="proxy: half the SPX's log level")
    assert result.breadth_source == "proxy: half the SPX's log level"
    # the line follows the SPX, so it is at its 20-day high exactly when the SPX is
    closes = days["close"].to_numpy()
    assert result.breadth_bid == bool(closes[-1] >= closes[-20:].max())
    assert result.ad_divergence is False
    unlabelled = state(spx, vix, breadth=line)
    assert unlabelled.breadth_source == "breadth line given"
    with pytest.raises(InvalidInputError, match="breadth_source must be a non-empty string"):
        state(spx, vix, breadth=line, breadth_source="")
    # proxy_line: the mean log level; a null level makes the line null, not half of it
    frame = pl.DataFrame({"a": [100.0, 110.0, None], "b": [50.0, 55.0, 60.0]})
    out = frame.select(ind.proxy_line("a", "b").alias("x"))["x"].to_list()
    assert out[0] == pytest.approx((np.log(100.0) + np.log(50.0)) / 2) and out[2] is None


def test_rates_need_their_window_and_take_the_latest_row_on_or_before(spx, vix):
    spread = _term_spread()
    short = spread.filter(pl.col("date") <= DAY).tail(5)
    result = state(spx, vix, rates=short)
    assert result.rate_differential == short["differential"][-1]
    assert result.rate_differential_change is None and result.rate_differential_stable is None
    assert any(
        m.startswith("rate_differential_change: 5 rows of rates history, 21 needed") for m in result.missing
    )
    # a holiday gap: the rates frame without the day itself still gives the latest reading
    gap = spread.filter(pl.col("date") < DAY)
    assert state(spx, vix, rates=gap).rate_differential == gap["differential"][-1]
    tight = state(spx, vix, rates=spread, rules=Rules(rate_stability=0.0001))
    assert tight.rate_differential_stable is (abs(tight.rate_differential_change) <= 0.0001)
