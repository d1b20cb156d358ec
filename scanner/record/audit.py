"""The audit trail: an append-only, hash-chained SQLite database.

Every row (a scan verdict, a release or quarantine, an override, a label change, a
reveal, a pattern-set or configuration change) carries
``row_hash = sha256(prev_hash + canonical_json(row))``, where ``row`` is every stored
column except the hashes. ``chain_head`` holds the last sequence number and hash and
is updated in the same transaction as the insert, so ``verify`` detects:

- an edited row (its hash no longer matches its content): ``row 17 edited``;
- a deleted row (sequence gap, and the next row no longer chains): ``row 18 missing``;
- a swapped pair (sequence numbers out of physical order): ``rows 20/21 out of order``;
- a deleted tail (the head records more rows than exist): ``rows 41–45 missing at the end``.

Someone who can rewrite the whole file, head included, can forge a consistent
chain; ``verify`` prints the head hash so it can be anchored elsewhere (a ticket, an
e-mail) and compared later. Triggers refuse UPDATE/DELETE on ``events`` so our own
code cannot rewrite history by mistake.

Writers in several processes (GUI, watcher, CLI) append safely: each append is one
``BEGIN IMMEDIATE`` transaction (read head, insert, update head), so the chain never
forks. The database holds masked values and keyed hashes only — never a raw match;
``record`` refuses fields named like raw text.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from scanner.model import FileResult, Finding
from scanner.record.events import AuditKind, reveal_fields, scan_fields
from scanner.record.migrate import SCHEMA_VERSION, AuditSchemaError, check_not_newer, upgrade
from scanner.record.private import create_private, make_db_private, make_private

__all__ = ["GENESIS", "SCHEMA_VERSION", "AuditLog", "AuditRow", "AuditSchemaError", "VerifyReport"]

GENESIS = "0" * 64
SOURCES = ("cli", "watcher", "gui")
# Columns promoted out of ``data`` so queries can filter on them.
_COLUMNS = ("path", "destination", "verdict", "label", "sha256")
# A field with one of these names anywhere in a record would be raw document text.
_FORBIDDEN_KEYS = frozenset({"value", "text", "raw", "raw_value", "match"})


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept (the hash input)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(row)).encode("utf-8")).hexdigest()


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def current_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (service account without env, container): still record
        return "unknown"


def current_host() -> str:
    try:
        return socket.gethostname() or "unknown"
    except OSError:
        return "unknown"


def _jsonable(value: Any, where: str = "") -> Any:
    """Plain JSON types; refuses keys that would carry raw document text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if str(k).lower() in _FORBIDDEN_KEYS:
                raise ValueError(
                    f"audit field {where}{k!s} looks like raw document text; record masked values and keyed hashes only"
                )
            out[str(k)] = _jsonable(v, f"{where}{k}.")
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v, where) for v in items]
    if isinstance(value, float) and value != value:  # NaN cannot be hashed canonically
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    ts: str
    kind: str
    actor: str
    host: str
    source: str
    path: str | None
    destination: str | None
    verdict: str | None
    label: str | None
    sha256: str | None
    data: dict[str, Any]
    prev_hash: str
    row_hash: str

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(self.ts)

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "actor": self.actor,
            "host": self.host,
            "source": self.source,
            "path": self.path,
            "destination": self.destination,
            "verdict": self.verdict,
            "label": self.label,
            "sha256": self.sha256,
            "data": self.data,
        }

    def to_dict(self) -> dict[str, Any]:
        out = self.hashed_fields()
        out["prev_hash"] = self.prev_hash
        out["row_hash"] = self.row_hash
        return out


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    problems: list[str]
    rows: int
    head_seq: int | None = None
    head_hash: str | None = None
    first_seq: int = 1  # > 1 once older rows were archived and pruned
    segments: int = 0  # archived segments walked as well (``retention.verify_all``)

    def summary(self) -> str:
        if self.ok:
            extra = f" in {self.segments} archived segment(s) and the live database" if self.segments else ""
            pruned = f" (rows before {self.first_seq} archived)" if self.first_seq > 1 and not self.segments else ""
            return f"audit trail intact: {self.rows} rows{extra}{pruned}, head {self.head_seq} {self.head_hash}"
        return f"audit trail BROKEN: {len(self.problems)} problem(s) in {self.rows} rows"


_SELECT = (
    "SELECT seq, ts, kind, actor, host, source, path, destination, verdict, label, sha256, data, "
    "prev_hash, row_hash FROM events"
)


def _row(r: Sequence[Any]) -> AuditRow:
    try:
        data = json.loads(r[11])
    except (TypeError, ValueError):
        data = {"_unreadable": str(r[11])[:200]}
    if not isinstance(data, dict):
        data = {"_unreadable": str(r[11])[:200]}
    return AuditRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], data, r[12], r[13])


# --------------------------------------------------------------------------- the log


class Transaction:
    """One write transaction (``BEGIN IMMEDIATE``): appends and journal updates commit together."""

    def __init__(self, log: AuditLog, conn: sqlite3.Connection):
        self._log = log
        self.conn = conn

    def record(self, kind: AuditKind, **fields: Any) -> int:
        return self._log._append(self.conn, kind, fields)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


class AuditLog:
    """Append-only audit trail at ``path`` (created with its folders on first use).

    Thread-safe (one connection behind a lock) and multi-process safe (SQLite WAL +
    ``BEGIN IMMEDIATE`` + a busy timeout). ``source`` is the default for rows recorded
    through this instance: "cli", "watcher" or "gui".
    """

    def __init__(self, path: Path | str, source: str = "cli", busy_timeout_s: float = 30.0, read_only: bool = False):
        """``read_only``: open an existing trail without writing to it (verify/export/report
        of an evidence copy); appends then raise ``sqlite3.OperationalError``."""
        self.path = Path(path)
        self.source = source
        self.read_only = read_only
        self._lock = threading.RLock()
        self._actor = current_actor()
        self._host = current_host()
        if read_only:
            if not self.path.is_file():
                raise FileNotFoundError(f"no audit database at {self.path}")
            self._conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                check_not_newer(self._conn, self.path)
            except BaseException:
                self._conn.close()
                raise
            return
        if not self.path.parent.exists():
            self.path.parent.mkdir(parents=True)
            make_private(self.path.parent)
        create_private(self.path)
        self._conn = sqlite3.connect(
            str(self.path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        # WAL: readers (GUI audit view) never block the writer. synchronous=FULL: an
        # acknowledged audit row survives a power cut, not just a process crash.
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        try:
            with self.transaction() as tx:
                upgrade(tx.conn, self.path)
        except BaseException:
            self._conn.close()
            raise
        make_db_private(self.path)  # SQLite gives -wal/-shm the database's mode; made sure here

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- writing

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the database write lock; everything inside commits or rolls back together."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self, self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def record(self, kind: AuditKind, **fields: Any) -> int:
        """Append one row; returns its sequence number. ``actor``/``host``/``source`` may be given."""
        with self.transaction() as tx:
            return tx.record(kind, **fields)

    def _append(self, conn: sqlite3.Connection, kind: AuditKind, fields: dict[str, Any]) -> int:
        kind = AuditKind(kind)  # a typo'd kind fails here, not in a report a year later
        fields = dict(fields)
        actor = str(fields.pop("actor", None) or self._actor)
        host = str(fields.pop("host", None) or self._host)
        source = str(fields.pop("source", None) or self.source)
        cols = {c: fields.pop(c, None) for c in _COLUMNS}
        cols = {c: (None if v is None else str(_jsonable(v))) for c, v in cols.items()}
        data = _jsonable(fields)
        head = conn.execute("SELECT seq, row_hash FROM chain_head WHERE id = 1").fetchone()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        row = {
            "seq": seq,
            "ts": now_utc(),
            "kind": kind.value,
            "actor": actor,
            "host": host,
            "source": source,
            **cols,
            "data": data,
        }
        row_hash = chain_hash(prev, row)
        conn.execute(
            "INSERT INTO events(seq, ts, kind, actor, host, source, path, destination, verdict, label, sha256, "
            "data, prev_hash, row_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                seq,
                row["ts"],
                kind.value,
                actor,
                host,
                source,
                cols["path"],
                cols["destination"],
                cols["verdict"],
                cols["label"],
                cols["sha256"],
                canonical_json(data),
                prev,
                row_hash,
            ),
        )
        conn.execute(
            "INSERT INTO chain_head(id, seq, row_hash) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, row_hash = excluded.row_hash",
            (seq, row_hash),
        )
        return seq

    def record_scan(
        self, result: FileResult, source: str | None = None, destination: str | None = None, **extra: Any
    ) -> int:
        """One scan verdict: what, where to, and a masked summary of what was found."""
        return self.record(
            AuditKind.SCAN, **scan_fields(result, destination), **({"source": source} if source else {}), **extra
        )

    def record_reveals(self, reveals: Sequence[tuple[str, Finding]], reason: str | None, source: str) -> None:
        """Raw values are about to be shown: one row per value, all or none, before any is shown.

        The only writer of reveal rows, for the CLI (``--reveal``), the GUI and the watcher alike.
        """
        with self.transaction() as tx:
            for path, finding in reveals:
                tx.record(AuditKind.REVEAL, **reveal_fields(path, finding, reason), source=source)

    def record_if_changed(self, kind: AuditKind, path: str, sha256: str, **fields: Any) -> int | None:
        """Record a pattern-set/config/policy state only when its hash differs from the last one."""
        with self.transaction() as tx:
            last = tx.execute(
                # The kind as a literal (an enum value, not input): SQLite uses the partial
                # index ``events_changes`` only when it can see the kind in the statement.
                f"SELECT sha256 FROM events WHERE kind = '{AuditKind(kind).value}' AND path = ? "
                "ORDER BY seq DESC LIMIT 1",
                (path,),
            ).fetchone()
            if last is not None and last[0] == sha256:
                return None
            return tx.record(kind, path=path, sha256=sha256, previous_sha256=last[0] if last else None, **fields)

    def note_config(self, config: Any) -> int | None:
        """Record the configuration in force (once per change of its bytes)."""
        if config.path is None:
            return self.record_if_changed(AuditKind.CONFIG_CHANGE, "<defaults>", "defaults", policies={})
        # Each policy's own hash (of its parsed form), so a report can say which policy changed.
        policies = {
            name: hashlib.sha256(repr(p).encode("utf-8")).hexdigest()[:16]
            for name, p in sorted(config.policies.items())
        }
        return self.record_if_changed(
            AuditKind.CONFIG_CHANGE,
            str(config.path),
            config.sha256 or "",
            policies=policies,
            destinations=sorted(config.destinations),
        )

    def record_label_change(
        self,
        path: Path | str,
        label: str | None,
        previous: str | None = None,
        sha256: str | None = None,
        source: str | None = None,
        **extra: Any,
    ) -> int:
        """A label was written (or replaced) on a file outside a release (``clearance label``)."""
        return self.record(
            AuditKind.LABEL_CHANGE,
            path=str(path),
            label=label,
            previous_label=previous,
            sha256=sha256,
            **({"source": source} if source else {}),
            **extra,
        )

    def note_pattern_set(
        self, path: Path | str, sha256: str, name: str | None = None, patterns: int | None = None
    ) -> int | None:
        return self.record_if_changed(AuditKind.PATTERN_SET_CHANGE, str(path), sha256, name=name, patterns=patterns)

    # ---------------------------------------------------------------- reading

    def query(
        self,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        verdict: str | None = None,
        destination: str | None = None,
        user: str | None = None,
        pattern: str | None = None,
        kind: AuditKind | None = None,
        path_contains: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditRow]:
        """Rows matching every given filter (the GUI audit view's query)."""
        sql = _SELECT + " WHERE 1=1"
        params: list[Any] = []
        if since is not None:
            sql += " AND ts >= ?"
            params.append(time_bound(since))
        if until is not None:
            sql += " AND ts < ?"
            params.append(time_bound(until, end=True))
        for col, val in (("verdict", verdict), ("destination", destination), ("actor", user), ("kind", kind)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(str(val))
        if path_contains:
            sql += " AND instr(lower(path), lower(?)) > 0"
            params.append(path_contains)
        if pattern is not None:
            sql += (
                " AND (json_extract(data, '$.pattern') = ? OR EXISTS (SELECT 1 FROM json_each(data, "
                "'$.findings') WHERE json_extract(value, '$.pattern') = ?))"
            )
            params += [pattern, pattern]
        sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock:
            return [_row(r) for r in self._conn.execute(sql, params).fetchall()]

    def head(self) -> tuple[int, str] | None:
        with self._lock:
            r = self._conn.execute("SELECT seq, row_hash FROM chain_head WHERE id = 1").fetchone()
        return (r[0], r[1]) if r else None

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])

    # ---------------------------------------------------------------- verifying

    def verify(self, max_problems: int = 200) -> VerifyReport:
        """Walk the live chain; every problem names the row(s) concerned.

        Streams the rows twice (physical order, then sequence order) inside one read
        transaction of a separate connection: constant memory, a consistent snapshot,
        and writers in this process are not held up while it runs. After a prune the
        chain starts where the newest ``chain_continues`` row says (first kept row and
        the hash it follows); ``retention.verify_all`` also walks the archived segments.
        """
        problems = _Problems(max_problems)
        con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
        try:
            con.execute("BEGIN")
            head = con.execute("SELECT seq, row_hash FROM chain_head").fetchall()
            start = chain_start(con)
            count, last = walk_chain(con, problems, start)
            con.execute("COMMIT")
        finally:
            con.close()
        for p in _check_head(head, last):
            problems.add(p)
        h = head[0] if len(head) == 1 else None
        return VerifyReport(
            problems.total == 0, problems.listed(), count, h[0] if h else None, h[1] if h else None, start[0]
        )


def chain_start(con: sqlite3.Connection) -> tuple[int, str]:
    """Where the live chain starts: row 1 after the genesis hash, or, once rows were pruned,
    the first kept row and the hash of the last pruned one (newest ``chain_continues`` row)."""
    r = con.execute(
        f"SELECT data FROM events WHERE kind = '{AuditKind.CHAIN_CONTINUES.value}' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if r is None:
        return 1, GENESIS
    try:
        d = json.loads(r[0])
        return int(d["first_kept_seq"]), str(d["prior_hash"])
    except (TypeError, ValueError, KeyError):
        return 1, GENESIS  # an unreadable continuation: verify then reports the missing rows


def walk_chain(
    con: sqlite3.Connection, problems: _Problems, start: tuple[int, str] = (1, GENESIS)
) -> tuple[int, tuple[int, str] | None]:
    """Check every row of ``con``'s ``events`` (content, order, links) from ``start``;
    returns the row count and the last (seq, row_hash)."""
    count, before = 0, None
    for raw in con.execute(_SELECT + " ORDER BY rowid"):
        r = _row(raw)
        count += 1
        if chain_hash(r.prev_hash, r.hashed_fields()) != r.row_hash:
            problems.add(f"row {r.seq} edited (content does not match its hash)")
        # Physical order: a sequence number lower than the one before it was moved.
        if before is not None and r.seq < before:
            problems.add(f"rows {r.seq}/{before} out of order")
        before = r.seq
    expected, prev_hash = start
    first_seq, prev_seq = expected, None
    last: tuple[int, str] | None = None
    for raw in con.execute("SELECT seq, prev_hash, row_hash FROM events ORDER BY seq"):
        seq, link, row_hash = raw
        if prev_seq is not None and seq == prev_seq:
            problems.add(f"row {seq} appears more than once")
            continue
        if seq > expected:
            problems.add(_gap(expected, seq - 1))
        if link != prev_hash:
            if prev_seq is None and seq == first_seq:
                what = "does not start the chain" if seq == 1 else f"does not follow row {seq - 1}"
                problems.add(f"row {seq}: chain broken ({what})")
            elif prev_seq is not None and seq == prev_seq + 1:
                problems.add(
                    f"row {seq}: chain broken (does not follow row {prev_seq}; row rewritten or row before it changed)"
                )
            else:
                problems.add(f"row {seq}: chain broken after the missing row(s)")
        expected, prev_seq, prev_hash = seq + 1, seq, row_hash
        last = (seq, row_hash)
    return count, last


# --------------------------------------------------------------------------- helpers


def time_bound(value: datetime | date | str, end: bool = False) -> str:
    """A filter bound as a UTC timestamp string comparable with ``ts``.

    A date (or "YYYY-MM-DD") means local midnight; as an ``until`` bound it includes
    that whole day. A naive datetime is local time.
    """
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date or time: {value!r} (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end else value
        value = datetime.combine(day, time.min)
    if value.tzinfo is None:
        value = value.astimezone()  # local time zone
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class _Problems:
    """Counts every problem, keeps the first ``limit`` for display."""

    def __init__(self, limit: int):
        self.limit = limit
        self.items: list[str] = []
        self.total = 0

    def add(self, problem: str) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(problem)

    def listed(self) -> list[str]:
        extra = self.total - len(self.items)
        return self.items + ([f"... and {extra} more problems"] if extra else [])


def _gap(first: int, last: int) -> str:
    if first == last:
        return f"row {first} missing (sequence gap)"
    return f"rows {first}–{last} missing (sequence gap)"


def _check_head(head: list[Any], last: tuple[int, str] | None) -> list[str]:
    if not head:
        return ["chain head missing (the record of the last row was deleted)"] if last is not None else []
    if len(head) > 1:
        return ["chain head has more than one row"]
    seq, row_hash = head[0]
    if last is None:
        return [f"all rows missing (chain head records {seq} rows)"] if seq > 0 else []
    last_seq, last_hash = last
    if seq > last_seq:
        return [
            f"{_gap(last_seq + 1, seq).replace(' (sequence gap)', '')} at the end "
            f"(chain head records {seq} rows): the tail was deleted"
        ]
    if seq < last_seq:
        return [f"rows {seq + 1}–{last_seq} are not covered by the chain head (written outside Clearance?)"]
    if row_hash != last_hash:
        return [f"row {last_seq} does not match the chain head (last row replaced)"]
    return []
