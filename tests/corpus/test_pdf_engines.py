"""Issue #8: the PDF engine is chosen per page and is visible in `clearance extract` output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.corpus
ROOT = Path(__file__).resolve().parents[2]


def _pages(path: Path) -> list[dict]:
    r = subprocess.run(
        [sys.executable, "-m", "scanner", "extract", "--format", "jsonl", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return [
        o
        for o in map(json.loads, r.stdout.splitlines())
        if o.get("location", {}).get("part") == "body" and "page" in o["location"] and "!" not in o["path"]
    ]


def test_vertical_japanese_goes_to_pdfminer_and_latin_text_to_pdfium(corpus: Path) -> None:
    kampo = corpus / "realworld" / "pdf" / "pdfminer__kampo.pdf"
    latin = corpus / "realworld" / "pdf" / "pdfminer__i1040nr.pdf"
    if not kampo.exists() or not latin.exists():
        pytest.skip("reference PDFs not in this corpus")
    jp = _pages(kampo)
    assert jp and all(p["engine"] == "pdfminer" for p in jp)
    assert sum(len(p["text"]) for p in jp) > 1000, "the vertical gazette text is extracted"
    en = _pages(latin)
    assert len(en) > 10 and all(p["engine"] == "pdfium" for p in en)
