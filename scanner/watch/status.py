"""What the folder watcher reports: typed records, and the status file a running service writes.

The service (``clearance watch``) writes ``WatchStatus`` as JSON beside its journal
about once a second, atomically (temp file + ``os.replace``), so ``clearance status``
in another process — or the desktop app — can show folders, queue, throughput, the
last events and errors without talking to the service. A reader decides whether the
writer is alive from the file's ``updated`` time and its ``pid``.

Nothing here holds a raw matched value: events and receipts carry the policy's
reasons, which use masked values only.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from scanner.config.settings import Config
from scanner.model import Verdict

STATUS_SCHEMA = 1
# A status older than this (seconds) means the writer is gone (it rewrites every ~1 s).
STALE_AFTER_S = 15.0

FOLDER_OK = "ok"
FOLDER_MISSING = "missing"
FOLDER_DENIED = "permission-denied"
FOLDER_ERROR = "error"


def status_path_for(config: Config) -> Path:
    """Where the service writes its status: beside the audit trail it serves."""
    db = config.audit.database
    return db.with_name(db.stem + ".watch-status.json")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One thing that happened, for people: shown in the GUI, the status command and logs.

    ``kind``: started | stopped | released | quarantined | retrying | failed | skipped |
    folder | recovered | error.
    """

    time: str
    kind: str
    path: str
    destination: str | None = None
    verdict: Verdict | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "kind": self.kind,
            "path": self.path,
            "destination": self.destination,
            "verdict": self.verdict,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WatchEvent:
        return cls(
            str(d.get("time", "")),
            str(d.get("kind", "")),
            str(d.get("path", "")),
            d.get("destination"),
            _verdict(d.get("verdict")),
            str(d.get("detail", "")),
        )


@dataclass(frozen=True, slots=True)
class FolderStatus:
    path: str
    destination: str
    state: str  # ok | missing | permission-denied | error
    detail: str = ""
    since: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "destination": self.destination,
            "state": self.state,
            "detail": self.detail,
            "since": self.since,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FolderStatus:
        return cls(
            str(d.get("path", "")),
            str(d.get("destination", "")),
            str(d.get("state", "")),
            str(d.get("detail", "")),
            str(d.get("since", "")),
        )


@dataclass(frozen=True, slots=True)
class WatchStatus:
    """A snapshot of the watcher. ``state``: starting | running | paused | stopping | stopped | failed."""

    state: str
    folders: tuple[FolderStatus, ...] = ()
    waiting: int = 0  # files seen, not yet complete (stability stage)
    queued: int = 0  # complete, waiting for a worker (bounded queue)
    in_flight: int = 0  # submitted to the worker pool or being acted on
    processed: dict[str, int] = field(default_factory=dict)  # by verdict: allow / label / block
    outcomes: dict[str, int] = field(default_factory=dict)  # released / quarantined / failed / skipped
    files_per_s: float = 0.0  # over the last minute
    events: tuple[WatchEvent, ...] = ()
    errors: tuple[WatchEvent, ...] = ()
    started: str | None = None
    updated: str = ""
    pid: int = 0

    @property
    def queue_length(self) -> int:
        return self.waiting + self.queued

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": STATUS_SCHEMA,
            "state": self.state,
            "folders": [f.to_dict() for f in self.folders],
            "waiting": self.waiting,
            "queued": self.queued,
            "in_flight": self.in_flight,
            "processed": dict(self.processed),
            "outcomes": dict(self.outcomes),
            "files_per_s": round(self.files_per_s, 2),
            "events": [e.to_dict() for e in self.events],
            "errors": [e.to_dict() for e in self.errors],
            "started": self.started,
            "updated": self.updated,
            "pid": self.pid,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WatchStatus:
        return cls(
            state=str(d.get("state", "unknown")),
            folders=tuple(FolderStatus.from_dict(f) for f in d.get("folders") or ()),
            waiting=int(d.get("waiting") or 0),
            queued=int(d.get("queued") or 0),
            in_flight=int(d.get("in_flight") or 0),
            processed={str(k): int(v) for k, v in (d.get("processed") or {}).items()},
            outcomes={str(k): int(v) for k, v in (d.get("outcomes") or {}).items()},
            files_per_s=float(d.get("files_per_s") or 0.0),
            events=tuple(WatchEvent.from_dict(e) for e in d.get("events") or ()),
            errors=tuple(WatchEvent.from_dict(e) for e in d.get("errors") or ()),
            started=d.get("started"),
            updated=str(d.get("updated") or ""),
            pid=int(d.get("pid") or 0),
        )

    def age_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds since the writer last refreshed this status (None: unknown)."""
        try:
            then = datetime.fromisoformat(self.updated)
        except ValueError:
            return None
        return ((now or datetime.now(UTC)) - then).total_seconds()

    def is_live(self) -> bool:
        """Whether a watcher is running now: fresh status, a live process, not stopped."""
        if self.state in ("stopped", "failed"):
            return False
        age = self.age_seconds()
        if age is None or age > STALE_AFTER_S:
            return False
        return pid_alive(self.pid)


def _verdict(value: object) -> Verdict | None:
    """A verdict read back from the file; one this version does not know is shown as none."""
    try:
        return Verdict(str(value)) if value else None
    except ValueError:
        return None


def pid_alive(pid: int) -> bool:
    return pid > 0 and bool(psutil.pid_exists(pid))


def write_status(path: Path, status: WatchStatus) -> None:
    """Atomically replace the status file (readers never see half a file)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(status.to_dict(), fh, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    finally:
        # On Windows os.replace fails while a reader has the target open; try again next time.
        tmp.unlink(missing_ok=True)


def read_status(path: Path) -> WatchStatus | None:
    """The last status written, or None when there is none (never run here)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"status file {path} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"status file {path} is unreadable: not a JSON object")
    return WatchStatus.from_dict(data)
