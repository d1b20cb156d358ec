"""A label is metadata about a file: labelling must not change what a scan finds, and the
scan reads the label back as `existing_label` (ours, for OOXML and PDF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.act.labelling import apply_label
from scanner.labels.scheme import LabelScheme
from scanner.pipeline.worker import ScanOptions, analyse_file

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


@pytest.mark.parametrize(
    "name", ["formulation_sheet_CX-4471.docx", "certificate_of_analysis_NaCl.pdf", "hr_roster_Q3.xlsx"]
)
def test_labelling_keeps_the_findings_and_is_read_back(tmp_path: Path, name: str) -> None:
    scheme = LabelScheme.default()
    src = SAMPLES / name
    out = tmp_path / name
    apply_label(src, out, scheme.get("Restricted"), scheme)
    before = analyse_file(src, name, ScanOptions())[0]
    after = analyse_file(out, name, ScanOptions())[0]
    assert before.existing_label is None
    assert after.existing_label is not None and after.existing_label["name"] == "Restricted"
    assert sorted((f.pattern, f.masked) for f in after.findings) == sorted(
        (f.pattern, f.masked) for f in before.findings
    )
