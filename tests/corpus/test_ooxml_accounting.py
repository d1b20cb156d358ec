"""Every part of every OOXML file in ../shared/corpus is read, ignored with a reason, or reported.

Files are chosen by content (sniffed DOCX/XLSX/PPTX, so macro and template variants and
misnamed files count), read in place from the shared corpus, never copied.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scanner.extract.base import Source
from scanner.extract.ooxml_sweep import PartStatus, collect_accounting
from scanner.extract.registry import extract_file
from scanner.model import DocNote, DocProblem
from scanner.sniff import DocType, sniff

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
_OOXML = (DocType.DOCX, DocType.XLSX, DocType.PPTX)


def _ooxml_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    out = []
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                if sniff(Source(path.name, path=path)).type in _OOXML:
                    out.append(path)
            except OSError:
                continue
    return out


FILES = _ooxml_files()


@pytest.mark.skipif(not FILES, reason="../shared/corpus is absent")
def test_every_ooxml_part_is_accounted_for() -> None:
    unaccounted: list[str] = []
    reported: list[str] = []
    checked = 0
    for path in FILES:
        try:
            with zipfile.ZipFile(path) as zf:
                names = {i.filename for i in zf.infolist() if not i.is_dir()}
        except (zipfile.BadZipFile, OSError):
            continue  # a damaged package is the extractor's problem to report, not a part to account
        with collect_accounting() as acc:
            events = list(extract_file(path))
        top = [a for a in acc if a.doc == ""]
        problems = [e for e in events if isinstance(e, DocProblem) and e.doc == ""]
        if not top:
            assert problems, f"{path}: neither read nor reported"
            continue
        parts = top[0].parts
        checked += 1
        missing = names - set(parts)
        unaccounted.extend(f"{path.name}: {n}" for n in sorted(missing))
        for name, account in parts.items():
            assert account.how, f"{path.name}: {name} has no reason"
            if account.status is PartStatus.REPORTED:
                reported.append(f"{path.name}: {name}")
                notes = [e for e in events if isinstance(e, DocNote) and e.key == "unread_parts" and e.doc == ""]
                assert notes and name in notes[0].value
                assert problems, f"{path.name}: {name} reported without a problem (fail closed)"
    assert checked
    assert not unaccounted, unaccounted[:20]
    print(f"{checked} packages accounted; reported parts: {reported[:20]}")
