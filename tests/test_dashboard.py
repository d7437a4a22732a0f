"""The interactive dashboard (`alvh.report.dashboard`, ``alvh dashboard``): the numbers on
the page are the grid's, the projection's and the backtest's own; the page is one offline
file; and, in headless Chromium, it renders without a console error and its sliders change
the plotted curve to the right cell of the risk graph."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import alvh
from alvh.cli import main
from alvh.errors import InputTypeError, InvalidInputError

pytest.importorskip("plotly", reason="the dashboard needs plotly (pip install 'alvh[dashboard]')")

from alvh.report import dashboard  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
POSITION = EXAMPLES / "condor_2027-01_vix_hedge.toml"
MARKET = EXAMPLES / "market_2026-12-04.toml"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def book() -> tuple[alvh.Position, alvh.Market]:
    return alvh.Position.from_toml(POSITION), alvh.Market.from_toml(MARKET)


def _entry_offset(grid: alvh.Grid) -> float:
    """P&L vs entry minus P&L vs today's mark, computed here from the legs."""
    return grid.base_value - math.fsum(leg.entry_cost for leg in grid.position.legs)


def _view(script: str) -> dict:
    """The data the sliders' script carries (the JSON literal after ``var view =``)."""
    match = re.search(r"var view = (\{.*?\});\n", script, re.S)
    assert match, "the sliders' script carries no view"
    return json.loads(match.group(1))


# --------------------------------------------------------------------------- the figures


def test_every_slider_cell_is_the_grid_cell_vs_entry_whatever_the_axes_order(book) -> None:
    position, market = book
    # Axes out of order on purpose: the page sorts them, the cells must follow.
    moves, shifts, days = [0.04, -0.06, 0.0, -0.02, 0.08], [3.0, -2.0, 0.0], [7, 0, 2]
    grid = alvh.scenario_grid(position, market, spot_moves=moves, vol_shifts=shifts, days=days)
    fig, script = dashboard.risk_figure(grid)
    view = _view(script)
    offset = _entry_offset(grid)
    x = np.asarray(fig.data[0].x)
    np.testing.assert_allclose(x, market.spot * (1 + np.sort(moves)))
    for i, day in enumerate(sorted(days)):
        for j, shift in enumerate(sorted(shifts)):
            cell = alvh.scenario_grid(
                position, market, spot_moves=np.sort(moves), vol_shifts=[shift], days=[day]
            )
            expected = cell.pnl[0, 0] + offset
            np.testing.assert_allclose(view["cube"][i][j], expected, atol=0.006)
            assert view["day_labels"][i].startswith(f"T+{day} ")
            assert f"{market.vix + shift:.2f}" in view["vix_labels"][j]
    # The first view: T+0, VIX unchanged.
    np.testing.assert_allclose(fig.data[0].y, view["cube"][0][1], atol=1e-9)
    assert fig.layout.sliders[0].active == 0 and fig.layout.sliders[1].active == 1


def test_breakevens_on_the_page_are_zero_crossings_of_their_curve(book) -> None:
    position, market = book
    grid = alvh.scenario_grid(
        position, market, spot_moves=np.linspace(-0.1, 0.1, 161), vol_shifts=[-5.0, 0.0, 5.0], days=[0, 10]
    )
    _fig, script = dashboard.risk_figure(grid)
    view = _view(script)
    x = market.spot * (1 + np.linspace(-0.1, 0.1, 161))
    found = 0
    for i in range(2):
        for j in range(3):
            curve = np.asarray(view["cube"][i][j])
            for be in view["breakevens"][i][j]:
                found += 1
                assert abs(np.interp(be, x, curve)) < 1.0  # $: at a crossing the curve is 0
                k = int(np.searchsorted(x, be))
                assert curve[k - 1] * curve[k] <= 0  # a sign change brackets it
    assert found >= 2  # the T+0 condor has a profit zone around the spot


def test_linked_curve_moves_the_vix_with_the_spx(book) -> None:
    position, market = book
    grid = alvh.scenario_grid(position, market, spot_moves=[-0.05, 0.0, 0.05], vol_shifts=[0.0], days=[0, 5])
    fig, _script = dashboard.risk_figure(grid)
    linked = next(t for t in fig.data if "VIX moving with SPX" in t.name)
    vix, pnl = grid.vix_linked_pnl([-0.05, 0.0, 0.05])
    np.testing.assert_allclose(linked.customdata, vix)
    np.testing.assert_allclose(linked.y, pnl + _entry_offset(grid))
    assert vix[0] > market.vix > vix[2]  # down market, higher VIX


def test_fan_menu_shows_each_scenario_and_the_mixture(book) -> None:
    position, market = book
    projection = alvh.project(position, market, scenarios="gdp", days=5, paths=2000, seed=3)
    fig = dashboard.fan_figure(projection)
    buttons = fig.layout.updatemenus[0].buttons
    assert len(buttons) == len(projection.names) + 1
    q = projection.stat_names.index
    for k, button in enumerate(buttons):
        table = projection.mixture if k == 0 else projection.stats[k - 1]
        arrays = button.args[0]["y"]
        median, mean = arrays[6], arrays[7]
        np.testing.assert_allclose(median[1:], table[:, q("q50")], atol=0.006)
        np.testing.assert_allclose(mean[1:], table[:, q("mean")], atol=0.006)
        assert median[0] == 0.0  # today: P&L 0 vs today's mark
        lows, highs = np.asarray(arrays[0]), np.asarray(arrays[1])  # the 1-99 % band
        assert np.all(lows <= highs)
    np.testing.assert_allclose(fig.data[6].y[1:], projection.mixture[:, q("q50")], atol=0.006)
    horizon = dashboard.horizon_figure(projection)
    box = horizon.data[0]
    assert list(box.y)[-1] == "mixture"
    s = projection.names.index(box.y[0])
    assert box.median[0] == pytest.approx(projection.stats[s, -1, q("q50")], abs=0.006)


# --------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def backtest_2008():
    from alvh.backtesting.comparison import backtest
    from alvh.backtesting.data import sample_data
    from alvh.backtesting.reference import Vxth
    from alvh.policy.config import Policy

    data = sample_data()
    policies = {
        "none": None,
        "early": Policy.preset("early"),
        "patient": Policy.preset("patient"),
        "vxth": Vxth(),
    }
    return backtest(
        data.spx,
        data.vix.select("date", "close"),
        policies=policies,
        start=dt.date(2008, 1, 1),
        end=dt.date(2008, 12, 31),
    )


def test_page_is_offline_and_holds_the_hedge_log_and_the_verdict(book, backtest_2008, tmp_path: Path) -> None:
    import html

    from alvh.backtesting.comparison import verdict

    position, market = book
    grid = alvh.scenario_grid(position, market, spot_moves=[-0.05, 0.0, 0.05], vol_shifts=[0.0], days=[0, 5])
    out = dashboard.write_dashboard(tmp_path / "d.html", grid, result=backtest_2008)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\ssrc=", page), "every script is inline"
    assert not re.search(r"<link[^>]*href=[\"']https?:", page)
    hedges = sum(run.hedge_log().height for run in backtest_2008.runs.values())
    assert hedges > 0
    log = page[page.index('id="hedge-log"') :]
    assert log.count("<tr>") == hedges + 1  # the header and one row per hedge
    assert html.escape(verdict(backtest_2008)) in page
    assert "projection-fan" not in page  # none given, none drawn


def test_bad_arguments_name_themselves_and_leave_the_old_file(book, tmp_path: Path) -> None:
    position, market = book
    grid = alvh.scenario_grid(position, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    with pytest.raises(InvalidInputError, match=r"path must name a \.html file; got path = '.*d\.png'"):
        dashboard.write_dashboard(tmp_path / "d.png", grid)
    with pytest.raises(InvalidInputError, match="does not exist"):
        dashboard.write_dashboard(tmp_path / "nowhere" / "d.html", grid)
    with pytest.raises(InputTypeError, match="grid must be an alvh Grid; got str"):
        dashboard.write_dashboard(tmp_path / "d.html", "grid")  # type: ignore[arg-type]
    old = tmp_path / "old.html"
    old.write_text("<!DOCTYPE html><p>yesterday's</p>")
    with pytest.raises(InputTypeError, match="result must be an alvh BacktestResult; got dict"):
        dashboard.write_dashboard(old, grid, result={})  # type: ignore[arg-type]
    assert old.read_text() == "<!DOCTYPE html><p>yesterday's</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.html"]  # no temp file left


# --------------------------------------------------------------------------- in a browser


def _chromium_or_skip():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser test needs playwright (pip install playwright)"
    )
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_api


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """``alvh dashboard`` on the issue 18 example book with one year of the sample's backtest."""
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    argv = [str(POSITION), "--market", str(MARKET), "--paths", "4000", "--sample"]
    argv += ["--start", "2008-01-01", "--end", "2008-12-31", "--out", str(out)]
    assert main(["dashboard", *argv]) == 0
    return out


def _slider_click(page, index: int, step: int, steps: int) -> None:
    """Click slider ``index``'s rail at ``step`` of ``steps`` (plotly jumps to the nearest)."""
    rail = page.locator(f"#{dashboard.RISK_ID} .slider-rail-touch-rect").nth(index)
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    assert box is not None
    # plotly's steps sit evenly on the rail between its two end caps, half a grip in.
    inset = 8.0
    x = box["x"] + inset + (box["width"] - 2 * inset) * step / (steps - 1)
    page.mouse.click(x, box["y"] + box["height"] / 2)


def test_dashboard_renders_offline_and_its_sliders_show_the_right_cell(written: Path, book) -> None:
    sync_api = _chromium_or_skip()
    position, market = book
    problems: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on(
                "console",
                lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(written.as_uri())
            for div in (dashboard.RISK_ID, dashboard.FAN_ID, dashboard.HORIZON_ID, dashboard.BACKTEST_ID):
                page.wait_for_function(
                    f"document.getElementById('{div}') && document.getElementById('{div}')._fullLayout"
                )
            shot = written.with_suffix(".png")
            page.screenshot(path=str(shot), full_page=True)

            def state() -> dict:
                return page.evaluate(
                    f"""() => {{ const gd = document.getElementById('{dashboard.RISK_ID}');
                    return {{x: Array.from(gd.data[0].x), y: Array.from(gd.data[0].y), name: gd.data[0].name,
                            active: gd.layout.sliders.map(s => s.active),
                            days: gd.layout.sliders[0].steps.length,
                            shifts: gd.layout.sliders[1].steps.map(s => s.label),
                            title: gd.layout.title.text}}; }}"""
                )

            before = state()
            last_day = before["days"] - 1
            _slider_click(page, 0, last_day, before["days"])  # days forward: the horizon
            page.wait_for_function(
                f"document.getElementById('{dashboard.RISK_ID}').layout.sliders[0].active === {last_day}"
            )
            after_days = state()
            plus5 = before["shifts"].index("+5")
            _slider_click(page, 1, plus5, len(before["shifts"]))  # VIX shift +5, the days kept
            page.wait_for_function(
                f"document.getElementById('{dashboard.RISK_ID}').layout.sliders[1].active === {plus5}"
            )
            after_both = state()
            moved = written.with_name("risk_graph_after_sliders.png")
            page.locator(f"#{dashboard.RISK_ID}").screenshot(path=str(moved))
        finally:
            browser.close()

    assert problems == [], problems
    assert requests == [written.as_uri()], "the page fetched something besides itself"
    assert shot.stat().st_size > 50_000 and moved.stat().st_size > 20_000
    from PIL import Image

    with Image.open(shot) as image:
        assert image.width == 1300 and image.height > 3000  # every section laid out
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 200  # drawn, not blank

    assert before["active"] == [0, before["shifts"].index("+0")]
    assert after_days["active"] == [last_day, before["shifts"].index("+0")]
    assert after_days["y"] != before["y"]
    assert f"T+{last_day} " in after_days["title"] and f"T+{last_day} " in after_days["name"]
    assert after_both["active"] == [last_day, plus5]
    assert "+5 points" in after_both["name"] and after_both["y"] != after_days["y"]

    # What the browser plots is the model's P&L vs entry at that cell, computed here anew.
    moves = np.asarray(before["x"]) / market.spot - 1.0
    for shown, shift in ((after_days, 0.0), (after_both, 5.0)):
        cell = alvh.scenario_grid(position, market, spot_moves=moves, vol_shifts=[shift], days=[last_day])
        np.testing.assert_allclose(shown["y"], cell.pnl[0, 0] + _entry_offset(cell), atol=0.02)
