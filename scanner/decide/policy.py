"""Turn what a scan found (``DocOutcome``) into a verdict for one destination.

How a policy decides (the same for the built-in one and for ``[policies.<name>]``):

1. Findings of ``ignore_patterns`` (globs over pattern ids) are set aside.
2. ``allow`` rules run first, in file order. When all their conditions hold, the
   findings they matched are *exempt*: later rules do not see them (e.g. "up to 3
   phone numbers are an e-mail signature"). An allow rule never hides a problem that
   is not a finding (unscannable parts, pages without text, partner identifiers).
3. Every ``label``/``block`` rule is evaluated on the remaining findings, together
   with the document-level checks (unscannable, pages without text, identifiers of
   another sponsor). **The most severe verdict wins** (block > label > allow), and
   among labels the highest level (order from ``[labels]``). We chose most-severe-wins
   over first-match because it does not depend on rule order: adding a rule can never
   weaken another one, and a co-occurrence rule placed last still escalates.
4. A ``label`` verdict for a format that cannot carry a label becomes the policy's
   ``unlabelable`` choice (``block`` by default, or ``allow`` unlabelled).
5. The decision can be overridden ("release anyway" with a justification) only if
   every rule/check that produced the winning verdict allows it.

What a policy is: ``scanner.decide.rules``. How TOML becomes one, and the built-in policy
(written in that same TOML, so admins can read it, copy it and ``extends`` it):
``scanner.decide.policy_file``. Partner identifiers found in the file arrive in
``DocOutcome.notes["partner_hits"]`` (``scanner.partners``); a file that holds identifiers
of a sponsor other than its destination is blocked (cross-client leak).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.decide.policy_file import builtin_policy
from scanner.decide.rules import Policy
from scanner.model import FINDINGS_LIMIT_NOTE, Confidence, Decision, DocOutcome, Finding, Verdict
from scanner.partners import PartnerHit

# Formats the label writer (scanner.act.labels) can mark; every other format cannot carry a label.
LABELABLE_TYPES = frozenset({"pdf", "docx", "xlsx", "pptx"})
_VERDICT_RANK = {Verdict.ALLOW: 1, Verdict.LABEL: 2, Verdict.BLOCK: 3}
MAX_REASONS = 20  # reasons kept per decision: enough to explain, short enough to read


@dataclass(slots=True)
class _Contribution:
    verdict: Verdict
    label: str | None
    reason: str
    allow_override: bool


def decide(outcome: DocOutcome, policy: Policy | None = None, destination: str | None = None) -> Decision:
    """The verdict for ``outcome`` going to ``destination`` (None: no destination known)."""
    policy = policy or builtin_policy()
    contribs: list[_Contribution] = []
    allow_notes: list[str] = []

    for err in dict.fromkeys(outcome.errors):
        o = policy.unscannable
        contribs.append(_Contribution(o.verdict, o.label, f"unscannable: {err}", o.allow_override))

    pool = [f for f in outcome.findings if not _ignored(f, policy)]
    limited = frozenset(outcome.notes.get(FINDINGS_LIMIT_NOTE) or ())
    for rule in policy.rules:
        if rule.verdict is not Verdict.ALLOW:
            continue
        matched = rule.evaluate(pool, limited)
        if matched:
            exempt = {id(f) for f in matched}
            pool = [f for f in pool if id(f) not in exempt]
            allow_notes.append(f"{rule.name}: {rule.reason or _summarise(matched, limited)} (exempt)")
    for rule in policy.rules:
        if rule.verdict is Verdict.ALLOW:
            continue
        matched = rule.evaluate(pool, limited)
        if matched:
            label = rule.label if rule.verdict is Verdict.LABEL else (rule.label or policy.block_label)
            reason = f"{rule.name}: {rule.reason or _summarise(matched, limited)}"
            contribs.append(_Contribution(rule.verdict, label, reason, rule.allow_override))

    pages = _pages_without_text(outcome.notes.get("pages_without_text"))
    if pages:
        o = policy.pages_without_text
        contribs.append(
            _Contribution(
                o.verdict,
                o.label,
                f"{pages} without a text layer (scanned image?): their content could not be checked",
                o.allow_override,
            )
        )

    contribs.extend(_partner_contributions(outcome.notes.get("partner_hits") or (), policy, destination))
    decision = _combine(contribs, policy, allow_notes)
    return apply_unlabelable(decision, outcome.type, policy)


def _ignored(f: Finding, policy: Policy) -> bool:
    return any(fnmatch.fnmatchcase(f.pattern, g) for g in policy.ignore_patterns)


def _pages_without_text(value: object) -> str | None:
    """The note may be a count, a list of page numbers, or a dict with 'pages'."""
    if isinstance(value, dict):
        value = value.get("pages", value.get("count"))
    if isinstance(value, bool) or not value:
        return None
    if isinstance(value, int):
        return f"{value} page{'s' if value != 1 else ''}"
    if isinstance(value, list | tuple):
        shown = ", ".join(str(p) for p in list(value)[:10]) + (", ..." if len(value) > 10 else "")
        return f"{len(value)} page{'s' if len(value) != 1 else ''} ({shown})"
    return "some pages"


def _summarise(findings: Sequence[Finding], limited: Collection[str] = ()) -> str:
    """'US SSN ×3 (phi, high confidence, first at body (page 2)); ...' — never a raw value.

    A pattern past the matcher's limit shows '×1000+': its true count is higher."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.pattern, []).append(f)
    parts = []
    for fs in groups.values():
        f0 = fs[0]
        conf = max((Confidence(f.confidence) for f in fs), key=lambda c: c.rank).value
        unique = len({f.hash or f.masked for f in fs})
        count = f" ×{unique}" if unique > 1 else ""
        if f0.pattern in limited:
            count = f" ×{unique}+"
        parts.append(
            f"{f0.name}{count} ({f0.category}, {conf} confidence, "
            f"{'first ' if len(fs) > 1 else ''}at {f0.location.describe()})"
        )
    return "; ".join(parts)


def _partner_contributions(
    hits: Iterable[Mapping[str, Any] | PartnerHit], policy: Policy, destination: str | None
) -> list[_Contribution]:
    out: list[_Contribution] = []
    seen: set[tuple[str, str]] = set()
    for raw in hits:
        h = raw.to_dict() if isinstance(raw, PartnerHit) else raw
        partner = str(h.get("partner", ""))
        if destination is not None and partner == destination:
            continue  # the sponsor's own identifiers may go to that sponsor
        key = (partner, str(h.get("id_hash", "")))
        if key in seen:
            continue
        seen.add(key)
        title = h.get("partner_title") or partner
        what = f"{h.get('kind') or 'identifier'} {h.get('masked', '')}".strip()
        if destination is None:
            o = policy.partner_material
            reason = f"contains identifiers of sponsor {title} ({what})"
        else:
            o = policy.cross_partner
            reason = f"contains identifiers of sponsor {title} ({what}) — not for destination {destination}"
        out.append(_Contribution(o.verdict, o.label, reason, o.allow_override))
    return out


def _label_rank(label: str | None, policy: Policy) -> int:
    if label is None:
        return -1
    try:
        return policy.label_order.index(label)
    except ValueError:
        return len(policy.label_order)  # unknown label: treat as most sensitive


def _combine(contribs: list[_Contribution], policy: Policy, allow_notes: list[str]) -> Decision:
    if not contribs:
        return Decision(Verdict.ALLOW, None, tuple(allow_notes[:MAX_REASONS]), True)
    top = max(_VERDICT_RANK[c.verdict] for c in contribs)
    winners = [c for c in contribs if _VERDICT_RANK[c.verdict] == top]
    verdict = winners[0].verdict
    label: str | None = None
    if verdict is not Verdict.ALLOW:
        labels = [c.label for c in winners if c.label] or ([policy.block_label] if verdict is Verdict.BLOCK else [])
        label = max(labels, key=lambda lb: _label_rank(lb, policy)) if labels else None
    # Reasons for the winning verdict first; the weaker ones still explain the file.
    # A weaker rule that fired on the very findings already named adds only noise.
    named = " ".join(c.reason for c in winners)
    others = [c for c in contribs if c not in winners and c.reason.partition(": ")[2] not in named]
    reasons = [c.reason for c in winners] + [c.reason for c in others] + allow_notes
    overridable = all(c.allow_override for c in winners)
    return Decision(verdict, label, tuple(dict.fromkeys(reasons))[:MAX_REASONS], overridable)


def labelable(doc_type: str, policy: Policy | None = None) -> bool:
    """Can the label writer mark this format? (a policy may narrow the list, e.g. in tests)."""
    if policy is not None and policy.labelable_types is not None:
        return doc_type in policy.labelable_types
    return doc_type in LABELABLE_TYPES


def apply_unlabelable(decision: Decision, doc_type: str, policy: Policy | None = None) -> Decision:
    """A ``label`` verdict for a format that cannot carry a label becomes the policy's
    ``unlabelable`` choice. Public so that a caller that changes a verdict after
    ``decide`` (a container inheriting a member's label) can apply it again."""
    policy = policy or builtin_policy()
    if decision.verdict is not Verdict.LABEL or labelable(doc_type, policy):
        return decision
    o = policy.unlabelable
    if o.verdict is Verdict.ALLOW:
        note = f"needs label {decision.label}, but {doc_type} files cannot carry a label: released unlabelled (policy)"
        return Decision(Verdict.ALLOW, None, (note,) + decision.reasons, decision.overridable)
    note = f"needs label {decision.label}, but {doc_type} files cannot carry a label: blocked (policy)"
    return Decision(
        Verdict.BLOCK,
        decision.label,
        ((note,) + decision.reasons)[:MAX_REASONS],
        decision.overridable and o.allow_override,
    )
