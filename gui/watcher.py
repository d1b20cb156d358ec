"""The watcher bridge: run ``scanner.watch.watcher.Watcher`` in this process, or show a running service.

In-process: the watcher shares the controller's worker pool (at background priority, so
the user's own scans overtake it) and audit trail. Its ``on_event`` callback runs in
watcher threads; it only posts the event to the GUI thread through a queued signal.
Start and stop (recovery, journal, joining threads) run on a background thread too.

A separate service (``clearance watch``): the app cannot reach into another process,
but the service rewrites a status file beside its journal about once a second
(``scanner.watch.status``); the panel reads it and shows the service's folders, queue,
last events and errors. Only one watcher may serve an audit trail at a time (the
watcher takes a lock), so while a live service owns it the in-process watcher stays off.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gui.services import OpRunner
from gui.session import Session
from scanner.pipeline.pool import WorkerPool
from scanner.record.audit import AuditLog
from scanner.watch.status import FolderStatus, WatchEvent, WatchStatus, now_iso, read_status, status_path_for

MAX_EVENTS = 200
MAX_ERRORS = 100
POLL_MS = 1000  # refresh of the in-process status / the service's status file

# state: "stopped", "starting", "running", "paused", "stopping", "failed", or "service"
# (another process is watching).
ACTIVE = ("starting", "running", "paused", "stopping")


@dataclass(frozen=True, slots=True)
class WatchedFolder:
    path: Path
    destination: str
    state: str  # ok | missing | permission-denied | error | "" (not watched now)
    detail: str = ""


class WatcherService(QObject):
    """Runs the watcher on the app's pool, or follows a watcher service; knows nothing of the views."""

    state_changed = Signal(str)
    events_changed = Signal()
    queue_changed = Signal(int)
    error_added = Signal(str)
    file_blocked = Signal(str, str)  # path, why: the watcher quarantined a dropped file
    files_moved = Signal()  # the watcher released or quarantined a file: new audit rows exist
    _event_posted = Signal(object)  # WatchEvent from a watcher thread (queued)

    def __init__(self, session: Callable[[], Session], pool: Callable[[], WorkerPool], parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self._pool = pool
        self._watcher: Any = None
        self._state = "stopped"
        self._events: deque[WatchEvent] = deque(maxlen=MAX_EVENTS)
        self._errors: deque[str] = deque(maxlen=MAX_ERRORS)
        self._status: WatchStatus | None = None
        self._service: WatchStatus | None = None
        self._queue = 0
        self._restart = False
        self._runner = OpRunner(self)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._event_posted.connect(self._on_event)
        self._timer.start()

    # ------------------------------------------------------------------ facts
    @property
    def state(self) -> str:
        return self._state

    @property
    def running(self) -> bool:
        return self._state in ("running", "paused")

    @property
    def paused(self) -> bool:
        return self._state == "paused"

    @property
    def service(self) -> WatchStatus | None:
        """The live status of a watcher service in another process (None if there is none)."""
        return self._service

    def can_start(self) -> bool:
        return self._state in ("stopped", "failed") and bool(self.folders()) and self._session().usable

    def folders(self) -> list[WatchedFolder]:
        status = self._status or self._service
        states: dict[str, FolderStatus] = {f.path: f for f in status.folders} if status else {}
        out = []
        for f in self._session().config.watch.folders:
            st = states.get(str(f.path))
            if st is not None:
                out.append(WatchedFolder(f.path, f.destination, st.state, st.detail))
            else:
                out.append(WatchedFolder(f.path, f.destination, "ok" if f.path.is_dir() else "missing"))
        return out

    def events(self) -> list[WatchEvent]:
        return list(self._events)

    def errors(self) -> list[str]:
        return list(self._errors)

    def queue(self) -> int:
        return self._queue

    def counts(self) -> dict[str, int]:
        status = self._status or self._service
        return dict(status.outcomes) if status else {}

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start the in-process watcher (recovery and the catch-up walk run off the GUI thread)."""
        if not self.can_start():
            if not self.folders():
                self._error("No watched folders are configured (Settings → Watched folders).")
            return
        if self._service is not None:
            self._error(f"A watcher service (pid {self._service.pid}) already watches these folders.")
            return
        # Deferred: start-up time (watchdog's observers load only once someone starts watching).
        from scanner.watch.watcher import Watcher

        config = self._session().config
        try:
            # Its own log handle, so moves made by the watcher are recorded as the watcher's.
            audit = AuditLog(config.audit.database, source="watcher")
            watcher = Watcher(config, pool=self._pool(), audit=audit, on_event=self._event_posted.emit)
        except Exception as exc:
            self._error(f"The watcher could not start: {exc}")
            return
        self._watcher = watcher
        self._set_state("starting")
        self._runner.run(watcher.start, lambda _r: self._on_started(watcher), self._on_start_failed)

    def pause(self) -> None:
        if self._watcher is not None and self._state == "running":
            self._watcher.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._watcher is not None and self._state == "paused":
            self._watcher.resume()
            self._set_state("running")

    def stop(self) -> None:
        watcher = self._watcher
        if watcher is None or self._state in ("stopping", "stopped"):
            return
        self._set_state("stopping")
        self._runner.run(watcher.stop, lambda _r: self._on_stopped(watcher), lambda e: self._on_stopped(watcher))

    def after_stop(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` in the background once a stop already requested has finished (e.g. close an old pool)."""
        self._runner.run(fn, lambda _r: None, lambda exc: self._error(f"{exc}"))

    def close(self) -> None:
        """Shutdown: stop the watcher and wait for its threads (the app is quitting)."""
        self._timer.stop()
        watcher, self._watcher = self._watcher, None
        self._runner.close()
        if watcher is not None and watcher.running:
            watcher.stop()

    # ------------------------------------------------------------------ background results
    def _on_started(self, watcher: Any) -> None:
        if watcher is not self._watcher:
            return
        self._set_state("paused" if watcher.status().state == "paused" else "running")
        self.poll()

    def _on_start_failed(self, exc: BaseException) -> None:
        self._watcher = None
        self._set_state("stopped")
        self._error(f"The watcher could not start: {exc}")

    def _on_stopped(self, watcher: Any) -> None:
        if watcher is self._watcher:
            self._watcher = None
            self._status = None
            self._set_state("stopped")
            self._set_queue(0)
            if self._restart:
                self._restart = False
                self.start()

    @Slot(object)
    def on_session_changed(self, _session: object) -> None:
        """The config (or the pool) changed: a running watcher restarts on the new one."""
        if self._watcher is not None and self._state in ACTIVE:
            self._restart = True
            self.stop()

    # ------------------------------------------------------------------ events and status
    @Slot(object)
    def _on_event(self, ev: WatchEvent) -> None:
        self._events.append(ev)
        self.poll()
        self.events_changed.emit()
        if ev.kind in ("failed", "error"):
            self._error(f"{Path(ev.path).name + ': ' if ev.path else ''}{ev.detail}")
        if ev.kind == "quarantined":
            self.file_blocked.emit(ev.path, ev.detail or "blocked")
        if ev.kind in ("released", "quarantined"):
            self.files_moved.emit()

    @Slot()
    def poll(self) -> None:
        """Refresh the queue and folder states (in-process), or read the service's status file."""
        watcher = self._watcher
        if watcher is not None:
            status = watcher.status()
            self._status = status
            self._set_queue(status.queue_length + status.in_flight)
            if status.state == "failed" and self._state != "failed":
                self._error(watcher.fatal or "the watcher stopped working")
                self._set_state("failed")
            return
        self._read_service_status()

    def _read_service_status(self) -> None:
        try:
            status = read_status(status_path_for(self._session().config))
        except (ValueError, OSError):
            status = None
        live = status if status is not None and status.is_live() else None
        was = self._service
        self._service = live
        if live is not None:
            if was is None or live.updated != was.updated:
                self._events.clear()
                self._events.extend(live.events)
                self._errors.clear()
                self._errors.extend(f"{e.time[11:19]}  {e.detail}" for e in live.errors)
                self._set_queue(live.queue_length + live.in_flight)
                self.events_changed.emit()
            self._set_state("service")
        elif was is not None:
            self._set_queue(0)
            self._set_state("stopped")

    # ------------------------------------------------------------------ helpers
    def _set_queue(self, n: int) -> None:
        if n != self._queue:
            self._queue = n
            self.queue_changed.emit(n)

    def _error(self, message: str) -> None:
        self._errors.append(f"{now_iso()[11:19]}  {message}")
        self.error_added.emit(message)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)
