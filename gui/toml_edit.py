"""Round-trip edits of admin TOML files (pattern sets, ``clearance.toml``) with tomlkit.

Admins write comments and order keys to explain their choices; a save from the GUI
must keep both. So we never re-serialise from our own records: we parse the file
with tomlkit, change only the values the user changed (keeping each value's inline
comment), delete only keys the user cleared, and write the document back. Unchanged
files round-trip byte for byte. No Qt here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array, Item, Table

# Keys the pattern form edits, in the order a new pattern is written.
PATTERN_FORM_KEYS = (
    "id",
    "name",
    "description",
    "category",
    "severity",
    "regex",
    "flags",
    "score",
    "validator",
    "validator_mode",
    "keywords",
    "window",
    "far_window",
    "negative",
    "require_context",
    "min_score",
)
EXAMPLE_KEYS = ("must_match", "must_not_match")
# Keys written as TOML literal strings when possible: regexes are unreadable with doubled backslashes.
_LITERAL_KEYS = {"regex", "prefilter"}


class TomlEditError(ValueError):
    """The file cannot be edited as asked (not TOML, no such pattern, ...)."""


# --------------------------------------------------------------------------- files
def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, then replace: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse(text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises several ParseError subclasses
        raise TomlEditError(f"not valid TOML: {exc}") from None


# --------------------------------------------------------------------------- values
def _toml_value(key: str, value: Any) -> Item:
    """A tomlkit item for ``value``; regexes as literal strings, short lists inline."""
    if isinstance(value, str):
        if key in _LITERAL_KEYS and "\n" not in value and "'''" not in value and not value.endswith("'"):
            return tomlkit.string(value, literal=True, multiline=True)  # '''...''' like the built-in sets
        return tomlkit.string(value)
    if isinstance(value, list | tuple):
        arr = tomlkit.array()
        for v in value:
            arr.append(_toml_value("", v))
        arr.multiline(sum(len(str(v)) + 4 for v in value) > 90)
        return arr
    return tomlkit.item(value)


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def set_key(table: Table | tomlkit.TOMLDocument, key: str, value: Any) -> bool:
    """Set ``key`` only if its value differs; keep the inline comment. True if changed."""
    if key in table and _plain(table[key]) == value:
        return False
    new = _toml_value(key, value)
    if key in table:
        old = table.item(key) if hasattr(table, "item") else None
        old_trivia = getattr(old, "trivia", None)
        comment = getattr(old_trivia, "comment", "")
        if comment and hasattr(new, "trivia"):
            new.trivia.comment = comment
            new.trivia.comment_ws = getattr(old_trivia, "comment_ws", "  ") or "  "
    table[key] = new
    return True


def delete_key(table: Table | tomlkit.TOMLDocument, key: str) -> bool:
    if key in table:
        del table[key]
        return True
    return False


# --------------------------------------------------------------------------- pattern sets
def raw_patterns(text: str) -> list[dict[str, Any]]:
    """The ``[[patterns]]`` tables as plain dicts (what the loader sees)."""
    data = tomllib.loads(text)
    pats = data.get("patterns", [])
    return [p for p in pats if isinstance(p, dict)] if isinstance(pats, list) else []


def _pattern_tables(doc: tomlkit.TOMLDocument) -> AoT:
    pats = doc.get("patterns")
    if pats is None:
        pats = tomlkit.aot()
        doc.append("patterns", pats)
    if not isinstance(pats, AoT):
        raise TomlEditError("'patterns' is not an array of tables ([[patterns]])")
    return pats


def update_pattern(text: str, pattern_id: str, form: Mapping[str, Any]) -> str:
    """Apply the form's values to the pattern ``pattern_id``; other keys and comments stay.

    ``form`` holds ``PATTERN_FORM_KEYS`` (absent or None: the key is removed; an empty
    list or string is written as such) and
    ``examples`` with ``must_match``/``must_not_match``.
    """
    doc = _parse(text)
    table = next((t for t in _pattern_tables(doc) if t.get("id") == pattern_id), None)
    if table is None:
        raise TomlEditError(f"no pattern with id {pattern_id!r} in this file")
    _apply_form(table, form)
    return tomlkit.dumps(doc)


def add_pattern(text: str, form: Mapping[str, Any]) -> str:
    """Append a new ``[[patterns]]`` table at the end of the file."""
    doc = _parse(text)
    pats = _pattern_tables(doc)
    pid = form.get("id")
    if any(t.get("id") == pid for t in pats):
        raise TomlEditError(f"a pattern with id {pid!r} already exists in this file")
    table = tomlkit.table()
    _apply_form(table, form)
    pats.append(table)
    return tomlkit.dumps(doc)


def replace_or_add_pattern(text: str, form: Mapping[str, Any]) -> str:
    pid = str(form.get("id"))
    if any(p.get("id") == pid for p in raw_patterns(text)):
        return update_pattern(text, pid, form)
    return add_pattern(text, form)


def _apply_form(table: Table, form: Mapping[str, Any]) -> None:
    for key in PATTERN_FORM_KEYS:
        value = form.get(key)
        if value is None:  # the caller decides what "absent" means (defaults it did not write)
            delete_key(table, key)
        else:
            set_key(table, key, list(value) if isinstance(value, tuple) else value)
    examples = form.get("examples") or {}
    ex = table.get("examples")
    if ex is None:
        ex = tomlkit.table()
        table["examples"] = ex
    for key in EXAMPLE_KEYS:
        set_key(ex, key, list(examples.get(key, [])))


def new_set_text(name: str, description: str, note: str = "") -> str:
    """A new, empty pattern-set file an admin will recognise."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Pattern set {name!r}, written by the Clearance pattern workbench."))
    if note:
        for line in note.splitlines():
            doc.add(tomlkit.comment(line))
    doc.add(tomlkit.comment("Ids are stable: never rename one; disable it (enabled = false) and add a new id."))
    doc.add("schema_version", 1)
    doc.add("name", name)
    doc.add("description", description)
    return tomlkit.dumps(doc)


# --------------------------------------------------------------------------- clearance.toml
def get_path(doc: Any, dotted: Iterable[str]) -> Any:
    cur = doc
    for part in dotted:
        if not hasattr(cur, "get"):
            return None
        cur = cur.get(part)
        if cur is None:
            return None
    return _plain(cur)


def ensure_table(doc: tomlkit.TOMLDocument | Table, parts: Iterable[str]) -> Table:
    cur: Any = doc
    for part in parts:
        nxt = cur.get(part)
        if nxt is None:
            nxt = tomlkit.table()
            cur[part] = nxt
        if not isinstance(nxt, Table | tomlkit.TOMLDocument):
            raise TomlEditError(f"{part} is not a table")
        cur = nxt
    return cur


def set_path(doc: tomlkit.TOMLDocument, dotted: tuple[str, ...], value: Any) -> bool:
    """Set (or with ``None`` remove) ``a.b.c``; creates tables as needed, changes nothing if equal."""
    *parents, key = dotted
    if value is None:
        parent: Any = doc
        for part in parents:
            parent = parent.get(part) if hasattr(parent, "get") else None
            if parent is None:
                return False
        return delete_key(parent, key)
    return set_key(ensure_table(doc, parents), key, value)


def parse_document(text: str) -> tomlkit.TOMLDocument:
    return _parse(text)


def dumps(doc: tomlkit.TOMLDocument) -> str:
    return tomlkit.dumps(doc)


def array_of_tables(rows: Iterable[Mapping[str, Any]]) -> AoT:
    aot = tomlkit.aot()
    for row in rows:
        t = tomlkit.table()
        for k, v in row.items():
            t[k] = _toml_value(k, v)
        aot.append(t)
    return aot


__all__ = [
    "Array",
    "TomlEditError",
    "add_pattern",
    "array_of_tables",
    "delete_key",
    "dumps",
    "ensure_table",
    "get_path",
    "new_set_text",
    "parse_document",
    "raw_patterns",
    "replace_or_add_pattern",
    "set_key",
    "set_path",
    "sha256_text",
    "update_pattern",
    "write_atomic",
]
