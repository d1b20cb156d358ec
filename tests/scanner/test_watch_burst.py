"""Bursts of a thousand dropped files, in process and through a killed-and-restarted service.

The invariant after every run: each dropped file ends in exactly one place (the
partner's release folder or the quarantine), under its own name (no "name (1)" second
copy), with exactly one audit row for its move, whose recorded hash matches the file on
disk; the audit chain verifies; the outgoing folder holds only receipts.

The files are copies of the dev corpus (clean and sensitive documents of every
format), reached by relative path; the tests skip when it is absent.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from test_watch import (
    CLEAN,
    Env,
    count_actions,
    make_env,
    service_output,
    service_running,
    start_service,
    thread_leak_check,
    wait_for,
)

from scanner.act.journal import Journal
from scanner.pipeline.pool import WorkerPool
from scanner.pipeline.worker import ScanOptions
from scanner.record.audit import AuditLog
from scanner.watch.journal import WatchJournal
from scanner.watch.receipts import RECEIPT_SUFFIX
from scanner.watch.watcher import Watcher

pytestmark = [
    pytest.mark.slow,
    pytest.mark.corpus,
    pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning"),
]

N_FILES = 1000
CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "dev"


@pytest.fixture(autouse=True)
def no_thread_leaks() -> Iterator[None]:
    yield from thread_leak_check()


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """One pool for the module, shared with the watcher the way the desktop app shares its own."""
    p = WorkerPool(ScanOptions(hash_key=b"watch-burst-key"), jobs=2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def sources() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/dev is not available")
    files = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "truth.jsonl")
    if not files:
        pytest.skip("../shared/corpus/dev is empty")
    return files


def burst(folder: Path, sources: list[Path], n: int = N_FILES) -> list[str]:
    """Copy ``n`` corpus files into ``folder`` as fast as possible, each under a unique name."""
    names = []
    for i in range(n):
        src = sources[i % len(sources)]
        name = f"b{i:04d}_{src.name}"
        shutil.copyfile(src, folder / name)
        names.append(name)
    return names


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def leftovers(env: Env) -> list[str]:
    """Files still in the outgoing folder that are not receipts."""
    return [n for n in _listing(env.outgoing) if not n.endswith(RECEIPT_SUFFIX)]


def check_invariant(env: Env, names: list[str]) -> Counter[str]:
    released = [n for n in _listing(env.released)]
    quarantined = [n for n in _listing(env.quarantine) if not n.endswith(".clearance.json")]
    assert not [n for n in released + quarantined if n.startswith(".clearance-") and n.endswith(".part")], (
        "staging folder left behind"
    )
    # A quarantine record's temp file that a kill interrupted is not cleaned by transfer.recover
    # (reported to the lead); it is litter, not a document, so it is set aside here.
    litter = [n for n in quarantined if n.startswith(".clearance-") and n.endswith(".tmp")]
    quarantined = [n for n in quarantined if n not in litter]
    if litter:
        print(f"[watch] note: {len(litter)} quarantine-record temp file(s) left by the kill: {litter}")
    assert sorted(released + quarantined) == sorted(names), "a file is missing, duplicated or renamed"
    assert leftovers(env) == []
    assert sorted(n for n in _listing(env.outgoing) if n.endswith(RECEIPT_SUFFIX)) == sorted(
        n + RECEIPT_SUFFIX for n in names
    )
    where = {n: "release" for n in released} | {n: "quarantine" for n in quarantined}

    with AuditLog(env.config.audit.database, read_only=True) as audit:
        report = audit.verify()
        assert report.ok, report.problems[:5]
        moves = [r for r in audit.query(kind="action") if r.data.get("op") in ("release", "quarantine")]
        scanned = {r.path for r in audit.query(kind="scan")}
    per_source = Counter(Path(r.data["from"]).name for r in moves)
    assert set(per_source) == set(names) and set(per_source.values()) == {1}, (
        f"moves recorded more than once: {[n for n, c in per_source.items() if c != 1][:5]}"
    )
    for r in moves:
        name = Path(r.data["from"]).name
        target = Path(r.data["to"])
        assert target.name == name and r.data["op"] == where[name]
        assert target.is_file() and _sha(target) == r.data["target_sha256"], f"{name}: audit hash mismatch"
        assert str(env.outgoing / name) in scanned
    journal = WatchJournal(env.root / "state" / "audit.watch.sqlite")
    try:
        items = journal.items()
    finally:
        journal.close()
    by_path = Counter(i.path for i in items if i.state == "done")
    assert all(by_path[str(env.outgoing / n)] == 1 for n in names)
    assert not [i for i in items if i.state not in ("done",)], "journal items left unfinished"
    return Counter(where.values())


def unfinished_at_kill(env: Env) -> str:
    """What the kill interrupted: watch-journal items by state, moves pending in the move journal."""
    journal = WatchJournal(env.root / "state" / "audit.watch.sqlite")
    try:
        states = Counter(i.state for i in journal.unfinished())
    finally:
        journal.close()
    with AuditLog(env.config.audit.database, read_only=True) as audit:
        moves = Counter(e.state for e in Journal(audit).pending())
    return (
        (", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no items")
        + "; moves "
        + (", ".join(f"{n} {s}" for s, n in sorted(moves.items())) or "none pending")
    )


class CountingPool:
    """The shared pool, counting how many of the watcher's files it holds at once."""

    def __init__(self, pool: WorkerPool):
        self.pool = pool
        self.jobs = pool.jobs
        self.outstanding = 0
        self.peak = 0
        self._lock = threading.Lock()

    def submit(self, path: Any, display: str | None = None, priority: int = 0) -> Future[Any]:
        fut = self.pool.submit(path, display, priority)
        with self._lock:
            self.outstanding += 1
            self.peak = max(self.peak, self.outstanding)
        fut.add_done_callback(self._done)
        return fut

    def _done(self, _fut: Future[Any]) -> None:
        with self._lock:
            self.outstanding -= 1


def test_a_burst_of_a_thousand_files_each_ends_in_exactly_one_place(
    tmp_path: Path, sources: list[Path], pool: WorkerPool, capsys: pytest.CaptureFixture[str]
) -> None:
    env = make_env(tmp_path, stable=0.5, poll=0.2)
    counting = CountingPool(pool)
    w = Watcher(env.config, pool=counting, rescan_interval=3600.0)  # type: ignore[arg-type]
    w.start()
    peak_queue = 0
    try:
        t0 = time.monotonic()
        names = burst(env.outgoing, sources)
        copied = time.monotonic() - t0

        def finished() -> bool:
            nonlocal peak_queue
            st = w.status()
            peak_queue = max(peak_queue, st.queued)
            return st.outcomes["released"] + st.outcomes["quarantined"] >= N_FILES

        wait_for(finished, timeout=600, what=f"{N_FILES} files processed")
        elapsed = time.monotonic() - t0
        status = w.status()
    finally:
        w.stop()
    where = check_invariant(env, names)
    assert counting.peak <= w.max_in_flight == 2 * pool.jobs  # never thousands of futures
    assert peak_queue <= w.queue_capacity  # the bounded queue held
    assert status.errors == () and status.outcomes["failed"] == 0
    with capsys.disabled():
        print(
            f"\n[watch burst] {N_FILES} files (copied in {copied:.1f} s) processed in {elapsed:.1f} s: "
            f"{N_FILES / elapsed:.1f} files/s end to end; released {where['release']}, "
            f"quarantined {where['quarantine']}; peak in pool {counting.peak}"
        )


KILL_AT = (150, 400, 650)  # kill the service each time this many files are done, then restart it


def test_killed_mid_burst_then_restarted_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, sources: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL (no clean-up at all) in the middle of a burst, three times; each restart
    must finish or roll back what the kill interrupted and carry on."""
    env = make_env(tmp_path, stable=0.5, poll=0.2)
    kills: list[str] = []
    proc = start_service(env)
    try:
        wait_for(lambda: service_running(env) or proc.poll() is not None, timeout=120, what="service start")
        assert proc.poll() is None, service_output(env)
        t0 = time.monotonic()
        names = burst(env.outgoing, sources)
        for n in KILL_AT:
            wait_for(lambda n=n: count_actions(env) >= n, timeout=300, what=f"{n} files done")
            proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
            proc.wait(timeout=30)
            at_kill = count_actions(env)
            assert at_kill < N_FILES - 200, "the kill came too late to interrupt the burst"
            assert len(leftovers(env)) > 200
            kills.append(f"at {at_kill} done ({unfinished_at_kill(env)})")
            proc = start_service(env)
        wait_for(
            lambda: count_actions(env) >= N_FILES and not leftovers(env),
            timeout=600,
            what="every file processed after the restarts",
        )
        elapsed = time.monotonic() - t0
        time.sleep(1.5)  # a duplicate would show up now: give it the chance
        proc.send_signal(signal.SIGTERM) if hasattr(signal, "SIGKILL") else proc.terminate()
        code = proc.wait(timeout=60)
        assert code == 0 or not hasattr(signal, "SIGKILL"), service_output(env)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    where = check_invariant(env, names)
    assert count_actions(env) == N_FILES
    with capsys.disabled():
        print(
            f"\n[watch kill] SIGKILL {'; '.join(kills)}; all {N_FILES} done {elapsed:.1f} s after the burst "
            f"({N_FILES / elapsed:.1f} files/s incl. {len(KILL_AT)} restarts); released {where['release']}, "
            f"quarantined {where['quarantine']}"
        )


def test_clean_text_burst_without_corpus_shape(tmp_path: Path, pool: WorkerPool) -> None:
    """Many tiny files dropped into nested folders at once: all taken, none twice (no corpus needed)."""
    env = make_env(tmp_path, stable=0.3, poll=0.1)
    w = Watcher(env.config, pool=pool, rescan_interval=3600.0)
    w.start()
    try:
        paths = []
        for i in range(200):
            sub = env.outgoing / f"d{i % 7}" / f"e{i % 3}"
            sub.mkdir(parents=True, exist_ok=True)
            p = sub / f"n{i:03d}.txt"
            p.write_text(CLEAN + str(i), encoding="utf-8")
            paths.append(p)
        wait_for(lambda: w.status().outcomes["released"] >= 200, timeout=300, what="200 releases")
    finally:
        w.stop()
    assert sorted(_listing(env.released)) == sorted(p.name for p in paths)
    assert all(not p.exists() for p in paths)
