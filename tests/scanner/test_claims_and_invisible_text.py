"""Issue 14: overlapping claims favour safety, and text written to evade a reader reads as seen.

- A checksum-valid value with its own label beside it is never superseded by a looser pattern
  on the same text, and a negative word belonging to a neighbour does not lower it.
- Bidi marks, invisible operators and tag characters between digits are removed before matching.
- Comb-spaced digit groups from PDF forms ("287- 65- 4329") are joined.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from scanner.model import Confidence, Verdict
from scanner.pipeline.scan import scan_paths
from scanner.pipeline.worker import ScanOptions, matcher_for

SSN = "212-67-4431"


def _findings(text: str, pattern: str) -> list[tuple[str, Confidence]]:
    result = matcher_for(ScanOptions()).match_text(text)
    return [(f.masked, f.confidence) for f in result.findings if f.pattern == pattern]


def _scan(path: Path) -> tuple[Verdict, dict[str, Confidence]]:
    (result,) = scan_paths([path], ScanOptions(keep_near_misses=True), jobs=1)
    return result.verdict, {f.pattern: f.confidence for f in result.outcome.findings}


def test_ssn_under_an_ssn_column_stays_an_ssn_in_a_batch_labelled_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Lot", "Employee", "SSN", "Notes"])
    sheet.append(["Batch 24-0117", "Ada Lovelace", SSN, "ok"])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    verdict, found = _scan(path)
    assert verdict is Verdict.BLOCK
    assert found.get("phi-us-ssn") is Confidence.HIGH
    assert "ip-batch-number" not in found, "the looser batch-number claim on the same text must lose"


def test_the_loser_of_a_claim_is_a_near_miss_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(f"Lot,Employee,SSN,Notes\nBatch 24-0117,Ada Lovelace,{SSN},ok\n", encoding="utf-8")
    (result,) = scan_paths([path], ScanOptions(keep_near_misses=True), jobs=1)
    assert result.verdict is Verdict.BLOCK
    assert {f.pattern: f.confidence for f in result.outcome.findings}.get("phi-us-ssn") is Confidence.HIGH
    lost = [n for n in result.outcome.near_misses if n.pattern == "ip-batch-number" and n.masked.endswith("4431")]
    assert lost and "superseded by phi-us-ssn" in lost[0].explanation.summary()


def test_a_neighbours_negative_word_does_not_lower_a_labelled_valid_value() -> None:
    assert _findings(f"Batch 24-0117 record. Operator SSN {SSN} signed.", "phi-us-ssn") == [
        ("***-**-4431", Confidence.HIGH)
    ]


def test_a_negative_word_that_governs_the_keyword_still_counts() -> None:
    found = _findings(f"Example SSN for training: {SSN}", "phi-us-ssn")
    assert found and found[0][1] is not Confidence.HIGH


@pytest.mark.parametrize(
    "hidden",
    [
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u2062",  # invisible times
        "\u2060",  # word joiner
        "\u00ad",  # soft hyphen
        "\u200b",  # zero-width space
        "\U000e0031",  # tag digit one
        "\ufe0f",  # variation selector
    ],
)
def test_invisible_formatting_between_digits_is_removed(hidden: str) -> None:
    text = f"Employee SSN: 21{hidden}2-6{hidden}7-44{hidden}31"
    assert _findings(text, "phi-us-ssn") == [("***-**-4431", Confidence.HIGH)]


@pytest.mark.parametrize("written", ["287- 65- 4329", "287 -65 -4329", "287 - 65 - 4329", "2 8 7 - 6 5 - 4 3 2 9"])
def test_comb_spaced_digits_from_pdf_forms_are_joined(written: str) -> None:
    assert [m for m, _ in _findings(f"Patient SSN: {written}", "phi-us-ssn")] == ["***-**-4329"]


def test_a_file_with_a_bidi_split_ssn_is_blocked(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Employee SSN: 212\u200e-67\u2066-4431\n", encoding="utf-8")
    verdict, found = _scan(path)
    assert verdict is Verdict.BLOCK and found.get("phi-us-ssn") is Confidence.HIGH
