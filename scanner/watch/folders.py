"""The folders: which names are never taken, whether each watched folder is there, its watch and its walks,
and whether each destination's release folder can take files.

One watchdog observer serves every watched folder (recursive). Its handler only notes paths
(created, modified, moved -> destination, closed-after-write as a hint); it never blocks, reads
or scans. Folders are probed every few seconds: one that disappears or becomes unreadable is
reported and watched again when it returns, with a catch-up walk for what was dropped meanwhile;
a periodic re-walk catches events a platform dropped.

Never taken: temp/lock/OS files (``IGNORE_PATTERNS``) and folders never descended into
(``IGNORE_DIRS``). Symbolic links are never followed (see ``through_link``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import stat as stat_mod
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from scanner.config.settings import Config, WatchFolder
from scanner.watch.logs import log_event, words
from scanner.watch.receipts import RECEIPT_SUFFIX, destination_title, is_receipt_tmp, remove_if_stale
from scanner.watch.status import FOLDER_DENIED, FOLDER_ERROR, FOLDER_MISSING, FOLDER_OK, FolderStatus, now_iso

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
_EVENT_FILTER = [FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent, DirCreatedEvent, DirMovedEvent]
_MIN_POLLING_TIMEOUT_S = 0.5  # the polling observer re-lists every folder this often at most
_UNKNOWN = "unknown"  # a folder's state before its first probe


def is_ignored(name: str) -> bool:
    """Whether a file name is a temp/lock/OS file (or our receipt) the watcher never takes."""
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p) for p in IGNORE_PATTERNS)


def is_ignored_dir(name: str) -> bool:
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p) for p in IGNORE_DIRS)


def through_link(path: Path, root: Path) -> bool:
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


@dataclass(slots=True)
class WatchedFolder:
    path: Path  # as configured
    real: str  # realpath: macOS FSEvents reports /private/var for /var
    destination: str
    state: str = _UNKNOWN
    detail: str = ""
    since: str = ""
    ident: tuple[int, int] | None = None  # (st_dev, st_ino): a folder replaced meanwhile needs a new watch
    watch: Any = None  # watchdog ObservedWatch while scheduled


class _Handler(FileSystemEventHandler):
    """Only notes paths; never blocks the observer thread (no I/O, no scanning)."""

    def __init__(self, on_file: Callable[[str], None], on_dir: Callable[[str], None]):
        super().__init__()
        self._on_file = on_file
        self._on_dir = on_dir

    def dispatch(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind not in ("created", "modified", "moved", "closed"):
            return
        raw = event.dest_path if kind == "moved" else event.src_path
        path = os.fsdecode(raw)
        if event.is_directory:
            if kind in ("created", "moved"):
                self._on_dir(path)  # a folder dropped in: walk it (not every OS reports its files)
            return
        self._on_file(path)


class Folders:
    """The watched folders, their observer, their health and their walks.

    ``note(path, from_event)`` receives every file path seen in a folder, by an event or by a
    walk (as spelled under its configured folder). ``report(folder, problem)`` hears when a
    folder goes away or comes back (``problem`` None: watched again).
    """

    def __init__(
        self,
        configured: Sequence[WatchFolder],
        note: Callable[[str, bool], None],
        report: Callable[[WatchedFolder, str | None], None],
    ):
        self.folders = [WatchedFolder(wf.path, os.path.realpath(wf.path), wf.destination) for wf in configured]
        self._note = note
        self._report = report
        # Each folder as configured and as the OS may report it (macOS: /var -> /private/var).
        roots = {(os.path.normcase(r), id(f)): f for f in self.folders for r in (str(f.path), f.real)}
        self._roots = sorted(((r, f) for (r, _), f in roots.items()), key=lambda rf: -len(rf[0]))
        self._lock = threading.Lock()  # guards the walk requests and the folders' state
        self._walk_pending: set[str] = set()  # folders whose catch-up walk has not run yet
        self._dir_requests: set[str] = set()  # folders dropped into a watched folder
        self._handler = _Handler(lambda raw: note(raw, True), self._note_dir)
        self._observer: BaseObserver | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, polling: bool, poll_interval: float) -> None:
        if polling:
            self._observer = PollingObserver(timeout=max(_MIN_POLLING_TIMEOUT_S, poll_interval))
        else:
            self._observer = Observer()
        self._observer.name = "clearance-watch-observer"
        self._observer.start()

    def stop(self, timeout: float) -> threading.Thread | None:
        """Stop the observer; returns it if it did not end within ``timeout`` (else None)."""
        observer = self._observer
        if observer is None:
            return None
        with contextlib.suppress(Exception):
            observer.stop()
        observer.join(timeout)
        return observer if observer.is_alive() else None

    def forget_observer(self) -> None:
        self._observer = None

    def reset(self) -> None:
        """Forget a previous run: every folder is probed and walked again."""
        with self._lock:
            self._walk_pending.clear()
            self._dir_requests.clear()
            for f in self.folders:
                f.state, f.detail, f.since, f.ident, f.watch = _UNKNOWN, "", "", None, None

    # ------------------------------------------------------------------ where a path belongs
    def locate(self, raw: str) -> tuple[Path, WatchedFolder] | None:
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

    def _note_dir(self, raw: str) -> None:
        if self.locate(raw + os.sep + "x") is None:
            return
        with self._lock:
            self._dir_requests.add(raw)

    # ------------------------------------------------------------------ health
    def snapshot(self) -> tuple[FolderStatus, ...]:
        with self._lock:
            return tuple(FolderStatus(str(f.path), f.destination, f.state, f.detail, f.since) for f in self.folders)

    def supervise(self) -> None:
        """Probe each folder; (re)schedule its watch when it (re)appears, drop it when it goes."""
        assert self._observer is not None
        for f in self.folders:
            state, detail, ident = probe_folder(f.path)
            if state == FOLDER_OK and (f.watch is None or f.ident != ident):
                self._unschedule(f)
                try:
                    f.watch = self._observer.schedule(
                        self._handler, str(f.path), recursive=True, event_filter=_EVENT_FILTER
                    )
                    f.ident = ident
                except OSError as exc:
                    state, detail = classify(exc)
                else:
                    with self._lock:
                        self._walk_pending.add(str(f.path))  # catch-up: files dropped while not watched
            elif state != FOLDER_OK and f.watch is not None:
                self._unschedule(f)
            if state != f.state or (state != FOLDER_OK and detail != f.detail):
                first = f.state == _UNKNOWN
                with self._lock:
                    f.state, f.detail, f.since = state, detail, now_iso()
                if state == FOLDER_OK:
                    if not first:
                        self._report(f, None)
                    log_event(logging.INFO, "folder_ok", folder=str(f.path), destination=f.destination)
                else:
                    self._report(f, f"{state}: {detail}")
                    log_event(logging.WARNING, "folder_unavailable", folder=str(f.path), state=state, detail=detail)

    def _unschedule(self, f: WatchedFolder) -> None:
        if f.watch is None or self._observer is None:
            return
        watch, f.watch = f.watch, None
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._observer.unschedule(watch)

    # ------------------------------------------------------------------ walks
    def rewalk_all(self) -> None:
        """Walk every readable folder again: catches events a platform dropped."""
        with self._lock:
            self._walk_pending.update(str(f.path) for f in self.folders if f.state == FOLDER_OK)

    def walks_pending(self) -> bool:
        with self._lock:
            return bool(self._walk_pending or self._dir_requests)

    def run_walks(self, stop: threading.Event) -> None:
        with self._lock:
            roots, self._walk_pending = self._walk_pending, set()
            dirs, self._dir_requests = self._dir_requests, set()
        for root in (*sorted(roots), *sorted(dirs)):
            if stop.is_set():
                return
            if root in dirs and os.path.islink(root):
                continue  # a linked folder dropped in: never followed
            self.walk(root)

    def walk(self, root: str) -> None:
        """Note every file under ``root`` (not as an event: a file already waiting keeps its clock)."""
        errors: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(root, onerror=errors.append, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not is_ignored_dir(d))
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if is_receipt_tmp(name):
                    remove_if_stale(full)
                    continue
                self._note(full, False)
        for exc in errors:
            if exc.filename and os.path.normcase(str(exc.filename)) != os.path.normcase(root):
                log_event(logging.WARNING, "walk_error", folder=root, error=words(exc))


class ReleaseFolders:
    """Whether each destination's release folder can take files now.

    Cached for ``retry_delay``: on an unreachable share every probe may block for the network
    timeout, and the scheduler must not stall on it for every file.
    """

    def __init__(self, config: Config, retry_delay: float):
        self._config = config
        self._retry_delay = retry_delay
        self._probed: dict[str, tuple[float, str | None]] = {}  # destination -> (when, problem)

    def unavailable(self, destination: str) -> str | None:
        """Why the destination's release folder cannot take files now (None: it can)."""
        now = time.monotonic()
        cached = self._probed.get(destination)
        if cached is not None and now - cached[0] < self._retry_delay:
            return cached[1]
        why = self.problem(destination)
        self._probed[destination] = (time.monotonic(), why)
        return why

    def problem(self, destination: str) -> str | None:
        """Asked now, not cached."""
        folder = self._config.destinations[destination].folder
        if folder.is_dir():
            return None
        return f"the release folder of {destination_title(self._config, destination)} is not available ({folder})"

    def forget(self, destination: str) -> None:
        """It went away since it was last asked: ask again next time."""
        self._probed.pop(destination, None)

    def clear(self) -> None:
        self._probed.clear()


def classify(exc: OSError) -> tuple[str, str]:
    """A folder's state and its words for an error met while probing or watching it."""
    if isinstance(exc, FileNotFoundError):
        return FOLDER_MISSING, "folder does not exist (unmounted share, renamed or deleted?)"
    if isinstance(exc, PermissionError):
        return FOLDER_DENIED, "no permission to read the folder"
    if isinstance(exc, NotADirectoryError):
        return FOLDER_ERROR, "not a folder"
    return FOLDER_ERROR, words(exc)


def probe_folder(path: Path) -> tuple[str, str, tuple[int, int] | None]:
    """(state, detail, (dev, ino)) of a watched folder: does it exist, can it be listed?"""
    try:
        st = os.stat(path)
        if not stat_mod.S_ISDIR(st.st_mode):
            return FOLDER_ERROR, "not a folder", None
        with os.scandir(path) as it:
            next(it, None)
    except OSError as exc:
        state, detail = classify(exc)
        return state, detail, None
    return FOLDER_OK, "", (st.st_dev, st.st_ino)
