"""The text around each finding, for the detail pane: read again by the core's extractors, off the GUI thread.

Findings carry offsets, not text (a scan's outcome never holds a raw value). To show "the
text around a finding" the file is read again with ``scanner.extract`` in a background
thread (``gui.services.TextReader``); each finding's segment is found by its location
and keyed hash, ``CONTEXT_CHARS`` characters either side are kept and the rest dropped.
Only files whose scan produced findings are read here, so each has already been read
once within the worker pool's time and memory limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.services import Reading, TextReader
from gui.session import Session
from scanner.detect.normalize import normalize
from scanner.detect.redact import keyed_hash
from scanner.model import DocOutcome, Finding, Location, Segment

CONTEXT_CHARS = 120  # shown either side of a finding: a sentence or two, never the whole document

FindingKey = tuple[str, str, int, int, str]  # document path, keyed hash, start, end, pattern id
_SegmentKey = tuple[str, str, int | None, str | None, str | None, int | None, str | None]


@dataclass(frozen=True, slots=True)
class Snippet:
    """The text around one finding, raw (memory only): the view masks it unless revealed."""

    before: str
    match: str
    after: str
    others: tuple[tuple[int, int], ...] = ()  # spans (in before+match+after) of other findings


@dataclass(frozen=True, slots=True)
class Located:
    snippets: dict[FindingKey, Snippet]
    missing: int  # findings whose segment was not found (or whose text no longer matches)


def finding_key(doc_path: str, f: Finding) -> FindingKey:
    return (doc_path, f.hash, f.start, f.end, f.pattern)


def _segment_key(doc_path: str, loc: Location) -> _SegmentKey:
    """Which segment a finding came from: its document and location (the line is not part of it)."""
    return (doc_path, loc.part, loc.page, loc.sheet, loc.cell, loc.paragraph, loc.name)


def locate_snippets(
    segments: Iterable[tuple[str, Segment]], wanted: Sequence[tuple[str, Finding]], hash_key: bytes
) -> Located:
    """The snippet of each wanted finding, from the file's segments; stops once every one is found."""
    pending: dict[_SegmentKey, list[tuple[str, Finding]]] = {}
    for doc, f in wanted:
        pending.setdefault(_segment_key(doc, f.location), []).append((doc, f))
    every = {k: [f for _d, f in v] for k, v in pending.items()}  # for masking neighbours
    snippets: dict[FindingKey, Snippet] = {}
    for doc_path, seg in segments:
        key = _segment_key(doc_path, seg.location)
        candidates = pending.get(key)
        if not candidates:
            continue
        try:
            text = normalize(seg.text)  # the text the matcher saw: offsets refer to it
        except TimeoutError:
            continue  # the regex safety limit: this segment's findings stay missing
        for doc, f in list(candidates):
            if f.end > len(text):
                continue
            value = text[f.start : f.end]
            if keyed_hash(hash_key, value) != f.hash:
                continue  # the file changed since the scan
            a, b = max(0, f.start - CONTEXT_CHARS), min(len(text), f.end + CONTEXT_CHARS)
            others = tuple(
                (max(o.start, a) - a, min(o.end, b) - a) for o in every[key] if o is not f and o.start < b and o.end > a
            )
            snippets[finding_key(doc, f)] = Snippet(text[a : f.start], value, text[f.end : b], others)
            candidates.remove((doc, f))
        if not candidates:
            del pending[key]
        if not pending:
            break  # every finding located: no need to read the rest
    return Located(snippets, sum(len(v) for v in pending.values()))


class ContextService(QObject):
    """Snippets per scanned file, read once and cached until the results are cleared."""

    context_ready = Signal(str, object)  # display path, dict[FindingKey, Snippet]
    context_failed = Signal(str, str)  # display path, reason

    def __init__(self, reader: TextReader, session: Callable[[], Session], parent: QObject | None = None):
        super().__init__(parent)
        self._reader = reader
        self._session = session
        self._cache: dict[str, dict[FindingKey, Snippet]] = {}
        self._running: dict[str, Reading] = {}

    def cached(self, display: str) -> dict[FindingKey, Snippet] | None:
        return self._cache.get(display)

    def request(self, path: Path, display: str, outcomes: Sequence[DocOutcome]) -> None:
        if display in self._cache:
            self.context_ready.emit(display, self._cache[display])
            return
        if display in self._running:
            return
        wanted = [(o.path, f) for o in outcomes for f in o.findings]
        if not wanted:
            self._cache[display] = {}
            self.context_ready.emit(display, {})
            return
        session = self._session()
        self._running[display] = self._reader.read(
            path,
            display,
            session.config.limits,
            lambda segments: locate_snippets(segments, wanted, session.hash_key),
            lambda located, problem: self._on_read(display, len(wanted), located, problem),
        )

    def _on_read(self, display: str, wanted: int, located: Located | None, problem: str) -> None:
        self._running.pop(display, None)
        snippets = located.snippets if located is not None else {}
        missing = located.missing if located is not None else wanted
        if not problem and missing:
            problem = f"the text around {missing} finding(s) could not be located"
        # Cached even when incomplete: reading the file again would only fail again (and the
        # detail pane asks again whenever it renders a finding it has no snippet for).
        self._cache[display] = snippets
        if snippets or not problem:
            self.context_ready.emit(display, snippets)
        if problem:
            self.context_failed.emit(display, problem)

    def forget(self) -> None:
        """Drop cached text (e.g. when the results are cleared)."""
        self._cache.clear()

    def close(self) -> None:
        for reading in self._running.values():
            reading.cancel()
        self._running.clear()
