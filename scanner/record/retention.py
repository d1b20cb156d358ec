"""Retention: archive old rows into segment files, prune them from the live database, and
verify the chain across segments and live database.

- ``archive(log, before)`` copies the rows older than ``before`` not yet archived (a run
  of consecutive sequence numbers) into ``<db>.archive/audit-<first>-<last>.sqlite``: its
  own SQLite file with the same ``events`` columns, so every row keeps its hash and link.
  The live database registers the segment (``segments`` table) and records an
  ``archive_segment`` row.
- ``prune(log, before)`` deletes archived rows older than ``before`` from the live database,
  after checking them against their segment, and appends a ``chain_continues`` row naming
  the first kept row and the hash of the last deleted one: a pruned range is on the record,
  never a silent gap.
- ``verify_all(log)`` walks each segment from the genesis hash, then the live database,
  and checks the links between them.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from scanner.record.audit import (
    GENESIS,
    AuditLog,
    VerifyReport,
    _check_head,
    _Problems,
    chain_start,
    now_utc,
    time_bound,
    walk_chain,
)
from scanner.record.events import AuditKind
from scanner.record.migrate import BASE_SCHEMA, NO_DELETE_TRIGGER, split_sql
from scanner.record.private import create_private, make_db_private, make_private

_COLS = "seq, ts, kind, actor, host, source, path, destination, verdict, label, sha256, data, prev_hash, row_hash"


class RetentionError(Exception):
    """Archive or prune refused (nothing archived, a segment that does not match)."""


@dataclass(frozen=True, slots=True)
class Segment:
    file: str
    first_seq: int
    last_seq: int
    first_prev_hash: str
    last_hash: str
    rows: int


def archive_dir(db: Path) -> Path:
    return db.with_name(db.name + ".archive")


def segments(log: AuditLog) -> list[Segment]:
    """Registered segments, oldest first (none for a database older than schema 2)."""
    con = log._conn
    with log._lock:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'segments'").fetchone():
            return []
        rows = con.execute(
            "SELECT file, first_seq, last_seq, first_prev_hash, last_hash, rows FROM segments ORDER BY first_seq"
        ).fetchall()
    return [Segment(*r) for r in rows]


def archive(log: AuditLog, before: datetime | date | str) -> Segment | None:
    """Copy rows older than ``before`` that are not archived yet into a new segment.

    Holds the write lock throughout, so the rows and the registry agree; the segment is
    written to a temporary name, fsynced and renamed before it is registered.
    """
    cutoff = time_bound(before)
    folder = archive_dir(log.path)
    with log.transaction() as tx:
        done = tx.execute("SELECT coalesce(max(last_seq), 0) FROM segments").fetchone()[0]
        picked = []
        for r in tx.execute(f"SELECT {_COLS} FROM events WHERE seq > ? ORDER BY seq", (done,)):
            if r[1] >= cutoff:
                break  # consecutive rows only: a segment is one unbroken stretch of the chain
            picked.append(r)
        if not picked:
            return None
        first, last = picked[0], picked[-1]
        seg = Segment(
            f"audit-{first[0]:010d}-{last[0]:010d}.sqlite", first[0], last[0], first[12], last[13], len(picked)
        )
        if not folder.exists():
            folder.mkdir(parents=True)
            make_private(folder)
        final = folder / seg.file
        tmp = folder / f".{seg.file}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        create_private(tmp)
        out = sqlite3.connect(tmp, isolation_level=None)
        try:
            out.execute("PRAGMA journal_mode = DELETE")  # one file, nothing beside it
            out.execute("BEGIN")
            for stmt in split_sql(BASE_SCHEMA):
                out.execute(stmt)
            out.executemany(f"INSERT INTO events({_COLS}) VALUES ({','.join('?' * 14)})", picked)
            out.execute("INSERT INTO chain_head(id, seq, row_hash) VALUES (1, ?, ?)", (seg.last_seq, seg.last_hash))
            out.execute("INSERT INTO meta(key, value) VALUES ('segment_of', ?)", (str(log.path),))
            out.execute("COMMIT")
        finally:
            out.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        make_db_private(final)
        tx.execute(
            "INSERT INTO segments(file, first_seq, last_seq, first_prev_hash, last_hash, rows, created) "
            "VALUES (?,?,?,?,?,?,?)",
            (seg.file, seg.first_seq, seg.last_seq, seg.first_prev_hash, seg.last_hash, seg.rows, now_utc()),
        )
        tx.record(
            AuditKind.ARCHIVE_SEGMENT,
            path=seg.file,
            first_seq=seg.first_seq,
            last_seq=seg.last_seq,
            rows=seg.rows,
            last_hash=seg.last_hash,
            before=cutoff,
        )
    return seg


def prune(log: AuditLog, before: datetime | date | str) -> tuple[int, int] | None:
    """Delete archived rows older than ``before`` from the live database; returns the
    (first, last) sequence numbers deleted, or None when there was nothing to delete."""
    cutoff = time_bound(before)
    segs = segments(log)
    if not segs:
        raise RetentionError("nothing is archived yet: run `clearance audit archive --before DATE` first")
    with log.transaction() as tx:
        archived_through = segs[-1].last_seq
        victims: list[tuple[int, str]] = []
        for seq, ts, row_hash in tx.execute("SELECT seq, ts, row_hash FROM events ORDER BY seq"):
            if seq > archived_through or ts >= cutoff:
                break
            victims.append((seq, row_hash))
        if not victims:
            return None
        _check_archived(log.path, segs, victims)
        first, (last, last_hash) = victims[0][0], victims[-1]
        # The only deletion Clearance ever makes. The delete trigger is dropped and recreated
        # inside this one BEGIN IMMEDIATE transaction: SQLite DDL is transactional, so no other
        # connection ever sees the table unguarded, and a failure rolls the trigger back too.
        # The rows deleted were just compared, hash by hash, with their archive segment.
        tx.execute("DROP TRIGGER events_no_delete")
        tx.execute("DELETE FROM events WHERE seq BETWEEN ? AND ?", (first, last))
        tx.execute(NO_DELETE_TRIGGER)
        tx.record(
            AuditKind.CHAIN_CONTINUES,
            first_kept_seq=last + 1,
            prior_hash=last_hash,
            pruned_from=first,
            pruned_through=last,
            rows=len(victims),
            before=cutoff,
            segments=[s.file for s in segs if s.last_seq >= first and s.first_seq <= last],
        )
    return first, last


def _check_archived(db: Path, segs: list[Segment], victims: list[tuple[int, str]]) -> None:
    """Every row about to be deleted is in a segment with the same hash."""
    want = dict(victims)
    lo, hi = victims[0][0], victims[-1][0]
    for s in segs:
        if s.last_seq < lo or s.first_seq > hi:
            continue
        path = archive_dir(db) / s.file
        if not path.is_file():
            raise RetentionError(f"archive segment {path} is missing: nothing pruned")
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            for seq, row_hash in con.execute(
                "SELECT seq, row_hash FROM events WHERE seq BETWEEN ? AND ?",
                (max(lo, s.first_seq), min(hi, s.last_seq)),
            ):
                if want.pop(seq, None) != row_hash:
                    raise RetentionError(f"row {seq} differs from its copy in {path}: nothing pruned")
        finally:
            con.close()
    if want:
        raise RetentionError(f"row {min(want)} is not in any archive segment: nothing pruned")


def verify_all(log: AuditLog, max_problems: int = 200) -> VerifyReport:
    """Walk the archived segments (from the genesis hash) and the live database as one chain."""
    segs = segments(log)
    if not segs:
        return log.verify(max_problems)
    problems = _Problems(max_problems)
    total = 0
    expect: tuple[int, str] = (1, GENESIS)
    for s in segs:
        path = archive_dir(log.path) / s.file
        if not path.is_file():
            problems.add(f"archive segment {s.file} (rows {s.first_seq}–{s.last_seq}) missing")
            expect = (s.last_seq + 1, s.last_hash)
            continue
        if (s.first_seq, s.first_prev_hash) != expect:
            problems.add(f"archive segment {s.file} does not continue the chain at row {expect[0]}")
        seg_problems = _Problems(max_problems)
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            count, last = walk_chain(con, seg_problems, (s.first_seq, s.first_prev_hash))
        except sqlite3.DatabaseError as exc:
            problems.add(f"archive segment {s.file} unreadable ({exc})")
            count, last = 0, None
        finally:
            con.close()
        for p in seg_problems.listed():
            problems.add(f"{s.file}: {p}")
        for p in _check_head([(s.last_seq, s.last_hash)], last):
            problems.add(f"{s.file}: {p}")
        total += count
        expect = (s.last_seq + 1, s.last_hash)
    live = log.verify(max_problems)
    for p in live.problems:
        problems.add(p)
    total += live.rows
    con = sqlite3.connect(f"{log.path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        start = chain_start(con)
        # Rows archived but still live must be the same rows as in their segment.
        for s in segs:
            r = con.execute("SELECT row_hash FROM events WHERE seq = ?", (s.last_seq,)).fetchone()
            if r is not None and r[0] != s.last_hash:
                problems.add(f"row {s.last_seq} differs from its copy in archive segment {s.file}")
    finally:
        con.close()
    if start[0] > 1:
        # the live chain continues from the last pruned row: a segment must end on it
        reached = [s for s in segs if s.first_seq <= start[0] - 1 <= s.last_seq]
        if not reached:
            problems.add(f"rows up to {start[0] - 1} were pruned but no archive segment holds row {start[0] - 1}")
        elif not _segment_row_is(log.path, reached[0], start[0] - 1, start[1]):
            problems.add(f"the live chain does not continue from row {start[0] - 1} of {reached[0].file}")
    return VerifyReport(problems.total == 0, problems.listed(), total, live.head_seq, live.head_hash, 1, len(segs))


def _segment_row_is(db: Path, s: Segment, seq: int, row_hash: str) -> bool:
    path = archive_dir(db) / s.file
    if not path.is_file():
        return False  # already reported as missing
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        r = con.execute("SELECT row_hash FROM events WHERE seq = ?", (seq,)).fetchone()
    finally:
        con.close()
    return r is not None and r[0] == row_hash
