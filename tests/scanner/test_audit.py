"""Audit trail: hash chain, tamper detection, concurrency, no raw values, exports, CLI."""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner.cli import audit as cli_audit
from scanner.detect.redact import keyed_hash
from scanner.model import (
    Confidence,
    Decision,
    DocOutcome,
    Explanation,
    FileResult,
    Finding,
    Location,
    Severity,
    Verdict,
)
from scanner.record.audit import GENESIS, AuditLog, canonical_json, chain_hash
from scanner.record.events import AuditKind
from scanner.record.export import export
from scanner.record.report import write_report

RAW = "123-45-6789"
KEY = b"a" * 32


def ssn_result(path: str = "out/payroll.xlsx", value: str = RAW, destination: str | None = "acme") -> FileResult:
    expl = Explanation(
        pattern="phi-us-ssn",
        pattern_name="US SSN",
        base_score=0.5,
        validator="us_ssn",
        validator_result=True,
        keyword="SSN",
        keyword_distance=5,
        keyword_scope="near",
        score=0.95,
        confidence=Confidence.HIGH,
    )
    where = Location("sheet", sheet="Pay", cell="C7")
    f = Finding(
        "phi-us-ssn",
        "US SSN",
        "phi",
        Severity.HIGH,
        Confidence.HIGH,
        where,
        0,
        11,
        "***-**-6789",
        keyed_hash(KEY, value),
        expl,
        value,
    )
    o = DocOutcome(path, "xlsx", "ab" * 32, 4096, findings=[f, f])
    d = Decision(Verdict.BLOCK, "Restricted", ("High-severity PHI: US SSN (phi, high confidence) at sheet",), True)
    return FileResult(o, d, destination)


@pytest.fixture()
def log(tmp_path: Path) -> AuditLog:
    a = AuditLog(tmp_path / "sub" / "audit.sqlite")
    yield a
    a.close()


def fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.record(AuditKind.SCAN, path=f"file-{i}.txt", n=i)


def tamper(db: Path, *sql: str) -> None:
    """What an attacker with the file can do: drop our triggers and rewrite rows."""
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER IF EXISTS events_no_update")
    con.execute("DROP TRIGGER IF EXISTS events_no_delete")
    for s in sql:
        con.execute(s)
    con.commit()
    con.close()


# --------------------------------------------------------------------------- chain


def test_rows_are_hash_chained(log: AuditLog) -> None:
    fill(log, 3)
    rows = log.query()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS
    for prev, row in zip([None, *rows], rows, strict=False):
        assert row.prev_hash == (prev.row_hash if prev else GENESIS)
        assert row.row_hash == chain_hash(row.prev_hash, row.hashed_fields())
    assert log.head() == (3, rows[-1].row_hash)
    report = log.verify()
    assert report.ok and report.problems == [] and report.rows == 3 and report.head_seq == 3


def test_canonical_json_is_deterministic() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'


def test_actor_host_source_recorded(log: AuditLog) -> None:
    seq = log.record(AuditKind.SCAN, source="watcher")
    row = log.query()[0]
    assert seq == 1 and row.source == "watcher" and row.actor and row.host
    log.record(AuditKind.SCAN, actor="alice")
    assert log.query(user="alice")[0].seq == 2


def test_our_code_cannot_edit_or_delete(log: AuditLog) -> None:
    fill(log, 2)
    con = sqlite3.connect(log.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE events SET path = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM events WHERE seq = 1")
    con.close()
    assert log.verify().ok


# --------------------------------------------------------------------------- tamper detection


def test_edited_row_detected(log: AuditLog) -> None:
    fill(log, 20)
    tamper(log.path, "UPDATE events SET data = '{\"n\":999}' WHERE seq = 17")
    r = log.verify()
    assert not r.ok and "row 17 edited (content does not match its hash)" in r.problems


def test_edited_row_with_recomputed_hash_breaks_the_chain(log: AuditLog) -> None:
    fill(log, 5)
    row = log.query()[2]
    fields = row.hashed_fields()
    fields["path"] = "innocent.txt"
    new_hash = chain_hash(row.prev_hash, fields)
    tamper(log.path, f"UPDATE events SET path = 'innocent.txt', row_hash = '{new_hash}' WHERE seq = 3")
    r = log.verify()
    assert not r.ok
    assert any(p.startswith("row 4: chain broken") for p in r.problems)


def test_deleted_row_detected(log: AuditLog) -> None:
    fill(log, 25)
    tamper(log.path, "DELETE FROM events WHERE seq = 18")
    r = log.verify()
    assert not r.ok
    assert "row 18 missing (sequence gap)" in r.problems
    assert any(p.startswith("row 19: chain broken") for p in r.problems)


def test_swapped_pair_detected(log: AuditLog) -> None:
    fill(log, 25)
    cols = "seq, ts, kind, actor, host, source, path, destination, verdict, label, sha256, data, prev_hash, row_hash"
    con = sqlite3.connect(log.path)
    a = con.execute(f"SELECT rowid, {cols} FROM events WHERE seq = 20").fetchone()
    b = con.execute(f"SELECT rowid, {cols} FROM events WHERE seq = 21").fetchone()
    con.close()
    sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    con = sqlite3.connect(log.path)
    con.execute("DROP TRIGGER events_no_update")
    con.execute(f"UPDATE events SET {sets} WHERE rowid = ?", (*b[1:], a[0]))
    con.execute(f"UPDATE events SET {sets} WHERE rowid = ?", (*a[1:], b[0]))
    con.commit()
    con.close()
    r = log.verify()
    assert not r.ok and r.problems == ["rows 20/21 out of order"]


def test_deleted_tail_detected(log: AuditLog) -> None:
    fill(log, 45)
    tamper(log.path, "DELETE FROM events WHERE seq > 40")
    r = log.verify()
    assert not r.ok
    assert r.problems == ["rows 41–45 missing at the end (chain head records 45 rows): the tail was deleted"]


def test_deleted_head_and_last_row_replaced(log: AuditLog) -> None:
    fill(log, 3)
    tamper(log.path, "DELETE FROM chain_head")
    assert log.verify().problems == ["chain head missing (the record of the last row was deleted)"]


def test_intact_after_reopen_and_all_rows_deleted_detected(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    with AuditLog(db) as a:
        fill(a, 4)
    with AuditLog(db) as a:
        fill(a, 1)
        assert a.verify().ok and a.count() == 5
    tamper(db, "DELETE FROM events")
    with AuditLog(db) as a:
        assert a.verify().problems == ["all rows missing (chain head records 5 rows)"]


# --------------------------------------------------------------------------- concurrency


def _append_many(db: str, n: int, tag: str, go: object = None) -> None:
    with AuditLog(Path(db), source="watcher") as a:
        if go is not None:
            go.wait(60)  # type: ignore[attr-defined]  # both processes start appending together
        for i in range(n):
            a.record(AuditKind.SCAN, path=f"{tag}-{i}")
            time.sleep(0.002)  # let the other process take the write lock in between


def test_two_processes_appending_keep_one_chain(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    AuditLog(db).close()
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_append_many, args=(str(db), 150, tag, go)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let both open the database
    go.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with AuditLog(db) as a:
        rows = a.query()
        assert [r.seq for r in rows] == list(range(1, 301))
        tags = [r.path.split("-")[0] for r in rows]
        assert sum(x != y for x, y in zip(tags, tags[1:], strict=False)) > 1  # the writers really interleaved
        assert a.verify().ok


def test_threads_appending_keep_one_chain(log: AuditLog) -> None:
    threads = [threading.Thread(target=fill, args=(log, 40)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.count() == 160 and log.verify().ok


# --------------------------------------------------------------------------- no raw values


def test_database_bytes_never_hold_a_raw_value(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    result = ssn_result()
    with AuditLog(db) as a:
        a.record_scan(result, source="gui")
        a.record_reveals([(result.path, f) for f in result.outcome.findings], "checking a false positive", "gui")
        row = a.query(kind=AuditKind.SCAN)[0]
        assert row.data["findings"][0]["masked"] == ["***-**-6789"]
        assert row.data["findings"][0]["hashes"] == [result.outcome.findings[0].hash]
        assert row.data["findings"][0]["count"] == 2 and row.data["findings"][0]["unique"] == 1
        reveals = a.query(kind=AuditKind.REVEAL)
        assert len(reveals) == len(result.outcome.findings)
        assert {r.data["masked"] for r in reveals} == {"***-**-6789"} and {r.source for r in reveals} == {"gui"}
        assert reveals[0].data["reason"] == "checking a false positive"
        with pytest.raises(ValueError, match="raw document text"):
            a.record(AuditKind.SCAN, value=RAW)
        with pytest.raises(ValueError, match="raw document text"):
            a.record(AuditKind.SCAN, details={"nested": [{"text": RAW}]})
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("audit.sqlite"))
    for needle in (RAW, "123456789", RAW.replace("-", " ")):
        assert needle.encode() not in blob


# --------------------------------------------------------------------------- queries, exports, report


def test_scan_row_fields_and_queries(log: AuditLog) -> None:
    log.record_scan(ssn_result("a.xlsx", destination="acme"))
    log.record_scan(ssn_result("b.xlsx", destination="borealis"))
    log.record(
        AuditKind.OVERRIDE,
        path="b.xlsx",
        destination="borealis",
        who="alice",
        justification="sponsor consent",
        reasons=["High-severity PHI"],
        verdict="block",
    )
    scan = log.query(kind=AuditKind.SCAN, destination="acme")[0]
    assert (scan.path, scan.verdict, scan.label, scan.sha256) == ("a.xlsx", "block", "Restricted", "ab" * 32)
    assert scan.data["type"] == "xlsx" and scan.data["reasons"]
    assert [r.path for r in log.query(pattern="phi-us-ssn")] == ["a.xlsx", "b.xlsx"]
    assert log.query(pattern="nope") == []
    assert [r.kind for r in log.query(verdict="block")] == ["scan", "scan", "override"]
    assert log.query(since=datetime.now(UTC) + timedelta(hours=1)) == []
    assert len(log.query(since="2000-01-01", until=datetime.now(UTC) + timedelta(seconds=5))) == 3
    assert len(log.query(until="2000-01-01")) == 0
    assert [r.seq for r in log.query(newest_first=True, limit=2)] == [3, 2]
    assert log.query(path_contains="B.XL")[0].path == "b.xlsx"


def test_record_if_changed(log: AuditLog) -> None:
    assert log.note_pattern_set("patterns/phi.toml", "1" * 64, name="phi", patterns=12) == 1
    assert log.note_pattern_set("patterns/phi.toml", "1" * 64) is None
    assert log.note_pattern_set("patterns/phi.toml", "2" * 64) == 2
    assert log.query()[1].data["previous_sha256"] == "1" * 64


def test_export_jsonl_and_csv(log: AuditLog, tmp_path: Path) -> None:
    log.record_scan(ssn_result('=HYPERLINK("http://x")'))
    log.record(AuditKind.SCAN, path="plain.txt")
    buf = io.StringIO()
    assert export(log, "jsonl", out=buf) == 2
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert lines[0]["seq"] == 1 and lines[0]["row_hash"] and lines[1]["path"] == "plain.txt"
    out = tmp_path / "x" / "audit.csv"
    assert export(log, "csv", out=out) == 2
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0]["path"].startswith("'=HYPERLINK")  # no formula injection in spreadsheets
    assert json.loads(rows[1]["data"]) == {}
    with pytest.raises(ValueError):
        export(log, "xml", out=buf)


def test_html_report_is_self_contained_and_escaped(log: AuditLog, tmp_path: Path) -> None:
    log.record_scan(ssn_result("<script>alert(1)</script>.xlsx"))
    log.record_scan(FileResult(DocOutcome("ok.txt", "text", "c" * 64, 3), Decision(Verdict.ALLOW, None, ()), "acme"))
    log.record(
        AuditKind.OVERRIDE,
        path="x.xlsx",
        destination="acme",
        who="alice",
        justification="Sponsor asked for the <b>full</b> roster",
        reasons=["phi"],
    )
    log.record(AuditKind.ACTION, op="quarantine", path="x.xlsx")
    out = tmp_path / "report.html"
    html_text = write_report(log, out=out)
    assert out.read_text(encoding="utf-8") == html_text
    assert "<script" not in html_text and "&lt;script&gt;" in html_text
    assert "<svg" in html_text and "Audit trail intact" in html_text
    assert "Sponsor asked for the &lt;b&gt;full&lt;/b&gt; roster" in html_text
    assert "phi-us-ssn" in html_text and "quarantine" in html_text
    assert "http://" not in html_text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


# --------------------------------------------------------------------------- CLI


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="clearance")
    cli_audit.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_cli_verify_export_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "clearance.toml"
    conf.write_text("[audit]\ndatabase = 'db/audit.sqlite'\n", encoding="utf-8")
    with AuditLog(tmp_path / "db" / "audit.sqlite") as a:
        fill(a, 5)
    assert run_cli("audit", "verify", "--config", str(conf)) == 0
    assert "intact: 5 rows" in capsys.readouterr().out
    out = tmp_path / "e.jsonl"
    assert (
        run_cli(
            "audit", "export", "--format", "jsonl", "--config", str(conf), "--since", "2000-01-01", "--output", str(out)
        )
        == 0
    )
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
    assert (
        run_cli("audit", "report", "--db", str(tmp_path / "db" / "audit.sqlite"), "--output", str(tmp_path / "r.html"))
        == 0
    )
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    tamper(tmp_path / "db" / "audit.sqlite", "DELETE FROM events WHERE seq = 2")
    capsys.readouterr()
    assert run_cli("audit", "verify", "--db", str(tmp_path / "db" / "audit.sqlite")) == 1
    assert "  row 2 missing (sequence gap)" in capsys.readouterr().out.splitlines()


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("audit", "verify", "--db", str(tmp_path / "none.sqlite")) == 2
    assert not (tmp_path / "none.sqlite").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("[audit]\ndatabase = 3\n", encoding="utf-8")
    assert run_cli("audit", "verify", "--config", str(bad)) == 2
    assert "audit.database: expected a string path" in capsys.readouterr().err
    with AuditLog(tmp_path / "a.sqlite"):
        pass
    assert run_cli("audit", "export", "--db", str(tmp_path / "a.sqlite"), "--since", "yesterday") == 2


def test_cli_is_wired_into_clearance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("scanner.cli.main")
    with AuditLog(tmp_path / "a.sqlite") as a:
        fill(a, 2)
    assert cli.main(["audit", "verify", "--db", str(tmp_path / "a.sqlite")]) == 0
    assert "intact: 2 rows" in capsys.readouterr().out


def test_config_changes_are_recorded_once_per_content(log: AuditLog, tmp_path: Path) -> None:
    from scanner.config.settings import load_config

    conf = tmp_path / "clearance.toml"
    conf.write_text("[policies.p]\n", encoding="utf-8")
    assert log.note_config(load_config(conf)) == 1
    assert log.note_config(load_config(conf)) is None  # unchanged: nothing new
    conf.write_text("[policies.p]\nunlabelable = 'allow'\n", encoding="utf-8")
    assert log.note_config(load_config(conf)) == 2
    rows = log.query(kind=AuditKind.CONFIG_CHANGE)
    assert rows[0].data["policies"]["p"] != rows[1].data["policies"]["p"]
    assert rows[1].data["previous_sha256"] == rows[0].sha256


def test_label_change_row(log: AuditLog) -> None:
    log.record_label_change("a.docx", "Restricted", previous="Internal", sha256="d" * 64, source="cli")
    row = log.query(kind=AuditKind.LABEL_CHANGE)[0]
    assert (row.label, row.data["previous_label"], row.source) == ("Restricted", "Internal", "cli")


def test_cli_does_not_modify_the_database_and_reports_garbage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.sqlite"
    with AuditLog(db) as a:
        fill(a, 3)
    before = db.read_bytes()
    assert run_cli("audit", "verify", "--db", str(db)) == 0
    assert run_cli("audit", "report", "--db", str(db), "--output", str(tmp_path / "r.html")) == 0
    assert db.read_bytes() == before
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    assert run_cli("audit", "verify", "--db", str(junk)) == 1
    assert "not a readable audit database" in capsys.readouterr().err
    with AuditLog(db, read_only=True) as ro:
        assert ro.count() == 3 and ro.verify().ok
        with pytest.raises(sqlite3.OperationalError):
            ro.record(AuditKind.SCAN)


def test_a_kind_outside_the_enum_is_refused(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite") as log:
        with pytest.raises(ValueError, match="is not a valid AuditKind"):
            log.record("note")  # type: ignore[arg-type]  # the runtime check behind the type
        assert log.count() == 0
