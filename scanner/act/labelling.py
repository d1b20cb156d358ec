"""Labelling a file: ``apply_label`` writes a labelled copy, ``read_label`` reads the label a file carries.

DOCX/XLSX/PPTX go to ``label_ooxml``, PDF to ``label_pdf``; anything else raises
``LabelUnsupported`` and the policy decides whether such a file may leave unlabelled.

A downgrade (to a lower level of the scheme than the file's current label of our tenant)
needs a justification; without one ``apply_label`` refuses with a ``LabelError`` and writes
nothing. Recording the change (old label, new label, who, why) is the caller's job, through
``AuditLog.record_label_change``: ``LabelResult`` carries what that row needs.

The labelled file is always written to a temporary file in the destination folder,
flushed to disk and then moved over the destination in one step, so a crash leaves
either the old file or the new one, never half of one. The source is only read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from scanner.act.label_common import LabelError, LabelUnsupported, Stamp, Written, iso_utc
from scanner.act.label_ooxml import label_ooxml, read_ooxml_label
from scanner.act.label_pdf import label_pdf, read_pdf_label
from scanner.durable import fsync_dir
from scanner.extract.base import Source
from scanner.labels.existing import ExistingLabel
from scanner.labels.scheme import LabelDef, LabelScheme
from scanner.limits import Limits, MiB
from scanner.ooxml.xml import PackageError
from scanner.sniff import sniff

_LABELLABLE = ("docx", "xlsx", "pptx", "pdf")
_KIND_WORDS = {"text": "text file", "csv": "CSV file", "zip": "ZIP archive", "empty": "empty file"}
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_PERMISSION_BITS = 0o7777


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
    downgrade: bool = False
    justification: str | None = None

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
            "downgrade": self.downgrade,
            "justification": self.justification,
        }


def _kind_of(path: Path) -> str:
    """docx/xlsx/pptx/pdf, or raise LabelUnsupported / LabelError in words."""
    try:
        sniffed = sniff(Source(path.name, path=path))
    except OSError as exc:
        raise LabelError(f"cannot read file: {exc.strerror or exc}") from None
    if sniffed.type in _LABELLABLE:
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
    justification: str | None = None,
) -> LabelResult:
    """Write a copy of ``src`` carrying ``label`` at ``dest``; ``src`` is only read.

    ``dest`` may equal ``src`` (label in place): the new file is complete on disk before
    it replaces the old one. ``visible_marking`` adds the label's marking text to a Word
    document's headers (the only case where content parts change). ``now`` (naive = UTC)
    and ``action_id`` are for reproducible output; by default the current time and a
    fresh uuid4. ``scan_sha256`` (the scanned file's SHA-256) is recorded as
    ``Clearance_ScanSha256`` when given.

    A label lower in the scheme than the file's current label of our tenant is a
    downgrade: it needs a non-blank ``justification``, else LabelError and nothing is
    written.

    Raises LabelUnsupported for formats that cannot carry a label, LabelError for
    encrypted, damaged or over-limit files; ``dest`` is then left as it was.
    """
    src, dest = Path(src), Path(dest)
    limits = limits or Limits()
    if scheme.find(guid=label.guid) is None:
        raise ValueError(f"label {label.name!r} is not in the label scheme")
    if scan_sha256 is not None and not _SHA256_HEX.fullmatch(scan_sha256):
        raise ValueError("scan_sha256: expected 64 lower-case hex digits")
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise LabelError(f"cannot read file: {exc.strerror or exc}") from None
    if size > limits.max_file_bytes:
        raise LabelError(f"file larger than {limits.max_file_bytes // MiB} MiB")
    why = justification.strip() if justification else None
    kind = _kind_of(src)
    stamp = Stamp(iso_utc(now), str(uuid.UUID(str(action_id))) if action_id else str(uuid.uuid4()), scan_sha256)
    try:
        with _atomic_output(dest, mode_from=src) as out:
            written: Written
            if kind == "pdf":
                written = label_pdf(src, out, label, scheme, stamp)
            else:
                written = label_ooxml(src, out, kind, label, scheme, stamp, visible_marking, limits)
            downgrade = is_downgrade(written.previous, label, scheme)
            if downgrade and not why:
                was = written.previous.name if written.previous else None
                raise LabelError(
                    f"downgrade from {was} to {label.name} needs a justification (--justification TEXT); "
                    "nothing was written"
                )
            out.flush()
            sha = _sha256_of(out)
    except PackageError as exc:
        raise LabelError(str(exc)) from None
    notes = written.notes
    if kind == "pdf" and visible_marking and label.visible_marking:
        notes += ("visible marking is only written into Word documents, not PDF",)
    return LabelResult(
        src,
        dest,
        kind,
        label.name,
        label.guid,
        stamp.set_date,
        stamp.action_id,
        written.how,
        sha,
        written.previous,
        written.marking_applied,
        notes,
        downgrade,
        why,
    )


def current_level(previous: ExistingLabel | None, scheme: LabelScheme) -> LabelDef | None:
    """Our tenant's level that a file's current label stands for (other tenants' labels have none)."""
    if previous is None:
        return None
    level = scheme.find(guid=previous.guid) if previous.guid else None
    if level is None and previous.source == "clearance" and previous.name:
        level = scheme.find(name=previous.name)
    return level


def is_downgrade(previous: ExistingLabel | None, label: LabelDef, scheme: LabelScheme) -> bool:
    """Whether ``label`` ranks below ``previous``, our tenant's current label (others' are not ranked)."""
    before = current_level(previous, scheme)
    return before is not None and scheme.rank(before) > scheme.rank(label)


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
        return read_pdf_label(path, scheme)
    try:
        return read_ooxml_label(path, kind, scheme)
    except PackageError as exc:
        raise LabelError(str(exc)) from None


def _sha256_of(fh: IO[bytes]) -> str:
    fh.seek(0)
    h = hashlib.sha256()
    for block in iter(lambda: fh.read(MiB), b""):
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
            os.chmod(tmp, mode_from.stat().st_mode & _PERMISSION_BITS)
        try:
            os.replace(tmp, dest)
        except OSError as exc:  # on Windows: the destination is open in another program
            raise LabelError(f"cannot replace {dest.name}: {exc.strerror or exc}") from None
        fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
