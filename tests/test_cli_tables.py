"""CLI tables fit the terminal: no cell is ever cut (issue 18: "-22,0…")."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.table import Table

from alvh.cli import main
from alvh.cli.common import FittingConsole, fit_table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _wide_table() -> Table:
    table = Table(title="P&L ($) by SPX move, a title long enough to wrap on a narrow terminal")
    table.add_column("day")
    for k in range(11):
        table.add_column(f"{k - 5:+d}%\n{5950 + 60 * (k - 5):,}", justify="right")
    for day in range(3):
        table.add_row(f"T+{day}", *(f"{-22_031 - 1_000 * k - day:+,}" for k in range(11)))
    return table


@pytest.mark.parametrize("width", [60, 80, 112, 160])
def test_every_number_of_a_wide_table_prints_in_full(width: int) -> None:
    out = io.StringIO()
    FittingConsole(file=out, width=width, color_system=None).print(_wide_table())
    text = out.getvalue()
    assert "…" not in text
    for k in range(11):
        for day in range(3):
            assert f"{-22_031 - 1_000 * k - day:+,}" in text


def test_a_table_that_fits_keeps_its_box() -> None:
    small = Table("a", "b")
    small.add_row("1", "2")
    assert fit_table(small, 80).box is not None and fit_table(small, 80).box.top_left == "┏"


def test_alvh_grid_prints_every_pnl_cell_in_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor_2027-01_vix_hedge.toml"),
            "--market",
            str(EXAMPLES / "market_2026-12-04.toml"),
            "--out",
            str(tmp_path / "risk.png"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "…" not in printed  # was "-31,0…" 11 times (a 110-column console)
    assert "-31,053" in printed
