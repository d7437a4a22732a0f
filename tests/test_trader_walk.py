"""Issue 18: a trader's day, end to end on the example files, through the CLI as a
trader runs it: the book at a glance, Friday's decision (no hedge), Monday's (layer 2:
VIX calls bought and written into the position file), the outcome and the hedge's sale
recorded, the journal read back, the hedged book at a glance, its dashboard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import alvh
from alvh.cli import main
from alvh.policy.journal import Journal

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def said(capsys) -> str:
    out = capsys.readouterr().out
    return " ".join(out.split())


def test_a_traders_day_and_the_next(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    book = tmp_path / "book.toml"
    shutil.copy(EXAMPLES / "condor_2027-01.toml", book)
    journal = tmp_path / "alvh.db"
    friday = ["--market", str(EXAMPLES / "market_2026-12-04.toml")]
    monday = ["--market", str(EXAMPLES / "market_2026-12-07.toml")]

    # the book at a glance
    assert main(["summary", str(book), *friday]) == 0
    text = said(capsys)
    assert "expected move" in text and "P(touch)" in text and "smile-adjusted" in text

    # Friday: VIX 19.5, layer 1; the rationale says why there is no hedge
    decide = ["decide", "--position", str(book), "--journal", str(journal), "--write-position"]
    friday_state = ["--state", str(EXAMPLES / "state_2026-12-04.toml")]
    assert main([*decide, *friday_state, *friday, "--portfolio-value", "250000"]) == 0
    text = said(capsys)
    assert "layer 0 -> 1" in text and "action: none" in text and "book.toml left as it is" in text
    # the ladder: what each layer would do right now, sized to this book
    ladder = text[
        text.index("The ladder: what each layer would do right now") : text.index("Where the projected")
    ]
    assert "1 (now) 17-22" in ladder and "24-29" in ladder and "30+" in ladder
    assert "SPX 15 Jan" in ladder and "put spreads" in ladder and "VIX 20 Jan 2027" in ladder
    # ... and where the projected tail comes from: here a rally (the calls), so no VIX call helps
    tail = text[text.index("Where the projected tail comes from") :]
    mixture = tail[tail.index("mixture") :].split("│")
    assert mixture[3].strip().startswith("+") and mixture[3].strip().endswith("%")  # SPX move up
    assert main([*decide, *friday_state, *friday]) == 2  # the same day again: refused
    assert "once a day" in said(capsys)

    # Monday: VIX 25, layer 2: VIX calls bought, the order line printed, the leg written
    before = alvh.Position.from_toml(book)
    monday_state = ["--state", str(EXAMPLES / "state_2026-12-07.toml")]
    assert main([*decide, *monday_state, *monday]) == 0
    text = said(capsys)
    assert "layer 1 -> 2" in text and "long_vix_calls" in text
    assert "BUY" in text and " VIX 17FEB27 " in text and "LMT" in text
    after = alvh.Position.from_toml(book)
    (added,) = after.legs[len(before.legs) :]
    assert (
        isinstance(added, alvh.VixOption) and added.quantity > 0 and added.expiry.isoformat() == "2027-02-17"
    )
    with Journal(journal, read_only=True) as j:
        decisions = j.decisions()
        bought = j.decision(int(decisions["id"][-1]))
    assert decisions["policy_name"].to_list() == ["early", "early"]
    assert bought.actions[0].contracts == added.quantity
    assert bought.extra["portfolio_value"] == 250000.0  # carried from Friday

    # the outcome of Friday's decision and a sale of Monday's calls, recorded
    assert (
        main(
            ["journal", "outcome", "--journal", str(journal), "--decision", "1", "--days", "5"]
            + ["--pnl", "-1840"]
        )
        == 0
    )
    sold = max(1, added.quantity // 2)
    sale = ["journal", "exit", "--journal", str(journal), "--decision", "2", "--date", "2026-12-09"]
    sale += [
        "--rule",
        "take_profit",
        "--contracts",
        str(sold),
        "--received",
        "2900",
        "--reason",
        "3.2x its cost",
    ]
    assert main(sale) == 0
    capsys.readouterr()
    assert main(["journal", "show", "--journal", str(journal)]) == 0
    text = said(capsys)
    assert (
        "buy" in text
        and "VIX 17 Feb 2027 28 calls" in text
        and f"{sold} sold (take_profit, 2026-12-09)" in text
    )
    assert "-1,840" in text

    # the hedged book at a glance: the VIX calls count now
    assert main(["summary", str(book), *monday]) == 0
    text = said(capsys)
    assert "vega (VIX options)" in text
    assert "VIX legs" in text or "SPX legs only" in text  # says what max profit/loss cover
    with pytest.raises(SystemExit):
        main(["summary"])  # argparse: the position is required

    # the dashboard of the hedged book, offline (the browser test: tests/test_dashboard.py)
    pytest.importorskip("plotly", reason="the dashboard needs plotly (pip install 'alvh[dashboard]')")
    page = tmp_path / "dashboard.html"
    assert main(["dashboard", str(book), *monday, "--paths", "500", "--out", str(page)]) == 0
    html = page.read_text()
    assert page.stat().st_size > 1_000_000 and "Plotly.newPlot" in html  # plotly.js inlined
