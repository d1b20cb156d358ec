"""A real ``vbaProject.bin`` for tests, written from the specifications (test-only code).

No Python library writes VBA projects (oletools and olefile only read), so this module
builds one the way Office lays it out:

* [MS-OVBA] 2.3 "VBA Project Structures": a PROJECT stream (2.3.1), a VBA storage holding
  the ``_VBA_PROJECT`` stream (2.3.4.1), the ``dir`` stream (2.3.4.2: project information,
  no references, one MODULE record per module) and one stream per module whose source
  starts at MODULEOFFSET (2.3.4.3);
* [MS-OVBA] 2.4.1 "Compression": the ``dir`` stream and module sources are
  CompressedContainers; ``compress`` below is the spec's compression algorithm
  (2.4.1.3.7 "Compressing a DecompressedChunk", CopyToken help 2.4.1.3.19.1). Production
  code never decompresses by hand: it reads projects through oletools' olevba;
* [MS-CFB] "Compound File Binary File Format", version 3: 512-byte sectors, one header
  with up to 109 DIFAT entries (2.2), a FAT (2.3), a mini FAT and mini stream for streams
  under the 4096-byte cutoff (2.4, 2.5), and 128-byte directory entries whose siblings form
  a binary search tree ordered by name length then upper-case name (2.6.4).
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

# --- MS-OVBA ----------------------------------------------------------------------


def compress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1.3.6: a CompressedContainer (signature 0x01, then compressed chunks)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), 4096):
        chunk = data[start : start + 4096]
        body = bytearray()
        pos = 0
        while pos < len(chunk):
            flag_at = len(body)
            body.append(0)
            flags = 0
            for bit in range(8):
                if pos >= len(chunk):
                    break
                # CopyToken help (2.4.1.3.19.1): the offset/length split depends on how far
                # into the chunk we are.
                bit_count = max((pos - 1).bit_length(), 4) if pos else 4
                max_length = (0xFFFF >> bit_count) + 3
                best_len = best_off = 0
                for candidate in range(pos - 1, -1, -1):
                    length = 0
                    while (
                        pos + length < len(chunk)
                        and length < max_length
                        and chunk[candidate + length] == chunk[pos + length]
                    ):
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - candidate
                if best_len >= 3:
                    token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                    body += struct.pack("<H", token)
                    flags |= 1 << bit
                    pos += best_len
                else:
                    body.append(chunk[pos])
                    pos += 1
            body[flag_at] = flags
        assert len(body) <= 4096, "incompressible chunk: the raw-chunk form is not needed for test sources"
        # Chunk header (2.4.1.3.5): size - 3 in 12 bits, signature 0b011, flag 1 = compressed.
        out += struct.pack("<H", (len(body) + 2 - 3) | 0x3000 | 0x8000) + body
    return bytes(out)


@dataclass(frozen=True)
class Module:
    name: str
    source: str  # VBA source as the editor shows it (CRLF line ends are added)
    document: bool = False  # a document module (ThisDocument, Sheet1) rather than a standard one


def _rec(rec_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", rec_id, len(data)) + data


def _dir_stream(modules: list[Module], offset: int) -> bytes:
    """[MS-OVBA] 2.3.4.2: PROJECTINFORMATION, no REFERENCE records, PROJECTMODULES, terminator."""
    out = bytearray()
    out += _rec(0x01, struct.pack("<I", 1))  # PROJECTSYSKIND: 32-bit Windows
    out += _rec(0x02, struct.pack("<I", 0x409))  # PROJECTLCID
    out += _rec(0x14, struct.pack("<I", 0x409))  # PROJECTLCIDINVOKE
    out += _rec(0x03, struct.pack("<H", 1252))  # PROJECTCODEPAGE
    out += _rec(0x04, b"VBAProject")  # PROJECTNAME
    out += _rec(0x05, b"") + _rec(0x40, b"")  # PROJECTDOCSTRING (+ unicode)
    out += _rec(0x06, b"") + _rec(0x3D, b"")  # PROJECTHELPFILEPATH (+ second copy)
    out += _rec(0x07, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _rec(0x08, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x09, 4, 1, 0)  # PROJECTVERSION (Reserved = 4, major, minor)
    out += _rec(0x0C, b"") + _rec(0x3C, b"")  # PROJECTCONSTANTS (+ unicode)
    out += _rec(0x0F, struct.pack("<H", len(modules)))  # PROJECTMODULES count
    out += _rec(0x13, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for m in modules:
        name, wide = m.name.encode("cp1252"), m.name.encode("utf-16-le")
        out += _rec(0x19, name) + _rec(0x47, wide)  # MODULENAME, MODULENAMEUNICODE
        out += _rec(0x1A, name) + _rec(0x32, wide)  # MODULESTREAMNAME (+ unicode)
        out += _rec(0x1C, b"") + _rec(0x48, b"")  # MODULEDOCSTRING (+ unicode)
        out += _rec(0x31, struct.pack("<I", offset))  # MODULEOFFSET
        out += _rec(0x1E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _rec(0x2C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += _rec(0x22 if m.document else 0x21, b"")  # MODULETYPE
        out += _rec(0x2B, b"")  # module terminator
    out += _rec(0x10, b"")  # dir terminator
    return compress(bytes(out))


def _project_stream(modules: list[Module]) -> bytes:
    """[MS-OVBA] 2.3.1: the project's text description (module list, host extenders)."""
    lines = ['ID="{00000000-0000-0000-0000-000000000000}"']
    for m in modules:
        lines.append(f"Document={m.name}/&H00000000" if m.document else f"Module={m.name}")
    lines += ['Name="VBAProject"', 'HelpContextID="0"', 'VersionCompatible32="393222000"', ""]
    lines += ["[Host Extender Info]", "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000", ""]
    lines += ["[Workspace]", *(f"{m.name}=0, 0, 0, 0, C" for m in modules), ""]
    return "\r\n".join(lines).encode("cp1252")


def vba_project_bin(
    modules: list[Module], cache: bytes = b"\x00" * 40, *, dir_stream: bytes | None = None, omit: tuple[str, ...] = ()
) -> bytes:
    """The bytes of a ``vbaProject.bin`` holding ``modules``.

    ``cache`` stands in for the performance cache (compiled p-code) that precedes each
    module's compressed source; MODULEOFFSET points past it. ``dir_stream`` replaces the
    dir stream and ``omit`` leaves module streams out: damaged projects for tests.
    """
    vba: dict[str, bytes | dict] = {
        "_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0, 0),  # 2.3.4.1, version: no cache
        "dir": _dir_stream(modules, len(cache)) if dir_stream is None else dir_stream,
    }
    for m in modules:
        if m.name in omit:
            continue
        source = f'Attribute VB_Name = "{m.name}"\r\n' + m.source.replace("\r\n", "\n").replace("\n", "\r\n")
        vba[m.name] = cache + compress(source.encode("cp1252"))
    return compound_file({"PROJECT": _project_stream(modules), "VBA": vba})


# --- MS-CFB -----------------------------------------------------------------------

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[int] | None = None
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    start: int = _END
    size: int = 0


def _key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4: siblings compare by name length first, then upper-cased name."""
    return len(name), name.upper()


def compound_file(tree: dict[str, bytes | dict]) -> bytes:
    """A version-3 compound file holding ``tree`` (a dict is a storage, bytes a stream)."""
    entries = [_Entry("Root Entry", 5)]

    def add(node: dict[str, bytes | dict], parent: int) -> None:
        ids = []
        for name in sorted(node, key=_key):
            value = node[name]
            entries.append(
                _Entry(name, 1 if isinstance(value, dict) else 2, value if isinstance(value, bytes) else b"")
            )
            ids.append(len(entries) - 1)
            if isinstance(value, dict):
                add(value, len(entries) - 1)
        entries[parent].child = _balance(entries, ids)

    add(tree, 0)

    # Streams under the cutoff live in the mini stream, 64-byte mini sectors chained by the mini FAT.
    mini, minifat = bytearray(), []
    big: list[_Entry] = []
    for e in entries:
        if e.kind != 2:
            continue
        e.size = len(e.data)
        if e.size >= _CUTOFF:
            big.append(e)
        elif e.size:
            e.start = len(mini) // _MINI
            count = -(-e.size // _MINI)
            minifat += [e.start + i + 1 for i in range(count - 1)] + [_END]
            mini += e.data + b"\x00" * (count * _MINI - e.size)

    dir_bytes_count = -(-len(entries) // 4)
    minifat_sectors = -(-len(minifat) * 4 // _SECTOR)
    mini_sectors = -(-len(mini) // _SECTOR)
    big_sectors = sum(-(-e.size // _SECTOR) for e in big)
    fat_sectors = 1
    while fat_sectors * (_SECTOR // 4) < fat_sectors + dir_bytes_count + minifat_sectors + mini_sectors + big_sectors:
        fat_sectors += 1
    assert fat_sectors <= 109, "test fixtures stay within the header's DIFAT"

    fat: list[int] = [_FATSECT] * fat_sectors
    sectors = bytearray()

    def place(data: bytes) -> int:
        nonlocal sectors
        if not data:
            return _END
        first = len(fat)
        count = -(-len(data) // _SECTOR)
        fat.extend([first + i + 1 for i in range(count - 1)] + [_END])
        sectors += data + b"\x00" * (count * _SECTOR - len(data))
        return first

    # The directory's entries need the streams' start sectors: reserve its sectors, fill them last.
    dir_start = len(fat)
    fat.extend([dir_start + i + 1 for i in range(dir_bytes_count - 1)] + [_END])
    dir_at = len(sectors)
    sectors += b"\x00" * (dir_bytes_count * _SECTOR)
    minifat_start = place(b"".join(struct.pack("<I", x) for x in minifat))
    entries[0].start = place(bytes(mini))
    entries[0].size = len(mini)
    for e in big:
        e.start = place(e.data)

    table = bytearray()
    for e in entries:
        table += _dir_entry(e)
    table += _unused_entry() * (dir_bytes_count * 4 - len(entries))
    sectors[dir_at : dir_at + len(table)] = table

    fat += [_FREE] * (fat_sectors * (_SECTOR // 4) - len(fat))
    fat_bytes = b"".join(struct.pack("<I", x) for x in fat)
    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
    header += struct.pack(
        "<IIIIIIIII", 0, fat_sectors, dir_start, 0, _CUTOFF, minifat_start, len(minifat) and minifat_sectors, _END, 0
    )
    header += b"".join(struct.pack("<I", x) for x in difat)
    assert len(header) == _SECTOR
    return header + fat_bytes + bytes(sectors)


def _balance(entries: list[_Entry], ids: list[int]) -> int:
    """A balanced search tree of sibling ids (all black: readers do not re-balance)."""
    if not ids:
        return _NOSTREAM
    mid = len(ids) // 2
    node = entries[ids[mid]]
    node.left = _balance(entries, ids[:mid])
    node.right = _balance(entries, ids[mid + 1 :])
    return ids[mid]


def _dir_entry(e: _Entry) -> bytes:
    name = e.name.encode("utf-16-le") + b"\x00\x00"
    assert len(name) <= 64
    out = name + b"\x00" * (64 - len(name))
    out += struct.pack("<HBB", len(name), e.kind, 1)
    out += struct.pack("<III", e.left, e.right, e.child)
    out += b"\x00" * 16 + struct.pack("<I", 0) + b"\x00" * 16  # CLSID, state bits, times
    out += struct.pack("<IQ", e.start if (e.kind != 1) else 0, e.size)
    return out


def _unused_entry() -> bytes:
    return b"\x00" * 68 + struct.pack("<III", _NOSTREAM, _NOSTREAM, _NOSTREAM) + b"\x00" * 48


# --- packages ---------------------------------------------------------------------

VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VBA_CT = "application/vnd.ms-office.vbaProject"
# Main-part content types of the macro-enabled formats (what makes Office offer to run macros).
MACRO_MAIN = {
    "word/document.xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    ),
    "xl/workbook.xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ),
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
    ),
}


def add_vba_project(package: Path, project: bytes, main: str, target: Path | None = None) -> Path:
    """Turn a .docx/.xlsx/.pptx written by its library into the macro-enabled form holding ``project``.

    The project goes beside the main part as ``vbaProject.bin`` with its Default content
    type and a vbaProject relationship from the main part, as Office saves it.
    """
    folder = main.rsplit("/", 1)[0]
    with zipfile.ZipFile(package) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    plain, enabled = MACRO_MAIN[main]
    types = items["[Content_Types].xml"].decode().replace(plain, enabled)
    types = types.replace("<Default ", f'<Default Extension="bin" ContentType="{VBA_CT}"/><Default ', 1)
    items["[Content_Types].xml"] = types.encode()
    rels_name = f"{folder}/_rels/{main.rsplit('/', 1)[1]}.rels"
    rels = items[rels_name].decode()
    items[rels_name] = rels.replace(
        "</Relationships>", f'<Relationship Id="rIdVba" Type="{VBA_REL}" Target="vbaProject.bin"/></Relationships>'
    ).encode()
    items[f"{folder}/vbaProject.bin"] = project
    out = target or package
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    out.write_bytes(buf.getvalue())
    return out
