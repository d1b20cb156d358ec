"""Packaging as a user and a packager meet it: `python -m build` is quiet, the sdist holds what it
should, and the installed wheel (not the checkout) scans with the built-in patterns.

The wheel is installed into a fresh virtual environment from the runtime lock, exactly as
`scripts/dev.py demo` installs it, and run from a folder outside the checkout, so nothing can be
imported from here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# Lines of a build log that a packager would have to read twice.
NOISE = re.compile(r"warn|deprecat|would be ignored|is absent from", re.IGNORECASE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    dist = tmp_path_factory.mktemp("dist")
    # --no-isolation builds with the locked setuptools already in this venv, so the log cannot change
    # with tomorrow's setuptools. PYTHONDONTWRITEBYTECODE (set on some machines, CI's among them) makes
    # distutils say "byte-compiling is disabled" whatever the project declares; a user's shell lacks it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    r = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return next(dist.glob("clearance-*.whl")), next(dist.glob("clearance-*.tar.gz")), r.stdout + r.stderr


def test_build_prints_no_warning(built: tuple[Path, Path, str]) -> None:
    log = built[2]
    assert [line for line in log.splitlines() if NOISE.search(line)] == []


def test_sdist_holds_what_a_packager_needs(built: tuple[Path, Path, str]) -> None:
    with tarfile.open(built[1]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "requirements/runtime.lock",
        "requirements/dev.lock",
        "scanner/__init__.py",
        "patterns/phi.toml",
        "resources/clearance.sample.toml",
    } <= names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/", "scripts/", ".ci/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_installed_wheel_scans_with_builtin_patterns(built: tuple[Path, Path, str], tmp_path: Path) -> None:
    wheel = built[0]
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bin_dir / ("python.exe" if os.name == "nt" else "python")
    for args in (["--require-hashes", "-r", str(ROOT / "requirements" / "runtime.lock")], [str(wheel)]):
        r = subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", "--no-deps", *args],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert r.returncode == 0, r.stderr[-2000:]
    check = subprocess.run([str(py), "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, "the runtime lock lacks a dependency of the wheel:\n" + check.stdout
    work = tmp_path / "elsewhere"
    work.mkdir()
    sample = work / "note.txt"
    sample.write_text("Employee SSN: 212-67-4431\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    exe = bin_dir / ("clearance.exe" if os.name == "nt" else "clearance")
    r = subprocess.run(
        [str(exe), "scan", "--format", "jsonl", "--no-audit", str(sample)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 1, r.stderr
    line = json.loads(r.stdout)
    assert line["verdict"] == "block" and line["findings"][0]["pattern"] == "phi-us-ssn"
    listed = subprocess.run([str(exe), "patterns", "list"], cwd=work, capture_output=True, text=True, env=env)
    assert (
        "data/patterns"
        in subprocess.run(
            [
                str(py),
                "-c",
                "from scanner.detect.patterns import builtin_pattern_dir; print(builtin_pattern_dir().as_posix())",
            ],
            cwd=work,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
    )
    assert listed.returncode == 0 and "phi-us-ssn" in listed.stdout
    shipped = subprocess.run(
        [
            str(py),
            "-c",
            "import scanner, pathlib; d = pathlib.Path(scanner.__file__).parent / "
            "'data' / 'resources'; print(sorted(p.relative_to(d).as_posix() for p in d.rglob('*')))",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    for name in (
        "samples/hr_roster_Q3.xlsx",
        "icons/app.svg",
        "service/clearance-watch.service",
        "schemas/clearance.schema.json",
        "schemas/pattern-set.schema.json",
    ):
        assert name in shipped
