"""``alvh sweep``: the layer-band sweep from the command line (serial, on a process pool,
on a dask cluster), its files, and its messages for bad options."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import alvh
from alvh.backtesting.sweeps import sweep
from alvh.cli import main

pytest.importorskip("matplotlib")

#: Four months with the February 2018 VIX spike: the bands change the hedges.
WINDOW = ["--start", "2018-01-01", "--end", "2018-04-30"]
START, END = dt.date(2018, 1, 1), dt.date(2018, 4, 30)


@pytest.fixture(scope="module")
def history():
    from alvh.backtesting.data import sample_data

    data = sample_data()
    return data.spx, data.vix.select("date", "close"), data.rates


@pytest.fixture(scope="module")
def inputs():
    """The diagnostics' inputs ``--sample`` feeds (breadth proxy, core CPI, term spread)."""
    from alvh.backtesting.data import sample_data
    from alvh.backtesting.inputs import sample_inputs

    return sample_inputs(sample_data())


@pytest.fixture(scope="module")
def expected(history, inputs):
    """`sweep` called directly on what the CLI tests below ask for (``--sample``: each
    day at the sample's 3-month bill rate)."""
    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.data import rates_for

    spx, vix, rates = history
    return sweep(
        spx,
        vix,
        layer1_starts=[16, 17],
        layer2_starts=[23, 24],
        base=alvh.Policy.preset("early"),
        start=START,
        end=END,
        rates=rates_for(replay_days(spx, vix, start=START, end=END), rates),
        inputs=inputs,
    )


def test_cli_sweep_writes_the_rows_of_sweep_and_the_heatmap(
    expected, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    assert (
        main(["sweep", "--sample", *WINDOW, "--layer1", "16:17", "--layer2", "23:24", "--out", str(out)]) == 0
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert "Best 4 of 4 layer bands by sharpe" in printed
    assert str(out / "sweep.parquet") in printed and str(out / "sweep_heatmap.png") in printed
    assert {p.name for p in out.iterdir()} == {"sweep.parquet", "sweep_heatmap.png"}
    assert (out / "sweep_heatmap.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    written = pl.read_parquet(out / "sweep.parquet")
    assert written.equals(expected)
    assert written.select("layer1_start", "layer2_start").rows() == [
        (16.0, 23.0),
        (16.0, 24.0),
        (17.0, 23.0),
        (17.0, 24.0),
    ]
    # the window has hedges, and the bands change them
    assert written["hedge_spend"].min() > 0 and written["annual_return"].n_unique() > 1


def test_cli_sweep_on_two_processes_gives_the_serial_rows_as_csv(
    expected, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pool"
    assert (
        main(
            [
                "sweep",
                "--sample",
                *WINDOW,
                "--layer1",
                "16,17",
                "--layer2",
                "23:24",
                "--workers",
                "2",
                "--format",
                "csv",
                "--metric",
                "max_drawdown",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "by max_drawdown" in " ".join(capsys.readouterr().out.split())
    assert_frame_equal(pl.read_csv(out / "sweep.csv"), expected, rel_tol=1e-12)


def test_cli_sweep_on_a_dask_scheduler(
    history, inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distributed = pytest.importorskip("distributed")
    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.data import rates_for

    spx, vix, rates = history
    rates = rates_for(replay_days(spx, vix, start=START, end=END), rates)
    want = sweep(
        spx, vix, layer1_starts=[16], layer2_starts=[23, 24], start=START, end=END, rates=rates, inputs=inputs
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        assert (
            main(
                [
                    "sweep",
                    "--sample",
                    *WINDOW,
                    "--layer1",
                    "16",
                    "--layer2",
                    "23,24",
                    "--dask",
                    cluster.scheduler_address,
                    "--out",
                    str(tmp_path),
                ]
            )
            == 0
        )
    assert pl.read_parquet(tmp_path / "sweep.parquet").equals(want)


def test_cli_sweep_walks_forward_from_the_split(
    history, inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from alvh.backtesting.daily import replay_days
    from alvh.backtesting.data import rates_for
    from alvh.backtesting.sweeps import walk_forward

    spx, vix, rates = history
    split = dt.date(2018, 2, 28)
    rates = rates_for(replay_days(spx, vix, start=START, end=END), rates)
    want = walk_forward(
        spx,
        vix,
        split=split,
        layer1_starts=[16, 17],
        layer2_starts=[23],
        start=START,
        end=END,
        rates=rates,
        inputs=inputs,
    )
    out = tmp_path / "wf"
    argv = ["sweep", "--sample", *WINDOW, "--train-end", "2018-02-28", "--layer1", "16:17", "--layer2", "23"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "Out of sample, after 2018-02-28" in printed and "early (chosen)" in printed
    assert pl.read_parquet(out / "sweep.parquet").equals(want.train)
    assert pl.read_parquet(out / "walk_forward.parquet").equals(want.test)


def test_cli_sweep_without_dask_names_the_dist_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("arch")
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["sweep", "--sample", "--dask", "tcp://127.0.0.1:8786", "--out", str(tmp_path / "x")]) == 2
    assert "pip install 'alvh[dist]'" in " ".join(capsys.readouterr().out.split())
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer1", "21:15"], "--layer1 '21:15': the range ends below its start"),
        (["--layer1", "abc"], "--layer1 'abc' is not a range LOW:HIGH"),
        (["--layer2", "22:x"], "--layer2 '22:x' is not a range LOW:HIGH"),
        (["--layer2", "22.5:25"], "--layer2 '22.5:25' is not a range LOW:HIGH"),
        (["--layer1", "15:18:1"], "--layer1 '15:18:1' is not a range LOW:HIGH"),
        (["--layer1", "16,,17"], "--layer1 '16,,17' is not a range LOW:HIGH"),
        (["--layer1", "0:3"], "--layer1 '0:3': VIX levels must be between 0 and 200"),
        (["--start", "2018-13-01"], "--start '2018-13-01' is not a date"),
        (["--start", "2018-05-01", "--end", "2018-04-01"], "--end 2018-04-01 is before --start"),
        (["--workers", "0"], "--workers must be 1 or more"),
        (["--workers", "2", "--dask", "tcp://127.0.0.1:8786"], "--workers or --dask, not both"),
        (["--policy", "eager"], "--policy 'eager' is neither a preset"),
        (["--layer1", "25", "--layer2", "22"], "no valid (layer1_start, layer2_start) pair"),
        (["--end", "2010-01-01", "--train-end", "2011-12-31"], "--train-end 2011-12-31 must fall between"),
    ],
)
def test_cli_sweep_bad_options_exit_2_naming_them(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--sample", *args, "--out", str(tmp_path / "x")]) == 2
    printed = " ".join(capsys.readouterr().out.split())
    assert "error:" in printed and message in printed, printed
    assert not (tmp_path / "x").exists()


def test_cli_sweep_needs_a_history_and_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def printed() -> str:
        return " ".join(capsys.readouterr().out.split())

    assert main(["sweep", "--spx", str(tmp_path / "spx.csv")]) == 2
    assert "--sample" in printed()
    assert main(["sweep", "--spx", str(tmp_path / "spx.csv"), "--vix", "v.csv"]) == 2
    assert "spx.csv' does not exist" in printed()
    afile = tmp_path / "afile"
    afile.write_text("")
    assert main(["sweep", "--sample", "--out", str(afile)]) == 2
    assert "exists and is not a directory" in printed()
