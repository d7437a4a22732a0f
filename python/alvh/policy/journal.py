"""The decision journal: an append-only SQLite file (the standard library's
``sqlite3``) of policy decisions and of every policy configuration they were made
under (the governance log).

- **Append-only.** Decisions, policy versions, outcomes and the hedges' exits are
  inserted, never changed: triggers abort any ``UPDATE`` or ``DELETE`` on them.
- **Governance log.** `Journal.record_policy` stores a policy's configuration under
  its version hash the first time it is seen; every decision names its version, so
  a change of config is a new, dated entry and old decisions keep pointing at the
  config that made them.
- **Durability and concurrency.** WAL mode with ``synchronous=FULL``: a committed
  decision survives a crash (a process killed mid-write leaves the journal at its
  last commit, never half a row); several processes may append at once (each insert
  is one short transaction, ``busy_timeout`` waits for the writer lock).
- **Safety.** A file that is not an alvh journal (another SQLite database, or not
  SQLite at all, or damaged) is refused with `JournalError` and never written to.
  Journals are recognised by SQLite's ``application_id`` (``ALVH_APPLICATION_ID``)
  and a ``schema_version`` table; older schemas are migrated in one transaction.
- **Reading.** `decisions` / `policies` / `outcomes` as Polars frames,
  `hedge_exits`, `with_outcomes` (each decision with its realized P&L 5 and 10 days
  later, once recorded with `record_outcome`, and what its hedge fetched, once its
  sales are recorded with `record_hedge_exit`), and `to_parquet` (written atomically).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alvh.errors import AlvhError, InputTypeError, InvalidInputError
from alvh.policy.decision import Decision

if TYPE_CHECKING:
    import polars as pl

    from alvh.policy.config import Policy

__all__ = [
    "ALVH_APPLICATION_ID",
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Journal",
    "JournalError",
]


#: SQLite ``PRAGMA application_id`` of alvh journals ("ALVH" in ASCII).
ALVH_APPLICATION_ID = 0x414C5648
#: The schema this code writes; `MIGRATIONS` brings older journals up to it.
SCHEMA_VERSION = 3
#: How long a writer waits for another process's lock (ms).
BUSY_TIMEOUT_MS = 30_000

_SCHEMA_V1 = """
CREATE TABLE policies (
    version TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    policy_version TEXT NOT NULL REFERENCES policies(version),
    vix REAL NOT NULL,
    layer_before INTEGER NOT NULL,
    layer_after INTEGER NOT NULL,
    actions INTEGER NOT NULL,
    rationale TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX decisions_date ON decisions(date);
CREATE TABLE outcomes (
    decision_id INTEGER NOT NULL REFERENCES decisions(id),
    horizon_days INTEGER NOT NULL,
    pnl REAL NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (decision_id, horizon_days)
);
"""

# Append-only: every change or removal of a row aborts.
_SCHEMA_V1 += "\n".join(
    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}\n"
    "    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
    for table in ("decisions", "policies", "outcomes")
    for verb in ("UPDATE", "DELETE")
)

# Version 2: no row can be replaced either. ``INSERT OR REPLACE`` deletes the old row
# without firing the DELETE triggers, so an insert whose key is taken aborts first.
_KEYS = {
    "decisions": "id = NEW.id",
    "policies": "version = NEW.version",
    "outcomes": "decision_id = NEW.decision_id AND horizon_days = NEW.horizon_days",
}
_SCHEMA_V2 = "\n".join(
    f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}\n"
    f"    WHEN EXISTS (SELECT 1 FROM {table} WHERE {key})\n"
    "    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
    for table, key in _KEYS.items()
)

# Version 3: the hedges' exits (`alvh.policy.exits`): each sale of a hedge a decision
# bought, by rule, append-only like the rest.
_SCHEMA_V3 = """
CREATE TABLE hedge_exits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id INTEGER NOT NULL REFERENCES decisions(id),
    date TEXT NOT NULL,
    rule TEXT NOT NULL,
    contracts INTEGER NOT NULL,
    received REAL NOT NULL,
    reason TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX hedge_exits_decision ON hedge_exits(decision_id);
""" + "\n".join(
    [
        *(
            f"CREATE TRIGGER hedge_exits_no_{verb.lower()} BEFORE {verb} ON hedge_exits\n"
            "    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
            for verb in ("UPDATE", "DELETE")
        ),
        "CREATE TRIGGER hedge_exits_no_replace BEFORE INSERT ON hedge_exits\n"
        "    WHEN EXISTS (SELECT 1 FROM hedge_exits WHERE id = NEW.id)\n"
        "    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;",
    ]
)

#: Schema migrations: version -> SQL bringing the previous version to it. Version 1
#: creates everything, version 2 forbids replacing rows, version 3 adds the hedges'
#: exits; later versions append here (each runs in one transaction with the
#: ``schema_version`` row that records it).
MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3}


class JournalError(AlvhError, ValueError):
    """The file is not an alvh journal (foreign, corrupt, or from a newer alvh)."""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


class Journal:
    """An append-only decision journal at ``path`` (created when missing). Use as a
    context manager, or call `close`."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
            raise InputTypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
        self.path = Path(path)
        self.read_only = bool(read_only)
        existed = self.path.exists()
        if existed:
            self._check_foreign_file()
        elif self.read_only:
            raise JournalError(f"{self.path}: no such journal")
        elif not self.path.parent.is_dir():
            raise JournalError(f"{self.path}: directory {str(self.path.parent)!r} does not exist")
        try:
            if self.read_only:
                self._db = self._open_read_only()
            else:
                self._db = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_MS / 1000.0, isolation_level=None, check_same_thread=True
                )
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot open as a journal: {exc}") from None
        # Two processes opening a new journal at once race for its creation; switching it
        # to WAL needs the file to themselves, and SQLite reports "locked" at once there
        # rather than waiting: retry the set-up (it is idempotent) for the busy timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000.0
        attempt = 0
        while True:
            try:
                self._setup(existed)
                break
            except JournalError:
                self._db.close()
                raise
            except sqlite3.OperationalError as exc:
                locked = "locked" in str(exc) or "busy" in str(exc)
                if locked and time.monotonic() < deadline:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    attempt += 1
                    time.sleep(min(0.01 * attempt, 0.2))
                    continue
                self._db.close()
                raise JournalError(
                    f"{self.path}: cannot open the journal ({exc}); it was not changed"
                ) from None
            except sqlite3.DatabaseError as exc:
                self._db.close()
                raise JournalError(
                    f"{self.path}: not a readable alvh journal ({exc}); it was not changed"
                ) from None

    # ----------------------------------------------------------------- opening

    def _open_read_only(self) -> sqlite3.Connection:
        """Read-only: ``mode=ro``; in a directory the WAL cannot write its shared-memory
        file to, ``immutable=1`` (no locks: a reader of a journal nobody writes to)."""
        uri = self.path.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)

    def _check_foreign_file(self) -> None:
        """Refuse, before SQLite touches it, a file that is not SQLite at all."""
        if self.path.is_dir():
            raise JournalError(f"{self.path}: is a directory, not a journal file")
        with open(self.path, "rb") as handle:
            header = handle.read(100)
        if header and not header.startswith(b"SQLite format 3\x00"):
            raise JournalError(f"{self.path}: not an alvh journal (not an SQLite file); refusing to touch it")

    def _setup(self, existed: bool) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # One read transaction: the id and the tables from the same snapshot (another
        # process may be creating the journal right now).
        db.execute("BEGIN")
        try:
            application_id = db.execute("PRAGMA application_id").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            db.execute("COMMIT")
        if application_id == 0 and not tables and self.read_only:
            raise JournalError(f"{self.path}: an empty file, not a journal (opened read-only)")
        if application_id == 0 and not tables:
            # A new (or empty) file: make it a journal, in one transaction.
            self._wal()
            with self._transaction():
                # Re-check under the write lock: another process may have created it.
                if db.execute("PRAGMA application_id").fetchone()[0] == 0:
                    db.execute(f"PRAGMA application_id = {ALVH_APPLICATION_ID}")
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS schema_version ("
                        "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                    )
            application_id = ALVH_APPLICATION_ID
        if application_id != ALVH_APPLICATION_ID:
            raise JournalError(
                f"{self.path}: an SQLite database of another application (application_id "
                f"{application_id:#x}); refusing to write to it"
            )
        if not self.read_only:
            self._wal()
        db.execute("PRAGMA foreign_keys = ON")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise JournalError(f"{self.path}: the journal is damaged (quick_check failed)")
        if not self.read_only:
            self._migrate()
        self._check_rows()

    def _check_rows(self) -> None:
        """Every stored record decodes (UTF-8 JSON): bytes overwritten inside a row pass
        SQLite's structure checks but would fail later, on some read; name the row now."""
        for table, key, column in (("decisions", "id", "record"), ("policies", "version", "config")):
            for row_key, raw in self._db.execute(f"SELECT {key}, CAST({column} AS BLOB) FROM {table}"):
                try:
                    json.loads(bytes(raw).decode("utf-8"))
                except (UnicodeDecodeError, ValueError, TypeError):
                    raise JournalError(
                        f"{self.path}: the journal is damaged: {table} {row_key!r} does not decode"
                    ) from None

    def _wal(self) -> None:
        """WAL mode (persistent in the file: switched once, by whoever creates it) and
        full fsync on commit (per connection)."""
        if self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")

    def _migrate(self) -> None:
        db = self._db
        with self._transaction():
            current = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise JournalError(
                    f"{self.path}: journal schema version {current} is newer than this alvh "
                    f"understands ({SCHEMA_VERSION}); upgrade alvh"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _statements(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, _now())
                )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error): the write lock
        is taken up front, so concurrent writers queue instead of failing."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise JournalError(
                f"{self.path}: cannot write to the journal ({exc}); nothing was written"
            ) from None
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise JournalError(f"{self.path}: the write failed ({exc}); nothing was written") from None
            raise

    # ----------------------------------------------------------------- writing

    def record_policy(self, policy: Policy) -> str:
        """Store ``policy``'s configuration under its version (once); returns the version."""
        version = policy.version
        config = json.dumps(policy.to_dict(), sort_keys=True)
        with self._transaction():
            # Once: an insert of a recorded version would abort (no row is replaced).
            self._db.execute(
                "INSERT INTO policies (version, name, config, recorded_at) SELECT ?, ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM policies WHERE version = ?)",
                (version, policy.name, config, _now(), version),
            )
        return version

    def append(self, decision: Decision, policy: Policy | None = None) -> int:
        """Append ``decision`` (its policy version must be recorded, or pass ``policy``);
        returns its id. One transaction: all of it is in the journal, or none."""
        if not isinstance(decision, Decision):
            raise InputTypeError(f"decision must be an alvh.Decision, got {type(decision).__name__}")
        if policy is not None:
            if policy.version != decision.policy_version:
                raise JournalError(
                    f"policy version {policy.version} does not match the decision's {decision.policy_version}"
                )
            self.record_policy(policy)
        record = json.dumps(decision.to_record(), sort_keys=True, allow_nan=False)
        with self._transaction():
            known = self._db.execute(
                "SELECT 1 FROM policies WHERE version = ?", (decision.policy_version,)
            ).fetchone()
            if known is None:
                raise JournalError(
                    f"policy version {decision.policy_version} is not in the journal's "
                    "governance log: record the policy first (Journal.record_policy)"
                )
            cursor = self._db.execute(
                "INSERT INTO decisions (date, recorded_at, policy_version, vix, layer_before, "
                "layer_after, actions, rationale, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    decision.date.isoformat(),
                    _now(),
                    decision.policy_version,
                    float(decision.vix),
                    decision.layer_before,
                    decision.layer_after,
                    len(decision.actions),
                    decision.rationale,
                    record,
                ),
            )
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def record_outcome(self, decision_id: int, horizon_days: int, pnl: float) -> None:
        """The realized P&L ($) of the book ``horizon_days`` after decision
        ``decision_id`` (once per horizon; typically 5 and 10)."""
        for name, value in (("decision_id", decision_id), ("horizon_days", horizon_days)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a whole number >= 1; got {value!r}")
        if isinstance(pnl, bool) or not isinstance(pnl, (int, float)) or not math.isfinite(pnl):
            raise InvalidInputError(f"pnl must be a finite $ amount; got {pnl!r}")
        with self._transaction():
            if self._db.execute("SELECT 1 FROM decisions WHERE id = ?", (decision_id,)).fetchone() is None:
                raise JournalError(f"{self.path}: no decision {decision_id}")
            taken = self._db.execute(
                "SELECT pnl FROM outcomes WHERE decision_id = ? AND horizon_days = ?",
                (decision_id, horizon_days),
            ).fetchone()
            if taken is not None:
                raise JournalError(
                    f"{self.path}: decision {decision_id} already has its {horizon_days}-day outcome "
                    f"({taken[0]:,.2f} $); the journal is append-only"
                )
            self._db.execute(
                "INSERT INTO outcomes (decision_id, horizon_days, pnl, recorded_at) VALUES (?, ?, ?, ?)",
                (decision_id, horizon_days, float(pnl), _now()),
            )

    def record_hedge_exit(
        self, decision_id: int, day: dt.date, rule: str, contracts: int, received: float, reason: str
    ) -> int:
        """A sale of (part of) the hedge decision ``decision_id`` bought: on ``day``, by
        ``rule`` (`alvh.policy.exits.EXIT_RULES` or "book_closed"), ``contracts`` sold for
        ``received`` $ net of costs, the ``reason`` in words; returns its id. Refused: a
        decision that bought nothing, a day before it, more contracts than it bought."""
        from alvh.policy.exits import EXIT_RULES

        if isinstance(decision_id, bool) or not isinstance(decision_id, int) or decision_id < 1:
            raise InvalidInputError(f"decision_id must be a whole number >= 1; got {decision_id!r}")
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise InputTypeError(f"day must be a datetime.date, got {day!r}")
        if rule not in (*EXIT_RULES, "book_closed"):
            raise InvalidInputError(f"rule must be one of {', '.join(EXIT_RULES)}, book_closed; got {rule!r}")
        if isinstance(contracts, bool) or not isinstance(contracts, int) or contracts < 1:
            raise InvalidInputError(f"contracts must be a whole number >= 1; got {contracts!r}")
        if (
            isinstance(received, bool)
            or not isinstance(received, (int, float))
            or not math.isfinite(received)
        ):
            raise InvalidInputError(f"received must be a finite $ amount; got {received!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInputError("reason must be a non-empty text")
        with self._transaction():
            row = self._db.execute(
                "SELECT date, record FROM decisions WHERE id = ?", (decision_id,)
            ).fetchone()
            if row is None:
                raise JournalError(f"{self.path}: no decision {decision_id}")
            actions = json.loads(row[1]).get("actions", [])
            if not actions:
                raise JournalError(f"{self.path}: decision {decision_id} bought no hedge: nothing to sell")
            if day < dt.date.fromisoformat(row[0]):
                raise InvalidInputError(f"day {day} is before decision {decision_id}'s date {row[0]}")
            bought = int(round(float(actions[0]["contracts"])))
            sold = self._db.execute(
                "SELECT COALESCE(SUM(contracts), 0) FROM hedge_exits WHERE decision_id = ?", (decision_id,)
            ).fetchone()[0]
            if sold + contracts > bought:
                raise InvalidInputError(
                    f"contracts {contracts}: decision {decision_id} bought {bought}, "
                    f"{sold} of them sold already"
                )
            cursor = self._db.execute(
                "INSERT INTO hedge_exits (decision_id, date, rule, contracts, received, reason, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (decision_id, day.isoformat(), rule, contracts, float(received), reason, _now()),
            )
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    # ----------------------------------------------------------------- reading

    def hedge_exits(self) -> pl.DataFrame:
        """Every recorded sale of a hedge (id order): id, decision_id, date, rule,
        contracts, received ($), reason, recorded_at. Empty for a journal written before
        exits were recorded (schema 2 or older, opened read-only: not migrated)."""
        import polars as pl

        schema = {
            "id": pl.Int64,
            "decision_id": pl.Int64,
            "date": pl.String,
            "rule": pl.String,
            "contracts": pl.Int64,
            "received": pl.Float64,
            "reason": pl.String,
            "recorded_at": pl.String,
        }
        known = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hedge_exits'"
        ).fetchone()
        if known is None:
            return pl.DataFrame(schema=schema).with_columns(pl.col("date").str.to_date())
        frame = self._frame(
            "SELECT id, decision_id, date, rule, contracts, received, reason, recorded_at "
            "FROM hedge_exits ORDER BY id",
            schema,
        )
        return frame.with_columns(pl.col("date").str.to_date())

    def decision(self, decision_id: int) -> Decision:
        """The full decision ``decision_id``."""
        try:
            row = self._db.execute(
                "SELECT record FROM decisions WHERE id = ?", (int(decision_id),)
            ).fetchone()
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: decision {decision_id} is damaged ({exc})") from None
        if row is None:
            raise JournalError(f"{self.path}: no decision {decision_id}")
        return Decision.from_record(json.loads(row[0]))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])

    def _frame(self, sql: str, schema: Mapping[str, Any]) -> pl.DataFrame:
        """The query's rows with the column types of ``schema`` (name -> polars type), so an
        empty journal gives empty frames of the same types (joins and filters work)."""
        import polars as pl

        try:
            cursor = self._db.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: the journal is damaged ({exc})") from None
        assert names == list(schema), (names, list(schema))
        return pl.DataFrame(rows, schema=dict(schema), orient="row")

    def decisions(self) -> pl.DataFrame:
        """One row per decision (id order): id, date, policy, VIX, layers, number of
        actions, rationale, and the full record as JSON text."""
        import polars as pl

        frame = self._frame(
            "SELECT d.id, d.date, d.recorded_at, d.policy_version, p.name AS policy_name, "
            "d.vix, d.layer_before, d.layer_after, d.actions, d.rationale, d.record "
            "FROM decisions d JOIN policies p ON p.version = d.policy_version ORDER BY d.id",
            {
                "id": pl.Int64,
                "date": pl.String,
                "recorded_at": pl.String,
                "policy_version": pl.String,
                "policy_name": pl.String,
                "vix": pl.Float64,
                "layer_before": pl.Int64,
                "layer_after": pl.Int64,
                "actions": pl.Int64,
                "rationale": pl.String,
                "record": pl.String,
            },
        )
        return frame.with_columns(pl.col("date").str.to_date())

    def policies(self) -> pl.DataFrame:
        """The governance log: every policy version with its config (JSON) and when it
        was first recorded."""
        import polars as pl

        return self._frame(
            "SELECT version, name, recorded_at, config FROM policies ORDER BY recorded_at, version",
            {"version": pl.String, "name": pl.String, "recorded_at": pl.String, "config": pl.String},
        )

    def with_outcomes(self, horizons: tuple[int, ...] = (5, 10)) -> pl.DataFrame:
        """`decisions` joined with the realized P&L ``pnl_<h>d`` for each horizon
        (null until recorded) and, for a decision that bought a hedge, what became of it
        (`record_hedge_exit`): ``hedge_cost`` (the action's $ cost), ``hedge_sold``
        (contracts sold so far), ``hedge_received`` ($), ``hedge_net`` (received less
        cost, null until a sale), ``hedge_exit`` (the last sale's rule) and
        ``hedge_exit_date``."""
        import polars as pl

        frame = self.decisions()
        costs = [
            (json.loads(record).get("actions") or [{}])[0].get("cost") for record in frame["record"].to_list()
        ]
        frame = frame.with_columns(pl.Series("hedge_cost", costs, dtype=pl.Float64))
        exits = self.hedge_exits()
        summary = (
            exits.sort("id")
            .group_by("decision_id")
            .agg(
                pl.col("contracts").sum().alias("hedge_sold"),
                pl.col("received").sum().alias("hedge_received"),
                pl.col("rule").last().alias("hedge_exit"),
                pl.col("date").last().alias("hedge_exit_date"),
            )
            .rename({"decision_id": "id"})
        )
        frame = frame.join(summary, on="id", how="left").with_columns(
            (pl.col("hedge_received") - pl.col("hedge_cost")).alias("hedge_net")
        )
        outcomes = self._frame(
            "SELECT decision_id, horizon_days, pnl FROM outcomes",
            {"decision_id": pl.Int64, "horizon_days": pl.Int64, "pnl": pl.Float64},
        )
        for h in horizons:
            part = outcomes.filter(pl.col("horizon_days") == h).select(
                pl.col("decision_id").alias("id"), pl.col("pnl").alias(f"pnl_{h}d")
            )
            frame = frame.join(part, on="id", how="left")
        return frame

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write `with_outcomes` to a Parquet file (atomically); returns the path."""
        import io

        from alvh._core.io import atomic_write

        buffer = io.BytesIO()
        self.with_outcomes().write_parquet(buffer)
        target = Path(path)
        atomic_write(target, buffer.getvalue())
        return target

    # ----------------------------------------------------------------- closing

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _statements(script: str) -> list[str]:
    """The complete SQL statements of ``script``, in order (`sqlite3.complete_statement`
    knows a trigger's body from its end). ``executescript`` would commit the
    migration's transaction; these run inside it."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise JournalError(f"incomplete SQL statement in a migration: {buffer.strip()[:60]!r}")
    return statements
