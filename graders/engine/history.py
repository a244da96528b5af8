"""Batch history in one SQLite file (WAL mode): runs, what each run plans to grade, and results.

A run and its plan are written in one transaction, and each result in one more, so a reader (or a
resume after kill -9) sees a submission either fully graded or not at all. A result is inserted,
never replaced: the primary key (run, submission) makes a duplicate an error, and a regrade is a
new run. A run being graded is locked (a byte-range lock on `<db>.locks`, released by the kernel
however the process ends), so two batches never grade the same run at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    assignment TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    grader_hash TEXT NOT NULL,
    options TEXT NOT NULL,             -- JSON: input, executor, workers, timeout, data, grader_dir
    created_at TEXT NOT NULL,
    finished_at TEXT                   -- NULL until every planned submission has a result
);
CREATE TABLE IF NOT EXISTS planned (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    submitters TEXT NOT NULL,          -- JSON list of {name, sid, email}
    metadata TEXT NOT NULL,            -- JSON: created_at, gradescope_score
    content_hash TEXT NOT NULL,        -- sha256 of the submission's files (exports.content_hash)
    PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    submitters TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('graded', 'timeout', 'crashed', 'invalid')),
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    tests TEXT NOT NULL,               -- JSON list: name, number, score, max_score, status, output...
    output TEXT NOT NULL,              -- results.json's top-level output
    message TEXT NOT NULL,             -- for staff: why a submission is not `graded`
    extra TEXT NOT NULL,               -- JSON: results.json's extra_data (protections, resources)
    duration REAL NOT NULL,
    graded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, key),
    FOREIGN KEY (run_id, key) REFERENCES planned(run_id, key)
);
"""


class HistoryError(Exception):
    """A run that does not exist, is busy, or cannot be resumed as asked; the message says why."""


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    assignment: str
    grader_version: str
    grader_hash: str
    options: dict
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class Planned:
    key: str
    submitters: tuple[dict, ...]
    metadata: dict
    content_hash: str


@dataclass(frozen=True)
class Result:
    """One submission's row in a run, with its plan's submitters and metadata."""

    key: str
    submitters: tuple[dict, ...]
    metadata: dict
    status: str
    score: float
    max_score: float
    tests: list
    output: str
    message: str
    extra: dict
    duration: float
    graded_at: str


def now() -> str:
    """The current UTC time as ISO 8601, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class History:
    """An open history database: `with History(path) as history: ...`."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise HistoryError(f"no batch history at {self.path} (pass --db, or run `nngrade batch` first)")
        # Autocommit: every transaction below is explicit, so none is left open by accident.
        self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a result, once committed, survives a power cut too
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self._locks = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        if self._locks is not None:
            self._locks.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- runs -------------------------------------------------------------------------------------

    def create_run(
        self, name: str, assignment: str, grader: dict, options: dict, plan: list[Planned]
    ) -> Run:
        """A new run and everything it will grade, in one transaction."""
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM runs WHERE name = ?", (name,)).fetchone():
                raise HistoryError(f"a run named {name!r} exists already; runs are never overwritten")
            run_id = db.execute(
                "INSERT INTO runs (name, assignment, grader_version, grader_hash, options, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, assignment, grader["version"], grader["hash"], json.dumps(options), now()),
            ).lastrowid
            db.executemany(
                "INSERT INTO planned (run_id, key, submitters, metadata, content_hash) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (run_id, p.key, json.dumps(p.submitters), json.dumps(p.metadata), p.content_hash)
                    for p in plan
                ],
            )
        return self.run(name)

    def run(self, name: str) -> Run:
        """The run called `name`; HistoryError if there is none."""
        row = self.db.execute(
            "SELECT id, name, assignment, grader_version, grader_hash, options, created_at, finished_at "
            "FROM runs WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT name FROM runs ORDER BY id DESC LIMIT 5")]
            hint = f" (latest: {', '.join(known)})" if known else ""
            raise HistoryError(f"no run named {name!r} in {self.path}{hint}")
        return Run(*row[:5], json.loads(row[5]), row[6], row[7])

    def has_run(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM runs WHERE name = ?", (name,)).fetchone() is not None

    def runs(self) -> list[tuple[Run, int, dict, float | None]]:
        """Every run, oldest first, with its planned count, results per status and mean score."""
        found = []
        for (name,) in self.db.execute("SELECT name FROM runs ORDER BY id").fetchall():
            run = self.run(name)
            planned = self.db.execute(
                "SELECT COUNT(*) FROM planned WHERE run_id = ?", (run.id,)
            ).fetchone()[0]
            statuses = dict(
                self.db.execute(
                    "SELECT status, COUNT(*) FROM results WHERE run_id = ? GROUP BY status", (run.id,)
                ).fetchall()
            )
            mean = self.db.execute(
                "SELECT AVG(score) FROM results WHERE run_id = ? AND status IN ('graded', 'invalid')",
                (run.id,),
            ).fetchone()[0]
            found.append((run, planned, statuses, mean))
        return found

    def finish(self, run: Run) -> None:
        """Mark the run complete (only once every planned submission has its result)."""
        with self._transaction() as db:
            missing = db.execute(
                "SELECT COUNT(*) FROM planned p WHERE p.run_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM results r WHERE r.run_id = p.run_id AND r.key = p.key)",
                (run.id,),
            ).fetchone()[0]
            if missing:
                raise HistoryError(f"run {run.name!r} still has {missing} submissions without a result")
            db.execute(
                "UPDATE runs SET finished_at = ? WHERE id = ? AND finished_at IS NULL", (now(), run.id)
            )

    @contextlib.contextmanager
    def lock(self, run: Run) -> Iterator[None]:
        """Hold the run for this process; HistoryError if another process is grading it."""
        if self._locks is None:
            self._locks = open(f"{self.path}.locks", "a+b")  # noqa: SIM115  (held while the history is open)
        try:
            fcntl.lockf(self._locks, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, run.id)
        except OSError:
            raise HistoryError(f"run {run.name!r} is being graded by another nngrade process") from None
        try:
            yield
        finally:
            fcntl.lockf(self._locks, fcntl.LOCK_UN, 1, run.id)

    # --- submissions ------------------------------------------------------------------------------

    def planned(self, run: Run) -> list[Planned]:
        rows = self.db.execute(
            "SELECT key, submitters, metadata, content_hash FROM planned WHERE run_id = ? ORDER BY key",
            (run.id,),
        )
        return [Planned(k, tuple(json.loads(s)), json.loads(m), h) for k, s, m, h in rows]

    def done(self, run: Run) -> set[str]:
        """Keys of the submissions that have their result."""
        return {k for (k,) in self.db.execute("SELECT key FROM results WHERE run_id = ?", (run.id,))}

    def record(self, run: Run, outcome: dict) -> None:
        """Store one submission's outcome (see batch_task.outcome) in one transaction."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT submitters FROM planned WHERE run_id = ? AND key = ?", (run.id, outcome["key"])
            ).fetchone()
            if row is None:
                raise HistoryError(f"{outcome['key']!r} is not part of run {run.name!r}")
            db.execute(
                "INSERT INTO results (run_id, key, submitters, status, score, max_score, tests, output, "
                "message, extra, duration, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    outcome["key"],
                    row[0],
                    outcome["status"],
                    outcome["score"],
                    outcome["max_score"],
                    json.dumps(outcome["tests"]),
                    outcome["output"],
                    outcome["message"],
                    json.dumps(outcome["extra"]),
                    outcome["duration"],
                    now(),
                ),
            )

    def results(self, run: Run) -> list[Result]:
        """Every result of the run, by key."""
        rows = self.db.execute(
            "SELECT r.key, r.submitters, p.metadata, r.status, r.score, r.max_score, r.tests, r.output, "
            "r.message, r.extra, r.duration, r.graded_at FROM results r "
            "JOIN planned p ON p.run_id = r.run_id AND p.key = r.key WHERE r.run_id = ? ORDER BY r.key",
            (run.id,),
        )
        return [
            Result(
                key=row[0],
                submitters=tuple(json.loads(row[1])),
                metadata=json.loads(row[2]),
                status=row[3],
                score=row[4],
                max_score=row[5],
                tests=json.loads(row[6]),
                output=row[7],
                message=row[8],
                extra=json.loads(row[9]),
                duration=row[10],
                graded_at=row[11],
            )
            for row in rows
        ]
