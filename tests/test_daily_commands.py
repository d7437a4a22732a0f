"""The daily workflow (issue 18 point 4): ``alvh state build`` writes the day's state from
histories, ``alvh summary`` shows the book at a glance. Both print what the library
computes (`MarketState.from_history`, `alvh.book.analytics.summary`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import alvh
from alvh.book import analytics
from alvh.cli import main
from alvh.policy.state import MarketState

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BOOK = EXAMPLES / "condor_2027-01_vix_hedge.toml"
MARKET = EXAMPLES / "market_2026-12-04.toml"
DAY = dt.date(2018, 2, 5)


def _words(text: str) -> str:
    """The printed text with table rules removed and whitespace collapsed."""
    return " ".join("".join(" " if "\u2500" <= c <= "\u257f" else c for c in text).split())


@pytest.fixture(scope="module")
def sample():
    from alvh.backtesting.data import sample_data
    from alvh.backtesting.inputs import sample_inputs

    data = sample_data()
    return data, sample_inputs(data)


def test_state_build_writes_the_days_state_from_the_sample(sample, tmp_path: Path, capsys) -> None:
    data, inputs = sample
    futures = tmp_path / "vx.csv"
    futures.write_text(
        "date,vx1,vx2\n2018-02-01,14.10,15.00\n2018-02-02,17.45,16.90\n2018-02-05,32.20,27.30\n"
    )
    out = tmp_path / "state.toml"
    argv = ["state", "build", "--sample", "--date", "2018-02-05", "--vix-futures", str(futures)]
    code = main([*argv, "--out", str(out)])
    printed = _words(capsys.readouterr().out)
    assert code == 0, printed
    import polars as pl

    expected = MarketState.from_history(
        DAY,
        spx=data.spx.select("date", "close"),
        vix=data.vix.select("date", "close"),
        rules=alvh.Policy.preset("early").rules,
        breadth=inputs.breadth,
        breadth_source=inputs.breadth_source,
        macro=inputs.macro,
        rates=inputs.rates,
        vix_futures=pl.read_csv(futures, try_parse_dates=True),
    )
    written = MarketState.from_toml(out)
    assert written.to_dict() == expected.to_dict()  # TOML keeps every float exactly
    assert written.vix_vx1 == pytest.approx(37.32 / 32.20, rel=1e-9) and written.backwardation is True
    assert written.macd_expanding is True and "vix_futures: not given" not in written.missing
    assert "state written to" in printed and "backwardation" in printed
    code = main(["state", "show", str(out)])
    assert code == 0 and "vix_rsi" in capsys.readouterr().out


def test_state_build_refuses_a_non_trading_day_and_a_bad_out(tmp_path: Path, capsys) -> None:
    code = main(["state", "build", "--sample", "--date", "2018-02-04", "--out", str(tmp_path / "s.toml")])
    printed = _words(capsys.readouterr().out)
    assert code == 2 and "2018-02-04" in printed and "2018-02-02" in printed
    code = main(["state", "build", "--sample", "--date", "2018-02-05", "--out", str(tmp_path / "s.png")])
    assert code == 2 and "--out must name a .toml file" in _words(capsys.readouterr().out)
    code = main(["state", "build", "--sample", "--date", "05/02/2018", "--out", str(tmp_path / "s.toml")])
    assert code == 2 and "--date '05/02/2018' is not a date" in _words(capsys.readouterr().out)
    missing = ["--vix-futures", str(tmp_path / "none.csv")]
    code = main(
        ["state", "build", "--sample", "--date", "2018-02-05", *missing, "--out", str(tmp_path / "s.toml")]
    )
    assert code == 2 and "--vix-futures file" in _words(capsys.readouterr().out)
    assert not (tmp_path / "s.toml").exists()


def test_summary_prints_the_books_numbers_and_both_deltas(capsys) -> None:
    code = main(["summary", str(BOOK), "--market", str(MARKET)])
    printed = _words(capsys.readouterr().out)
    assert code == 0, printed
    book, market = alvh.Position.from_toml(BOOK), alvh.Market.from_toml(MARKET)
    whole = analytics.summary(book, market)
    spx_only = analytics.summary(
        alvh.Position(legs=tuple(leg for leg in book.legs if isinstance(leg, alvh.SpxOption))), market
    )
    grid = alvh.scenario_grid(book, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    assert f"P&L vs entry {whole.pnl:+,.0f} $" in printed
    assert f"max profit {spx_only.max_profit:+,.0f} $" in printed and "SPX legs only" in printed
    assert f"max loss {-spx_only.max_loss:+,.0f} $" in printed
    assert f"probability of profit {spx_only.probability_of_profit:.1%}" in printed
    low, high = whole.breakevens_t_plus[0][1]
    assert f"breakevens T+0 {low:,.0f} / {high:,.0f}" in printed
    assert f"delta, Black-Scholes (fixed vols) {whole.delta_spx_points:+,.2f}" in printed
    assert f"delta, smile-adjusted (sticky moneyness) {float(grid.delta[0, 0, 0]):+,.2f}" in printed
    assert f"{whole.beta_weighted_delta_dollars_per_1pct:+,.2f}" in printed
    for tp in whole.touch:
        assert f"{tp.strike:,.0f} {tp.right[0].upper()}" in printed and f"{tp.p_touch:.1%}" in printed
    move = whole.expected_moves[0][1]
    assert f"expected move to 2027-01-15 ±{move:,.0f}" in printed
