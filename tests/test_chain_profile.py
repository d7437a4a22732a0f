"""Your chain everywhere (issue 18 point 3): a broker export read through a column map
(`ChainProfile`, ``--chain-columns``), ``--chain`` on grid, decide and project, and the
book's legs against the chain's quotes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

import alvh
from alvh.book.quotes import legs_vs_quotes
from alvh.cli import main
from alvh.errors import InvalidInputError
from alvh.market.chain import ChainProfile, InvalidChainError, load_chain

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BROKER = EXAMPLES / "chain_2026-12-04_broker.csv"
PROFILE = EXAMPLES / "chain_profile_broker.toml"
BOOK = EXAMPLES / "condor_2027-01_vix_hedge.toml"
MARKET = EXAMPLES / "market_2026-12-04.toml"
INLINE = "expiry=Expiration Date,strike=Strike,type=Call/Put,bid=Bid,ask=Ask,date_format=MM/DD/YYYY"


def _words(text: str) -> str:
    return " ".join(text.split())


def _iso_copy(tmp_path: Path) -> Path:
    """The broker file rewritten in alvh's own format (ISO dates, alvh's headers)."""
    lines = BROKER.read_text().splitlines()
    out = ["expiry,strike,type,bid,ask"]
    for line in lines[1:]:
        _symbol, expiry, strike, right, bid, ask = line.split(",")
        month, day, year = expiry.split("/")
        out.append(f"{year}-{month}-{day},{strike},{right},{bid},{ask}")
    path = tmp_path / "iso.csv"
    path.write_text("\n".join(out) + "\n")
    return path


@pytest.mark.parametrize("profile", [ChainProfile.from_toml(PROFILE), ChainProfile.parse(INLINE)])
def test_a_broker_export_loads_through_a_column_map(profile: ChainProfile, tmp_path: Path) -> None:
    frame = load_chain(BROKER, profile=profile)
    reference = load_chain(_iso_copy(tmp_path))
    columns = ["expiry", "strike", "type", "bid", "ask", "zero_bid", "row", "line"]
    assert frame.select(columns).equals(reference.select(columns))
    assert frame.height == 146 and set(frame["type"]) == {"call", "put"}


def test_a_broker_export_without_a_map_names_the_missing_column_and_the_fix() -> None:
    with pytest.raises(InvalidChainError) as caught:
        load_chain(BROKER)
    message = str(caught.value)
    assert "missing column 'expiry'" in message and "'Expiration Date'" in message
    assert "--chain-columns" in message and "docs/chain_format.md" in message


def test_a_date_off_the_profile_format_names_file_line_and_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    text = BROKER.read_text().splitlines()
    text[3] = text[3].replace("01/15/2027", "2027-01-15")
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(InvalidChainError, match=r"bad\.csv:4 \(row 3\), column 'expiry'.*'%m/%d/%Y'"):
        load_chain(bad, profile=ChainProfile.parse(INLINE))


def test_bad_profiles_name_the_key_and_value(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown column 'price'") as caught:
        ChainProfile.parse("price=Last")
    assert caught.value.arg == "columns"
    with pytest.raises(InvalidInputError, match="date_format must be one of .* got 'mm-dd'"):
        ChainProfile.parse("expiry=Exp,date_format=mm-dd")
    with pytest.raises(InvalidInputError, match="'strike' is not KEY=HEADER"):
        ChainProfile.parse("expiry=Exp,strike")
    profile = tmp_path / "p.toml"
    profile.write_text('date_format = "MM/DD/YYYY"\n[columns]\nexpiry = "Exp"\nstrik = "Strike"\n')
    with pytest.raises(InvalidInputError, match=r"p\.toml:4: field columns\.strik: unknown column"):
        ChainProfile.from_toml(profile)
    profile.write_text('date_format = "MM/DD/YYYY"\nseparator = ";"\n')
    with pytest.raises(InvalidInputError, match=r"p\.toml:2: field separator: unknown key"):
        ChainProfile.from_toml(profile)


def test_legs_against_quotes_flag_a_leg_off_by_more_than_the_spread(tmp_path: Path) -> None:
    book, market = alvh.Position.from_toml(BOOK), alvh.Market.from_toml(MARKET)
    chain = load_chain(BROKER, profile=ChainProfile.from_toml(PROFILE))
    table = legs_vs_quotes(book, market, chain)
    assert table["off_by_more_than_spread"].to_list()[4] is None  # the VIX calls: not in an SPX chain
    row = table.row(3, named=True)  # the long 6350 call: model 5.21, quoted 6.10 / 6.40
    assert (row["bid"], row["ask"], row["mid"]) == (6.10, 6.40, pytest.approx(6.25))
    assert row["model_minus_mid"] == pytest.approx(row["model"] - 6.25)
    assert row["off_by_more_than_spread"] is True  # |5.21 - 6.25| > 0.30
    # Moved inside its spread, the same leg passes.
    inside = chain.with_columns(
        pl.when((pl.col("strike") == 6350.0) & (pl.col("type") == "call"))
        .then(pl.lit(row["model"]) - 0.1)
        .otherwise(pl.col("bid"))
        .alias("bid")
    )
    assert legs_vs_quotes(book, market, inside)["off_by_more_than_spread"].to_list()[3] is False


@pytest.mark.parametrize("command", ["decide", "project"])
def test_decide_and_project_take_your_chain(command: str, tmp_path: Path, capsys) -> None:
    """--chain was on grid only."""
    state = tmp_path / "state.toml"
    state.write_text(
        (EXAMPLES / "state_2025-02-03.toml")
        .read_text()
        .replace("date = 2025-02-03", "date = 2026-12-04")
        .replace("vix = 18.62", "vix = 19.5")
        .replace("spx = 5994.57", "spx = 5950.0")
    )
    chain = ["--chain", str(BROKER), "--chain-columns", INLINE]
    if command == "decide":
        argv = ["decide", "--state", str(state), "--position", str(BOOK), "--market", str(MARKET)]
        argv += ["--journal", str(tmp_path / "j.db"), "--portfolio-value", "500000", *chain]
    else:
        argv = ["project", str(BOOK), "--market", str(MARKET), "--days", "5", "--paths", "500"]
        argv += ["--scenarios", "gdp", "--out", str(tmp_path / "fan.png"), *chain]
    code = main(argv)
    printed = _words(capsys.readouterr().out)
    assert code == 0, printed
    assert re.search(r"SSVI fitted to \S+chain_2026-12-04_broker\.csv: 72 of 146 quotes", printed)
    assert "Your legs against" in printed and "SPX 15JAN27 6350 C" in printed
    assert "every quoted leg priced within its bid-ask spread" in printed


def test_chain_columns_without_a_chain_exits_2(tmp_path: Path, capsys) -> None:
    argv = ["project", str(BOOK), "--market", str(MARKET), "--chain-columns", INLINE]
    assert main([*argv, "--out", str(tmp_path / "f.png")]) == 2
    assert "give --chain too" in capsys.readouterr().out


def test_the_docs_second_example_loads_as_written(tmp_path: Path) -> None:
    """docs/chain_format.md's Example 2 (its CSV and profile blocks, read from the page)."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "chain_format.md").read_text()
    section = page.split("### Example 2")[1]
    csv_text = section.split("```csv\n")[1].split("```")[0]
    toml_text = section.split("```toml\n")[1].split("```")[0]
    (tmp_path / "export.csv").write_text(csv_text)
    (tmp_path / "profile.toml").write_text(toml_text)
    frame = load_chain(tmp_path / "export.csv", profile=ChainProfile.from_toml(tmp_path / "profile.toml"))
    assert frame.select("expiry", "strike", "type", "bid", "ask").rows() == [
        (dt.date(2027, 1, 15), 5600.0, "put", 51.7, 53.4),
        (dt.date(2027, 1, 15), 6300.0, "call", 10.0, 10.4),
    ]
