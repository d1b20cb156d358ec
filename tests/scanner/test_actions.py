"""Release / quarantine / override: journaled moves that lose nothing, even when killed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.act import actions
from scanner.act.actions import OverrideRefused
from scanner.act.journal import Journal
from scanner.act.labelling import read_label
from scanner.act.transfer import CRASH_ENV, CRASH_POINTS, ActionError, collision_free, recover, sweep_stale_temp_files
from scanner.config.settings import Config, load_config
from scanner.decide.policy import decide
from scanner.model import DocOutcome, FileResult, Location, Verdict
from scanner.record.audit import AuditLog

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
[audit]
database = "state/audit.sqlite"
hash_key_file = "state/hash.key"
[quarantine]
folder = "quarantine"
[destinations.acme]
folder = "released/acme"
display_name = "Acme Pharma"
identifiers = [{ value = "ACM-2291", kind = "compound code" }]
[destinations.borealis]
folder = "released/borealis"
identifiers = ["BRL-0815"]
[destinations.plain]
folder = "released/plain"
policy = "lenient"
[policies.lenient]
unlabelable = "allow"
[[watch.folders]]
path = "outgoing"
destination = "acme"
"""


@dataclass
class Env:
    root: Path
    config: Config
    audit: AuditLog

    @property
    def outgoing(self) -> Path:
        return self.root / "outgoing"

    def folder(self, dest: str) -> Path:
        return self.config.destinations[dest].folder


@pytest.fixture()
def env(tmp_path: Path) -> Env:
    for d in ("outgoing", "released/acme", "released/borealis", "released/plain"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "clearance.toml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "clearance.toml")
    audit = AuditLog(config.audit.database)
    yield Env(tmp_path, config, audit)
    audit.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scanned(
    env: Env,
    path: Path,
    type_: str,
    destination: str | None,
    *,
    errors: list[str] | None = None,
    notes: dict[str, object] | None = None,
) -> FileResult:
    """What the scan pipeline would hand over: an outcome for the file as it is now."""
    o = DocOutcome(str(path), type_, sha(path), path.stat().st_size, errors=list(errors or []), notes=dict(notes or {}))
    return FileResult(o, decide(o, env.config.policy_for(destination), destination), destination)


def make_docx(path: Path, text: str = "Stability summary for batch 12.") -> Path:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph(text)
    d.save(str(path))
    return path


def stray_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".clearance-")]


# --------------------------------------------------------------------------- release


def test_release_plain_copy_moves_the_file(env: Env) -> None:
    src = env.outgoing / "report.txt"
    src.write_text("All results within specification.\n", encoding="utf-8")
    digest = sha(src)
    r = scanned(env, src, "text", "acme")
    assert r.verdict is Verdict.ALLOW
    moved = actions.release(src, r, "acme", env.config, env.audit)
    assert moved.target == env.folder("acme") / "report.txt"
    assert not src.exists() and sha(moved.target) == digest
    assert stray_files(env.folder("acme")) == []
    assert Journal(env.audit).pending() == []
    row = env.audit.query(kind="action")[-1]
    assert row.data["op"] == "release" and row.data["to"] == str(moved.target) and row.destination == "acme"
    assert env.audit.verify().ok


def test_release_writes_a_labelled_copy(env: Env) -> None:
    src = make_docx(env.outgoing / "scan.docx")
    r = scanned(env, src, "docx", "acme", notes={"pages_without_text": 1})
    assert (r.verdict, r.decision.label) == (Verdict.LABEL, "Confidential")
    moved = actions.release(src, r, "acme", env.config, env.audit)
    assert not src.exists()
    got = read_label(moved.target)
    assert got is not None and got.name == "Confidential"
    row = env.audit.query(kind="action")[-1]
    assert row.data["labelled"] == "Confidential" and row.data["target_sha256"] == sha(moved.target)


def test_release_never_lowers_the_files_own_higher_label(env: Env) -> None:
    """Issue 16: a downgrade needs a person's justification, so a release keeps the higher label."""
    from scanner.act.labelling import apply_label

    plain = make_docx(env.outgoing / "plain.docx")
    src = env.outgoing / "scan.docx"
    scheme = env.config.label_scheme()
    apply_label(plain, src, scheme.get("Restricted"), scheme)
    plain.unlink()
    r = scanned(env, src, "docx", "acme", notes={"pages_without_text": 1})
    assert (r.verdict, r.decision.label) == (Verdict.LABEL, "Confidential")
    moved = actions.release(src, r, "acme", env.config, env.audit)
    got = read_label(moved.target)
    assert got is not None and got.name == "Restricted"
    row = env.audit.query(kind="action")[-1]
    assert row.data["labelled"] == "Restricted"
    assert row.data["label_note"] == "kept the file's label Restricted (policy asked for Confidential)"


def test_collisions_never_overwrite(env: Env) -> None:
    folder = env.folder("plain")
    (folder / "report.pdf").write_bytes(b"old 0")
    (folder / "report (1).pdf").write_bytes(b"old 1")
    targets = []
    for i in range(2):
        src = env.outgoing / "report.pdf"
        src.write_bytes(f"%PDF-1.4 new {i}".encode())
        r = scanned(env, src, "pdf", "plain")
        targets.append(actions.release(src, r, "plain", env.config, env.audit).target.name)
    assert targets == ["report (2).pdf", "report (3).pdf"]
    assert (folder / "report.pdf").read_bytes() == b"old 0"
    assert (folder / "report (1).pdf").read_bytes() == b"old 1"
    assert collision_free(folder / ".env") == folder / ".env"


def test_keep_source_and_missing_release_folder(env: Env) -> None:
    src = env.outgoing / "a.txt"
    src.write_text("hello", encoding="utf-8")
    moved = actions.release(src, scanned(env, src, "text", "acme"), "acme", env.config, env.audit, keep_source=True)
    assert src.exists() and moved.target.exists() and moved.source_kept == "kept by request"
    env.folder("borealis").rmdir()
    with pytest.raises(ActionError, match="release folder of borealis does not exist"):
        actions.release(src, scanned(env, src, "text", "borealis"), "borealis", env.config, env.audit)
    assert src.exists()


def test_blocked_and_changed_files_are_not_released(env: Env) -> None:
    src = env.outgoing / "locked.pdf"
    src.write_bytes(b"%PDF-1.7 encrypted")
    r = scanned(env, src, "pdf", "acme", errors=["encrypted PDF"])
    with pytest.raises(ActionError, match="blocked for acme: unscannable: encrypted PDF"):
        actions.release(src, r, "acme", env.config, env.audit)
    ok = env.outgoing / "ok.txt"
    ok.write_text("v1", encoding="utf-8")
    r2 = scanned(env, ok, "text", "acme")
    ok.write_text("v2 with new content", encoding="utf-8")
    with pytest.raises(ActionError, match="changed after it was scanned"):
        actions.release(ok, r2, "acme", env.config, env.audit)
    assert src.exists() and ok.read_text(encoding="utf-8") == "v2 with new content"
    assert list(env.folder("acme").iterdir()) == []


def test_unlabelable_format_needing_a_label(env: Env) -> None:
    src = env.outgoing / "scan.txt"
    src.write_text("x", encoding="utf-8")
    notes = {"pages_without_text": 2}
    blocked = scanned(env, src, "text", "acme", notes=notes)
    assert blocked.verdict is Verdict.BLOCK  # built-in: unlabelable -> block
    allowed = scanned(env, src, "text", "plain", notes=notes)
    assert allowed.verdict is Verdict.ALLOW  # lenient: release unlabelled
    moved = actions.release(src, allowed, "plain", env.config, env.audit)
    assert moved.target.read_text(encoding="utf-8") == "x"


# --------------------------------------------------------------------------- quarantine, restore


def test_quarantine_moves_with_a_reason_record(env: Env) -> None:
    src = env.outgoing / "payroll.pdf"
    src.write_bytes(b"%PDF-1.7 encrypted payroll")
    digest = sha(src)
    r = scanned(env, src, "pdf", "acme", errors=["encrypted PDF"])
    moved = actions.quarantine(src, r, env.config, env.audit)
    assert not src.exists() and sha(moved.target) == digest
    assert moved.target.parent == env.root / "quarantine"
    record = json.loads(moved.record_path.read_text(encoding="utf-8"))
    assert moved.record_path.name == "payroll.pdf.clearance.json"
    assert record["verdict"] == "block" and record["reasons"] == ["unscannable: encrypted PDF"]
    assert record["original_path"] == str(src.resolve()) and record["sha256"] == digest
    assert record["destination"] == "acme" and record["quarantined_path"] == str(moved.target)
    row = env.audit.query(kind="action")[-1]
    assert row.data["op"] == "quarantine" and row.data["record"] == str(moved.record_path)
    # undo
    back = actions.restore(moved.record_path, env.config, env.audit)
    assert back.target == src and sha(src) == digest
    assert not moved.target.exists() and not moved.record_path.exists()
    assert env.audit.verify().ok


def test_quarantine_record_has_no_raw_values(env: Env) -> None:
    from scanner.model import Confidence, Explanation, Finding, Severity

    src = env.outgoing / "roster.csv"
    src.write_text("name,ssn\nJane,123-45-6789\n", encoding="utf-8")
    expl = Explanation(
        pattern="phi-us-ssn",
        pattern_name="US SSN",
        base_score=0.5,
        score=0.9,
        confidence=Confidence.HIGH,
    )
    f = Finding(
        "phi-us-ssn",
        "US SSN",
        "phi",
        Severity.HIGH,
        Confidence.HIGH,
        Location("table", line=2),
        5,
        16,
        "***-**-6789",
        "f" * 32,
        expl,
        "123-45-6789",
    )
    o = DocOutcome(str(src), "csv", sha(src), src.stat().st_size, findings=[f])
    r = FileResult(o, decide(o), None)
    moved = actions.quarantine(src, r, env.config, env.audit)
    assert b"123-45-6789" not in moved.record_path.read_bytes()
    assert b"***-**-6789" in moved.record_path.read_bytes()


# --------------------------------------------------------------------------- override


def test_override_needs_overridable_decision_and_justification(env: Env) -> None:
    src = make_docx(env.outgoing / "roster.docx", "Roster")
    o = DocOutcome(
        str(src),
        "docx",
        sha(src),
        src.stat().st_size,
        notes={
            "partner_hits": [{"partner": "borealis", "kind": "identifier", "masked": "***-**15", "id_hash": "1" * 32}]
        },
    )
    r = FileResult(o, decide(o, env.config.policy_for("acme"), "acme"), "acme")
    assert r.verdict is Verdict.BLOCK and not r.decision.overridable
    with pytest.raises(OverrideRefused, match="may not be released anyway"):
        actions.override(src, r, "acme", "alice", "the sponsor agreed", env.config, env.audit)
    # a document blocked for pages without text under a policy that blocks them, overridable
    strict = env.config.policy_for("acme")
    notes_o = DocOutcome(str(src), "docx", sha(src), src.stat().st_size, errors=[])
    blocked = FileResult(notes_o, decide(notes_o, strict, "acme"), "acme")
    with pytest.raises(OverrideRefused, match="is not blocked"):
        actions.override(src, blocked, "acme", "alice", "x", env.config, env.audit)
    assert src.exists() and env.audit.query(kind="override") == []


def test_override_releases_with_restricted_label_and_is_audited(env: Env) -> None:
    from scanner.model import Confidence, Explanation, Finding, Severity

    src = make_docx(env.outgoing / "ae-listing.docx", "Adverse events")
    expl = Explanation(
        pattern="phi-us-ssn",
        pattern_name="US SSN",
        base_score=0.5,
        score=0.9,
        confidence=Confidence.HIGH,
    )
    f = Finding(
        "phi-us-ssn",
        "US SSN",
        "phi",
        Severity.HIGH,
        Confidence.HIGH,
        Location("body"),
        0,
        11,
        "***-**-6789",
        "e" * 32,
        expl,
        "123-45-6789",
    )
    o = DocOutcome(str(src), "docx", sha(src), src.stat().st_size, findings=[f])
    r = FileResult(o, decide(o, env.config.policy_for("acme"), "acme"), "acme")
    assert r.verdict is Verdict.BLOCK and r.decision.overridable
    with pytest.raises(OverrideRefused, match="justification is required"):
        actions.override(src, r, "acme", "alice", "   ", env.config, env.audit)
    moved = actions.override(src, r, "acme", "alice", "Sponsor pharmacovigilance request #88", env.config, env.audit)
    assert not src.exists()
    assert read_label(moved.target).name == "Restricted"
    ov = env.audit.query(kind="override")[0]
    assert ov.data["who"] == "alice" and ov.data["justification"] == "Sponsor pharmacovigilance request #88"
    act = env.audit.query(kind="action")[-1]
    assert act.data["override"] == ov.seq and act.data["to"] == str(moved.target)


# --------------------------------------------------------------------------- partners, plan/apply


def test_sponsor_file_goes_to_that_sponsor_only(env: Env) -> None:
    pd = env.config.partner_dictionary()
    src = env.outgoing / "coa.txt"
    src.write_text("Certificate of analysis, compound ACM-2291, batch 7.\n", encoding="utf-8")

    def result_for(dest: str) -> FileResult:
        o = DocOutcome(str(src), "text", sha(src), src.stat().st_size)
        pd.scan_into(o.notes, src.read_text(encoding="utf-8"), Location("body", line=1))
        return FileResult(o, decide(o, env.config.policy_for(dest), dest), dest)

    to_b = result_for("borealis")
    assert to_b.verdict is Verdict.BLOCK
    assert "contains identifiers of sponsor Acme Pharma (compound code" in to_b.decision.reasons[0]
    with pytest.raises(ActionError, match="blocked for borealis"):
        actions.release(src, to_b, "borealis", env.config, env.audit)
    moved = actions.release(src, result_for("acme"), "acme", env.config, env.audit)
    assert moved.target.parent == env.folder("acme")


def test_a_batch_is_released_or_quarantined_file_by_file(env: Env) -> None:
    ok = env.outgoing / "ok.txt"
    ok.write_text("fine", encoding="utf-8")
    bad = env.outgoing / "bad.pdf"
    bad.write_bytes(b"%PDF broken")
    gone = env.outgoing / "gone.txt"
    gone.write_text("x", encoding="utf-8")
    results = {
        ok: scanned(env, ok, "text", "acme"),
        bad: scanned(env, bad, "pdf", "acme", errors=["truncated PDF"]),
        gone: scanned(env, gone, "text", "acme"),
    }
    gone.unlink()
    assert results[bad].verdict is Verdict.BLOCK  # text that could not be read is never released
    with pytest.raises(ActionError, match="blocked for acme"):
        actions.release(bad, results[bad], "acme", env.config, env.audit)
    with pytest.raises(ActionError, match="no longer exists"):
        actions.release(gone, results[gone], "acme", env.config, env.audit)
    assert ok.exists() and bad.exists()  # a refused action changes nothing
    released = actions.release(ok, results[ok], "acme", env.config, env.audit)
    held = actions.quarantine(bad, results[bad], env.config, env.audit, "acme")
    assert released.target == env.folder("acme") / "ok.txt" and released.target.exists() and not ok.exists()
    assert held.target == env.root / "quarantine" / "bad.pdf" and held.target.exists() and not bad.exists()
    assert Journal(env.audit).pending() == []


# --------------------------------------------------------------------------- kill tests

CHILD = r"""
import json, sys
from scanner.config.settings import load_config
from scanner.record.audit import AuditLog
from scanner.act import actions
from scanner.model import DocOutcome, FileResult
from scanner.decide.policy import decide

spec = json.loads(sys.argv[1])
config = load_config(spec["config"])
audit = AuditLog(config.audit.database, source="watcher")
o = DocOutcome(spec["path"], spec["type"], spec["sha"], spec["bytes"], errors=spec["errors"], notes=spec["notes"])
dest = spec["destination"]
r = FileResult(o, decide(o, config.policy_for(dest), dest), dest)
if spec["op"] == "release":
    actions.release(spec["path"], r, dest, config, audit)
else:
    actions.quarantine(spec["path"], r, config, audit)
print("finished")
"""


def run_child(
    env: Env,
    op: str,
    src: Path,
    type_: str,
    crash_at: str | None,
    *,
    notes: dict[str, object] | None = None,
    wait: bool = True,
) -> subprocess.Popen[str]:
    spec = {
        "config": str(env.root / "clearance.toml"),
        "path": str(src),
        "type": type_,
        "sha": sha(src),
        "bytes": src.stat().st_size,
        "errors": ["encrypted PDF"] if op == "quarantine" else [],
        "notes": notes or {},
        "destination": "acme",
        "op": op,
    }
    child_env = dict(os.environ, PYTHONPATH=str(ROOT))
    child_env.pop(CRASH_ENV, None)
    if crash_at:
        child_env[CRASH_ENV] = crash_at
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(spec)],
        cwd=str(ROOT),
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == (137 if crash_at else 0), err
        assert ("finished" in out) == (crash_at is None)
    return proc


def assert_in_exactly_one_place(env: Env, src: Path, target: Path, digest: str, *, labelled: bool = False) -> Path:
    at_source, at_target = src.exists(), target.exists()
    assert at_source != at_target, f"source exists: {at_source}, target exists: {at_target}"
    if at_source:
        assert sha(src) == digest
    elif labelled:
        assert read_label(target).name == "Confidential"
    else:
        assert sha(target) == digest
    assert stray_files(target.parent) == []
    return src if at_source else target


EXPECTED = {
    "after_copy_unjournaled": "source",
    "after_copy": "target",
    "after_rename_unjournaled": "target",
    "after_rename": "target",
    "after_remove_unjournaled": "target",
    "after_remove": "target",
}


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
@pytest.mark.parametrize("op", ["release", "release-labelled", "quarantine"])
def test_killed_at_each_step_then_recovered(env: Env, op: str, crash_at: str) -> None:
    if op == "release-labelled":
        src = make_docx(env.outgoing / "batch record.docx")
        target, type_, notes, real_op = env.folder("acme") / src.name, "docx", {"pages_without_text": 1}, "release"
    elif op == "release":
        src = env.outgoing / "batch record.txt"
        src.write_text("Batch record, all steps signed.\n" * 1000, encoding="utf-8")
        target, type_, notes, real_op = env.folder("acme") / src.name, "text", {}, "release"
    else:
        src = env.outgoing / "payroll.pdf"
        src.write_bytes(b"%PDF-1.7\n" + os.urandom(200_000))
        target, type_, notes, real_op = env.root / "quarantine" / src.name, "pdf", {}, "quarantine"
    digest = sha(src)
    run_child(env, real_op, src, type_, crash_at, notes=notes)

    journal = Journal(env.audit)
    assert len(journal.pending()) == 1  # the interrupted move is known
    outcomes = recover(journal)
    assert [o.outcome for o in outcomes] == ["rolled_back" if EXPECTED[crash_at] == "source" else "completed"]
    where = assert_in_exactly_one_place(env, src, target, digest, labelled=op == "release-labelled")
    assert where == (src if EXPECTED[crash_at] == "source" else target)
    assert outcomes[0].where == where and outcomes[0].source == src and outcomes[0].target == target
    assert journal.pending() == []
    last = env.audit.query()[-1]
    if where == target:
        assert last.kind == "action" and last.data["to"] == str(target) and last.data["recovered"]
        if real_op == "quarantine":
            record = json.loads((target.parent / (target.name + ".clearance.json")).read_text(encoding="utf-8"))
            assert record["reasons"] == ["unscannable: encrypted PDF"]
    else:
        assert last.kind == "action_rolled_back" and last.data["where"] == str(src)
    assert env.audit.verify().ok
    assert recover(journal) == []  # idempotent


def test_completed_child_leaves_nothing_to_recover(env: Env) -> None:
    src = env.outgoing / "a.txt"
    src.write_text("plain", encoding="utf-8")
    run_child(env, "release", src, "text", None)
    assert recover(Journal(env.audit)) == [] and (env.folder("acme") / "a.txt").exists() and not src.exists()


def test_corrupted_staged_copy_is_rolled_back(env: Env) -> None:
    src = env.outgoing / "data.txt"
    src.write_text("important\n" * 5000, encoding="utf-8")
    digest = sha(src)
    run_child(env, "release", src, "text", "after_copy")
    (entry,) = Journal(env.audit).pending()
    entry.temp.write_bytes(b"half")  # the disk lost part of the staged copy
    (out,) = recover(Journal(env.audit))
    assert out.outcome == "rolled_back" and sha(src) == digest
    assert not (env.folder("acme") / "data.txt").exists() and stray_files(env.folder("acme")) == []


def test_source_edited_before_recovery_is_kept(env: Env) -> None:
    src = env.outgoing / "draft.txt"
    src.write_text("version 1", encoding="utf-8")
    run_child(env, "release", src, "text", "after_rename")
    src.write_text("version 2, saved after the crash", encoding="utf-8")
    (out,) = recover(Journal(env.audit))
    assert out.outcome == "completed"
    assert src.read_text(encoding="utf-8") == "version 2, saved after the crash"
    assert (env.folder("acme") / "draft.txt").read_text(encoding="utf-8") == "version 1"
    assert "changed after the scan" in env.audit.query(kind="action")[-1].data["source_kept"]


def test_placed_file_damaged_before_recovery_needs_attention(env: Env) -> None:
    src = env.outgoing / "x.txt"
    src.write_text("content", encoding="utf-8")
    run_child(env, "release", src, "text", "after_rename")
    (env.folder("acme") / "x.txt").write_text("tampered", encoding="utf-8")
    (out,) = recover(Journal(env.audit))
    assert out.outcome == "needs_attention" and src.read_text(encoding="utf-8") == "content"
    assert env.audit.query(kind="action_problem")[0].data["where"] == str(src)


def test_real_kill_during_a_large_copy(env: Env) -> None:
    """Process.kill() at whatever instant the copy has reached: still exactly one place."""
    src = env.outgoing / "big.bin"
    with open(src, "wb") as fh:
        for _ in range(48):
            fh.write(os.urandom(1 << 20))
    digest = sha(src)
    proc = run_child(env, "quarantine", src, "unsupported", None, wait=False)
    qdir = env.root / "quarantine"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if qdir.is_dir() and any(p.name.startswith(".clearance-") for p in qdir.iterdir()):
            break
        time.sleep(0.005)
    proc.kill()
    proc.communicate(timeout=60)
    recover(Journal(env.audit))
    assert_in_exactly_one_place(env, src, qdir / "big.bin", digest)
    assert Journal(env.audit).pending() == [] and env.audit.verify().ok


def test_source_in_use_is_reported_not_lost(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to delete a file another program has open: the copy stands, the source stays."""
    src = env.outgoing / "open-in-excel.txt"
    src.write_text("numbers", encoding="utf-8")
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == src:
            raise PermissionError(13, "The process cannot access the file", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    moved = actions.release(src, scanned(env, src, "text", "acme"), "acme", env.config, env.audit)
    assert src.exists() and moved.target.read_text(encoding="utf-8") == "numbers"
    assert "source not removed" in (moved.source_kept or "")
    row = env.audit.query(kind="action")[-1]
    assert "source not removed" in row.data["source_kept"] and Journal(env.audit).pending() == []


def test_sweep_removes_only_stale_temp_records(tmp_path: Path) -> None:
    import os
    import time

    stale = tmp_path / ".clearance-dead.tmp"
    fresh = tmp_path / ".clearance-live.tmp"
    other = tmp_path / "report.pdf"
    for p in (stale, fresh, other):
        p.write_text("x", encoding="utf-8")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    assert sweep_stale_temp_files([tmp_path]) == [stale]
    assert not stale.exists() and fresh.exists() and other.exists()
