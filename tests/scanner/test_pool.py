"""Worker isolation: a file that takes too long or needs too much memory costs one worker."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from scanner.limits import Limits
from scanner.pipeline.pool import PRIORITY_BACKGROUND, PRIORITY_INTERACTIVE, WorkerPool
from scanner.pipeline.protocol import WorkerFailure, worker_failure
from scanner.pipeline.scan import scan_paths
from scanner.pipeline.worker import ScanOptions

SSN = "Employee SSN: 212-67-4431\n"


def _big_text(path: Path, mb: float) -> Path:
    # every line holds an identifier, so the matcher has real work per line (seconds, not ms)
    line = "Record 4711: contact jane.doe@example-cdmo.com, SSN 212-67-4431, ext 555-0100.\n"
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(int(mb * 1024 * 1024) // len(line)):
            fh.write(line)
        fh.write(SSN)
    return path


def test_timeout_kills_the_worker_and_the_next_file_still_scans(tmp_path: Path) -> None:
    big = _big_text(tmp_path / "big.log", 1)
    small = tmp_path / "small.txt"
    small.write_text(SSN, encoding="utf-8")
    opts = ScanOptions(limits=Limits(timeout_s=0.05))
    with WorkerPool(opts, jobs=1) as pool:
        first = pool.submit(big).result()
        second = pool.submit(small).result()
    assert first[0].errors == ["timed out after 0.05 s"]
    assert worker_failure(first) is WorkerFailure.TIMEOUT and not WorkerFailure.TIMEOUT.worker_died
    assert not second[0].errors and second[0].findings, "the replacement worker scans normally"
    assert worker_failure(second) is None
    # the same big file, with a generous limit, is scanned to the end (the limit is what stopped it)
    with WorkerPool(ScanOptions(limits=Limits(timeout_s=300)), jobs=1) as pool:
        full = pool.submit(big).result()
    assert not full[0].errors and any(f.pattern == "phi-us-ssn" for f in full[0].findings)


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_memory_limit_kills_the_worker(tmp_path: Path) -> None:
    # A stored (uncompressed) member is read into memory: 160 MB of it cannot fit in 150 MiB.
    p = tmp_path / "heavy.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("blob.txt", os.urandom(80 * 1024 * 1024).hex().encode()[: 160 * 1024 * 1024])
    results = list(scan_paths([p], ScanOptions(limits=Limits(memory_mb=150, timeout_s=120)), jobs=1))
    assert results[0].outcome.error and "150 MiB" in results[0].outcome.error
    assert worker_failure([results[0].outcome]) is WorkerFailure.MEMORY
    assert results[0].verdict.value == "block"
    # without the tight limit the same file is read (it holds nothing sensitive)
    ok = list(scan_paths([p], ScanOptions(limits=Limits(memory_mb=2048, timeout_s=120)), jobs=1))
    assert not ok[0].outcome.error


def test_interactive_work_overtakes_background_work(tmp_path: Path) -> None:
    files = []
    for i in range(6):
        f = tmp_path / f"bg{i}.txt"
        f.write_text("clean text\n", encoding="utf-8")
        files.append(f)
    urgent = tmp_path / "urgent.txt"
    urgent.write_text(SSN, encoding="utf-8")
    order: list[str] = []
    with WorkerPool(ScanOptions(), jobs=1) as pool:
        futs = [pool.submit(f, priority=PRIORITY_BACKGROUND) for f in files]
        u = pool.submit(urgent, priority=PRIORITY_INTERACTIVE)
        for fut in [*futs, u]:
            fut.add_done_callback(lambda f: order.append(f.result()[0].path))
        u.result()
        for fut in futs:
            fut.result()
    # the worker may already hold the first background file; the urgent one comes right after
    assert order.index(str(urgent)) <= 1


def test_unreadable_pattern_set_is_an_error_not_a_hang(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\nname = "x"\n[[patterns]]\nid = "x-bad"\n', encoding="utf-8")
    f = tmp_path / "a.txt"
    f.write_text("hello", encoding="utf-8")
    res = list(scan_paths([f], ScanOptions(pattern_dirs=(str(bad),)), jobs=1))
    assert res[0].verdict.value == "block" and "pattern sets could not be loaded" in (res[0].outcome.error or "")
    assert worker_failure([res[0].outcome]) is WorkerFailure.PATTERNS


def test_close_with_abandon_stops_a_running_file(tmp_path: Path) -> None:
    import threading
    import time

    big = _big_text(tmp_path / "slow.log", 6)
    pool = WorkerPool(ScanOptions(limits=Limits(timeout_s=600)), jobs=1)
    fut = pool.submit(big)
    time.sleep(1.0)  # let the worker start on it
    t0 = time.monotonic()
    closer = threading.Thread(target=pool.close, kwargs={"abandon": True})
    closer.start()
    closer.join(30)
    assert not closer.is_alive() and time.monotonic() - t0 < 15
    assert fut.result()[0].errors == ["scan abandoned (the scanner was shut down)"]
    assert worker_failure(fut.result()) is WorkerFailure.ABANDONED
