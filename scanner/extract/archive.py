"""ZIP archives: every member scanned as its own document, in memory, within limits.

Nothing is ever written to disk, so traversal names (``../../x``, ``C:\\x``, absolute
paths) are only display names, and symlink members are never followed.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator

from scanner.extract.base import Context, Source, Unscannable
from scanner.model import DocProblem, DocStart, Event
from scanner.sniff import DocType

_MiB = 1024 * 1024
_READ_BLOCK = 256 * 1024  # a member is inflated this much at a time, each block charged to the budget
_ENCRYPTED_FLAG = 0x1  # general-purpose bit 0 of a ZIP entry
_UNIX = 3  # ZipInfo.create_system of an entry made on Unix: its high attribute bits are a mode
_SYMLINK = "symlink"  # the type of a symlink member, which is never followed
_UNSUPPORTED = DocType.UNSUPPORTED.value  # the type of a member that is not read


def read_member_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: Context, max_bytes: int) -> bytes:
    """Read one member, trusting neither its declared size nor its declared ratio.

    Raises Unscannable as soon as the expanded bytes pass ``max_bytes``, the file's
    total budget, or the compression-ratio limit (checked once past the first MiB,
    where a legitimately compressible XML part can still look extreme).
    """
    limits = ctx.limits
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise Unscannable("encrypted ZIP member")
    compressed = max(info.compress_size, 1)
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                block = fh.read(_READ_BLOCK)
                if not block:
                    break
                out += block
                ctx.charge_expanded(len(block))
                if len(out) > max_bytes:
                    raise Unscannable(f"member {info.filename!r} expands beyond {max_bytes // _MiB} MiB")
                if len(out) > _MiB and len(out) / compressed > limits.archive_ratio:
                    raise Unscannable(
                        f"member {info.filename!r} compression ratio above {limits.archive_ratio:.0f}:1 "
                        "(possible zip bomb)"
                    )
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise Unscannable(f"damaged ZIP member {info.filename!r}: {exc}") from exc
    except RuntimeError as exc:  # zipfile says "File ... is encrypted, password required"
        raise Unscannable(f"encrypted ZIP member {info.filename!r}") from exc
    return bytes(out)


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == _UNIX and stat.S_ISLNK(info.external_attr >> 16)


def extract_zip(src: Source, ctx: Context) -> Iterator[Event]:
    limits = ctx.limits
    fh = src.open()
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        fh.close()
        raise Unscannable(f"damaged or truncated ZIP archive ({exc})") from exc
    with fh, zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > limits.archive_members:
            raise Unscannable(f"archive has {len(infos)} members, more than the limit of {limits.archive_members}")
        for info in infos:
            name = info.filename
            child_path = ctx.child_path(name)
            if is_symlink(info):
                yield DocStart(child_path, _SYMLINK, "", 0)
                yield ctx.note("symlink_members", name)
                continue
            if ctx.budget.members >= limits.archive_members:
                yield DocStart(child_path, _UNSUPPORTED, "", info.file_size)
                yield DocProblem(child_path, f"more than {limits.archive_members} archive members in total")
                continue
            try:
                data = read_member_limited(zf, info, ctx, limits.archive_member_bytes)
            except Unscannable as exc:
                yield DocStart(child_path, _UNSUPPORTED, "", info.file_size)
                yield DocProblem(child_path, str(exc))
                if ctx.budget.expanded_bytes > limits.archive_total_bytes:
                    raise  # the whole file's budget is gone: stop reading further members
                continue
            yield from ctx.member(name, data)
