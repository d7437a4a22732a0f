"""Option chains: `alvh.market.chain.load_chain` validation and the SSVI fit.

The fit is checked on chains generated from a known `SsviSurface` (prices from
`alvh.bsm.price` at the model vols on the SPX 5-point strike grid): exact mids
recover the parameters to ~1e-10, quotes with a bid/ask spread rounded to SPX ticks
recover them to a few 1e-3.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from alvh import bsm
from alvh.errors import InvalidInputError
from alvh.market import Market, SsviSurface, VixFutures
from alvh.market.chain import InvalidChainError, load_chain
from alvh.market.fit import (
    REASON_EXPIRED,
    REASON_ITM,
    REASON_NO_VOL,
    REASON_ZERO_BID,
    FitResult,
    fit_ssvi,
)

AS_OF = date(2024, 10, 1)
TRUE_MODEL = SsviSurface(atm_vix_ratio=0.87, rho=-0.6, eta=1.1, gamma=0.4)
#: (expiry, strike step on the 5-point grid): wider steps for longer tenors.
EXPIRIES = (
    (date(2024, 10, 18), 10),
    (date(2024, 11, 15), 25),
    (date(2024, 12, 20), 50),
    (date(2025, 1, 17), 75),
)
STRIKES_PER_EXPIRY = 40


def make_market(model: SsviSurface | None = None) -> Market:
    futures = VixFutures.explicit(
        {date(2024, 10, 16): 18.9, date(2024, 11, 20): 19.6, date(2024, 12, 18): 20.1}
    )
    return Market(
        as_of=AS_OF,
        spot=5750.0,
        rate=0.045,
        div=0.013,
        vix=18.0,
        futures=futures,
        vol_model=model or SsviSurface(),
    )


def _tick(price: np.ndarray) -> np.ndarray:
    """SPX minimum tick: 0.05 below 3.00, 0.10 from 3.00."""
    return np.where(price < 3.0, 0.05, 0.10)


def make_chain(
    spread: float = 0.0, *, both_types: bool = True, noise: float = 0.0, model: SsviSurface = TRUE_MODEL
) -> pl.DataFrame:
    """A chain priced off ``model`` (default `TRUE_MODEL`): ~40 strikes per expiry, puts and calls.

    ``spread == 0``: bid == ask == the model price. Otherwise a half-spread of
    ``spread * (0.05 + 1 % of the price)``, bid rounded down and ask up to the tick;
    ``noise`` moves each quote off centre by up to ``noise`` half-spreads (seeded).
    """
    market = make_market(model)
    rng = np.random.default_rng(20_241_001)
    frames = []
    for expiry, step in EXPIRIES:
        forward = float(market.forward(expiry))
        atm_strike = round(forward / 5.0) * 5.0
        half = STRIKES_PER_EXPIRY // 2
        strikes = atm_strike + step * np.arange(-half, half, dtype=np.float64)
        vols = market.spx_vol(strikes, expiry)
        for kind in ("put", "call") if both_types else ("put",):
            price = bsm.price(
                is_call=kind == "call",
                spot=market.spot,
                strike=strikes,
                t=market.t(expiry),
                rate=market.rate,
                div=market.div,
                vol=vols,
            )
            if spread:
                half_spread = spread * (0.05 + 0.01 * price)
                tick = _tick(price)
                centre = price + noise * half_spread * rng.uniform(-1.0, 1.0, price.size)
                bid = np.maximum(np.floor((centre - half_spread) / tick) * tick, 0.0)
                ask = np.ceil((centre + half_spread) / tick) * tick
            else:
                bid = ask = price
            frames.append(
                pl.DataFrame(
                    {
                        "expiry": [expiry] * strikes.size,
                        "strike": strikes,
                        "type": [kind] * strikes.size,
                        "bid": bid,
                        "ask": ask,
                    }
                )
            )
    return pl.concat(frames)


# --------------------------------------------------------------------------- fit


def test_fit_recovers_parameters_exact_mids() -> None:
    chain = make_chain()
    result = fit_ssvi(chain, make_market(), fit_ratio=True)
    assert isinstance(result, FitResult)
    assert result.success
    assert result.model.atm_vix_ratio == pytest.approx(TRUE_MODEL.atm_vix_ratio, abs=1e-8)
    assert result.model.rho == pytest.approx(TRUE_MODEL.rho, abs=1e-8)
    assert result.model.eta == pytest.approx(TRUE_MODEL.eta, abs=1e-8)
    assert result.model.gamma == pytest.approx(TRUE_MODEL.gamma, abs=1e-8)
    assert result.rmse < 1e-6
    # Half the rows (the in-the-money side) are excluded and reported.
    assert result.rows_used + result.rows_excluded == chain.height
    assert result.excluded == {REASON_ITM: result.rows_excluded}
    assert result.rows_used == chain.height // 2
    assert result.market.vol_model == result.model


@pytest.mark.parametrize("weighting", ["vega", "equal"])
def test_fit_recovers_parameters_with_spread(weighting: str) -> None:
    # Plus a far call quoted 0 / 0.05, as listed wings are.
    far = pl.DataFrame(
        {"expiry": [EXPIRIES[0][0]], "strike": [7500.0], "type": ["call"], "bid": [0.0], "ask": [0.05]}
    )
    chain = pl.concat([make_chain(spread=1.0), far])
    result = fit_ssvi(chain, make_market(), weighting=weighting, fit_ratio=True)
    assert result.success
    # tick rounding alone moves the parameters by ~5e-5
    assert result.model.atm_vix_ratio == pytest.approx(TRUE_MODEL.atm_vix_ratio, abs=1e-3)
    assert result.model.rho == pytest.approx(TRUE_MODEL.rho, abs=1e-3)
    assert result.model.eta == pytest.approx(TRUE_MODEL.eta, abs=1e-3)
    assert result.model.gamma == pytest.approx(TRUE_MODEL.gamma, abs=1e-3)
    assert result.rmse < 0.1  # vol points
    # Far wings round to a zero bid: kept by load_chain, excluded by the fit, reported.
    assert result.excluded.get(REASON_ZERO_BID, 0) > 0
    assert sum(result.excluded.values()) == result.rows_excluded


@pytest.mark.parametrize("weighting", ["vega", "equal"])
def test_fit_with_off_centre_quotes(weighting: str) -> None:
    """Mids off the true price by up to a half-spread: looser, but still close."""
    result = fit_ssvi(make_chain(spread=1.0, noise=1.0), make_market(), weighting=weighting, fit_ratio=True)
    assert result.success
    assert result.model.atm_vix_ratio == pytest.approx(TRUE_MODEL.atm_vix_ratio, abs=3e-3)
    # rho and eta trade off along a ridge (both steepen the put wing): within 1 %.
    assert result.model.rho == pytest.approx(TRUE_MODEL.rho, rel=1e-2)
    assert result.model.eta == pytest.approx(TRUE_MODEL.eta, rel=1e-2)
    assert result.model.gamma == pytest.approx(TRUE_MODEL.gamma, rel=1e-2)
    assert result.rmse < 0.5  # vol points


def test_fit_without_ratio_solves_it_from_the_vix() -> None:
    # A VIX-consistent truth (its ratio solved from the market's VIX): the fit recovers
    # the smile and its own ratio is the solved one, so its options give the VIX back.
    truth = make_market(SsviSurface(rho=-0.6, eta=1.1, gamma=0.4)).vol_model
    result = fit_ssvi(make_chain(model=truth), make_market(), fit_ratio=False)
    assert result.model.atm_vix_ratio == pytest.approx(truth.atm_vix_ratio, abs=1e-6)
    assert result.model.rho == pytest.approx(truth.rho, abs=1e-6)
    assert result.model.eta == pytest.approx(truth.eta, abs=1e-6)
    assert result.model.gamma == pytest.approx(truth.gamma, abs=1e-6)


def test_fit_is_reproducible() -> None:
    chain = make_chain(spread=1.0)
    result = fit_ssvi(chain, make_market(), weighting="equal", fit_ratio=True)
    direct = fit_ssvi(chain, make_market(), weighting="equal", fit_ratio=True)
    assert result.model == direct.model
    assert result.rmse == direct.rmse


def test_fit_reports_every_excluded_row(tmp_path: Path) -> None:
    chain = make_chain(both_types=False)
    put_otm = chain.filter(pl.col("strike") < 5700).row(0, named=True)
    extra = pl.DataFrame(
        [
            # expired
            {**put_otm, "expiry": date(2024, 9, 20)},
            # zero bid
            {**put_otm, "bid": 0.0, "ask": 0.05},
            # a mid below the intrinsic-free floor: an OTM put quoted above the strike
            {**put_otm, "bid": 6000.0, "ask": 6001.0},
        ],
        schema=chain.schema,
    )
    chain = pl.concat([chain, extra])
    path = tmp_path / "chain.csv"
    chain.write_csv(path)
    result = fit_ssvi(path, make_market(), fit_ratio=True)
    frame = result.to_polars()
    assert frame.height == chain.height
    assert result.excluded[REASON_EXPIRED] == 1
    assert result.excluded[REASON_ZERO_BID] == 1
    assert result.excluded[REASON_NO_VOL] == 1
    assert result.excluded[REASON_ITM] > 0
    assert result.rows_used == int(frame.get_column("used").sum())
    assert result.rows_excluded == frame.filter(~pl.col("used")).height
    unused = frame.filter(~pl.col("used"))
    assert unused.get_column("reason").null_count() == 0
    assert frame.filter(pl.col("used")).get_column("reason").null_count() == result.rows_used
    # the CSV lines of the appended rows are reported
    last = frame.tail(3)
    assert last.get_column("line").to_list() == [chain.height - 1, chain.height, chain.height + 1]
    assert last.get_column("reason").to_list() == [REASON_EXPIRED, REASON_ZERO_BID, REASON_NO_VOL]
    # the fit still recovers the model from the good rows
    assert result.model.rho == pytest.approx(TRUE_MODEL.rho, abs=1e-8)


def test_fit_needs_enough_rows() -> None:
    chain = make_chain().head(2)
    with pytest.raises(InvalidInputError, match="usable rows"):
        fit_ssvi(chain, make_market(), fit_ratio=True)


def test_fit_rejects_scenario_market() -> None:
    bumped = make_market().bump(vix_shift=2.0, dynamics="sticky_strike")
    with pytest.raises(InvalidInputError, match="scenario"):
        fit_ssvi(make_chain(), bumped, fit_ratio=True)


# --------------------------------------------------------------------------- loading


def test_csv_round_trip(tmp_path: Path) -> None:
    chain = make_chain(spread=1.0)
    path = tmp_path / "chain.csv"
    chain.write_csv(path)
    loaded = load_chain(path)
    assert loaded.columns == ["expiry", "strike", "type", "bid", "ask", "zero_bid", "row", "line"]
    assert loaded.select("expiry", "strike", "type", "bid", "ask").equals(chain)
    assert loaded.get_column("row").to_list() == list(range(1, chain.height + 1))
    assert loaded.get_column("line").to_list() == list(range(2, chain.height + 2))
    assert loaded.get_column("zero_bid").to_list() == (chain.get_column("bid") == 0).to_list()
    # and from the DataFrame directly
    direct = load_chain(chain)
    assert direct.drop("line").equals(loaded.drop("line"))
    assert direct.get_column("line").null_count() == chain.height


def test_type_spellings_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "Expiry,Strike,Type,Bid,Ask,Note\n2024-11-15,5700,P,10.5,10.9,x\n\n2024-11-15,5800,c,0,0.05,y\n"
    )
    loaded = load_chain(path)
    assert loaded.get_column("type").to_list() == ["put", "call"]
    assert loaded.get_column("zero_bid").to_list() == [False, True]
    assert loaded.get_column("line").to_list() == [2, 4]


HEADER = "expiry,strike,type,bid,ask\n"
GOOD = "2024-11-15,5700,put,10.5,10.9\n"


@pytest.mark.parametrize(
    ("bad_row", "column", "fragment"),
    [
        ("2024-13-15,5700,put,10.5,10.9", "expiry", "cannot parse"),
        ("2024-11-15,57oo,put,10.5,10.9", "strike", "cannot parse"),
        ("2024-11-15,0,put,10.5,10.9", "strike", "positive"),
        ("2024-11-15,-5,put,10.5,10.9", "strike", "positive"),
        ("2024-11-15,5700,straddle,10.5,10.9", "type", "call/put"),
        ("2024-11-15,5700,put,-0.1,10.9", "bid", "zero or positive"),
        ("2024-11-15,5700,put,11.0,10.9", "bid", "crossed"),
        ("2024-11-15,5700,put,0,0", "ask", "zero"),
        ("2024-11-15,5700,put,10.5,", "ask", "empty"),
        ("2024-11-15,5700,put,nan,10.9", "bid", "finite"),
    ],
)
def test_bad_csv_field_names_file_row_and_column(
    tmp_path: Path, bad_row: str, column: str, fragment: str
) -> None:
    path = tmp_path / "chain.csv"
    path.write_text(HEADER + GOOD + GOOD + bad_row + "\n" + GOOD)
    with pytest.raises(InvalidChainError) as info:
        load_chain(path)
    err = info.value
    message = str(err)
    assert str(path) in message
    assert f"{path}:4" in message  # CSV line 4
    assert "row 3" in message
    assert f"column {column!r}" in message
    assert fragment in message
    assert (err.path, err.line, err.row, err.column) == (str(path), 4, 3, column)
    assert isinstance(err, ValueError)


def test_crossed_quote_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "crossed.csv"
    path.write_text(HEADER + GOOD + "2024-11-15,5750,call,20.0,19.5\n")
    with pytest.raises(InvalidChainError, match=r"crossed\.csv:3 \(row 2\), column 'bid': crossed"):
        load_chain(path)
    # the fit reads through the same validation
    with pytest.raises(InvalidChainError, match="crossed"):
        fit_ssvi(path, make_market(), fit_ratio=True)


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "nobid.csv"
    path.write_text("expiry,strike,type,ask\n2024-11-15,5700,put,10.9\n")
    with pytest.raises(InvalidChainError) as info:
        load_chain(path)
    assert str(path) in str(info.value)
    assert "column 'bid'" in str(info.value)
    assert "missing column" in str(info.value)


def test_bad_dataframe_names_row_and_column() -> None:
    chain = (
        make_chain()
        .head(5)
        .with_columns(pl.when(pl.int_range(pl.len()) == 3).then(-1.0).otherwise(pl.col("bid")).alias("bid"))
    )
    with pytest.raises(InvalidChainError, match=r"chain row 4, column 'bid'"):
        load_chain(chain)
    with pytest.raises(InvalidChainError, match=r"column 'type'"):
        load_chain(chain.drop("type"))
    strings = pl.DataFrame(
        {
            "expiry": ["2024-11-15", "Nov 15"],
            "strike": [5700.0, 5705.0],
            "type": ["P", "P"],
            "bid": [1.0, 1.0],
            "ask": [1.1, 1.1],
        }
    )
    with pytest.raises(InvalidChainError, match=r"chain row 2, column 'expiry'"):
        load_chain(strings)


def test_ragged_and_empty_csv(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(HEADER + GOOD + "2024-11-15,5700,put,10.5\n")
    with pytest.raises(InvalidChainError, match=r"ragged\.csv:3 \(row 2\).*fields"):
        load_chain(ragged)
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER)
    with pytest.raises(InvalidChainError, match=r"empty\.csv.*no data rows"):
        load_chain(empty)
    with pytest.raises(InvalidChainError, match="no such file"):
        load_chain(tmp_path / "missing.csv")
