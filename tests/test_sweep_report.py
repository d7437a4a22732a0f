"""The sweep's heatmap and best-points table judge each metric the right way round
(issue 18: a Sharpe of -0.55 coloured dark green; the pair with the best return and
the lowest drawdown ranked last)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import alvh
from alvh.report import sweep as report

pytest.importorskip("matplotlib")

RATE = 0.02


def _row(l1: float, l2: float, annual_return: float, vol: float, drawdown: float) -> dict[str, Any]:
    excess = annual_return - RATE
    downside = 0.7 * vol
    return {
        "layer1_start": l1,
        "layer2_start": l2,
        "annual_return": annual_return,
        "vol": vol,
        "sharpe": excess / vol,
        "sortino": excess / downside,
        "max_drawdown": drawdown,
        "calmar": annual_return / drawdown,
        "worst_day": -0.4 * vol,
        "cvar95_daily": 0.2 * vol,
        "hedge_spend": 1000.0 * l1,
        "adjustments": 3,
    }


@pytest.fixture
def losing_sweep() -> pl.DataFrame:
    """Every pair below the risk-free rate. (17, 24) has the best return, the least
    vol and the lowest drawdown, yet the lowest Sharpe: -0.03 / 0.05 = -0.6 against
    -0.04 / 0.20 = -0.2 for (16, 23), the worst pair."""
    return pl.DataFrame(
        [
            _row(16, 23, -0.02, 0.20, 0.30),
            _row(16, 24, -0.015, 0.12, 0.20),
            _row(17, 23, -0.018, 0.15, 0.25),
            _row(17, 24, -0.01, 0.05, 0.08),
        ]
    )


def test_a_losing_sweep_ranks_the_best_return_and_lowest_drawdown_first(losing_sweep) -> None:
    from alvh.cli.sweep import _best_table

    for metric in ("sharpe", "sortino", "calmar", "annual_return", "max_drawdown", "vol"):
        best = report.ranked(losing_sweep, metric).row(0, named=True)
        assert (best["layer1_start"], best["layer2_start"]) == (17, 24), metric
        worst = report.ranked(losing_sweep, metric).row(-1, named=True)
        assert (worst["layer1_start"], worst["layer2_start"]) == (16, 23), metric
    table = _best_table(losing_sweep, argparse.Namespace(metric="sharpe", top=4), alvh.Policy.preset("early"))
    assert list(table.columns[0].cells)[0] == "17" and list(table.columns[1].cells)[0] == "24"


def test_rank_key_keeps_positive_ratios_and_refines_negative_ones(losing_sweep) -> None:
    winning = pl.DataFrame([_row(16, 23, 0.10, 0.20, 0.1), _row(16, 24, 0.05, 0.05, 0.1)])
    np.testing.assert_allclose(report.rank_key(winning, "sharpe"), winning["sharpe"].to_numpy())
    key = report.rank_key(losing_sweep, "sharpe")
    expected = (losing_sweep["annual_return"] - RATE) * losing_sweep["vol"]
    np.testing.assert_allclose(key, expected.to_numpy())
    np.testing.assert_allclose(report.rank_key(losing_sweep, "max_drawdown"), -losing_sweep["max_drawdown"])
    with pytest.raises(alvh.errors.InvalidInputError, match="'cagr' is not a sweep column"):
        report.rank_key(losing_sweep, "cagr")


def _heatmap(frame: pl.DataFrame, metric: str, monkeypatch, tmp_path: Path) -> Any:
    saved: list[Any] = []
    monkeypatch.setattr(report, "save", lambda fig, target: saved.append(fig) or target)
    report.sweep_heatmap(frame, tmp_path / "s.png", metric=metric)
    return saved[0].axes[0].images[0]


def _is_red(rgba: Any) -> bool:
    return rgba[0] > rgba[1] + 0.15


def _is_green(rgba: Any) -> bool:
    return rgba[1] > rgba[0] + 0.15


def test_a_negative_sharpe_is_never_green(losing_sweep, monkeypatch, tmp_path: Path) -> None:
    image = _heatmap(losing_sweep, "sharpe", monkeypatch, tmp_path)
    for sharpe in losing_sweep["sharpe"]:
        assert _is_red(image.cmap(image.norm(sharpe))), sharpe
    assert image.norm(0.0) == pytest.approx(0.5)


def test_drawdown_colours_lower_green_and_a_mixed_sign_metric_centres_at_zero(
    losing_sweep, monkeypatch, tmp_path: Path
) -> None:
    image = _heatmap(losing_sweep, "max_drawdown", monkeypatch, tmp_path)
    assert _is_green(image.cmap(image.norm(100 * 0.08))) and _is_red(image.cmap(image.norm(100 * 0.30)))
    mixed = pl.DataFrame([_row(16, 23, 0.10, 0.20, 0.1), _row(16, 24, -0.05, 0.1, 0.2)])
    image = _heatmap(mixed, "annual_return", monkeypatch, tmp_path)
    assert image.norm(0.0) == pytest.approx(0.5)
    assert _is_green(image.cmap(image.norm(10.0))) and _is_red(image.cmap(image.norm(-5.0)))
