"""Round-trip TOML edits: comments, order and untouched bytes survive (no Qt needed)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gui import toml_edit
from scanner.detect.patterns import builtin_pattern_dir, parse_set_text

pytestmark = pytest.mark.gui

SET = """\
# header comment
schema_version = 1
name = "local"
description = "d"

[[patterns]]
id = "ip-a"
name = "A"
category = "ip"
severity = "low"
# why this regex
regex = '''\\bA-\\d+\\b'''
score = 0.6   # inline note
prefilter = '''A-\\d'''

[patterns.examples]
must_match = ["A-1"]
must_not_match = ["B-1"]

[[patterns]]
id = "ip-b"
name = "B"
category = "ip"
severity = "low"
regex = '''\\bB-\\d+\\b'''

[patterns.examples]
must_match = ["B-1"]
must_not_match = ["A-1"]
"""


def form(**changes):  # type: ignore[no-untyped-def]
    base = {
        "id": "ip-a",
        "name": "A",
        "category": "ip",
        "severity": "low",
        "regex": r"\bA-\d+\b",
        "score": 0.6,
        "examples": {"must_match": ["A-1"], "must_not_match": ["B-1"]},
    }
    base.update(changes)
    return base


def test_unchanged_form_leaves_the_file_byte_identical() -> None:
    assert toml_edit.update_pattern(SET, "ip-a", form()) == SET


def test_changed_values_keep_comments_order_and_other_keys() -> None:
    out = toml_edit.update_pattern(
        SET,
        "ip-a",
        form(
            score=0.8,
            keywords=["alpha", "a number"],
            examples={"must_match": ["A-1", "A-22"], "must_not_match": ["B-1"]},
        ),
    )
    assert "# header comment" in out and "# why this regex" in out
    assert "score = 0.8   # inline note" in out
    assert "prefilter = '''A-\\d'''" in out  # not in the form: untouched
    raw = tomllib.loads(out)["patterns"]
    assert raw[0]["keywords"] == ["alpha", "a number"] and raw[0]["examples"]["must_match"] == ["A-1", "A-22"]
    assert raw[1] == tomllib.loads(SET)["patterns"][1]  # the other pattern is untouched
    assert not parse_set_text(out, "x.toml")[1]


def test_cleared_keys_are_removed_and_regexes_stay_literal() -> None:
    out = toml_edit.update_pattern(SET, "ip-a", form(score=None, regex=r"\bA-\d{2,}\b"))
    assert "score" not in tomllib.loads(out)["patterns"][0]
    assert "regex = '''\\bA-\\d{2,}\\b'''" in out


def test_add_and_replace_patterns() -> None:
    new = form(id="ip-c", name="C", regex=r"\bC-\d+\b", examples={"must_match": ["C-1"], "must_not_match": ["A"]})
    out = toml_edit.add_pattern(SET, new)
    assert [p["id"] for p in tomllib.loads(out)["patterns"]] == ["ip-a", "ip-b", "ip-c"]
    with pytest.raises(toml_edit.TomlEditError):
        toml_edit.add_pattern(out, new)
    again = toml_edit.replace_or_add_pattern(out, {**new, "name": "C2"})
    assert tomllib.loads(again)["patterns"][2]["name"] == "C2"
    with pytest.raises(toml_edit.TomlEditError):
        toml_edit.update_pattern(SET, "ip-zzz", new)


def test_new_set_file_loads() -> None:
    text = toml_edit.replace_or_add_pattern(
        toml_edit.new_set_text("site", "Site patterns", note="first line"), form(id="ip-site")
    )
    pats, errors = parse_set_text(text, "site.toml")
    assert not errors and [p.id for p in pats] == ["ip-site"]
    assert text.startswith("# Pattern set 'site'")


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_every_builtin_set_round_trips_unchanged() -> None:
    for path in sorted(builtin_pattern_dir().glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        for raw in toml_edit.raw_patterns(text):
            as_form = {k: raw.get(k) for k in toml_edit.PATTERN_FORM_KEYS} | {"examples": raw["examples"]}
            assert toml_edit.update_pattern(text, raw["id"], as_form) == text, (path.name, raw["id"])


def test_config_paths_and_atomic_write(tmp_path: Path) -> None:
    doc = toml_edit.parse_document("# top\nschema_version = 1\n\n[scan]\njobs = 2  # two\n")
    assert toml_edit.set_path(doc, ("scan", "jobs"), 2) is False
    toml_edit.set_path(doc, ("limits", "timeout_s"), 60.0)
    toml_edit.set_path(doc, ("scan", "jobs"), 4)
    toml_edit.set_path(doc, ("scan", "policy"), None)
    text = toml_edit.dumps(doc)
    assert "jobs = 4  # two" in text and "# top" in text
    assert tomllib.loads(text)["limits"] == {"timeout_s": 60.0}
    target = tmp_path / "sub" / "clearance.toml"
    toml_edit.write_atomic(target, text)
    assert target.read_text(encoding="utf-8") == text
    assert [p.name for p in target.parent.iterdir()] == ["clearance.toml"]  # no temp file left
