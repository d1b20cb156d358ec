"""What the pool and a worker process say to each other, and how a file the worker could not finish comes back.

Everything here crosses a process boundary (pickled through a pipe), so it is plain frozen
dataclasses and enums at module level. The parent sends a ``ScanTask`` (or None: stop);
the worker answers ``Ready`` or ``Failed`` once at start-up, then per task ``Done`` or
``Failed``, with any number of ``Split`` messages before a big PDF's ``Done``.

A file whose worker failed still gets an outcome, an ``UnfinishedOutcome``: its ``errors``
say why in words (audit trail, receipts), its ``failure`` says why for code (the watcher
scans a file again when only its worker died, never when the file itself was the problem).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.model import DocOutcome
from scanner.pipeline.page_split import PageRange


class WorkerFailure(enum.Enum):
    """Why a worker returned no outcomes for a file."""

    STARTUP_TIMEOUT = "startup-timeout"  # the worker did not become ready in time
    NOT_STARTED = "not-started"  # the task could not be sent to the worker
    PATTERNS = "patterns"  # the pattern sets could not be loaded
    KILLED = "killed"  # killed by a signal (the OOM killer, a stop signal to the process group)
    CRASHED = "crashed"  # exited unexpectedly
    TIMEOUT = "timeout"  # the file took longer than the wall-clock limit
    MEMORY = "memory"  # the file needed more than the memory limit
    INTERNAL = "internal"  # an exception inside the worker (a bug, or a result that cannot be pickled)
    ABANDONED = "abandoned"  # the pool was shut down while the file was scanned

    @property
    def worker_died(self) -> bool:
        """The process failed, not the file: a second scan may well succeed.

        A timeout or the memory limit is the file's own doing, and a second scan would repeat it.
        """
        return self in _WORKER_DEATHS


_WORKER_DEATHS = frozenset(
    {WorkerFailure.STARTUP_TIMEOUT, WorkerFailure.NOT_STARTED, WorkerFailure.KILLED, WorkerFailure.CRASHED}
)


@dataclass(slots=True)
class UnfinishedOutcome(DocOutcome):
    """The outcome of a file its worker could not finish (``errors`` holds the words)."""

    failure: WorkerFailure = WorkerFailure.CRASHED


def worker_failure(outcomes: Iterable[DocOutcome]) -> WorkerFailure | None:
    """Why the worker failed on this file, or None when it returned its outcomes."""
    return next((o.failure for o in outcomes if isinstance(o, UnfinishedOutcome)), None)


# ---------------------------------------------------------------- parent -> worker


@dataclass(frozen=True, slots=True)
class PagePart:
    """Scan only these pages: a later part of a split PDF (``scanner.pipeline.page_split``)."""

    start: int
    stop: int

    @property
    def range(self) -> PageRange:
        return (self.start, self.stop)


@dataclass(frozen=True, slots=True)
class MaySplit:
    """A big PDF may hand page ranges back to the pool, planned for this many workers."""

    workers: int


@dataclass(frozen=True, slots=True)
class ScanTask:
    path: str
    display: str
    part: PagePart | MaySplit | None = None


# ---------------------------------------------------------------- worker -> parent


@dataclass(frozen=True, slots=True)
class Ready:
    """The worker compiled its patterns and takes work."""


@dataclass(frozen=True, slots=True)
class Split:
    """The file's later page ranges, for other workers; the sender keeps the first."""

    ranges: tuple[PageRange, ...]


@dataclass(frozen=True, slots=True)
class Done:
    outcomes: list[DocOutcome]


@dataclass(frozen=True, slots=True)
class Failed:
    failure: WorkerFailure
    reason: str  # for people: goes into the file's errors


Reply = Ready | Split | Done | Failed
