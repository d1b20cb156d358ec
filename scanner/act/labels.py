"""Sensitivity labels: the scheme, writing a labelled copy, and reading a label back.

A label is one level of a configurable, ordered scheme (default: Public, Internal,
Confidential, Restricted). Each level carries a Microsoft Purview label GUID and the
scheme carries the tenant ("site") id, so a customer can use its own Purview labels
and Office shows them as the tenant's own.

Where a label is written:

* DOCX/XLSX/PPTX (and their macro/template variants): custom document properties in
  the package's custom-properties part (``docProps/custom.xml``), in the Microsoft
  Information Protection key layout (``MSIP_Label_<guid>_Enabled`` ... ``_ContentBits``)
  plus our own ``Clearance_*`` keys. Only that part, and the ``[Content_Types].xml`` /
  ``_rels/.rels`` entries it needs, change; every other member is copied with its
  content, order, timestamp, attributes and compression method unchanged. If the
  package already holds a newer-Office label part (``docMetadata/LabelInfo.xml``),
  that part is rewritten too, because Office prefers it over the custom properties:
  leaving it would leave the old label in force. The optional visible marking of a
  Word document is the one case where content parts (its headers) change; see
  ``_docx_marking``.
* PDF: the document information dictionary and the XMP metadata packet, as an
  incremental update appended to the untouched original bytes (a full rewrite that
  keeps every page only when the original's structure is too damaged to append to).
* Anything else raises ``LabelUnsupported``: the policy decides whether such a file
  may leave unlabelled.

The labelled file is always written to a temporary file in the destination folder,
flushed to disk and then moved over the destination in one step, so a crash leaves
either the old file or the new one, never half of one. The source is only read.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import re
import tempfile
import tomllib
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from lxml import etree

from scanner.durable import fsync_dir as _fsync_dir
from scanner.extract.base import Source
from scanner.limits import Limits
from scanner.sniff import sniff

# --------------------------------------------------------------------------- errors


class LabelError(Exception):
    """The file could not be labelled (damaged, encrypted, too large...). ``str()`` is for users."""


class LabelUnsupported(LabelError):
    """The file's format cannot carry a label; the policy decides whether it may leave unlabelled."""


# --------------------------------------------------------------------------- scheme

METHODS = ("Standard", "Privileged")

# MSIP ContentBits: which visible markings / protection the label applied.
CONTENT_HEADER = 0x1
CONTENT_FOOTER = 0x2
CONTENT_WATERMARK = 0x4
CONTENT_ENCRYPTION = 0x8
_CONTENT_BITS_MAX = 0xF

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
        _check_text(self.name, "name", 64)
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
            _check_text(self.visible_marking, "visible_marking", 255)

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


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ExistingLabel:
    """A label found in a file: ours (``source="clearance"``) or Office's (``"msip"``)."""

    name: str | None
    guid: str | None
    source: str  # "clearance" | "msip"
    set_date: str | None = None
    method: str | None = None
    site_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "guid": self.guid,
            "source": self.source,
            "set_date": self.set_date,
            "method": self.method,
            "site_id": self.site_id,
        }


@dataclass(frozen=True, slots=True)
class LabelResult:
    """What ``apply_label`` wrote. ``notes`` are user-facing remarks (e.g. a signature broken)."""

    src: Path
    dest: Path
    kind: str  # docx xlsx pptx pdf
    label: str
    guid: str
    set_date: str
    action_id: str
    how: str  # "custom-properties" | "pdf-incremental" | "pdf-rewrite"
    sha256: str  # of the labelled file
    previous: ExistingLabel | None = None
    marking_applied: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "src": str(self.src),
            "dest": str(self.dest),
            "kind": self.kind,
            "label": self.label,
            "guid": self.guid,
            "set_date": self.set_date,
            "action_id": self.action_id,
            "how": self.how,
            "sha256": self.sha256,
            "previous": self.previous.to_dict() if self.previous else None,
            "marking_applied": self.marking_applied,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- properties


def _product_version() -> str:
    from importlib import metadata

    for dist in ("clearance", "clearance-scanner"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(dist)
    return "dev"


def _iso_utc(now: datetime | None) -> str:
    """ISO-8601 UTC with a Z, seconds precision (the form Office writes). Naive = UTC."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _label_properties(
    label: LabelDef, scheme: LabelScheme, set_date: str, action_id: str, content_bits: int, scan_sha256: str | None
) -> dict[str, str]:
    """Every key we write, in the order written. Values are strings (MSIP writes lpwstr)."""
    prefix = f"MSIP_Label_{label.guid}_"
    props = {
        prefix + "Enabled": "true",
        prefix + "SetDate": set_date,
        prefix + "Method": scheme.method,
        prefix + "Name": label.name,
        prefix + "SiteId": scheme.site_id,
        prefix + "ActionId": action_id,
        prefix + "ContentBits": str(content_bits),
        "Clearance_Label": label.name,
        "Clearance_LabelGuid": label.guid,
        "Clearance_LabelledAt": set_date,
        "Clearance_Version": _product_version(),
    }
    if scan_sha256:
        props["Clearance_ScanSha256"] = scan_sha256
    return props


_MSIP_KEY = re.compile(r"^MSIP_Label_([0-9A-Fa-f-]{36})_([A-Za-z_]+)$")


def _is_ours_to_replace(name: str) -> bool:
    """Keys a new label replaces: every MSIP label (one label per file) and our own."""
    lowered = name.lower()
    return lowered.startswith("msip_label_") or lowered.startswith("clearance_")


def label_from_properties(props: Mapping[str, str]) -> ExistingLabel | None:
    """Pick the effective label from a flat name->value mapping (custom props, PDF info).

    Office's enabled MSIP label wins; ours names it when it agrees (same GUID). If Office
    relabelled the file after us, our stale ``Clearance_*`` keys are ignored.
    """
    msip: dict[str, dict[str, str]] = {}
    for key, value in props.items():
        m = _MSIP_KEY.match(key)
        if m:
            msip.setdefault(m.group(1).lower(), {})[m.group(2).lower()] = value
    enabled = [(g, v) for g, v in msip.items() if v.get("enabled", "").strip().lower() == "true"]
    enabled.sort(key=lambda gv: gv[1].get("setdate", ""), reverse=True)  # the newest, if several
    ours_name = props.get("Clearance_Label")
    ours_guid = normalise_guid(props.get("Clearance_LabelGuid", "") or "")
    if enabled:
        guid, values = enabled[0]
        source = "clearance" if ours_guid == guid else "msip"
        return ExistingLabel(
            values.get("name") or (ours_name if source == "clearance" else None),
            guid,
            source,
            values.get("setdate"),
            values.get("method"),
            normalise_guid(values.get("siteid", "")),
        )
    if ours_name:
        return ExistingLabel(ours_name, ours_guid, "clearance", props.get("Clearance_LabelledAt"))
    return None


# --------------------------------------------------------------------------- XML helpers


_ELEMENT_START = re.compile(rb"<[A-Za-z_]")


def _parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse an untrusted XML part: no DTD, no entities, no network."""
    first_element = _ELEMENT_START.search(data)
    if b"<!DOCTYPE" in data[: first_element.start() if first_element else len(data)]:
        # Checked before parsing so an entity bomb is named as such, not as a parse error.
        raise LabelError(f"{what} declares a DTD, which Office documents must not contain")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise LabelError(f"damaged {what}: {str(exc).splitlines()[0][:160]}") from None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise LabelError(f"{what} declares a DTD, which Office documents must not contain")
    return root


def _text(element: etree._Element) -> str:
    return "".join(t for t in element.itertext() if isinstance(t, str))


def _to_xml(root: etree._Element) -> bytes:
    # The declaration Office itself writes (lxml's own uses single quotes).
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + etree.tostring(
        root, xml_declaration=False, encoding="UTF-8"
    )


# --------------------------------------------------------------------------- OOXML package model

# Transitional and Strict OOXML spell the same relationships differently.
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_T_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_S_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships/"
_CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_NS = {
    False: "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    True: "http://purl.oclc.org/ooxml/officeDocument/customProperties",
}
_VT_NS = {
    False: "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    True: "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
}
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_LABELINFO_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
_LABELINFO_NS = "http://schemas.microsoft.com/office/2020/mipLabelMetadata"
_HEADER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
_MARK_BOOKMARK = "_ClearanceMarking"
_MiB = 1024 * 1024


# Relationship names that Strict spells differently from Transitional.
_STRICT_REL_NAMES = {"custom-properties": "customProperties"}


def _rel_types(name: str) -> tuple[str, str]:
    """(Transitional, Strict) relationship type URIs for a Transitional relationship name."""
    return _T_RELS + name, _S_RELS + _STRICT_REL_NAMES.get(name, name)


def _rel_type(name: str, strict: bool) -> str:
    return _rel_types(name)[1 if strict else 0]


def _resolve_target(source_part: str, target: str) -> str:
    """Zip member name that a relationship's (internal) Target points at."""
    target = unquote(target.split("#", 1)[0])
    base = "" if target.startswith("/") else posixpath.dirname(source_part)
    return posixpath.normpath(posixpath.join("/" + base, target)).lstrip("/")


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relative_target(source_part: str, part: str) -> str:
    return (
        posixpath.relpath("/" + part, "/" + posixpath.dirname(source_part)) if posixpath.dirname(source_part) else part
    )


class _Package:
    """The members of one OOXML zip, the parts we may change, and a writer that copies the rest."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        self.zf = zf
        self.limits = limits
        self.infos = zf.infolist()
        if len(self.infos) > limits.archive_members:
            raise LabelError(f"package has more than {limits.archive_members} members")
        self.by_lower: dict[str, zipfile.ZipInfo] = {}
        for info in self.infos:
            key = info.filename.lower()
            if key in self.by_lower:
                # Two parts with one name: readers disagree on which one counts.
                raise LabelError(f"damaged package: part {info.filename!r} appears twice")
            if info.flag_bits & 0x1:
                raise LabelError(f"encrypted package member {info.filename!r}")
            self.by_lower[key] = info
        self.changed: dict[str, bytes] = {}  # existing member name -> new content
        self.added: dict[str, bytes] = {}  # new member name -> content
        self.strict = False

    def name_of(self, part: str) -> str | None:
        info = self.by_lower.get(part.lower())
        return info.filename if info else None

    def read(self, part: str) -> bytes | None:
        """Current content of a part (with our pending changes), capped at the XML part limit."""
        name = self.name_of(part)
        if name is None:
            return self.added.get(part)
        if name in self.changed:
            return self.changed[name]
        info = self.zf.getinfo(name)
        cap = self.limits.xml_part_bytes
        if info.file_size > cap:
            raise LabelError(f"part {name!r} is larger than {cap // _MiB} MiB")
        try:
            with self.zf.open(info) as fh:
                data = fh.read(cap + 1)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, ValueError) as exc:
            raise LabelError(f"damaged package member {name!r}: {exc}") from None
        if len(data) > cap:
            raise LabelError(f"part {name!r} is larger than {cap // _MiB} MiB")
        return data

    def put(self, part: str, data: bytes) -> None:
        name = self.name_of(part)
        if name is None:
            self.added[part] = data
        elif self.read(part) != data:
            self.changed[name] = data

    # -- relationships and content types

    def relationships(self, source_part: str) -> list[tuple[str, str, str]]:
        """(Id, Type, target member name) of a part's internal relationships; '' = package root."""
        data = self.read(_rels_name(source_part) if source_part else "_rels/.rels")
        if data is None:
            return []
        root = _parse_xml(data, "relationships part")
        out = []
        for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
            if rel.get("TargetMode", "Internal") != "Internal":
                continue
            out.append((rel.get("Id", ""), rel.get("Type", ""), _resolve_target(source_part, rel.get("Target", ""))))
        return out

    def targets(self, source_part: str, rel_name: str) -> list[str]:
        types = _rel_types(rel_name)
        return [target for _id, typ, target in self.relationships(source_part) if typ in types]

    def add_relationship(self, source_part: str, rel_type: str, target_part: str) -> str:
        rels_part = _rels_name(source_part) if source_part else "_rels/.rels"
        data = self.read(rels_part)
        if data is None:
            root = etree.Element(f"{{{_REL_NS}}}Relationships", nsmap={None: _REL_NS})  # type: ignore[dict-item]
        else:
            root = _parse_xml(data, "relationships part")
        ids = {rel.get("Id") for rel in root.iter(f"{{{_REL_NS}}}Relationship")}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rel = etree.SubElement(root, f"{{{_REL_NS}}}Relationship")
        rel.set("Id", f"rId{n}")
        rel.set("Type", rel_type)
        rel.set("Target", _relative_target(source_part, target_part) if source_part else target_part)
        self.put(rels_part, _to_xml(root))
        return f"rId{n}"

    def ensure_content_type(self, part: str, content_type: str) -> None:
        """Make ``part``'s content type ``content_type``; leave the part list alone if it already is."""
        data = self.read("[Content_Types].xml")
        if data is None:
            raise LabelError("damaged package: no [Content_Types].xml")
        root = _parse_xml(data, "[Content_Types].xml")
        part_name = "/" + part
        for override in root.iter(f"{{{_CT_NS}}}Override"):
            if override.get("PartName", "").lower() == part_name.lower():
                if override.get("ContentType") == content_type:
                    return
                override.set("ContentType", content_type)
                self.put("[Content_Types].xml", _to_xml(root))
                return
        ext = part.rsplit(".", 1)[-1].lower() if "." in part else ""
        for default in root.iter(f"{{{_CT_NS}}}Default"):
            if default.get("Extension", "").lower() == ext and default.get("ContentType") == content_type:
                return
        override = etree.SubElement(root, f"{{{_CT_NS}}}Override")
        override.set("PartName", part_name)
        override.set("ContentType", content_type)
        self.put("[Content_Types].xml", _to_xml(root))

    # -- writing

    def write(self, out: IO[bytes]) -> None:
        """Write the package: changed parts replaced in place, others copied, new parts last."""
        budget = _CopyBudget(self.limits)
        with zipfile.ZipFile(out, "w", allowZip64=True) as zout:
            for info in self.infos:
                zinfo = _copy_zipinfo(info)
                if info.filename in self.changed:
                    zinfo.file_size = len(self.changed[info.filename])
                    with zout.open(zinfo, "w") as dst:
                        dst.write(self.changed[info.filename])
                else:
                    _copy_member(self.zf, info, zout, zinfo, budget)
                # zipfile turns external_attr 0 into 0o600 when it opens the member; the
                # attribute lives only in the central directory, written at close from zinfo.
                zinfo.external_attr = info.external_attr
            for name, data in self.added.items():
                zinfo = zipfile.ZipInfo(name, date_time=_zip_now())
                zinfo.compress_type = zipfile.ZIP_DEFLATED
                zinfo.external_attr = 0o644 << 16
                zout.writestr(zinfo, data)
            zout.comment = self.zf.comment


def _zip_now() -> tuple[int, int, int, int, int, int]:
    t = datetime.now()
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)


def _strip_zip64_extra(extra: bytes) -> bytes:
    """Drop ZIP64 extra fields: zipfile writes its own when (and only when) it needs one."""
    out = bytearray()
    i = 0
    while i + 4 <= len(extra):
        tag = int.from_bytes(extra[i : i + 2], "little")
        size = int.from_bytes(extra[i + 2 : i + 4], "little")
        chunk = extra[i : i + 4 + size]
        if tag != 0x0001:
            out += chunk
        i += 4 + size
    return bytes(out)


def _copy_zipinfo(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    zinfo = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    zinfo.compress_type = info.compress_type
    zinfo.comment = info.comment
    zinfo.extra = _strip_zip64_extra(info.extra)
    zinfo.create_system = info.create_system
    zinfo.create_version = info.create_version
    zinfo.external_attr = info.external_attr
    zinfo.internal_attr = info.internal_attr
    zinfo.file_size = info.file_size
    return zinfo


@dataclass(slots=True)
class _CopyBudget:
    limits: Limits
    expanded: int = 0


def _copy_member(
    zin: zipfile.ZipFile, info: zipfile.ZipInfo, zout: zipfile.ZipFile, zinfo: zipfile.ZipInfo, budget: _CopyBudget
) -> None:
    """Stream one member across with its content unchanged (CRC-checked on the way).

    Expanded bytes are counted against the same limits a scan uses, so a zip bomb
    dressed as a workbook costs a clear error, not the disk.
    """
    limits = budget.limits
    done = 0
    compressed = max(info.compress_size, 1)
    try:
        with zin.open(info) as src, zout.open(zinfo, "w") as dst:
            while block := src.read(_MiB):
                done += len(block)
                budget.expanded += len(block)
                if done > limits.archive_member_bytes:
                    raise LabelError(
                        f"member {info.filename!r} expands beyond {limits.archive_member_bytes // _MiB} MiB"
                    )
                if budget.expanded > limits.archive_total_bytes:
                    raise LabelError(f"package expands to more than {limits.archive_total_bytes // _MiB} MiB")
                if done > _MiB and done / compressed > limits.archive_ratio:
                    raise LabelError(
                        f"member {info.filename!r} compression ratio above "
                        f"{limits.archive_ratio:.0f}:1 (possible zip bomb)"
                    )
                dst.write(block)
    except NotImplementedError:
        raise LabelError(f"member {info.filename!r} uses a compression method that cannot be read") from None
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise LabelError(f"damaged package member {info.filename!r}: {exc}") from None


# --------------------------------------------------------------------------- OOXML labelling


def _custom_part_name(pkg: _Package) -> tuple[str, bool]:
    """The custom-properties part (existing relationship target, or the usual name) and whether it is related."""
    targets = pkg.targets("", "custom-properties")
    if targets:
        return targets[0], True
    return "docProps/custom.xml", False


def _custom_properties(data: bytes | None) -> dict[str, str]:
    """name -> text value of every property in a custom-properties part."""
    if data is None:
        return {}
    root = _parse_xml(data, "custom properties part")
    out = {}
    for prop in root:
        if not isinstance(prop.tag, str) or etree.QName(prop).localname != "property":
            continue
        name = prop.get("name")
        if name:
            out[name] = _text(prop).strip()
    return out


def _merge_custom_properties(data: bytes | None, props: Mapping[str, str], strict: bool) -> bytes:
    """Keep every other property; replace all MSIP label and Clearance keys; renumber pids from 2."""
    if data is None:
        ns, vt = _CUSTOM_NS[strict], _VT_NS[strict]
        root = etree.Element(f"{{{ns}}}Properties", nsmap={None: ns, "vt": vt})  # type: ignore[dict-item]
    else:
        root = _parse_xml(data, "custom properties part")
        ns = etree.QName(root).namespace or _CUSTOM_NS[False]
        if etree.QName(root).localname != "Properties":
            raise LabelError("damaged custom properties part: unexpected root element")
        vt = _VT_NS[ns == _CUSTOM_NS[True]]
        for prop in list(root):
            if isinstance(prop.tag, str) and _is_ours_to_replace(prop.get("name", "")):
                root.remove(prop)
    for name, value in props.items():
        prop = etree.SubElement(root, f"{{{ns}}}property")
        prop.set("fmtid", _FMTID)
        prop.set("pid", "0")  # numbered below; attribute order as Office writes it
        prop.set("name", name)
        text = etree.SubElement(prop, f"{{{vt}}}lpwstr", nsmap={"vt": vt} if vt not in root.nsmap.values() else None)
        text.text = value
    pid = 2
    for prop in root:
        if isinstance(prop.tag, str) and etree.QName(prop).localname == "property":
            prop.set("pid", str(pid))
            pid += 1
    return _to_xml(root)


def _labelinfo_label(data: bytes) -> ExistingLabel | None:
    root = _parse_xml(data, "label information part")
    for node in root.iter(f"{{{_LABELINFO_NS}}}label"):
        if node.get("enabled", "0") in ("1", "true") and node.get("removed", "0") not in ("1", "true"):
            return ExistingLabel(
                None,
                normalise_guid(node.get("id", "")),
                "msip",
                None,
                node.get("method"),
                normalise_guid(node.get("siteId", "")),
            )
    return None


def _labelinfo_xml(label: LabelDef, scheme: LabelScheme, content_bits: int) -> bytes:
    root = etree.Element(f"{{{_LABELINFO_NS}}}labelList", nsmap={"clbl": _LABELINFO_NS})
    node = etree.SubElement(root, f"{{{_LABELINFO_NS}}}label")
    for key, value in (
        ("id", f"{{{label.guid}}}"),
        ("enabled", "1"),
        ("method", scheme.method),
        ("siteId", f"{{{scheme.site_id}}}"),
        ("contentBits", str(content_bits)),
        ("removed", "0"),
    ):
        node.set(key, value)
    return _to_xml(root)


def _ooxml_existing(pkg: _Package, scheme: LabelScheme | None) -> ExistingLabel | None:
    """The label a package carries now: newer Office's LabelInfo part first, then custom properties."""
    custom_name, _related = _custom_part_name(pkg)
    from_props = label_from_properties(_custom_properties(pkg.read(custom_name)))
    for _id, typ, target in pkg.relationships(""):
        data = pkg.read(target) if typ == _LABELINFO_REL else None
        found = _labelinfo_label(data) if data is not None else None
        if found is None:
            continue
        if from_props is not None and from_props.guid == found.guid:
            # The same label in both places: the properties add its name and date.
            found = ExistingLabel(
                from_props.name, found.guid, from_props.source, from_props.set_date, found.method, found.site_id
            )
        return _named(found, scheme)
    return _named(from_props, scheme)


def _named(found: ExistingLabel | None, scheme: LabelScheme | None) -> ExistingLabel | None:
    """Fill in a missing name from the scheme (LabelInfo carries only the GUID)."""
    if found is None or found.name or scheme is None or not found.guid:
        return found
    level = scheme.find(guid=found.guid)
    if level is None:
        return found
    return ExistingLabel(level.name, found.guid, found.source, found.set_date, found.method, found.site_id)


def _label_ooxml(
    src: Path,
    out: IO[bytes],
    kind: str,
    label: LabelDef,
    scheme: LabelScheme,
    stamp: _Stamp,
    visible_marking: bool,
    limits: Limits,
) -> tuple[ExistingLabel | None, bool, list[str]]:
    notes: list[str] = []
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise LabelError(f"damaged {kind.upper()}: not a readable zip package ({exc})") from None
    with zf:
        pkg = _Package(zf, limits)
        if pkg.read("[Content_Types].xml") is None:
            raise LabelError(f"damaged {kind.upper()}: no [Content_Types].xml")
        root_rels = pkg.relationships("")
        if not root_rels:
            raise LabelError(f"damaged {kind.upper()}: no package relationships (_rels/.rels)")
        pkg.strict = any(typ.startswith(_S_RELS) for _i, typ, _t in root_rels)
        previous = _ooxml_existing(pkg, scheme)
        if any(i.filename.lower().startswith("_xmlsignatures/") for i in pkg.infos):
            notes.append("the document's digital signature will no longer be valid after labelling")

        content_bits = label.content_bits
        marking_applied = False
        if kind == "docx":
            marking_applied = _docx_marking(pkg, label, visible_marking, notes)
            if marking_applied:
                content_bits |= CONTENT_HEADER
        elif visible_marking and label.visible_marking:
            notes.append(f"visible marking is only written into Word documents, not {kind.upper()}")

        props = _label_properties(label, scheme, stamp.set_date, stamp.action_id, content_bits, stamp.scan_sha256)
        custom_name, related = _custom_part_name(pkg)
        pkg.put(custom_name, _merge_custom_properties(pkg.read(custom_name), props, pkg.strict))
        pkg.ensure_content_type(custom_name, _CUSTOM_CT)
        if not related:
            pkg.add_relationship("", _rel_type("custom-properties", pkg.strict), custom_name)
        for _i, typ, target in root_rels:
            if typ == _LABELINFO_REL and pkg.read(target) is not None:
                pkg.put(target, _labelinfo_xml(label, scheme, content_bits))
        pkg.write(out)
    return previous, marking_applied, notes


# --------------------------------------------------------------------------- DOCX visible marking


def _docx_marking(pkg: _Package, label: LabelDef, wanted: bool, notes: list[str]) -> bool:
    """Write (or refresh, or remove) the visible marking paragraph in a Word document's headers.

    This is the one case where content parts change: the header parts (a new first
    paragraph, found again later by a hidden bookmark named ``_ClearanceMarking``), and,
    when the document has no header at all, a new header part plus its relationship,
    its content type and a header reference in each section of ``document.xml``.
    A marking left by an earlier label is always refreshed or removed, even without
    ``wanted``, so a document never shows a stale, lower label. Returns whether the
    document now carries our marking.
    """
    text = label.visible_marking if wanted else None
    main = next(iter(pkg.targets("", "officeDocument")), None)
    if main is None or pkg.read(main) is None:
        if wanted:
            notes.append("no main document part found; visible marking not written")
        return False
    headers = [h for h in pkg.targets(main, "header") if pkg.read(h) is not None]
    stale = [h for h in headers if _MARK_BOOKMARK.encode() in (pkg.read(h) or b"")]
    if wanted and text is None:
        notes.append(f"label {label.name!r} has no visible marking text")
    if text is None and not stale:
        return False
    if text is not None and not headers:
        _add_marking_header(pkg, main, text)
        return True
    # Existing headers: refresh ours where present; add ours to every header when wanted.
    for part in headers:
        data = pkg.read(part)
        assert data is not None
        root = _parse_xml(data, "header part")
        had = _remove_marking(root)
        if text is not None:
            root.insert(0, _marking_paragraph(etree.QName(root).namespace or "", text, headers.index(part)))
        if had or text is not None:
            pkg.put(part, _to_xml(root))
    return text is not None


def _remove_marking(root: etree._Element) -> bool:
    ns = etree.QName(root).namespace
    found = False
    for p in list(root.iter(f"{{{ns}}}p")):
        parent = p.getparent()
        if parent is not None and any(
            b.get(f"{{{ns}}}name") == _MARK_BOOKMARK for b in p.iter(f"{{{ns}}}bookmarkStart")
        ):
            parent.remove(p)
            found = True
    return found


def _marking_paragraph(w: str, text: str, index: int) -> etree._Element:
    def q(tag: str) -> str:
        return f"{{{w}}}{tag}"

    # A bookmark id far from Word's own (which count up from 0), one per header part.
    bookmark_id = str(2_000_000_000 + index)
    p = etree.Element(q("p"))
    ppr = etree.SubElement(p, q("pPr"))
    etree.SubElement(ppr, q("jc")).set(q("val"), "center")
    start = etree.SubElement(p, q("bookmarkStart"))
    start.set(q("id"), bookmark_id)
    start.set(q("name"), _MARK_BOOKMARK)
    run = etree.SubElement(p, q("r"))
    rpr = etree.SubElement(run, q("rPr"))
    etree.SubElement(rpr, q("b"))
    etree.SubElement(rpr, q("color")).set(q("val"), "C00000")
    t = etree.SubElement(run, q("t"))
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    t.text = text
    etree.SubElement(p, q("bookmarkEnd")).set(q("id"), bookmark_id)
    return p


def _add_marking_header(pkg: _Package, main: str, text: str) -> None:
    doc_root = _parse_xml(pkg.read(main) or b"", "main document part")
    w = etree.QName(doc_root).namespace or ""
    rel_ns = (_S_RELS if pkg.strict else _T_RELS).rstrip("/")  # the r: namespace of r:id
    folder = posixpath.dirname(main)
    n = 1
    while (
        pkg.name_of(posixpath.join(folder, f"header{n}.xml")) or posixpath.join(folder, f"header{n}.xml") in pkg.added
    ):
        n += 1
    part = posixpath.join(folder, f"header{n}.xml")
    hdr = etree.Element(f"{{{w}}}hdr", nsmap={"w": w, "r": rel_ns})
    hdr.append(_marking_paragraph(w, text, 0))
    pkg.put(part, _to_xml(hdr))
    pkg.ensure_content_type(part, _HEADER_CT)
    rel_id = pkg.add_relationship(main, _rel_type("header", pkg.strict), part)
    body = doc_root.find(f"{{{w}}}body")
    if body is None:
        raise LabelError("damaged Word document: no body")
    sections = list(body.iter(f"{{{w}}}sectPr"))
    if not sections:
        sections = [etree.SubElement(body, f"{{{w}}}sectPr")]
    for sect in sections:
        ref = etree.Element(f"{{{w}}}headerReference")
        ref.set(f"{{{w}}}type", "default")
        ref.set(f"{{{rel_ns}}}id", rel_id)
        sect.insert(0, ref)  # header references come first in a section's properties
    pkg.put(main, _to_xml(doc_root))


# --------------------------------------------------------------------------- PDF

_XMP_CLEARANCE_NS = "https://clearance.invalid/ns/label/1.0/"
_XMP_PDFX_NS = "http://ns.adobe.com/pdfx/1.3/"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_X_NS = "adobe:ns:meta/"


def _pdf_reader(fh: IO[bytes], strict: bool) -> Any:
    from pypdf import PdfReader

    reader = PdfReader(fh, strict=strict)
    if reader.is_encrypted:
        raise LabelError("encrypted PDF: a label cannot be added without removing its encryption")
    _ = len(reader.pages)  # forces the page tree to be read: a damaged one fails here
    return reader


def _pdf_info_strings(info: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (info or {}).items():
        with contextlib.suppress(Exception):
            value = value.get_object()
        if isinstance(value, str):
            out[str(key).lstrip("/")] = str(value)
    return out


def _xmp_properties(data: bytes | None) -> dict[str, str]:
    """Our and pdfx: (custom info key) properties from an XMP packet, as element or attribute."""
    out: dict[str, str] = {}
    if not data:
        return out
    try:
        root = _parse_xml(data, "XMP metadata")
    except LabelError:
        return out
    for desc in root.iter(f"{{{_RDF_NS}}}Description"):
        for key, value in desc.attrib.items():
            _xmp_collect(out, etree.QName(key), str(value))
        for child in desc:
            if isinstance(child.tag, str):
                _xmp_collect(out, etree.QName(child), _text(child).strip())
    return out


def _xmp_collect(out: dict[str, str], qname: etree.QName, value: str) -> None:
    if qname.namespace == _XMP_CLEARANCE_NS:
        out["Clearance_" + qname.localname] = value
    elif qname.namespace == _XMP_PDFX_NS and _MSIP_KEY.match(qname.localname):
        out[qname.localname] = value


def _pdf_existing(reader: Any, scheme: LabelScheme | None) -> ExistingLabel | None:
    info = _pdf_info_strings(reader.metadata)
    found = label_from_properties(info)
    if found is None:
        found = label_from_properties(_xmp_properties(_pdf_xmp_bytes(reader)))
    return _named(found, scheme)


def _pdf_xmp_bytes(reader: Any) -> bytes | None:
    try:
        meta = reader.trailer["/Root"].get_object().get("/Metadata")
        return meta.get_object().get_data() if meta is not None else None
    except Exception:  # a broken or unsupported filter on the XMP stream: treat as absent
        return None


def _xmp_packet(existing: bytes | None, props: Mapping[str, str], notes: list[str]) -> bytes:
    """The XMP packet with our properties (clearance: and pdfx: mirrors of the info keys) merged in.

    Other XMP content is kept; ours and any MSIP keys from an earlier label are replaced.
    An unreadable packet is replaced only if it has no readable content at all.
    """
    root = None
    if existing and existing.strip(b"\x00 \r\n\t"):
        try:
            root = _parse_xml(existing, "XMP metadata")
            if root.find(f".//{{{_RDF_NS}}}RDF") is None and etree.QName(root).localname != "RDF":
                root = None
        except LabelError:
            root = None
        if root is None:
            notes.append("the PDF's XMP metadata was unreadable and has been replaced")
    if root is None:
        root = etree.Element(f"{{{_X_NS}}}xmpmeta", nsmap={"x": _X_NS})
        etree.SubElement(root, f"{{{_RDF_NS}}}RDF", nsmap={"rdf": _RDF_NS})
    rdf = root if etree.QName(root).localname == "RDF" else root.find(f".//{{{_RDF_NS}}}RDF")
    assert rdf is not None
    for desc in list(rdf.iter(f"{{{_RDF_NS}}}Description")):
        for key in list(desc.attrib):
            if _xmp_ours(etree.QName(key)):
                del desc.attrib[key]
        ours = [child for child in desc if isinstance(child.tag, str) and _xmp_ours(etree.QName(child))]
        for child in ours:
            desc.remove(child)
        parent = desc.getparent()
        if ours and parent is not None and len(desc) == 0 and set(desc.attrib) <= {f"{{{_RDF_NS}}}about"}:
            parent.remove(desc)  # an earlier label's block, now empty
    desc = etree.SubElement(
        rdf, f"{{{_RDF_NS}}}Description", nsmap={"clearance": _XMP_CLEARANCE_NS, "pdfx": _XMP_PDFX_NS}
    )
    desc.set(f"{{{_RDF_NS}}}about", "")
    for key, value in props.items():
        if key.startswith("Clearance_"):
            etree.SubElement(desc, f"{{{_XMP_CLEARANCE_NS}}}{key[len('Clearance_') :]}").text = value
        else:
            etree.SubElement(desc, f"{{{_XMP_PDFX_NS}}}{key}").text = value
    body = etree.tostring(root, encoding="UTF-8")
    # The xpacket wrapper lets tools that do not parse PDF find the packet by scanning bytes.
    return b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + b'\n<?xpacket end="w"?>'


def _xmp_ours(qname: etree.QName) -> bool:
    return qname.namespace == _XMP_CLEARANCE_NS or (
        qname.namespace == _XMP_PDFX_NS and qname.localname.lower().startswith("msip_label_")
    )


def _label_pdf(
    src: Path, out: IO[bytes], label: LabelDef, scheme: LabelScheme, stamp: _Stamp
) -> tuple[ExistingLabel | None, str, list[str]]:
    """Label a PDF; returns (previous label, how, notes).

    First choice: an incremental update (the original bytes stay an exact prefix, so
    earlier signatures still cover what they signed). If the file only opens with a
    lenient reader, or the update does not read back, the document is rewritten from
    what pypdf recovers, and that rewrite must still have every page.
    """
    data = src.read_bytes()
    props = _label_properties(label, scheme, stamp.set_date, stamp.action_id, label.content_bits, stamp.scan_sha256)
    pages: int | None = None
    previous: ExistingLabel | None = None
    for how, strict in (("pdf-incremental", True), ("pdf-rewrite", False)):
        notes: list[str] = []
        try:
            reader = _pdf_reader(io.BytesIO(data), strict=strict)
        except LabelError:
            raise
        except Exception as exc:
            if strict:
                continue  # damaged cross-reference data: do not append to a broken base
            raise LabelError(f"damaged PDF: {_words(exc)}") from None
        if pages is None:
            pages = len(reader.pages)
            previous = _pdf_existing(reader, scheme)
        try:
            writer = _pdf_writer(reader, incremental=strict)
            _pdf_set_metadata(writer, reader, props, notes)
            buffer = io.BytesIO()
            writer.write(buffer)
        except Exception as exc:
            if strict:
                continue
            raise LabelError(f"could not write the labelled PDF ({_words(exc)})") from None
        labelled = buffer.getvalue()
        if _pdf_reads_back(labelled, pages, label.guid):
            if how == "pdf-rewrite" and b"/Sig" in data:
                notes.append("the PDF was rewritten; any digital signature in it is no longer valid")
            out.write(labelled)
            return previous, how, notes
    raise LabelError("the labelled PDF did not read back with every page and the label; nothing was written")


def _pdf_reads_back(data: bytes, pages: int | None, guid: str) -> bool:
    """Re-open the labelled bytes the way a lenient viewer would: same page count, our label."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if len(reader.pages) != pages:
            return False
        found = _pdf_existing(reader, None)
        return found is not None and found.guid == guid
    except Exception:
        return False


def _pdf_writer(reader: Any, *, incremental: bool) -> Any:
    from pypdf import PdfWriter

    if not incremental:
        return PdfWriter(clone_from=reader)
    writer = PdfWriter(reader, incremental=True)
    # pypdf numbers new objects after the ones it loaded. A cross-reference stream of
    # an earlier update is not one of those, so the new XMP stream could take its
    # number and readers that cached the old stream would see garbage. Reserving every
    # number below the trailer's /Size makes new objects start above all existing ones.
    size = int(reader.trailer.get("/Size", 0))
    objects = getattr(writer, "_objects", None)
    if isinstance(objects, list) and len(objects) < size - 1:
        objects.extend([None] * (size - 1 - len(objects)))
    return writer


def _pdf_set_metadata(writer: Any, reader: Any, props: Mapping[str, str], notes: list[str]) -> None:
    from pypdf.generic import NameObject, create_string_object

    # pypdf has no public way to delete single info keys; _info is its (shared reader/
    # writer) accessor for the trailer's /Info dictionary, created on first use.
    writer.add_metadata({})
    info = writer._info
    for key in list(info.keys()):
        if _is_ours_to_replace(str(key).lstrip("/")):
            del info[key]
    for key, value in props.items():
        info[NameObject("/" + key)] = create_string_object(value)
    root = writer.root_object
    packet = _xmp_packet(_pdf_xmp_bytes(reader), props, notes)
    if "/Metadata" in root:
        del root["/Metadata"]  # a fresh, uncompressed stream: the old one may use any filter
    writer.xmp_metadata = packet
    stream = root["/Metadata"].get_object()
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    # An incremental update is written with a cross-reference stream, a PDF 1.5 feature;
    # the catalog's /Version says so for files whose header is older.
    header = str(getattr(reader, "pdf_header", "%PDF-1.7"))
    version = header.replace("%PDF-", "")[:3]
    current = str(root.get("/Version", "")).lstrip("/")
    if writer.incremental and version < "1.5" and (not current or current < "1.5"):
        root[NameObject("/Version")] = NameObject("/1.5")


def _words(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + msg if msg else ''}"


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True, slots=True)
class _Stamp:
    set_date: str
    action_id: str
    scan_sha256: str | None


_KIND_WORDS = {"text": "text file", "csv": "CSV file", "zip": "ZIP archive", "empty": "empty file"}


def _kind_of(path: Path) -> str:
    """docx/xlsx/pptx/pdf, or raise LabelUnsupported / LabelError in words."""
    try:
        sniffed = sniff(Source(path.name, path=path))
    except OSError as exc:
        raise LabelError(f"cannot read file: {exc.strerror or exc}") from None
    if sniffed.type in ("docx", "xlsx", "pptx", "pdf"):
        return sniffed.type
    if sniffed.type == "ole" and sniffed.detail and "encrypted" in sniffed.detail:
        raise LabelError(f"cannot label an {sniffed.detail}")
    words = sniffed.detail or _KIND_WORDS.get(sniffed.type, sniffed.type)
    raise LabelUnsupported(f"cannot carry a label: {words}")


def apply_label(
    src: Path,
    dest: Path,
    label: LabelDef,
    scheme: LabelScheme,
    *,
    visible_marking: bool = False,
    now: datetime | None = None,
    action_id: str | uuid.UUID | None = None,
    scan_sha256: str | None = None,
    limits: Limits | None = None,
) -> LabelResult:
    """Write a copy of ``src`` carrying ``label`` at ``dest``; ``src`` is only read.

    ``dest`` may equal ``src`` (label in place): the new file is complete on disk before
    it replaces the old one. ``visible_marking`` adds the label's marking text to a Word
    document's headers (see ``_docx_marking``: the only case where content parts
    change). ``now`` (naive = UTC) and ``action_id`` are for reproducible output; by
    default the current time and a fresh uuid4. ``scan_sha256`` (the scanned file's
    SHA-256) is recorded as ``Clearance_ScanSha256`` when given.

    Raises LabelUnsupported for formats that cannot carry a label, LabelError for
    encrypted, damaged or over-limit files; ``dest`` is then left as it was.
    """
    src, dest = Path(src), Path(dest)
    limits = limits or Limits()
    if scheme.find(guid=label.guid) is None:
        raise ValueError(f"label {label.name!r} is not in the label scheme")
    if scan_sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", scan_sha256):
        raise ValueError("scan_sha256: expected 64 lower-case hex digits")
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise LabelError(f"cannot read file: {exc.strerror or exc}") from None
    if size > limits.max_file_bytes:
        raise LabelError(f"file larger than {limits.max_file_bytes // _MiB} MiB")
    kind = _kind_of(src)
    stamp = _Stamp(_iso_utc(now), str(uuid.UUID(str(action_id))) if action_id else str(uuid.uuid4()), scan_sha256)
    notes: list[str] = []
    marking_applied = False
    with _atomic_output(dest, mode_from=src) as out:
        if kind == "pdf":
            previous, how, notes = _label_pdf(src, out, label, scheme, stamp)
        else:
            previous, marking_applied, notes = _label_ooxml(
                src, out, kind, label, scheme, stamp, visible_marking, limits
            )
            how = "custom-properties"
        out.flush()
        sha = _sha256_of(out)
        if kind == "pdf" and visible_marking and label.visible_marking:
            notes.append("visible marking is only written into Word documents, not PDF")
    return LabelResult(
        src,
        dest,
        kind,
        label.name,
        label.guid,
        stamp.set_date,
        stamp.action_id,
        how,
        sha,
        previous,
        marking_applied,
        tuple(notes),
    )


def _sha256_of(fh: IO[bytes]) -> str:
    fh.seek(0)
    h = hashlib.sha256()
    for block in iter(lambda: fh.read(_MiB), b""):
        h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def _atomic_output(dest: Path, mode_from: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``dest`` that replaces it only if the block completes."""
    folder = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".clearance-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise LabelError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates owner-only files; a labelled copy keeps the source's permissions.
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode_from.stat().st_mode & 0o7777)
        try:
            os.replace(tmp, dest)
        except OSError as exc:  # on Windows: the destination is open in another program
            raise LabelError(f"cannot replace {dest.name}: {exc.strerror or exc}") from None
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def read_label(path: Path, scheme: LabelScheme | None = None) -> ExistingLabel | None:
    """The label a file carries (ours or Office's), None if none or the format cannot carry one.

    ``scheme`` fills in the name of a label known only by its GUID. Raises LabelError
    for an encrypted or damaged DOCX/XLSX/PPTX/PDF.
    """
    path = Path(path)
    try:
        kind = _kind_of(path)
    except LabelUnsupported:
        return None
    if kind == "pdf":
        try:
            with open(path, "rb") as fh:
                reader = _pdf_reader(fh, strict=False)
                return _pdf_existing(reader, scheme)
        except LabelError:
            raise
        except Exception as exc:
            raise LabelError(f"damaged PDF: {_words(exc)}") from None
    try:
        with zipfile.ZipFile(path) as zf:
            return _ooxml_existing(_Package(zf, Limits()), scheme)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise LabelError(f"damaged {kind.upper()}: {_words(exc)}") from None
