"""The contract every extractor follows.

An extractor is a generator ``fn(source, ctx) -> Iterator[Event]``. It yields
``Segment``s for the document it was given (``ctx.segment(...)`` fills in the member
path) and, for containers, hands each member to ``ctx.member(...)`` and yields what
that yields. It raises ``Unscannable`` with user-facing words when the document cannot
be read completely; any other exception is turned into a reason at the boundary
(``ctx.member``/``extract_file``), so a parser bug costs one document, never the scan.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from scanner.limits import Limits
from scanner.model import DocNote, DocProblem, Event, Location, Segment


class Unscannable(Exception):
    """The document cannot be (completely) read. ``str(exc)`` is shown to users."""


@dataclass(slots=True)
class Source:
    """A document's bytes: a file on disk (top level) or bytes in memory (a member)."""

    name: str  # file name or member name: extension tie-breaks only
    path: Path | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return os.path.getsize(self.path)

    def open(self) -> IO[bytes]:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb")

    def head(self, n: int = 8192) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with self.open() as fh:
            return fh.read(n)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        with self.open() as fh:
            return fh.read()

    def sha256(self) -> str:
        h = hashlib.sha256()
        if self.data is not None:
            h.update(self.data)
        else:
            with self.open() as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        return h.hexdigest()


@dataclass(slots=True)
class Budget:
    """Counters shared by every nested document of one top-level file."""

    expanded_bytes: int = 0
    members: int = 0
    cells: int = 0


Extractor = Callable[[Source, "Context"], Iterator[Event]]

# Offered to the top-level extractor of a paged document: given its page count, returns
# the page where this worker stops (the rest go to other workers), or None to read all.
Splitter = Callable[[int], "int | None"]


@dataclass(slots=True)
class Context:
    limits: Limits
    doc: str = ""  # member path of the document being extracted
    depth: int = 0  # 0 for the top-level file
    budget: Budget = field(default_factory=Budget)
    # Page splitting of one big top-level PDF across workers (``scanner.pipeline.page_split``):
    # ``pages`` is the [start, stop) range a later part reads (page text only, plus the
    # page before it as matching context); ``split`` is offered to the first part.
    pages: tuple[int, int] | None = None
    split: Splitter | None = None
    # How a nested document is read: ``registry.extract_document``, which fills it in and
    # hands it down (this module cannot import the registry: the registry imports every
    # extractor, and every extractor imports this module).
    dispatch: Extractor | None = None

    def segment(self, text: str, location: Location, context: str | None = None, engine: str | None = None) -> Segment:
        return Segment(text=text, location=location, doc=self.doc, context=context, engine=engine)

    def note(self, key: str, value: object) -> DocNote:
        return DocNote(self.doc, key, value)

    def problem(self, reason: str) -> DocProblem:
        return DocProblem(self.doc, reason)

    def child_path(self, name: str) -> str:
        return f"{self.doc}!{name}" if self.doc else name

    def charge_expanded(self, n: int) -> None:
        """Count bytes expanded from any container; raise once the file's budget is spent."""
        self.budget.expanded_bytes += n
        if self.budget.expanded_bytes > self.limits.archive_total_bytes:
            raise Unscannable(
                f"archive expands to more than {self.limits.archive_total_bytes // (1024 * 1024)} MiB in total"
            )

    def member(self, name: str, data: bytes) -> Iterator[Event]:
        """Scan a nested document (archive member, embedded package, PDF attachment)."""
        dispatch = self.dispatch
        assert dispatch is not None, "a Context reads nested documents only under registry.extract_document"
        child = Context(self.limits, self.child_path(name), self.depth + 1, self.budget, dispatch=dispatch)
        self.budget.members += 1
        yield from dispatch(Source(name=name, data=data), child)


def describe_exception(kind: str, exc: BaseException) -> str:
    """User-facing words for a parser failure that was not an Unscannable."""
    if isinstance(exc, MemoryError):
        return f"{kind}: ran out of memory while reading"
    if isinstance(exc, RecursionError):
        return f"{kind}: structure nested too deeply to read"
    msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"could not read {kind} ({name}{': ' + msg if msg else ''})"
