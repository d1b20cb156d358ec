"""The threading bridge: everything slow runs off the GUI thread and comes back as signals.

Rules every service here follows (house style H12, Anki's taskman, Picard's run_task):

* Scans run in the controller's one shared ``WorkerPool`` (worker *processes*), never
  in the GUI thread and never in a thread of this process.
* A pool thread finishing a file emits a private signal of a QObject that lives in the
  GUI thread. Qt sees the emit come from another thread and delivers it *queued*, so
  every slot below runs in the GUI thread and may touch models and widgets.
* No slot waits: listing folders happens in a short-lived feeder thread, reading a file's
  text for display in a reader thread, file actions in a one-thread executor.
* Services hold no widgets and know nothing of views; views subscribe to signals.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gui.session import Session
from scanner.extract.registry import extract_file
from scanner.limits import Limits
from scanner.model import DocOutcome, FileResult, Segment, Verdict
from scanner.pipeline.pool import PRIORITY_INTERACTIVE, WorkerPool
from scanner.pipeline.scan import iter_inputs

DRAIN_BUDGET_S = 0.008  # GUI-thread time per turn of the event loop spent taking results
READER_JOIN_S = 5.0  # at shutdown, per reading thread: a segment takes far less unless a parser is stuck

T = TypeVar("T")


# =========================================================================== scanning
@dataclass(eq=False, slots=True)  # identity: two scans of one file are two rows
class ScannedFile:
    """One file the user asked to scan: its outcomes (file + archive members) and verdicts.

    Outcomes are kept so that a change of destination re-decides without re-scanning.
    """

    path: Path  # on disk (actions read it)
    display: str  # the outcome path of the top-level document
    outcomes: list[DocOutcome]
    results: list[FileResult]
    destination: str | None


@dataclass(frozen=True, slots=True)
class ScanSummary:
    files: int  # top-level files finished
    results: int  # verdicts, including archive members
    blocked: int
    unscannable: int
    cancelled: int  # files that were queued when the user cancelled
    seconds: float


@dataclass(slots=True)
class _Batch:
    started: float
    destination: str | None
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    futures: list[Future[list[DocOutcome]]] = field(default_factory=list)
    total: int = 0  # files submitted so far
    listed: bool = False  # the feeder has listed every file
    done: int = 0
    cancelled: int = 0
    results: int = 0
    blocked: int = 0
    unscannable: int = 0
    feeder: threading.Thread | None = None


class ScanService(QObject):
    """Scans files and folders in the shared worker pool; results stream back as signals.

    ``scan()`` returns at once. A feeder thread lists folders and submits each file to
    the pool; each finished file is decided in the pool thread that received it, put in
    an inbox the GUI thread drains a few milliseconds at a time, and is announced by
    ``file_scanned`` (once per verdict: the file and each archive member) and
    ``results_ready`` (once per file, with the outcomes, for the results table).
    """

    file_scanned = Signal(object)  # FileResult
    results_ready = Signal(object)  # ScannedFile
    progress_changed = Signal(int, int)  # files done, files known so far
    scan_started = Signal()
    scan_finished = Signal(object)  # ScanSummary
    scan_failed = Signal(str)

    # cross-thread deliveries (emitted from feeder / pool threads, received queued)
    _wake = Signal()  # the inbox has results
    _listed = Signal(object, int, bool)  # batch, files submitted, listing complete
    _listing_failed = Signal(object, str)

    def __init__(
        self,
        pool: Callable[[], WorkerPool],
        session: Callable[[], Session],
        destination: Callable[[], str | None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._pool = pool
        self._session = session
        self._destination = destination
        self._batches: list[_Batch] = []
        self._closed = False
        self._gate = threading.RLock()  # guards _closed against late pool callbacks
        # Results wait here until the GUI thread takes them, a few milliseconds' worth per
        # turn of the event loop: a burst of finished files never stalls the window.
        self._inbox: deque[tuple[Any, ...]] = deque()
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(0)
        self._drain_timer.timeout.connect(self._drain)
        self._wake.connect(self._drain)
        self._listed.connect(self._on_listed)
        self._listing_failed.connect(self._on_listing_failed)

    # ------------------------------------------------------------------ API (GUI thread)
    @property
    def busy(self) -> bool:
        return bool(self._batches)

    def progress(self) -> tuple[int, int]:
        return (sum(b.done + b.cancelled for b in self._batches), sum(b.total for b in self._batches))

    def scan(self, paths: Iterable[Path | str], priority: int = PRIORITY_INTERACTIVE) -> bool:
        """Queue files and folders (folders recursively). False if nothing could be queued."""
        wanted = [Path(p) for p in paths]
        session = self._session()
        if self._closed:
            return False
        if not session.usable:
            self.scan_failed.emit(f"Scanning is disabled until the configuration is fixed: {session.error}")
            return False
        missing = [str(p) for p in wanted if not p.exists()]
        if missing:
            self.scan_failed.emit("Not found: " + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
        found = [p.resolve() for p in wanted if p.exists()]
        if not found:
            return False
        batch = _Batch(time.monotonic(), self._destination())
        first = not self._batches
        self._batches.append(batch)
        if first:
            self.scan_started.emit()
        pool = self._pool()
        batch.feeder = threading.Thread(
            target=self._feed, args=(batch, found, pool, priority), name="clearance-gui-feeder", daemon=True
        )
        batch.feeder.start()
        return True

    def cancel(self) -> None:
        """Drop every queued file; files already in a worker finish and are shown."""
        for batch in list(self._batches):
            with batch.lock:
                batch.cancel.set()
                futures = list(batch.futures)
            for fut in futures:
                fut.cancel()  # a cancelled future runs its callback here, synchronously

    def close(self) -> None:
        """Cancel, wait for feeder threads, and ignore anything the pool still delivers."""
        self.cancel()
        for batch in list(self._batches):
            if batch.feeder is not None:
                batch.feeder.join()
        with self._gate:
            self._closed = True
        self._batches.clear()
        self._inbox.clear()
        self._drain_timer.stop()

    # ------------------------------------------------------------------ feeder thread
    def _feed(self, batch: _Batch, paths: list[Path], pool: WorkerPool, priority: int) -> None:
        count = 0
        try:
            for item in iter_inputs(paths):
                if isinstance(item, DocOutcome):
                    # An unreadable folder or a skipped special file: a row of its own, decided
                    # like any result (an unreadable folder is unscannable), never a silent gap.
                    finished: Future[list[DocOutcome]] = Future()
                    finished.set_result([item])
                    with batch.lock:
                        if batch.cancel.is_set():
                            break
                        batch.futures.append(finished)
                    count += 1
                    self._deliver(batch, Path(item.path), item.path, finished)
                    continue
                path, display = item
                with batch.lock:
                    if batch.cancel.is_set():
                        break
                    fut = pool.submit(path, display, priority)
                    batch.futures.append(fut)
                count += 1
                fut.add_done_callback(functools.partial(self._deliver, batch, path, display))
                if count % 25 == 0:
                    self._emit(self._listed, batch, count, False)
        except (OSError, RuntimeError) as exc:  # unreadable folder; pool closed under us
            self._emit(self._listing_failed, batch, str(exc))
        self._emit(self._listed, batch, count, True)

    def _deliver(self, batch: _Batch, path: Path, display: str, fut: Future[list[DocOutcome]]) -> None:
        """Pool thread (or GUI thread for a cancelled future): decide, then hand over to the GUI thread.

        The policy runs here, not in the GUI thread: an archive with thousands of members
        takes a while to decide, and this thread has nothing else to do. The GUI thread
        decides again only if the destination changed meanwhile.
        """
        outcomes = None if fut.cancelled() else fut.result()
        results: list[FileResult] | None = None
        destination = None
        if outcomes is not None:
            destination = self._destination()
            try:
                results = self._session().decide(outcomes, destination)
            except Exception:
                results = None
        self._inbox.append((batch, path, display, outcomes, results, destination))
        self._emit(self._wake)

    def _emit(self, signal: Any, *args: Any) -> None:
        with self._gate:
            if not self._closed:
                signal.emit(*args)

    # ------------------------------------------------------------------ GUI-thread slots
    @Slot(object, int, bool)
    def _on_listed(self, batch: _Batch, count: int, complete: bool) -> None:
        batch.total = max(batch.total, count)
        batch.listed = batch.listed or complete
        self._report_progress()
        self._maybe_finish(batch)

    @Slot(object, str)
    def _on_listing_failed(self, batch: _Batch, message: str) -> None:
        self.scan_failed.emit(f"Could not list every file: {message}")

    @Slot()
    def _drain(self) -> None:
        """Take finished files from the inbox for at most ``DRAIN_BUDGET_S``, then let Qt breathe."""
        deadline = time.perf_counter() + DRAIN_BUDGET_S
        taken = 0
        while self._inbox:
            self._take(*self._inbox.popleft())
            taken += 1
            if time.perf_counter() >= deadline:
                break
        if self._inbox:
            self._drain_timer.start()
        if taken:
            self._report_progress()

    def _take(
        self,
        batch: _Batch,
        path: Path,
        display: str,
        outcomes: list[DocOutcome] | None,
        results: list[FileResult] | None,
        decided_for: str | None,
    ) -> None:
        if batch not in self._batches:
            return
        if outcomes is None:
            batch.cancelled += 1
        else:
            batch.done += 1
            destination = self._destination()
            if results is None or decided_for != destination:
                try:
                    results = self._session().decide(outcomes, destination)
                except Exception as exc:
                    self.scan_failed.emit(f"{display}: could not be decided ({type(exc).__name__}: {exc})")
                    results = []
            batch.results += len(results)
            batch.blocked += sum(r.verdict is Verdict.BLOCK for r in results)
            batch.unscannable += sum(bool(r.outcome.errors) for r in results)
            if results:
                self.results_ready.emit(ScannedFile(path, results[0].path, outcomes, results, destination))
                for r in results:
                    self.file_scanned.emit(r)
        batch.total = max(batch.total, batch.done + batch.cancelled)
        self._maybe_finish(batch)

    def _report_progress(self) -> None:
        done, total = self.progress()
        self.progress_changed.emit(done, total)

    def _maybe_finish(self, batch: _Batch) -> None:
        if not batch.listed or batch.done + batch.cancelled < batch.total or batch not in self._batches:
            return
        if batch.feeder is not None:
            batch.feeder.join()  # it has already emitted its last signal: returns at once
        self._batches.remove(batch)
        if self._batches:
            return
        self.scan_finished.emit(
            ScanSummary(
                batch.done,
                batch.results,
                batch.blocked,
                batch.unscannable,
                batch.cancelled,
                round(time.monotonic() - batch.started, 3),
            )
        )


# =========================================================================== near-misses
class ExplainService(QObject):
    """ "Why was this not flagged?": re-scan one file keeping near-misses.

    The shared pool's workers are started with ``keep_near_misses=False`` (near-misses
    cost memory for every file of a batch), so explanations use a second, one-worker
    pool that is only started the first time someone asks, and is closed with the app.
    """

    explained = Signal(str, object)  # display path of the top-level file, list[DocOutcome]
    _ready = Signal(str, object)

    def __init__(self, session: Callable[[], Session], parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self._pool: WorkerPool | None = None
        self._pool_key: Any = None
        self._closed = False
        self._gate = threading.Lock()
        self._ready.connect(self._on_ready)

    def request(self, path: Path, display: str) -> None:
        opts = replace(self._session().options, keep_near_misses=True)
        if self._pool is None or self._pool_key != opts:
            self._retire()
            self._pool = WorkerPool(opts, jobs=1)
            self._pool_key = opts
        fut = self._pool.submit(path, display, PRIORITY_INTERACTIVE)
        fut.add_done_callback(lambda f: self._deliver(display, f))

    def _deliver(self, display: str, fut: Future[list[DocOutcome]]) -> None:
        if fut.cancelled():
            return
        with self._gate:
            if not self._closed:
                self._ready.emit(display, fut.result())

    @Slot(str, object)
    def _on_ready(self, display: str, outcomes: list[DocOutcome]) -> None:
        self.explained.emit(display, outcomes)

    def _retire(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def close(self) -> None:
        with self._gate:
            self._closed = True
        self._retire()


# =========================================================================== file text
class FileSegments:
    """A file's text segments as ``clearance extract`` prints them: (document path, segment).

    Iteration ends early when the reading is cancelled or runs past the per-file time limit
    (checked between segments); ``stopped`` then says why, and the consumer keeps what it
    has found so far.
    """

    def __init__(self, path: Path, display: str, limits: Limits, cancelled: threading.Event):
        self.path = path
        self.display = display
        self.limits = limits
        self.cancelled = cancelled
        self.stopped = ""

    def __iter__(self) -> Iterator[tuple[str, Segment]]:
        deadline = time.monotonic() + self.limits.timeout_s
        # A consumer that stops early drops this generator and with it the extractor's, which
        # CPython closes at once (and the file with it).
        for ev in extract_file(self.path, self.limits):
            if self.cancelled.is_set():
                self.stopped = "cancelled"
                return
            if time.monotonic() > deadline:
                self.stopped = f"reading the file took longer than {self.limits.timeout_s:g} s"
                return
            if isinstance(ev, Segment):
                yield (f"{self.display}!{ev.doc}" if ev.doc else self.display), ev


@dataclass(eq=False, slots=True)
class Reading:
    """One file being read by a ``TextReader``; after ``cancel()`` its callback never runs."""

    cancelled: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def cancel(self) -> None:
        self.cancelled.set()


class TextReader(QObject):
    """Reads files' text with the core's extractors in background threads, never in the GUI thread.

    The worker pool cannot serve here: its outcomes hold masked values and keyed hashes only,
    by design, and these views need the text in clear (the context pane, the workbench's test
    pane). ``read()`` returns at once; ``consume(segments)`` runs in the reading thread and must
    not touch Qt; ``on_done(result, problem)`` runs in the GUI thread (``result`` is None if
    ``consume`` failed; ``problem`` is "" when the whole file was read).

    A thread, unlike a worker process, has no memory limit and cannot be killed: the time
    limit is checked between segments. The context pane reads only files a worker has
    already read within its limits; the workbench reads the admin's own test files.
    """

    _done = Signal(object, object, object, str)  # Reading, on_done, result, problem

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._readings: set[Reading] = set()
        self._closed = False
        self._gate = threading.Lock()
        self._done.connect(self._on_done)

    def read(
        self,
        path: Path,
        display: str,
        limits: Limits,
        consume: Callable[[FileSegments], T],
        on_done: Callable[[T | None, str], None],
    ) -> Reading:
        reading = Reading()
        segments = FileSegments(path, display, limits, reading.cancelled)

        def run() -> None:
            result: T | None = None
            try:
                result = consume(segments)
                problem = segments.stopped
            except Exception as exc:  # a bug, not a bad file: extract_file turns those into problems
                problem = f"could not read the file ({type(exc).__name__}: {exc})"
            with self._gate:
                self._readings.discard(reading)
                if not self._closed and not reading.cancelled.is_set():
                    self._done.emit(reading, on_done, result, problem)

        with self._gate:
            if self._closed:
                reading.cancel()
                return reading
            reading.thread = threading.Thread(target=run, name="clearance-gui-reader", daemon=True)
            self._readings.add(reading)
        reading.thread.start()
        return reading

    @Slot(object, object, object, str)
    def _on_done(self, reading: Reading, on_done: Callable[[Any, str], None], result: Any, problem: str) -> None:
        if not reading.cancelled.is_set():
            on_done(result, problem)

    def close(self) -> None:
        """Cancel every reading and wait for its thread, at most ``READER_JOIN_S`` each.

        A parser stuck inside one document cannot be interrupted; its (daemon) thread is
        left to finish on its own rather than hold up the app's exit.
        """
        with self._gate:
            self._closed = True
            readings = list(self._readings)
        for reading in readings:
            reading.cancel()
        for reading in readings:
            if reading.thread is not None:
                reading.thread.join(READER_JOIN_S)


# =========================================================================== background ops
class OpRunner(QObject):
    """Runs one mutating operation at a time off the GUI thread (Anki's CollectionOp).

    ``run(op, on_done, on_error)``: ``op`` runs in a worker thread and must not touch Qt;
    ``on_done(result)`` / ``on_error(exc)`` run in the GUI thread.
    """

    busy_changed = Signal(bool)
    _done = Signal(object, object, object)  # callback, result, error

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clearance-gui-op")
        self._pending = 0
        self._closed = False
        self._gate = threading.Lock()
        self._done.connect(self._on_done)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(
        self, op: Callable[[], Any], on_done: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)

        def job() -> None:
            try:
                result, error = op(), None
            except Exception as exc:
                result, error = None, exc
            with self._gate:
                if not self._closed:
                    self._done.emit((on_done, on_error), result, error)

        self._executor.submit(job)

    @Slot(object, object, object)
    def _on_done(
        self,
        callbacks: tuple[Callable[[Any], None], Callable[[BaseException], None]],
        result: Any,
        error: BaseException | None,
    ) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)
        on_done, on_error = callbacks
        if error is not None:
            on_error(error)
        else:
            on_done(result)

    def wait_idle(self) -> None:
        """Block until queued operations have run (shutdown and tests only)."""
        self._executor.submit(lambda: None).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._gate:
            self._closed = True
