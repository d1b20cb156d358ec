"""Turn what a scan found into a verdict. (v0: the built-in default policy only.)

Default, until a configured policy says otherwise:
- a document that could not be read completely -> the unscannable verdict (block);
- high-severity PHI or any secret at medium+ confidence -> block;
- formula/IP at medium or high confidence -> label "Confidential";
- otherwise allow.
"""

from __future__ import annotations

from .model import Decision, DocOutcome, Verdict


def decide(outcome: DocOutcome, policy: object | None = None, destination: str | None = None) -> Decision:
    if outcome.errors:
        return Decision(Verdict.BLOCK, None, tuple(f"unscannable: {e}" for e in dict.fromkeys(outcome.errors)),
                        overridable=False)
    reasons: list[str] = []
    verdict = Verdict.ALLOW
    label: str | None = None
    for f in outcome.findings:
        if f.category in ("phi", "secret") and f.severity.rank >= 3 and f.confidence.rank >= 2:
            verdict = Verdict.BLOCK
            reasons.append(f"{f.name} ({f.category}, {f.confidence.value} confidence) at {f.location.describe()}")
        elif f.category in ("formula", "ip", "phi", "finance") and f.confidence.rank >= 2 and verdict is Verdict.ALLOW:
            verdict, label = Verdict.LABEL, "Confidential"
            reasons.append(f"{f.name} ({f.category}, {f.confidence.value} confidence) at {f.location.describe()}")
    if verdict is Verdict.BLOCK:
        label = "Restricted"
    return Decision(verdict, label, tuple(dict.fromkeys(reasons))[:20])
