"""The label scheme: ordered levels, each a Microsoft Purview label, and the tenant they belong to.

A label is one level of a configurable, ordered scheme (default: Public, Internal,
Confidential, Restricted). Each level carries a Microsoft Purview label GUID and the
scheme carries the tenant ("site") id, so a customer can use its own Purview labels
and Office shows them as the tenant's own. The ``[labels]`` table of clearance.toml
describes it (see ``LabelScheme.from_mapping``).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METHODS = ("Standard", "Privileged")

# MSIP ContentBits: which visible markings / protection the label applied.
CONTENT_HEADER = 0x1
CONTENT_FOOTER = 0x2
CONTENT_WATERMARK = 0x4
CONTENT_ENCRYPTION = 0x8
_CONTENT_BITS_MAX = 0xF
_NAME_MAX_CHARS = 64  # a label name as Office's label menu shows it
_MARKING_MAX_CHARS = 255  # one header line of visible marking

# The built-in GUIDs are not any real tenant's: they are uuid5 values derived from a
# fixed namespace so that they are stable and reproducible:
#   ns   = uuid5(NAMESPACE_URL, "https://clearance.invalid/labels/")
#   site = uuid5(ns, "site");  each level = uuid5(ns, "<Name>")
# Office shows a label from an unknown tenant as "unknown"; a customer who wants Office
# and Purview to recognise the labels configures its own ids in the [labels] table.
DEFAULT_NAMESPACE = uuid.UUID("11105e66-2310-54b4-9a9d-f27e9d6d0c81")
DEFAULT_SITE_ID = "1b1dd65a-916f-524a-9439-95aec53ac56c"
_DEFAULT_LEVELS: tuple[tuple[str, str, str | None], ...] = (
    ("Public", "7f12283c-4acc-52a4-8a6f-510abc936104", None),
    ("Internal", "40f8a203-14e1-5200-a3f2-2d8f534fb400", "INTERNAL"),
    ("Confidential", "f9d9dd09-c402-5f3a-90bb-89d7de714353", "CONFIDENTIAL"),
    ("Restricted", "33b8c22e-1a83-53a8-bd17-a74908cebec5", "RESTRICTED"),
)

_GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")


def normalise_guid(value: str) -> str | None:
    """Lower-case GUID without braces, or None if ``value`` is not a GUID."""
    m = _GUID_RE.match(value.strip()) if isinstance(value, str) else None
    return m.group(1).lower() if m else None


def _check_text(value: object, what: str, max_len: int) -> str:
    """A short single-line display string (label name, marking): it goes into XML and PDF."""
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a string, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ValueError(f"{what}: must not be empty")
    if value != value.strip():
        raise ValueError(f"{what}: must not start or end with spaces: {value!r}")
    if len(value) > max_len:
        raise ValueError(f"{what}: longer than {max_len} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value):
        raise ValueError(f"{what}: contains control or unassigned characters: {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class LabelDef:
    """One level. ``guid`` is the Purview label id; ``visible_marking`` the header text, if any."""

    name: str
    guid: str
    content_bits: int = 0
    visible_marking: str | None = None

    def __post_init__(self) -> None:
        _check_text(self.name, "name", _NAME_MAX_CHARS)
        guid = normalise_guid(self.guid)
        if guid is None:
            raise ValueError(f"guid: not a GUID: {self.guid!r}")
        object.__setattr__(self, "guid", guid)
        if (
            isinstance(self.content_bits, bool)
            or not isinstance(self.content_bits, int)
            or not 0 <= self.content_bits <= _CONTENT_BITS_MAX
        ):
            raise ValueError(f"content_bits: expected an integer 0..{_CONTENT_BITS_MAX}, got {self.content_bits!r}")
        if self.visible_marking is not None:
            _check_text(self.visible_marking, "visible_marking", _MARKING_MAX_CHARS)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "guid": self.guid, "content_bits": self.content_bits}
        if self.visible_marking is not None:
            out["visible_marking"] = self.visible_marking
        return out


_LEVEL_KEYS = ("name", "guid", "content_bits", "visible_marking")
_SCHEME_KEYS = ("levels", "site_id", "method")


@dataclass(frozen=True, slots=True)
class LabelScheme:
    """Ordered levels (least to most sensitive), the tenant id and the MSIP assignment method.

    ``method`` is what Office records as how the label was chosen: "Standard" (default
    or automatic, which is what a policy-driven scanner does) or "Privileged" (chosen
    by a person).
    """

    levels: tuple[LabelDef, ...]
    site_id: str = DEFAULT_SITE_ID
    method: str = "Standard"

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("levels: at least one label level is needed")
        names: set[str] = set()
        guids: set[str] = set()
        for level in self.levels:
            if level.name.casefold() in names:
                raise ValueError(f"levels: duplicate label name {level.name!r}")
            if level.guid in guids:
                raise ValueError(f"levels: duplicate guid {level.guid} ({level.name})")
            names.add(level.name.casefold())
            guids.add(level.guid)
        site = normalise_guid(self.site_id)
        if site is None:
            raise ValueError(f"site_id: not a GUID: {self.site_id!r}")
        object.__setattr__(self, "site_id", site)
        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {self.method!r}")

    @classmethod
    def default(cls) -> LabelScheme:
        return cls(tuple(LabelDef(name, guid, 0, marking) for name, guid, marking in _DEFAULT_LEVELS))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(level.name for level in self.levels)

    def get(self, name: str) -> LabelDef:
        """The level called ``name`` (case-insensitive); KeyError listing the valid names."""
        found = self.find(name=name)
        if found is None:
            raise KeyError(f"unknown label {name!r} (choose from: {', '.join(self.names)})")
        return found

    def find(self, *, name: str | None = None, guid: str | None = None) -> LabelDef | None:
        """The level with this GUID (preferred) or name, if the scheme has one."""
        if guid:
            norm = normalise_guid(guid)
            for level in self.levels:
                if level.guid == norm:
                    return level
        if name:
            folded = name.casefold()
            for level in self.levels:
                if level.name.casefold() == folded:
                    return level
        return None

    def rank(self, label: LabelDef | str) -> int:
        """0 for the least sensitive level; ValueError for a label not in the scheme."""
        wanted = label.guid if isinstance(label, LabelDef) else self.get(label).guid
        for i, level in enumerate(self.levels):
            if level.guid == wanted:
                return i
        raise ValueError(f"label {label!r} is not in this scheme")

    def to_mapping(self) -> dict[str, Any]:
        """The ``[labels]`` table that ``from_mapping`` reads back to an equal scheme."""
        return {"site_id": self.site_id, "method": self.method, "levels": [lv.to_dict() for lv in self.levels]}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "labels") -> LabelScheme:
        """Build from a config table; every error is a ValueError naming the key.

        Missing ``levels`` keeps the built-in levels; missing ``site_id``/``method`` keep
        the defaults. Shape (TOML)::

            [labels]
            site_id = "<tenant GUID>"
            method = "Standard"
            [[labels.levels]]
            name = "Public"
            guid = "<Purview label GUID>"
            content_bits = 0                  # optional
            visible_marking = "PUBLIC"        # optional
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected a table, got {type(data).__name__}")
        for key in data:
            if key not in _SCHEME_KEYS:
                raise ValueError(f"{where}.{key}: unknown key (known: {', '.join(_SCHEME_KEYS)})")
        default = cls.default()
        levels = default.levels
        if "levels" in data:
            levels = _levels_from_list(data["levels"], f"{where}.levels")
        site_id = data.get("site_id", default.site_id)
        if not isinstance(site_id, str) or normalise_guid(site_id) is None:
            raise ValueError(f"{where}.site_id: not a GUID: {site_id!r}")
        method = data.get("method", default.method)
        if method not in METHODS:
            raise ValueError(f"{where}.method: expected one of {', '.join(METHODS)}, got {method!r}")
        try:
            return cls(levels, site_id, method)
        except ValueError as exc:
            raise ValueError(f"{where}.{exc}") from None


def _levels_from_list(items: object, where: str) -> tuple[LabelDef, ...]:
    if not isinstance(items, list) or not items:
        raise ValueError(f"{where}: expected a non-empty list of tables ([[labels.levels]])")
    levels = []
    seen_names: dict[str, int] = {}
    seen_guids: dict[str, int] = {}
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{at}: expected a table, got {type(item).__name__}")
        for key in item:
            if key not in _LEVEL_KEYS:
                raise ValueError(f"{at}.{key}: unknown key (known: {', '.join(_LEVEL_KEYS)})")
        for key in ("name", "guid"):
            if key not in item:
                raise ValueError(f"{at}.{key}: missing")
        name = item["name"]
        guid = item["guid"]
        if not isinstance(guid, str) or normalise_guid(guid) is None:
            raise ValueError(f"{at}.guid: not a GUID: {guid!r}")
        try:
            level = LabelDef(name, guid, item.get("content_bits", 0), item.get("visible_marking"))
        except ValueError as exc:
            raise ValueError(f"{at}.{exc}") from None
        if level.name.casefold() in seen_names:
            raise ValueError(f"{at}.name: duplicate of {where}[{seen_names[level.name.casefold()]}] {name!r}")
        if level.guid in seen_guids:
            raise ValueError(f"{at}.guid: duplicate of {where}[{seen_guids[level.guid]}].guid")
        seen_names[level.name.casefold()] = i
        seen_guids[level.guid] = i
        levels.append(level)
    return tuple(levels)


def placeholder_warnings(scheme: LabelScheme) -> list[str]:
    """One line per built-in placeholder id the scheme still uses (tenant, then each level).

    The built-in ids belong to no tenant: Purview and Office do not recognise a label that
    carries them. ``clearance label`` prints these on every write and ``clearance status``
    can show them; an empty list means every id was configured.
    """
    out: list[str] = []
    if scheme.site_id == DEFAULT_SITE_ID:
        out.append(
            f"[labels] site_id is the built-in placeholder {DEFAULT_SITE_ID}, not your tenant's id: "
            "Office and Purview will not recognise labels written with it"
        )
    placeholders = {guid for _name, guid, _marking in _DEFAULT_LEVELS}
    for level in scheme.levels:
        if level.guid in placeholders:
            out.append(
                f"label {level.name!r} uses the built-in placeholder GUID {level.guid}: "
                "set [[labels.levels]] guid to the Purview label's id"
            )
    return out


def load_scheme(config_path: Path | None) -> LabelScheme:
    """The scheme from the ``[labels]`` table of a TOML config file (defaults if absent).

    Raises ValueError naming the file and key for bad content, OSError if unreadable.
    """
    if config_path is None:
        return LabelScheme.default()
    with open(config_path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{config_path}: not valid TOML: {exc}") from None
    table = data.get("labels")
    if table is None:
        return LabelScheme.default()
    try:
        return LabelScheme.from_mapping(table, "labels")
    except ValueError as exc:
        raise ValueError(f"{config_path}: {exc}") from None
