"""``clearance patterns list|test|validate``: the pattern sets and their embedded examples."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scanner.cli.common import EXIT_BLOCKED, EXIT_OK, EXIT_USAGE, Parser, out_stream


def register(sub: Any) -> None:
    pats = sub.add_parser("patterns", help="list, test or validate pattern sets")
    # --no-builtin is accepted before the action as well as anywhere after it
    # (`patterns validate --no-builtin FILE` and `patterns validate FILE --no-builtin`): one
    # sub-command per action gives argparse a single positional list, which it parses
    # intermixed with options. SUPPRESS keeps an action's absent flag from resetting the
    # value given before the action.
    pats.add_argument("--no-builtin", action="store_true", help="only the given files")
    actions = pats.add_subparsers(dest="action", metavar="{list,test,validate}", parser_class=Parser)
    actions.required = True
    for name, helptext in (
        ("list", "list the patterns"),
        ("test", "run every pattern's embedded examples"),
        ("validate", "check the sets load, report the engine per pattern, run the examples"),
    ):
        act = actions.add_parser(name, help=helptext)
        act.add_argument(
            "files",
            nargs="*",
            type=Path,
            metavar="FILE_OR_DIR",
            help="pattern files/folders (default: the built-in sets)",
        )
        act.add_argument("--no-builtin", action="store_true", default=argparse.SUPPRESS, help="only the given files")
        act.set_defaults(func=cmd_patterns)


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
