"""The watcher's log lines: ``event key=value ...`` for people, the same fields for the JSON formatter."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("clearance.watch")


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
