"""A changed copy of an OOXML package: the parts we rewrite replaced, every other member copied as it was.

The label writer changes a handful of parts (custom properties, content types, the
package relationships, sometimes Word headers). Every other member is copied with its
content, order, timestamp, attributes and compression method unchanged, streamed under
the same expansion limits a scan uses, so labelling a file changes exactly what it must.
Parts are parsed with ``parse_no_dtd``: OPC forbids DTDs, and a part we write back must
not carry one.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from lxml import etree

from scanner.limits import Limits, MiB
from scanner.ooxml.package import (
    CONTENT_TYPES_NS,
    PKG_REL,
    Package,
    Rel,
    parse_relationships,
    rel_types,
    relative_target,
    rels_name,
)
from scanner.ooxml.xml import PackageError, parse_no_dtd, to_xml

CONTENT_TYPES = "[Content_Types].xml"
_ENCRYPTED_FLAG = 0x1  # general-purpose bit 0 of a zip member: traditional PKWARE encryption
_ZIP64_EXTRA_TAG = 0x0001
_ZIP_EPOCH_YEAR = 1980  # the earliest year a zip timestamp can hold
_NEW_MEMBER_MODE = 0o644 << 16  # rw-r--r--, in the high half of external_attr like Info-ZIP


class _CappedReader:
    """The writer reads only XML parts whole; a cap on their size is enough (copies are streamed)."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        self._zf = zf
        self._cap = limits.xml_part_bytes

    def read(self, info: zipfile.ZipInfo) -> bytes:
        name, cap = info.filename, self._cap
        if info.file_size > cap:
            raise PackageError(f"part {name!r} is larger than {cap // MiB} MiB")
        try:
            with self._zf.open(info) as fh:
                data = fh.read(cap + 1)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, ValueError) as exc:
            raise PackageError(f"damaged package member {name!r}: {exc}") from None
        if len(data) > cap:
            raise PackageError(f"part {name!r} is larger than {cap // MiB} MiB")
        return data

    def stream(self, info: zipfile.ZipInfo) -> io.BytesIO:
        return io.BytesIO(self.read(info))


class PackageEdit:
    """The members of one OOXML zip, the parts we change, and a writer that copies the rest.

    ``read`` sees the pending changes, so later steps build on earlier ones (a header
    relationship added to ``document.xml.rels`` is there when the next step reads it).
    """

    def __init__(self, zf: zipfile.ZipFile, kind: str, limits: Limits) -> None:
        self.zf = zf
        self.limits = limits
        self.infos = zf.infolist()
        if len(self.infos) > limits.archive_members:
            raise PackageError(f"package has more than {limits.archive_members} members")
        for info in self.infos:
            if info.flag_bits & _ENCRYPTED_FLAG:
                raise PackageError(f"encrypted package member {info.filename!r}")
        self.package = Package(zf, kind, _CappedReader(zf, limits))
        self.changed: dict[str, bytes] = {}  # existing member name -> new content
        self.added: dict[str, bytes] = {}  # new member name -> content
        self.strict = False  # Strict OOXML: relationship types are spelled the Strict way

    def taken(self, part: str) -> bool:
        """Whether ``part`` names an existing member or one this edit adds."""
        return self.package.has(part) or part in self.added

    def read(self, part: str) -> bytes | None:
        """Current content of a part (with our pending changes), capped at the XML part limit."""
        info = self.package.info(part)
        if info is None:
            return self.added.get(part)
        if info.filename in self.changed:
            return self.changed[info.filename]
        return self.package.read(part)

    def put(self, part: str, data: bytes) -> None:
        info = self.package.info(part)
        if info is None:
            self.added[part] = data
        elif self.read(part) != data:
            self.changed[info.filename] = data

    # -- relationships and content types

    def relationships(self, source_part: str) -> list[Rel]:
        """The internal relationships of a part ('' = the package root), pending changes included."""
        data = self.read(rels_name(source_part))
        if data is None:
            return []
        root = parse_no_dtd(data, "relationships part")
        return [r for r in parse_relationships(root, source_part) if not r.external]

    def targets(self, source_part: str, rel_name: str) -> list[str]:
        """Targets of ``source_part``'s relationships named ``rel_name`` (Transitional or Strict spelling)."""
        types = rel_types(rel_name)
        return [r.target for r in self.relationships(source_part) if r.type in types]

    def rel_type(self, rel_name: str) -> str:
        """The relationship type URI for ``rel_name`` in this package's spelling."""
        return rel_types(rel_name)[1 if self.strict else 0]

    def add_relationship(self, source_part: str, rel_type: str, target_part: str) -> str:
        """Relate ``source_part`` to ``target_part``; returns the new relationship's Id."""
        rels_part = rels_name(source_part)
        data = self.read(rels_part)
        if data is None:
            root = etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
        else:
            root = parse_no_dtd(data, "relationships part")
        ids = {rel.get("Id") for rel in root.iter(f"{{{PKG_REL}}}Relationship")}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rel = etree.SubElement(root, f"{{{PKG_REL}}}Relationship")
        rel.set("Id", f"rId{n}")
        rel.set("Type", rel_type)
        rel.set("Target", relative_target(source_part, target_part))
        self.put(rels_part, to_xml(root))
        return f"rId{n}"

    def ensure_content_type(self, part: str, content_type: str) -> None:
        """Make ``part``'s content type ``content_type``; leave the part list alone if it already is."""
        data = self.read(CONTENT_TYPES)
        if data is None:
            raise PackageError("damaged package: no [Content_Types].xml")
        root = parse_no_dtd(data, CONTENT_TYPES)
        part_name = "/" + part
        for override in root.iter(f"{{{CONTENT_TYPES_NS}}}Override"):
            if override.get("PartName", "").lower() == part_name.lower():
                if override.get("ContentType") == content_type:
                    return
                override.set("ContentType", content_type)
                self.put(CONTENT_TYPES, to_xml(root))
                return
        ext = part.rsplit(".", 1)[-1].lower() if "." in part else ""
        for default in root.iter(f"{{{CONTENT_TYPES_NS}}}Default"):
            if default.get("Extension", "").lower() == ext and default.get("ContentType") == content_type:
                return
        override = etree.SubElement(root, f"{{{CONTENT_TYPES_NS}}}Override")
        override.set("PartName", part_name)
        override.set("ContentType", content_type)
        self.put(CONTENT_TYPES, to_xml(root))

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
                zinfo.external_attr = _NEW_MEMBER_MODE
                zout.writestr(zinfo, data)
            zout.comment = self.zf.comment


def _zip_now() -> tuple[int, int, int, int, int, int]:
    t = datetime.now()
    return (max(t.year, _ZIP_EPOCH_YEAR), t.month, t.day, t.hour, t.minute, t.second)


def _strip_zip64_extra(extra: bytes) -> bytes:
    """Drop ZIP64 extra fields: zipfile writes its own when (and only when) it needs one."""
    out = bytearray()
    i = 0
    while i + 4 <= len(extra):
        tag = int.from_bytes(extra[i : i + 2], "little")
        size = int.from_bytes(extra[i + 2 : i + 4], "little")
        chunk = extra[i : i + 4 + size]
        if tag != _ZIP64_EXTRA_TAG:
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
            while block := src.read(MiB):
                done += len(block)
                budget.expanded += len(block)
                if done > limits.archive_member_bytes:
                    raise PackageError(
                        f"member {info.filename!r} expands beyond {limits.archive_member_bytes // MiB} MiB"
                    )
                if budget.expanded > limits.archive_total_bytes:
                    raise PackageError(f"package expands to more than {limits.archive_total_bytes // MiB} MiB")
                if done > MiB and done / compressed > limits.archive_ratio:
                    raise PackageError(
                        f"member {info.filename!r} compression ratio above "
                        f"{limits.archive_ratio:.0f}:1 (possible zip bomb)"
                    )
                dst.write(block)
    except NotImplementedError:
        raise PackageError(f"member {info.filename!r} uses a compression method that cannot be read") from None
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise PackageError(f"damaged package member {info.filename!r}: {exc}") from None
