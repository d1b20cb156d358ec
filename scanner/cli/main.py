"""`clearance` command line. Exit codes: 0 nothing blocked; 1 something blocked or
unscannable; 2 usage or configuration error. Errors are one clear line, never a traceback."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2

# Subcommands contributed by other modules: each has register(subparsers).
_COMMAND_MODULES = ("scanner.cli.label", "scanner.cli.audit", "scanner.cli.watch")


class UsageError(Exception):
    """A mistake the user can fix: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _out() -> TextIO:
    # Never die on a file name the console cannot encode.
    try:
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        pass
    return sys.stdout


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clearance", description="Classify and clear files before they leave the company.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

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

    pats = sub.add_parser("patterns", help="list, test or validate pattern sets")
    pats.add_argument("action", choices=("list", "test", "validate"))
    pats.add_argument(
        "files", nargs="*", type=Path, metavar="FILE_OR_DIR", help="pattern files/folders (default: the built-in sets)"
    )
    pats.add_argument("--no-builtin", action="store_true", help="only the given files")
    pats.set_defaults(func=cmd_patterns)

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("paths", nargs="*", type=Path)
    gui.add_argument("--config", type=Path, metavar="FILE")
    gui.set_defaults(func=cmd_gui)

    for mod_name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name != mod_name:
                raise
            continue
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from scanner import __version__

            print(f"clearance {__version__}")
            return EXIT_OK
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        return int(args.func(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        from scanner.errors import ConfigError, PatternLoadError

        if isinstance(exc, ConfigError | PatternLoadError):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_BLOCKED


# ---------------------------------------------------------------------- scan
def load_runtime(args: argparse.Namespace) -> Any:
    """Config + scan options + policy for a command; errors become UsageError."""
    from scanner.pipeline.runtime import Runtime

    return Runtime.from_args(getattr(args, "config", None), getattr(args, "patterns", []) or [])


def cmd_scan(args: argparse.Namespace) -> int:
    from scanner.pipeline.scan import scan_paths

    for p in args.paths:
        if not p.exists():
            raise UsageError(f"no such file or folder: {p}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    rt = load_runtime(args)
    destination = args.destination
    if destination is not None:
        rt.check_destination(destination)
    out = _out()
    worst = EXIT_OK
    audit = None if args.no_audit else rt.audit()
    for result in scan_paths(
        args.paths,
        rt.options(keep_near_misses=args.explain),
        policy=rt.policy_for(destination),
        destination=destination,
        jobs=args.jobs or rt.jobs,
    ):
        if result.verdict.value == "block" or result.outcome.error:
            worst = EXIT_BLOCKED
        if args.format == "jsonl":
            out.write(json.dumps(result.to_dict(reveal=args.reveal, explain=args.explain), ensure_ascii=True) + "\n")
        else:
            out.write(format_text(result, explain=args.explain) + "\n")
        out.flush()
        if audit is not None:
            audit.record_scan(result, source="cli", destination=destination)
            if args.reveal and result.outcome.findings:
                audit.record("reveal", path=result.path, count=len(result.outcome.findings), source="cli")
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


# ---------------------------------------------------------------------- extract
def cmd_extract(args: argparse.Namespace) -> int:
    from scanner.extract.registry import extract_file
    from scanner.model import DocProblem, DocStart, Segment
    from scanner.pipeline.scan import iter_files

    for p in args.paths:
        if not p.exists():
            raise UsageError(f"no such file or folder: {p}")
    rt = load_runtime(args)
    out = _out()
    status = EXIT_OK
    for path, display in iter_files(args.paths):
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


# ---------------------------------------------------------------------- patterns
def cmd_patterns(args: argparse.Namespace) -> int:
    from scanner.detect.match import Matcher
    from scanner.detect.patterns import PatternSetError, load_pattern_set, run_examples

    try:
        pset = load_pattern_set(args.files, include_builtin=not args.no_builtin)
    except PatternSetError as exc:
        for e in exc.errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"{len(exc.errors)} problem(s); no pattern set loaded", file=sys.stderr)
        return EXIT_USAGE
    out = _out()
    if args.action == "list":
        for p in pset.patterns:
            out.write(f"{p.id:34} {p.category:8} {p.severity:7} {p.name}\n")
        out.write(f"{len(pset)} patterns from {len(pset.sources)} file(s)\n")
        return EXIT_OK
    if args.action == "validate":
        engines = Matcher(pset, b"validate").engines()
        counts = {
            e: sum(1 for v in engines.values() if v == e) for e in ("vectorscan", "vectorscan-prefilter", "regex")
        }
        for pid, engine in engines.items():
            if engine == "regex":
                out.write(f"{pid}: Vectorscan cannot compile it: regex pass over each segment (slower)\n")
        out.write(
            f"engines: {counts['vectorscan']} exact in Vectorscan, {counts['vectorscan-prefilter']} as "
            f"Vectorscan prefilters confirmed by regex, {counts['regex']} regex-only fallbacks\n"
        )
        report = run_examples(pset)
        for r in report.failures:
            out.write(f"FAIL {r.pattern} {r.kind}[{r.index}] {r.text!r}: {r.detail}\n")
        out.write(
            f"{len(pset)} patterns valid; {len(report.results) - len(report.failures)}/"
            f"{len(report.results)} examples pass\n"
        )
        return EXIT_OK if not report.failures else EXIT_BLOCKED
    report = run_examples(pset)
    for r in report.results:
        if not r.passed:
            out.write(f"FAIL {r.pattern} {r.kind}[{r.index}] {r.text!r}: {r.detail}\n")
    out.write(f"{len(report.results) - len(report.failures)} passed, {len(report.failures)} failed\n")
    return EXIT_OK if not report.failures else EXIT_BLOCKED


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from gui.app import main as gui_main
    except ImportError as exc:
        raise UsageError(f"the desktop app is not available: {exc}") from exc
    argv = [str(p) for p in args.paths]
    if args.config:
        argv = ["--config", str(args.config), *argv]
    return int(gui_main(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
