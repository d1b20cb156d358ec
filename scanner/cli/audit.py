"""``clearance audit verify|export|report``: check and read the audit trail.

- ``verify``: exit 0 when the chain is intact, 1 when it is broken (each problem on
  its own line, naming the row), 2 for usage/configuration errors. Prints the head
  (row count and hash) so it can be noted elsewhere and compared later.
- ``export --format csv|jsonl [--since] [--until] [--output FILE]`` (stdout by default).
- ``report [--since] [--until] --output report.html``: a self-contained HTML summary.
- ``archive [--before DATE]``: copy rows older than DATE (default: all) into an archive
  segment beside the database; ``prune --before DATE`` then deletes archived rows older than
  DATE from the live database, leaving a ``chain_continues`` row. ``verify`` walks the
  segments and the live database as one chain.

The database is the one named by the configuration (``--config FILE``, else the
default location) unless ``--db PATH`` is given.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from scanner.config.settings import ConfigError, load_config
from scanner.record.audit import AuditLog, now_utc, time_bound
from scanner.record.export import export
from scanner.record.report import write_report
from scanner.record.retention import RetentionError, archive, prune, verify_all

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help="verify, export or report on the audit trail",
        description="Check the hash chain of the audit trail, export it, or write an HTML report.",
    )
    sub = parser.add_subparsers(dest="audit_command", metavar="verify|export|report|archive|prune")
    sub.required = True

    def common(p: argparse.ArgumentParser, period: bool = True) -> None:
        p.add_argument("--config", type=Path, metavar="FILE", help="configuration file (finds the database)")
        p.add_argument("--db", type=Path, metavar="PATH", help="audit database (overrides the configuration)")
        if period:
            p.add_argument("--since", metavar="WHEN", help="from this date/time (YYYY-MM-DD or ISO time, local)")
            p.add_argument("--until", metavar="WHEN", help="up to this date (inclusive) or time (exclusive)")
        p.set_defaults(func=run)

    v = sub.add_parser("verify", help="check that no row was edited, deleted, reordered or truncated")
    common(v, period=False)
    e = sub.add_parser("export", help="write rows as CSV or JSON lines")
    e.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")
    e.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of standard output")
    common(e)
    r = sub.add_parser("report", help="write a self-contained HTML summary")
    r.add_argument("--output", "-o", type=Path, metavar="FILE", required=True)
    common(r)
    a = sub.add_parser("archive", help="copy old rows into an archive segment (the chain stays verifiable)")
    a.add_argument("--before", metavar="DATE", help="rows older than this date/time (default: every row)")
    common(a, period=False)
    p = sub.add_parser("prune", help="delete archived rows older than DATE from the live database")
    p.add_argument("--before", metavar="DATE", required=True, help="rows older than this date/time")
    common(p, period=False)
    return parser


def _fail(code: int, message: str) -> int:
    print(f"clearance audit: {message}", file=sys.stderr)
    return code


def database_path(args: argparse.Namespace) -> Path:
    if getattr(args, "db", None) is not None:
        return Path(args.db)
    return load_config(getattr(args, "config", None)).audit.database


def run(args: argparse.Namespace) -> int:
    try:
        db = database_path(args)
    except ConfigError as exc:
        return _fail(EXIT_USAGE, str(exc))
    if not db.is_file():  # never create an empty trail just to "verify" it
        return _fail(EXIT_USAGE, f"no audit database at {db}")
    since, until = getattr(args, "since", None), getattr(args, "until", None)
    if args.audit_command in ("archive", "prune"):
        return _retain(db, args)
    try:
        for bound, is_end in ((since, False), (until, True)):
            if bound is not None:
                time_bound(bound, end=is_end)
    except ValueError as exc:
        return _fail(EXIT_USAGE, str(exc))
    try:
        log = AuditLog(db, source="cli", read_only=True)  # checking evidence must not change it
        log.count()
    except sqlite3.DatabaseError as exc:
        return _fail(
            EXIT_BROKEN if args.audit_command == "verify" else EXIT_USAGE,
            f"{db} is not a readable audit database ({exc})",
        )
    try:
        if args.audit_command == "verify":
            report = verify_all(log)
            if report.ok:
                print(report.summary())
                return EXIT_OK
            print(report.summary())
            for problem in report.problems:
                print(f"  {problem}")
            return EXIT_BROKEN
        if args.audit_command == "export":
            n = export(log, args.format, since, until, args.output)
            if args.output is not None:
                print(f"exported {n} rows to {args.output}", file=sys.stderr)
            return EXIT_OK
        write_report(log, since, until, args.output)
        print(f"report written to {args.output}", file=sys.stderr)
        return EXIT_OK
    except sqlite3.DatabaseError as exc:
        return _fail(EXIT_BROKEN, f"{db}: audit database damaged ({exc})")
    except OSError as exc:
        return _fail(EXIT_USAGE, f"cannot write {getattr(exc, 'filename', '') or 'output'}: {exc.strerror or exc}")
    finally:
        log.close()


def _retain(db: Path, args: argparse.Namespace) -> int:
    before = args.before or now_utc()
    try:
        time_bound(before)
    except ValueError as exc:
        return _fail(EXIT_USAGE, str(exc))
    try:
        with AuditLog(db, source="cli") as log:
            if args.audit_command == "archive":
                seg = archive(log, before)
                if seg is None:
                    print(f"nothing to archive before {before}")
                else:
                    print(f"archived rows {seg.first_seq}–{seg.last_seq} ({seg.rows}) to {seg.file}")
                return EXIT_OK
            done = prune(log, before)
            if done is None:
                print(f"nothing archived before {before} to prune")
            else:
                print(f"pruned rows {done[0]}–{done[1]} (kept in the archive); the chain continues at {done[1] + 1}")
            return EXIT_OK
    except RetentionError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except sqlite3.DatabaseError as exc:
        return _fail(EXIT_BROKEN, f"{db}: {exc}")
    except OSError as exc:
        return _fail(EXIT_USAGE, f"cannot write the archive: {exc.strerror or exc}")
