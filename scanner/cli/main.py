"""`clearance` command line. Exit codes: 0 nothing blocked; 1 something blocked or
unscannable; 2 usage or configuration error. Errors are one clear line, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scanner import __version__
from scanner.cli import audit, gui, label, patterns, scan, watch
from scanner.cli.common import EXIT_BLOCKED, EXIT_OK, EXIT_USAGE, Parser, UsageError
from scanner.errors import ConfigError, PatternLoadError

# Each command family registers its sub-commands; its engine imports wait until it runs.
_COMMANDS = (scan, patterns, gui, label, audit, watch)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="clearance", description="Classify and clear files before they leave the company.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
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
        if isinstance(exc, ConfigError | PatternLoadError):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_BLOCKED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
