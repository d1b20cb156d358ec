"""Small helpers for writes that must survive a crash."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush a file's content to disk (a file another step wrote and closed)."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable where the OS allows it.

    POSIX needs the directory itself fsynced; Windows has no directory fsync (NTFS
    journals the metadata), so this is a no-op there.
    """
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
