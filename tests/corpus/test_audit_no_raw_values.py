"""Issue #5: after scanning (and revealing) the dev corpus, the audit database holds no planted value.

The CLI records every scan, and a --reveal, in the configured audit database. Its bytes
(database, WAL and all) are searched for every planted entity value of truth.jsonl
that is long enough to be meaningful on its own.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.corpus, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_audit_database_holds_no_planted_raw_value(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    cfg = tmp_path / "clearance.toml"
    cfg.write_text(
        f'schema_version = 1\n[audit]\ndatabase = "{db.as_posix()}"\n'
        f'hash_key_file = "{(tmp_path / "hash.key").as_posix()}"\n',
        encoding="utf-8",
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            "--format",
            "jsonl",
            "--reveal",
            "--config",
            str(cfg),
            str(corpus / "dev"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode in (0, 1), r.stderr[-2000:]
    scanned = [json.loads(x) for x in r.stdout.splitlines()]
    assert sum(len(o["findings"]) for o in scanned) > 700, "the scan really found the planted values"
    with sqlite3.connect(db) as conn:
        n_scans = conn.execute("SELECT count(*) FROM events WHERE kind = 'scan'").fetchone()[0]
    assert n_scans == len(scanned)
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("audit.sqlite*"))
    text = blob.decode("utf-8", "replace")
    values = set()
    for line in (corpus / "dev" / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        for e in json.loads(line)["entities"]:
            if e["type"] == "confidentiality_marker":
                continue  # "Confidential" is a legend, and also the name of a label the audit records
            for v in [e["value"], *e.get("alts", [])]:
                if len(v) >= 8:  # shorter ones (ICD codes, 'CO2'-like) occur by chance in hashes and names
                    values.add(v)
    leaked = sorted(v for v in values if v in text)
    assert len(values) > 300
    assert not leaked, f"{len(leaked)} raw values in the audit database, e.g. {leaked[:3]}"
