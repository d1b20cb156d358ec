"""``clearance label FILE --label NAME [--output OUT] [--marking] [--config FILE] [--force] [--justification TEXT]``.

The label scheme (levels, GUIDs, tenant) and the audit database come from the same
configuration as every other command: ``--config FILE``, else the default location.
A scheme that still uses a built-in placeholder GUID or tenant id is written anyway, with
a warning line on stderr for each placeholder on every write: Purview will not recognise it.
A downgrade (a lower level than the file's current label of our tenant) needs
``--justification``. Every label written is an audit row (old label, new label, who, why);
the audit trail is opened before anything is written, so a file is never labelled off the record.

Without ``--output`` the file is labelled in place, but never by editing it: the
labelled copy is written beside it and moved over it in one step. With ``--output``
the labelled copy goes to OUT, which is not overwritten unless ``--force`` is given.

Exit status: 0 labelled; 1 the file could not be labelled (one line on stderr says
why); 2 usage or configuration error (unknown label name, missing file, bad config).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from scanner.act.label_common import LabelError, LabelUnsupported
from scanner.act.labelling import apply_label
from scanner.config.settings import ConfigError, load_config
from scanner.labels.scheme import placeholder_warnings
from scanner.record.audit import AuditLog

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
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (default: the usual location); [labels] table"
    )
    parser.add_argument(
        "--justification", metavar="TEXT", help="why: required to lower a label (a downgrade), recorded in the audit"
    )
    parser.set_defaults(func=run)
    return parser


def _fail(code: int, message: str) -> int:
    print(f"clearance label: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        scheme = config.label_scheme()
    except (ConfigError, OSError, ValueError) as exc:
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
    for warning in placeholder_warnings(scheme):
        print(f"clearance label: warning: {warning}", file=sys.stderr)
    try:
        audit = AuditLog(config.audit.database, source="cli")
    except (OSError, sqlite3.Error) as exc:
        return _fail(EXIT_FAILED, f"cannot open the audit trail {config.audit.database}: {exc}; nothing labelled")
    with audit:
        try:
            result = apply_label(
                src, dest, label, scheme, visible_marking=args.marking, justification=args.justification
            )
        except LabelUnsupported as exc:
            return _fail(EXIT_FAILED, f"{src}: {exc}")
        except LabelError as exc:
            return _fail(EXIT_FAILED, f"{src}: cannot label: {exc}")
        previous = result.previous
        try:
            audit.record_label_change(
                dest,
                result.label,
                previous=(previous.name or previous.guid) if previous else None,
                sha256=result.sha256,
                source="cli",
                label_guid=result.guid,
                site_id=scheme.site_id,
                previous_guid=previous.guid if previous else None,
                previous_site_id=previous.site_id if previous else None,
                downgrade=result.downgrade,
                justification=result.justification,
                src=str(src),
                action_id=result.action_id,
            )
        except (OSError, sqlite3.Error) as exc:
            return _fail(EXIT_FAILED, f"{dest}: labelled, but the audit row could not be written: {exc}")
    for note in result.notes:
        print(f"clearance label: note: {note}", file=sys.stderr)
    where = "in place" if args.output is None else f"-> {dest}"
    was = f" (was {previous.name or previous.guid})" if previous else ""
    print(f"labelled {src} as {result.label}{was} {where}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m scanner.cli.label``) until the main CLI dispatches to us."""
    parser = argparse.ArgumentParser(prog="clearance")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
