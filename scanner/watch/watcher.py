"""The background folder watcher: files dropped in an outgoing folder are scanned, decided,
released to the folder's partner or quarantined, recorded — without being lost or sent twice.

    from scanner.config.settings import load_config
    from scanner.watch.watcher import Watcher

    watcher = Watcher(load_config("clearance.toml"), on_event=print)
    watcher.start()
    ...
    watcher.stop()

It is a *driver* of the same flow as the CLI and the GUI (``scan.decide_outcomes``,
``actions.release``/``quarantine``, ``audit``); it holds no scanning logic. Stages:

1. **Observer** (watchdog, one for all folders, recursive). Its handler only notes the
   path (created, modified, moved -> destination, closed-after-write as a hint) in the
   *waiting* map; it never blocks, reads or scans. Events for one file coalesce into
   one entry, so a file written in 50 chunks is scanned once.
2. **Scheduler** thread: a file is *complete* when its size and modification time are
   unchanged for ``stable_seconds`` (polled every ``poll_interval``), no editor lock
   file sits beside it (``~$x.docx``, ``.~lock.x#``), and it can be opened (a writer
   holding it exclusively on Windows makes ``open`` fail: the file is retried, never
   failed). Complete files go into a bounded queue; when the queue is full they stay
   waiting (back-pressure). The scheduler also watches the folders themselves: a folder
   that disappears or becomes unreadable is reported and re-scheduled when it returns,
   and a periodic re-walk catches events a platform dropped.
3. **Dispatcher** thread: keeps at most ``2 × jobs`` files in the shared ``WorkerPool`` (at
   background priority, so the GUI's interactive scans overtake); a scanned file holds
   its slot until an actor takes it, so results never pile up in memory.
4. **Actor** threads (two: a durable move mostly waits for fsync, and two overlap that
   wait): for each result decide, record the scan, release or quarantine, write a
   receipt for the person who dropped the file, and journal progress.

The state journal (``watch_journal``) and ``actions.recover`` make a crash at any
moment safe: see ``Watcher.start``. A lock file lets only one watcher serve one audit
trail at a time (the desktop app's in-process watcher and the service exclude each other).

Receipts: the person who dropped ``report.pdf`` finds ``report.pdf.clearance.txt`` where
the file was — released to whom, or held in quarantine and why (the policy's reasons,
masked values only), or not sent yet and why. Beside the file rather than in a
``_receipts`` sub-folder because that is where the person looks when the file vanishes,
and a receipt of the same name is replaced when the same name is dropped again.

Never taken: temp/lock/OS files (``IGNORE_PATTERNS``), and symbolic links or files reached
through a linked folder (following one would let anyone who can write the outgoing
folder send — and delete — a file only the service account may read). While a
destination's release folder is unreachable its files wait unscanned (no audit spam).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import hashlib
import json
import logging
import os
import queue
import secrets
import stat as stat_mod
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from scanner.act import actions
from scanner.config.settings import Config
from scanner.model import Decision, DocOutcome, FileResult, Verdict
from scanner.pipeline.pool import PRIORITY_BACKGROUND, WorkerPool
from scanner.pipeline.scan import decide_outcomes
from scanner.pipeline.worker import ScanOptions
from scanner.record.audit import AuditLog, scan_fields
from scanner.watch.journal import InstanceLock, Item, LockedError, WatchJournal
from scanner.watch.status import (
    FOLDER_DENIED,
    FOLDER_ERROR,
    FOLDER_MISSING,
    FOLDER_OK,
    FolderStatus,
    WatchEvent,
    WatchStatus,
    now_iso,
    receipt_text,
    write_status,
)

log = logging.getLogger("clearance.watch")

RECEIPT_SUFFIX = ".clearance.txt"
_RECEIPT_TMP_PREFIX = ".clearance-receipt-"
# Names never taken: writers' temp and lock files, OS litter, and our own receipts.
# Matched case-insensitively against the file name (Windows and macOS names are).
IGNORE_PATTERNS: tuple[str, ...] = (
    "~$*",
    ".~lock.*#",
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.download",
    ".ds_store",
    "._*",
    "thumbs.db",
    "desktop.ini",
    "*.swp",
    "*~",
    ".clearance-*",
    "*" + RECEIPT_SUFFIX,
)
# Folders never descended into.
IGNORE_DIRS: tuple[str, ...] = (
    "$recycle.bin",
    "system volume information",
    ".trash*",
    ".trashes",
    ".clearance-*",
    ".fseventsd",
    ".spotlight-v100",
)
_OFFICE_EXTS = frozenset(
    {
        ".doc",
        ".docx",
        ".docm",
        ".dot",
        ".dotx",
        ".xls",
        ".xlsx",
        ".xlsm",
        ".xlsb",
        ".ppt",
        ".pptx",
        ".pptm",
        ".rtf",
        ".vsdx",
    }
)
# An editor lock file older than this is taken to be stale (the editor crashed).
EDITOR_LOCK_MAX_AGE_S = 2 * 3600.0
MAX_ATTEMPTS = 5  # scan/act failures before a file is left until it changes
_EVENTS_KEPT = 50
_ERRORS_KEPT = 20
_EVENT_FILTER = [FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent, DirCreatedEvent, DirMovedEvent]


class WatchError(Exception):
    """The watcher cannot start or run; ``str(exc)`` is for the user."""


# --------------------------------------------------------------------------- small helpers


def is_ignored(name: str) -> bool:
    """Whether a file name is a temp/lock/OS file (or our receipt) the watcher never takes."""
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p) for p in IGNORE_PATTERNS)


def is_ignored_dir(name: str) -> bool:
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p) for p in IGNORE_DIRS)


def editor_lock(path: Path, now: float | None = None) -> Path | None:
    """The lock file an editor keeps beside an open document (Word ``~$``, LibreOffice ``.~lock.#``).

    While it exists the document is open and may be saved again, so it is not complete yet.
    """
    name = path.name
    names = [f".~lock.{name}#"]
    if path.suffix.lower() in _OFFICE_EXTS:
        # Word/Excel: "~$" + the name, with its first one or two characters replaced when long.
        names += [f"~${name}", f"~${name[1:]}", f"~${name[2:]}"]
    now = time.time() if now is None else now
    for n in dict.fromkeys(names):
        p = path.with_name(n)
        try:
            st = p.stat()
        except OSError:
            continue
        if now - st.st_mtime < EDITOR_LOCK_MAX_AGE_S:
            return p
    return None


def open_problem(path: Path) -> str | None:
    """None when the file can be opened for reading now; else why not (retried later).

    On Windows a writer that holds the file without read sharing makes this fail with a
    sharing violation (PermissionError): the file is still being written.
    """
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except FileNotFoundError:
        raise
    except PermissionError:
        return "locked by another program"
    except OSError as exc:
        return f"cannot be opened ({exc.strerror or exc})"
    return None


def scan_options(config: Config) -> ScanOptions:
    """Worker options from the configuration (limits, pattern sets, hash key, partner identifiers)."""
    from scanner.decide.policy import PartnerDictionary

    partners = PartnerDictionary.from_config(config)
    return ScanOptions(
        limits=config.limits,
        pattern_dirs=tuple(str(p) for p in config.scan.pattern_dirs),
        hash_key=config.hash_key(),
        partners=partners if partners else None,
    )


def journal_path_for(config: Config) -> Path:
    db = config.audit.database
    return db.with_name(db.stem + ".watch.sqlite")


def status_path_for(config: Config) -> Path:
    db = config.audit.database
    return db.with_name(db.stem + ".watch-status.json")


def lock_path_for(config: Config) -> Path:
    db = config.audit.database
    return db.with_name(db.stem + ".watch.lock")


def _kv(value: object) -> str:
    s = str(value)
    return json.dumps(s, ensure_ascii=False) if (not s or any(c in s for c in ' "=\n\t')) else s


def _log(level: int, event: str, **fields: Any) -> None:
    """Structured log line: ``event key=value ...``; the JSON formatter reads ``fields``."""
    if log.isEnabledFor(level):
        present = {k: v for k, v in fields.items() if v is not None}
        msg = event + "".join(f" {k}={_kv(v)}" for k, v in present.items())
        log.log(level, msg, extra={"event": event, "fields": present})


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class _Folder:
    path: Path  # as configured
    real: str  # realpath: macOS FSEvents reports /private/var for /var
    destination: str
    state: str = "unknown"
    detail: str = ""
    since: str = ""
    ident: tuple[int, int] | None = None  # (st_dev, st_ino): a folder replaced meanwhile needs a new watch
    watch: Any = None  # watchdog ObservedWatch while scheduled


@dataclass(slots=True)
class _Candidate:
    """A file seen in a watched folder, not yet complete (the stability stage)."""

    path: Path
    folder: _Folder
    last_event: float
    sig: tuple[int, int] | None = None  # (size, mtime_ns) at the last poll
    stable_since: float = 0.0
    next_check: float = 0.0
    not_before: float = 0.0  # retry back-off after a failure
    waiting_for: str = ""  # why it is not taken yet (status)
    open_failures: int = 0
    told: bool = False  # a "not sent yet" receipt was written for this wait


@dataclass(slots=True)
class _Job:
    path: Path
    folder: _Folder
    item: Item
    future: Future[list[DocOutcome]] | None = None
    rescanned: bool = False  # scanned a second time after its worker died


@dataclass(slots=True)
class _Counters:
    processed: dict[str, int] = field(default_factory=lambda: {"allow": 0, "label": 0, "block": 0})
    outcomes: dict[str, int] = field(
        default_factory=lambda: {"released": 0, "quarantined": 0, "failed": 0, "skipped": 0}
    )
    done_times: deque[float] = field(default_factory=deque)  # monotonic times within the last minute


class _Handler(FileSystemEventHandler):
    """Only notes paths; never blocks the observer thread (no I/O, no scanning)."""

    def __init__(self, watcher: Watcher):
        super().__init__()
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind not in ("created", "modified", "moved", "closed"):
            return
        raw = event.dest_path if kind == "moved" else event.src_path
        path = os.fsdecode(raw)
        if event.is_directory:
            if kind in ("created", "moved"):
                self._watcher._note_dir(path)  # a folder dropped in: walk it (not every OS reports its files)
            return
        self._watcher._note(path, from_event=True)


# --------------------------------------------------------------------------- the watcher


class Watcher:
    """Watches ``config.watch.folders`` and drives scan -> decide -> act -> record.

    ``pool``: a shared ``WorkerPool`` (the GUI's); when None the watcher makes its own
    with ``config.scan.jobs`` workers and closes it on ``stop``. ``audit``: a shared
    ``AuditLog``; when None the watcher opens ``config.audit.database`` with source
    "watcher". ``on_event(WatchEvent)`` is called from watcher threads (not the caller's
    thread): it must return quickly; the GUI re-emits it as a queued Qt signal.
    """

    def __init__(
        self,
        config: Config,
        pool: WorkerPool | None = None,
        audit: AuditLog | None = None,
        on_event: Callable[[WatchEvent], None] | None = None,
        *,
        write_status_file: bool = True,
        status_interval: float = 1.0,
        rescan_interval: float = 30.0,
        supervise_interval: float = 2.0,
        retry_delay: float = 5.0,
        polling: bool = False,
        max_in_flight: int | None = None,
        queue_size: int | None = None,
        actors: int = 2,
    ):
        if not config.watch.folders:
            raise WatchError("no watched folders are configured (add [[watch.folders]] to the configuration)")
        self.config = config
        self.on_event = on_event
        self.stable_seconds = config.watch.stable_seconds
        self.poll_interval = config.watch.poll_interval
        self.status_path = status_path_for(config) if write_status_file else None
        self.status_interval = status_interval
        self.rescan_interval = rescan_interval
        self.supervise_interval = supervise_interval
        self.retry_delay = retry_delay  # first back-off after a failure; doubles, max 10 min
        self.polling = polling
        self._pool = pool
        self._own_pool = pool is None
        self._audit = audit
        self._own_audit = audit is None
        self._jobs = pool.jobs if pool is not None else max(1, config.scan.jobs or os.cpu_count() or 1)
        # Enough in the pool to keep every worker busy while results are acted on, few
        # enough that a burst of thousands never becomes thousands of futures.
        self.max_in_flight = max_in_flight or 2 * self._jobs
        # Threads that act on results. A move is mostly waiting for fsync (copy, staging
        # folder, audit row): two overlap that wait; moves are collision-safe in parallel.
        self.actors = max(1, actors)
        self._ready: queue.Queue[_Job] = queue.Queue(maxsize=queue_size or max(8, 4 * self._jobs))
        # queue.Queue, not SimpleQueue: with two actors in SimpleQueue.get(timeout=0.1) one was
        # seen (CPython 3.11.7) to stay blocked for over 30 s after the queue emptied.
        self._completions: queue.Queue[_Job] = queue.Queue()
        self._folders = [_Folder(wf.path, os.path.realpath(wf.path), wf.destination) for wf in config.watch.folders]
        self._policies = {f.destination: config.policy_for(f.destination) for f in self._folders}
        # Each folder as configured and as the OS may report it (macOS: /var -> /private/var).
        roots = {(os.path.normcase(r), id(f)): f for f in self._folders for r in (str(f.path), f.real)}
        self._roots = sorted(((r, f) for (r, _), f in roots.items()), key=lambda rf: -len(rf[0]))

        self._lock = threading.Lock()  # guards the maps below and the counters
        self._waiting: dict[str, _Candidate] = {}
        self._active: set[str] = set()  # queued, in the pool, or being acted on
        self._dirty: set[str] = set()  # changed again while active: look again after
        self._dir_requests: set[str] = set()
        self._in_flight: dict[str, _Job] = {}
        self._acting = 0
        self._counters = _Counters()
        self._events: deque[WatchEvent] = deque(maxlen=_EVENTS_KEPT)
        self._errors: deque[WatchEvent] = deque(maxlen=_ERRORS_KEPT)
        self._walk_pending: set[str] = set()  # folders whose catch-up walk has not run yet
        self._links_refused: set[str] = set()  # symbolic links already reported
        self._dest_probe: dict[str, tuple[float, str | None]] = {}  # destination -> (when, problem)
        self._backoff: dict[str, int] = {}  # uncounted retries per file (growing delay)

        self._stop = threading.Event()
        self._wake = threading.Event()  # the dispatcher has something to do
        self._paused = threading.Event()
        self._first_round = threading.Event()
        self._state = "stopped"
        self._started_at: str | None = None
        self._started_mono = 0.0
        self._threads: list[threading.Thread] = []
        self._observer: Any = None
        self._handler = _Handler(self)
        self._journal: WatchJournal | None = None
        self._instance_lock = InstanceLock(lock_path_for(config))
        self.fatal: str | None = None

    # ------------------------------------------------------------------ public API
    def start(self) -> None:
        """Recover, reconcile, then watch. Raises ``WatchError`` if it cannot start.

        Order matters for "nothing lost, nothing twice": first ``actions.recover`` finishes
        or rolls back moves a crash interrupted; then unfinished journal items are
        reconciled with the move journal (done -> closed, source gone -> closed, else
        left to be taken again); then the observer starts *before* the catch-up walk, so a
        file dropped during the walk is seen by one or the other (both: coalesced).
        """
        if self._state == "failed":
            raise WatchError(f"the watcher failed ({self.fatal}); call stop() before starting it again")
        if self._state != "stopped":
            raise WatchError("the watcher is already running")
        self._reset()
        self._set_state("starting")
        try:
            try:
                self._instance_lock.acquire()
            except LockedError as exc:
                raise WatchError(str(exc)) from None
            self._open_stores()
            self._recover()
            if self._pool is None:
                self._pool = WorkerPool(scan_options(self.config), jobs=self._jobs)
            self._start_observer()
        except BaseException:
            self._teardown()
            self._set_state("stopped")
            raise
        self._stop.clear()
        self._started_at = now_iso()
        self._started_mono = time.monotonic()
        self._threads = [
            threading.Thread(target=self._guard(self._scheduler_loop), name="clearance-watch-scheduler", daemon=True),
            threading.Thread(target=self._guard(self._dispatch_loop), name="clearance-watch-dispatch", daemon=True),
        ]
        self._threads += [
            threading.Thread(target=self._guard(self._actor_loop), name=f"clearance-watch-actor-{i}", daemon=True)
            for i in range(self.actors)
        ]
        for t in self._threads:
            t.start()
        self._set_state("paused" if self._paused.is_set() else "running")
        self._emit("started", "", detail=f"watching {len(self._folders)} folder(s)")
        _log(
            logging.INFO,
            "watch_started",
            folders=len(self._folders),
            jobs=self._jobs,
            stable_seconds=self.stable_seconds,
            poll_interval=self.poll_interval,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching; the file being acted on is finished, scans in progress are abandoned
        (their files stay where they are and are taken again on the next start). Joins every
        thread the watcher started."""
        if self._state in ("stopped", "stopping"):
            return
        self._set_state("stopping")
        self._stop.set()
        deadline = time.monotonic() + timeout
        # Our threads first: the scheduler may be scheduling a watch, which must not
        # start an emitter on an observer that is already stopping.
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        if self._observer is not None:
            with contextlib.suppress(Exception):
                self._observer.stop()
            self._observer.join(max(0.1, deadline - time.monotonic()))
        alive = [t for t in (*self._threads, *([self._observer] if self._observer else [])) if t.is_alive()]
        stuck = [t.name for t in alive]
        if stuck:
            # Say where: a service that cannot stop must tell the admin what it is waiting for.
            frames = sys._current_frames()
            where = {t.name: "".join(traceback.format_stack(frames[t.ident])[-6:]) for t in alive if t.ident in frames}
            _log(logging.ERROR, "watch_stop_timeout", threads=",".join(stuck), stacks=json.dumps(where))
        with self._lock:
            jobs = list(self._in_flight.values())
            self._in_flight.clear()
        for job in jobs:  # queued in the pool: cancelled; running: result dropped, redone next start
            if job.future is not None:
                job.future.cancel()
        self._emit("stopped", "", detail="watcher stopped")
        _log(logging.INFO, "watch_stopped", abandoned=len(jobs))
        self._set_state("stopped")
        if not stuck:
            self._teardown()
        self._threads = []
        self._write_status_file()

    def pause(self) -> None:
        """Take no new files (files already in the pool are finished). Events are still noted."""
        self._paused.set()
        if self._state == "running":
            self._set_state("paused")

    def resume(self) -> None:
        self._paused.clear()
        self._wake.set()
        if self._state == "paused":
            self._set_state("running")

    @property
    def queue_capacity(self) -> int:
        """How many complete files may wait for a worker before new ones wait in the folder."""
        return self._ready.maxsize

    @property
    def running(self) -> bool:
        return self._state in ("running", "paused")

    def status(self) -> WatchStatus:
        with self._lock:
            folders = tuple(FolderStatus(str(f.path), f.destination, f.state, f.detail, f.since) for f in self._folders)
            now = time.monotonic()
            span = min(60.0, max(1e-3, now - self._started_mono)) if self._started_mono else 60.0
            recent = sum(1 for t in self._counters.done_times if now - t <= 60.0)
            return WatchStatus(
                state=self._state,
                folders=folders,
                waiting=len(self._waiting),
                queued=self._ready.qsize(),
                in_flight=len(self._in_flight) + self._acting,
                processed=dict(self._counters.processed),
                outcomes=dict(self._counters.outcomes),
                files_per_s=recent / span if recent else 0.0,
                events=tuple(self._events),
                errors=tuple(self._errors),
                started=self._started_at,
                updated=now_iso(),
                pid=os.getpid(),
            )

    def waiting_reasons(self) -> dict[str, str]:
        """Why each waiting file is not taken yet ('' while its stability clock runs)."""
        with self._lock:
            return {k: c.waiting_for for k, c in self._waiting.items()}

    def wait_idle(self, timeout: float) -> bool:
        """Block until the catch-up walk has run and nothing is waiting, queued or in flight."""
        deadline = time.monotonic() + timeout
        if not self._first_round.wait(timeout):
            return False
        while time.monotonic() < deadline:
            with self._lock:
                busy = bool(
                    self._waiting or self._active or self._in_flight or self._dir_requests or self._walk_pending
                )
            if not busy and self._ready.empty():
                return True
            if self._stop.wait(0.05):
                return False
        return False

    # ------------------------------------------------------------------ start-up
    def _reset(self) -> None:
        """Forget the in-memory state of a previous run (the journal holds what matters)."""
        with self._lock:
            self._waiting.clear()
            self._active.clear()
            self._dirty.clear()
            self._dir_requests.clear()
            self._in_flight.clear()
            self._walk_pending.clear()
            self._acting = 0
            for f in self._folders:
                f.state, f.detail, f.since, f.ident, f.watch = "unknown", "", "", None, None
        self._dest_probe.clear()
        self._backoff.clear()
        for q in (self._ready, self._completions):
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
        self._first_round.clear()
        self.fatal = None

    def _open_stores(self) -> None:
        self._journal = WatchJournal(journal_path_for(self.config))
        if self._audit is None:
            self._audit = AuditLog(self.config.audit.database, source="watcher")
        try:
            self._audit.note_config(self.config)
        except Exception as exc:
            _log(logging.WARNING, "config_not_recorded", error=str(exc))

    def _recover(self) -> None:
        assert self._audit is not None
        for r in actions.recover(actions.Journal(self._audit)):
            self._emit("recovered", str(r.source), detail=r.message)
            _log(logging.WARNING, "move_recovered", op=r.op, outcome=r.outcome, path=str(r.source), where=str(r.where))
        for p in actions.sweep_stale_temp_files([self.config.quarantine.folder]):
            _log(logging.INFO, "stale_temp_removed", path=str(p))
        self._reconcile()

    def _reconcile(self) -> None:
        """Close journal items that a crash left open, using the move journal as the truth."""
        assert self._journal is not None and self._audit is not None
        items = self._journal.unfinished()
        if not items:
            return
        since = min(i.created for i in items)
        moves: dict[str, list[actions.JournalEntry]] = {}
        for e in actions.Journal(self._audit).entries():
            if e.created >= since and e.op in ("release", "quarantine") and e.state == "done":
                moves.setdefault(str(e.source), []).append(e)
        for item in items:
            done = [e for e in moves.get(item.path, []) if e.created >= item.created]
            path = Path(item.path)
            if done:
                e = done[-1]
                kept = _same_content(path, e.source_sha256)
                outcome = "released" if e.op == "release" else "quarantined"
                self._journal.advance(
                    item.id,
                    "done",
                    outcome=outcome,
                    target=str(e.target),
                    sha256=e.source_sha256,
                    source_kept=kept,
                    **_stat_cols(path if kept else None),
                )
                self._emit(
                    "recovered",
                    item.path,
                    item.destination,
                    e.audit_fields.get("verdict"),
                    f"{outcome} before the interruption: {e.target.name}",
                )
                self._receipt_after_recovery(path, item, e, outcome)
                _log(logging.INFO, "item_reconciled", path=item.path, outcome=outcome)
            elif not path.exists():
                self._journal.advance(item.id, "gone", error="removed from the folder before it was processed")
            # else: still there and not moved: the catch-up walk takes it again (same item)

    def _start_observer(self) -> None:
        if self.polling:
            from watchdog.observers.polling import PollingObserver

            self._observer = PollingObserver(timeout=max(0.5, self.poll_interval))
        else:
            from watchdog.observers import Observer

            self._observer = Observer()
        self._observer.name = "clearance-watch-observer"
        self._observer.start()

    def _teardown(self) -> None:
        if self._own_pool and self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._own_audit and self._audit is not None:
            self._audit.close()
            self._audit = None
        self._observer = None
        self._instance_lock.release()

    def _guard(self, loop: Callable[[], None]) -> Callable[[], None]:
        """A thread body that turns an unexpected crash into a reported, fatal stop (never silent)."""

        def run() -> None:
            try:
                loop()
            except BaseException as exc:
                self.fatal = f"{threading.current_thread().name}: {type(exc).__name__}: {exc}"
                log.exception("watcher thread crashed")
                self._emit("error", "", detail=f"the watcher stopped working: {self.fatal}")
                self._stop.set()
                self._set_state("failed")

        return run

    # ------------------------------------------------------------------ stage 1: noting paths
    def _locate(self, raw: str) -> tuple[Path, _Folder] | None:
        """The path as spelled under its configured folder, and that folder (None: not ours)."""
        norm = os.path.normcase(raw)  # Windows: case-insensitive, either slash (same length)
        for root, f in self._roots:  # longest first: a folder watched inside another is its own
            if norm == root:
                return None
            if norm.startswith(root) and norm[len(root) : len(root) + 1] in (os.sep, "/"):
                rel = raw[len(root) + 1 :]
                parts = Path(rel).parts
                if any(is_ignored_dir(p) for p in parts[:-1]) or is_ignored(parts[-1]):
                    return None
                return f.path / rel, f
        return None

    def _note(self, raw: str, from_event: bool) -> None:
        found = self._locate(raw)
        if found is None:
            return
        path, folder = found
        key = str(path)
        now = time.monotonic()
        with self._lock:
            if key in self._active:
                if from_event:
                    self._dirty.add(key)
                return
            cand = self._waiting.get(key)
            if cand is None:
                self._waiting[key] = _Candidate(path, folder, last_event=now if from_event else 0.0, next_check=now)
            elif from_event:
                cand.last_event = now

    def _note_dir(self, raw: str) -> None:
        if self._locate(raw + os.sep + "x") is None:
            return
        with self._lock:
            self._dir_requests.add(raw)

    # ------------------------------------------------------------------ stage 2: scheduler
    def _scheduler_loop(self) -> None:
        tick = max(0.02, min(0.25, self.poll_interval / 2))
        next_supervise = next_rescan = next_status = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_supervise:
                self._supervise()
                next_supervise = now + self.supervise_interval
            if now >= next_rescan and next_rescan:
                with self._lock:
                    self._walk_pending.update(str(f.path) for f in self._folders if f.state == FOLDER_OK)
            if now >= next_rescan:
                next_rescan = now + self.rescan_interval
            self._run_walks()
            self._check_waiting()
            self._first_round.set()
            if self.status_path is not None and now >= next_status:
                self._write_status_file()
                next_status = now + self.status_interval
            self._stop.wait(tick)

    def _supervise(self) -> None:
        """Probe each folder; (re)schedule its watch when it (re)appears, drop it when it goes."""
        for f in self._folders:
            state, detail, ident = _probe_folder(f.path)
            if state == FOLDER_OK and (f.watch is None or f.ident != ident):
                self._unschedule(f)
                try:
                    f.watch = self._observer.schedule(
                        self._handler, str(f.path), recursive=True, event_filter=_EVENT_FILTER
                    )
                    f.ident = ident
                except OSError as exc:
                    state, detail = _classify(exc)
                else:
                    with self._lock:
                        self._walk_pending.add(str(f.path))  # catch-up: files dropped while not watched
            elif state != FOLDER_OK and f.watch is not None:
                self._unschedule(f)
            if state != f.state or (state != FOLDER_OK and detail != f.detail):
                first = f.state == "unknown"
                with self._lock:
                    f.state, f.detail, f.since = state, detail, now_iso()
                if state == FOLDER_OK:
                    if not first:
                        self._emit("folder", str(f.path), f.destination, detail="watched again")
                    _log(logging.INFO, "folder_ok", folder=str(f.path), destination=f.destination)
                else:
                    self._emit("folder", str(f.path), f.destination, detail=f"{state}: {detail}", error=True)
                    _log(logging.WARNING, "folder_unavailable", folder=str(f.path), state=state, detail=detail)

    def _unschedule(self, f: _Folder) -> None:
        if f.watch is None:
            return
        watch, f.watch = f.watch, None
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._observer.unschedule(watch)

    def _run_walks(self) -> None:
        with self._lock:
            roots, self._walk_pending = self._walk_pending, set()
            dirs, self._dir_requests = self._dir_requests, set()
        for root in (*sorted(roots), *sorted(dirs)):
            if self._stop.is_set():
                return
            if root in dirs and os.path.islink(root):
                continue  # a linked folder dropped in: never followed (see _check_one)
            self._walk(root)

    def _walk(self, root: str) -> None:
        """Note every file under ``root`` (not as an event: a file already waiting keeps its clock)."""
        errors: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(root, onerror=errors.append, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not is_ignored_dir(d))
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if name.startswith(_RECEIPT_TMP_PREFIX):
                    # A receipt half-written when a previous run was killed.
                    with contextlib.suppress(OSError):
                        if time.time() - os.stat(full).st_mtime > 60:
                            os.unlink(full)
                    continue
                self._note(full, from_event=False)
        for exc in errors:
            if exc.filename and os.path.normcase(str(exc.filename)) != os.path.normcase(root):
                _log(logging.WARNING, "walk_error", folder=root, error=_words(exc))

    def _check_waiting(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [c for c in self._waiting.values() if c.next_check <= now and c.not_before <= now]
        for cand in due:
            if self._stop.is_set():
                return
            if self._ready.full():
                return  # back-pressure: stays waiting, looked at again next tick
            try:
                self._check_one(cand, now)
            except Exception as exc:
                cand.waiting_for = f"error: {exc}"
                cand.next_check = now + max(5.0, self.poll_interval)
                _log(logging.ERROR, "check_failed", path=str(cand.path), error=f"{type(exc).__name__}: {exc}")

    def _check_one(self, cand: _Candidate, now: float) -> None:
        key = str(cand.path)
        try:
            st = os.lstat(cand.path)
        except FileNotFoundError:
            self._drop(key, cand)
            return
        except OSError as exc:
            cand.waiting_for = f"cannot be read ({_words(exc)})"
            cand.next_check = now + max(self.poll_interval, 5.0)
            return
        through = _through_link(cand.path, cand.folder.path)
        if through or stat_mod.S_ISLNK(st.st_mode):
            # Never follow a link: it would send (and "move") a file the person who dropped
            # the link may not be allowed to read, with the service's rights.
            self._drop(key, cand)
            self._refuse_link(cand, receipt=not through)  # no receipt written through a link either
            return
        if not stat_mod.S_ISREG(st.st_mode):
            self._drop(key, cand)
            return
        sig = (st.st_size, st.st_mtime_ns)
        if sig != cand.sig:
            cand.sig, cand.stable_since = sig, now
            cand.waiting_for = ""
            cand.next_check = now + self.poll_interval
            return
        quiet = now - max(cand.stable_since, cand.last_event)
        if quiet < self.stable_seconds:
            cand.next_check = now + min(self.poll_interval, self.stable_seconds - quiet + 0.01)
            return
        lock = editor_lock(cand.path)
        if lock is not None:
            cand.waiting_for = f"open in an editor ({lock.name})"
            cand.next_check = now + max(self.poll_interval, 2.0)
            return
        try:
            problem = open_problem(cand.path)
        except FileNotFoundError:
            self._drop(key, cand)
            return
        if problem is not None:
            cand.open_failures += 1
            cand.waiting_for = problem
            cand.next_check = now + min(30.0, self.poll_interval * (2 ** min(cand.open_failures, 5)))
            if cand.open_failures in (1, 10, 100):
                _log(logging.INFO, "file_not_ready", path=key, reason=problem, attempts=cand.open_failures)
            return
        unavailable = self._destination_unavailable(cand.folder.destination)
        if unavailable:
            # Not scanned while its release folder is away (an unmounted share): scanning it
            # again and again would fill the audit trail. It waits here and is told why.
            cand.waiting_for = unavailable
            cand.next_check = now + max(self.retry_delay, self.poll_interval)
            if not cand.told:
                cand.told = True
                self._emit("retrying", key, cand.folder.destination, detail=unavailable, error=True)
                self._write_receipt(
                    cand.path,
                    receipt_text(
                        cand.path.name,
                        "waiting",
                        self._title(cand.folder.destination),
                        None,
                        None,
                        (),
                        None,
                        None,
                        note=unavailable,
                    ),
                )
            return
        self._take(key, cand, st)

    def _destination_unavailable(self, destination: str) -> str | None:
        """Why the destination's release folder cannot take files now (None: it can).

        Cached for ``retry_delay``: on an unreachable share every probe may block for the
        network timeout, and the scheduler must not stall on it for every file.
        """
        now = time.monotonic()
        cached = self._dest_probe.get(destination)
        if cached is not None and now - cached[0] < self.retry_delay:
            return cached[1]
        folder = self.config.destinations[destination].folder
        why = (
            None if folder.is_dir() else f"the release folder of {self._title(destination)} is not available ({folder})"
        )
        self._dest_probe[destination] = (time.monotonic(), why)
        return why

    def _take(self, key: str, cand: _Candidate, st: os.stat_result) -> None:
        """A complete file: into the work queue (unless it is one we must not take again)."""
        assert self._journal is not None
        ino = int(st.st_ino)
        last = self._journal.latest(key)
        if (
            last is not None
            and last.same_file(st.st_size, st.st_mtime_ns, ino)
            and (
                (last.state == "done" and last.source_kept)
                or (last.state == "failed" and last.attempts >= MAX_ATTEMPTS)
            )
        ):
            # Released but the source could not be removed, or given up on: not again until it changes.
            self._drop(key, cand)
            return
        item = self._journal.begin(key, cand.folder.destination, st.st_size, st.st_mtime_ns, ino)
        with self._lock:
            if self._waiting.get(key) is not cand:
                return
            del self._waiting[key]
            self._active.add(key)
        self._ready.put_nowait(_Job(cand.path, cand.folder, item))  # only this thread puts: never full here
        self._wake.set()

    def _refuse_link(self, cand: _Candidate, receipt: bool) -> None:
        key = str(cand.path)
        with self._lock:
            if key in self._links_refused:
                return
            self._links_refused.add(key)
        self._count("skipped")
        self._emit("skipped", key, cand.folder.destination, detail="a link, not a file: not sent", error=True)
        _log(logging.WARNING, "link_refused", path=key)
        if receipt:
            self._write_receipt(
                cand.path,
                receipt_text(
                    cand.path.name,
                    "failed",
                    self._title(cand.folder.destination),
                    None,
                    None,
                    (),
                    None,
                    None,
                    note="this is a link (shortcut) to another file, not the file itself: links are never sent. "
                    "Copy the file itself into the folder.",
                ),
            )

    def _drop(self, key: str, cand: _Candidate) -> None:
        with self._lock:
            if self._waiting.get(key) is cand:
                del self._waiting[key]

    # ------------------------------------------------------------------ stages 3 and 4: dispatch, act
    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before looking: a slot freed meanwhile sets it again
            self._submit_ready()
            self._wake.wait(0.1)

    def _actor_loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._completions.get(timeout=0.1)
            except queue.Empty:
                continue
            self._complete(job)

    def _submit_ready(self) -> None:
        while not self._paused.is_set() and not self._stop.is_set() and len(self._in_flight) < self.max_in_flight:
            try:
                job = self._ready.get_nowait()
            except queue.Empty:
                return
            self._submit(job)

    def _submit(self, job: _Job) -> None:
        assert self._journal is not None and self._pool is not None
        key = str(job.path)
        if not job.path.exists():
            self._journal.advance(job.item.id, "gone", error="removed from the folder before it was scanned")
            self._release(key)
            return
        attempts = job.item.attempts + 1
        self._journal.advance(job.item.id, "scanning", attempts=attempts)
        job.item = _with(job.item, attempts=attempts)
        with self._lock:
            self._in_flight[key] = job
        job.future = self._pool.submit(job.path, key, PRIORITY_BACKGROUND)
        job.future.add_done_callback(functools.partial(self._scanned, job))

    def _scanned(self, job: _Job, _future: Future[list[DocOutcome]]) -> None:
        """Runs in a pool thread: hand the result to an actor, nothing else."""
        self._completions.put(job)

    def _complete(self, job: _Job) -> None:
        key = str(job.path)
        with self._lock:
            if self._in_flight.get(key) is not job:
                return  # abandoned by stop()
            del self._in_flight[key]
            self._acting += 1
        self._wake.set()  # a pool slot is free: the dispatcher may submit the next file
        kept = False
        try:
            if self._stop.is_set():
                return  # abandoned: journal says "scanning", redone on the next start
            assert job.future is not None
            if job.future.cancelled():
                self._retry(job, "the scan was cancelled (worker pool closed)", count=False)
                return
            outcomes = job.future.result()
            if not job.rescanned and _worker_died(outcomes):
                kept = self._rescan(job, outcomes)
                if kept:
                    return
            if self._stop.is_set():
                return
            self._process(job, outcomes)
        except Exception as exc:
            log.exception("processing failed")
            self._retry(job, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._acting -= 1
            if not kept:
                self._release(key)

    def _rescan(self, job: _Job, outcomes: list[DocOutcome]) -> bool:
        """Scan once more a file whose worker died under it.

        A hostile file kills its worker again and then gets the unscannable verdict. But a
        worker also dies when a stop signal reaches the whole process group (Ctrl-C in a
        console, a service manager signalling every process) a moment before the watcher
        itself hears it: that must not send a clean file to quarantine.
        """
        if self._stop.is_set():
            return True  # stopping: abandon (redone on the next start)
        assert self._pool is not None
        key = str(job.path)
        _log(logging.WARNING, "worker_died_rescanning", path=key, error=outcomes[0].error if outcomes else None)
        job.rescanned = True
        with self._lock:
            self._in_flight[key] = job
        try:
            job.future = self._pool.submit(job.path, key, PRIORITY_BACKGROUND)
        except RuntimeError:  # the shared pool was closed
            with self._lock:
                self._in_flight.pop(key, None)
            return False
        job.future.add_done_callback(functools.partial(self._scanned, job))
        return True

    def _process(self, job: _Job, outcomes: list[DocOutcome]) -> None:
        assert self._journal is not None and self._audit is not None
        key, dest = str(job.path), job.folder.destination
        if not outcomes:  # fail closed: nothing came back means nothing was checked
            outcomes = [DocOutcome(key, "unsupported", "", 0, errors=["the scanner returned no result"])]
        results = decide_outcomes(outcomes, self._policies[dest], dest)
        top = next((r for r in results if r.path == key), results[0])
        # One transaction for the file and its archive members: one fsync, not one per member.
        with self._audit.transaction() as tx:
            for r in results:
                tx.record("scan", **scan_fields(r, dest), source="watcher")
        verdict = top.verdict.value
        self._journal.advance(job.item.id, "decided", sha256=top.outcome.sha256, verdict=verdict)
        with self._lock:
            self._counters.processed[verdict] = self._counters.processed.get(verdict, 0) + 1
        prev = self._previous_kept(key, job.item.id)
        if prev is not None and prev.sha256 == top.outcome.sha256:
            # The same content we already released/quarantined (its source could not be removed).
            self._journal.advance(
                job.item.id, "done", outcome="unchanged", target=prev.target, source_kept=True, **_stat_cols(job.path)
            )
            self._count("skipped")
            return
        if not job.path.exists():
            self._journal.advance(job.item.id, "gone", error="removed from the folder before it was moved")
            return
        self._journal.advance(job.item.id, "acting")
        self._act(job, top)

    def _previous_kept(self, key: str, current_id: int) -> Item | None:
        assert self._journal is not None
        for it in reversed(self._journal.items(key)):
            if it.id != current_id and it.state == "done":
                return it if it.source_kept else None
        return None

    def _act(self, job: _Job, top: FileResult) -> None:
        assert self._audit is not None
        dest = job.folder.destination
        if top.verdict is Verdict.BLOCK:
            self._quarantine(job, top)
            return
        folder = self.config.destinations[dest].folder
        if not folder.is_dir():
            self._dest_probe.pop(dest, None)  # went away since the file was taken
            self._retry(
                job, f"the release folder of {self._title(dest)} is not available ({folder})", count=False, result=top
            )
            return
        try:
            moved = actions.release(job.path, top, dest, self.config, self._audit, decision=top.decision)
        except actions.ActionError as exc:
            if not job.path.exists():
                self._gone(job)
            elif not _same_content(job.path, top.outcome.sha256):
                self._again(job, "changed while it was being scanned")
            elif not folder.is_dir():
                self._retry(
                    job,
                    f"the release folder of {self._title(dest)} is not available ({folder})",
                    count=False,
                    result=top,
                )
            else:
                # Fail closed: a file that should leave but cannot (e.g. its label cannot be
                # written) is held in quarantine with the reason, not left in limbo.
                why = f"could not be released to {self._title(dest)}: {exc}"
                held = FileResult(
                    top.outcome,
                    Decision(Verdict.BLOCK, top.decision.label, (*top.decision.reasons, why), top.decision.overridable),
                    dest,
                )
                _log(logging.WARNING, "release_failed", path=str(job.path), error=str(exc))
                self._quarantine(job, held)
            return
        self._finished(job, top, "released", moved)

    def _quarantine(self, job: _Job, result: FileResult) -> None:
        assert self._audit is not None
        try:
            moved = actions.quarantine(job.path, result, self.config, self._audit, job.folder.destination)
        except actions.ActionError as exc:
            if not job.path.exists():
                self._gone(job)
            else:
                self._retry(job, f"could not be quarantined: {exc}", result=result)
            return
        self._finished(job, result, "quarantined", moved)

    def _finished(self, job: _Job, result: FileResult, outcome: str, moved: actions.Moved) -> None:
        assert self._journal is not None
        key, dest = str(job.path), job.folder.destination
        title = self._title(dest)
        # The receipt before the journal says "done": a crash in between is reconciled at
        # the next start, which writes the receipt again; never a done file without one.
        self._write_receipt(
            job.path,
            receipt_text(
                job.path.name,
                outcome,
                title,
                result.verdict.value,
                result.decision.label,
                result.decision.reasons,
                moved.audit_seq,
                result.outcome.sha256,
                released_as=moved.target.name if outcome == "released" else None,
                note=moved.source_kept,
            ),
        )
        with self._lock:
            self._backoff.pop(key, None)
        kept = moved.source_kept is not None and job.path.exists()
        self._journal.advance(
            job.item.id,
            "done",
            outcome=outcome,
            target=str(moved.target),
            source_kept=kept,
            error=moved.source_kept,
            **_stat_cols(job.path if kept else None),
        )
        self._count(outcome, done=True)
        if outcome == "released":
            label = f", labelled {result.decision.label}" if result.verdict is Verdict.LABEL else ""
            detail = f"released to {title} as {moved.target.name}{label}"
        else:
            detail = "quarantined: " + ("; ".join(result.decision.reasons[:3]) or "blocked by policy")
        if moved.source_kept:
            detail += f" ({moved.source_kept})"
        self._emit(outcome, key, dest, result.verdict.value, detail)
        _log(
            logging.INFO,
            "file_" + outcome,
            path=key,
            destination=dest,
            verdict=result.verdict.value,
            label=result.decision.label,
            target=str(moved.target),
            audit=moved.audit_seq,
            source_kept=moved.source_kept,
        )

    def _gone(self, job: _Job) -> None:
        assert self._journal is not None
        self._journal.advance(job.item.id, "gone", error="removed from the folder before it was moved")
        _log(logging.INFO, "file_gone", path=str(job.path))

    def _again(self, job: _Job, why: str) -> None:
        """The file changed under us: look at it again from the start (no attempt counted)."""
        assert self._journal is not None
        self._journal.advance(job.item.id, "seen", attempts=max(0, job.item.attempts - 1), error=why)
        _log(logging.INFO, "file_changed", path=str(job.path), reason=why)
        with self._lock:
            self._dirty.add(str(job.path))

    def _retry(self, job: _Job, why: str, *, count: bool = True, result: FileResult | None = None) -> None:
        """Leave the file where it is and try again later; after MAX_ATTEMPTS (when counted), until it changes."""
        assert self._journal is not None
        key, dest = str(job.path), job.folder.destination
        attempts = job.item.attempts if count else max(0, job.item.attempts - 1)
        gave_up = count and attempts >= MAX_ATTEMPTS
        self._journal.advance(
            job.item.id, "failed", error=why, attempts=attempts, **_stat_cols(job.path if job.path.exists() else None)
        )
        if gave_up:
            self._count("failed")
            self._emit(
                "failed",
                key,
                dest,
                result.verdict.value if result else None,
                f"{why}; gave up after {attempts} attempts — the file stays in the folder "
                f"(save or copy it again to retry)",
                error=True,
            )
            _log(logging.ERROR, "file_failed", path=key, reason=why, attempts=attempts)
        else:
            with self._lock:
                n = self._backoff[key] = self._backoff.get(key, 0) + 1
            delay = min(600.0, self.retry_delay * (2 ** (n - 1)))
            self._emit(
                "retrying",
                key,
                dest,
                result.verdict.value if result else None,
                f"{why}; will retry in {delay:.0f} s",
                error=True,
            )
            _log(logging.WARNING, "file_retry", path=key, reason=why, attempts=attempts, delay_s=round(delay, 1))
            with self._lock:
                if key not in self._waiting:
                    self._waiting[key] = _Candidate(
                        job.path, job.folder, last_event=0.0, not_before=time.monotonic() + delay
                    )
                    self._dirty.discard(key)
        if job.path.exists():
            self._write_receipt(
                job.path,
                receipt_text(
                    job.path.name,
                    "failed" if gave_up else "waiting",
                    self._title(dest),
                    result.verdict.value if result else None,
                    result.decision.label if result else None,
                    result.decision.reasons if result else (),
                    None,
                    result.outcome.sha256 if result else None,
                    note=why,
                ),
            )

    def _release(self, key: str) -> None:
        """The file is no longer active; if it changed meanwhile, look at it again."""
        with self._lock:
            self._active.discard(key)
            again = key in self._dirty
            self._dirty.discard(key)
        if again:
            self._note(key, from_event=True)

    # ------------------------------------------------------------------ reporting
    def _title(self, destination: str) -> str:
        d = self.config.destinations.get(destination)
        return d.title if d is not None else destination

    def _count(self, outcome: str, done: bool = False) -> None:
        with self._lock:
            self._counters.outcomes[outcome] = self._counters.outcomes.get(outcome, 0) + 1
            if done:
                now = time.monotonic()
                times = self._counters.done_times
                times.append(now)
                while times and now - times[0] > 60.0:
                    times.popleft()

    def _emit(
        self,
        kind: str,
        path: str,
        destination: str | None = None,
        verdict: str | None = None,
        detail: str = "",
        error: bool = False,
    ) -> None:
        ev = WatchEvent(now_iso(), kind, path, destination, verdict, detail)
        with self._lock:
            self._events.append(ev)
            if error or kind in ("failed", "error"):
                self._errors.append(ev)
        if self.on_event is not None:
            try:
                self.on_event(ev)
            except Exception:
                log.exception("on_event callback failed")

    def _set_state(self, state: str) -> None:
        with self._lock:
            self._state = state

    def _write_status_file(self) -> None:
        if self.status_path is None:
            return
        try:
            self.status_path.parent.mkdir(parents=True, exist_ok=True)
            write_status(self.status_path, self.status())
        except OSError as exc:
            _log(logging.DEBUG, "status_not_written", error=_words(exc))

    def _write_receipt(self, path: Path, text: str) -> None:
        """``<name>.clearance.txt`` beside where the file was: the person who dropped it sees why."""
        receipt = path.with_name(path.name + RECEIPT_SUFFIX)
        tmp = path.with_name(f"{_RECEIPT_TMP_PREFIX}{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, receipt)
        except OSError as exc:
            _log(logging.WARNING, "receipt_not_written", path=str(receipt), error=_words(exc))
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _receipt_after_recovery(self, path: Path, item: Item, e: actions.JournalEntry, outcome: str) -> None:
        f = e.audit_fields
        if not path.parent.is_dir():
            return
        self._write_receipt(
            path,
            receipt_text(
                path.name,
                outcome,
                self._title(item.destination),
                f.get("verdict"),
                f.get("label"),
                tuple(f.get("reasons") or ()),
                None,
                e.source_sha256,
                released_as=e.target.name if outcome == "released" else None,
                note="completed after the watcher was interrupted",
            ),
        )


# --------------------------------------------------------------------------- module helpers


def _with(item: Item, **changes: Any) -> Item:
    from dataclasses import replace

    return replace(item, **changes)


def _through_link(path: Path, root: Path) -> bool:
    """Whether a folder between ``root`` and ``path`` is a symbolic link (or junction)."""
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            if parent.is_symlink() or (hasattr(parent, "is_junction") and parent.is_junction()):
                return True
        except OSError:
            return True
        parent = parent.parent
    return False


def _stat_cols(path: Path | None) -> dict[str, int | None]:
    """size/mtime/file id of a source left in place (to recognise it unchanged later)."""
    if path is None:
        return {}
    try:
        st = os.stat(path)
    except OSError:
        return {}
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": int(st.st_ino)}


# How ``pool`` words a worker that died or never started (as opposed to a file's own
# problem such as a timeout or the memory limit, which a second scan would repeat).
_WORKER_DEATH = (
    "scanner worker was killed by signal",
    "scanner worker stopped unexpectedly",
    "scanner worker did not start",
    "scanner worker could not be started",
)


def _worker_died(outcomes: list[DocOutcome]) -> bool:
    return any(e.startswith(_WORKER_DEATH) for o in outcomes for e in o.errors)


def _same_content(path: Path, sha: str | None) -> bool:
    if not sha:
        return False
    try:
        return _sha256(path) == sha
    except OSError:
        return False


def _words(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _classify(exc: OSError) -> tuple[str, str]:
    if isinstance(exc, FileNotFoundError):
        return FOLDER_MISSING, "folder does not exist (unmounted share, renamed or deleted?)"
    if isinstance(exc, PermissionError):
        return FOLDER_DENIED, "no permission to read the folder"
    if isinstance(exc, NotADirectoryError):
        return FOLDER_ERROR, "not a folder"
    return FOLDER_ERROR, _words(exc)


def _probe_folder(path: Path) -> tuple[str, str, tuple[int, int] | None]:
    """(state, detail, (dev, ino)) of a watched folder: does it exist, can it be listed?"""
    try:
        st = os.stat(path)
        if not stat_mod.S_ISDIR(st.st_mode):
            return FOLDER_ERROR, "not a folder", None
        with os.scandir(path) as it:
            next(it, None)
    except OSError as exc:
        state, detail = _classify(exc)
        return state, detail, None
    return FOLDER_OK, "", (st.st_dev, st.st_ino)
