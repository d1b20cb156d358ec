"""``clearance scan`` (a verdict per file) and ``clearance extract`` (the text the matcher sees)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, NoReturn

from scanner.cli.common import EXIT_BLOCKED, EXIT_OK, UsageError, out_stream
from scanner.model import DocOutcome, DocProblem, DocStart, Segment, Verdict

EXIT_TERMINATED = 128 + signal.SIGTERM  # the shell's convention for "ended by SIGTERM"


class Terminated(Exception):
    """SIGTERM arrived: unwind like Ctrl-C, so the worker pool is closed and its workers killed."""


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While scanning, SIGTERM raises ``Terminated`` in the main thread instead of ending the
    process on the spot, which would leave busy workers running as orphans."""

    def raise_terminated(signum: int, frame: object) -> NoReturn:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    except ValueError:  # not the main thread (an embedding program): its own handling applies
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def register(sub: Any) -> None:
    scan = sub.add_parser("scan", help="scan files and folders; print a verdict per file")
    scan.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    scan.add_argument("--format", choices=("text", "jsonl"), default="text")
    scan.add_argument("--reveal", action="store_true", help="include raw matched text (audited)")
    scan.add_argument("--explain", action="store_true", help="include explanations and near-misses")
    scan.add_argument("--destination", metavar="NAME", help="partner the files are going to")
    scan.add_argument("--config", type=Path, metavar="FILE")
    scan.add_argument(
        "--patterns",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="extra pattern-set folder or file (repeatable; overrides built-ins by id)",
    )
    scan.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: all cores)")
    scan.add_argument("--no-audit", action="store_true", help="do not record this scan in the audit trail")
    scan.set_defaults(func=cmd_scan)

    ext = sub.add_parser("extract", help="print the text segments the matcher sees, with locations")
    ext.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ext.add_argument("--format", choices=("text", "jsonl"), default="text")
    ext.add_argument("--config", type=Path, metavar="FILE")
    ext.set_defaults(func=cmd_extract)


def load_runtime(args: argparse.Namespace) -> Any:
    """Config + scan options + policy for a command; errors become UsageError."""
    # Deferred, like every engine import in the CLI: `clearance status` or `audit` must not pay
    # for the matcher and the extractors at start-up.
    from scanner.pipeline.runtime import Runtime

    return Runtime.from_args(getattr(args, "config", None), getattr(args, "patterns", []) or [])


def cmd_scan(args: argparse.Namespace) -> int:
    # Deferred: start-up cost (see load_runtime).
    from scanner.pipeline.scan import scan_paths

    for p in args.paths:
        if not p.exists():
            raise UsageError(f"no such file or folder: {p}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.reveal and args.no_audit:
        raise UsageError("--reveal is always recorded in the audit trail: it cannot be used with --no-audit")
    rt = load_runtime(args)
    destination = args.destination
    if destination is not None:
        rt.check_destination(destination)
    out = out_stream()
    audit = None if args.no_audit else rt.audit()
    results = scan_paths(
        args.paths,
        rt.options(keep_near_misses=args.explain),
        policy=rt.policy_for(destination),
        destination=destination,
        jobs=args.jobs or rt.jobs,
    )
    # closing(): on Ctrl-C or SIGTERM the pool is closed here, with files in progress abandoned
    # (workers killed), before the exit status is returned.
    try:
        with _sigterm_unwinds(), closing(results):
            return _print_results(results, args, audit, out, destination)
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED


def _print_results(results: Iterator[Any], args: argparse.Namespace, audit: Any, out: Any, destination: Any) -> int:
    worst = EXIT_OK
    for result in results:
        if result.verdict is Verdict.BLOCK or result.outcome.error:
            worst = EXIT_BLOCKED
        # Recorded before printed: a value is never on screen without its reveal row.
        if audit is not None:
            audit.record_scan(result, source="cli", destination=destination)
            if args.reveal and result.outcome.findings:
                audit.record_reveals([(result.path, f) for f in result.outcome.findings], "--reveal", "cli")
        if args.format == "jsonl":
            out.write(json.dumps(result.to_dict(reveal=args.reveal, explain=args.explain), ensure_ascii=True) + "\n")
        else:
            out.write(format_text(result, explain=args.explain) + "\n")
        out.flush()
    return worst


def format_text(result: Any, explain: bool = False) -> str:
    o = result.outcome
    counts = " ".join(f"{k}={v}" for k, v in sorted(result.counts().items()))
    depth = o.path.count("!")
    name = ("  " * depth + "└ " + o.path.rpartition("!")[2]) if depth else o.path
    bits = [f"{result.verdict.value.upper():5}", name.replace("\n", "\\n")]
    if result.decision.label:
        bits.append(f"[{result.decision.label}]")
    if counts:
        bits.append(counts)
    if o.error:
        bits.append(f"error: {o.error}")
    # Deferred: start-up cost (see load_runtime); loaded already whenever there is a result.
    from scanner.pipeline.scan import SKIPPED_NOTE

    if o.notes.get(SKIPPED_NOTE):
        bits.append(f"skipped: {o.notes[SKIPPED_NOTE]}")
    line = "  ".join(bits)
    if explain:
        lines = [line]
        for f in o.findings:
            lines.append(f"      {f.name}: {f.masked} at {f.location.describe()} — {f.explanation.summary()}")
        for n in o.near_misses[:50]:
            lines.append(
                f"      (not flagged) {n.pattern}: {n.masked} at {n.location.describe()} — {n.explanation.summary()}"
            )
        for r in result.decision.reasons:
            lines.append(f"      reason: {r}")
        return "\n".join(lines)
    return line


def cmd_extract(args: argparse.Namespace) -> int:
    # Deferred: start-up cost (see load_runtime).
    from scanner.extract.registry import extract_file
    from scanner.pipeline.scan import iter_inputs

    for p in args.paths:
        if not p.exists():
            raise UsageError(f"no such file or folder: {p}")
    rt = load_runtime(args)
    out = out_stream()
    status = EXIT_OK
    for item in iter_inputs(args.paths):
        if isinstance(item, DocOutcome):  # a folder that cannot be listed, or an entry not opened
            status = _print_unread(item, args.format, out) or status
            continue
        path, display = item
        for ev in extract_file(path, rt.limits):
            doc_path = f"{display}!{ev.doc}" if ev.doc else display
            if isinstance(ev, Segment):
                if args.format == "jsonl":
                    obj = {"path": doc_path, "location": ev.location.to_dict(), "text": ev.text}
                    if ev.context:
                        obj["context"] = ev.context
                    if ev.engine:
                        obj["engine"] = ev.engine
                    out.write(json.dumps(obj, ensure_ascii=True) + "\n")
                else:
                    out.write(f"{doc_path} [{ev.location.describe()}] {ev.text}\n")
            elif isinstance(ev, DocProblem):
                status = EXIT_BLOCKED
                if args.format == "jsonl":
                    out.write(json.dumps({"path": doc_path, "error": ev.reason}, ensure_ascii=True) + "\n")
                else:
                    out.write(f"{doc_path} ERROR {ev.reason}\n")
            elif isinstance(ev, DocStart) and args.format == "text":
                out.write(f"== {doc_path} ({ev.type}, {ev.bytes} bytes)\n")
    return status


def _print_unread(o: DocOutcome, fmt: str, out: Any) -> int | None:
    """``clearance extract``'s line for a folder it could not list or an entry it did not open."""
    # Deferred: start-up cost (see load_runtime); loaded already by the caller.
    from scanner.pipeline.scan import SKIPPED_NOTE

    skipped = o.notes.get(SKIPPED_NOTE)
    if fmt == "jsonl":
        obj = {"path": o.path, "error": o.error} if o.error else {"path": o.path, SKIPPED_NOTE: skipped}
        out.write(json.dumps(obj, ensure_ascii=True) + "\n")
    else:
        out.write(f"{o.path} ERROR {o.error}\n" if o.error else f"{o.path} SKIPPED {skipped}\n")
    return EXIT_BLOCKED if o.error else None
