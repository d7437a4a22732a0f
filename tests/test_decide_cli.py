"""``alvh decide``'s output (issue 18 point 1): the rationale as a list, the book before and
after in trader units, order lines a broker takes, ``--write-position``, and action names
that say what they do."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

import alvh
from alvh.book.position import add_legs_to_file
from alvh.cli import main
from alvh.cli.decide import ACTION_LABELS, order_lines
from alvh.errors import InvalidInputError
from alvh.policy.state import MarketState

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _words(text: str) -> str:
    return " ".join("".join(" " if "\u2500" <= c <= "\u257f" else c for c in text).split())


@pytest.fixture
def stressed(tmp_path: Path) -> dict[str, Path]:
    """The issue-18 condor (no hedge yet) on a day the SPX fell to 5,700 and the VIX rose to
    23 in backwardation, with a bearish MACD: the early policy's layer 1 acts."""
    state = MarketState.from_toml(EXAMPLES / "state_2025-02-03.toml")
    state = replace(
        state, date=alvh.Market.from_toml(EXAMPLES / "market_2026-12-04.toml").as_of, vix=23.0, spx=5700.0
    )
    state = replace(state, vix_vx1=1.04, vx1_vx2=1.01, backwardation=True, vix_rsi=72.0)
    market = alvh.Market.from_toml(EXAMPLES / "market_2026-12-04.toml")
    futures = replace(market.futures, prices=tuple(p + 3.5 for p in market.futures.prices))
    market = replace(market, vix=23.0, spot=5700.0, futures=futures)
    book = alvh.Position.from_toml(EXAMPLES / "condor_2027-01_vix_hedge.toml")
    condor = alvh.Position(legs=book.legs[:4], name="issue-18 condor")
    paths = {
        "state": tmp_path / "state.toml",
        "market": tmp_path / "market.toml",
        "book": tmp_path / "book.toml",
    }
    state.to_toml(paths["state"])
    market.to_toml(paths["market"])
    condor.to_toml(paths["book"])
    text = paths["book"].read_text()
    paths["book"].write_text("# my condor, opened 2026-11-20\n" + text)
    return paths


def _argv(paths: dict[str, Path], tmp_path: Path) -> list[str]:
    argv = ["decide", "--state", str(paths["state"]), "--position", str(paths["book"])]
    argv += ["--market", str(paths["market"]), "--journal", str(tmp_path / "j.db")]
    return [*argv, "--portfolio-value", "300000", "--layer", "1", "--acted", "0"]


def _decision(paths: dict[str, Path]) -> alvh.Decision:
    return alvh.Policy.preset("early").decide(
        MarketState.from_toml(paths["state"]),
        alvh.Position.from_toml(paths["book"]),
        alvh.Market.from_toml(paths["market"]),
        layer=1,
        acted=0,
        portfolio_value=300_000.0,
        committed_risk=0.0,
        seed=0,
    )


def test_order_lines_are_what_a_broker_takes() -> None:
    hedge = alvh.Position(
        legs=(
            alvh.VixOption(dt.date(2027, 1, 20), 24.0, True, 41, 1.5234),
            alvh.SpxOption(dt.date(2027, 1, 15), 5600.0, False, -10, 53.07),
            alvh.VixFuture(dt.date(2027, 1, 20), 2, 20.612),
        )
    )
    assert order_lines(hedge) == [
        "BUY 41 VIX 20JAN27 24 C @ 1.52 LMT",
        "SELL 10 SPX 15JAN27 5600 P @ 53.10 LMT",
        "BUY 2 VX 20JAN27 FUT @ 20.60 LMT",
    ]


def test_decide_lists_the_rationale_the_book_before_and_after_and_the_orders(
    stressed, tmp_path, capsys
) -> None:
    decision = _decision(stressed)
    assert [a.name for a in decision.actions] == ["short_vix_calls"]
    code = main(_argv(stressed, tmp_path))
    printed = _words(capsys.readouterr().out)
    assert code == 0, printed
    for d in decision.diagnostics:  # one line per diagnostic, with its verdict
        verdict = "skipped: input missing" if d.fired is None else ("not fired" if not d.fired else "fired")
        assert (
            f"diagnostic {d.name} " in printed and verdict in printed.split(f"diagnostic {d.name} ")[1][:80]
        )
    assert "rule (a) evidence" in printed and "rule (d) over" in printed
    label = f"{ACTION_LABELS['short_vix_calls']} (short_vix_calls)"
    assert f"candidate {label}" in printed and "chosen" in printed
    before, after = decision.greeks_before, decision.greeks_after
    assert f"delta, Black-Scholes {before['delta']:+,.0f} {after['delta']:+,.0f}" in printed
    assert (
        f"vega {before['vega']:+,.0f} {after['vega']:+,.0f} {after['vega'] - before['vega']:+,.0f}" in printed
    )
    assert f"projected CVaR95 loss {decision.cvar_before:,.0f} {decision.cvar_after:,.0f}" in printed
    horizon = decision.extra["breakevens_horizon"]
    assert (
        f"breakevens T+{horizon['days']} {horizon['before'][0]:,.0f} / {horizon['before'][1]:,.0f}" in printed
    )
    for line in order_lines(decision.hedge()):
        assert line in printed
    assert order_lines(decision.hedge())[0].startswith("BUY 12 VIX 20JAN27 ")
    assert "47 days to expiry" in printed  # what 'short' VIX calls meant here


def test_write_position_appends_the_hedge_at_its_fills_keeping_the_file(stressed, tmp_path, capsys) -> None:
    book = stressed["book"]
    original = book.read_text()
    assert main([*_argv(stressed, tmp_path), "--write-position", "--fills", "1.80", "1.90"]) == 2
    assert "--fills gives 2 prices for 1 order line" in _words(capsys.readouterr().out)
    assert book.read_text() == original
    # ... and nothing journaled: the failed run leaves the day free
    assert not (tmp_path / "j.db").exists()
    assert main([*_argv(stressed, tmp_path), "--fills", "1.80"]) == 2
    assert "give --write-position too" in capsys.readouterr().out
    assert main([*_argv(stressed, tmp_path), "--write-position", "--fills", "1.80"]) == 0
    assert "1 leg added to" in _words(capsys.readouterr().out)
    text = book.read_text()
    assert text.startswith(original.rstrip()) and "# my condor, opened 2026-11-20" in text
    merged = alvh.Position.from_toml(book)
    assert len(merged.legs) == 5
    added = merged.legs[4]
    assert isinstance(added, alvh.VixOption) and added.quantity == 12 and added.entry_price == 1.80


def test_add_legs_to_file_leaves_the_file_whole_on_a_bad_leg(tmp_path) -> None:
    book = tmp_path / "b.toml"
    alvh.Position.from_toml(EXAMPLES / "condor.toml").to_toml(book)
    before = book.read_text()
    bad = alvh.Position.from_leg_records(
        [{"type": "vix_future", "expiry": dt.date(2025, 3, 18), "quantity": 1, "entry_price": 19.3}]
    )
    good = add_legs_to_file(book, bad, comment="a future")
    assert len(good.legs) == 5 and "# a future" in book.read_text()
    book.write_text(before.replace("[position]", "legs = 3\n[position]"))
    broken = book.read_text()
    with pytest.raises(InvalidInputError):
        add_legs_to_file(book, bad)
    assert book.read_text() == broken
