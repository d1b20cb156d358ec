"""A broken pattern file is rejected with errors that name the file, the pattern and the line.

Each test writes a real TOML file to tmp_path, loads it with ``load_pattern_set`` (the
same call the CLI, the worker pool and the GUI editor use) and checks the message an
admin would read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.detect.examples import run_examples
from scanner.detect.patterns import PatternError, PatternSetError, load_pattern_set

GOOD = """schema_version = 1
name = "custom"
description = "site-specific patterns"

[[patterns]]
id = "ip-client-code"
name = "Client project code"
category = "ip"
severity = "medium"
regex = \'\'\'\\bPRJ-\\d{4}\\b\'\'\'
score = 0.7
keywords = ["project"]

[patterns.examples]
must_match = ["Project PRJ-1234 kickoff"]
must_not_match = ["PRJ-12 is too short"]
"""


def _load(tmp_path: Path, text: str, name: str = "custom.toml") -> list[PatternError]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PatternSetError) as info:
        load_pattern_set([path], include_builtin=False)
    return info.value.errors


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_good_file_loads_and_its_examples_pass(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text(GOOD, encoding="utf-8")
    pset = load_pattern_set([path], include_builtin=False)
    assert [p.id for p in pset.patterns] == ["ip-client-code"]
    assert not run_examples(pset).failures


def test_bad_regex_names_file_pattern_and_line(tmp_path: Path) -> None:
    text = GOOD.replace(r"\bPRJ-\d{4}\b", r"PRJ-(\d{4}")
    assert "PRJ-(" in text
    errors = _load(tmp_path, text)
    assert len(errors) == 1
    e = errors[0]
    assert e.file.endswith("custom.toml") and e.pattern == "ip-client-code"
    assert e.line == _line_of(text, "regex =")
    assert "regex does not compile" in e.message
    assert str(e).startswith(f"{e.file}:{e.line} [ip-client-code]")


def test_unknown_validator_is_named_with_the_known_ones(tmp_path: Path) -> None:
    text = GOOD.replace("score = 0.7", 'score = 0.7\nvalidator = "luhn_v2"')
    errors = _load(tmp_path, text)
    assert len(errors) == 1
    e = errors[0]
    assert e.pattern == "ip-client-code" and e.line == _line_of(text, "validator =")
    assert "unknown validator 'luhn_v2'" in e.message and "luhn" in e.message


def test_missing_examples_are_an_error(tmp_path: Path) -> None:
    text = GOOD.split("[patterns.examples]")[0]
    errors = _load(tmp_path, text)
    assert [e.pattern for e in errors] == ["ip-client-code"]
    assert "missing [patterns.examples]" in errors[0].message
    assert errors[0].line == _line_of(text, 'id = "ip-client-code"')


def test_empty_must_not_match_is_an_error(tmp_path: Path) -> None:
    text = GOOD.replace('must_not_match = ["PRJ-12 is too short"]', "must_not_match = []")
    errors = _load(tmp_path, text)
    assert len(errors) == 1 and "must_not_match needs at least one" in errors[0].message
    assert errors[0].line == _line_of(text, "must_not_match")


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("score = 0.7", "score = 0.7\nconfidence = 0.9")
    errors = _load(tmp_path, text)
    assert len(errors) == 1
    e = errors[0]
    assert e.pattern == "ip-client-code" and "unknown key 'confidence'" in e.message
    assert e.line == _line_of(text, "confidence =")


def test_unknown_top_level_key_has_a_line(tmp_path: Path) -> None:
    text = GOOD.replace('name = "custom"', 'name = "custom"\nauthor = "admin"')
    errors = _load(tmp_path, text)
    assert len(errors) == 1 and "unknown top-level key 'author'" in errors[0].message
    assert errors[0].line == _line_of(text, "author =")


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    text = GOOD.replace('severity = "medium"', 'severity = "medium')
    errors = _load(tmp_path, text)
    assert len(errors) == 1
    e = errors[0]
    assert e.file.endswith("custom.toml") and "not valid TOML" in e.message
    assert e.line == _line_of(text, 'severity = "medium')


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    second = (
        GOOD.split("[[patterns]]", 1)[1]
        .replace("ip-client-code", "ip-other-code")
        .replace(r"\bPRJ-\d{4}\b", "[unclosed")
        .replace('category = "ip"', 'category = "pii"')
    )
    text = GOOD.replace("score = 0.7", "score = 1.7") + "\n[[patterns]]" + second
    errors = _load(tmp_path, text)
    got = {(e.pattern, e.message.split(",")[0].split(":")[0]) for e in errors}
    assert ("ip-client-code", "score must be a number between 0 and 1") in got
    assert any(p == "ip-other-code" and "category must be one of" in m for p, m in got)
    assert any(p == "ip-other-code" and "regex does not compile" in m for p, m in got)
    assert all(e.line for e in errors)


def test_duplicate_id_in_one_file(tmp_path: Path) -> None:
    block = GOOD.split("[[patterns]]", 1)[1]
    text = GOOD + "\n[[patterns]]" + block
    errors = _load(tmp_path, text)
    assert len(errors) == 1 and errors[0].pattern == "ip-client-code"
    assert "duplicate pattern id" in errors[0].message


def test_bad_column_regex_and_orphan_column_keywords(tmp_path: Path) -> None:
    text = GOOD.replace("score = 0.7", "score = 0.7\ncolumn_regex = '''PRJ-(\\d'''")
    errors = _load(tmp_path, text)
    assert len(errors) == 1 and "column_regex does not compile" in errors[0].message
    assert errors[0].line == _line_of(text, "column_regex =")
    text = GOOD.replace("score = 0.7", 'score = 0.7\ncolumn_keywords = ["project"]')
    errors = _load(tmp_path, text)
    assert "column_keywords without column_regex" in errors[0].message


def test_regex_matching_empty_string_is_rejected(tmp_path: Path) -> None:
    text = GOOD.replace(r"\bPRJ-\d{4}\b", r"(?:PRJ-\d{4})?")
    errors = _load(tmp_path, text)
    assert len(errors) == 1 and "matches the empty string" in errors[0].message


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(GOOD.replace("site-specific", "spécifique").encode("latin-1"))
    with pytest.raises(PatternSetError) as info:
        load_pattern_set([path], include_builtin=False)
    assert "not UTF-8" in info.value.errors[0].message


def test_failing_example_is_reported_by_run_examples(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text(GOOD.replace('"Project PRJ-1234 kickoff"', '"Project PRJ-12345 kickoff"'), encoding="utf-8")
    report = run_examples(load_pattern_set([path], include_builtin=False))
    assert [(r.pattern, r.kind, r.index) for r in report.failures] == [("ip-client-code", "must_match", 0)]
    assert "no finding" in report.failures[0].detail


def test_admin_set_overrides_builtin_by_id(tmp_path: Path) -> None:
    override = GOOD.replace("ip-client-code", "phi-us-ssn").replace('category = "ip"', 'category = "phi"')
    path = tmp_path / "override.toml"
    path.write_text(override, encoding="utf-8")
    pset = load_pattern_set([tmp_path])
    ssn = pset.by_id("phi-us-ssn")
    assert ssn is not None and ssn.regex.startswith("\\bPRJ") and ssn.source == str(path)
    assert pset.by_id("ip-nct-number") is not None  # the rest of the catalogue is still there
