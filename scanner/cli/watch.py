"""``clearance watch`` (the headless background watcher) and ``clearance status``.

    clearance watch [--config FILE] [--log-format text|json] [--log-file FILE] [--polling]
    clearance watch --status [--config FILE] [--format text|json]
    clearance status [--config FILE] [--format text|json]

The service runs until SIGTERM or Ctrl-C (SIGINT), or Ctrl-Break (SIGBREAK) on Windows,
then stops cleanly: the file being moved is finished, scans in progress are abandoned
and redone on the next start. A hard kill (SIGKILL, "End task") is safe as well: the
journals let the next start finish or roll back whatever was interrupted.

``status`` reads the status file the running service rewrites every second (beside
its journal, next to the audit database), so it works from any process and user that
can read that folder. Exit 0: a watcher is running; 1: none is.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import logging.handlers
import signal
import sys
import threading
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner.cli.common import UsageError
from scanner.labels.scheme import placeholder_warnings
from scanner.watch.logs import stderr_is_journal, syslog_priority

EXIT_OK, EXIT_NOT_RUNNING, EXIT_USAGE = 0, 1, 2
_LEVELS = ("debug", "info", "warning", "error")


def register(subparsers: Any) -> None:
    w = subparsers.add_parser(
        "watch",
        help="watch the configured outgoing folders (headless service)",
        description="Watch the outgoing folders of the configuration; scan, release or "
        "quarantine every file dropped there.",
    )
    w.add_argument("--config", type=Path, metavar="FILE")
    w.add_argument("--status", action="store_true", help="show the running watcher's status and exit")
    w.add_argument("--format", choices=("text", "json"), default="text", help="output of --status")
    w.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="key=value lines (default) or JSON lines"
    )
    w.add_argument("--log-file", type=Path, metavar="FILE", help="log here (rotated at 10 MB) instead of stderr")
    w.add_argument("--log-level", choices=_LEVELS, default="info")
    w.add_argument(
        "--polling",
        action="store_true",
        help="poll the folders instead of OS events (network shares that do not report changes)",
    )
    w.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: [scan] jobs, else all cores)")
    w.set_defaults(func=run)

    s = subparsers.add_parser("status", help="show the background watcher's status")
    s.add_argument("--config", type=Path, metavar="FILE")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.set_defaults(func=run, status=True)


def run(args: argparse.Namespace) -> int:

    # Deferred, here and below: `clearance --help` must not load the engine.
    from scanner.config.settings import load_config

    config = load_config(args.config)
    if getattr(args, "status", False):
        return show_status(config, args.format)
    if args.jobs is not None:
        if args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        config = dataclasses.replace(config, scan=dataclasses.replace(config.scan, jobs=args.jobs))
    if not config.watch.folders:
        raise UsageError(
            f"no watched folders in {config.path or 'the default configuration'} "
            f"(add [[watch.folders]] with path and destination)"
        )
    _setup_logging(args.log_format, args.log_file, args.log_level)
    return serve(config, polling=args.polling)


def serve(config: Any, polling: bool = False) -> int:
    """Run the watcher until a stop signal; 0 after a clean stop, 1 if it failed."""
    # Deferred: the watcher pulls in watchdog and the worker pool.
    from scanner.watch.watcher import Watcher, WatchError

    # watchdog's inotify backend warns when a folder created with sub-folders at once is
    # watched twice; harmless. Other warnings go to the log instead of a bare stderr line.
    warnings.filterwarnings("ignore", "Callback with id", RuntimeWarning)
    logging.captureWarnings(True)
    stop = threading.Event()
    restore = _install_signal_handlers(stop)
    try:
        watcher = Watcher(config, polling=polling)
        try:
            watcher.start()
        except WatchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_NOT_RUNNING
        # Short waits: on Windows, signal handlers only run when the main thread wakes.
        while not stop.wait(0.5):
            if watcher.fatal:
                break
        watcher.stop(timeout=60.0)
        if watcher.fatal:
            print(f"error: the watcher failed: {watcher.fatal}", file=sys.stderr)
            return EXIT_NOT_RUNNING
        return EXIT_OK
    finally:
        restore()


def _install_signal_handlers(stop: threading.Event) -> Any:
    """SIGTERM (service managers), SIGINT (Ctrl-C; NSSM/WinSW stop), SIGBREAK (Windows Ctrl-Break)."""
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        logging.getLogger("clearance.watch").info(
            "stop_requested signal=%s",
            signal.Signals(signum).name,
            extra={"event": "stop_requested", "fields": {"signal": signal.Signals(signum).name}},
        )
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            try:
                previous[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):
                pass

    def restore() -> None:
        for sig, old in previous.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError):
                pass

    return restore


# ---------------------------------------------------------------------- logging


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=info file_released path=... destination=acme``: grep- and journald-friendly."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
        line = f"ts={ts} level={record.levelname.lower()} {record.getMessage()}"
        if record.exc_info:
            line += " exc=" + json.dumps(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, event, and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "priority": syslog_priority(record.levelno),
            "logger": record.name,
        }
        event = getattr(record, "event", None)
        if event:
            out["event"] = event
            for k, v in (getattr(record, "fields", None) or {}).items():
                out.setdefault(k, v if isinstance(v, int | float | bool) or v is None else str(v))
        else:
            out["msg"] = record.getMessage()
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class JournalPrefix(logging.Formatter):
    """``<3>`` before each line on a journald stream: journald files the line at that priority
    (``journalctl -p err`` filters on it) and strips the prefix."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        return f"<{syslog_priority(record.levelno)}>" + line.replace("\n", "\\n")


def _setup_logging(fmt: str, log_file: Path | None, level: str) -> None:
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=10 << 20, backupCount=5, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else KeyValueFormatter()
    if log_file is None and stderr_is_journal():
        formatter = JournalPrefix(formatter)
    handler.setFormatter(formatter)
    root = logging.getLogger("clearance")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


# ---------------------------------------------------------------------- status


def show_status(config: Any, fmt: str = "text") -> int:
    # Deferred: start-up cost, as above.
    from scanner.watch.status import read_status, status_path_for

    path = status_path_for(config)
    # Labels written with placeholder ids mean nothing to Purview: said on every status, too.
    warnings = placeholder_warnings(config.label_scheme())
    try:
        st = read_status(path)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_RUNNING
    live = st is not None and st.is_live()
    if fmt == "json":
        out = {"live": live, "status_file": str(path), "warnings": warnings, **(st.to_dict() if st else {})}
        print(json.dumps(out, ensure_ascii=True, indent=1))
        return EXIT_OK if live else EXIT_NOT_RUNNING
    for line in warnings:
        print(f"warning: {line}")
    if st is None:
        print(f"Clearance watcher: not running (no status file at {path})")
        return EXIT_NOT_RUNNING
    print(format_status(st, live))
    return EXIT_OK if live else EXIT_NOT_RUNNING


def format_status(st: Any, live: bool) -> str:
    age = st.age_seconds()
    ago = f"{age:.0f} s ago" if age is not None else "at an unknown time"
    if live:
        head = f"Clearance watcher: {st.state} (pid {st.pid}, since {_short(st.started)}, updated {ago})"
    else:
        head = f"Clearance watcher: not running (last status {st.state}, written {ago} by pid {st.pid})"
    lines = [head, "Folders:"]
    for f in st.folders:
        extra = f"  ({f.detail})" if f.detail else ""
        lines.append(f"  {f.state:<18} {f.path} -> {f.destination}{extra}")
    lines.append(
        f"Queue: {st.waiting} waiting to be complete, {st.queued} queued, {st.in_flight} in progress;"
        f" {st.files_per_s:.1f} files/s over the last minute"
    )
    p, o = st.processed, st.outcomes
    lines.append(
        f"Processed: {p.get('allow', 0)} allowed, {p.get('label', 0)} labelled, {p.get('block', 0)} "
        f"blocked; {o.get('released', 0)} released, {o.get('quarantined', 0)} quarantined, "
        f"{o.get('failed', 0)} failed"
    )
    if st.events:
        lines.append("Last events:")
        for e in list(st.events)[-15:]:
            lines.append(f"  {_short(e.time)}  {e.kind:<11} {e.path}  {e.detail}".rstrip())
    if st.errors:
        lines.append("Errors:")
        for e in list(st.errors)[-10:]:
            lines.append(f"  {_short(e.time)}  {e.kind:<11} {e.path}  {e.detail}".rstrip())
    else:
        lines.append("Errors: none")
    return "\n".join(lines)


def _short(iso: str | None) -> str:
    if not iso:
        return "?"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso
