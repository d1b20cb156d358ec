"""A pattern set or configuration that does not load stops every command before any file is read:
exit 2 and one message naming the file, the line and the pattern id, never a "block (error)" per
file. The documented example pattern loads, and ``patterns validate`` takes its flag in any order."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.detect.examples import run_examples
from scanner.detect.patterns import load_pattern_set, parse_set_text

ROOT = Path(__file__).resolve().parents[2]

BAD_SET = """schema_version = 1
name = "mine"

[[patterns]]
id = "x-broken"
name = "Broken"
category = "phi"
severity = "high"
regex = "([a-z"
[patterns.examples]
must_match = ["a"]
must_not_match = ["1"]
"""
BAD_WHERE = ":9 [x-broken]: regex does not compile"


def clearance(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        encoding="utf-8",
        errors="replace",
    )


@pytest.fixture
def bad_dir(tmp_path: Path) -> Path:
    d = tmp_path / "admin-patterns"
    d.mkdir()
    (d / "mine.toml").write_text(BAD_SET, encoding="utf-8")
    return d


@pytest.fixture
def files(tmp_path: Path) -> Path:
    d = tmp_path / "outgoing"
    d.mkdir()
    (d / "a.txt").write_text("Minutes of the weekly meeting.\n", encoding="utf-8")
    (d / "b.txt").write_text("Employee SSN: 212-67-4431\n", encoding="utf-8")
    return d


def _config(tmp_path: Path, pattern_dir: Path, watch: bool = False) -> Path:
    text = f"""
[scan]
pattern_dirs = [{str(pattern_dir)!r}]
[audit]
database = "state/audit.sqlite"
hash_key_file = "state/hash.key"
[quarantine]
folder = "quarantine"
[destinations.acme]
folder = "released/acme"
"""
    if watch:
        text += '[[watch.folders]]\npath = "outgoing"\ndestination = "acme"\n'
    cfg = tmp_path / "clearance.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _assert_stopped_loudly(r: subprocess.CompletedProcess[str], bad_file: Path) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", "no result line may be printed when the patterns do not load"
    assert f"{bad_file}{BAD_WHERE}" in r.stderr
    assert "Traceback" not in r.stderr


def test_extra_patterns_folder_that_does_not_load_stops_the_scan(bad_dir: Path, files: Path) -> None:
    r = clearance("scan", "--no-audit", "--patterns", bad_dir, files)
    _assert_stopped_loudly(r, bad_dir / "mine.toml")
    assert "BLOCK" not in r.stdout and "nothing was scanned" in r.stderr


def test_configured_pattern_dirs_that_do_not_load_stop_scan_and_extract(
    tmp_path: Path, bad_dir: Path, files: Path
) -> None:
    cfg = _config(tmp_path, bad_dir)
    _assert_stopped_loudly(clearance("scan", "--config", cfg, files), bad_dir / "mine.toml")
    assert not (tmp_path / "state" / "audit.sqlite").exists(), "nothing scanned, nothing recorded"
    _assert_stopped_loudly(clearance("extract", "--config", cfg, files), bad_dir / "mine.toml")


def test_a_config_that_does_not_parse_is_exit_2_naming_the_file(tmp_path: Path, files: Path) -> None:
    cfg = tmp_path / "clearance.toml"
    cfg.write_text("[scan\n", encoding="utf-8")
    r = clearance("scan", "--no-audit", "--config", cfg, files)
    assert r.returncode == 2 and r.stdout == "" and str(cfg) in r.stderr and "line 1" in r.stderr


def test_the_watcher_refuses_to_start_with_a_broken_pattern_set(tmp_path: Path, bad_dir: Path, files: Path) -> None:
    cfg = _config(tmp_path, bad_dir, watch=True)
    r = clearance("watch", "--config", cfg, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert f"{bad_dir / 'mine.toml'}{BAD_WHERE}" in r.stderr and "Traceback" not in r.stderr
    # It never took a file: nothing released, quarantined or receipted.
    assert sorted(p.name for p in files.iterdir()) == ["a.txt", "b.txt"]
    assert not (tmp_path / "released").exists() or not any((tmp_path / "released").rglob("*.txt"))
    assert not (tmp_path / "quarantine").exists() or not any((tmp_path / "quarantine").iterdir())


def _readme_example() -> tuple[Path, str]:
    """The pattern example the documentation gives (the ```toml block holding [[patterns]])."""
    for readme in (ROOT / "README.md", ROOT / "patterns" / "README.md"):
        for block in re.findall(r"```toml\n(.*?)```", readme.read_text(encoding="utf-8"), re.S):
            if "[[patterns]]" in block:
                return readme, block
    raise AssertionError("no ```toml example with [[patterns]] in README.md or patterns/README.md")


def test_the_readme_example_pattern_loads_and_its_examples_pass(tmp_path: Path) -> None:
    readme, block = _readme_example()
    patterns, errors = parse_set_text(block, str(readme))
    assert errors == [] and len(patterns) == 1, errors
    f = tmp_path / "example.toml"
    f.write_text(block, encoding="utf-8")
    pset = load_pattern_set([f], include_builtin=False)
    report = run_examples(pset)
    assert report.results and not report.failures, report.failures


@pytest.mark.parametrize("order", ["flag-first", "flag-last", "flag-before-action"])
def test_patterns_validate_no_builtin_in_either_order(tmp_path: Path, bad_dir: Path, order: str) -> None:
    good = tmp_path / "example.toml"
    good.write_text(_readme_example()[1], encoding="utf-8")
    bad = bad_dir / "mine.toml"

    def validate(f: Path) -> subprocess.CompletedProcess[str]:
        if order == "flag-first":
            return clearance("patterns", "validate", "--no-builtin", f)
        if order == "flag-last":
            return clearance("patterns", "validate", f, "--no-builtin")
        return clearance("patterns", "--no-builtin", "validate", f)

    r = validate(good)
    assert r.returncode == 0, r.stderr
    assert "1 patterns valid" in r.stdout, "only the given file: the built-in sets are left out"
    r = validate(bad)
    assert r.returncode == 2 and f"{bad}{BAD_WHERE}" in r.stderr
