"""Issue 16, point 12: Ctrl-C is one line and exit code 130, with no worker tracebacks, and
the backtest report is written whole or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("arch")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups and SIGINT")
def test_ctrl_c_during_the_demo_is_one_line_and_exit_130(tmp_path: Path) -> None:
    # before: a 30-line traceback, and a report folder with some PNGs and no report.html
    proc = subprocess.Popen(
        [sys.executable, "-m", "alvh.cli", "demo"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches
    )
    time.sleep(8.0)  # inside the three replays (about 20 s in all)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    text = out.decode() + err.decode()
    assert proc.returncode == 130, text[-2000:]
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert out.decode().rstrip().endswith("interrupted")
    report = tmp_path / "alvh-demo-report"
    assert not report.exists() or (report / "report.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".alvh-demo-report.")]  # no staging left


def test_the_report_is_published_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import alvh
    from alvh.backtesting.comparison import backtest
    from alvh.backtesting.data import sample_data
    from alvh.report import backtest as report_module

    data = sample_data()
    import polars as pl

    spx = data.spx.filter(pl.col("date").is_between(pl.date(2018, 1, 1), pl.date(2018, 6, 30)))
    vix = data.vix.select("date", "close").filter(
        pl.col("date").is_between(pl.date(2018, 1, 1), pl.date(2018, 6, 30))
    )
    result = backtest(spx, vix, policies={"none": None, "early": alvh.Policy.preset("early")})
    target = tmp_path / "report"
    first = report_module.backtest_report(result, target)
    assert first == target / "report.html" and first.is_file()
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def interrupted(*args: object, **kwargs: object) -> None:
        (args[1] / "equity.png").write_bytes(b"half")  # type: ignore[operator]
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "_write_report", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report_module.backtest_report(result, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # the old report, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder left


def test_a_new_report_folder_gets_the_usual_permissions(tmp_path: Path) -> None:
    import polars as pl

    from alvh.backtesting.comparison import backtest
    from alvh.backtesting.data import sample_data
    from alvh.report.backtest import backtest_report

    data = sample_data()
    quarter = pl.col("date").is_between(pl.date(2018, 1, 1), pl.date(2018, 3, 31))
    result = backtest(
        data.spx.filter(quarter), data.vix.select("date", "close").filter(quarter), policies={"none": None}
    )
    backtest_report(result, tmp_path / "r")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "r").stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700
