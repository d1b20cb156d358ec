"""The shape of clearance.toml, declared once: it checks the file and is published as JSON Schema.

``CONFIG`` is the whole file. Pattern files have their own (``scanner.detect.patterns.PATTERN_FILE``)
and policies theirs (``scanner.decide.policy_file.policy_schema``); both are published from here
too, so an editor that knows JSON Schema (VS Code with Even Better TOML, JetBrains) can check and
complete an admin's file as they type. Regenerate the committed copies after changing a schema:

    python -m scanner.config.schema resources/schemas

(``tests/scanner/test_schema.py`` fails while they differ.)
"""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from scanner.decide.policy_file import NAME_PATTERN, policies_schema
from scanner.detect.patterns import PATTERN_FILE
from scanner.labels.scheme import METHODS
from scanner.limits import Limits
from scanner.schema import JSON, Field, Float, Int, ListOf, MapOf, OneOf, Opaque, Str, Table, json_schema

SCHEMA_VERSION = 1
DEFAULT_STABLE_SECONDS = 5.0  # size+mtime unchanged this long before a dropped file is scanned
DEFAULT_POLL_INTERVAL = 1.0  # seconds between stability polls (and the polling observer's fallback)
CONFIG_SCHEMA_FILE = "clearance.schema.json"
PATTERN_SCHEMA_FILE = "pattern-set.schema.json"
_PATH_DOC = "Relative to the folder of this file; ~ is your home folder."


def _path(name: str, doc: str, *, required: bool = False, missing: str = "{path}: missing") -> Field:
    kind = Str(nonempty=True, expected="a string path")
    return Field(name, kind, required=required, missing=missing, doc=f"{doc} {_PATH_DOC}")


def _limit(name: str, python_type: Any, default: Any) -> Field:
    """A ``[limits]`` key, from the ``Limits`` field of that name: every limit is a positive number."""
    invalid = "{path}: expected {expected}, got {type} {value!r}"
    positive = "{path}: must be positive, got {value!r}"
    if python_type in ("int", int):
        return Field(name, Int(minimum=1, expected="int", invalid=invalid, out_of_range=positive), default=default)
    return Field(name, Float(above=0.0, expected="float", invalid=invalid, out_of_range=positive), default=default)


SCAN = Table(
    fields=(
        Field(
            "pattern_dirs",
            ListOf(item=Str(nonempty=True)),
            default=(),
            doc=f"Folders of admin pattern sets (*.toml), on top of the built-in ones; they must exist. {_PATH_DOC}",
        ),
        Field("jobs", Int(minimum=1, expected="a positive integer"), doc="Worker processes (default: CPU cores)."),
        Field("policy", Str(nonempty=True), doc='Policy for scans without a destination: a name or "builtin".'),
    )
)
LIMITS = Table(
    unknown="{path}: unknown limit (known: {known})",
    fields=tuple(_limit(f.name, f.type, f.default) for f in fields(Limits)),
    doc="Hard limits for untrusted files; beyond them a file is unscannable.",
)
AUDIT = Table(
    fields=(
        _path("database", "The audit trail (SQLite); default: the per-user data folder."),
        _path("hash_key_file", "The per-installation key for keyed hashes of findings."),
    )
)
QUARANTINE = Table(fields=(_path("folder", "Where blocked files are moved."),))
IDENTIFIER = Table(
    fields=(
        Field("value", Str(nonempty=True), doc="A literal, matched as a whole word, tolerant of separators."),
        Field("regex", Str(nonempty=True), doc="A regular expression (instead of value)."),
        Field("kind", Str(nonempty=True), default="identifier", doc='Shown in reasons: "project code", ...'),
    )
)
DESTINATION = Table(
    fields=(
        _path(
            "folder",
            "The release folder for this destination.",
            required=True,
            missing="{path}: missing (expected the release folder for this destination)",
        ),
        Field("policy", Str(nonempty=True), doc='Default: [scan] policy, else "builtin".'),
        Field("display_name", Str(nonempty=True), doc="Shown in reasons."),
        Field(
            "identifiers",
            ListOf(
                item=OneOf(options=(Str(nonempty=True), IDENTIFIER), expected="a table"),
                expected="a list of strings or { value = ..., kind = ... } tables",
            ),
            default=(),
            doc="This sponsor's identifiers: files holding them may go here, and nowhere else.",
        ),
        _path(
            "identifier_file",
            'More identifiers, one per line ("#" comments, "re:" a regex, "kind<TAB>value").',
        ),
    )
)
WATCH_FOLDER = Table(
    fields=(
        _path("path", "A watched outgoing folder.", required=True),
        Field("destination", Str(nonempty=True), required=True, doc="The destination its files go to."),
    )
)
WATCH = Table(
    fields=(
        Field(
            "folders",
            ListOf(item=WATCH_FOLDER, invalid="{path}: expected an array of tables ([[watch.folders]]), got {got}"),
            default=(),
        ),
        Field(
            "stable_seconds",
            Float(above=0.0, expected="a positive number of seconds"),
            default=DEFAULT_STABLE_SECONDS,
            doc="Size and modification time unchanged this long before a file is scanned.",
        ),
        Field(
            "poll_interval",
            Float(above=0.0, expected="a positive number of seconds"),
            default=DEFAULT_POLL_INTERVAL,
            doc="Seconds between stability checks.",
        ),
    )
)
GUID = Str(nonempty=True, doc="A GUID: 8-4-4-4-12 hex digits, braces optional.")
# Checked by LabelScheme.from_mapping (the label writer's own rules and messages); published from here.
LABELS = Opaque(
    shape=Table(
        fields=(
            Field("site_id", GUID, doc="Your Microsoft 365 tenant id."),
            Field("method", Str(choices=tuple(METHODS)), doc="How Office records that the label was chosen."),
            Field(
                "levels",
                ListOf(
                    item=Table(
                        fields=(
                            Field("name", Str(nonempty=True), required=True),
                            Field("guid", GUID, required=True, doc="The Purview label's GUID."),
                            Field("content_bits", Int(minimum=0, maximum=15), doc="1 header, 2 footer, 4 watermark."),
                            Field("visible_marking", Str(), doc="Header text written into Word documents."),
                        )
                    ),
                    min_items=1,
                ),
                doc="Label levels, least sensitive first (default: Public, Internal, Confidential, Restricted).",
            ),
        )
    )
)
CONFIG = Table(
    fields=(
        Field("schema_version", Int(choices=(SCHEMA_VERSION,)), default=SCHEMA_VERSION),
        Field("scan", SCAN, default={}),
        Field("limits", LIMITS, default={}),
        Field("audit", AUDIT, default={}),
        Field("quarantine", QUARANTINE, default={}),
        Field(
            "destinations",
            MapOf(
                value=DESTINATION,
                key_pattern=NAME_PATTERN,
                key_invalid="{path}: destination names use letters, digits, '_', '-' and '.' only",
            ),
            default={},
            doc="The partners (sponsors) files are released to.",
        ),
        Field("watch", WATCH, default={}),
        Field("labels", LABELS, default={}),
        Field("policies", policies_schema(None), default={}, doc="Named policies; see [scan] policy."),
    )
)


def json_schemas() -> dict[str, JSON]:
    """The published JSON Schemas, by file name."""
    return {
        CONFIG_SCHEMA_FILE: json_schema(CONFIG, "Clearance configuration (clearance.toml)", "urn:clearance:config:1"),
        PATTERN_SCHEMA_FILE: json_schema(PATTERN_FILE, "Clearance pattern set (*.toml)", "urn:clearance:patterns:1"),
    }


def render(schema: JSON) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_json_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        (folder / name).write_text(render(schema), encoding="utf-8")
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write_json_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "resources/schemas")):
        print(path)
