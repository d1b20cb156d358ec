"""Issue #4: all hostile cases pass ../shared/tools/adversarial.py (time, memory, verdict, reason)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_adversarial_cases_all_pass(corpus: Path, shared_tools: Path, tmp_path: Path) -> None:
    cmd = f"{shlex.quote(sys.executable)} -m scanner scan --format jsonl --reveal {{path}}"
    env_path = str(ROOT)
    out = tmp_path / "adv.json"
    r = subprocess.run(
        [
            sys.executable,
            str(shared_tools / "adversarial.py"),
            "--check",
            str(corpus / "adversarial"),
            "--cmd",
            cmd,
            "--json-out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=1700,
        env={**__import__("os").environ, "PYTHONPATH": env_path},
    )
    print(r.stdout)
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["failed"] == [], r.stdout
    assert summary["passed"] == summary["cases"] >= 23
