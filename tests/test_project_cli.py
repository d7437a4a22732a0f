"""`alvh project` and the projection's pictures and tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import alvh
from alvh.cli import main

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BOOK = str(EXAMPLES / "condor_vix_hedge.toml")
MARKET = str(EXAMPLES / "market_2025-02-03.toml")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _words(text: str) -> str:
    return " ".join(text.split())


def test_cli_project_prints_the_tables_and_writes_the_fan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fan.png"
    code = main(
        [
            "project",
            BOOK,
            "--market",
            MARKET,
            "--days",
            "5",
            "--paths",
            "2000",
            "--scenarios",
            "gdp",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    for name in (
        "expansion",
        "soft landing",
        "stall",
        "recession",
        "mixture",
        "CVaR95 loss",
        "expected path",
        "fan chart written",
    ):
        assert name in printed
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000


def test_cli_project_reads_a_scenario_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "fan.png"
    code = main(
        [
            "project",
            BOOK,
            "--market",
            MARKET,
            "--days",
            "5",
            "--paths",
            "500",
            "--scenarios",
            str(EXAMPLES / "scenarios.toml"),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "hawkish fomc" in printed and out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--days", "4"], "--days must be between 5 and 10"),
        (["--days", "11"], "--days must be between 5 and 10"),
        (["--paths", "0"], "--paths must be at least 1"),
        (["--scenarios", "gdp_x_earning"], "neither a built-in set"),
        (["--out", "/no/such/dir/fan.png"], "does not exist"),
    ],
)
def test_cli_project_bad_arguments_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["project", BOOK, "--market", MARKET, "--paths", "100", *args])
    assert code == 2
    assert message in _words(capsys.readouterr().out)


def test_cli_project_malformed_scenario_file_names_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    text = (EXAMPLES / "scenarios.toml").read_text().replace("probability = 0.6", "probability = 0.65", 1)
    bad.write_text(text)
    code = main(["project", BOOK, "--market", MARKET, "--paths", "100", "--scenarios", str(bad)])
    printed = _words(capsys.readouterr().out)
    assert code == 2
    assert "bad.toml" in printed and "probabilit" in printed


def test_representative_paths_are_the_grid_on_the_expected_path() -> None:
    book = alvh.Position.from_toml(BOOK)
    market = alvh.Market.from_toml(MARKET)
    result = alvh.project(book, market, scenarios="earnings", days=5, paths=200, seed=1)
    frame = result.representative_paths()
    assert frame.height == 3 * 5
    row = frame.row(7, named=True)  # scenario 1, day 3
    grid = alvh.scenario_grid(
        book,
        market,
        spot_moves=[row["spx"] / market.spot - 1.0],
        vol_shifts=[row["vix"] - market.vix],
        days=[row["day"]],
    )
    assert row["pnl"] == pytest.approx(float(grid.pnl[0, 0, 0]), rel=1e-12)
    assert np.isfinite(frame["theta_dollars_per_day"].to_numpy()).all()


def test_fan_chart_of_one_scenario(tmp_path: Path) -> None:
    market = alvh.Market.from_toml(MARKET)
    one = alvh.ScenarioSet("one", (alvh.Scenario("flat", 1.0, 0.0, None, -8.0, 0.75, 12.9, None),))
    result = alvh.project(alvh.Position.from_toml(BOOK), market, scenarios=one, days=5, paths=300)
    path = result.plot(tmp_path / "one.png")
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_fan_chart_overlays_the_scenario_medians_and_states_cvar_as_the_tables_loss(tmp_path: Path) -> None:
    """Issue 18: the fan chart was one near-identical panel per scenario and titled the
    CVaR95 -$15,769 where the table said 15,769. Now the scenarios' medians share one
    panel beside the mixture's fan, and the CVaR is the table's positive loss."""
    from alvh.risk.fan import cvar_label, fan_figure

    book = alvh.Position.from_toml(BOOK)
    market = alvh.Market.from_toml(MARKET)
    result = alvh.project(book, market, scenarios="gdp", days=5, paths=2000, seed=2)
    fig = fan_figure(result)
    fan_ax, medians_ax, horizon_ax, vix_ax = fig.axes[:4]
    q50 = result.stat_names.index("q50")
    lines = medians_ax.get_lines()
    for s, name in enumerate(result.names):
        np.testing.assert_allclose(lines[s].get_ydata(), [0.0, *result.stats[s, :, q50]])
        assert lines[s].get_label().startswith(name)
    np.testing.assert_allclose(lines[len(result.names)].get_ydata(), [0.0, *result.mixture[:, q50]])
    cvar = float(result.mixture[-1, result.stat_names.index("cvar95")])
    assert cvar > 0 and f"CVaR95 loss \\${cvar:,.0f}" in fan_ax.get_title()
    assert "-" not in fan_ax.get_title().split("CVaR95")[1]
    assert [t.get_text() for t in horizon_ax.get_yticklabels()] == [
        result.names[s] for s in np.argsort(result.stat("mean")[:, -1], kind="stable")
    ]
    # The expected VIX paths start at the market's VIX and differ by scenario.
    vix_ends = [line.get_ydata()[-1] for line in vix_ax.get_lines()]
    assert all(line.get_ydata()[0] == market.vix for line in vix_ax.get_lines())
    assert len(set(np.round(vix_ends, 6))) == len(result.names)
    assert cvar_label(1234.4) == "CVaR95 loss $1,234" and cvar_label(-5.0) == "CVaR95 gain $5"
    path = result.plot(tmp_path / "fan.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
