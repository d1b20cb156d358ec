"""The watcher's state journal: where every dropped file is in its journey.

One row per *item* — a file that appeared at a path with some content — moving
``seen -> scanning -> decided -> acting -> done``. Other ends: ``gone`` (removed by
someone else before it was acted on), ``failed`` (could not be acted on; retried
until ``attempts`` reaches the cap, then left in place until it changes).

Why a journal at all, when ``actions`` journals every move? The move journal says
what happened to a move; this one says what happened to a *drop*: after a crash it
tells the watcher which files were mid-way (so they are finished or redone, never
lost), which were done already (never done twice), and it separates "the same name
dropped again with new content" (a new item) from "the file we released but could
not delete" (not again).

It lives in its own SQLite file beside the audit trail (``<audit>.watch.sqlite``):
the audit database is append-only and fsyncs every row; progress markers are
rewritten five times per file and need only survive a process crash (WAL,
``synchronous=NORMAL``). The truth after a power cut is re-derived from the move
journal and the file system (see ``Watcher._reconcile``), so a lost progress marker
costs a re-scan, never a second copy.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scanner.config.settings import Config
from scanner.record.audit import now_utc

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

SCHEMA_VERSION = 1
ACTIVE_STATES = ("seen", "scanning", "decided", "acting")
UNFINISHED_STATES = (*ACTIVE_STATES, "failed")
_COLS = (
    "id, path, destination, state, sha256, size, mtime_ns, ino, verdict, outcome, target, attempts, error, "
    "source_kept, created, updated"
)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,
        destination TEXT NOT NULL,
        state TEXT NOT NULL,
        sha256 TEXT,
        size INTEGER,
        mtime_ns INTEGER,
        ino INTEGER,
        verdict TEXT,
        outcome TEXT,
        target TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        source_kept INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS items_path ON items(path, id)",
    "CREATE INDEX IF NOT EXISTS items_state ON items(state)",
)


def journal_path_for(config: Config) -> Path:
    """The journal beside the audit trail it belongs to: one watcher per audit trail."""
    db = config.audit.database
    return db.with_name(db.stem + ".watch.sqlite")


def lock_path_for(config: Config) -> Path:
    db = config.audit.database
    return db.with_name(db.stem + ".watch.lock")


def stat_columns(path: Path | None) -> dict[str, int | None]:
    """size/mtime/file id of a source left in place, for ``Item.same_file`` to recognise it unchanged later."""
    if path is None:
        return {}
    try:
        st = os.stat(path)
    except OSError:
        return {}
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": int(st.st_ino)}


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    path: str
    destination: str
    state: str
    sha256: str | None
    size: int | None
    mtime_ns: int | None
    ino: int | None
    verdict: str | None
    outcome: str | None  # released | quarantined | unchanged | ...
    target: str | None
    attempts: int
    error: str | None
    source_kept: bool
    created: str
    updated: str

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED_STATES

    def same_file(self, size: int, mtime_ns: int, ino: int) -> bool:
        """Same size, modification time and file id as when this item was recorded."""
        return (self.size, self.mtime_ns, self.ino) == (size, mtime_ns, ino)

    def settled(self, max_attempts: int) -> bool:
        """Not to be taken again until the file changes: released or quarantined but the source
        could not be removed, or given up on after ``max_attempts``."""
        return (self.state == "done" and self.source_kept) or (self.state == "failed" and self.attempts >= max_attempts)


def _item(r: tuple[Any, ...]) -> Item:
    return Item(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], bool(r[13]), r[14], r[15]
    )


class WatchJournal:
    """Thread-safe (one connection behind a lock); one writer process (the watcher holds a lock file)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _SCHEMA:
                    self._conn.execute(stmt)
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        if row is None or int(row[0]) > SCHEMA_VERSION:
            self._conn.close()
            raise ValueError(
                f"watch journal {self.path} was written by a newer Clearance "
                f"(schema {row[0] if row else '?'}); upgrade Clearance"
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ reading
    def latest(self, path: str) -> Item | None:
        with self._lock:
            r = self._conn.execute(
                f"SELECT {_COLS} FROM items WHERE path = ? ORDER BY id DESC LIMIT 1", (path,)
            ).fetchone()
        return _item(r) if r else None

    def get(self, item_id: int) -> Item:
        with self._lock:
            r = self._conn.execute(f"SELECT {_COLS} FROM items WHERE id = ?", (item_id,)).fetchone()
        if r is None:
            raise KeyError(item_id)
        return _item(r)

    def unfinished(self) -> list[Item]:
        marks = ",".join("?" * len(UNFINISHED_STATES))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLS} FROM items WHERE state IN ({marks}) ORDER BY id", UNFINISHED_STATES
            ).fetchall()
        return [_item(r) for r in rows]

    def items(self, path: str | None = None) -> list[Item]:
        with self._lock:
            if path is None:
                rows = self._conn.execute(f"SELECT {_COLS} FROM items ORDER BY id").fetchall()
            else:
                rows = self._conn.execute(f"SELECT {_COLS} FROM items WHERE path = ? ORDER BY id", (path,)).fetchall()
        return [_item(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT state, count(*) FROM items GROUP BY state").fetchall()
        return {str(s): int(n) for s, n in rows}

    # ------------------------------------------------------------------ writing
    def begin(self, path: str, destination: str, size: int, mtime_ns: int, ino: int) -> Item:
        """The item for a complete file at ``path``: its unfinished one, else a new one."""
        now = now_utc()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                r = self._conn.execute(
                    f"SELECT {_COLS} FROM items WHERE path = ? ORDER BY id DESC LIMIT 1", (path,)
                ).fetchone()
                last = _item(r) if r else None
                if last is not None and not last.finished:
                    attempts = last.attempts
                    if last.state == "failed" and not last.same_file(size, mtime_ns, ino):
                        attempts = 0  # changed since it failed: a fresh start
                    self._conn.execute(
                        "UPDATE items SET state = 'seen', destination = ?, size = ?, mtime_ns = ?, ino = ?, "
                        "attempts = ?, updated = ? WHERE id = ?",
                        (destination, size, mtime_ns, ino, attempts, now, last.id),
                    )
                    item_id = last.id
                else:
                    cur = self._conn.execute(
                        "INSERT INTO items(path, destination, state, size, mtime_ns, ino, created, updated) "
                        "VALUES (?,?,?,?,?,?,?,?)",
                        (path, destination, "seen", size, mtime_ns, ino, now, now),
                    )
                    item_id = int(cur.lastrowid or 0)
                r = self._conn.execute(f"SELECT {_COLS} FROM items WHERE id = ?", (item_id,)).fetchone()
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return _item(r)

    def advance(self, item_id: int, state: str, **cols: Any) -> None:
        """Move an item to ``state``, setting other columns (sha256, verdict, outcome, ...) with it."""
        allowed = {
            "sha256",
            "verdict",
            "outcome",
            "target",
            "attempts",
            "error",
            "source_kept",
            "size",
            "mtime_ns",
            "ino",
        }
        unknown = set(cols) - allowed
        if unknown:
            raise ValueError(f"unknown journal column(s): {', '.join(sorted(unknown))}")
        values = {
            k: (int(v) if isinstance(v, bool) else (str(v) if isinstance(v, Path) else v)) for k, v in cols.items()
        }
        sets = "".join(f", {k} = ?" for k in values)
        with self._lock:
            self._conn.execute(
                f"UPDATE items SET state = ?, updated = ?{sets} WHERE id = ?",
                (state, now_utc(), *values.values(), item_id),
            )


class LockedError(Exception):
    """Another watcher holds the journal; ``str(exc)`` is for the user."""


class InstanceLock:
    """An exclusive lock file: one watcher per audit trail (released by the OS if the process dies)."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: IO[bytes] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+b")
        try:
            if sys.platform == "win32":
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = ""
            with contextlib.suppress(OSError, ValueError):
                fh.seek(0)
                other = fh.read(32).decode("ascii", "replace").strip()
            fh.close()
            who = f" (process {other})" if other.isdigit() else ""
            raise LockedError(
                f"another Clearance watcher is already running for this audit trail{who}; lock file {self.path}"
            ) from None
        if sys.platform != "win32":  # Windows: the locked byte cannot be rewritten by others anyway
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()).encode("ascii"))
            fh.flush()
        self._fh = fh

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        with contextlib.suppress(OSError):
            if sys.platform == "win32":
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()
