"""Run a piece of the product as an ordinary user, so permission tests run under root too.

CI runs as root, and root reads every folder whatever its mode: a permission test that skips
under root never runs where it matters. These helpers run a Python snippet in a child process
that drops to the ``nobody`` account first, in a scratch folder that account owns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Account:
    uid: int
    gid: int


def ordinary_account() -> Account:
    """Ourselves when we are not root; ``nobody`` when we are (the test skips only on Windows)."""
    if os.name == "nt":
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        return Account(os.getuid(), os.getgid())
    import pwd  # POSIX only; imported here so the module loads on Windows

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' account to drop privileges to")
    return Account(nobody.pw_uid, nobody.pw_gid)


@contextmanager
def scratch_for(account: Account) -> Iterator[Path]:
    """A folder the account owns, under a world-traversable temp dir (pytest's tmp_path is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="clearance-unprivileged-"))
    try:
        base.chmod(0o755)
        work = base / "work"
        work.mkdir()
        os.chown(work, account.uid, account.gid)
        yield work
    finally:
        for dirpath, dirnames, _files in os.walk(base):
            for name in dirnames:
                Path(dirpath, name).chmod(0o755)  # a test may leave a folder at mode 000
        shutil.rmtree(base, ignore_errors=True)


def run_python(account: Account, work: Path, code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -c code`` as ``account``, in ``work``, with config and data folders inside it."""

    def drop() -> None:
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(account.gid)
            os.setuid(account.uid)

    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)},
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / ".config"),
        "XDG_DATA_HOME": str(work / ".local/share"),
        "XDG_CACHE_HOME": str(work / ".cache"),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=drop,  # POSIX only, and the point of the helper
    )
