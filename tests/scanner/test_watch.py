"""The folder watcher: real folders, real watchdog events, the real worker pool.

Nothing here mocks the observer: files are written to a watched temp folder and the
watcher must notice them itself. One worker pool is shared by the module's tests (the
way the GUI shares its pool with the watcher), so workers compile patterns once.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from unprivileged import ordinary_account, run_python, scratch_for

from scanner.act import actions
from scanner.cli import main as cli
from scanner.config.settings import Config, load_config
from scanner.model import DocOutcome
from scanner.pipeline.pool import WorkerPool
from scanner.pipeline.protocol import UnfinishedOutcome, WorkerFailure
from scanner.pipeline.worker import ScanOptions
from scanner.record.audit import AuditLog
from scanner.watch import stability
from scanner.watch.folders import is_ignored, is_ignored_dir
from scanner.watch.journal import WatchJournal, journal_path_for
from scanner.watch.receipts import RECEIPT_SUFFIX
from scanner.watch.stability import EDITOR_LOCK_MAX_AGE_S, editor_lock
from scanner.watch.status import read_status, status_path_for
from scanner.watch.watcher import Watcher, WatchError

ROOT = Path(__file__).resolve().parents[2]
# watchdog (inotify) warns when a folder created with its sub-folders at once gets its
# watch twice; harmless, but the suite turns warnings into errors (in watchdog's thread).
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

SECRET = "aws_access_key_id = AKIAZ7QW3ERT5YUI2OPL"  # a pattern example: blocked (secret)
CLEAN = "Minutes of the weekly planning meeting. Next review on Thursday.\n"

CONFIG = """
[scan]
jobs = 2
[audit]
database = "state/audit.sqlite"
hash_key_file = "state/hash.key"
[quarantine]
folder = "quarantine"
[destinations.acme]
folder = "released/acme"
display_name = "Acme Pharma"
[destinations.borealis]
folder = "released/borealis"
[watch]
stable_seconds = {stable}
poll_interval = {poll}
[[watch.folders]]
path = "outgoing"
destination = "acme"
"""


# ---------------------------------------------------------------------- fixtures and helpers


def _threads() -> set[threading.Thread]:
    # watchdog's inotify reader is a process-wide singleton that lives for the process
    # (InotifyFD.get_instance); it is not ours to stop.
    try:
        from watchdog.observers.inotify_c import InotifyFD
    except ImportError:  # not Linux
        InotifyFD = ()  # type: ignore[assignment,misc]
    return {t for t in threading.enumerate() if not isinstance(t, InotifyFD)}


def thread_leak_check() -> Iterator[None]:
    """Every thread an in-process test starts is joined by the end of it (body of the fixtures)."""
    before = _threads()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _threads() - before:
        time.sleep(0.05)
    leaked = _threads() - before
    assert not leaked, f"threads left running: {sorted(t.name for t in leaked)}"


@pytest.fixture(autouse=True)
def no_thread_leaks() -> Iterator[None]:
    yield from thread_leak_check()


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(ScanOptions(hash_key=b"watch-test-key"), jobs=2)
    yield p
    p.close()


@dataclass
class Env:
    root: Path
    config: Config

    @property
    def outgoing(self) -> Path:
        return self.root / "outgoing"

    @property
    def released(self) -> Path:
        return self.root / "released" / "acme"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def config_file(self) -> Path:
        return self.root / "clearance.toml"

    def audit_rows(self, kind: str | None = None) -> list[Any]:
        db = self.config.audit.database
        if not db.exists():
            return []
        with AuditLog(db, read_only=True) as a:
            return a.query(kind=kind)

    def actions_for(self, path: Path) -> list[Any]:
        return [r for r in self.audit_rows("action") if r.data.get("from") == str(path)]

    def scans_for(self, path: Path) -> list[Any]:
        return [r for r in self.audit_rows("scan") if r.path == str(path)]

    def journal_items(self, path: Path | None = None) -> list[Any]:
        j = WatchJournal(journal_path_for(self.config))
        try:
            return j.items(str(path) if path else None)
        finally:
            j.close()


def make_env(
    root: Path,
    stable: float = 0.4,
    poll: float = 0.1,
    extra: str = "",
    make: tuple[str, ...] = ("outgoing", "released/acme", "released/borealis"),
) -> Env:
    for d in make:
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "clearance.toml").write_text(CONFIG.format(stable=stable, poll=poll) + extra, encoding="utf-8")
    return Env(root, load_config(root / "clearance.toml"))


@pytest.fixture()
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


@pytest.fixture()
def running(env: Env, pool: WorkerPool) -> Iterator[Callable[..., Watcher]]:
    """Start watchers over ``env`` sharing the module pool; every one is stopped at the end."""
    started: list[Watcher] = []

    def start(**kw: Any) -> Watcher:
        kw.setdefault("rescan_interval", 3600.0)  # prove the events work: no periodic re-walk
        w = Watcher(env.config, pool=pool, **kw)
        w.start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def wait_for(cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def drop(folder: Path, name: str, text: str) -> Path:
    """Write a file the way a copy does: to a temp name, then renamed in (a 'moved' event)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{name}.part"
    tmp.write_text(text, encoding="utf-8")
    final = folder / name
    os.replace(tmp, final)
    return final


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def done(env: Env, path: Path, n: int = 1) -> bool:
    """``n`` moves of ``path`` recorded, the file gone from the folder, and the watcher's journal closed."""
    if path.exists() or len(env.actions_for(path)) < n:
        return False
    items = env.journal_items(path)
    return len(items) >= n and items[-1].state == "done"


# ---------------------------------------------------------------------- pure pieces


@pytest.mark.parametrize(
    "name",
    [
        "~$port.docx",
        "~$Budget.xlsx",
        ".~lock.report.docx#",
        "x.tmp",
        "X.TMP",
        "film.part",
        "setup.crdownload",
        ".DS_Store",
        "Thumbs.db",
        "THUMBS.DB",
        "desktop.ini",
        "Desktop.ini",
        "report.pdf.clearance.txt",
        ".clearance-receipt-1a2b.tmp",
        "._report.pdf",
        "notes.txt~",
        ".notes.txt.swp",
    ],
)
def test_temp_lock_and_os_files_are_ignored(name: str) -> None:
    assert is_ignored(name)


@pytest.mark.parametrize(
    "name",
    ["report.pdf", "tmp.pdf", "part 2.docx", "desktop.ini.pdf", "clearance.txt", "Thumbs.db.xlsx", "~report.pdf"],
)
def test_ordinary_names_are_taken(name: str) -> None:
    assert not is_ignored(name)


def test_ignored_folders() -> None:
    assert is_ignored_dir("$RECYCLE.BIN") and is_ignored_dir(".Trash-1000") and is_ignored_dir(".clearance-ab.part")
    assert not is_ignored_dir("Batch records")


def test_editor_lock_files_beside_a_document(tmp_path: Path) -> None:
    doc = tmp_path / "report.docx"
    doc.write_bytes(b"x")
    assert editor_lock(doc) is None
    (tmp_path / "~$port.docx").write_bytes(b"owner")  # Word: first two characters replaced
    assert editor_lock(doc) == tmp_path / "~$port.docx"
    (tmp_path / "~$port.docx").unlink()
    (tmp_path / ".~lock.report.docx#").write_bytes(b"owner")  # LibreOffice
    assert editor_lock(doc) == tmp_path / ".~lock.report.docx#"
    # a lock older than the grace period is stale (the editor crashed): not waited for
    assert editor_lock(doc, now=time.time() + EDITOR_LOCK_MAX_AGE_S + 10) is None


def test_watcher_needs_watched_folders(tmp_path: Path, pool: WorkerPool) -> None:
    (tmp_path / "c.toml").write_text('[destinations.acme]\nfolder = "r"\n', encoding="utf-8")
    with pytest.raises(WatchError, match="no watched folders"):
        Watcher(load_config(tmp_path / "c.toml"), pool=pool)
    assert cli.main(["watch", "--config", str(tmp_path / "c.toml")]) == 2


# ---------------------------------------------------------------------- the flow


def test_clean_file_is_released_with_receipt_audit_and_journal(env: Env, running: Callable[..., Watcher]) -> None:
    events: list[Any] = []
    w = running(on_event=events.append)
    src = drop(env.outgoing, "minutes.txt", CLEAN)
    wait_for(lambda: done(env, src), what="release")
    released = env.released / "minutes.txt"
    assert released.read_text(encoding="utf-8") == CLEAN
    [action] = env.actions_for(src)
    assert action.data["op"] == "release" and action.data["to"] == str(released)
    assert action.source == "watcher" and action.destination == "acme"
    [scan] = env.scans_for(src)
    assert scan.verdict == "allow" and scan.sha256 == hashlib.sha256(CLEAN.encode()).hexdigest()
    receipt = (env.outgoing / ("minutes.txt" + RECEIPT_SUFFIX)).read_text(encoding="utf-8")
    assert "RELEASED to Acme Pharma" in receipt and f"Audit reference: {action.seq}" in receipt
    [item] = env.journal_items(src)
    assert (item.state, item.outcome, item.verdict, item.target) == ("done", "released", "allow", str(released))
    assert item.sha256 == scan.sha256
    assert any(e.kind == "released" and e.path == str(src) for e in events)
    st = w.status()
    assert st.outcomes["released"] == 1 and st.processed["allow"] == 1 and st.folders[0].state == "ok"


def test_sensitive_file_is_quarantined_and_the_user_is_told_why(
    env: Env, running: Callable[..., Watcher], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="clearance")
    running()
    src = drop(env.outgoing, "keys.txt", f"deployment notes\n{SECRET}\n")
    wait_for(lambda: done(env, src), what="quarantine")
    assert (env.quarantine / "keys.txt").exists() and not (env.released / "keys.txt").exists()
    [action] = env.actions_for(src)
    assert action.data["op"] == "quarantine" and action.verdict == "block"
    receipt = (env.outgoing / ("keys.txt" + RECEIPT_SUFFIX)).read_text(encoding="utf-8")
    assert "NOT SENT to Acme Pharma" in receipt and "quarantine" in receipt
    assert "Why:" in receipt and "AKIAZ7QW3ERT5YUI2OPL" not in receipt  # masked values only
    assert "AKIAZ7QW3ERT5YUI2OPL" not in status_path_for(env.config).read_text(encoding="utf-8")
    assert any("file_quarantined" in r.getMessage() for r in caplog.records)
    assert "AKIAZ7QW3ERT5YUI2OPL" not in caplog.text


def test_polling_observer_for_shares_without_change_events(env: Env, running: Callable[..., Watcher]) -> None:
    w = running(polling=True)
    src = drop(env.outgoing / "sub", "polled.txt", CLEAN)
    wait_for(lambda: done(env, src), what="release seen by polling")
    assert w.status().outcomes["released"] == 1


def test_files_in_subfolders_are_taken_and_receipts_sit_beside_them(env: Env, running: Callable[..., Watcher]) -> None:
    running()
    src = drop(env.outgoing / "batch 7" / "day 2", "summary.txt", CLEAN)
    wait_for(lambda: done(env, src), what="release from a subfolder")
    assert (env.released / "summary.txt").exists()
    assert (src.parent / ("summary.txt" + RECEIPT_SUFFIX)).exists()


def test_catch_up_takes_files_dropped_while_not_running(env: Env, running: Callable[..., Watcher]) -> None:
    old = [drop(env.outgoing, f"old-{i}.txt", CLEAN + str(i)) for i in range(5)]
    old.append(drop(env.outgoing / "sub", "deep.txt", SECRET))
    w = running()
    assert w.wait_idle(60)
    for p in old:
        assert len(env.actions_for(p)) == 1 and not p.exists()
    assert (env.quarantine / "deep.txt").exists()


def test_ignored_files_stay_untouched(env: Env, running: Callable[..., Watcher]) -> None:
    running()
    ignored = [
        "~$port.docx",
        ".~lock.report.docx#",
        "download.tmp",
        "movie.part",
        "setup.crdownload",
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "earlier.pdf.clearance.txt",
    ]
    for name in ignored:
        (env.outgoing / name).write_text("not a document", encoding="utf-8")
    src = drop(env.outgoing, "real.txt", CLEAN)
    wait_for(lambda: done(env, src), what="the real file")
    time.sleep(1.0)  # well past stable_seconds: the others would have been taken by now
    for name in ignored:
        assert (env.outgoing / name).read_text(encoding="utf-8") == "not a document", name
    assert [i.path for i in env.journal_items()] == [str(src)]
    assert {r.path for r in env.audit_rows("scan")} == {str(src)}


def test_a_link_is_never_followed(env: Env, running: Callable[..., Watcher], tmp_path_factory: Any) -> None:
    secret = tmp_path_factory.mktemp("private") / "payroll.txt"
    secret.write_text(CLEAN, encoding="utf-8")
    w = running()
    link = env.outgoing / "payroll.txt"
    try:
        link.symlink_to(secret)
    except OSError:
        pytest.skip("cannot create symbolic links here (Windows without developer mode)")
    receipt = env.outgoing / ("payroll.txt" + RECEIPT_SUFFIX)
    wait_for(receipt.exists, what="a receipt for the link")
    assert "links are never sent" in receipt.read_text(encoding="utf-8")
    assert link.is_symlink() and secret.exists() and not (env.released / "payroll.txt").exists()
    assert not env.scans_for(link) and w.status().outcomes["skipped"] == 1
    # A linked folder: the files seen through it are not taken either.
    (env.outgoing / "shared").symlink_to(secret.parent, target_is_directory=True)
    through = env.outgoing / "shared" / "payroll.txt"
    time.sleep(1.0)
    w._folders.walk(str(env.outgoing / "shared"))  # as a periodic re-walk that reached it would
    wait_for(lambda: w.status().outcomes["skipped"] == 2, what="the file behind the linked folder refused")
    assert secret.exists() and not env.scans_for(through) and not (env.released / "payroll.txt").exists()
    assert sorted(p.name for p in secret.parent.iterdir()) == ["payroll.txt"]  # nothing written through it


def test_file_written_in_50_chunks_is_scanned_once(env: Env, running: Callable[..., Watcher]) -> None:
    running()
    path = env.outgoing / "chunks.txt"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(50):
            fh.write(f"line {i}: {CLEAN}")
            fh.flush()
            time.sleep(0.002)
    wait_for(lambda: done(env, path), what="release")
    assert len(env.scans_for(path)) == 1 and len(env.actions_for(path)) == 1
    assert (env.released / "chunks.txt").read_text(encoding="utf-8").count("\n") == 50


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_slow_writer_is_scanned_once_after_it_finishes(tmp_path: Path, pool: WorkerPool) -> None:
    env = make_env(tmp_path, stable=1.0, poll=0.1)
    w = Watcher(env.config, pool=pool, rescan_interval=3600.0)
    w.start()
    try:
        path = env.outgoing / "slow.txt"
        pieces = [f"part {i}: {CLEAN}" for i in range(8)]
        with open(path, "w", encoding="utf-8") as fh:
            for piece in pieces:  # 8 pieces over ~4 s: pauses shorter than stable_seconds
                fh.write(piece)
                fh.flush()
                time.sleep(0.5)
                assert not env.scans_for(path), "scanned while still being written"
        finished = time.time()
        wait_for(lambda: done(env, path), what="release")
    finally:
        w.stop()
    [scan] = env.scans_for(path)
    assert scan.sha256 == hashlib.sha256("".join(pieces).encode()).hexdigest()
    assert scan.time.timestamp() >= finished
    assert (env.released / "slow.txt").read_text(encoding="utf-8") == "".join(pieces)


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_file_whose_size_keeps_changing_is_not_taken(env: Env, running: Callable[..., Watcher]) -> None:
    w = running()
    path = env.outgoing / "growing.txt"
    stop_at = time.monotonic() + 2.5
    with open(path, "w", encoding="utf-8") as fh:
        while time.monotonic() < stop_at:  # grows every 0.1 s: never stable for 0.4 s
            fh.write(CLEAN)
            fh.flush()
            time.sleep(0.1)
            assert str(path) in w.waiting_reasons()
    assert not env.scans_for(path) and not env.journal_items(path)
    wait_for(lambda: done(env, path), what="release once it stopped growing")
    assert len(env.scans_for(path)) == 1


def test_locked_file_is_retried_not_failed(
    env: Env, running: Callable[..., Watcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Windows reports while a writer holds the file without read sharing.
    locked = {"on": True}
    real = stability.open_problem

    def sharing_violation(path: Path) -> str | None:
        return "locked by another program" if locked["on"] and path.name == "held.txt" else real(path)

    monkeypatch.setattr(stability, "open_problem", sharing_violation)
    w = running()
    path = drop(env.outgoing, "held.txt", CLEAN)
    wait_for(lambda: w.waiting_reasons().get(str(path)) == "locked by another program", what="lock noticed")
    time.sleep(1.0)
    assert path.exists() and not env.journal_items(path) and not env.scans_for(path)
    assert w.status().outcomes["failed"] == 0 and not w.status().errors
    locked["on"] = False
    wait_for(lambda: done(env, path), timeout=30, what="release after the lock is gone")


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_document_open_in_an_editor_waits_for_it_to_close(env: Env, running: Callable[..., Watcher]) -> None:
    w = running()
    (env.outgoing / ".~lock.plan.txt#").write_text("user,host", encoding="utf-8")
    path = drop(env.outgoing, "plan.txt", CLEAN)
    wait_for(lambda: "open in an editor" in w.waiting_reasons().get(str(path), ""), what="editor lock noticed")
    (env.outgoing / ".~lock.plan.txt#").unlink()
    wait_for(lambda: done(env, path), what="release after the editor closed")


def test_same_name_dropped_again_with_new_content_is_a_new_item(env: Env, running: Callable[..., Watcher]) -> None:
    running()
    first = drop(env.outgoing, "weekly.txt", CLEAN)
    wait_for(lambda: done(env, first), what="first release")
    second = drop(env.outgoing, "weekly.txt", CLEAN + "Addendum.\n")
    wait_for(lambda: done(env, second, n=2), what="second release")
    assert (env.released / "weekly.txt").read_text(encoding="utf-8") == CLEAN
    assert (env.released / "weekly (1).txt").read_text(encoding="utf-8") == CLEAN + "Addendum.\n"
    items = env.journal_items(first)
    assert [i.state for i in items] == ["done", "done"] and items[0].sha256 != items[1].sha256


def test_restart_never_processes_a_done_file_again(env: Env, pool: WorkerPool) -> None:
    src = drop(env.outgoing, "once.txt", CLEAN)
    w = Watcher(env.config, pool=pool)
    w.start()
    try:
        wait_for(lambda: done(env, src), what="release")
    finally:
        w.stop()
    rows = len(env.audit_rows())
    w = Watcher(env.config, pool=pool)
    w.start()
    try:
        assert w.wait_idle(30)
    finally:
        w.stop()
    assert len(env.audit_rows()) == rows
    assert [i.state for i in env.journal_items(src)] == ["done"]


def test_crash_after_release_with_source_kept_is_reconciled_not_redone(env: Env, pool: WorkerPool) -> None:
    """The journal said "acting" when the process died; the move had completed but the source
    could not be deleted (Windows: open elsewhere). On restart: done, and never sent twice."""
    src = drop(env.outgoing, "kept.txt", CLEAN)
    st = src.stat()
    j = WatchJournal(journal_path_for(env.config))
    item = j.begin(str(src), "acme", st.st_size, st.st_mtime_ns, st.st_ino)
    j.advance(item.id, "acting", sha256=sha(src), verdict="allow")
    j.close()
    from scanner.pipeline.scan import scan_file_inline

    [result] = scan_file_inline(src, ScanOptions(hash_key=b"k"), destination="acme")
    with AuditLog(env.config.audit.database, source="watcher") as audit:
        actions.release(src, result, "acme", env.config, audit, keep_source=True)
    w = Watcher(env.config, pool=pool)
    w.start()
    try:
        assert w.wait_idle(30)
        time.sleep(0.6)  # past stable_seconds: it would be taken by now
        assert w.wait_idle(30)
    finally:
        w.stop()
    assert src.exists() and len(env.actions_for(src)) == 1
    assert not (env.released / "kept (1).txt").exists()
    [it] = env.journal_items(src)
    assert (it.state, it.outcome, it.source_kept) == ("done", "released", True)
    assert "completed after the watcher was interrupted" in (env.outgoing / ("kept.txt" + RECEIPT_SUFFIX)).read_text(
        encoding="utf-8"
    )


def test_the_same_watcher_can_be_stopped_and_started_again(env: Env, pool: WorkerPool) -> None:
    w = Watcher(env.config, pool=pool, rescan_interval=3600.0)
    for round_ in range(2):
        w.start()
        try:
            src = drop(env.outgoing, f"round-{round_}.txt", CLEAN + str(round_))
            wait_for(lambda src=src: done(env, src), what=f"release in round {round_}")
        finally:
            w.stop()
    assert w.status().state == "stopped" and w.status().outcomes["released"] == 2


def test_interrupted_scan_is_taken_again_on_restart(env: Env, pool: WorkerPool) -> None:
    src = drop(env.outgoing, "again.txt", CLEAN)
    st = src.stat()
    j = WatchJournal(journal_path_for(env.config))
    item = j.begin(str(src), "acme", st.st_size, st.st_mtime_ns, st.st_ino)
    j.advance(item.id, "scanning", attempts=1)
    j.close()
    w = Watcher(env.config, pool=pool)
    w.start()
    try:
        wait_for(lambda: done(env, src), what="release after restart")
    finally:
        w.stop()
    [it] = env.journal_items(src)  # the same item, finished
    assert it.id == item.id and it.state == "done"


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_missing_release_folder_is_retried_until_it_returns(tmp_path: Path, pool: WorkerPool) -> None:
    env = make_env(tmp_path, make=("outgoing",))
    w = Watcher(env.config, pool=pool, retry_delay=0.3)
    w.start()
    try:
        src = drop(env.outgoing, "later.txt", CLEAN)
        receipt = env.outgoing / ("later.txt" + RECEIPT_SUFFIX)
        wait_for(receipt.exists, what="a 'not sent yet' receipt")
        assert "NOT SENT YET to Acme Pharma" in receipt.read_text(encoding="utf-8")
        assert any(e.kind == "retrying" for e in w.status().errors) and src.exists()
        assert "release folder of Acme Pharma is not available" in w.waiting_reasons()[str(src)]
        time.sleep(1.5)  # several retry periods: still no scan, no audit spam
        assert not env.scans_for(src) and src.exists()
        env.released.mkdir(parents=True)
        wait_for(lambda: done(env, src), what="release once the folder is back")
        assert "RELEASED" in receipt.read_text(encoding="utf-8")
    finally:
        w.stop()


def test_folder_that_disappears_is_reported_and_watched_again(env: Env, running: Callable[..., Watcher]) -> None:
    w = running(supervise_interval=0.2)
    first = drop(env.outgoing, "before.txt", CLEAN)
    wait_for(lambda: done(env, first), what="first release")
    env.outgoing.rename(env.root / "outgoing-moved-away")
    wait_for(lambda: w.status().folders[0].state == "missing", what="folder reported missing")
    assert any(e.kind == "folder" and "missing" in e.detail for e in w.status().errors)
    assert w.running and w.fatal is None
    env.outgoing.mkdir()
    wait_for(lambda: w.status().folders[0].state == "ok", what="folder watched again")
    # Dropped after it came back, with no periodic re-walk: only a new watch can see it.
    after = drop(env.outgoing, "after.txt", CLEAN)
    wait_for(lambda: done(env, after), what="release from the re-created folder")


def test_folder_missing_at_start_is_picked_up_when_it_appears(tmp_path: Path, pool: WorkerPool) -> None:
    env = make_env(tmp_path, make=("released/acme",))
    w = Watcher(env.config, pool=pool, supervise_interval=0.2, rescan_interval=3600.0)
    w.start()
    try:
        wait_for(lambda: w.status().folders[0].state == "missing", what="missing folder reported")
        drop(env.outgoing, "early.txt", CLEAN)  # creates the folder with a file already in it
        wait_for(lambda: done(env, env.outgoing / "early.txt"), what="release after the folder appeared")
    finally:
        w.stop()


_UNREADABLE_FOLDER_RUN = """
import time
from pathlib import Path
from scanner.config.settings import load_config
from scanner.pipeline.pool import WorkerPool
from scanner.pipeline.worker import ScanOptions
from scanner.watch.watcher import Watcher

def wait_for(cond, what):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit("timed out waiting for " + what)

for d in ("outgoing", "released/acme", "released/borealis"):
    Path(d).mkdir(parents=True, exist_ok=True)
Path("clearance.toml").write_text(CONFIG, encoding="utf-8")
config = load_config(Path("clearance.toml"))
with WorkerPool(ScanOptions(), jobs=1) as pool:
    w = Watcher(config, pool=pool, supervise_interval=0.2, rescan_interval=3600.0)
    w.start()
    try:
        Path("outgoing").chmod(0)
        try:
            wait_for(lambda: w.status().folders[0].state == "permission-denied", "permission problem reported")
            assert w.running and w.fatal is None
        finally:
            Path("outgoing").chmod(0o755)
        wait_for(lambda: w.status().folders[0].state == "ok", "folder readable again")
    finally:
        w.stop()
print("ok")
"""


def test_unreadable_folder_is_reported_not_fatal() -> None:
    """For real, as an ordinary user (dropped from root in CI): chmod 000 takes the folder away."""
    account = ordinary_account()
    with scratch_for(account) as work:
        code = f"CONFIG = {CONFIG.format(stable=0.4, poll=0.1)!r}\n" + _UNREADABLE_FOLDER_RUN
        done_run = run_python(account, work, code)
    assert done_run.returncode == 0 and done_run.stdout.strip().endswith("ok"), done_run.stderr[-3000:]


def test_folder_that_loses_permission_is_reported_and_retried(
    env: Env, running: Callable[..., Watcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root (this suite's CI) chmod cannot take a folder away, so the listing itself is
    refused the way the OS refuses it; the test above does it for real as a normal user."""
    denied = {"on": False}
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if denied["on"] and os.fspath(path) == str(env.outgoing):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    w = running(supervise_interval=0.2)
    denied["on"] = True
    wait_for(lambda: w.status().folders[0].state == "permission-denied", what="permission problem reported")
    assert "no permission" in w.status().folders[0].detail and w.running
    assert any("permission-denied" in e.detail for e in w.status().errors)
    denied["on"] = False
    wait_for(lambda: w.status().folders[0].state == "ok", what="folder readable again")
    src = drop(env.outgoing, "after-permission.txt", CLEAN)
    wait_for(lambda: done(env, src), what="release after permission came back")


def test_pause_holds_files_and_resume_takes_them(env: Env, running: Callable[..., Watcher]) -> None:
    w = running()
    w.pause()
    assert w.status().state == "paused"
    src = drop(env.outgoing, "held.txt", CLEAN)
    time.sleep(1.5)
    assert src.exists() and not env.scans_for(src)
    w.resume()
    wait_for(lambda: done(env, src), what="release after resume")


class WorkerDiesOnce:
    """The shared pool, except that the first scan of ``victim`` comes back as a dead worker
    (what a stop signal sent to the whole process group does a moment before the watcher hears it)."""

    def __init__(self, pool: WorkerPool, victim: str, failure: WorkerFailure = WorkerFailure.KILLED):
        self.pool, self.jobs, self.victim, self.calls, self.failure = pool, pool.jobs, victim, 0, failure

    def submit(self, path: Any, display: str | None = None, priority: int = 0) -> Future[list[DocOutcome]]:
        if Path(path).name == self.victim:
            self.calls += 1
            if self.calls == 1:
                fut: Future[list[DocOutcome]] = Future()
                fut.set_result(
                    [
                        UnfinishedOutcome(
                            str(display),
                            "text",
                            "",
                            0,
                            errors=["scanner worker was killed by signal 2 (possibly over the 768 MiB memory limit)"],
                            failure=self.failure,
                        )
                    ]
                )
                return fut
        return self.pool.submit(path, display, priority)


def test_a_dead_worker_gets_a_second_scan_before_any_verdict(env: Env, pool: WorkerPool) -> None:
    flaky = WorkerDiesOnce(pool, "innocent.txt")
    w = Watcher(env.config, pool=flaky, rescan_interval=3600.0)  # type: ignore[arg-type]
    w.start()
    try:
        src = drop(env.outgoing, "innocent.txt", CLEAN)
        wait_for(lambda: done(env, src), what="release after the second scan")
    finally:
        w.stop()
    assert flaky.calls == 2 and (env.released / "innocent.txt").exists()
    [scan] = env.scans_for(src)
    assert scan.verdict == "allow" and not scan.data.get("error")


def test_a_file_that_times_out_is_not_scanned_again(env: Env, pool: WorkerPool) -> None:
    """The file's own problem (a timeout, the memory limit) would repeat: it is decided at once, unscannable."""
    slow = WorkerDiesOnce(pool, "slow.txt", WorkerFailure.TIMEOUT)
    w = Watcher(env.config, pool=slow, rescan_interval=3600.0)  # type: ignore[arg-type]
    w.start()
    try:
        src = drop(env.outgoing, "slow.txt", CLEAN)
        wait_for(lambda: done(env, src), what="quarantine after one scan")
    finally:
        w.stop()
    assert slow.calls == 1 and (env.quarantine / "slow.txt").exists()
    [scan] = env.scans_for(src)
    assert scan.verdict == "block"


def test_a_second_watcher_on_the_same_audit_trail_is_refused(
    env: Env, running: Callable[..., Watcher], pool: WorkerPool
) -> None:
    running()
    with pytest.raises(WatchError, match="already running"):
        Watcher(env.config, pool=pool).start()


# ---------------------------------------------------------------------- status and the service


def test_status_file_and_status_command(
    env: Env, running: Callable[..., Watcher], capsys: pytest.CaptureFixture[str]
) -> None:
    w = running(status_interval=0.2)
    src = drop(env.outgoing, "report.txt", CLEAN)
    wait_for(lambda: done(env, src), what="release")
    wait_for(
        lambda: (read_status(status_path_for(env.config)) or w.status()).outcomes.get("released"),
        what="status file updated",
    )
    assert cli.main(["status", "--config", str(env.config_file)]) == 0
    out = capsys.readouterr().out
    assert "Clearance watcher: running" in out and str(env.outgoing) in out and "-> acme" in out
    assert "released" in out and str(src) in out and "Errors: none" in out
    assert cli.main(["watch", "--status", "--format", "json", "--config", str(env.config_file)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["live"] is True and data["outcomes"]["released"] == 1 and data["folders"][0]["state"] == "ok"
    w.stop()
    assert cli.main(["status", "--config", str(env.config_file)]) == 1
    assert "not running" in capsys.readouterr().out


def test_status_command_without_a_watcher(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--config", str(env.config_file)]) == 1
    assert "not running" in capsys.readouterr().out


def test_status_warns_about_placeholder_label_ids_until_they_are_configured(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16: labels written with the built-in placeholder ids mean nothing to Purview."""
    assert cli.main(["status", "--config", str(env.config_file)]) == 1
    out = capsys.readouterr().out
    assert "warning: [labels] site_id is the built-in placeholder" in out
    assert "uses the built-in placeholder GUID" in out
    assert cli.main(["status", "--format", "json", "--config", str(env.config_file)]) == 1
    assert any("site_id" in w for w in json.loads(capsys.readouterr().out)["warnings"])


def start_service(env: Env, *extra: str) -> subprocess.Popen[bytes]:
    """``clearance watch`` as a separate process (the way a service manager runs it)."""
    (env.root / "state").mkdir(exist_ok=True)
    with open(env.root / "state" / "service.out", "ab") as out:  # the child keeps its own handle
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scanner",
                "watch",
                "--config",
                str(env.config_file),
                "--log-format",
                "json",
                "--log-file",
                str(env.root / "state" / "watch.log"),
                *extra,
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def service_output(env: Env) -> str:
    p = env.root / "state" / "service.out"
    return p.read_text(encoding="utf-8", errors="replace") if p.exists() else ""


def service_running(env: Env) -> bool:
    try:
        st = read_status(status_path_for(env.config))
    except ValueError:
        return False
    return st is not None and st.state == "running" and st.is_live()


def count_actions(env: Env) -> int:
    db = env.config.audit.database
    if not db.exists():
        return 0
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return int(con.execute("SELECT count(*) FROM events WHERE kind = 'action'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


@pytest.mark.skipif(os.name == "nt", reason="SIGTERM is a POSIX signal (Windows: Ctrl-C/Ctrl-Break, see README)")
def test_sigterm_stops_the_service_cleanly(env: Env) -> None:
    proc = start_service(env)
    try:
        wait_for(lambda: service_running(env) or proc.poll() is not None, timeout=120, what="service start")
        assert proc.poll() is None, service_output(env)
        files = [drop(env.outgoing, f"f{i:02d}.txt", CLEAN + str(i)) for i in range(30)]
        wait_for(lambda: count_actions(env) >= 3, timeout=120, what="some files done")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, service_output(env)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    status = read_status(status_path_for(env.config))
    assert status is not None and status.state == "stopped"
    log = [json.loads(line) for line in (env.root / "state" / "watch.log").read_text(encoding="utf-8").splitlines()]
    assert any(r.get("event") == "stop_requested" and r.get("signal") == "SIGTERM" for r in log)
    assert any(r.get("event") == "watch_stopped" for r in log)
    # Nothing left half-done: every file is either untouched in the folder or finished.
    journal = WatchJournal(journal_path_for(env.config))
    try:
        for item in journal.unfinished():
            assert item.state in ("seen", "scanning", "decided") and Path(item.path).exists()
    finally:
        journal.close()
    with AuditLog(env.config.audit.database, read_only=True) as a:
        assert a.verify().ok
    for f in files:
        assert f.exists() != (len(env.actions_for(f)) == 1)


# ---------------------------------------------------------------------- service definitions


SERVICE = ROOT / "resources" / "service"


def _parses(argv: list[str]) -> Any:
    args = cli.build_parser().parse_args(argv)
    assert args.command == "watch" and args.func is not None and args.config is not None
    return args


def test_systemd_unit_runs_the_watcher_and_stops_it_with_sigterm() -> None:
    import configparser
    import shlex

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(SERVICE / "clearance-watch.service", encoding="utf-8")
    svc = unit["Service"]
    argv = shlex.split(svc["ExecStart"])
    assert Path(argv[0]).name == "clearance"
    _parses(argv[1:])
    assert svc["KillSignal"] == "SIGTERM" and svc["KillMode"] == "mixed"
    assert float(svc["TimeoutStopSec"]) > 120  # longer than the default per-file timeout


def test_launchd_plist_runs_the_watcher() -> None:
    import plistlib

    with open(SERVICE / "com.clearance.watch.plist", "rb") as fh:
        plist = plistlib.load(fh)
    assert plist["Label"] == "com.clearance.watch" and plist["RunAtLoad"] is True
    args = _parses(plist["ProgramArguments"][1:])
    assert args.log_format == "json" and args.log_file is not None
    assert plist["ExitTimeOut"] > 120


def test_windows_task_runs_the_watcher() -> None:
    import shlex
    import xml.etree.ElementTree as ET

    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    task = ET.parse(SERVICE / "clearance-watch-task.xml").getroot()
    command = task.findtext("t:Actions/t:Exec/t:Command", namespaces=ns) or ""
    arguments = task.findtext("t:Actions/t:Exec/t:Arguments", namespaces=ns) or ""
    assert command.lower().endswith("clearance.exe")
    _parses(shlex.split(arguments, posix=True))
    assert task.findtext("t:Settings/t:ExecutionTimeLimit", namespaces=ns) == "PT0S"
    assert task.findtext("t:Settings/t:MultipleInstancesPolicy", namespaces=ns) == "IgnoreNew"
    readme = (SERVICE / "README.md").read_text(encoding="utf-8")
    for name in ("clearance-watch.service", "com.clearance.watch.plist", "clearance-watch-task.xml"):
        assert name in readme
