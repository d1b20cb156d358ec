"""Audit life cycle (issue 16): row size, schema migrations, archive/prune/verify, owner-only files."""

from __future__ import annotations

import os
import pwd
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner.cli import audit as cli_audit
from scanner.detect.redact import keyed_hash
from scanner.model import Confidence, Decision, DocOutcome, FileResult, Finding, Location, Severity, Verdict
from scanner.record.audit import GENESIS, AuditLog, canonical_json, chain_hash
from scanner.record.events import AuditKind
from scanner.record.migrate import SCHEMA_VERSION, AuditSchemaError
from scanner.record.retention import RetentionError, archive, archive_dir, prune, segments, verify_all

KEY = b"k" * 32
LATER = (datetime.now(UTC) + timedelta(days=1)).isoformat()


def realistic_result(i: int) -> FileResult:
    """A file with a few findings: 3 patterns, 12 distinct values each, over many cells."""
    findings = []
    for p, (pid, cat) in enumerate((("phi-us-ssn", "phi"), ("fin-iban", "fin"), ("pii-email", "pii"))):
        for v in range(12):
            value = f"value-{p}{i:05d}-{v:04d}"
            findings.append(
                Finding(
                    pid,
                    pid,
                    cat,
                    Severity.HIGH,
                    Confidence.HIGH,
                    Location("sheet", sheet="Pay", cell=f"C{v + 2}"),
                    0,
                    len(value),
                    "***" + value[-4:],
                    keyed_hash(KEY, value),
                    None,
                    value,
                )  # fmt: skip
            )
    o = DocOutcome(f"//fileserver/projects/2025/study-{i:04d}/exports/participants-{i}.xlsx", "xlsx", "ab" * 32, 81920)
    o.findings.extend(findings)
    reasons = ("High-severity PHI: US SSN (phi, high confidence) at sheet", "Financial: IBAN (fin)")
    return FileResult(o, Decision(Verdict.BLOCK, "Restricted", reasons, True), "acme")


def db_bytes_per_row(db: Path, n: int) -> float:
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("VACUUM")
    con.close()
    return db.stat().st_size / n


def test_a_scan_row_is_sized_for_years(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    with AuditLog(db) as log:
        for i in range(1000):
            log.record_scan(realistic_result(i))
        row = log.query(limit=1)[0]
    per_row = db_bytes_per_row(db, 1000)
    # What left, to whom, why: kept. Every occurrence and where it sits: not.
    assert row.path and row.destination == "acme" and row.verdict == "block" and row.data["reasons"]
    f = row.data["findings"][0]
    assert f["count"] == 12 and f["unique"] == 12 and len(f["masked"]) == 3 and len(f["hashes"]) == 5
    assert "locations" not in f
    print(f"scan row with 36 findings: {per_row:.0f} bytes")
    assert per_row < 2500  # 50 hashes and 5 locations per pattern: 4,284 bytes


def test_a_clean_scan_row_has_no_empty_fields(tmp_path: Path) -> None:
    o = DocOutcome("a.txt", "txt", "cd" * 32, 10)
    with AuditLog(tmp_path / "a.sqlite") as log:
        log.record_scan(FileResult(o, Decision(Verdict.ALLOW, None, (), True), None))
        data = log.query()[0].data
    assert set(data) == {"bytes", "type", "reasons", "overridable", "findings"}


# --------------------------------------------------------------------------- migrations

# Version 1 exactly as shipped before user_version was used (copied, not imported: the
# test must keep proving an upgrade from what is on disk at customers).
V1_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (seq INTEGER NOT NULL, ts TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
    host TEXT NOT NULL, source TEXT NOT NULL, path TEXT, destination TEXT, verdict TEXT, label TEXT,
    sha256 TEXT, data TEXT NOT NULL, prev_hash TEXT NOT NULL, row_hash TEXT NOT NULL);
CREATE INDEX events_seq ON events(seq);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_kind_path ON events(kind, path);
CREATE TABLE chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, row_hash TEXT NOT NULL);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, state TEXT NOT NULL,
    source TEXT NOT NULL, source_sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, target TEXT NOT NULL,
    temp TEXT NOT NULL, target_sha256 TEXT, keep_source INTEGER NOT NULL DEFAULT 0, record_path TEXT,
    record_json TEXT, audit_json TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, note TEXT);
CREATE INDEX journal_state ON journal(state);
INSERT INTO meta(key, value) VALUES ('schema_version', '1');
"""


def make_v1_database(db: Path, rows: int) -> None:
    con = sqlite3.connect(db)
    con.executescript(V1_DDL)
    prev = GENESIS
    for seq in range(1, rows + 1):
        row = {
            "seq": seq, "ts": f"2024-01-0{seq}T10:00:00.000000+00:00", "kind": "scan", "actor": "alice",
            "host": "pc1", "source": "cli", "path": f"old-{seq}.docx", "destination": None, "verdict": "allow",
            "label": None, "sha256": None,
            "data": {"findings": [], "locations": ["old rows keep their fields"]},
        }  # fmt: skip
        h = chain_hash(prev, row)
        con.execute(
            "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*[row[k] for k in list(row)[:11]], canonical_json(row["data"]), prev, h),
        )
        con.execute("INSERT OR REPLACE INTO chain_head VALUES (1, ?, ?)", (seq, h))
        prev = h
    con.commit()
    assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    con.close()


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    make_v1_database(db, 3)
    with AuditLog(db, read_only=True) as ro:  # reading an old trail does not change it
        assert ro.verify().ok and ro.count() == 3
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 0
    with AuditLog(db) as log:
        log.record(AuditKind.CONFIG_CHANGE, path="c.toml", sha256="x")
        assert log.verify().ok and log.count() == 4
        assert log.query()[0].data["locations"] == ["old rows keep their fields"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert "segments" in names and "events_changes" in names and "events_kind_path" not in names
    plan = " ".join(
        str(r) for r in con.execute(
            "EXPLAIN QUERY PLAN SELECT sha256 FROM events WHERE kind = 'config_change' AND path = ?", ("c.toml",)
        )
    )  # fmt: skip
    assert "events_changes" in plan
    con.close()
    with AuditLog(db) as again:  # opening an up-to-date database migrates nothing
        assert again.count() == 4


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "new.sqlite"
    AuditLog(db).close()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    for read_only in (False, True):
        with pytest.raises(AuditSchemaError, match="schema version 3 is newer than this Clearance"):
            AuditLog(db, read_only=read_only)
    assert cli_audit.run(_args("verify", db)) == cli_audit.EXIT_BROKEN
    assert "newer than this Clearance" in capsys.readouterr().err
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 3  # untouched


# --------------------------------------------------------------------------- retention


def _args(cmd: str, db: Path, before: str | None = None) -> object:
    import argparse

    return argparse.Namespace(audit_command=cmd, db=db, config=None, since=None, until=None, before=before)


def test_archive_prune_and_verify_across_segments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "audit.sqlite"
    with AuditLog(db) as log:
        for i in range(6):
            log.record(AuditKind.SCAN, path=f"f{i}")
        cut = log.query()[4].ts  # rows 1-4 are older than row 5
        seg = archive(log, cut)
        assert seg is not None and (seg.first_seq, seg.last_seq, seg.rows) == (1, 4, 4)
        assert archive(log, cut) is None  # nothing new
        assert verify_all(log).ok  # archived, not pruned: rows are in both
        assert prune(log, cut) == (1, 4)
        assert [r.seq for r in log.query()] == [5, 6, 7, 8]
        kinds = [r.kind for r in log.query()]
        assert kinds[-2:] == [AuditKind.ARCHIVE_SEGMENT, AuditKind.CHAIN_CONTINUES]
        cont = log.query()[-1].data
        assert cont["first_kept_seq"] == 5 and cont["pruned_through"] == 4 and cont["segments"] == [seg.file]
        assert log.verify().ok and log.verify().first_seq == 5  # the live db alone: no silent gap
        report = verify_all(log)
        assert report.ok, report.problems
        assert report.rows == 8 and report.segments == 1
        # a second round archives and prunes the rest, continuing the same chain
        for _ in range(2):
            log.record(AuditKind.SCAN, path="more")
        assert archive(log, LATER) is not None
        assert prune(log, LATER) is not None
        assert verify_all(log).ok and len(segments(log)) == 2
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):  # the guard is back
            log._conn.execute("DELETE FROM events")
    assert cli_audit.run(_args("verify", db)) == cli_audit.EXIT_OK
    assert "intact" in capsys.readouterr().out and oct(archive_dir(db).stat().st_mode & 0o777) == "0o700"


def test_a_prune_gap_without_its_record_or_segment_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    with AuditLog(db) as log:
        for i in range(4):
            log.record(AuditKind.SCAN, path=f"f{i}")
        archive(log, LATER)
        prune(log, LATER)
        files = [archive_dir(db) / s.file for s in segments(log)]
    files[0].rename(files[0].with_suffix(".gone"))
    with AuditLog(db, read_only=True) as log:
        assert any("segment" in p and "missing" in p for p in verify_all(log).problems)
    files[0].with_suffix(".gone").rename(files[0])
    con = sqlite3.connect(db)  # an attacker deletes the continuation row itself
    con.execute("DROP TRIGGER events_no_delete")
    con.execute("DELETE FROM events WHERE kind = 'chain_continues'")
    con.commit()
    con.close()
    with AuditLog(db, read_only=True) as log:
        problems = verify_all(log).problems
    assert any("missing" in p for p in problems), problems


def test_a_deleted_row_inside_a_segment_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    with AuditLog(db) as log:
        for i in range(5):
            log.record(AuditKind.SCAN, path=f"f{i}")
        seg = archive(log, LATER)
        assert seg is not None
        prune(log, LATER)
    con = sqlite3.connect(archive_dir(db) / seg.file)
    con.execute("DROP TRIGGER events_no_delete")
    con.execute("DELETE FROM events WHERE seq = 3")
    con.commit()
    con.close()
    with AuditLog(db, read_only=True) as log:
        assert any("row 3 missing" in p for p in verify_all(log).problems)


def test_prune_needs_an_archive_and_the_cli_runs_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "audit.sqlite"
    with AuditLog(db) as log:
        log.record(AuditKind.SCAN, path="a")
        with pytest.raises(RetentionError, match="nothing is archived"):
            prune(log, LATER)
        assert log.count() == 1
    assert cli_audit.run(_args("prune", db, LATER)) == cli_audit.EXIT_USAGE
    assert cli_audit.run(_args("prune", db, "not a date")) == cli_audit.EXIT_USAGE
    assert cli_audit.run(_args("archive", db, None)) == cli_audit.EXIT_OK
    assert cli_audit.run(_args("prune", db, LATER)) == cli_audit.EXIT_OK
    out = capsys.readouterr().out
    assert "archived rows 1–1" in out and "pruned rows 1–1" in out
    r = subprocess.run(
        [sys.executable, "-m", "scanner", "audit", "verify", "--db", str(db)], capture_output=True, text=True
    )
    assert r.returncode == 0 and "1 archived segment(s)" in r.stdout, r.stdout + r.stderr


# --------------------------------------------------------------------------- owner-only


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes; Windows uses icacls (scanner/record/private.py)")
def test_database_and_segments_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = tmp_path / "data" / "audit.sqlite"
        with AuditLog(db) as log:
            log.record(AuditKind.SCAN, path="a")
            seg = archive(log, LATER)
            assert seg is not None
            made = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), archive_dir(db) / seg.file]
            for p in made:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
            assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
            if os.geteuid() == 0:  # root reads anything: check as another user, with a dropped uid
                nobody = pwd.getpwnam("nobody")
                db.parent.chmod(0o755)  # let the other user reach the file, so the file's own mode decides
                r = subprocess.run(
                    [sys.executable, "-c", f"open({str(db)!r}, 'rb').read(1)"],
                    preexec_fn=lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid)),
                    capture_output=True,
                    text=True,
                )
                assert r.returncode != 0 and "PermissionError" in r.stderr, r.stderr
    finally:
        os.umask(old)
    # an existing world-readable database from an older version is tightened on open
    db.chmod(0o644)
    AuditLog(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
