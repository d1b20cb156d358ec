"""Is a dropped file complete? Only then is it scanned, so a file still being written is never sent half.

A file is *complete* when its size and modification time are unchanged for ``stable_seconds``
(polled every ``poll_interval``) and since its last event, no editor lock file sits beside it
(``~$x.docx``, ``.~lock.x#``), and it can be opened (a writer holding it exclusively on Windows
makes ``open`` fail: the file is retried, never failed). Links are never taken: see ``assess``.
"""

from __future__ import annotations

import enum
import logging
import os
import stat as stat_mod
import time
from dataclasses import dataclass
from pathlib import Path

from scanner.watch.folders import WatchedFolder, through_link
from scanner.watch.logs import log_event, words

# An editor lock file older than this is taken to be stale (the editor crashed).
EDITOR_LOCK_MAX_AGE_S = 2 * 3600.0
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
# How long a file waits before it is looked at again, by why it waits.
_UNREADABLE_RECHECK_S = 5.0
_EDITOR_LOCK_RECHECK_S = 2.0
_LOCKED_RECHECK_MAX_S = 30.0  # a file held open by a writer: doubling back-off up to this
_LOCKED_BACKOFF_STEPS = 5
_LOCKED_LOGGED_AT = (1, 10, 100)  # failed opens that are logged (not every poll)


@dataclass(slots=True)
class Candidate:
    """A file seen in a watched folder, not yet complete (the stability stage)."""

    path: Path
    folder: WatchedFolder
    last_event: float
    sig: tuple[int, int] | None = None  # (size, mtime_ns) at the last poll
    stable_since: float = 0.0
    next_check: float = 0.0
    not_before: float = 0.0  # retry back-off after a failure
    waiting_for: str = ""  # why it is not taken yet (status)
    open_failures: int = 0
    told: bool = False  # a "not sent yet" receipt was written for this wait


class Readiness(enum.Enum):
    COMPLETE = "complete"
    WAITING = "waiting"  # not yet: ``next_check`` and ``waiting_for`` say when and why
    GONE = "gone"
    LINK = "link"  # a symbolic link in the folder itself
    THROUGH_LINK = "through-link"  # reached through a linked folder: no receipt written through it either
    NOT_A_FILE = "not-a-file"  # a device, a pipe, ...


def assess(
    cand: Candidate, now: float, stable_seconds: float, poll_interval: float
) -> tuple[Readiness, os.stat_result | None]:
    """Whether ``cand`` is complete now (with its stat), updating its clock and ``waiting_for``.

    Never follow a link: it would send (and "move") a file the person who dropped the link may
    not be allowed to read, with the service's rights.
    """
    try:
        st = os.lstat(cand.path)
    except FileNotFoundError:
        return Readiness.GONE, None
    except OSError as exc:
        cand.waiting_for = f"cannot be read ({words(exc)})"
        cand.next_check = now + max(poll_interval, _UNREADABLE_RECHECK_S)
        return Readiness.WAITING, None
    if through_link(cand.path, cand.folder.path):
        return Readiness.THROUGH_LINK, None
    if stat_mod.S_ISLNK(st.st_mode):
        return Readiness.LINK, None
    if not stat_mod.S_ISREG(st.st_mode):
        return Readiness.NOT_A_FILE, None
    sig = (st.st_size, st.st_mtime_ns)
    if sig != cand.sig:
        cand.sig, cand.stable_since = sig, now
        cand.waiting_for = ""
        cand.next_check = now + poll_interval
        return Readiness.WAITING, None
    quiet = now - max(cand.stable_since, cand.last_event)
    if quiet < stable_seconds:
        cand.next_check = now + min(poll_interval, stable_seconds - quiet + 0.01)
        return Readiness.WAITING, None
    lock = editor_lock(cand.path)
    if lock is not None:
        cand.waiting_for = f"open in an editor ({lock.name})"
        cand.next_check = now + max(poll_interval, _EDITOR_LOCK_RECHECK_S)
        return Readiness.WAITING, None
    try:
        problem = open_problem(cand.path)
    except FileNotFoundError:
        return Readiness.GONE, None
    if problem is not None:
        cand.open_failures += 1
        cand.waiting_for = problem
        backoff = poll_interval * (2 ** min(cand.open_failures, _LOCKED_BACKOFF_STEPS))
        cand.next_check = now + min(_LOCKED_RECHECK_MAX_S, backoff)
        if cand.open_failures in _LOCKED_LOGGED_AT:
            log_event(logging.INFO, "file_not_ready", path=str(cand.path), reason=problem, attempts=cand.open_failures)
        return Readiness.WAITING, None
    return Readiness.COMPLETE, st


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
