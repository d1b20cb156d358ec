"""``clearance label FILE --label NAME [--output OUT] [--marking] [--config FILE] [--force]``.

Without ``--output`` the file is labelled in place, but never by editing it: the
labelled copy is written beside it and moved over it in one step. With ``--output``
the labelled copy goes to OUT, which is not overwritten unless ``--force`` is given.

Exit status: 0 labelled; 1 the file could not be labelled (one line on stderr says
why); 2 usage or configuration error (unknown label name, missing file, bad config).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scanner.act.label_common import LabelError, LabelUnsupported
from scanner.act.labelling import apply_label
from scanner.labels.scheme import LabelScheme, load_scheme

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``label`` sub-command to the ``clearance`` parser's sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "label",
        help="write a sensitivity label into a DOCX/XLSX/PPTX/PDF file",
        description="Write a sensitivity label (Office/Purview-compatible) into a copy of FILE. "
        "Without --output, FILE is replaced by its labelled copy in one atomic step.",
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="the document to label")
    parser.add_argument("--label", required=True, metavar="NAME", help="label name, e.g. Confidential")
    parser.add_argument("--output", "-o", type=Path, metavar="OUT", help="write the labelled copy here")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument(
        "--marking", action="store_true", help="also add the label's visible marking to a Word document's headers"
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="configuration file with a [labels] table")
    parser.set_defaults(func=run)
    return parser


def _fail(code: int, message: str) -> int:
    print(f"clearance label: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    try:
        scheme = load_scheme(args.config) if args.config else LabelScheme.default()
    except (OSError, ValueError) as exc:
        return _fail(EXIT_USAGE, f"configuration: {getattr(exc, 'strerror', None) or exc}")
    label = scheme.find(name=args.label)
    if label is None:
        return _fail(EXIT_USAGE, f"unknown label {args.label!r} (choose from: {', '.join(scheme.names)})")
    src: Path = args.file
    if not src.is_file():
        return _fail(EXIT_USAGE, f"{src}: no such file")
    # In place, a symlink's target is what the user means; a copy never follows one at OUT.
    dest: Path = args.output if args.output is not None else src.resolve()
    if args.output is not None:
        if dest.is_dir():
            return _fail(EXIT_USAGE, f"{dest}: is a folder; give the output file's name")
        if dest.exists() and not args.force:
            return _fail(EXIT_USAGE, f"{dest}: already exists (use --force to overwrite)")
        if not dest.parent.is_dir():
            return _fail(EXIT_USAGE, f"{dest.parent}: no such folder")
    try:
        result = apply_label(src, dest, label, scheme, visible_marking=args.marking)
    except LabelUnsupported as exc:
        return _fail(EXIT_FAILED, f"{src}: {exc}")
    except LabelError as exc:
        return _fail(EXIT_FAILED, f"{src}: cannot label: {exc}")
    for note in result.notes:
        print(f"clearance label: note: {note}", file=sys.stderr)
    where = "in place" if args.output is None else f"-> {dest}"
    previous = f" (was {result.previous.name or result.previous.guid})" if result.previous else ""
    print(f"labelled {src} as {result.label}{previous} {where}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m scanner.cli.label``) until the main CLI dispatches to us."""
    parser = argparse.ArgumentParser(prog="clearance")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
