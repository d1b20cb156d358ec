"""The installed wheel (not the checkout) scans with the built-in patterns.

Builds the wheel, installs it into a fresh virtual environment and runs the installed
`clearance` from a folder outside the checkout, so nothing can be imported from here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_installed_wheel_scans_with_builtin_patterns(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next(dist.glob("clearance-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bin_dir / ("python.exe" if os.name == "nt" else "python")
    r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    sample = work / "note.txt"
    sample.write_text("Employee SSN: 212-67-4431\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    exe = bin_dir / ("clearance.exe" if os.name == "nt" else "clearance")
    r = subprocess.run([str(exe), "scan", "--format", "jsonl", "--no-audit", str(sample)], cwd=work,
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1, r.stderr
    line = json.loads(r.stdout)
    assert line["verdict"] == "block" and line["findings"][0]["pattern"] == "phi-us-ssn"
    listed = subprocess.run([str(exe), "patterns", "list"], cwd=work, capture_output=True, text=True, env=env)
    assert "data/patterns" in subprocess.run(
        [str(py), "-c", "from scanner.patterns import builtin_pattern_dir; print(builtin_pattern_dir().as_posix())"],
        cwd=work, capture_output=True, text=True, env=env).stdout
    assert listed.returncode == 0 and "phi-us-ssn" in listed.stdout
    samples = subprocess.run([str(py), "-c", "import scanner, pathlib; "
                              "print(sorted(p.name for p in (pathlib.Path(scanner.__file__).parent / 'data' / "
                              "'resources' / 'samples').iterdir()))"], cwd=work, capture_output=True, text=True, env=env)
    assert "hr_roster_Q3.xlsx" in samples.stdout
