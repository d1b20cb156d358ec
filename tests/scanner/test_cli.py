"""The CLI contract: JSON lines, exit codes, hostile file names, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SSN = "Employee SSN: 212-67-4431\n"


def clearance(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        encoding="utf-8",
        errors="replace",
    )


def test_jsonl_contract_and_exit_code(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text(SSN, encoding="utf-8")
    (tmp_path / "good.txt").write_text("nothing to see", encoding="utf-8")
    r = clearance("scan", "--format", "jsonl", "--no-audit", tmp_path)
    assert r.returncode == 1, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    by_name = {Path(o["path"]).name: o for o in lines}
    bad, good = by_name["bad.txt"], by_name["good.txt"]
    for o in (bad, good):
        assert set(o) >= {"path", "type", "verdict", "label", "reasons", "sha256", "bytes", "findings", "error"}
    assert bad["verdict"] == "block" and bad["type"] == "text" and bad["error"] is None
    f = bad["findings"][0]
    assert set(f) >= {"pattern", "category", "severity", "confidence", "location", "masked"}
    assert f["masked"] == "***-**-4431" and "text" not in f, "raw text only with --reveal"
    assert "212-67-4431" not in r.stdout
    assert good["verdict"] == "allow" and good["findings"] == []
    # a reveal is always audited (--no-audit with --reveal is a usage error): into a scratch trail
    conf = tmp_path / "conf" / "clearance.toml"
    conf.parent.mkdir()
    conf.write_text('[audit]\ndatabase = "audit.sqlite"\n', encoding="utf-8")
    revealed = clearance("scan", "--format", "jsonl", "--reveal", "--config", conf, tmp_path / "bad.txt")
    assert json.loads(revealed.stdout)["findings"][0]["text"] == "212-67-4431"


def test_exit_zero_when_nothing_blocked(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("nothing to see", encoding="utf-8")
    r = clearance("scan", "--no-audit", tmp_path / "good.txt")
    assert r.returncode == 0 and r.stdout.startswith("ALLOW")


@pytest.mark.parametrize(
    "name",
    [
        "-rf.txt",
        "--help.txt",
        "name with  spaces.txt",
        " leading space.txt",
        "Ünïcødé façade 報告.txt",
        "quote'\"name.txt",
        "semi;colon&amp.txt",
    ],
)
def test_hostile_file_names(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    p.write_text(SSN, encoding="utf-8")
    r = clearance("scan", "--format", "jsonl", "--no-audit", "--", p)
    assert r.returncode == 1, r.stderr
    o = json.loads(r.stdout)
    assert o["path"] == str(p) and o["verdict"] == "block"


@pytest.mark.skipif(sys.platform == "win32", reason="newlines in file names are POSIX-only")
def test_newline_in_file_name(tmp_path: Path) -> None:
    p = tmp_path / "new\nline.txt"
    p.write_text(SSN, encoding="utf-8")
    r = clearance("scan", "--format", "jsonl", "--no-audit", tmp_path)
    assert json.loads(r.stdout)["path"] == str(p)
    t = clearance("scan", "--no-audit", tmp_path)
    assert "new\\nline.txt" in t.stdout and len(t.stdout.strip().splitlines()) == 1


def test_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    r = clearance("scan", tmp_path / "missing.txt")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = clearance("scan", "--format", "xml", tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = clearance("frobnicate")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_unsupported_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (tmp_path / "empty.docx").write_bytes(b"")
    r = clearance("scan", "--format", "jsonl", "--no-audit", tmp_path)
    by = {Path(o["path"]).name: o for o in map(json.loads, r.stdout.splitlines())}
    assert by["pic.png"]["type"] == "unsupported" and "PNG" in by["pic.png"]["error"]
    assert by["pic.png"]["verdict"] == "block"
    assert by["empty.docx"]["verdict"] == "allow" and by["empty.docx"]["error"] is None


def test_extract_prints_segments_with_locations(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("name,ssn\nJones,212-67-4431\n", encoding="utf-8")
    r = clearance("extract", "--format", "jsonl", tmp_path / "a.csv")
    segs = [json.loads(x) for x in r.stdout.splitlines()]
    assert segs[1]["location"] == {"part": "table", "line": 2} and "212-67-4431" in segs[1]["text"]


def test_patterns_commands() -> None:
    r = clearance("patterns", "list")
    assert r.returncode == 0 and "phi-us-ssn" in r.stdout
    r = clearance("patterns", "test")
    assert r.returncode == 0, r.stdout
    r = clearance("patterns", "validate")
    assert r.returncode == 0, r.stdout


def test_broken_pattern_file_named_precisely(tmp_path: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text(
        'schema_version = 1\nname = "mine"\n\n[[patterns]]\nid = "x-broken"\nname = "B"\n'
        'category = "phi"\nseverity = "high"\nregex = "([a-z"\n'
        '[patterns.examples]\nmust_match = ["a"]\nmust_not_match = ["1"]\n',
        encoding="utf-8",
    )
    r = clearance("patterns", "validate", bad)
    assert r.returncode == 2
    assert f"{bad}:9 [x-broken]: regex does not compile" in r.stderr


def test_near_misses_only_with_explain(tmp_path: Path) -> None:
    p = tmp_path / "nm.txt"
    p.write_text("bad SSN 000-12-3456\n", encoding="utf-8")
    explained = json.loads(clearance("scan", "--format", "jsonl", "--explain", "--no-audit", p).stdout)
    assert [n["pattern"] for n in explained["near_misses"]] == ["phi-us-ssn"]
    assert "checksum" in " ".join(explained["near_misses"][0]["explanation"]["notes"])
    plain = json.loads(clearance("scan", "--format", "jsonl", "--no-audit", p).stdout)
    assert "near_misses" not in plain and plain["verdict"] == "allow"
