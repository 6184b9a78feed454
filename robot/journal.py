"""The journal: every step of every organization, recorded as it happens, in SQLite.

An append-only log of events: a step is `started`, then `done`, `failed`, `skipped` or
`interrupted`. Each event is committed on its own (WAL mode, synchronous=FULL), so a process killed
with SIGKILL at any moment leaves a readable journal with every event recorded before the kill.
`--resume` reads it back through `org_state`; `mark_interrupted` closes the steps a killed run left open.

Never a secret: every string is checked against the registered secret values and refused.
Each event carries a random uid, so merging shard journals is idempotent (`merge`).
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .secrets import registered_values

STATUSES = ("started", "progress", "done", "failed", "skipped", "interrupted")  # progress: values found mid-step
ENDED = ("done", "failed", "skipped", "interrupted")
ERROR_KINDS = ("final", "transient")
VALUE_FIELDS = ("app_id", "callback_url", "client_id", "token_id", "error", "error_kind", "seconds", "detail")
RESULT_FIELDS = ("app_id", "callback_url", "client_id", "token_id")
ORG_STEP = "org"  # pseudo-step for the organization as a whole (its final status)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    command TEXT NOT NULL,
    args TEXT NOT NULL,
    started_at REAL NOT NULL,
    pid INTEGER,
    host TEXT,
    source TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    run_uid TEXT,
    at REAL NOT NULL,
    org TEXT NOT NULL,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    app_id TEXT,
    callback_url TEXT,
    client_id TEXT,
    token_id TEXT,
    error TEXT,
    error_kind TEXT,
    seconds REAL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_org ON events (org, id);
"""


@dataclass
class OrgState:
    """What the journal knows about one organization, for resuming."""

    org: str
    app_id: str | None = None
    callback_url: str | None = None
    client_id: str | None = None
    token_id: str | None = None
    done: list[str] = field(default_factory=list)  # steps whose latest event is done, in order
    step_status: dict[str, str] = field(default_factory=dict)  # latest status per step
    status: str | None = None  # latest status of the ORG_STEP pseudo-step (the final result), if any
    last_step: str | None = None
    last_status: str | None = None
    error: str | None = None  # error of the latest failed event
    error_kind: str | None = None

    def is_done(self, step: str) -> bool:
        return self.step_status.get(step) == "done"

    @property
    def finished(self) -> bool:
        return self.status == "done"

    @property
    def open_steps(self) -> list[str]:
        return [s for s, st in self.step_status.items() if st == "started"]


def _check_no_secret(name: str, value: Any, secrets: list[str]) -> None:
    if isinstance(value, str):
        for secret in secrets:
            if secret and secret in value:
                raise ValueError(f"journal: refusing to store a secret value in {name!r}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_no_secret(f"{name}.{k}", k, secrets)
            _check_no_secret(f"{name}.{k}", v, secrets)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            _check_no_secret(name, v, secrets)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.row_factory = sqlite3.Row
    return conn


class Journal:
    """One journal file. Thread-safe (one connection behind a lock); every call is short."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = _connect(self.path)
        with self._lock:
            self._conn.executescript(_SCHEMA)
        self.run_uid: str | None = None
        self.run_id: int | None = None

    # -- lifecycle
    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            if self._conn is None:
                raise ValueError("journal is closed")
            return self._conn.execute(sql, tuple(params))

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            if self._conn is None:
                raise ValueError("journal is closed")
            return self._conn.execute(sql, tuple(params)).fetchall()

    # -- writing
    def start_run(self, command: str, args: dict | None = None) -> int:
        args = dict(args or {})
        secrets = registered_values()
        _check_no_secret("command", command, secrets)
        _check_no_secret("args", args, secrets)
        uid = uuid.uuid4().hex
        cur = self._exec(
            "INSERT INTO runs (uid, command, args, started_at, pid, host) VALUES (?, ?, ?, ?, ?, ?)",
            (uid, command, json.dumps(args, default=str, sort_keys=True), self.clock(), os.getpid(),
             socket.gethostname()),
        )
        self.run_uid, self.run_id = uid, cur.lastrowid
        return int(cur.lastrowid or 0)

    def record(self, org: str, step: str, status: str, **values: Any) -> int:
        """Appends one event (committed at once) and returns its id."""
        if status not in STATUSES:
            raise ValueError(f"journal: status must be one of {', '.join(STATUSES)}, not {status!r}")
        unknown = sorted(set(values) - set(VALUE_FIELDS))
        if unknown:
            raise ValueError(f"journal: unknown value(s) {', '.join(unknown)}; known: {', '.join(VALUE_FIELDS)}")
        if not isinstance(org, str) or not org or not isinstance(step, str) or not step:
            raise ValueError("journal: org and step must be non-empty strings")
        kind = values.get("error_kind")
        if kind is not None and kind not in ERROR_KINDS:
            raise ValueError(f"journal: error_kind must be final or transient, not {kind!r}")
        clean: dict[str, Any] = {}
        for name in VALUE_FIELDS:
            value = values.get(name)
            if value is None:
                clean[name] = None
            elif name == "seconds":
                clean[name] = float(value)
            elif name == "detail" and not isinstance(value, str):
                clean[name] = json.dumps(value, default=str, sort_keys=True)
            else:
                clean[name] = str(value)
        secrets = registered_values()
        for name, value in (("org", org), ("step", step), *clean.items()):
            _check_no_secret(name, value, secrets)
        cur = self._exec(
            "INSERT INTO events (uid, run_uid, at, org, step, status, " + ", ".join(VALUE_FIELDS) + ") "
            "VALUES (?, ?, ?, ?, ?, ?" + ", ?" * len(VALUE_FIELDS) + ")",
            (uuid.uuid4().hex, self.run_uid, self.clock(), org, step, status,
             *(clean[name] for name in VALUE_FIELDS)),
        )
        return int(cur.lastrowid or 0)

    def mark_interrupted(self, org: str | None = None) -> list[tuple[str, str]]:
        """Every step whose latest event is `started` gets an `interrupted` event; returns (org, step)s."""
        open_steps = [(o, s) for o in ([org] if org else self.orgs()) for s in self.org_state(o).open_steps]
        for o, s in open_steps:
            self.record(o, s, "interrupted", detail="the run stopped before this step ended")
        return open_steps

    # -- reading
    def orgs(self) -> list[str]:
        """Every organization in the journal, in the order first seen."""
        rows = self._query("SELECT org, MIN(id) AS first FROM events GROUP BY org ORDER BY first")
        return [row["org"] for row in rows]

    def steps(self, org: str) -> list[dict]:
        """Every event of `org`, oldest first."""
        rows = self._query(
            "SELECT id, run_uid, at, step, status, " + ", ".join(VALUE_FIELDS)
            + " FROM events WHERE org = ? ORDER BY id", (org,))
        return [dict(row) for row in rows]

    def events(self) -> list[dict]:
        rows = self._query("SELECT * FROM events ORDER BY id")
        return [dict(row) for row in rows]

    def runs(self) -> list[dict]:
        rows = self._query("SELECT * FROM runs ORDER BY id")
        out = []
        for row in rows:
            item = dict(row)
            item["args"] = json.loads(item["args"])
            out.append(item)
        return out

    def org_state(self, org: str) -> OrgState:
        state = OrgState(org)
        for event in self.steps(org):
            for name in RESULT_FIELDS:
                if event[name] is not None:
                    setattr(state, name, event[name])
            step, status = event["step"], event["status"]
            if status == "progress":
                continue
            state.step_status.pop(step, None)  # keep the dict ordered by latest event
            state.step_status[step] = status
            state.last_step, state.last_status = step, status
            if step == ORG_STEP:
                state.status = status
            if status == "failed":
                state.error, state.error_kind = event["error"], event["error_kind"]
        state.done = [s for s, st in state.step_status.items() if st == "done"]
        return state

    def states(self) -> dict[str, OrgState]:
        return {org: self.org_state(org) for org in self.orgs()}


def merge(paths: Iterable[Path | str], into: Path | str) -> Journal:
    """Copies the runs and events of every journal in `paths` into `into` (created when missing).

    Idempotent: events are keyed by their uid, so merging the same shard twice adds nothing.
    Returns the merged journal (open).
    """
    into = Path(into)
    sources: list[tuple[Path, list[sqlite3.Row], list[sqlite3.Row]]] = []
    for path in paths:
        path = Path(path)
        if path.exists() and into.exists() and path.resolve() == into.resolve():
            continue
        if not path.is_file():
            raise FileNotFoundError(f"journal {path} does not exist")
        source = _connect(path)
        try:
            sources.append((path,
                            source.execute("SELECT * FROM runs ORDER BY id").fetchall(),
                            source.execute("SELECT * FROM events ORDER BY id").fetchall()))
        finally:
            source.close()
    target = Journal(into)
    columns = ("uid", "run_uid", "at", "org", "step", "status") + VALUE_FIELDS
    # events keep their order within a journal; across journals they interleave by time
    ordered = sorted(((event["at"], n, event["id"], event) for n, (_, _, events) in enumerate(sources)
                      for event in events), key=lambda item: item[:3])
    with target._lock:
        conn = target._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            for path, runs, _ in sources:
                for run in runs:
                    conn.execute(
                        "INSERT OR IGNORE INTO runs (uid, command, args, started_at, pid, host, source) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (run["uid"], run["command"], run["args"], run["started_at"], run["pid"], run["host"],
                         run["source"] or str(path)))
            for *_, event in ordered:
                conn.execute(
                    f"INSERT OR IGNORE INTO events ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    tuple(event[c] for c in columns))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return target
