"""The risk graph picture (`alvh.risk.plots.risk_graph`) and the ``alvh grid`` command.

The pictures are checked as files (a real PNG of the expected size, written
atomically) and their inputs as numbers (the expiry curve is `analytics.expiry_pnl`,
breakevens are the zero crossings); how they read was checked by eye.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import alvh
from alvh.book import analytics
from alvh.cli import main
from alvh.errors import InvalidInputError
from alvh.risk import plots
from alvh.risk.grid import scenario_grid

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

#: A market before the March 2025 expiries of the example positions, listing the
#: VIX future of the hedge's expiry (2025-03-18) and one beyond the 10-day horizon.
MARKET_FEB_2025 = """\
format_version = 1
as_of = 2025-02-03
spot = 5994.57
rate = 0.043
div = 0.013
vix = 18.62

[vix_futures]
model = "explicit"
kappa = 2.0
curve = [
    { expiry = 2025-02-19, price = 18.90 },
    { expiry = 2025-03-18, price = 19.30 },
    { expiry = 2025-04-16, price = 19.60 },
]
"""


@pytest.fixture
def market_file(tmp_path: Path) -> Path:
    path = tmp_path / "market.toml"
    path.write_text(MARKET_FEB_2025)
    return path


@pytest.fixture
def hedged_grid(market_file: Path) -> alvh.risk.grid.Grid:
    position = alvh.Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    market = alvh.Market.from_toml(market_file)
    return scenario_grid(
        position,
        market,
        spot_moves=np.linspace(-0.1, 0.1, 61),
        vol_shifts=np.linspace(-10.0, 10.0, 11),
        days=[0, 5, 10],
    )


def _assert_png(path: Path) -> tuple[int, ...]:
    data = path.read_bytes()
    assert len(data) > 10_000
    assert data[:8] == PNG_MAGIC
    from matplotlib.image import imread

    image = imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    height, width = image.shape[:2]
    assert width > height > 400  # two panels side by side
    return tuple(image.shape)


# --------------------------------------------------------------------------- the picture


def test_risk_graph_writes_a_valid_png(hedged_grid, tmp_path: Path) -> None:
    out = plots.risk_graph(hedged_grid, tmp_path / "risk.png")
    assert out == tmp_path / "risk.png"
    _assert_png(out)


def test_risk_graph_of_a_plain_condor_with_a_title(tmp_path: Path) -> None:
    position = alvh.Position.from_toml(EXAMPLES / "condor.toml")
    market = alvh.Market.from_toml(EXAMPLES / "market.toml")
    grid = scenario_grid(
        position,
        market,
        spot_moves=np.linspace(-0.08, 0.08, 41),
        vol_shifts=[-5.0, 0.0, 5.0],
        days=[0, 5],
    )
    out = plots.risk_graph(
        grid, str(tmp_path / "condor.png"), position=position, market=market, title="condor"
    )
    _assert_png(out)


def test_risk_graph_replaces_the_file_whole_and_leaves_no_temporaries(hedged_grid, tmp_path: Path) -> None:
    target = tmp_path / "risk.png"
    target.write_bytes(b"old picture")
    plots.risk_graph(hedged_grid, target)
    _assert_png(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["market.toml", "risk.png"]


def test_risk_graph_into_a_missing_directory_names_it(hedged_grid, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        plots.risk_graph(hedged_grid, tmp_path / "nowhere" / "risk.png")


@pytest.mark.parametrize(
    "axes",
    [
        {"spot_moves": [0.0], "vol_shifts": [0.0], "days": [0]},
        {"spot_moves": [0.05, -0.05, 0.0, 0.02], "vol_shifts": [3.0, -3.0, 0.0], "days": [5, 0]},
        {"spot_moves": [-0.02, 0.0, 0.02], "vol_shifts": [2.0], "days": [3]},
    ],
    ids=["one-cell", "unsorted-axes", "no-day-0-no-zero-shift"],
)
def test_risk_graph_draws_small_and_unsorted_grids(
    axes: dict[str, Any], market_file: Path, tmp_path: Path
) -> None:
    position = alvh.Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    grid = scenario_grid(position, alvh.Market.from_toml(market_file), **axes)
    _assert_png(plots.risk_graph(grid, tmp_path / "small.png"))


def test_expiry_curve_of_an_spx_book_is_expiry_pnl() -> None:
    position = alvh.Position.from_toml(EXAMPLES / "condor.toml")
    spots = np.linspace(5000.0, 7000.0, 101)
    curve = plots.expiry_curve(position, None, spots)
    assert curve is not None
    np.testing.assert_array_equal(curve[0], analytics.expiry_pnl(position, spots))
    assert "SPX legs only" not in curve[1]


def test_expiry_curve_settles_the_vix_hedge_on_its_future(market_file: Path) -> None:
    position = alvh.Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    market = alvh.Market.from_toml(market_file)
    spx_only = alvh.Position(legs=tuple(leg for leg in position.legs if isinstance(leg, alvh.SpxOption)))
    spots = np.linspace(5400.0, 6600.0, 25)
    curve = plots.expiry_curve(position, market, spots)
    assert curve is not None
    # VIX 25 calls with the March future at 19.30 expire worthless: the hedge costs its premium.
    np.testing.assert_allclose(curve[0], analytics.expiry_pnl(spx_only, spots) - 5 * 100 * 0.85)
    without_market = plots.expiry_curve(position, None, spots)
    assert without_market is not None and "SPX legs only" in without_market[1]


def test_breakevens_are_the_zero_crossings() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([-1.0, 1.0, 1.0, -3.0, -3.0])
    assert plots.breakevens(x, y) == pytest.approx([0.5, 2.25])


# --------------------------------------------------------------------------- alvh grid


def test_cli_grid_prints_the_table_and_writes_the_png(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "risk.png"
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(market_file),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    for text in ("T+0", "T+10", "-10.0%", "+10.0%", "delta", "$ per calendar day", "risk graph written"):
        assert text in printed
    _assert_png(out)


def test_cli_grid_default_shifts_keep_a_low_vix_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 16 point 6: the default -10..+10 shifts failed whenever the VIX was <= 10
    # (it closed at 9.14 in 2017); now the low end is raised to keep every VIX >= 0.5.
    import re

    text = (EXAMPLES / "market_2025-02-03.toml").read_text()
    low_vix = tmp_path / "market.toml"
    low_vix.write_text(re.sub(r"(?m)^vix = [0-9.]+", "vix = 9.14", text, count=1))
    out = tmp_path / "risk.png"
    code = main(["grid", str(EXAMPLES / "condor.toml"), "--market", str(low_vix), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    _assert_png(out)


def test_cli_grid_table_rows_are_the_grid(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(market_file),
            "--out",
            str(tmp_path / "r.png"),
            "--days",
            "0",
            "3",
            "--moves",
            "-0.05",
            "0.05",
            "11",
            "--shifts",
            "-2",
            "2",
            "5",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    position = alvh.Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    market = alvh.Market.from_toml(market_file)
    grid = scenario_grid(
        position,
        market,
        spot_moves=np.linspace(-0.05, 0.05, 11),
        vol_shifts=np.linspace(-2, 2, 5),
        days=[0, 3],
    )
    row = next(line for line in printed.splitlines() if "T+3" in line)
    # The -5 % column of day 3 at VIX shift 0.
    assert f"{grid.pnl[1, 2, 0]:+,.0f}" in row


def test_cli_grid_missing_position_file_exits_2(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["grid", str(tmp_path / "nope.toml"), "--market", str(market_file), "--out", str(tmp_path / "r.png")]
    )
    printed = capsys.readouterr().out
    assert code == 2
    assert "nope.toml" in printed and "does not exist" in printed
    assert not (tmp_path / "r.png").exists()


def test_cli_grid_malformed_market_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken_market.toml"
    bad.write_text("as_of = 2025-02-03\nspot = [unclosed\n")
    code = main(
        ["grid", str(EXAMPLES / "condor.toml"), "--market", str(bad), "--out", str(tmp_path / "r.png")]
    )
    printed = capsys.readouterr().out
    assert code == 2
    assert "broken_market.toml" in printed


def test_cli_grid_futures_curve_shorter_than_the_horizon_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    market = tmp_path / "market.toml"
    later = "".join(
        f"    {{ expiry = {expiry}, price = {price} }},\n"
        for expiry, price in (("2025-03-18", "19.30"), ("2025-04-16", "19.60"))
    )
    assert later in MARKET_FEB_2025
    market.write_text(MARKET_FEB_2025.replace(later, ""))
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor.toml"),
            "--market",
            str(market),
            "--days",
            "0",
            "20",
            "--out",
            str(tmp_path / "r.png"),
        ]
    )
    printed = " ".join(capsys.readouterr().out.split())  # however the console wraps it
    assert code == 2
    assert "2025-02-19" in printed and "[vix_futures]" in printed and "--days up to 16" in printed


def test_cli_grid_vix_hedge_without_its_future_names_the_expiry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # examples/market.toml (October 2024) lists no March 2025 VIX future.
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(EXAMPLES / "market.toml"),
            "--out",
            str(tmp_path / "r.png"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 2
    assert "2025-03-18" in printed


def test_cli_grid_unwritable_out_exits_2(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor.toml"),
            "--market",
            str(market_file),
            "--days",
            "0",
            "--out",
            str(tmp_path / "no_such_dir" / "r.png"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 2
    assert "no_such_dir" in printed and "does not exist" in printed


def test_cli_grid_bad_axis_exits_2(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor.toml"),
            "--market",
            str(market_file),
            "--moves",
            "0.1",
            "-0.1",
            "11",
            "--out",
            str(tmp_path / "r.png"),
        ]
    )
    assert code == 2
    assert "--moves" in capsys.readouterr().out


def test_cli_grid_as_a_process_exits_2_on_a_missing_market(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "alvh.cli",
            "grid",
            str(EXAMPLES / "condor.toml"),
            "--market",
            str(tmp_path / "missing.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "missing.toml" in result.stdout and "Traceback" not in result.stderr


def test_cli_other_commands_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["greeks", "--spot", "5000", "--strike", "5000", "--days", "30", "--vol", "0.18"]) == 0
    assert main(["info"]) == 0
    assert "simd" in capsys.readouterr().out


def test_cli_demo_runs_the_policies_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("arch")
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "iron condor" in printed
    for name in ("none", "early", "patient", "Verdict.", "90 % interval"):
        assert name in printed
    report = tmp_path / "alvh-demo-report" / "report.html"
    assert report.is_file() and report.stat().st_size > 100_000


def test_cli_backtest_on_files_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("arch")
    from alvh.backtesting.data import sample_data

    data = sample_data()
    spx = tmp_path / "spx.csv"
    vix = tmp_path / "vix.csv"
    data.spx.filter(pl.col("date").dt.year() == 2017).write_csv(spx)
    data.vix.select("date", "close").filter(pl.col("date").dt.year() == 2017).write_csv(vix)
    out = tmp_path / "rep"
    assert (
        main(["backtest", "--spx", str(spx), "--vix", str(vix), "--policy", "patient", "--out", str(out)])
        == 0
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert "patient" in printed and (out / "report.html").is_file()
    assert main(["backtest", "--spx", str(spx)]) == 2
    assert "--sample" in capsys.readouterr().out
    assert main(["backtest", "--spx", str(spx), "--vix", str(tmp_path / "none.csv")]) == 2
    assert main(["backtest", "--sample", "--policy", "eager"]) == 2


def test_risk_graph_leaves_pyplot_alone(hedged_grid, tmp_path: Path) -> None:
    import matplotlib

    before = matplotlib.get_backend()
    plots.risk_graph(hedged_grid, tmp_path / "risk.png")
    assert matplotlib.get_backend() == before
    if "matplotlib.pyplot" in sys.modules:  # no figure left open in pyplot's registry
        assert not sys.modules["matplotlib.pyplot"].get_fignums()


@pytest.mark.skipif(not hasattr(alvh.risk.grid.Grid, "plot"), reason="Grid.plot not added yet")
def test_grid_plot_writes_the_risk_graph(hedged_grid, tmp_path: Path) -> None:
    hedged_grid.plot(tmp_path / "risk.png", title="hedged condor")
    _assert_png(tmp_path / "risk.png")


def _write_chain(path: Path, market: alvh.Market, rho: float, eta: float) -> None:
    """Mid-priced quotes (bid == ask) of the March 2025 expiry under a known SSVI smile."""
    from dataclasses import replace as _replace

    truth = _replace(market, vol_model=alvh.SsviSurface(rho=rho, eta=eta))
    expiry = "2025-03-21"
    strikes = np.arange(5500.0, 6505.0, 25.0)
    lines = ["expiry,strike,type,bid,ask"]
    for kind in ("put", "call"):
        price = alvh.bsm.price(
            is_call=kind == "call",
            spot=truth.spot,
            strike=strikes,
            t=truth.t(expiry),
            rate=truth.rate,
            div=truth.div,
            vol=truth.spx_vol(strikes, expiry),
        )
        lines += [f"{expiry},{k:g},{kind},{p:.10f},{p:.10f}" for k, p in zip(strikes, price)]
    path.write_text("\n".join(lines) + "\n")


def test_cli_grid_fits_the_smile_to_a_chain_first(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    market = alvh.Market.from_toml(market_file)
    chain = tmp_path / "chain.csv"
    _write_chain(chain, market, rho=-0.6, eta=1.1)
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(market_file),
            "--chain",
            str(chain),
            "--out",
            str(tmp_path / "r.png"),
            "--days",
            "0",
            "5",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    # One expiry pins rho and phi(theta) (eta and gamma trade off along it).
    assert "SSVI fitted to" in printed and "rho -0.6000" in printed
    _assert_png(tmp_path / "r.png")


def test_cli_grid_fits_svi_slices_to_a_chain_with_smile_svi(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    market = alvh.Market.from_toml(market_file)
    chain = tmp_path / "chain.csv"
    _write_chain(chain, market, rho=-0.6, eta=1.1)
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(market_file),
            "--chain",
            str(chain),
            "--smile",
            "svi",
            "--out",
            str(tmp_path / "r.png"),
            "--days",
            "0",
            "5",
        ]
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 0, printed
    assert "SVI fitted to" in printed and "41 of 82 quotes, 1 slice, RMSE" in printed
    _assert_png(tmp_path / "r.png")


def test_cli_grid_crossed_quote_in_the_chain_names_file_line_and_field(
    market_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = tmp_path / "crossed.csv"
    chain.write_text(
        "expiry,strike,type,bid,ask\n2025-03-21,5800,put,20.0,21.0\n2025-03-21,5825,put,23.5,22.5\n"
    )
    code = main(
        [
            "grid",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(market_file),
            "--chain",
            str(chain),
            "--out",
            str(tmp_path / "r.png"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 2
    assert "crossed.csv:3 (row 2), column 'bid'" in " ".join(printed.split())
    assert not (tmp_path / "r.png").exists()
    missing = main(
        [
            "grid",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(market_file),
            "--chain",
            str(tmp_path / "nope.csv"),
        ]
    )
    assert missing == 2 and "nope.csv" in capsys.readouterr().out


# --------------------------------------------------------------------------- issue 18

TRADER_BOOK = EXAMPLES / "condor_2027-01_vix_hedge.toml"
TRADER_MARKET = EXAMPLES / "market_2026-12-04.toml"


@pytest.fixture(scope="module")
def trader() -> tuple[alvh.Position, alvh.Market, Any]:
    book, market = alvh.Position.from_toml(TRADER_BOOK), alvh.Market.from_toml(TRADER_MARKET)
    grid = scenario_grid(
        book, market, spot_moves=np.linspace(-0.1, 0.1, 41), vol_shifts=np.linspace(-5, 5, 11), days=[0, 5]
    )
    return book, market, grid


def _figure_of(monkeypatch: pytest.MonkeyPatch, draw: Any) -> Any:
    """The figure `risk_graph` saves (its save() intercepted)."""
    saved: list[Any] = []
    monkeypatch.setattr(plots, "save", lambda fig, target: saved.append(fig) or target)
    draw()
    return saved[0]


def test_both_panels_measure_pnl_from_entry_and_say_so(trader, monkeypatch, tmp_path: Path) -> None:
    """Issue 18: the left panel was P&L vs entry, the heatmap vs today's mark."""
    book, market, grid = trader
    view = plots._risk_view(grid, book, market)
    offset = grid.base_value - sum(leg.entry_cost for leg in book.legs)
    assert view.basis == "vs entry" and offset != 0.0
    np.testing.assert_allclose(view.heat, grid.pnl[0] + offset)
    t0 = next(c for c in view.curves if c.label == "T+0")
    np.testing.assert_allclose(t0.pnl, view.heat[view.flat])
    fig = _figure_of(
        monkeypatch, lambda: plots.risk_graph(grid, tmp_path / "r.png", position=book, market=market)
    )
    left, right = fig.axes[:2]
    assert "vs entry" in left.get_ylabel() and "vs entry" in right.get_title()
    assert any("vs entry" in ax.get_ylabel() for ax in fig.axes[2:])  # the colour bar


def test_a_t0_curve_moves_the_vix_with_the_spx(trader) -> None:
    """Issue 18: SPX and VIX moved independently; the T+0 curve with the VIX linked
    (VIX = VIX_0 (S/S_0)^-8.04, the projection's calibrated link) is each move's cell."""
    from alvh.risk.scenarios import VIX_BETA

    book, market, grid = trader
    view = plots._risk_view(grid, book, market)
    linked = next(c for c in view.curves if "VIX moving with SPX" in c.label)
    offset = grid.base_value - sum(leg.entry_cost for leg in book.legs)
    for k in (0, 10, 20, 30, 40):
        move = float(view.moves[k])
        shift = market.vix * (1 + move) ** VIX_BETA - market.vix
        cell = scenario_grid(book, market, spot_moves=[move], vol_shifts=[shift], days=[0])
        assert linked.pnl[k] == pytest.approx(float(cell.pnl[0, 0, 0]) + offset, rel=1e-9, abs=1e-6)
    t0 = next(c for c in view.curves if c.label == "T+0")
    assert linked.pnl[0] > t0.pnl[0] + 10_000  # at -10 % the VIX is ~45: the VIX calls pay


def test_the_expiry_line_keeps_a_vix_hedge_that_outlives_the_spx_expiry(trader) -> None:
    """Issue 18: the VIX Jan-2027 calls (2027-01-20) outlive the SPX expiry (01-15): the
    line was 'SPX legs only'; now it is every leg, the calls at model, their cost in."""
    book, market, _ = trader
    spots = np.linspace(5300.0, 6600.0, 27)
    curve = plots.expiry_curve(book, market, spots)
    assert curve is not None
    assert "SPX legs only" not in curve[1] and "all legs" in curve[1] and "$3,000" in curve[1]
    spx_only = alvh.Position(legs=tuple(leg for leg in book.legs if isinstance(leg, alvh.SpxOption)))
    hedge_cost = 20 * 100 * 1.50
    gap = curve[0] - analytics.expiry_pnl(spx_only, spots)
    # The calls' value on 15 Jan (5 days left, future 20.60, strike 24): small, positive,
    # the same at every SPX level (VIX unchanged).
    assert np.all(gap > -hedge_cost) and np.all(gap < -hedge_cost + 500.0)
    np.testing.assert_allclose(gap, gap[0])


def test_one_vix_shift_draws_its_row_and_names_its_vix(trader, monkeypatch, tmp_path: Path) -> None:
    """Issue 18: --shifts 10.5 10.5 1 drew an empty heatmap titled 'VIX unchanged (VIX
    shift +10.5)'."""
    book, market, _ = trader
    grid = scenario_grid(book, market, spot_moves=np.linspace(-0.1, 0.1, 41), vol_shifts=[10.5], days=[0])
    fig = _figure_of(
        monkeypatch, lambda: plots.risk_graph(grid, tmp_path / "r.png", position=book, market=market)
    )
    left, right = fig.axes[:2]
    assert "VIX 30.00 (+10.5 points)" in left.get_title() and "unchanged" not in left.get_title()
    assert "VIX 30.00 (+10.5 points)" in right.get_title()
    mesh = right.collections[0]
    assert np.asarray(mesh.get_array()).size == 41 and right.get_ylim() == pytest.approx((10.0, 11.0))


def test_cli_grid_labels_both_deltas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 18: one unlabelled delta; the grid's is smile-adjusted, a broker's is
    Black-Scholes. Both are printed, each named, and the Black-Scholes one is the legs'."""
    book, market = alvh.Position.from_toml(TRADER_BOOK), alvh.Market.from_toml(TRADER_MARKET)
    code = main(["grid", str(TRADER_BOOK), "--market", str(TRADER_MARKET), "--out", str(tmp_path / "r.png")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    bs = float(analytics.leg_greeks(book, market)["delta_spx_points"].sum())
    assert "delta, smile-adjusted (sticky moneyness)" in printed
    assert "delta, Black-Scholes (fixed vols)" in printed and f"{bs:+,.2f}" in printed
