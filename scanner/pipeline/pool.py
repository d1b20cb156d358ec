"""Worker processes that scan untrusted files under a wall-clock and a memory limit.

A hostile file costs one worker, never the app: each task runs in a separate process;
the parent waits with a deadline and watches the worker's resident memory (psutil,
works on Windows, macOS and Linux). On a timeout, a memory overrun or a crash the
worker is killed and replaced, and the file gets an error and the unscannable verdict.
On POSIX the worker also sets RLIMIT_AS as a backstop, so a runaway allocation fails
inside the worker (MemoryError -> a clear reason) before the machine swaps.

Workers are reused between files (patterns are compiled once per worker). One pool
serves the CLI, the watcher and the GUI; interactive scans pass a lower priority number
and overtake queued watcher work. A big PDF is read by several workers at once: its
first worker hands page ranges back mid-file, they are queued right behind it, and the
file's future resolves with the merged outcome once every range is done
(``scanner.pipeline.page_split``). What parent and worker say to each other, and the
``UnfinishedOutcome`` a failed file resolves to, are in ``scanner.pipeline.protocol``.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from pathlib import Path
from typing import Any

import psutil

from scanner.detect.match import MAX_FINDINGS_PER_PATTERN
from scanner.extract.base import Source
from scanner.model import DocOutcome
from scanner.pipeline import page_split
from scanner.pipeline.page_split import PageRange
from scanner.pipeline.protocol import (
    Done,
    Failed,
    MaySplit,
    PagePart,
    Ready,
    ScanTask,
    Split,
    UnfinishedOutcome,
    WorkerFailure,
)
from scanner.pipeline.worker import ScanOptions, analyse_file, matcher_for
from scanner.sniff import DocType, sniff

if sys.platform != "win32":
    import resource

PRIORITY_INTERACTIVE = 0
PRIORITY_BACKGROUND = 10
_STOP_PRIORITY = 1 << 30  # a thread's stop marker sorts after every real task
_POLL = 0.05
_MEMORY_CHECK_INTERVAL = 0.2  # seconds between RSS readings of a busy worker
_STARTUP_TIMEOUT = 120.0  # importing parsers and compiling patterns, on a slow laptop
# RLIMIT_AS counts address space, not RSS: head-room for shared libraries and arenas, so only
# a runaway allocation trips it; the parent's RSS check enforces the real figure.
_ADDRESS_SPACE_HEADROOM_MB = 1536
_NICENESS = 5  # POSIX: below the desktop, not idle-only (a scan still finishes promptly)


def _worker_main(conn: Connection, opts: ScanOptions) -> None:
    # Ctrl-C in a console reaches the whole process group: the parent decides what
    # stops and when, so a worker must not die mid-file and look like a crash.
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):
        pass
    _exit_with_parent()
    _limit_memory(opts.limits.memory_mb)
    _lower_priority()
    # Compile the patterns before taking work, so start-up is not charged to a file's
    # deadline; a broken pattern set is reported instead of "ready".
    try:
        matcher_for(opts)
        conn.send(Ready())
    except Exception as exc:
        conn.send(Failed(WorkerFailure.PATTERNS, f"pattern sets could not be loaded: {exc}"))
        return
    while True:
        try:
            task: ScanTask | None = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        reply: Done | Failed
        try:
            reply = Done(analyse_file(Path(task.path), task.display, opts, **_part_arguments(conn, task.part)))
        except MemoryError:
            reply = Failed(WorkerFailure.MEMORY, f"needed more than {opts.limits.memory_mb} MiB of memory")
        except Exception as exc:
            reply = Failed(WorkerFailure.INTERNAL, f"internal error while scanning ({type(exc).__name__}: {exc})")
        try:
            conn.send(reply)
        except Exception as exc:
            conn.send(Failed(WorkerFailure.INTERNAL, f"internal error while returning results ({type(exc).__name__})"))


def _exit_with_parent() -> None:
    """A worker never outlives the process that started it.

    A parent that is killed (SIGKILL, a crash, SIGTERM in a program that does not handle it)
    cannot kill its workers; a worker busy with a file would run on, an orphan, until the file is
    done. The parent's sentinel becomes ready when the parent is gone (a pipe on POSIX, the
    process handle on Windows); a thread waits on it and ends the worker there and then.
    """
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="clearance-parent-watch", daemon=True).start()


def _part_arguments(conn: Connection, part: PagePart | MaySplit | None) -> dict[str, Any]:
    """analyse_file's page arguments: only some pages of a split PDF, or leave to split a big one."""
    if part is None:
        return {}
    if isinstance(part, PagePart):
        return {"pages": part.range}
    workers = part.workers

    def split(pages: int) -> int | None:
        ranges = page_split.plan(pages, workers)
        if len(ranges) < 2:
            return None
        conn.send(Split(tuple(ranges[1:])))
        return ranges[0][1]

    return {"split": split}


def _limit_memory(memory_mb: int) -> None:
    if sys.platform == "win32":  # the parent's RSS watchdog is the limit
        return
    limit = (memory_mb + _ADDRESS_SPACE_HEADROOM_MB) * 1024 * 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _lower_priority() -> None:
    """Scanning is background work: the desktop (and the app's own window) keeps the CPU."""
    try:
        if os.name == "nt":
            psutil.Process().nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
        else:
            os.nice(_NICENESS)
    except Exception:
        pass


@dataclass(order=True)
class _Task:
    priority: int
    seq: int
    path: str = field(compare=False)
    display: str = field(compare=False)
    future: Future[list[DocOutcome]] | None = field(compare=False)  # None: the thread's stop marker
    pages: PageRange | None = field(default=None, compare=False)  # a later part of a split PDF
    parts: list[tuple[PageRange, Future[list[DocOutcome]]]] = field(default_factory=list, compare=False)


class _Worker:
    def __init__(self, ctx: SpawnContext, opts: ScanOptions):
        self.parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, opts), daemon=True, name="clearance-worker")
        self.proc.start()
        child.close()
        self._ps: Any = None  # psutil.Process, made on the first memory reading
        self.ready = False

    def wait_ready(self, timeout: float, abandon: threading.Event) -> Failed | None:
        """None once the worker has compiled its patterns; else why it never became ready."""
        if self.ready:
            return None
        deadline = time.monotonic() + timeout
        try:
            # in steps, so a pool closed with abandon does not wait for a start-up to finish
            while not self.parent.poll(_POLL):
                if abandon.is_set():
                    return Failed(WorkerFailure.ABANDONED, "scan abandoned (the scanner was shut down)")
                if time.monotonic() > deadline:
                    return Failed(WorkerFailure.STARTUP_TIMEOUT, f"scanner worker did not start within {timeout:g} s")
            msg = self.parent.recv()
        except (EOFError, OSError):
            return _death(self.proc.exitcode, 0)
        if isinstance(msg, Ready):
            self.ready = True
            return None
        assert isinstance(msg, Failed), msg
        return msg

    def rss_mb(self) -> float:
        try:
            if self._ps is None:
                self._ps = psutil.Process(self.proc.pid)
            return float(self._ps.memory_info().rss) / (1024 * 1024)
        except Exception:
            return 0.0

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.join(5)
        except Exception:
            pass
        self.parent.close()

    def stop(self) -> None:
        try:
            self.parent.send(None)
            self.proc.join(2)
        except Exception:
            pass
        if self.proc.is_alive():
            self.kill()
        else:
            self.parent.close()


class WorkerPool:
    """``submit(path)`` -> Future[list[DocOutcome]]; never raises for a bad file.

    A file the worker could not finish resolves to an ``UnfinishedOutcome`` (``scanner.pipeline.protocol``).
    """

    def __init__(self, opts: ScanOptions, jobs: int | None = None):
        self.opts = opts
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self._ctx = mp.get_context("spawn")
        self._queue: queue.PriorityQueue[_Task] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._closed = False
        self._abandon = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"clearance-pool-{i}", daemon=True) for i in range(self.jobs)
        ]
        for t in self._threads:
            t.start()

    def submit(
        self, path: Path | str, display: str | None = None, priority: int = PRIORITY_INTERACTIVE
    ) -> Future[list[DocOutcome]]:
        if self._closed:
            raise RuntimeError("pool is closed")
        fut: Future[list[DocOutcome]] = Future()
        self._queue.put(_Task(priority, next(self._seq), str(path), display or str(path), fut))
        return fut

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, abandon: bool = False) -> None:
        """Stop accepting work, cancel what is queued, join threads.

        Files in progress finish, unless ``abandon``: then their workers are killed and
        they come back as not scanned ("scan abandoned") — e.g. when the app quits.
        """
        if self._closed:
            return
        self._closed = True
        if abandon:
            self._abandon.set()
        while True:
            try:
                task = self._queue.get_nowait()
            except queue.Empty:
                break
            if task.future is not None:
                task.future.cancel()
        for _ in self._threads:
            self._queue.put(_Task(_STOP_PRIORITY, next(self._seq), "", "", None))
        for t in self._threads:
            t.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ per thread
    def _run(self) -> None:
        worker: _Worker | None = None
        try:
            while True:
                task = self._queue.get()
                future = task.future
                if future is None:
                    return
                if not future.set_running_or_notify_cancel():
                    continue
                if worker is None or not worker.proc.is_alive():
                    worker = _Worker(self._ctx, self.opts)
                result, healthy = self._execute(worker, task)
                if not healthy:
                    worker.kill()
                    worker = None
                if task.parts:
                    self._join_parts(task, future, result, healthy)
                else:
                    future.set_result(result)
        finally:
            if worker is not None:
                worker.stop()

    def _execute(self, worker: _Worker, task: _Task) -> tuple[list[DocOutcome], bool]:
        """The file's outcomes, and whether the worker may take the next file."""
        limits = self.opts.limits
        problem = worker.wait_ready(_STARTUP_TIMEOUT, self._abandon)
        if problem is not None:
            return _unfinished(task, problem), False
        part: PagePart | MaySplit | None
        if task.pages is not None:
            part = PagePart(*task.pages)
        else:
            part = MaySplit(self.jobs) if self.jobs > 1 else None
        try:
            worker.parent.send(ScanTask(task.path, task.display, part))
        except (OSError, BrokenPipeError):
            return _unfinished(task, Failed(WorkerFailure.NOT_STARTED, "scanner worker could not be started")), False
        deadline = time.monotonic() + limits.timeout_s
        next_mem_check = 0.0
        while True:
            try:
                ready = worker.parent.poll(_POLL)
            except (OSError, EOFError):
                ready = True
            if ready:
                try:
                    msg = worker.parent.recv()
                except (EOFError, OSError):
                    return _unfinished(task, _death(worker.proc.exitcode, limits.memory_mb)), False
                if isinstance(msg, Split):
                    self._queue_parts(task, msg.ranges)
                    continue
                if isinstance(msg, Failed):
                    return _unfinished(task, msg), True
                assert isinstance(msg, Done), msg
                return msg.outcomes, True
            now = time.monotonic()
            if self._abandon.is_set():
                abandoned = Failed(WorkerFailure.ABANDONED, "scan abandoned (the scanner was shut down)")
                return _unfinished(task, abandoned), False
            if now > deadline:
                return _unfinished(
                    task, Failed(WorkerFailure.TIMEOUT, f"timed out after {limits.timeout_s:g} s")
                ), False
            if now >= next_mem_check:
                next_mem_check = now + _MEMORY_CHECK_INTERVAL
                if worker.rss_mb() > limits.memory_mb:
                    over = Failed(WorkerFailure.MEMORY, f"needed more than {limits.memory_mb} MiB of memory")
                    return _unfinished(task, over), False
            if not worker.proc.is_alive() and not worker.parent.poll(0):
                return _unfinished(task, _death(worker.proc.exitcode, limits.memory_mb)), False

    # ------------------------------------------------------------------ split PDFs
    def _queue_parts(self, task: _Task, ranges: tuple[PageRange, ...]) -> None:
        """Queue a big PDF's later page ranges right behind it, ahead of later files."""
        for rng in ranges:
            fut: Future[list[DocOutcome]] = Future()
            task.parts.append((rng, fut))
            if self._closed:
                fut.cancel()
            else:
                self._queue.put(_Task(task.priority, task.seq, task.path, task.display, fut, pages=rng))

    def _join_parts(
        self, task: _Task, future: Future[list[DocOutcome]], first: list[DocOutcome], healthy: bool
    ) -> None:
        """Resolve a split file's future once every part is done; this thread moves on meanwhile."""
        if not healthy:
            for _, fut in task.parts:
                fut.cancel()  # the first part failed, so the file is unscannable: spare the workers
        pending = [len(task.parts)]
        lock = threading.Lock()

        def part_done(_: Future[list[DocOutcome]]) -> None:
            with lock:
                pending[0] -= 1
                if pending[0]:
                    return
            parts = [(rng, _part_result(task, fut)) for rng, fut in task.parts]
            future.set_result(page_split.merge(first, parts, MAX_FINDINGS_PER_PATTERN))

        for _, fut in task.parts:
            fut.add_done_callback(part_done)


def _part_result(task: _Task, fut: Future[list[DocOutcome]]) -> list[DocOutcome]:
    if fut.cancelled():
        return [DocOutcome(task.display, DocType.PDF.value, "", 0, errors=["not scanned (the scan was stopped)"])]
    return fut.result()


def _death(code: int | None, memory_mb: int) -> Failed:
    """Why a worker process went away under a file, from its exit code."""
    if code is not None and code < 0:
        return Failed(
            WorkerFailure.KILLED,
            f"scanner worker was killed by signal {-code} (possibly over the {memory_mb} MiB memory limit)",
        )
    return Failed(WorkerFailure.CRASHED, f"scanner worker stopped unexpectedly (exit code {code})")


def _unfinished(task: _Task, failed: Failed) -> list[DocOutcome]:
    """An outcome for a file the worker could not finish: type from the bytes, hash from the parent."""
    p = Path(task.path)
    src = Source(name=p.name, path=p)
    try:
        doc_type = sniff(src).type
        kind = (DocType.UNSUPPORTED if doc_type is DocType.OLE else doc_type).value
        sha, size = src.sha256(), src.size
    except OSError:
        kind, sha, size = DocType.UNSUPPORTED.value, "", 0
    return [UnfinishedOutcome(task.display, kind, sha, size, errors=[failed.reason], failure=failed.failure)]
