"""Issues #2/#4: every real-world odd file gets a line with a verdict; nothing unreadable is allowed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_realworld_sweep(corpus: Path, tmp_path: Path) -> None:
    rw = corpus / "realworld"
    files = sorted(p for p in rw.rglob("*") if p.is_file() and p.name not in ("SOURCES.md", "MANIFEST.tsv"))
    assert len(files) >= 600
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", "--format", "jsonl", "--no-audit", "--jobs", "2", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    elapsed = time.monotonic() - t0
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    top = {o["path"]: o for o in lines if "!" not in o["path"]}
    assert set(top) == {str(f) for f in files}, "every file gets exactly one top-level line"
    outcome: Counter[str] = Counter()
    bad_allow = []
    for o in lines:
        if o["error"]:
            reason = o["error"].split(" (")[0].split(":")[0][:60]
            if "!" not in o["path"]:
                outcome[f"unscannable: {reason}"] += 1
            if o["verdict"] == "allow":
                bad_allow.append(o["path"])
        elif "!" not in o["path"]:
            outcome["scanned"] += 1
        if o["type"] == "unsupported" and o["verdict"] == "allow":
            bad_allow.append(o["path"])
    slow = sorted(lines, key=lambda o: -o.get("seconds", 0))[:5]
    print(
        f"\nrealworld: {len(files)} files in {elapsed:.0f} s; "
        + "; ".join(f"{k}: {v}" for k, v in outcome.most_common())
    )
    print("slowest:", ", ".join(f"{Path(o['path']).name} {o.get('seconds', 0):.1f}s" for o in slow))
    assert not bad_allow, f"unreadable files allowed: {bad_allow[:10]}"
    # no file needs the per-file limit: each one finishes (or fails) well inside it
    from scanner.limits import Limits

    limit = Limits().timeout_s
    over = [o["path"] for o in lines if "timed out" in (o["error"] or "") or o.get("seconds", 0) >= limit]
    assert not over, f"files at the {limit:g} s per-file limit: {over[:5]}"
    assert all(o["verdict"] in ("allow", "label", "block") for o in lines)
