"""``clearance gui``: open the desktop app (the one command that loads Qt)."""

from __future__ import annotations

import argparse
from pathlib import Path

from scanner.cli.common import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``clearance gui``: listed after scan, extract and patterns, as it always was."""
    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("paths", nargs="*", type=Path)
    gui.add_argument("--config", type=Path, metavar="FILE")
    gui.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        # Deferred: Qt loads only for `clearance gui`, never for the other commands.
        from gui.app import main as gui_main
    except ImportError as exc:
        raise UsageError(f"the desktop app is not available: {exc}") from exc
    argv = [str(p) for p in args.paths]
    if args.config:
        argv = ["--config", str(args.config), *argv]
    return int(gui_main(argv))
