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

1. **Observer** (``folders``): notes each path seen in the *waiting* map; events for one
   file coalesce into one entry, so a file written in 50 chunks is scanned once.
2. **Scheduler** thread: takes a file once it is complete (``stability``) and its
   destination's release folder is reachable, into a bounded queue; when the queue is full
   files stay waiting (back-pressure). It also supervises and re-walks the folders.
3. **Dispatcher** thread (``dispatch``): keeps at most ``2 × jobs`` files in the shared
   ``WorkerPool`` (at background priority, so the GUI's interactive scans overtake); a
   scanned file holds its slot until an actor takes it, so results never pile up in memory.
4. **Actor** threads (``acting``; two: a durable move mostly waits for fsync, and two
   overlap that wait): decide, record, release or quarantine, write the receipt
   (``receipts``), journal progress.

The state journal (``journal``) and ``recovery`` make a crash at any moment safe: see
``Watcher.start``. A lock file lets only one watcher serve one audit trail at a time (the
desktop app's in-process watcher and the service exclude each other).

Never taken: temp/lock/OS files (``folders.IGNORE_PATTERNS``), and symbolic links or files
reached through a linked folder (following one would let anyone who can write the outgoing
folder send — and delete — a file only the service account may read). While a destination's
release folder is unreachable its files wait unscanned (no audit spam).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable

from scanner.config.settings import Config
from scanner.pipeline.pool import WorkerPool
from scanner.pipeline.runtime import scan_options
from scanner.record.audit import AuditLog
from scanner.watch.acting import MAX_ATTEMPTS, Actor, Job
from scanner.watch.dispatch import Dispatcher
from scanner.watch.folders import Folders, ReleaseFolders, WatchedFolder
from scanner.watch.journal import InstanceLock, LockedError, WatchJournal, journal_path_for, lock_path_for
from scanner.watch.logs import log, log_event, words
from scanner.watch.receipts import Outcome, destination_title, receipt_text, write_receipt
from scanner.watch.recovery import recover
from scanner.watch.reporting import Reporter
from scanner.watch.stability import Candidate, Readiness, assess
from scanner.watch.status import WatchEvent, WatchStatus, now_iso, status_path_for, write_status

_MIN_QUEUE = 8
_QUEUE_PER_JOB = 4
_MIN_CHECK_RETRY_S = 5.0  # a file whose check raised is looked at again after this at the soonest
_STOP_STACK_FRAMES = 6  # frames logged per thread that would not stop


class WatchError(Exception):
    """The watcher cannot start or run; ``str(exc)`` is for the user."""


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
        self._stop = threading.Event()
        self._paused = threading.Event()
        # Complete files waiting for a pool slot: a few per worker; beyond that they wait in the folder.
        queue_size = queue_size or max(_MIN_QUEUE, _QUEUE_PER_JOB * self._jobs)
        self._dispatcher = Dispatcher(self.max_in_flight, queue_size, self._stop, self._paused, self._release)
        self._reporter = Reporter(on_event)
        self._folders = Folders(config.watch.folders, self._note, self._folder_changed)
        self._policies = {f.destination: config.policy_for(f.destination) for f in self._folders.folders}
        self._release_folders = ReleaseFolders(config, retry_delay)

        self._lock = threading.Lock()  # guards the maps below
        self._waiting: dict[str, Candidate] = {}
        self._active: set[str] = set()  # queued, in the pool, or being acted on
        self._dirty: set[str] = set()  # changed again while active: look again after
        self._links_refused: set[str] = set()  # symbolic links already reported

        self._first_round = threading.Event()
        self._state = "stopped"
        self._started_at: str | None = None
        self._started_mono = 0.0
        self._threads: list[threading.Thread] = []
        self._journal: WatchJournal | None = None
        self._actor: Actor | None = None
        self._instance_lock = InstanceLock(lock_path_for(config))
        self.fatal: str | None = None

    # ------------------------------------------------------------------ public API
    def start(self) -> None:
        """Recover, reconcile, then watch. Raises ``WatchError`` if it cannot start.

        Order matters for "nothing lost, nothing twice": first ``recovery`` finishes or
        rolls back what a crash interrupted; then the observer starts *before* the catch-up
        walk, so a file dropped during the walk is seen by one or the other (both: coalesced).
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
            journal, audit = self._open_stores()
            recover(self.config, journal, audit, self._reporter)
            self._actor = Actor(
                self.config,
                self._policies,
                journal,
                audit,
                self._reporter,
                self._release_folders,
                self.retry_delay,
                self._retry_later,
                self._look_again,
            )
            if self._pool is None:
                self._pool = WorkerPool(scan_options(self.config), jobs=self._jobs)
            self._dispatcher.attach(self._pool, journal, self._actor)
            self._folders.start(self.polling, self.poll_interval)
        except BaseException:
            self._teardown()
            self._set_state("stopped")
            raise
        self._stop.clear()
        self._started_at = now_iso()
        self._started_mono = time.monotonic()
        self._threads = [
            threading.Thread(target=self._guard(self._scheduler_loop), name="clearance-watch-scheduler", daemon=True),
            threading.Thread(
                target=self._guard(self._dispatcher.dispatch_loop), name="clearance-watch-dispatch", daemon=True
            ),
        ]
        self._threads += [
            threading.Thread(
                target=self._guard(self._dispatcher.actor_loop), name=f"clearance-watch-actor-{i}", daemon=True
            )
            for i in range(self.actors)
        ]
        for t in self._threads:
            t.start()
        self._set_state("paused" if self._paused.is_set() else "running")
        self._reporter.emit("started", "", detail=f"watching {len(self._folders.folders)} folder(s)")
        log_event(
            logging.INFO,
            "watch_started",
            folders=len(self._folders.folders),
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
        observer = self._folders.stop(max(0.1, deadline - time.monotonic()))
        alive = [t for t in (*self._threads, *([observer] if observer else [])) if t.is_alive()]
        stuck = [t.name for t in alive]
        if stuck:
            # Say where: a service that cannot stop must tell the admin what it is waiting for.
            frames = sys._current_frames()
            where = {
                t.name: "".join(traceback.format_stack(frames[t.ident])[-_STOP_STACK_FRAMES:])
                for t in alive
                if t.ident in frames
            }
            log_event(logging.ERROR, "watch_stop_timeout", threads=",".join(stuck), stacks=json.dumps(where))
        abandoned = self._dispatcher.abandon()  # redone on the next start
        self._reporter.emit("stopped", "", detail="watcher stopped")
        log_event(logging.INFO, "watch_stopped", abandoned=abandoned)
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
        self._dispatcher.wake.set()
        if self._state == "paused":
            self._set_state("running")

    @property
    def queue_capacity(self) -> int:
        """How many complete files may wait for a worker before new ones wait in the folder."""
        return self._dispatcher.ready.maxsize

    @property
    def running(self) -> bool:
        return self._state in ("running", "paused")

    def status(self) -> WatchStatus:
        folders = self._folders.snapshot()
        tally = self._reporter.tally(self._started_mono)
        with self._lock:
            return WatchStatus(
                state=self._state,
                folders=folders,
                waiting=len(self._waiting),
                queued=self._dispatcher.ready.qsize(),
                in_flight=self._dispatcher.in_flight(),
                processed=tally.processed,
                outcomes=tally.outcomes,
                files_per_s=tally.files_per_s,
                events=tally.events,
                errors=tally.errors,
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
            walking = self._folders.walks_pending()
            with self._lock:
                busy = bool(self._waiting or self._active) or walking
            if not busy and self._dispatcher.idle():
                return True
            if self._stop.wait(0.05):
                return False
        return False

    # ------------------------------------------------------------------ start and stop
    def _reset(self) -> None:
        """Forget the in-memory state of a previous run (the journal holds what matters)."""
        with self._lock:
            self._waiting.clear()
            self._active.clear()
            self._dirty.clear()
        self._dispatcher.reset()
        self._folders.reset()
        self._release_folders.clear()
        self._first_round.clear()
        self.fatal = None

    def _open_stores(self) -> tuple[WatchJournal, AuditLog]:
        self._journal = WatchJournal(journal_path_for(self.config))
        if self._audit is None:
            self._audit = AuditLog(self.config.audit.database, source="watcher")
        try:
            self._audit.note_config(self.config)
        except Exception as exc:
            log_event(logging.WARNING, "config_not_recorded", error=str(exc))
        return self._journal, self._audit

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
        self._actor = None
        self._dispatcher.attach(None, None, None)
        self._folders.forget_observer()
        self._instance_lock.release()

    def _guard(self, loop: Callable[[], None]) -> Callable[[], None]:
        """A thread body that turns an unexpected crash into a reported, fatal stop (never silent)."""

        def run() -> None:
            try:
                loop()
            except BaseException as exc:
                self.fatal = f"{threading.current_thread().name}: {type(exc).__name__}: {exc}"
                log.exception("watcher thread crashed")
                self._reporter.emit("error", "", detail=f"the watcher stopped working: {self.fatal}")
                self._stop.set()
                self._set_state("failed")

        return run

    # ------------------------------------------------------------------ stage 1: noting paths
    def _note(self, raw: str, from_event: bool) -> None:
        found = self._folders.locate(raw)
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
                self._waiting[key] = Candidate(path, folder, last_event=now if from_event else 0.0, next_check=now)
            elif from_event:
                cand.last_event = now

    def _folder_changed(self, folder: WatchedFolder, problem: str | None) -> None:
        if problem is None:
            self._reporter.emit("folder", str(folder.path), folder.destination, detail="watched again")
        else:
            self._reporter.emit("folder", str(folder.path), folder.destination, detail=problem, error=True)

    # ------------------------------------------------------------------ stage 2: scheduler
    def _scheduler_loop(self) -> None:
        tick = max(0.02, min(0.25, self.poll_interval / 2))
        next_supervise = next_rescan = next_status = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_supervise:
                self._folders.supervise()
                next_supervise = now + self.supervise_interval
            if now >= next_rescan and next_rescan:
                self._folders.rewalk_all()
            if now >= next_rescan:
                next_rescan = now + self.rescan_interval
            self._folders.run_walks(self._stop)
            self._check_waiting()
            self._first_round.set()
            if self.status_path is not None and now >= next_status:
                self._write_status_file()
                next_status = now + self.status_interval
            self._stop.wait(tick)

    def _check_waiting(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [c for c in self._waiting.values() if c.next_check <= now and c.not_before <= now]
        for cand in due:
            if self._stop.is_set():
                return
            if self._dispatcher.ready.full():
                return  # back-pressure: stays waiting, looked at again next tick
            try:
                self._check_one(cand, now)
            except Exception as exc:
                cand.waiting_for = f"error: {exc}"
                cand.next_check = now + max(_MIN_CHECK_RETRY_S, self.poll_interval)
                log_event(logging.ERROR, "check_failed", path=str(cand.path), error=f"{type(exc).__name__}: {exc}")

    def _check_one(self, cand: Candidate, now: float) -> None:
        key = str(cand.path)
        readiness, st = assess(cand, now, self.stable_seconds, self.poll_interval)
        if readiness is Readiness.WAITING:
            return
        if readiness is not Readiness.COMPLETE or st is None:
            self._drop(key, cand)
            if readiness in (Readiness.LINK, Readiness.THROUGH_LINK):
                self._refuse_link(cand, receipt=readiness is Readiness.LINK)  # no receipt written through a link
            return
        unavailable = self._release_folders.unavailable(cand.folder.destination)
        if unavailable:
            # Not scanned while its release folder is away (an unmounted share): scanning it
            # again and again would fill the audit trail. It waits here and is told why.
            cand.waiting_for = unavailable
            cand.next_check = now + max(self.retry_delay, self.poll_interval)
            if not cand.told:
                cand.told = True
                self._reporter.emit("retrying", key, cand.folder.destination, detail=unavailable, error=True)
                write_receipt(
                    cand.path,
                    receipt_text(
                        cand.path.name, Outcome.WAITING, self._title(cand.folder.destination), note=unavailable
                    ),
                )
            return
        self._take(key, cand, st)

    def _take(self, key: str, cand: Candidate, st: os.stat_result) -> None:
        """A complete file: into the work queue (unless it is one we must not take again)."""
        assert self._journal is not None
        ino = int(st.st_ino)
        last = self._journal.latest(key)
        if last is not None and last.same_file(st.st_size, st.st_mtime_ns, ino) and last.settled(MAX_ATTEMPTS):
            self._drop(key, cand)
            return
        item = self._journal.begin(key, cand.folder.destination, st.st_size, st.st_mtime_ns, ino)
        with self._lock:
            if self._waiting.get(key) is not cand:
                return
            del self._waiting[key]
            self._active.add(key)
        self._dispatcher.take(Job(cand.path, cand.folder, item))

    def _refuse_link(self, cand: Candidate, receipt: bool) -> None:
        key = str(cand.path)
        with self._lock:
            if key in self._links_refused:
                return
            self._links_refused.add(key)
        self._reporter.count("skipped")
        self._reporter.emit("skipped", key, cand.folder.destination, detail="a link, not a file: not sent", error=True)
        log_event(logging.WARNING, "link_refused", path=key)
        if receipt:
            write_receipt(
                cand.path,
                receipt_text(
                    cand.path.name,
                    Outcome.FAILED,
                    self._title(cand.folder.destination),
                    note="this is a link (shortcut) to another file, not the file itself: links are never sent. "
                    "Copy the file itself into the folder.",
                ),
            )

    def _drop(self, key: str, cand: Candidate) -> None:
        with self._lock:
            if self._waiting.get(key) is cand:
                del self._waiting[key]

    # ------------------------------------------------------------------ what the actors give back
    def _retry_later(self, job: Job, delay: float) -> None:
        """The actor gave the file back: it waits ``delay`` seconds in the folder, then is checked again."""
        key = str(job.path)
        with self._lock:
            if key not in self._waiting:
                self._waiting[key] = Candidate(
                    job.path, job.folder, last_event=0.0, not_before=time.monotonic() + delay
                )
                self._dirty.discard(key)

    def _look_again(self, key: str) -> None:
        with self._lock:
            self._dirty.add(key)

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
        return destination_title(self.config, destination)

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
            log_event(logging.DEBUG, "status_not_written", error=words(exc))
