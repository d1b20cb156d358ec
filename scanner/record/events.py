"""What the audit trail records: the kinds of row, and the fields of each, built in one place.

Every row kind has exactly one writer. A row never carries raw document text: findings are
summarised as counts, masked values and keyed hashes (``AuditLog`` refuses field names that
look like raw text, as a second line of defence).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from scanner.model import FileResult, Finding


class AuditKind(StrEnum):
    """The ``kind`` column. Stored as its value; rows of older versions keep theirs."""

    SCAN = "scan"  # a verdict for one file or archive member
    REVEAL = "reveal"  # one raw value displayed to someone (the value itself is never stored)
    OVERRIDE = "override"  # a blocked file released anyway, with a written justification
    ACTION = "action"  # a completed release or quarantine (``data.op`` says which)
    ACTION_ROLLED_BACK = "action_rolled_back"  # an interrupted transfer undone at recovery
    ACTION_PROBLEM = "action_problem"  # a transfer recovery could not complete
    RELEASE_FAILED = "release_failed"
    QUARANTINE_FAILED = "quarantine_failed"
    RESTORE_FAILED = "restore_failed"  # a quarantined file could not be put back
    LABEL_CHANGE = "label_change"  # a label written outside a release (``clearance label``)
    CONFIG_CHANGE = "config_change"
    PATTERN_SET_CHANGE = "pattern_set_change"
    WORKBENCH_TEST_FILE = "workbench_test_file"  # an admin tested patterns against a file
    ARCHIVE_SEGMENT = "archive_segment"  # rows copied to an archive segment (``clearance audit archive``)
    # Archived rows were deleted from the live database (``clearance audit prune``): names the
    # first kept row and the hash of the last pruned one, so the chain continues, no silent gap.
    CHAIN_CONTINUES = "chain_continues"


# Kinds that change what the scanner does; the report lists them together.
CHANGE_KINDS = frozenset({AuditKind.CONFIG_CHANGE, AuditKind.PATTERN_SET_CHANGE})

# A scan row answers "what left, to whom, why": verdict, destination, reasons, and per pattern
# the counts plus a few keyed hashes (to correlate a value across files) and masked examples.
# Not every occurrence nor where it sits in the file: the file's sha256 and a rescan give that.
# Measured on the real-world corpus (issue 16): ~940 bytes a row before, see the commit note.
HASHES_PER_PATTERN = 5
MASKED_PER_PATTERN = 3
REASONS_KEPT = 10


def reveal_fields(path: str, finding: Finding, reason: str | None) -> dict[str, Any]:
    """One revealed value: who saw which pattern's value where, and why; never the value."""
    return {
        "path": path,
        "pattern": finding.pattern,
        "category": finding.category,
        "masked": finding.masked,
        "hash": finding.hash,
        "location": finding.location.to_dict(),
        "reason": reason,
    }


def scan_fields(result: FileResult, destination: str | None = None) -> dict[str, Any]:
    """The audit fields of one scan: verdict, reasons and a masked summary of findings."""
    o, d = result.outcome, result.decision
    reasons = list(d.reasons)
    fields: dict[str, Any] = {
        "path": o.path,
        "sha256": o.sha256,
        "bytes": o.bytes,
        "type": o.type,
        "verdict": d.verdict.value,
        "label": d.label,
        "reasons": reasons[:REASONS_KEPT]
        + ([f"... and {len(reasons) - REASONS_KEPT} more"] if len(reasons) > REASONS_KEPT else []),
        "overridable": d.overridable,
        "destination": destination if destination is not None else result.destination,
        "error": o.error,
        "findings": summarise_findings(o.findings),
        "partner_hits": [
            {k: h.get(k) for k in ("partner", "kind", "masked", "id_hash", "count")}
            for h in (_as_dict(h) for h in (o.notes.get("partner_hits") or []))
        ],
        "pages_without_text": o.notes.get("pages_without_text"),
        "existing_label": (o.existing_label or {}).get("name") if isinstance(o.existing_label, dict) else None,
    }
    # Most files are clean: an absent field costs nothing, a null one costs its name in every row.
    return {k: v for k, v in fields.items() if k in _ALWAYS or v not in (None, [], "")}


_ALWAYS = frozenset({"path", "sha256", "verdict", "label", "destination", "reasons", "findings"})


def _as_dict(hit: Any) -> dict[str, Any]:
    """Partner hits arrive as dicts (``merge_partner_hits``) or ``PartnerHit`` objects."""
    return hit.to_dict() if hasattr(hit, "to_dict") else dict(hit)


def summarise_findings(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Per pattern: counts, highest severity/confidence, keyed hashes and a few masked values."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.pattern, []).append(f)
    out = []
    for pid, fs in sorted(groups.items()):
        hashes = list(dict.fromkeys(f.hash for f in fs if f.hash))
        masked = list(dict.fromkeys(f.masked for f in fs))
        out.append(
            {
                "pattern": pid,
                "category": fs[0].category,
                "count": len(fs),
                "unique": len(hashes) or len(masked),
                "severity": max((f.severity for f in fs), key=lambda s: s.rank).value,
                "confidence": max((f.confidence for f in fs), key=lambda c: c.rank).value,
                "hashes": hashes[:HASHES_PER_PATTERN],
                "masked": masked[:MASKED_PER_PATTERN],
            }
        )
    return out
