"""Issue #8: the worksheet fast path (``sheet_xml.SheetRows``) changes no event on any workbook
of the shared corpus.

Every workbook under ../shared/corpus (dev, realworld, adversarial cases; found by
content, by extension, and inside ZIP archives, which extraction opens as nested
documents) is extracted twice, with the fast path and with the reference iterparse
reader (``xlsx.FAST_SHEETS = False``). The two event lists must be equal: the same
segments (text, location, context, document), notes and problems, word for word.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scanner.extract import sheet_xml, xlsx
from scanner.extract.base import Source
from scanner.extract.registry import extract_file
from scanner.sniff import sniff

pytestmark = [pytest.mark.corpus]

_EXTENSIONS = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xlam")


def _holds_workbook(path: Path) -> bool:
    """Sniffed as XLSX, named like one, or a ZIP with one inside."""
    if path.suffix.lower() in _EXTENSIONS:
        return True
    try:
        kind = sniff(Source(name=path.name, path=path)).type
    except OSError:
        return False
    if kind == "xlsx":
        return True
    if kind == "zip":
        try:
            with zipfile.ZipFile(path) as zf:
                return any(n.lower().endswith(_EXTENSIONS) for n in zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
    return False


def workbooks(corpus: Path) -> list[Path]:
    roots = [corpus / "dev", corpus / "realworld", corpus / "adversarial" / "cases"]
    files = sorted(p for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file())
    return [p for p in files if _holds_workbook(p)]


def _first_difference(fast: list[object], ref: list[object]) -> str:
    at = next((i for i, (a, b) in enumerate(zip(fast, ref, strict=False)) if a != b), min(len(fast), len(ref)))
    return f"event {at} of {len(fast)}/{len(ref)}: {fast[at : at + 1]!r} != {ref[at : at + 1]!r}"


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_fast_path_gives_the_reference_events(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readers: list[sheet_xml.SheetRows] = []

    class Spy(sheet_xml.SheetRows):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            readers.append(self)

    monkeypatch.setattr(xlsx, "SheetRows", Spy)
    files = workbooks(corpus)
    assert len(files) >= 100, f"only {len(files)} workbooks found under {corpus}"
    differ: list[str] = []
    for path in files:
        monkeypatch.setattr(xlsx, "FAST_SHEETS", True)
        fast = list(extract_file(path))
        monkeypatch.setattr(xlsx, "FAST_SHEETS", False)
        ref = list(extract_file(path))
        if fast != ref:
            differ.append(f"{path.relative_to(corpus)}: {_first_difference(fast, ref)}"[:600])
    rows = sum(r.fast_rows for r in readers)
    odd = sum(r.odd_nodes for r in readers)
    whole = sum(not r.fast for r in readers)
    print(
        f"\n{len(files)} workbooks, {len(readers)} sheet parts: {rows:,} rows read by the patterns, "
        f"{odd} nodes by lxml, {whole} parts by iterparse; {len(differ)} differ"
    )
    assert not differ, "\n".join(differ)
    # The comparison means something only if every reader was exercised.
    assert rows > 100_000 and odd > 0 and whole > 0
