"""What the watcher tells people: events (for the GUI, the status file and logs) and counters."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from scanner.model import Verdict
from scanner.watch.logs import log
from scanner.watch.status import WatchEvent, now_iso

EVENTS_KEPT = 50
ERRORS_KEPT = 20
THROUGHPUT_WINDOW_S = 60.0  # files/s is measured over the last minute
_ERROR_KINDS = ("failed", "error")


@dataclass(frozen=True, slots=True)
class Tally:
    """The counters at one moment, for ``WatchStatus``."""

    processed: dict[str, int]  # by verdict
    outcomes: dict[str, int]  # released / quarantined / failed / skipped
    files_per_s: float
    events: tuple[WatchEvent, ...]
    errors: tuple[WatchEvent, ...]


class Reporter:
    """Keeps the last events and errors and the counters; ``on_event`` hears each event as it happens.

    ``on_event`` is called from watcher threads (not the caller's thread): it must return quickly;
    the GUI re-emits it as a queued Qt signal.
    """

    def __init__(self, on_event: Callable[[WatchEvent], None] | None):
        self.on_event = on_event
        self._lock = threading.Lock()
        self._processed: dict[str, int] = {v.value: 0 for v in Verdict}
        self._outcomes = {"released": 0, "quarantined": 0, "failed": 0, "skipped": 0}
        self._done_times: deque[float] = deque()  # monotonic times within the throughput window
        self._events: deque[WatchEvent] = deque(maxlen=EVENTS_KEPT)
        self._errors: deque[WatchEvent] = deque(maxlen=ERRORS_KEPT)

    def emit(
        self,
        kind: str,
        path: str,
        destination: str | None = None,
        verdict: Verdict | None = None,
        detail: str = "",
        error: bool = False,
    ) -> None:
        ev = WatchEvent(now_iso(), kind, path, destination, verdict, detail)
        with self._lock:
            self._events.append(ev)
            if error or kind in _ERROR_KINDS:
                self._errors.append(ev)
        if self.on_event is not None:
            try:
                self.on_event(ev)
            except Exception:
                log.exception("on_event callback failed")

    def decided(self, verdict: Verdict) -> None:
        with self._lock:
            self._processed[verdict.value] = self._processed.get(verdict.value, 0) + 1

    def count(self, outcome: str, done: bool = False) -> None:
        """One more file with this outcome; ``done``: it left the folder (counts toward files/s)."""
        with self._lock:
            self._outcomes[outcome] = self._outcomes.get(outcome, 0) + 1
            if done:
                now = time.monotonic()
                times = self._done_times
                times.append(now)
                while times and now - times[0] > THROUGHPUT_WINDOW_S:
                    times.popleft()

    def tally(self, started_mono: float) -> Tally:
        with self._lock:
            now = time.monotonic()
            span = min(THROUGHPUT_WINDOW_S, max(1e-3, now - started_mono)) if started_mono else THROUGHPUT_WINDOW_S
            recent = sum(1 for t in self._done_times if now - t <= THROUGHPUT_WINDOW_S)
            return Tally(
                dict(self._processed),
                dict(self._outcomes),
                recent / span if recent else 0.0,
                tuple(self._events),
                tuple(self._errors),
            )
