"""Stages 3 and 4 of the watcher: complete files into the worker pool, scanned files to the actors.

The dispatcher keeps at most ``max_in_flight`` files in the shared ``WorkerPool`` (at background
priority, so the GUI's interactive scans overtake); a scanned file holds its slot until an actor
takes it, so results never pile up in memory. Actor threads hand each result to ``Actor``.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace

from scanner.model import DocOutcome
from scanner.pipeline.pool import PRIORITY_BACKGROUND, WorkerPool
from scanner.pipeline.protocol import worker_failure
from scanner.watch.acting import Actor, Job
from scanner.watch.journal import WatchJournal
from scanner.watch.logs import log, log_event

_WAKE_TIMEOUT_S = 0.1  # how long a dispatcher or actor thread sleeps when there is nothing to do


class Dispatcher:
    """The bounded queue of complete files, the files in the pool, and the threads that move them.

    ``release(path)`` is called when a file is no longer active (acted on, gone, or given back).
    """

    def __init__(
        self,
        max_in_flight: int,
        queue_size: int,
        stop: threading.Event,
        paused: threading.Event,
        release: Callable[[str], None],
    ):
        self.max_in_flight = max_in_flight
        self.ready: queue.Queue[Job] = queue.Queue(maxsize=queue_size)
        # queue.Queue, not SimpleQueue: with two actors in SimpleQueue.get(timeout=0.1) one was
        # seen (CPython 3.11.7) to stay blocked for over 30 s after the queue emptied.
        self._completions: queue.Queue[Job] = queue.Queue()
        self.wake = threading.Event()  # the dispatcher has something to do
        self._stop = stop
        self._paused = paused
        self._release = release
        self._lock = threading.Lock()  # guards the two below
        self._in_flight: dict[str, Job] = {}
        self._acting = 0
        self._pool: WorkerPool | None = None
        self._journal: WatchJournal | None = None
        self._actor: Actor | None = None

    def attach(self, pool: WorkerPool | None, journal: WatchJournal | None, actor: Actor | None) -> None:
        """What the threads work with, from start to stop."""
        self._pool, self._journal, self._actor = pool, journal, actor

    def take(self, job: Job) -> None:
        """A complete file (the scheduler is the only caller, after checking ``ready.full()``)."""
        self.ready.put_nowait(job)
        self.wake.set()

    def reset(self) -> None:
        with self._lock:
            self._in_flight.clear()
            self._acting = 0
        for q in (self.ready, self._completions):
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break

    def abandon(self) -> int:
        """Drop every file in the pool: queued ones are cancelled, running ones' results ignored."""
        with self._lock:
            jobs = list(self._in_flight.values())
            self._in_flight.clear()
        for job in jobs:  # their files are taken again on the next start
            if job.future is not None:
                job.future.cancel()
        return len(jobs)

    def in_flight(self) -> int:
        """Files in the pool or being acted on."""
        with self._lock:
            return len(self._in_flight) + self._acting

    def idle(self) -> bool:
        with self._lock:
            return not self._in_flight and self.ready.empty()

    # ------------------------------------------------------------------ threads
    def dispatch_loop(self) -> None:
        while not self._stop.is_set():
            self.wake.clear()  # before looking: a slot freed meanwhile sets it again
            self._submit_ready()
            self.wake.wait(_WAKE_TIMEOUT_S)

    def actor_loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._completions.get(timeout=_WAKE_TIMEOUT_S)
            except queue.Empty:
                continue
            self._complete(job)

    def _submit_ready(self) -> None:
        while not self._paused.is_set() and not self._stop.is_set() and len(self._in_flight) < self.max_in_flight:
            try:
                job = self.ready.get_nowait()
            except queue.Empty:
                return
            self._submit(job)

    def _submit(self, job: Job) -> None:
        assert self._journal is not None and self._pool is not None
        key = str(job.path)
        if not job.path.exists():
            self._journal.advance(job.item.id, "gone", error="removed from the folder before it was scanned")
            self._release(key)
            return
        attempts = job.item.attempts + 1
        self._journal.advance(job.item.id, "scanning", attempts=attempts)
        job.item = replace(job.item, attempts=attempts)
        with self._lock:
            self._in_flight[key] = job
        job.future = self._pool.submit(job.path, key, PRIORITY_BACKGROUND)
        job.future.add_done_callback(functools.partial(self._scanned, job))

    def _scanned(self, job: Job, _future: Future[list[DocOutcome]]) -> None:
        """Runs in a pool thread: hand the result to an actor, nothing else."""
        self._completions.put(job)

    def _complete(self, job: Job) -> None:
        key = str(job.path)
        with self._lock:
            if self._in_flight.get(key) is not job:
                return  # abandoned by stop()
            del self._in_flight[key]
            self._acting += 1
        self.wake.set()  # a pool slot is free: the dispatcher may submit the next file
        kept = False
        actor = self._actor
        try:
            if self._stop.is_set() or actor is None:
                return  # abandoned: journal says "scanning", redone on the next start
            assert job.future is not None
            if job.future.cancelled():
                actor.retry(job, "the scan was cancelled (worker pool closed)", count=False)
                return
            outcomes = job.future.result()
            failure = worker_failure(outcomes)
            if not job.rescanned and failure is not None and failure.worker_died:
                kept = self._rescan(job, outcomes)
                if kept:
                    return
            if self._stop.is_set():
                return
            actor.process(job, outcomes)
        except Exception as exc:
            log.exception("processing failed")
            if actor is not None:
                actor.retry(job, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._acting -= 1
            if not kept:
                self._release(key)

    def _rescan(self, job: Job, outcomes: list[DocOutcome]) -> bool:
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
        log_event(logging.WARNING, "worker_died_rescanning", path=key, error=outcomes[0].error if outcomes else None)
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
