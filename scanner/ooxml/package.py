"""An open OOXML package (DOCX, XLSX, PPTX): its parts, their relationships, safe XML.

The scan (``scanner.extract.ooxml``) and the label writer (``scanner.ooxml.edit``) read
packages through this one model, so both agree on which part a name or a relationship
means. Each brings its own ``PartReader``: the scan charges every byte to the file's
budget and streams big parts; the writer only caps a part's size.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import unquote

from scanner.ooxml.xml import PackageError, parse_xml

PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
# Transitional and Strict OOXML spell the same relationship types differently.
TRANSITIONAL_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
STRICT_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships/"
# Relationship names that Strict spells differently from Transitional.
_STRICT_REL_NAMES = {"custom-properties": "customProperties"}


@dataclass(frozen=True, slots=True)
class Rel:
    id: str
    kind: str  # last segment of the type, lower-case, no dashes: "officedocument", "comments"
    type: str
    target: str  # resolved part name ("word/header1.xml"), or the raw URL when external
    external: bool


def rel_kind(rel_type: str) -> str:
    """'.../relationships/extended-properties' and Strict '.../extendedProperties' -> 'extendedproperties'."""
    return rel_type.rstrip("/").rsplit("/", 1)[-1].lower().replace("-", "").replace("_", "")


def rel_types(name: str) -> tuple[str, str]:
    """(Transitional, Strict) relationship type URIs for a Transitional relationship name."""
    return TRANSITIONAL_RELS + name, STRICT_RELS + _STRICT_REL_NAMES.get(name, name)


def rels_name(part: str) -> str:
    """The relationships part of ``part`` ('' for the package itself: ``_rels/.rels``)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{base}.rels")


def resolve_target(base_dir: str, target: str) -> str:
    """A relationship target as a part name: relative to the source part's folder, or absolute.

    A part name has no fragment (OPC), so ``#...`` is dropped; some producers write
    backslashes, which every reader takes as folder separators.
    """
    target = unquote(target.split("#", 1)[0].replace("\\", "/"))
    path = target[1:] if target.startswith("/") else posixpath.join(base_dir, target)
    path = posixpath.normpath(path)
    return "" if path == "." else path.lstrip("/")


def relative_target(source_part: str, part: str) -> str:
    """The Target a relationship from ``source_part`` ('' = the package) writes to reach ``part``."""
    folder = posixpath.dirname(source_part)
    return posixpath.relpath("/" + part, "/" + folder) if folder else part


def parse_relationships(root: Any, source_part: str) -> list[Rel]:
    """The relationships in a parsed ``.rels`` part of ``source_part`` ('' = the package)."""
    base = posixpath.dirname(source_part)
    out: list[Rel] = []
    for el in root.iter(f"{{{PKG_REL}}}Relationship"):
        rtype = el.get("Type") or ""
        target = el.get("Target") or ""
        external = (el.get("TargetMode") or "").lower() == "external"
        if not external:
            target = resolve_target(base, target)
        out.append(Rel(el.get("Id") or "", rel_kind(rtype), rtype, target, external))
    return out


class StreamedPart(Protocol):
    """A part read in pieces (lxml's iterparse asks for blocks), closed by ``with``."""

    def read(self, n: int = -1, /) -> bytes: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None, /
    ) -> None: ...


class PartReader(Protocol):
    """How a package's members come out of the zip, under the caller's limits."""

    def read(self, info: zipfile.ZipInfo) -> bytes: ...

    def stream(self, info: zipfile.ZipInfo) -> StreamedPart: ...


class Package:
    """An open OOXML package: case-insensitive part lookup, relationships, safe XML."""

    def __init__(self, zf: zipfile.ZipFile, kind: str, reader: PartReader) -> None:
        self.zf = zf
        self.kind = kind  # "DOCX" / "XLSX" / "PPTX": the word users see in reasons
        self._reader = reader
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._rels: dict[str, list[Rel]] = {}
        self.visited: set[str] = set()  # lower-case names of the parts read so far
        for info in zf.infolist():
            if info.is_dir():
                continue
            key = info.filename.lower().lstrip("/")
            if key in self._infos:
                # Two parts with one name: Office refuses such a file, and we cannot
                # know which copy a reader would show, so neither can be vouched for.
                raise PackageError(f"damaged {kind}: two parts named {info.filename!r} (ambiguous package)")
            self._infos[key] = info

    @property
    def names(self) -> list[str]:
        return [i.filename for i in self._infos.values()]

    def info(self, name: str) -> zipfile.ZipInfo | None:
        return self._infos.get(name.lower().lstrip("/"))

    def has(self, name: str) -> bool:
        return self.info(name) is not None

    def _visit(self, name: str) -> zipfile.ZipInfo:
        info = self.info(name)
        if info is None:
            raise KeyError(name)
        self.visited.add(info.filename.lower())
        return info

    def read(self, name: str) -> bytes:
        return self._reader.read(self._visit(name))

    def stream(self, name: str) -> StreamedPart:
        return self._reader.stream(self._visit(name))

    def xml(self, name: str) -> Any:
        """The parsed root of a part (KeyError when absent)."""
        info = self._visit(name)
        return parse_xml(self._reader.read(info), info.filename, self.kind)

    def xml_or_none(self, name: str | None) -> Any | None:
        if not name or not self.has(name):
            return None
        return self.xml(name)

    def rels(self, part: str = "") -> list[Rel]:
        """Relationships of a part ('' = the package); an absent .rels part means none."""
        key = part.lower()
        cached = self._rels.get(key)
        if cached is None:
            root = self.xml_or_none(rels_name(part))
            cached = self._rels[key] = parse_relationships(root, part) if root is not None else []
        return cached

    def related(self, part: str, *kinds: str) -> list[str]:
        """Internal targets of ``part``'s relationships of the given kinds that exist."""
        return [r.target for r in self.rels(part) if r.kind in kinds and not r.external and self.has(r.target)]

    def rel_map(self, part: str) -> dict[str, Rel]:
        return {r.id: r for r in self.rels(part)}

    def main_part(self, fallback: str) -> str:
        """The office document part named by the package relationships (or the usual name)."""
        for r in self.rels(""):
            info = self.info(r.target) if r.kind == "officedocument" and not r.external else None
            if info is not None:
                return info.filename
        info = self.info(fallback)
        if info is not None:
            return info.filename
        raise PackageError(f"damaged or truncated {self.kind} (no main document part)")
