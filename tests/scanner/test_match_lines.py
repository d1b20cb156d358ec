"""Negative context stays on the value's line; SMILES candidates need a SMILES shape."""

from __future__ import annotations

from scanner.pipeline.worker import ScanOptions, matcher_for


def _conf(text: str, pattern: str) -> str | None:
    found = [f for f in matcher_for(ScanOptions()).match_text(text).findings if f.pattern == pattern]
    return found[0].confidence.value if found else None


def test_negative_word_on_the_line_above_does_not_excuse_a_value() -> None:
    # cf. the 300 MB adversarial log: the SSN follows millions of "... batch-sim run ok" lines
    log = "2024-03-01 12:00:00 INFO sensor=T-101 status=OK batch-sim run ok\nEmployee SSN: 212-67-4431\n"
    assert _conf(log, "phi-us-ssn") == "high"


def test_negative_word_on_the_same_line_still_counts() -> None:
    assert _conf("Example SSN for training: 212-67-4431", "phi-us-ssn") != "high"


def test_log_key_value_pairs_are_not_smiles_candidates() -> None:
    m = matcher_for(ScanOptions())
    text = "2024-03-01 12:00:00 INFO sensor=T-101 value=21.4 unit=C status=OK batch-sim run ok\n" * 200
    _, candidates, _ = m.scan_normalised(text)
    assert not [c for c, _ in candidates if c.pattern.id == "formula-smiles"]
    assert _conf("SMILES: CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O", "formula-smiles") == "high"
