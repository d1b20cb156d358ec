"""Policy: rules, counts, co-occurrence, document checks and partner (sponsor) identifiers."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from scanner.config.settings import ConfigError, load_config, loads_config
from scanner.decide.policy import decide
from scanner.decide.policy_file import BUILTIN_POLICY_TOML, builtin_policy, parse_policies, parse_policy
from scanner.detect.redact import keyed_hash
from scanner.extract.base import Unscannable
from scanner.model import FINDINGS_LIMIT_NOTE, Confidence, DocOutcome, Explanation, Finding, Location, Severity, Verdict
from scanner.partners import IdentifierDef, PartnerDictionary, merge_partner_hits

KEY = b"k" * 32
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "clearance.sample.toml"


def finding(
    pattern: str,
    category: str,
    severity: str = "high",
    confidence: str = "high",
    value: str = "123-45-6789",
    page: int = 1,
    name: str | None = None,
) -> Finding:
    expl = Explanation(
        pattern=pattern,
        pattern_name=name or pattern,
        base_score=0.5,
        score=0.9,
        confidence=Confidence(confidence),
    )
    return Finding(
        pattern,
        name or pattern,
        category,
        Severity(severity),
        Confidence(confidence),
        Location("body", page=page),
        0,
        len(value),
        "***" + value[-2:],
        keyed_hash(KEY, value),
        expl,
        value,
    )


def outcome(*findings: Finding, type_: str = "docx", **kw: object) -> DocOutcome:
    return DocOutcome("x." + type_, type_, "0" * 64, 10, findings=list(findings), **kw)  # type: ignore[arg-type]


def policy_from(toml_text: str, name: str = "p") -> object:
    return parse_policies(tomllib.loads(toml_text)["policies"])[name]


# --------------------------------------------------------------------------- built-in policy


def test_nothing_found_is_allowed() -> None:
    d = decide(outcome())
    assert d.verdict is Verdict.ALLOW and d.label is None and d.reasons == ()


def test_v0_signature_still_works() -> None:
    o = outcome(finding("phi-us-ssn", "phi"))
    assert decide(o) == decide(o, None, None) == decide(o, builtin_policy())


def test_high_severity_phi_blocks_with_reason_and_no_raw_value() -> None:
    d = decide(outcome(finding("phi-us-ssn", "phi", "high", "medium", name="US SSN")))
    assert d.verdict is Verdict.BLOCK and d.label == "Restricted" and d.overridable
    assert d.reasons[0].startswith("High-severity PHI: US SSN (phi, medium confidence")
    assert "123-45-6789" not in " ".join(d.reasons)


def test_low_confidence_phi_is_not_blocked() -> None:
    assert decide(outcome(finding("phi-us-ssn", "phi", "high", "low"))).verdict is Verdict.ALLOW


@pytest.mark.parametrize("severity", ["low", "medium", "high"])
def test_any_secret_at_medium_confidence_blocks(severity: str) -> None:
    d = decide(outcome(finding("secret-aws-key", "secret", severity, "medium")))
    assert d.verdict is Verdict.BLOCK


def test_formula_is_labelled_confidential() -> None:
    d = decide(outcome(finding("formula-cas", "formula", "medium", "medium")))
    assert (d.verdict, d.label) == (Verdict.LABEL, "Confidential")
    assert decide(outcome(finding("formula-cas", "formula", "medium", "low"))).verdict is Verdict.ALLOW


def test_unscannable_blocks_and_cannot_be_overridden() -> None:
    d = decide(outcome(errors=["encrypted PDF"]))
    assert d.verdict is Verdict.BLOCK and not d.overridable
    assert d.reasons == ("unscannable: encrypted PDF",)


def test_pages_without_text_are_labelled_not_allowed() -> None:
    for note in (3, [2, 5], {"pages": [1]}):
        d = decide(outcome(notes={"pages_without_text": note}, type_="pdf"))
        assert (d.verdict, d.label) == (Verdict.LABEL, "Confidential"), note
        assert "without a text layer" in d.reasons[0]
    assert decide(outcome(notes={"pages_without_text": 0})).verdict is Verdict.ALLOW


def test_label_for_a_format_that_cannot_carry_one_is_blocked_by_default() -> None:
    d = decide(outcome(finding("formula-cas", "formula", "medium", "high"), type_="csv"))
    assert d.verdict is Verdict.BLOCK and d.label == "Confidential"
    assert "csv files cannot carry a label" in d.reasons[0]
    allowing = parse_policy("p", {"unlabelable": "allow"}, base=builtin_policy())
    d2 = decide(outcome(finding("formula-cas", "formula", "medium", "high"), type_="csv"), allowing)
    assert d2.verdict is Verdict.ALLOW and d2.label is None and "released unlabelled" in d2.reasons[0]


def test_bulk_personal_data_counts_unique_values() -> None:
    nine = [finding("phi-phone", "phi", "medium", "medium", value=f"555-010{i}") for i in range(9)]
    assert decide(outcome(*nine)).verdict is Verdict.LABEL
    ten = nine + [finding("phi-phone", "phi", "medium", "medium", value="555-0199")]
    d = decide(outcome(*ten))
    assert d.verdict is Verdict.BLOCK and "phi-phone ×10" in d.reasons[0]
    repeated = [finding("phi-phone", "phi", "medium", "medium", value="555-0100") for _ in range(20)]
    assert decide(outcome(*repeated)).verdict is Verdict.LABEL  # one number twenty times is one number


def test_patient_record_co_occurrence_blocks() -> None:
    name = finding("phi-person-name", "phi", "low", "low", value="Jane Roe")
    dob = finding("phi-date-of-birth", "phi", "medium", "low", value="1970-01-01")
    mrn = finding("phi-mrn", "phi", "medium", "low", value="MRN 00482913")
    assert decide(outcome(name, dob)).verdict is Verdict.ALLOW
    d = decide(outcome(name, dob, mrn))
    assert d.verdict is Verdict.BLOCK
    assert d.reasons[0].startswith("Patient record (name + date of birth + record number)")


def test_formulation_with_legend_and_structure_with_compound_code_escalate() -> None:
    table = finding("formula-formulation-table", "formula", "medium", "medium", value="Excipient 12 mg")
    legend = finding("ip-confidentiality-legend", "ip", "low", "low", value="CONFIDENTIAL")
    assert decide(outcome(table)).label == "Confidential"
    assert decide(outcome(table, legend)).label == "Restricted"
    smiles = finding("formula-smiles", "formula", "medium", "low", value="CC(=O)Oc1ccccc1C(=O)O")
    code = finding("ip-compound-code", "ip", "medium", "low", value="ACM-2291")
    d = decide(outcome(smiles, code))
    assert (d.verdict, d.label) == (Verdict.LABEL, "Restricted")
    assert any("Structure with internal compound code" in r for r in d.reasons)


# --------------------------------------------------------------------------- configured policies


RULES = """
[policies.p]
extends = "none"
[[policies.p.rules]]
name = "signature"
patterns = ["*email*"]
max_count = 2
verdict = "allow"
[[policies.p.rules]]
name = "emails"
patterns = ["*email*"]
verdict = "label"
label = "Internal"
[[policies.p.rules]]
name = "ssn"
patterns = ["phi-us-ssn"]
min_confidence = "medium"
verdict = "block"
allow_override = false
[[policies.p.rules]]
name = "cas"
categories = ["formula"]
verdict = "label"
label = "Confidential"
"""


def test_allow_rules_exempt_their_findings() -> None:
    p = policy_from(RULES)
    two = [finding("phi-email", "phi", "low", "high", value=f"a{i}@x.org") for i in range(2)]
    d = decide(outcome(*two), p)
    assert d.verdict is Verdict.ALLOW and "signature" in d.reasons[0] and "(exempt)" in d.reasons[0]
    three = two + [finding("phi-email", "phi", "low", "high", value="c@x.org")]
    assert (decide(outcome(*three), p).verdict, decide(outcome(*three), p).label) == (Verdict.LABEL, "Internal")


def test_most_severe_wins_regardless_of_rule_order() -> None:
    p = policy_from(RULES)
    found = outcome(finding("phi-us-ssn", "phi", "high", "high"), finding("formula-cas", "formula", "low", "high"))
    reversed_toml = tomllib.loads(RULES)
    reversed_toml["policies"]["p"]["rules"].reverse()
    q = parse_policies(reversed_toml["policies"])["p"]
    d1, d2 = decide(found, p), decide(found, q)
    assert d1.verdict is d2.verdict is Verdict.BLOCK
    assert d1.label == d2.label == "Restricted"
    assert not d1.overridable and not d2.overridable  # the ssn rule forbids override
    assert d1.reasons[0].startswith("ssn:") and any(r.startswith("cas:") for r in d1.reasons)


def test_highest_label_wins() -> None:
    p = policy_from(RULES)
    found = outcome(
        *[finding("phi-email", "phi", "low", "high", value=f"{i}@x.org") for i in range(3)],
        finding("formula-cas", "formula", "low", "high"),
    )
    assert decide(found, p).label == "Confidential"


def test_count_all_and_severity_filters() -> None:
    p = policy_from("""
[policies.p]
extends = "none"
[[policies.p.rules]]
name = "five mentions"
patterns = ["ip-batch*"]
min_severity = "medium"
count = "all"
min_count = 5
verdict = "block"
""")
    same = [finding("ip-batch-number", "ip", "medium", "high", value="LOT-1") for _ in range(5)]
    assert decide(outcome(*same), p).verdict is Verdict.BLOCK
    low = [finding("ip-batch-number", "ip", "low", "high", value="LOT-1") for _ in range(5)]
    assert decide(outcome(*low), p).verdict is Verdict.ALLOW


def test_counts_past_the_matchers_limit_are_unbounded() -> None:
    """A pattern that reached the per-document limit has an unknown true count: a "more
    than N" rule fires and an "at most N" allowance does not, whatever N is."""
    p = policy_from("""
[policies.p]
extends = "none"
[[policies.p.rules]]
name = "a few sponsor batches are fine"
patterns = ["ip-batch*"]
count = "all"
max_count = 3
verdict = "allow"
[[policies.p.rules]]
name = "a batch register"
patterns = ["ip-batch*"]
count = "all"
min_count = 5000
verdict = "block"
[[policies.p.rules]]
name = "any batch"
patterns = ["ip-batch*"]
verdict = "label"
label = "Confidential"
""")
    few = [finding("ip-batch-number", "ip", "medium", "high", value=f"LOT-{i}") for i in range(3)]
    assert decide(outcome(*few), p).verdict is Verdict.ALLOW
    limited = outcome(*few, notes={FINDINGS_LIMIT_NOTE: {"ip-batch-number": 120_000}})
    decision = decide(limited, p)
    assert decision.verdict is Verdict.BLOCK
    assert any(r.startswith("a batch register") and "×3+" in r for r in decision.reasons), decision.reasons
    other = outcome(*few, notes={FINDINGS_LIMIT_NOTE: {"phi-us-ssn": 10}})
    assert decide(other, p).verdict is Verdict.ALLOW, "only the limited pattern's counts are unbounded"


def test_ignore_patterns_and_extends() -> None:
    base = parse_policies(
        tomllib.loads("""
[policies.base]
ignore_patterns = ["phi-email"]
[policies.child]
extends = "base"
unscannable = { verdict = "label", label = "Internal" }
""")["policies"]
    )
    child = base["child"]
    assert decide(outcome(finding("phi-email", "phi", "high", "high")), child).verdict is Verdict.ALLOW
    assert decide(outcome(finding("phi-us-ssn", "phi", "high", "high")), child).verdict is Verdict.BLOCK  # builtin rule
    d = decide(outcome(errors=["timed out after 60 s"]), child)
    assert (d.verdict, d.label) == (Verdict.LABEL, "Internal")


def test_builtin_policy_text_is_valid_toml_and_documented() -> None:
    data = tomllib.loads(BUILTIN_POLICY_TOML)
    assert {r["verdict"] for r in data["rules"]} == {"block", "label"}
    assert builtin_policy().unscannable.verdict is Verdict.BLOCK


# --------------------------------------------------------------------------- partner identifiers

PARTNERS = """
[destinations.acme]
folder = "rel/acme"
display_name = "Acme Pharma"
identifiers = [
  { value = "PRJ-4711", kind = "project code" },
  { value = "AC24-", kind = "batch prefix" },
  { value = "Velantra", kind = "product name" },
  { regex = 'ACM-STUDY-\\d{3}', kind = "study id" },
]
[destinations.borealis]
folder = "rel/borealis"
identifiers = ["BRL-0815"]
[audit]
hash_key_file = "key.bin"
"""


@pytest.fixture()
def partners(tmp_path: Path) -> PartnerDictionary:
    return loads_config(PARTNERS, tmp_path).partner_dictionary()


def test_partner_identifiers_found_in_their_usual_spellings(partners: PartnerDictionary) -> None:
    text = (
        "Project prj 4711 and PRJ4711 and PRJ‑4711 (non-breaking hyphen); lot AC24-0012; VELANTRA 10 mg; "
        "study ACM-STUDY-042; BRL-0815."
    )
    hits = partners.find(text, Location("body", page=2))
    kinds = [(h.partner, h.kind) for h in hits]
    assert kinds.count(("acme", "project code")) == 3
    assert ("acme", "batch prefix") in kinds and ("acme", "product name") in kinds
    assert ("acme", "study id") in kinds and ("borealis", "identifier") in kinds
    assert len({h.id_hash for h in hits if h.kind == "project code"}) == 1  # one value, one hash
    assert all("4711" not in h.masked or h.masked.count("*") >= 3 for h in hits)
    assert hits[0].location == Location("body", page=2)


@pytest.mark.parametrize("text", ["XPRJ-4711", "PRJ-47110", "PRJ-4711x", "BRL-08150", "Velantras", "ACM-STUDY-0421"])
def test_partner_identifiers_match_whole_words_only(partners: PartnerDictionary, text: str) -> None:
    assert partners.find(f"see {text} here") == []


def test_duplicate_identifier_across_sponsors_is_a_config_error(tmp_path: Path) -> None:
    bad = PARTNERS.replace('identifiers = ["BRL-0815"]', 'identifiers = ["prj 4711"]')
    with pytest.raises(ConfigError, match="also an identifier of destination 'acme'"):
        loads_config(bad, tmp_path).partner_dictionary()


def test_partner_regex_timeout_fails_closed() -> None:
    pd = PartnerDictionary({"a": [IdentifierDef(r"(x+x+)+y", "evil", regex=True)]}, KEY, regex_timeout=0.05)
    with pytest.raises(Unscannable, match="timed out"):
        pd.find("x" * 5000)


def test_partner_hits_merge_counts_repeats(partners: PartnerDictionary) -> None:
    notes: dict[str, object] = {}
    partners.scan_into(notes, "PRJ-4711 PRJ 4711", Location("body"))
    partners.scan_into(notes, "PRJ4711 and BRL-0815", Location("header"))
    hits = notes["partner_hits"]
    assert [(h["partner"], h["count"]) for h in hits] == [("acme", 3), ("borealis", 1)]
    assert hits[0]["location"] == {"part": "body"} and hits[0]["partner_title"] == "Acme Pharma"
    merge_partner_hits(notes, partners.find("Velantra"), cap=2)
    assert len(notes["partner_hits"]) == 2  # capped


def test_partner_matching_is_fast(tmp_path: Path) -> None:
    ids = [IdentifierDef(f"P{i:04d}-{(i * 7919) % 100000:05d}", "project code") for i in range(3000)]
    pd = PartnerDictionary({"acme": ids}, KEY)
    text = "The batch record for lot ABC 12 was reviewed on 2024-01-01 by QA. " * 15000 + " P0042-32598"
    t = time.perf_counter()
    hits = pd.find(text)
    elapsed = time.perf_counter() - t
    assert [h.kind for h in hits] == ["project code"]
    assert elapsed < 1.5, f"{elapsed:.2f} s for {len(text) / 1e6:.1f} MB"


def _with_hits(partners: PartnerDictionary, text: str, *findings: Finding) -> DocOutcome:
    o = outcome(*findings)
    partners.scan_into(o.notes, text, Location("body", page=1))
    return o


def test_sponsor_identifiers_may_go_to_that_sponsor_only(partners: PartnerDictionary) -> None:
    o = _with_hits(partners, "Stability data for PRJ-4711, compound code in appendix.")
    assert decide(o, builtin_policy(), "acme").verdict is Verdict.ALLOW
    d = decide(o, builtin_policy(), "borealis")
    assert d.verdict is Verdict.BLOCK and not d.overridable
    assert d.reasons == (
        "contains identifiers of sponsor Acme Pharma (project code ***-**11) — not for destination borealis",
    )
    no_dest = decide(o, builtin_policy(), None)
    assert (no_dest.verdict, no_dest.label) == (Verdict.LABEL, "Confidential")


def test_other_rules_still_apply_for_the_right_sponsor(partners: PartnerDictionary) -> None:
    o = _with_hits(partners, "PRJ-4711", finding("phi-us-ssn", "phi", "high", "high"))
    assert decide(o, builtin_policy(), "acme").verdict is Verdict.BLOCK


def test_partner_hit_objects_are_accepted_too(partners: PartnerDictionary) -> None:
    o = outcome(notes={"partner_hits": partners.find("BRL-0815")})
    assert decide(o, builtin_policy(), "acme").verdict is Verdict.BLOCK
    assert decide(o, builtin_policy(), "borealis").verdict is Verdict.ALLOW


def test_sample_config_partner_rules() -> None:
    c = load_config(SAMPLE)
    pd = PartnerDictionary(
        {n: d.identifiers for n, d in c.destinations.items()}, KEY, {n: d.title for n, d in c.destinations.items()}
    )
    o = _with_hits(pd, "Batch AC24-0107 of ACM-2291 released.")
    assert decide(o, c.policy_for("acme"), "acme").verdict is Verdict.ALLOW
    d = decide(o, c.policy_for("borealis"), "borealis")
    assert d.verdict is Verdict.BLOCK and "sponsor Acme Pharma" in d.reasons[0]


def test_end_to_end_scan_with_partner_dictionary(tmp_path: Path, partners: PartnerDictionary) -> None:
    scan = pytest.importorskip("scanner.pipeline.scan")
    analyse = pytest.importorskip("scanner.pipeline.worker")
    if "partners" not in getattr(analyse.ScanOptions, "__dataclass_fields__", {}):
        pytest.skip("the scan pipeline does not take a partner dictionary yet")
    doc = tmp_path / "stability-report.txt"
    doc.write_text("Stability summary\nProject: PRJ-4711\nAll results within specification.\n", encoding="utf-8")
    opts = analyse.ScanOptions(partners=partners, hash_key=KEY)
    to_acme = list(scan.scan_paths([doc], opts, policy=builtin_policy(), destination="acme", jobs=1))
    to_borealis = list(scan.scan_paths([doc], opts, policy=builtin_policy(), destination="borealis", jobs=1))
    assert [r.verdict for r in to_acme] == [Verdict.ALLOW]
    assert [r.verdict for r in to_borealis] == [Verdict.BLOCK]
    assert "sponsor Acme Pharma" in to_borealis[0].decision.reasons[0]
