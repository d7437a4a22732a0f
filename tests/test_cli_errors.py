"""Issue 16: the CLI never prints a traceback for a user mistake — every error path below
exits 2 with one ``error:`` line (argparse's own usage errors exit 2 too), and nothing the
user named is overwritten by mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alvh.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    (tmp_path / "bad.csv").write_text("date,close\n2020-01-02,abc\n")
    (tmp_path / "empty.toml").write_text("")
    shutil.copy(EXAMPLES / "condor.toml", tmp_path / "victim.toml")
    named = {"bad_toml": "bad.toml", "bad_csv": "bad.csv", "empty": "empty.toml", "victim": "victim.toml"}
    return {key: str(tmp_path / name) for key, name in named.items()} | {"tmp": str(tmp_path)}


E = str(EXAMPLES)
CASES = [
    "greeks --spot -1 --strike 100 --days 30 --vol 0.2",
    "greeks --spot 100 --strike 100 --days 30 --vol nan",
    "greeks --spot 100 --strike 100 --days -5 --vol 0.2",
    "greeks --spot 100 --strike 1e400 --days 30 --vol 0.2",
    "grid {bad_toml} --market {E}/market.toml --out {tmp}/g.png",
    "grid {E}/condor.toml --market {bad_toml} --out {tmp}/g.png",
    "grid {E}/condor.toml --market {E}/market.toml --days -3 --out {tmp}/g.png",
    "grid {E}/condor.toml --market {E}/market.toml --shifts -100 10 5 --out {tmp}/g.png",
    "grid {E}/condor.toml --market {E}/market.toml --chain {bad_csv} --out {tmp}/g.png",
    "grid {E}/condor.toml --market {E}/market.toml --moves -0.1 0.1 1e9 --out {tmp}/g.png",
    "grid {E}/condor.toml --market {E}/market.toml --out {victim}",
    "project {E}/condor.toml --market {E}/market.toml --days 0 --out {tmp}/f.png",
    "project {E}/condor.toml --market {E}/market.toml --paths -1 --out {tmp}/f.png",
    "project {E}/condor.toml --market {E}/market.toml --scenarios {bad_toml} --out {tmp}/f.png",
    "project {tmp}/missing.toml --market {E}/market.toml --out {tmp}/f.png",
    "project {E}/condor.toml --market {E}/market.toml --out {victim}",
    "decide --state {bad_toml} --position {E}/condor.toml --market {E}/market_2025-02-03.toml"
    " --portfolio-value 1e5 --journal {tmp}/j.db",
    "decide --state {E}/state_2025-02-03.toml --position {E}/condor.toml --market {E}/market_2025-02-03.toml"
    " --policy {empty} --portfolio-value 1e5 --journal {tmp}/j.db",
    "decide --state {E}/state_2025-02-03.toml --position {E}/condor.toml --market {E}/market_2025-02-03.toml"
    " --portfolio-value -5 --journal {tmp}/j.db",
    "decide --state {E}/state_2025-02-03.toml --position {E}/condor.toml --market {E}/market_2025-02-03.toml"
    " --portfolio-value 1e5 --journal {bad_toml}",
    "decide --state {E}/state_2025-02-03.toml --position {E}/condor.toml --market {E}/market_2025-02-03.toml"
    " --portfolio-value 1e5 --acted 7 --journal {tmp}/j.db",
    "backtest --spx {bad_csv} --vix {bad_csv} --out {tmp}/b",
    "backtest --sample --start 2030-01-01 --out {tmp}/b",
    "backtest --sample --start 2020-13-01 --out {tmp}/b",
    "backtest --sample --policy nosuch --out {tmp}/b",
    "sweep --sample --layer1 30:10 --out {tmp}/s",
    "sweep --sample --layer1 abc --out {tmp}/s",
    "journal show --journal {tmp}/missing.db",
    "journal show --journal {bad_toml}",
    "check-arbitrage {bad_toml}",
    "check-arbitrage {E}/market.toml --days -1",
    "slices {bad_csv} --as-of 2024-01-01",
    "slices {E}/condor.toml --as-of 2024-01-01",
    "slices --out {victim}",
    "dashboard {E}/condor.toml --market {E}/market.toml --out {tmp}/d.png",
    "dashboard {E}/condor.toml --market {E}/market.toml --out {tmp}/missing/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --days 3 --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --paths 0 --out {tmp}/d.html",
    "dashboard {tmp}/missing.toml --market {E}/market.toml --out {tmp}/d.html",
    "dashboard {bad_toml} --market {E}/market.toml --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {bad_toml} --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --scenarios {bad_toml} --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --chain {bad_csv} --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --start 2020-01-01 --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --sample --policy nosuch --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --sample --start 2020-13-01 --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --spx {bad_csv} --vix {bad_csv} --out {tmp}/d.html",
    "dashboard {E}/condor.toml --market {E}/market.toml --out {victim}",
    "greeks --spot abc --strike 100 --days 30 --vol 0.2",  # argparse: usage error, exit 2
    "nosuchcommand",
]


@pytest.mark.parametrize("case", CASES)
def test_every_cli_error_path_is_one_line_and_exit_2(case: str, files: dict[str, str], capsys) -> None:
    argv = case.format(E=E, **files).split()
    victim = Path(files["victim"]).read_bytes()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert code == 2, text
    assert "Traceback" not in text
    assert "error" in text
    assert Path(files["victim"]).read_bytes() == victim  # never overwritten
