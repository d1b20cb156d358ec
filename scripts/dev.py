#!/usr/bin/env python3
"""Set up and run Clearance from a fresh checkout, on Windows, macOS or Linux.

    python3 scripts/dev.py demo             # .venv from requirements/runtime.lock, scan resources/samples
    python3 scripts/dev.py test [ARGS]      # .venv from requirements/dev.lock, run the whole suite
    python3 scripts/dev.py test --fast      # the same, without the tests marked slow
    python3 scripts/dev.py test --latest    # a throw-away .venv-latest with the newest versions
                                            # pyproject.toml allows: drift shows here before users see it
    python3 scripts/dev.py lint             # ruff format --check, ruff check, mypy (what CI runs first)
    python3 scripts/dev.py lock             # regenerate both lock files (uv, newest allowed versions)

Only the standard library is used here, so it works before anything is installed.

The lock files pin every package, build tools included, with hashes, for Python 3.11-3.13 on
Windows, macOS and Linux (uv's universal resolution writes one file with environment
markers). pip installs them with --require-hashes, so a release published tomorrow cannot
change what a fresh clone gets; only `lock` moves the pins, as a reviewed commit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LATEST_VENV = ROOT / ".venv-latest"
REQUIREMENTS = ROOT / "requirements"
RUNTIME_LOCK = REQUIREMENTS / "runtime.lock"
DEV_LOCK = REQUIREMENTS / "dev.lock"
BUILD_IN = REQUIREMENTS / "build.in"
STAMP_NAME = ".clearance-installed"


def venv_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def must(code: int, what: str) -> None:
    if code != 0:
        sys.exit(f"dev.py: {what} failed (exit {code})")


def ensure_env(lock: Path) -> Path:
    """The project venv, installed exactly from ``lock``; re-installed only when the lock or pyproject changes."""
    if not venv_python(VENV).exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    py = venv_python(VENV)
    stamp = VENV / STAMP_NAME
    want = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text().strip() != want:
        # Every package, setuptools included, comes from the lock with its hash; the project itself is
        # then installed without dependencies and without an isolated (unpinned) build environment.
        must(
            run(py, "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps", "-r", lock),
            f"installing {lock.relative_to(ROOT)}",
        )
        must(
            run(py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", "."),
            "installing Clearance",
        )
        stamp.write_text(want)
    return py


def ensure_latest_env() -> Path:
    """A fresh venv with the newest versions pyproject.toml's ranges allow, never the locks."""
    if LATEST_VENV.exists():
        shutil.rmtree(LATEST_VENV)
    venv.EnvBuilder(with_pip=True).create(LATEST_VENV)
    py = venv_python(LATEST_VENV)
    must(run(py, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools", "wheel"), "upgrading pip")
    must(
        run(py, "-m", "pip", "install", "--quiet", "--upgrade", "--upgrade-strategy", "eager", "-e", ".[dev]"),
        "installing the newest allowed versions",
    )
    run(py, "-m", "pip", "freeze", "--exclude-editable")
    return py


def test(args: list[str]) -> int:
    latest = "--latest" in args
    fast = "--fast" in args
    rest = [a for a in args if a not in ("--latest", "--fast")]
    py = ensure_latest_env() if latest else ensure_env(DEV_LOCK)
    if fast:
        rest = ["-m", "not slow", *rest]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return run(py, "-m", "pytest", *rest, env=env)


def lint() -> int:
    """The checks CI runs before the tests; each must pass on its own."""
    py = ensure_env(DEV_LOCK)
    checks = (
        ("ruff format", [py, "-m", "ruff", "format", "--check", "."]),
        ("ruff check", [py, "-m", "ruff", "check", "."]),
        ("mypy", [py, "-m", "mypy"]),  # strict over scanner/, default over gui/ (pyproject.toml)
    )
    failed = [name for name, cmd in checks if run(*cmd) != 0]
    if failed:
        print(f"dev.py lint: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def lock() -> int:
    py = ensure_env(DEV_LOCK)  # uv itself is pinned in the dev lock
    common = ["--universal", "--python-version", "3.11", "--generate-hashes", "--upgrade", "--quiet"]
    uv = [py, "-m", "uv", "pip", "compile", "pyproject.toml", BUILD_IN.relative_to(ROOT).as_posix()]
    must(run(*uv, *common, "-o", RUNTIME_LOCK.relative_to(ROOT).as_posix()), "locking the runtime dependencies")
    # The dev lock is constrained by the runtime lock, so tests run on exactly what users get.
    must(
        run(
            *uv,
            "--extra",
            "dev",
            "-c",
            RUNTIME_LOCK.relative_to(ROOT).as_posix(),
            *common,
            "-o",
            DEV_LOCK.relative_to(ROOT).as_posix(),
        ),
        "locking the test and development tools",
    )
    print("Locks written; run `python3 scripts/dev.py test` and commit requirements/ with the result.")
    return 0


def demo(args: list[str]) -> int:
    py = ensure_env(RUNTIME_LOCK)
    code = run(py, "-m", "scanner", "scan", "resources/samples", *args)
    if code == 1:  # the scanner's "something was blocked": the demo working as intended
        print("(exit code 1 from the scan means a file was blocked; the demo ran fine)")
        return 0
    return code


def main(argv: list[str]) -> int:
    cmd, args = (argv[0], argv[1:]) if argv else ("help", [])
    if cmd == "demo":
        return demo(args)
    if cmd == "test":
        return test(args)
    if cmd == "lint":
        return lint()
    if cmd == "lock":
        return lock()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
