"""The whole `alvh demo` (issue 13 target: <= 60 s on 2 cores): the example condor's
Greeks, the 2000-2022 replays with no hedge / early / patient (two processes), the
episode and calm-year tables, the verdict with its bootstrap intervals, and the report
(six PNGs and report.html), in a temporary directory."""

from __future__ import annotations

import pytest

from alvh.cli import main


@pytest.mark.benchmark(group="demo")
def test_demo_end_to_end(benchmark, tmp_path, monkeypatch, capsys):
    pytest.importorskip("arch")
    monkeypatch.chdir(tmp_path)
    benchmark.extra_info.update(task="demo", implementation="alvh native, alvh demo", options=1)
    code = benchmark.pedantic(lambda: main(["demo"]), rounds=2, iterations=1, warmup_rounds=0)
    capsys.readouterr()
    assert code == 0 and (tmp_path / "alvh-demo-report" / "report.html").is_file()
