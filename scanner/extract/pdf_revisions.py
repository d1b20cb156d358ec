"""What a PDF holds besides its final revision: earlier revisions and bytes after the end.

An incremental update appends changed objects and a new cross-reference section; the
objects it replaces stay in the file, and cutting the file at an earlier ``%%EOF`` (or
Acrobat's "view signed version") shows that revision again. A redaction made as an
update leaves the value in the bytes. Each earlier revision is opened on its own: its
structure (``pdf_structure``) and the text of the pages whose content streams the
later updates replaced; only what the final revision no longer says is reported, at
"revision N".

Bytes after the last ``%%EOF`` are no PDF syntax (``pdf`` refuses a cut-off update
there): a ZIP appended to the file opens in any unzip tool and is read as a member
(``archive.extract_appended_zip``); other bytes are swept for printable strings.

pypdf and PDFium are imported inside the functions that use them (start-up time).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from scanner.extract.pdf_structure import Item, Structure, walk_pypdf
from scanner.extract.pdf_text import pdfium_text
from scanner.model import Location

_EOF = b"%%EOF"
_STARTXREF_BEFORE_EOF = re.compile(rb"startxref\s+(\d+)\s*$")
_XREF_SECTION = re.compile(rb"xref\b|\d+\s+\d+\s+obj\b")
_PREV = re.compile(rb"/Prev\s+\d+")
_TRAILER = b"trailer"
_WINDOW = 4096  # bytes read around the last cross-reference section to find its /Prev
_STARTXREF_REACH = 64  # "startxref", its offset and line ends before an %%EOF
_MAX_REVISIONS = 64  # earlier revisions read; more is an attack on the scanner's time
# Printable runs in bytes after the end: ASCII (or UTF-8) text, and UTF-16LE text.
_PRINTABLE = re.compile(rb"[\t\r\n\x20-\x7e]{6,}|(?:[\x20-\x7e]\x00){6,}")


# --- bytes after the end of the file ---------------------------------------------------------


def trailing_text(fh: IO[bytes], start: int, end: int) -> str | None:
    """Printable strings in bytes [start, end): text a tool shows though a viewer does not."""
    if end <= start:
        return None
    fh.seek(start)
    data = fh.read(end - start)
    if not data.strip(b"\x00\t\r\n\x0c "):
        return None
    runs = []
    for m in _PRINTABLE.finditer(data):
        run = m.group(0)
        text = run.decode("utf-16-le", "replace") if run[1:2] == b"\x00" else run.decode("utf-8", "replace")
        if text.strip():
            runs.append(text.strip())
    return "\n".join(runs) or None


# --- earlier revisions ---------------------------------------------------------------------------


def was_updated(fh: IO[bytes], eof_at: int) -> bool:
    """Does the last cross-reference section point back at an earlier one (/Prev)?

    Reads only around the last section, so a file that was never updated costs two small
    reads. Linearized files' first-page section points forward, not back, and says
    nothing here.
    """
    start = max(0, eof_at - _WINDOW)
    fh.seek(start)
    window = fh.read(eof_at - start)
    found = _STARTXREF_BEFORE_EOF.search(window[-_STARTXREF_REACH:])
    if found is None:
        return False
    fh.seek(int(found.group(1)))
    section = fh.read(_WINDOW)
    if section.startswith(b"xref"):
        # A table: its trailer dictionary comes just before "startxref".
        trailer = window.rfind(_TRAILER)
        return trailer >= 0 and _PREV.search(window, trailer) is not None
    head = section.split(b"stream", 1)[0]  # a cross-reference stream: its dictionary
    return _PREV.search(head) is not None


def revision_ends(data: bytes) -> list[int]:
    """Where each earlier revision ends: an %%EOF after a startxref that points at a
    cross-reference section inside the bytes before it (not one in an embedded file)."""
    ends: list[int] = []
    last = data.rfind(_EOF)
    pos = data.find(_EOF)
    while 0 <= pos < last:
        found = _STARTXREF_BEFORE_EOF.search(data, max(0, pos - _STARTXREF_REACH), pos)
        if found is not None:
            offset = int(found.group(1))
            if 0 < offset < pos and _XREF_SECTION.match(data, offset):
                ends.append(pos + len(_EOF))
        pos = data.find(_EOF, pos + len(_EOF))
    return ends


@dataclass(frozen=True, slots=True)
class Revision:
    """What an earlier revision said that the final one does not."""

    number: int  # 1 for the original document
    items: list[Item]
    unreadable: bool = False  # the revision could not be opened: reported, not skipped


def earlier_revisions(data: bytes, final: Structure, final_pdf: Any, max_pages: int) -> Iterator[Revision]:
    """Each earlier revision's texts that the final revision (``final``, ``final_pdf``)
    no longer holds, located as "revision N"."""
    from pypdf import PdfReader  # deferred: start-up time (see the module's docstring)

    ends = revision_ends(data)[:_MAX_REVISIONS]
    if not ends:
        return
    said = {(item.location.part, _squash(item.text)) for item in final.items}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final_pages = {
            ident: (index, sig)
            for index, (ident, sig) in enumerate(_page_signatures(PdfReader(io.BytesIO(data), strict=False)))
        }
    final_lines: dict[int, set[str]] = {}  # final page index -> its squashed lines, read on demand
    for number, end in enumerate(ends, start=1):
        prefix = data[:end]
        try:
            structure = walk_pypdf(io.BytesIO(prefix), max_pages)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pages = _page_signatures(PdfReader(io.BytesIO(prefix), strict=False))
        except Exception:
            yield Revision(number, [], unreadable=True)
            continue
        label = f"revision {number}"
        items: list[Item] = []
        for item in structure.items:
            key = (item.location.part, _squash(item.text))
            if key in said:
                continue
            said.add(key)
            name = f"{label}: {item.location.name}" if item.location.name else label
            items.append(Item(item.location._replace(name=name), item.text, item.context))
        changed = []
        for index, (ident, sig) in enumerate(pages):
            now = final_pages.get(ident)
            if now is None or now[1] != sig:
                changed.append((index, now))
        if changed:
            items.extend(_changed_pages(prefix, changed, final_pdf, final_lines, said, label, max_pages))
        yield Revision(number, items)


def _changed_pages(
    prefix: bytes,
    changed: list[tuple[int, tuple[int, Any] | None]],
    final_pdf: Any,
    final_lines: dict[int, set[str]],
    said: set[tuple[str, str]],
    label: str,
    max_pages: int,
) -> Iterator[Item]:
    """The lines of an earlier revision's changed pages that the final pages lack."""
    import pypdfium2 as pdfium  # deferred: start-up time (see the module's docstring)

    old = pdfium.PdfDocument(prefix)
    try:
        for index, final in changed:
            if index >= min(len(old), max_pages):
                break
            known: set[str] = set()
            if final is not None and final_pdf is not None:
                if final[0] not in final_lines:
                    final_lines[final[0]] = {_squash(line) for line in pdfium_text(final_pdf, final[0]).splitlines()}
                known = final_lines[final[0]]
            lines = []
            for line in pdfium_text(old, index).splitlines():
                key = _squash(line)
                if key and key not in known and ("body", key) not in said:
                    said.add(("body", key))
                    lines.append(line)
            if lines:
                yield Item(Location("body", page=index + 1, name=label), "\n".join(lines))
    finally:
        old.close()


def _page_signatures(reader: Any) -> list[tuple[Any, Any]]:
    """[(page object number, where its content streams are stored)] in page order: a page
    whose content streams an update rewrote has a new signature."""
    out: list[tuple[Any, Any]] = []
    for page in reader.pages:
        ref = page.indirect_reference
        contents = dict.get(page, "/Contents")
        refs = list(contents) if isinstance(contents, list) else [contents]
        sig = tuple(_stored_at(reader, r) for r in refs)
        out.append((ref.idnum if ref is not None else None, sig))
    return out


def _stored_at(reader: Any, ref: Any) -> Any:
    idnum = getattr(ref, "idnum", None)
    if idnum is None:
        return None
    generation = getattr(ref, "generation", 0)
    return (idnum, reader.xref.get(generation, {}).get(idnum), reader.xref_objStm.get(idnum))


def _squash(text: str) -> str:
    return "".join(text.split())
