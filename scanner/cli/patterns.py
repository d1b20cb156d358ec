"""``clearance patterns list|test|validate``: the pattern sets and their embedded examples."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scanner.cli.common import EXIT_BLOCKED, EXIT_OK, EXIT_USAGE, out_stream


def register(sub: Any) -> None:
    pats = sub.add_parser("patterns", help="list, test or validate pattern sets")
    pats.add_argument("action", choices=("list", "test", "validate"))
    pats.add_argument(
        "files", nargs="*", type=Path, metavar="FILE_OR_DIR", help="pattern files/folders (default: the built-in sets)"
    )
    pats.add_argument("--no-builtin", action="store_true", help="only the given files")
    pats.set_defaults(func=cmd_patterns)


def cmd_patterns(args: argparse.Namespace) -> int:
    # Deferred: compiling the matcher is the expensive part of start-up.
    from scanner.detect.examples import run_examples
    from scanner.detect.match import Matcher
    from scanner.detect.patterns import PatternSetError, load_pattern_set

    try:
        pset = load_pattern_set(args.files, include_builtin=not args.no_builtin)
    except PatternSetError as exc:
        for e in exc.errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"{len(exc.errors)} problem(s); no pattern set loaded", file=sys.stderr)
        return EXIT_USAGE
    out = out_stream()
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
