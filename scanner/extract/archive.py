"""Archives: every member scanned as its own document, in memory, within limits.

ZIP, tar (plain or gzip/bzip2/xz-compressed), a single gzip/bzip2/xz-compressed file,
7-Zip, and a ZIP appended to a file of another type (a polyglot). Every kind shares the
same limits (``read_limited``, ``scan_members``): members per archive and per file,
bytes per member, bytes per file, and the compression ratio; nesting depth is checked
where each member is dispatched.

Nothing is ever written to disk, so traversal names (``../../x``, ``C:\\x``, absolute
paths) are only display names, and link members are never followed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from scanner.extract.base import Context, Source, Unscannable
from scanner.model import DocProblem, DocStart, Event
from scanner.sniff import DocType

_MiB = 1024 * 1024
_READ_BLOCK = 256 * 1024  # a member is inflated this much at a time, each block charged to the budget
_ENCRYPTED_FLAG = 0x1  # general-purpose bit 0 of a ZIP entry
_UNIX = 3  # ZipInfo.create_system of an entry made on Unix: its high attribute bits are a mode
_SYMLINK = "symlink"  # the type of a link member, which is never followed
_UNSUPPORTED = DocType.UNSUPPORTED.value  # the type of a member that is not read
_TAR_BLOCK = 512
_TAR_MAGIC_AT = 257
_APPENDED_NAME = "appended.zip"  # the member name of a ZIP found after another file's own bytes


# --- the limits every archive kind shares -------------------------------------------------


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def read_limited(fh: Readable, ctx: Context, label: str, max_bytes: int, compressed: Callable[[], int]) -> bytes:
    """Read one member to its end, trusting neither its declared size nor its ratio.

    ``compressed`` says how many stored bytes the member has used so far (its declared
    compressed size, or the bytes read from the archive while inflating it). Raises
    Unscannable as soon as the expanded bytes pass ``max_bytes``, the file's total budget,
    or the compression-ratio limit (checked once past the first MiB, where a legitimately
    compressible XML part can still look extreme).
    """
    out = bytearray()
    while True:
        block = fh.read(_READ_BLOCK)
        if not block:
            return bytes(out)
        out += block
        charge_member(ctx, label, len(out), compressed(), len(block), max_bytes)


def charge_member(ctx: Context, label: str, expanded: int, compressed: int, block: int, max_bytes: int) -> None:
    """Charge ``block`` new bytes of a member now ``expanded`` long to the file's budget."""
    ctx.charge_expanded(block)
    if expanded > max_bytes:
        raise Unscannable(f"member {label!r} expands beyond {max_bytes // _MiB} MiB")
    ratio = ctx.limits.archive_ratio
    if expanded > _MiB and expanded / max(compressed, 1) > ratio:
        raise Unscannable(f"member {label!r} compression ratio above {ratio:.0f}:1 (possible zip bomb)")


def check_member_count(ctx: Context, count: int) -> None:
    if count > ctx.limits.archive_members:
        raise Unscannable(f"archive has {count} members, more than the limit of {ctx.limits.archive_members}")


@dataclass(slots=True)
class Member:
    """One archive entry as ``scan_members`` sees it, whatever the archive kind."""

    name: str
    size: int  # declared expanded size, shown for a member that is not read
    read: Callable[[], bytes] | None = None  # None: a link, never followed


def scan_members(ctx: Context, members: Iterable[Member]) -> Iterator[Event]:
    """Dispatch each member in turn (a streamed archive's next entry is read only after)."""
    limits = ctx.limits
    for m in members:
        child_path = ctx.child_path(m.name)
        if m.read is None:
            yield DocStart(child_path, _SYMLINK, "", 0)
            yield ctx.note("symlink_members", m.name)
            continue
        if ctx.budget.members >= limits.archive_members:
            yield DocStart(child_path, _UNSUPPORTED, "", m.size)
            yield DocProblem(child_path, f"more than {limits.archive_members} archive members in total")
            continue
        try:
            data = m.read()
        except Unscannable as exc:
            yield DocStart(child_path, _UNSUPPORTED, "", m.size)
            yield DocProblem(child_path, str(exc))
            if ctx.budget.expanded_bytes > limits.archive_total_bytes:
                raise  # the whole file's budget is gone: stop reading further members
            continue
        yield from ctx.member(m.name, data)


# --- ZIP ----------------------------------------------------------------------------------


def read_member_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: Context, max_bytes: int) -> bytes:
    """Read one ZIP member within the shared limits (also used for OOXML parts)."""
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise Unscannable("encrypted ZIP member")
    compressed = max(info.compress_size, 1)
    try:
        with zf.open(info) as fh:
            return read_limited(fh, ctx, info.filename, max_bytes, lambda: compressed)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise Unscannable(f"damaged ZIP member {info.filename!r}: {exc}") from exc
    except RuntimeError as exc:  # zipfile says "File ... is encrypted, password required"
        raise Unscannable(f"encrypted ZIP member {info.filename!r}") from exc


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == _UNIX and stat.S_ISLNK(info.external_attr >> 16)


def extract_zip(src: Source, ctx: Context) -> Iterator[Event]:
    fh = src.open()
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        fh.close()
        raise Unscannable(f"damaged or truncated ZIP archive ({exc})") from exc
    with fh, zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        check_member_count(ctx, len(infos))
        yield from scan_members(ctx, (_zip_member(zf, i, ctx) for i in infos))


def _zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: Context) -> Member:
    if is_symlink(info):
        return Member(info.filename, 0)
    return Member(
        info.filename, info.file_size, lambda: read_member_limited(zf, info, ctx, ctx.limits.archive_member_bytes)
    )


# --- tar and single compressed files --------------------------------------------------------


class _Counted:
    """A read-only file that counts the bytes taken from it: the stored side of a ratio."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.count += len(data)
        return data


# Each takes the archive's file (or a _Counted wrapper of it, which only reads).
_DECOMPRESSORS: dict[bytes, Callable[[Any], io.BufferedIOBase]] = {
    b"\x1f\x8b": lambda fh: gzip.GzipFile(fileobj=fh, mode="rb"),
    b"BZ": lambda fh: bz2.BZ2File(fh, "rb"),
    b"\xfd7": lambda fh: lzma.LZMAFile(fh, "rb"),
}
_COMPRESSED_EXT = {".gz": "", ".tgz": ".tar", ".bz2": "", ".tbz2": ".tar", ".tbz": ".tar", ".xz": "", ".txz": ".tar"}
_STREAM_ERRORS = (tarfile.TarError, OSError, EOFError, lzma.LZMAError, ValueError, zlib.error)


def _is_tar_header(block: bytes) -> bool:
    return block[_TAR_MAGIC_AT : _TAR_MAGIC_AT + 5] == b"ustar"


def extract_tar(src: Source, ctx: Context) -> Iterator[Event]:
    """A tar archive, plain or compressed: members streamed in order, one in memory at a time."""
    with src.open() as raw:
        counted = _Counted(raw)
        try:
            # "r|*": a stream, never seeking; tarfile picks gzip/bzip2/xz from the first bytes.
            tf = tarfile.open(fileobj=counted, mode="r|*")  # type: ignore[call-overload]
        except _STREAM_ERRORS as exc:
            raise Unscannable(f"damaged or truncated tar archive ({exc})") from exc
        with tf:
            yield from scan_members(ctx, _tar_members(tf, counted, ctx))


def _tar_members(tf: tarfile.TarFile, counted: _Counted, ctx: Context) -> Iterator[Member]:
    count = 0
    try:
        for ti in tf:
            if ti.isdir() or not (ti.isfile() or ti.issym() or ti.islnk()):
                continue  # directories, devices and FIFOs hold no content
            count += 1
            check_member_count(ctx, count)
            if ti.issym() or ti.islnk():
                yield Member(ti.name, 0)
                continue
            yield Member(ti.name, ti.size, lambda ti=ti: _read_tar_member(tf, ti, counted, ctx))  # type: ignore[misc]
    except _STREAM_ERRORS as exc:
        raise Unscannable(f"damaged or truncated tar archive ({exc})") from exc


def _read_tar_member(tf: tarfile.TarFile, ti: tarfile.TarInfo, counted: _Counted, ctx: Context) -> bytes:
    fh = tf.extractfile(ti)
    if fh is None:
        return b""
    start = counted.count
    try:
        # The stored side is what was read from the archive meanwhile: a sparse member or
        # a compressed run of zeros shows its true ratio whatever its header declares.
        return read_limited(fh, ctx, ti.name, ctx.limits.archive_member_bytes, lambda: counted.count - start)
    except _STREAM_ERRORS as exc:
        raise Unscannable(f"damaged tar member {ti.name!r}: {exc}") from exc


def extract_compressed(src: Source, ctx: Context) -> Iterator[Event]:
    """gzip, bzip2 or xz: a compressed tar is read as that tar, anything else as its one member."""
    head = src.head(2)
    opener = _DECOMPRESSORS.get(head[:2])
    if opener is None:
        raise Unscannable("unrecognised compressed file")
    try:
        with src.open() as raw, opener(raw) as fh:
            first = fh.read(_TAR_BLOCK)
    except _STREAM_ERRORS as exc:
        raise Unscannable(f"damaged or truncated compressed file ({exc})") from exc
    if _is_tar_header(first):
        yield from extract_tar(src, ctx)
        return
    name = _inner_name(src)
    try:
        with src.open() as raw:
            counted = _Counted(raw)
            with opener(counted) as fh:
                data = read_limited(fh, ctx, name, ctx.limits.archive_member_bytes, lambda: counted.count)
    except _STREAM_ERRORS as exc:
        raise Unscannable(f"damaged or truncated compressed file ({exc})") from exc
    yield from ctx.member(name, data)


def _inner_name(src: Source) -> str:
    """The name inside a compressed file: gzip's FNAME field, else the outer name less its suffix."""
    stored = _gzip_fname(src.head(1024))
    if stored:
        return stored
    base = src.name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    if dot and f".{ext.lower()}" in _COMPRESSED_EXT:
        return stem + _COMPRESSED_EXT[f".{ext.lower()}"] if stem else "contents"
    return base + ".contents"


def _gzip_fname(head: bytes) -> str | None:
    """RFC 1952: FLG bit 3 says an original file name (NUL-terminated Latin-1) follows the header."""
    if len(head) < 10 or head[:2] != b"\x1f\x8b" or not head[3] & 0x08:
        return None
    pos = 10
    if head[3] & 0x04:  # FEXTRA comes first
        if len(head) < 12:
            return None
        pos += 2 + struct.unpack_from("<H", head, 10)[0]
    end = head.find(b"\x00", pos)
    if end <= pos:
        return None
    name = head[pos:end].decode("latin-1").replace("\\", "/").rsplit("/", 1)[-1]
    return name or None


# --- 7-Zip --------------------------------------------------------------------------------


def extract_7z(src: Source, ctx: Context) -> Iterator[Event]:
    """A 7-Zip archive. py7zr decompresses inside one call, so the members of one archive
    are collected (within the same limits, charged as they inflate) and then dispatched."""
    import py7zr  # deferred: start-up time (py7zr loads its codecs)
    from py7zr.io import Py7zIO, WriterFactory  # deferred with py7zr

    errors = (py7zr.exceptions.ArchiveError, OSError, EOFError, lzma.LZMAError, ValueError, KeyError)
    archive_size = max(src.size, 1)
    total = [0]
    limit = ctx.limits.archive_member_bytes

    class _Sink(Py7zIO):
        def __init__(self, label: str) -> None:
            self.label = label
            self.buf = bytearray()

        def write(self, s: bytes | bytearray) -> int:
            self.buf += s
            total[0] += len(s)
            # Solid archives share compressed blocks between members: the ratio is the
            # archive's, the bytes expanded so far against the archive's size.
            charge_member(ctx, self.label, len(self.buf), 0, len(s), limit)
            if total[0] > _MiB and total[0] / archive_size > ctx.limits.archive_ratio:
                raise Unscannable(
                    f"7-Zip archive compression ratio above {ctx.limits.archive_ratio:.0f}:1 (possible zip bomb)"
                )
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return len(self.buf)

    sinks: dict[str, _Sink] = {}
    labels: dict[str, str] = {}

    class _Factory(WriterFactory):
        def create(self, filename: str) -> Py7zIO:
            sink = _Sink(labels.get(filename, filename))
            sinks[filename] = sink
            return sink

    with src.open() as fh:
        try:
            archive = py7zr.SevenZipFile(fh, mode="r")
        except py7zr.exceptions.PasswordRequired as exc:
            raise Unscannable("encrypted 7z archive (header encrypted)") from exc
        except errors as exc:
            raise Unscannable(f"damaged or truncated 7-Zip archive ({exc})") from exc
        with archive:
            if archive.needs_password():
                raise Unscannable("encrypted 7z archive")
            files = [f for f in archive.files if not f.is_directory]
            check_member_count(ctx, len(files))
            order: list[tuple[str, str, int, bool]] = []  # key, real name, size, link
            for f in files:
                key = f"m{f.id}"
                link = bool(f.is_symlink or getattr(f, "is_junction", False))
                order.append((key, f.filename, f.uncompressed or 0, link))
                labels[key] = f.filename
                # py7zr refuses traversal names ("../x") even when writing to memory; here a
                # name is only a label, so each member is extracted under a neutral key.
                f._file_info["filename"] = key
            targets = [key for key, _, _, link in order if not link]
            try:
                if targets:
                    archive.extract(targets=targets, factory=_Factory())
            except py7zr.exceptions.PasswordRequired as exc:
                raise Unscannable("encrypted 7z archive") from exc
            except errors as exc:
                raise Unscannable(f"damaged 7-Zip archive ({exc})") from exc

    def member(key: str, name: str, size: int, link: bool) -> Member:
        if link:
            return Member(name, 0)
        sink = sinks.get(key)
        return Member(name, size, lambda: bytes(sink.buf) if sink is not None else b"")

    yield from scan_members(ctx, (member(*entry) for entry in order))


# --- a ZIP appended to another file ---------------------------------------------------------

_EOCD = b"PK\x05\x06"
_EOCD_LEN = 22
_EOCD_SEARCH = _EOCD_LEN + 0xFFFF  # the record plus the longest archive comment
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class _Appended:
    start: int  # where the ZIP's own offsets count from (0: they count from the host's start)
    first_local: int  # absolute offset of the first member's local header


def find_appended_zip(fh: IO[bytes], size: int) -> _Appended | None:
    """The ZIP at the end of a file whose own format is not ZIP: its End of Central
    Directory record in the last 64 KiB, a central directory where it says, and a local
    file header where that directory's first entry says (three signatures must agree)."""
    if size < _EOCD_LEN + 46 + 30:
        return None
    tail_at = max(0, size - _EOCD_SEARCH)
    fh.seek(tail_at)
    tail = fh.read()
    pos = tail.rfind(_EOCD)
    if pos < 0 or len(tail) - pos < _EOCD_LEN:
        return None
    cd_size, cd_offset = struct.unpack_from("<II", tail, pos + 12)
    eocd_at = tail_at + pos
    cd_at = eocd_at - cd_size
    start = cd_at - cd_offset
    if start < 0 or cd_size < 46 or cd_at < 0:
        return None
    fh.seek(cd_at)
    central = fh.read(46)
    if len(central) < 46 or central[:4] != _CENTRAL:
        return None
    first_local = start + struct.unpack_from("<I", central, 42)[0]
    if first_local <= 0:
        return None  # a ZIP from the first byte is the file's own format, not an appendix
    fh.seek(first_local)
    if fh.read(4) != _LOCAL:
        return None
    return _Appended(start, first_local)


def extract_appended_zip(src: Source, ctx: Context) -> Iterator[Event]:
    """Read a ZIP appended to this file (a polyglot: an image or text a viewer shows, with
    an archive after it) as a member named ``appended.zip``, in addition to the file's own
    reading."""
    with src.open() as fh:
        if fh.read(2) == b"PK":
            return  # the file itself is a ZIP: its reader sees the same directory
        size = src.size
        found = find_appended_zip(fh, size)
        if found is None:
            return
        if size - found.start > ctx.limits.archive_member_bytes:
            raise Unscannable(f"appended ZIP archive larger than {ctx.limits.archive_member_bytes // _MiB} MiB")
        fh.seek(found.start)
        data = fh.read()
    yield ctx.note("appended_zip", found.first_local)
    if found.start > 0:
        yield from ctx.member(_APPENDED_NAME, data)
        return
    # Offsets that count from the host's first byte (``zip -A``, self-extractors): the
    # whole file is the archive for zipfile, which is read directly as the member.
    child = Context(ctx.limits, ctx.child_path(_APPENDED_NAME), ctx.depth + 1, ctx.budget, dispatch=ctx.dispatch)
    ctx.budget.members += 1
    yield DocStart(child.doc, DocType.ZIP.value, "", len(data))
    if child.depth > ctx.limits.archive_depth:
        yield child.problem(f"archive nested deeper than {ctx.limits.archive_depth} levels")
        return
    try:
        yield from extract_zip(Source(_APPENDED_NAME, data=data), child)
    except Unscannable as exc:
        yield child.problem(str(exc))
