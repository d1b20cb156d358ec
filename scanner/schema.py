"""One declarative validator for the TOML files an admin writes, and the JSON Schema they publish.

A schema is a tree of kinds: ``Str``, ``Int``, ``Float``, ``Bool``, ``ListOf``, ``Table`` (named
``Field``s, unknown keys rejected), ``MapOf`` (admin-chosen names to one kind), ``OneOf`` and
``Opaque`` (a table another module checks). ``check`` walks data against it and returns every
``Problem`` plus the values that passed, defaults filled in; ``require`` raises the first problem.
``json_schema`` publishes the same tree, so the documented format and the enforced one cannot drift.

Why not pydantic or msgspec: neither is installed, and both word errors their own way, while admins
rely on today's messages: the file, the key path, what was expected and what was found. Each node
words its problems with ``str.format`` templates over these names:

    path      the offending value's key path: ``destinations.acme.folder``, ``watch.folders[0]``
    field     the path of the field that owns it (differs from ``path`` for a list's items)
    key       the field's own name, to find its line in the file
    expected  the node's phrase: "a positive integer"
    got       the value as messages quote it: ``42``, ``'x'``, ``list [1]``
    value     the raw value (write ``{value!r}``); ``type`` its Python type's name
    choices   the allowed values, comma-separated; ``known`` a table's keys, sorted
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

JSON = dict[str, Any]

INVALID = "{path}: expected {expected}, got {got}"
UNKNOWN = "{path}: unknown key (expected one of: {known})"
MISSING = "{path}: missing"


class ProblemKind(enum.Enum):
    UNKNOWN = "unknown key"
    MISSING = "missing"
    INVALID = "wrong type or shape"
    OUT_OF_RANGE = "right type, value not allowed"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    path: str
    key: str  # the field's name (or the unknown key): where to look for the line
    message: str


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


def describe(value: object) -> str:
    """How messages quote a value: ``42``, ``'x'``, or ``list [1, 2]`` for anything else."""
    return repr(value) if isinstance(value, int | float | str) else f"{type(value).__name__} {value!r}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclass(slots=True)
class _Walk:
    """One run of ``check``: where it is, and what it found."""

    problems: list[Problem] = field(default_factory=list)

    def fail(
        self, kind: ProblemKind, template: str, node: Kind | None, path: str, owner: str, value: object, **extra: str
    ) -> None:
        key = extra.pop("key", None) or re.sub(r"\[\d+\]", "", owner).rsplit(".", 1)[-1]
        words = {
            "path": path,
            "field": owner,
            "key": key,
            "expected": node.phrase() if node is not None else "",
            "got": describe(value),
            "value": value,
            "type": type(value).__name__,
            "choices": ", ".join(str(c) for c in getattr(node, "choices", ())),
            "known": "",
            "keys": "",
        }
        words.update(extra)
        self.problems.append(Problem(kind, path, key, template.format_map(words)))


@dataclass(frozen=True, kw_only=True)
class Kind:
    """A node of the schema. ``invalid`` words a wrong type or shape; ``out_of_range`` a value of
    the right type that is not allowed (defaults to ``invalid``)."""

    expected: str = ""
    invalid: str = INVALID
    out_of_range: str | None = None
    doc: str = ""

    def phrase(self) -> str:
        return self.expected or self._default_phrase()

    def _default_phrase(self) -> str:
        return "a value"

    def takes(self, value: object) -> bool:
        """Is ``value`` of this kind's type (and shape: a blank string is no non-empty string)?"""
        raise NotImplementedError

    def family(self, value: object) -> bool:
        """Is ``value`` of this kind's Python type? How ``OneOf`` picks the branch that words the problem."""
        return self.takes(value)

    def in_range(self, value: Any) -> bool:
        return True

    def convert(self, value: Any) -> Any:
        return value

    def check(self, value: object, path: str, owner: str, walk: _Walk) -> tuple[bool, Any]:
        """``(ok, cleaned value)``; problems go to ``walk``."""
        if not self.takes(value):
            walk.fail(ProblemKind.INVALID, self.invalid, self, path, owner, value)
            return False, None
        if not self.in_range(self.convert(value)):  # messages quote what the admin wrote: 2, not 2.0
            walk.fail(ProblemKind.OUT_OF_RANGE, self.out_of_range or self.invalid, self, path, owner, value)
            return False, None
        return True, self.convert(value)

    def json(self) -> JSON:
        raise NotImplementedError

    def _described(self, out: JSON) -> JSON:
        if self.doc:
            out["description"] = self.doc
        return out


@dataclass(frozen=True, kw_only=True)
class Str(Kind):
    nonempty: bool = False  # not blank: whitespace alone is empty too
    choices: tuple[str, ...] = ()

    def _default_phrase(self) -> str:
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        return "a non-empty string" if self.nonempty else "a string"

    def takes(self, value: object) -> bool:
        return isinstance(value, str) and (not self.nonempty or bool(value.strip()))

    def family(self, value: object) -> bool:
        return isinstance(value, str)

    def in_range(self, value: Any) -> bool:
        return not self.choices or value in self.choices

    def json(self) -> JSON:
        out: JSON = {"type": "string"}
        if self.choices:
            out["enum"] = list(self.choices)
        elif self.nonempty:
            out["pattern"] = r"\S"
        return self._described(out)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, kw_only=True)
class Int(Kind):
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[int, ...] = ()

    def _default_phrase(self) -> str:
        if self.choices:
            listed = ", ".join(map(str, self.choices))
            return listed if len(self.choices) == 1 else f"one of {listed}"
        if self.minimum is not None and self.maximum is not None:
            return f"an integer {self.minimum}..{self.maximum}"
        return f"an integer >= {self.minimum}" if self.minimum is not None else "an integer"

    def takes(self, value: object) -> bool:
        return _is_int(value)

    def in_range(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        low = self.minimum is None or value >= self.minimum
        return low and (self.maximum is None or value <= self.maximum)

    def json(self) -> JSON:
        out: JSON = {"type": "integer"}
        if len(self.choices) == 1:
            out["const"] = self.choices[0]
        elif self.choices:
            out["enum"] = list(self.choices)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return self._described(out)


@dataclass(frozen=True, kw_only=True)
class Float(Kind):
    """A number; an integer is taken as its float (TOML writes ``5`` for ``5.0``)."""

    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None  # exclusive minimum

    def _default_phrase(self) -> str:
        return "a number"

    def takes(self, value: object) -> bool:
        return isinstance(value, float) or _is_int(value)

    def convert(self, value: Any) -> Any:
        return float(value)

    def in_range(self, value: Any) -> bool:
        if self.above is not None and not value > self.above:
            return False
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)

    def json(self) -> JSON:
        out: JSON = {"type": "number"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.above is not None:
            out["exclusiveMinimum"] = self.above
        return self._described(out)


@dataclass(frozen=True, kw_only=True)
class Bool(Kind):
    def _default_phrase(self) -> str:
        return "true or false"

    def takes(self, value: object) -> bool:
        return isinstance(value, bool)

    def json(self) -> JSON:
        return self._described({"type": "boolean"})


_SCALARS = (Str, Int, Float, Bool)


@dataclass(frozen=True, kw_only=True)
class ListOf(Kind):
    """A list. A scalar item of the wrong type fails the whole list (its message names the list), and
    so does one out of range unless the item has its own ``out_of_range``; tables report per item."""

    item: Kind
    min_items: int = 0
    max_items: int | None = None

    def _default_phrase(self) -> str:
        if isinstance(self.item, Str):
            return "a list of non-empty strings" if self.item.nonempty else "a list of strings"
        return "a list"

    def takes(self, value: object) -> bool:
        return isinstance(value, list)

    def check(self, value: object, path: str, owner: str, walk: _Walk) -> tuple[bool, Any]:
        scalar = isinstance(self.item, _SCALARS)
        if not isinstance(value, list) or (scalar and not all(self.item.takes(v) for v in value)):
            walk.fail(ProblemKind.INVALID, self.invalid, self, path, owner, value)
            return False, None
        if len(value) < self.min_items or (self.max_items is not None and len(value) > self.max_items):
            walk.fail(ProblemKind.OUT_OF_RANGE, self.out_of_range or self.invalid, self, path, owner, value)
            return False, None
        if scalar and self.item.out_of_range is None and not all(self.item.in_range(v) for v in value):
            walk.fail(ProblemKind.OUT_OF_RANGE, self.out_of_range or self.invalid, self, path, owner, value)
            return False, None
        before = len(walk.problems)
        cleaned = []
        for i, item in enumerate(value):
            _, clean = self.item.check(item, f"{path}[{i}]", owner if scalar else f"{path}[{i}]", walk)
            cleaned.append(clean)
        return len(walk.problems) == before, cleaned

    def json(self) -> JSON:
        out: JSON = {"type": "array", "items": self.item.json()}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        return self._described(out)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    default: Any = NO_DEFAULT
    missing: str = MISSING  # template for a required field that is absent
    doc: str = ""

    def json(self) -> JSON:
        out = self.kind.json()
        if self.doc:
            out = {"description": self.doc, **{k: v for k, v in out.items() if k != "description"}}
        if self.default is not NO_DEFAULT and self.default is not None:
            out["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        return out


@dataclass(frozen=True, kw_only=True)
class Table(Kind):
    """Named fields; any other key is an error. ``shorthand``: a string stands for a table with just
    that field (``unscannable = "block"`` is ``{ verdict = "block" }``). ``unknown_together``: one
    problem lists every unknown key. ``unchecked``: keys allowed here but checked elsewhere."""

    fields: tuple[Field, ...]
    unknown: str = UNKNOWN
    unknown_together: bool = False
    shorthand: str | None = None
    unchecked: tuple[str, ...] = ()

    def _default_phrase(self) -> str:
        return "a table"

    def takes(self, value: object) -> bool:
        return isinstance(value, Mapping) or (self.shorthand is not None and isinstance(value, str))

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def without(self, *names: str) -> Table:
        """This table with ``names`` accepted but left to another check (which names the culprit better)."""
        return replace(self, fields=tuple(f for f in self.fields if f.name not in names), unchecked=names)

    def check(self, value: object, path: str, owner: str, walk: _Walk) -> tuple[bool, Any]:
        if self.shorthand is not None and isinstance(value, str):
            value = {self.shorthand: value}
        if not isinstance(value, Mapping):
            walk.fail(ProblemKind.INVALID, self.invalid, self, path, owner, value)
            return False, None
        before = len(walk.problems)
        names = {f.name for f in self.fields} | set(self.unchecked)
        known = ", ".join(sorted(names))
        strangers = [k for k in value if k not in names]
        if strangers and self.unknown_together:
            walk.fail(
                ProblemKind.UNKNOWN,
                self.unknown,
                self,
                path,
                owner,
                value,
                known=known,
                keys=", ".join(sorted(strangers)),
            )
        else:
            for key in strangers:
                walk.fail(
                    ProblemKind.UNKNOWN, self.unknown, self, _join(path, key), owner, value[key], known=known, key=key
                )
        out: dict[str, Any] = {k: value[k] for k in self.unchecked if k in value}
        for f in self.fields:
            where = _join(path, f.name)
            if f.name not in value:
                if f.required:
                    walk.fail(ProblemKind.MISSING, f.missing, f.kind, where, where, None)
                elif isinstance(f.kind, Table | MapOf) and isinstance(f.default, Mapping):
                    out[f.name] = f.kind.check(f.default, where, where, walk)[1]  # {} fills in the defaults
                elif f.default is not NO_DEFAULT:
                    out[f.name] = f.default
                continue
            ok, clean = f.kind.check(value[f.name], where, where, walk)
            if ok:
                out[f.name] = clean
            elif f.default is not NO_DEFAULT:
                out[f.name] = f.default  # keep checking the rest with a sane value
        return len(walk.problems) == before, out

    def json(self) -> JSON:
        props = {f.name: f.json() for f in self.fields}
        props.update({name: {} for name in self.unchecked})
        out: JSON = {"type": "object", "properties": props, "additionalProperties": False}
        required = [f.name for f in self.fields if f.required]
        if required:
            out["required"] = required
        if self.shorthand is not None:
            out = {"oneOf": [self.field(self.shorthand).kind.json(), out]}
        return self._described(out)


@dataclass(frozen=True, kw_only=True)
class MapOf(Kind):
    """A table whose keys the admin names (``[destinations.<name>]``), each value of one kind."""

    value: Kind
    key_pattern: str
    key_invalid: str = "{path}: names use letters, digits, '_', '-' and '.' only"

    def _default_phrase(self) -> str:
        return "a table"

    def takes(self, value: object) -> bool:
        return isinstance(value, Mapping)

    def check(self, value: object, path: str, owner: str, walk: _Walk) -> tuple[bool, Any]:
        if not isinstance(value, Mapping):
            walk.fail(ProblemKind.INVALID, self.invalid, self, path, owner, value)
            return False, None
        before = len(walk.problems)
        out: dict[str, Any] = {}
        for key, item in value.items():
            where = _join(path, key)
            if not re.fullmatch(self.key_pattern, key):
                walk.fail(ProblemKind.INVALID, self.key_invalid, self, where, where, key, key=key)
                continue
            ok, clean = self.value.check(item, where, where, walk)
            if ok:
                out[key] = clean
        return len(walk.problems) == before, out

    def json(self) -> JSON:
        out: JSON = {
            "type": "object",
            "propertyNames": {"pattern": self.key_pattern},
            "additionalProperties": self.value.json(),
        }
        return self._described(out)


@dataclass(frozen=True, kw_only=True)
class OneOf(Kind):
    """The first option whose Python type fits checks the value (a string, or a table)."""

    options: tuple[Kind, ...]

    def _default_phrase(self) -> str:
        return " or ".join(o.phrase() for o in self.options)

    def takes(self, value: object) -> bool:
        return any(o.takes(value) for o in self.options)

    def check(self, value: object, path: str, owner: str, walk: _Walk) -> tuple[bool, Any]:
        for option in self.options:
            if option.family(value):
                return option.check(value, path, owner, walk)
        walk.fail(ProblemKind.INVALID, self.invalid, self, path, owner, value)
        return False, None

    def json(self) -> JSON:
        return self._described({"oneOf": [o.json() for o in self.options]})


@dataclass(frozen=True, kw_only=True)
class Opaque(Kind):
    """A table checked by the module that owns its meaning; ``shape`` is published, not enforced."""

    shape: Kind

    def _default_phrase(self) -> str:
        return "a table"

    def takes(self, value: object) -> bool:
        return isinstance(value, Mapping)

    def json(self) -> JSON:
        return self.shape.json()


def check(kind: Kind, value: object, path: str = "") -> tuple[list[Problem], Any]:
    """Every problem of ``value`` against ``kind``, and the cleaned value (what passed, defaults in)."""
    walk = _Walk()
    _, cleaned = kind.check(value, path, path, walk)
    return walk.problems, cleaned


def require(kind: Kind, value: object, path: str = "") -> Any:
    """The cleaned value, or ``ValueError`` with the first problem's message."""
    problems, cleaned = check(kind, value, path)
    if problems:
        raise ValueError(problems[0].message)
    return cleaned


def json_schema(kind: Kind, title: str, schema_id: str) -> JSON:
    """``kind`` as a JSON Schema (draft 2020-12) document."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id, "title": title, **kind.json()}
