"""Schema versions of the audit database, keyed on ``PRAGMA user_version``.

Version 1 (Clearance up to issue 16) wrote ``schema_version = 1`` into ``meta`` and left
``user_version`` at 0. Every later version is reached from the one before by the
statements in ``MIGRATIONS``, so a new database is built exactly as an old one is upgraded:
the base schema, then each step. A database from a newer Clearance is refused, never
written to: its rows might carry fields this version would misread.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2


class AuditSchemaError(sqlite3.DatabaseError):
    """The database was written by a newer Clearance (or has an unknown schema)."""


# The delete guard, also recreated by ``retention.prune`` (see there).
NO_DELETE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events\n"
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
)

# Version 1 as it was shipped; never edit it (old databases are upgraded from it).
BASE_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER NOT NULL,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    host TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT,
    destination TEXT,
    verdict TEXT,
    label TEXT,
    sha256 TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_seq ON events(seq);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE INDEX IF NOT EXISTS events_kind_path ON events(kind, path);
CREATE TABLE IF NOT EXISTS chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
"""
    + NO_DELETE_TRIGGER
    + """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    target TEXT NOT NULL,
    temp TEXT NOT NULL,
    target_sha256 TEXT,
    keep_source INTEGER NOT NULL DEFAULT 0,
    record_path TEXT,
    record_json TEXT,
    audit_json TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS journal_state ON journal(state);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
"""
)

# MIGRATIONS[n]: the statements taking version n to n + 1.
MIGRATIONS: dict[int, str] = {
    # 2: archived segments (retention) and a smaller index. The (kind, path) index copied
    # every row's path (~150 bytes a scan row) to serve one query, the last config or
    # pattern-set change; a partial index over those kinds serves it at no cost per scan.
    1: """
CREATE TABLE IF NOT EXISTS segments (
    file TEXT PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    first_prev_hash TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    rows INTEGER NOT NULL,
    created TEXT NOT NULL
);
DROP INDEX IF EXISTS events_kind_path;
CREATE INDEX IF NOT EXISTS events_changes ON events(kind, path)
    WHERE kind = 'config_change' OR kind = 'pattern_set_change';
""",
}


def stored_version(conn: sqlite3.Connection) -> int:
    """The schema version of an open database (0: empty, nothing created yet)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
        return 1  # version 1 never set user_version
    return version


def check_not_newer(conn: sqlite3.Connection, where: object) -> int:
    version = stored_version(conn)
    if version > SCHEMA_VERSION:
        raise AuditSchemaError(
            f"{where}: audit database schema version {version} is newer than this Clearance "
            f"understands ({SCHEMA_VERSION}); upgrade Clearance rather than open it with this one"
        )
    return version


def upgrade(conn: sqlite3.Connection, where: object) -> int:
    """Bring the database to ``SCHEMA_VERSION``; call inside a ``BEGIN IMMEDIATE`` transaction
    (so two processes opening an old database do not both migrate it). Returns the version
    found."""
    found = check_not_newer(conn, where)
    version = found
    if version == 0:
        run_script(conn, BASE_SCHEMA)
        version = 1
    while version < SCHEMA_VERSION:
        run_script(conn, MIGRATIONS[version])
        version += 1
    if found != SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
    return found


def run_script(conn: sqlite3.Connection, script: str) -> None:
    for stmt in split_sql(script):
        conn.execute(stmt)


def split_sql(script: str) -> list[str]:
    """Statements of our own schema script (triggers contain ';' inside BEGIN ... END)."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and (not joined.upper().startswith("CREATE TRIGGER") or joined.endswith("END;")):
            out.append(joined)
            buf = []
    return out
