"""The declarative schema: the JSON Schemas published from it are current, and real files pass them.

``jsonschema`` is not a dependency, so ``_errors`` below checks the keywords ``scanner.schema`` emits
(and fails on any other, so a new keyword cannot slip through unchecked).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from scanner.config.schema import CONFIG_SCHEMA_FILE, PATTERN_SCHEMA_FILE, json_schemas, render
from scanner.detect.patterns import builtin_pattern_dir
from scanner.schema import Field, Int, ListOf, OneOf, ProblemKind, Str, Table, check

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "resources" / "schemas"
SAMPLE = ROOT / "resources" / "clearance.sample.toml"
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}
_ANNOTATIONS = {"$schema", "$id", "title", "description", "default"}


def _errors(schema: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    """JSON Schema (the subset scanner.schema writes) errors of ``value``; empty when it conforms."""
    out: list[str] = []
    unknown = set(schema) - _ANNOTATIONS - {
        "type", "properties", "additionalProperties", "required", "items", "minItems", "maxItems", "enum",
        "const", "minimum", "maximum", "exclusiveMinimum", "pattern", "propertyNames", "oneOf",
    }  # fmt: skip
    assert not unknown, f"{path}: keyword(s) this test does not check: {unknown}"
    if "oneOf" in schema:
        passing = [s for s in schema["oneOf"] if not _errors(s, value, path)]
        return [] if len(passing) == 1 else [f"{path}: matches {len(passing)} of oneOf"]
    want = schema.get("type")
    if want is not None:
        is_bool = isinstance(value, bool)
        if not isinstance(value, _TYPES[want]) or (is_bool and want != "boolean"):
            return [f"{path}: not {want}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "minimum" in schema and value < schema["minimum"]:
        out.append(f"{path}: below minimum")
    if "maximum" in schema and value > schema["maximum"]:
        out.append(f"{path}: above maximum")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        out.append(f"{path}: not above exclusiveMinimum")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{path}: does not match {schema['pattern']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            out.append(f"{path}: wrong number of items")
        for i, item in enumerate(value):
            out += _errors(schema.get("items", {}), item, f"{path}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out += [f"{path}.{k}: required" for k in schema.get("required", ()) if k not in value]
        for key, item in value.items():
            out += _errors(schema.get("propertyNames", {}), key, f"{path}.{key} (name)")
            if key in props:
                out += _errors(props[key], item, f"{path}.{key}")
            elif schema.get("additionalProperties", True) is False:
                out.append(f"{path}.{key}: not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += _errors(schema["additionalProperties"], item, f"{path}.{key}")
    return out


@pytest.mark.parametrize("name", [CONFIG_SCHEMA_FILE, PATTERN_SCHEMA_FILE])
def test_committed_json_schemas_are_current(name: str) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")
    assert committed == render(json_schemas()[name]), "run: python -m scanner.config.schema resources/schemas"


def test_sample_config_conforms_and_a_typo_does_not() -> None:
    schema = json_schemas()[CONFIG_SCHEMA_FILE]
    data = tomllib.loads(SAMPLE.read_text(encoding="utf-8"))
    assert _errors(schema, data) == []
    data["policies"]["strict"]["rules"][0]["min_confidense"] = "high"
    data["watch"]["stable_seconds"] = 0
    assert _errors(schema, data) == [
        "$.watch.stable_seconds: not above exclusiveMinimum",
        "$.policies.strict.rules[0].min_confidense: not allowed",
    ]


@pytest.mark.parametrize("path", sorted(builtin_pattern_dir().glob("*.toml")), ids=lambda p: p.name)
def test_builtin_pattern_sets_conform(path: Path) -> None:
    assert _errors(json_schemas()[PATTERN_SCHEMA_FILE], tomllib.loads(path.read_text(encoding="utf-8"))) == []


def test_pattern_schema_rejects_what_the_loader_rejects() -> None:
    data = tomllib.loads(sorted(builtin_pattern_dir().glob("*.toml"))[0].read_text(encoding="utf-8"))
    data["patterns"][0]["category"] = "pii"
    del data["patterns"][0]["examples"]
    assert _errors(json_schemas()[PATTERN_SCHEMA_FILE], data) == [
        "$.patterns[0].examples: required",
        "$.patterns[0].category: 'pii' not in enum",
    ]


# --------------------------------------------------------------------------- the engine itself

POINT = Table(
    fields=(
        Field("x", Int(minimum=0), required=True),
        Field("tags", ListOf(item=Str(nonempty=True, choices=("a", "b"))), default=()),
        Field("label", OneOf(options=(Str(nonempty=True), Table(fields=(Field("text", Str()),))))),
    )
)


def test_every_problem_is_found_with_its_path_and_defaults_fill_in() -> None:
    problems, values = check(POINT, {"x": -1, "tags": ["a", "c"], "y": 1, "label": 3}, "p")
    assert [(p.kind, p.path, p.message) for p in problems] == [
        (ProblemKind.UNKNOWN, "p.y", "p.y: unknown key (expected one of: label, tags, x)"),
        (ProblemKind.OUT_OF_RANGE, "p.x", "p.x: expected an integer >= 0, got -1"),
        (ProblemKind.OUT_OF_RANGE, "p.tags", "p.tags: expected a list of non-empty strings, got list ['a', 'c']"),
        (ProblemKind.INVALID, "p.label", "p.label: expected a non-empty string or a table, got 3"),
    ]
    assert check(POINT, {"x": 1}, "p") == ([], {"x": 1, "tags": ()})


def test_a_list_item_of_the_wrong_type_fails_the_list_and_one_of_picks_by_type() -> None:
    problems, _ = check(POINT, {"x": 1, "tags": ["a", ""], "label": {"text": 2}}, "p")
    assert [p.message for p in problems] == [
        "p.tags: expected a list of non-empty strings, got list ['a', '']",
        "p.label.text: expected a string, got 2",
    ]
