"""Owner-only files: the audit database (with its -wal/-shm), its archive segments.

POSIX: mode 0600 (0700 for folders we create). Windows has no mode bits: ``icacls``
removes inherited entries and grants the current user alone full control. Where that
fails (no ``icacls``, a share that refuses ACL changes) the file keeps the ACL of its
folder — the per-user data folder is private by default — and a warning is logged.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

SIDE_FILES = ("", "-wal", "-shm", "-journal")


def create_private(path: Path) -> None:
    """Create ``path`` empty and owner-only if absent, before SQLite opens it (no window
    in which it exists with the umask's wider mode)."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        os.close(fd)
    make_private(path)


def make_private(path: Path) -> None:
    """Restrict an existing file to its owner (a file another user owns is left as is)."""
    if not path.exists():
        return
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        _windows_user_only(path)
        return
    with contextlib.suppress(PermissionError):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def make_db_private(db: Path) -> None:
    """The database and the side files SQLite made next to it."""
    for suffix in SIDE_FILES:
        make_private(db.with_name(db.name + suffix))


def _windows_user_only(path: Path) -> None:  # pragma: no cover - Windows only
    try:
        user = os.environ.get("USERNAME") or getpass.getuser()
        r = subprocess.run(
            ["icacls", str(path), "/inheritance:r", "/grant:r", f"{user}:(F)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if r.returncode != 0:
            log.warning("could not make %s user-only (icacls: %s); it keeps its folder's ACL", path, r.stderr.strip())
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not make %s user-only (%s); it keeps its folder's ACL", path, exc)
