"""What every ``clearance`` command shares: exit codes, the usage error, the output stream."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake the user can fix: printed as one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() prints one line and returns 2."""

    def error(self, message: str) -> None:  # type: ignore[override]  # argparse's is NoReturn; ours raises
        raise UsageError(f"{self.prog}: {message}")


def out_stream() -> TextIO:
    # Never die on a file name the console cannot encode.
    try:
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]  # a TextIOWrapper here
    except (AttributeError, ValueError):
        pass
    return sys.stdout
