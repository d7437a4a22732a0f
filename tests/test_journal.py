"""alvh.Journal: append-only SQLite journal of decisions and policy versions.

Crash and concurrency are tested for real: separate processes appending at once,
and a process SIGKILLed while it writes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from alvh.errors import InvalidInputError
from alvh.policy import Policy
from alvh.policy.decision import Action, Decision, Diagnostic
from alvh.policy.journal import ALVH_APPLICATION_ID, Journal, JournalError


def make_decision(policy: Policy, day: int = 0, vix: float = 18.5) -> Decision:
    return Decision(
        date=dt.date(2025, 2, 3) + dt.timedelta(days=day),
        vix=vix,
        layer_before=0,
        layer_after=1,
        policy_version=policy.version,
        policy_name=policy.name,
        diagnostics=(
            Diagnostic("macd_expanding", 3.0, True, "|hist| rose 3 days"),
            Diagnostic("ad_divergence", None, None, "no breadth data: rule skipped"),
        ),
        actions=(Action("short_vix_calls", "buy 10 VIX Mar 25 calls", 10.0, 850.0, 850.0),),
        greeks_before={"delta": -2300.5, "vega": -1250.0},
        greeks_after={"delta": -2100.0, "vega": -900.25},
        cvar_before=17224.1,
        cvar_after=15010.0,
        breakevens_before=(5612.5, 6318.0),
        breakevens_after=(5590.0, 6330.0),
        rationale="VIX 18.5 entered layer 1 with MACD expanding: a regime shift, not noise.",
    )


@pytest.fixture
def policy() -> Policy:
    return Policy.preset("early")


def test_append_and_read_back(tmp_path: Path, policy: Policy):
    path = tmp_path / "alvh.db"
    with Journal(path) as journal:
        version = journal.record_policy(policy)
        first = journal.append(make_decision(policy))
        second = journal.append(make_decision(policy, day=1, vix=19.0))
        assert (first, second) == (1, 2) and len(journal) == 2
        assert journal.decision(first) == make_decision(policy)
        frame = journal.decisions()
    assert frame.height == 2 and frame["policy_version"].to_list() == [version] * 2
    assert frame["date"].dtype == pl.Date and frame["vix"].to_list() == [18.5, 19.0]
    with Journal(path) as again:  # reopened: the same content
        assert len(again) == 2 and again.decision(second).vix == 19.0


def test_governance_log_records_each_config_once(tmp_path: Path, policy: Policy):
    patient = Policy.preset("patient")
    with Journal(tmp_path / "j.db") as journal:
        journal.append(make_decision(policy), policy=policy)
        journal.append(make_decision(policy, day=1), policy=policy)
        journal.append(make_decision(patient, day=2), policy=patient)
        logged = journal.policies()
        assert logged.height == 2
        assert set(logged["version"]) == {policy.version, patient.version}
        stored = json.loads(logged.filter(pl.col("version") == patient.version)["config"][0])
        assert Policy.from_dict(stored) == patient
        with pytest.raises(JournalError, match="governance log"):
            journal.append(
                make_decision(
                    Policy.preset("early").with_changes(
                        name="tweaked", sizing=policy.sizing.__class__(layer_cap=0.02)
                    )
                )
            )
        with pytest.raises(JournalError, match="does not match"):
            journal.append(make_decision(policy), policy=patient)


def test_rows_cannot_be_changed_or_deleted(tmp_path: Path, policy: Policy):
    path = tmp_path / "j.db"
    with Journal(path) as journal:
        journal.append(make_decision(policy), policy=policy)
    db = sqlite3.connect(path)
    for sql in (
        "UPDATE decisions SET vix = 99",
        "DELETE FROM decisions",
        "UPDATE policies SET name = 'x'",
        "DELETE FROM policies",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    db.close()


def test_rows_cannot_be_replaced_either(tmp_path: Path, policy: Policy):
    # issue 16 point 13: INSERT OR REPLACE deletes the old row without firing the DELETE
    # trigger; a schema-2 journal refuses an insert whose key is taken.
    path = tmp_path / "j.db"
    with Journal(path) as journal:
        first = journal.append(make_decision(policy), policy=policy)
        journal.record_outcome(first, 5, 120.0)
        journal.record_policy(policy)  # recording a known version again is still fine
    db = sqlite3.connect(path)
    version = db.execute("SELECT version FROM policies").fetchone()[0]
    for sql, args in (
        (
            "INSERT OR REPLACE INTO decisions (id, date, recorded_at, policy_version, vix, "
            "layer_before, layer_after, actions, rationale, record) "
            "VALUES (?, '2020-01-01', 'x', ?, 1, 0, 0, 0, 'x', '{}')",
            (first, version),
        ),
        (
            "INSERT OR REPLACE INTO policies (version, name, config, recorded_at) VALUES (?, 'x', '{}', 'x')",
            (version,),
        ),
        (
            "INSERT OR REPLACE INTO outcomes (decision_id, horizon_days, pnl, recorded_at) "
            "VALUES (?, 5, 0, 'x')",
            (first,),
        ),
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql, args)
    assert db.execute("SELECT pnl FROM outcomes").fetchall() == [(120.0,)]  # untouched
    assert db.execute("SELECT date FROM decisions").fetchall() != [("2020-01-01",)]
    db.close()
    with Journal(path) as journal:
        assert journal.decisions()["rationale"].to_list() == [make_decision(policy).rationale]


def test_a_schema_1_journal_is_migrated_to_refuse_replacing(tmp_path: Path, policy: Policy):
    from alvh.policy import journal as journal_module

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA application_id = {journal_module.ALVH_APPLICATION_ID}")
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for statement in journal_module._statements(journal_module.MIGRATIONS[1]):
        db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (1, 'then')")
    db.commit()
    db.close()
    with Journal(path) as journal:
        journal.append(make_decision(policy), policy=policy)
    db = sqlite3.connect(path)
    assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 3
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(
            "INSERT OR REPLACE INTO policies (version, name, config, recorded_at) "
            "SELECT version, 'x', '{}', 'x' FROM policies"
        )
    db.close()


def test_outcomes_join_and_parquet(tmp_path: Path, policy: Policy):
    with Journal(tmp_path / "j.db") as journal:
        a = journal.append(make_decision(policy), policy=policy)
        b = journal.append(make_decision(policy, day=1), policy=policy)
        journal.record_outcome(a, 5, 1250.0)
        journal.record_outcome(a, 10, -300.5)
        journal.record_outcome(b, 5, 80.0)
        joined = journal.with_outcomes()
        out = journal.to_parquet(tmp_path / "journal.parquet")
    assert joined["pnl_5d"].to_list() == [1250.0, 80.0]
    assert joined["pnl_10d"].to_list() == [-300.5, None]
    assert pl.read_parquet(out).equals(joined)


def test_foreign_and_corrupt_files_are_refused_and_left_alone(tmp_path: Path, policy: Policy):
    text = tmp_path / "notes.db"
    text.write_bytes(b"these are my notes, not a database\n" * 10)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE customers (id INTEGER)")
    db.commit()
    db.close()
    damaged = tmp_path / "damaged.db"
    with Journal(damaged) as journal:
        journal.append(make_decision(policy), policy=policy)
    raw = bytearray(damaged.read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)  # smash the first page's b-tree
    damaged.write_bytes(bytes(raw))
    for path, match in (
        (text, "not an SQLite file"),
        (other, "another application"),
        (damaged, "damaged|not a readable"),
    ):
        before = path.read_bytes()
        with pytest.raises(JournalError, match=match):
            Journal(path)
        assert path.read_bytes() == before, path  # never written to
    with pytest.raises(JournalError, match="does not exist"):
        Journal(tmp_path / "missing" / "j.db")


def test_newer_schema_is_refused(tmp_path: Path, policy: Policy):
    path = tmp_path / "j.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (99, 'future')")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="newer"):
        Journal(path)


_WRITER = textwrap.dedent("""
    import sys, datetime as dt
    sys.path.insert(0, {tests!r})
    from test_journal import make_decision
    from alvh.policy.journal import Journal
    from alvh.policy import Policy
    path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    policy = Policy.preset("early")
    with Journal(path) as journal:
        journal.record_policy(policy)
        print("ready", flush=True)
        for i in range(count):
            journal.append(make_decision(policy, day=i, vix=10.0 + worker + i / 1e4))
""")


def _writer(path: Path, worker: int, count: int) -> subprocess.Popen[str]:
    script = _WRITER.format(tests=str(Path(__file__).parent))
    return subprocess.Popen(
        [sys.executable, "-c", script, str(path), str(worker), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_appending_at_once(tmp_path: Path):
    path = tmp_path / "shared.db"
    writers = [_writer(path, w, 150) for w in (1, 2)]
    for proc in writers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Journal(path) as journal:
        frame = journal.decisions()
    assert frame.height == 300
    assert frame["id"].to_list() == list(range(1, 301))
    by_worker = frame.group_by((pl.col("vix").floor()).alias("w")).len().sort("w")
    assert by_worker["len"].to_list() == [150, 150]


def test_a_process_killed_mid_write_leaves_a_readable_journal(tmp_path: Path):
    path = tmp_path / "killed.db"
    proc = _writer(path, 1, 1_000_000)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # let it get well into writing
        with Journal(path) as probe:
            if len(probe) >= 50:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Journal(path) as journal:
        n = len(journal)
        assert n >= 50
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA application_id").fetchone()[0] == ALVH_APPLICATION_ID
        db.close()
        # every committed row is whole
        for decision_id in range(1, n + 1):
            assert journal.decision(decision_id).rationale
        journal.append(make_decision(Policy.preset("early")))  # and it takes new rows
        assert len(journal) == n + 1


def test_cli_journal_show(tmp_path: Path, policy: Policy, capsys: pytest.CaptureFixture[str]):
    from alvh.cli import main

    path = tmp_path / "alvh.db"
    with Journal(path) as journal:
        first = journal.append(make_decision(policy), policy=policy)
        journal.append(make_decision(policy, day=1, vix=21.25), policy=policy)
        journal.record_outcome(first, 5, 1234.0)
    assert main(["journal", "show", "--journal", str(path)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "2 decision(s), 1 policy version(s)" in printed
    assert "21.25" in printed and "+1,234" in printed and "0 -> 1" in printed
    assert main(["journal", "show", "--journal", str(tmp_path / "none.db")]) == 2
    assert "does not exist" in capsys.readouterr().out
    (tmp_path / "junk.db").write_text("not a journal")
    assert main(["journal", "show", "--journal", str(tmp_path / "junk.db")]) == 2
    assert "not an SQLite file" in " ".join(capsys.readouterr().out.split())


def test_many_processes_creating_the_same_new_journal_at_once(tmp_path: Path):
    # The creation race: every process finds an empty file and makes it a journal
    # (switching it to WAL needs the file alone; the id and the tables must be read
    # from one snapshot). 8 rounds x 6 processes.
    for round_ in range(8):
        path = tmp_path / f"new{round_}.db"
        writers = [_writer(path, w, 3) for w in range(6)]
        for proc in writers:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        with Journal(path) as journal:
            assert len(journal) == 18


def test_an_empty_journal_gives_typed_empty_frames_and_the_cli_shows_it(tmp_path: Path, policy: Policy):
    # A journal whose decide failed after it was opened holds no decision: its frames
    # must still have their column types (a join on an untyped empty frame raised
    # polars' SchemaError, and `alvh journal show` crashed with exit 1).
    from alvh.cli import main

    path = tmp_path / "empty.db"
    with Journal(path) as journal:
        journal.record_policy(policy)
        frame = journal.with_outcomes()
        assert frame.height == 0
        assert frame.schema["id"] == pl.Int64 and frame.schema["date"] == pl.Date
        assert frame.schema["pnl_5d"] == pl.Float64
        assert journal.policies().height == 1
    assert main(["journal", "show", "--journal", str(path)]) == 0


# -- issue 16, points 11 and 15: no raw sqlite3 errors; damage named on open; read-only ------


def test_outcomes_refuse_duplicates_unknown_ids_and_nan_by_name(tmp_path: Path, policy: Policy):
    with Journal(tmp_path / "j.db") as journal:
        first = journal.append(make_decision(policy), policy=policy)
        journal.record_outcome(first, 5, 120.0)
        with pytest.raises(
            JournalError, match=r"already has its 5-day outcome \(120.00 \$\); the journal is append-only"
        ):
            journal.record_outcome(first, 5, 130.0)
        with pytest.raises(JournalError, match=r"no decision 99"):
            journal.record_outcome(99, 5, 1.0)
        with pytest.raises(InvalidInputError, match=r"pnl must be a finite \$ amount; got nan"):
            journal.record_outcome(first, 10, float("nan"))
        with pytest.raises(InvalidInputError, match=r"horizon_days must be a whole number >= 1"):
            journal.record_outcome(first, 0, 1.0)
        assert journal.with_outcomes()["pnl_5d"].to_list() == [120.0]


def test_bytes_overwritten_inside_a_row_are_named_on_open(tmp_path: Path, policy: Policy):
    path = tmp_path / "j.db"
    with Journal(path) as journal:
        journal.append(make_decision(policy), policy=policy)
    raw = bytearray(path.read_bytes())
    at = raw.find(b'"rationale": "')
    assert at > 0
    raw[at + 20 : at + 84] = bytes(range(0x80, 0xC0))  # 64 bytes that are not UTF-8
    path.write_bytes(bytes(raw))
    with pytest.raises(JournalError, match=r"the journal is damaged: decisions 1 does not decode"):
        Journal(path)
    with pytest.raises(JournalError, match=r"damaged"):
        Journal(path, read_only=True)


def test_a_read_only_journal_reads_and_refuses_writes_with_a_journal_error(tmp_path: Path, policy: Policy):
    path = tmp_path / "j.db"
    with Journal(path) as journal:
        journal.append(make_decision(policy), policy=policy)
    with Journal(path, read_only=True) as journal:
        assert journal.decisions().height == 1 and journal.decision(1).vix == 18.5
        with pytest.raises(
            JournalError,
            match=r"(cannot write to the journal|the write failed) .*readonly.*nothing was written",
        ):
            journal.append(make_decision(policy, day=1), policy=policy)
    with pytest.raises(JournalError, match=r"no such journal"):
        Journal(tmp_path / "missing.db", read_only=True)
    with Journal(path) as journal:
        assert len(journal) == 1


def _old_journal(path: Path, policy: Policy, version: int) -> int:
    """A journal written by an alvh of schema ``version``, holding one decision; its id."""
    from alvh.policy import journal as journal_module

    db = sqlite3.connect(path)
    db.execute(f"PRAGMA application_id = {journal_module.ALVH_APPLICATION_ID}")
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for v in range(1, version + 1):
        for statement in journal_module._statements(journal_module.MIGRATIONS[v]):
            db.execute(statement)
        db.execute("INSERT INTO schema_version VALUES (?, 'then')", (v,))
    decision = make_decision(policy)
    db.execute(
        "INSERT INTO policies VALUES (?, ?, ?, 'then')",
        (policy.version, policy.name, json.dumps(policy.to_dict(), sort_keys=True)),
    )
    cursor = db.execute(
        "INSERT INTO decisions (date, recorded_at, policy_version, vix, layer_before, layer_after, "
        "actions, rationale, record) VALUES (?, 'then', ?, ?, 0, 1, 1, ?, ?)",
        (
            decision.date.isoformat(),
            policy.version,
            decision.vix,
            decision.rationale,
            json.dumps(decision.to_record(), sort_keys=True),
        ),
    )
    db.commit()
    db.close()
    return int(cursor.lastrowid)


def test_a_schema_2_journal_opens_reads_and_records_hedge_exits(tmp_path: Path, policy: Policy):
    # issue 15: a journal written before the exit rules existed still opens and reads
    path = tmp_path / "v2.db"
    first = _old_journal(path, policy, 2)
    with Journal(path, read_only=True) as journal:  # read-only: not migrated, still reads
        joined = journal.with_outcomes()
        assert journal.hedge_exits().height == 0
        assert joined["hedge_cost"].to_list() == [850.0] and joined["hedge_net"].to_list() == [None]
    with Journal(path) as journal:  # migrated to schema 3 on open
        journal.record_hedge_exit(
            first, dt.date(2025, 2, 10), "take_profit", 4, 1900.0, "worth 3.1x its cost"
        )
        journal.record_hedge_exit(first, dt.date(2025, 2, 20), "layer_left", 6, 700.0, "layer 1 left")
        joined = journal.with_outcomes()
        exits = journal.hedge_exits()
    db = sqlite3.connect(path)
    assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 3
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE hedge_exits SET received = 0")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("INSERT OR REPLACE INTO hedge_exits SELECT * FROM hedge_exits")
    db.close()
    assert exits["rule"].to_list() == ["take_profit", "layer_left"]
    row = joined.row(0, named=True)
    assert (row["hedge_sold"], row["hedge_received"], row["hedge_exit"]) == (10, 2600.0, "layer_left")
    assert row["hedge_net"] == pytest.approx(2600.0 - 850.0) and row["hedge_exit_date"] == dt.date(
        2025, 2, 20
    )


def test_hedge_exits_bad_input(tmp_path: Path, policy: Policy):
    with Journal(tmp_path / "j.db") as journal:
        bought = journal.append(make_decision(policy), policy=policy)
        nothing = journal.append(replace(make_decision(policy, day=1), actions=()), policy=policy)
        day = dt.date(2025, 2, 10)
        with pytest.raises(JournalError, match="bought no hedge"):
            journal.record_hedge_exit(nothing, day, "expiry", 1, 10.0, "x")
        with pytest.raises(JournalError, match="no decision 99"):
            journal.record_hedge_exit(99, day, "expiry", 1, 10.0, "x")
        with pytest.raises(InvalidInputError, match="rule must be one of"):
            journal.record_hedge_exit(bought, day, "panic", 1, 10.0, "x")
        with pytest.raises(InvalidInputError, match="before decision"):
            journal.record_hedge_exit(bought, dt.date(2025, 1, 1), "expiry", 1, 10.0, "x")
        with pytest.raises(InvalidInputError, match="bought 10"):
            journal.record_hedge_exit(bought, day, "expiry", 11, 10.0, "x")
        with pytest.raises(InvalidInputError, match="received must be a finite"):
            journal.record_hedge_exit(bought, day, "expiry", 1, float("nan"), "x")
        assert journal.hedge_exits().height == 0


def test_cli_records_outcomes_and_hedge_exits_and_shows_them(
    tmp_path: Path, policy: Policy, capsys, monkeypatch
):
    from alvh.cli import main

    monkeypatch.setenv("COLUMNS", "300")  # one line per row, to read it back

    path = tmp_path / "j.db"
    with Journal(path) as journal:
        first = journal.append(make_decision(policy), policy=policy)
        journal.append(replace(make_decision(policy, day=1), actions=()), policy=policy)
    base = ["journal", "exit", "--journal", str(path), "--decision", str(first), "--date", "2025-02-12"]
    sale = [*base, "--rule", "take_profit", "--contracts", "10", "--received", "2600", "--reason", "3.1x"]
    assert main(sale) == 0
    outcome = ["journal", "outcome", "--journal", str(path), "--decision", str(first), "--days", "5"]
    assert main([*outcome, "--pnl", "1250.5"]) == 0
    capsys.readouterr()
    assert main(["journal", "show", "--journal", str(path)]) == 0
    shown = capsys.readouterr().out
    assert "buy 10 VIX Mar 25 calls" in shown and "none" in shown  # the actions' text, not a count
    assert "10 sold (take_profit, 2025-02-12): net +1,750 $" in shown and "+1,250" in shown
    # bad input: one line, exit 2, nothing written
    assert main([*base, "--rule", "panic", "--contracts", "1", "--received", "1", "--reason", "x"]) == 2
    assert main([*base, "--rule", "expiry", "--contracts", "1", "--received", "1", "--reason", "x"]) == 2
    said = capsys.readouterr()
    assert "Traceback" not in said.out + said.err
    assert "rule must be one of" in said.out and "bought 10" in said.out
    with Journal(path, read_only=True) as journal:
        assert journal.hedge_exits().height == 1
