"""The watcher's log lines: ``event key=value ...`` for people, the same fields for the JSON formatter."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

log = logging.getLogger("clearance.watch")

# RFC 5424 severities, the "priority" journald (PRIORITY=, `journalctl -p`) and syslog filter on.
_SYSLOG_PRIORITY = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def syslog_priority(levelno: int) -> int:
    """The syslog priority of a logging level: 2 crit, 3 err, 4 warning, 6 info, 7 debug."""
    for floor, priority in _SYSLOG_PRIORITY:
        if levelno >= floor:
            return priority
    return 7


def stderr_is_journal() -> bool:
    """True when stderr is a journald stream (systemd sets ``JOURNAL_STREAM=dev:inode`` for it).

    Only then may a line start with ``<N>``: journald reads that prefix as the line's priority
    and strips it; anywhere else it would be noise in the line."""
    value = os.environ.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    try:
        st = os.fstat(sys.stderr.fileno())
        return bool(value) and (st.st_dev, st.st_ino) == (int(dev), int(ino))
    except (AttributeError, OSError, ValueError):
        return False


def log_event(level: int, event: str, **fields: Any) -> None:
    """One structured line; fields that are None are left out. ``clearance watch --log-format json``
    reads ``record.event`` and ``record.fields``."""
    if log.isEnabledFor(level):
        present = {k: v for k, v in fields.items() if v is not None}
        msg = event + "".join(f" {k}={_quoted(v)}" for k, v in present.items())
        log.log(level, msg, extra={"event": event, "fields": present})


def words(exc: BaseException) -> str:
    """An error in a few words (an OS error's own text, without errno and path)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _quoted(value: object) -> str:
    s = str(value)
    return json.dumps(s, ensure_ascii=False) if (not s or any(c in s for c in ' "=\n\t')) else s
