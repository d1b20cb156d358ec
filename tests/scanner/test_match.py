"""The matching pipeline: Vectorscan candidates, regex confirmation, validators, context,
table columns, overlaps, normalisation, timeouts and the compiled-database cache.

Most tests use the built-in catalogue (what the product ships); a few build a one-off
pattern set in code to pin one mechanism down.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.detect.compiled import MatchTimeout
from scanner.detect.match import MAX_FINDINGS_PER_PATTERN, Matcher
from scanner.detect.patterns import PatternSet, load_pattern_set, parse_set_text
from scanner.detect.redact import keyed_hash, mask
from scanner.model import Location, Segment

PSET = load_pattern_set()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(PSET, b"test-key")


def findings(m: Matcher, text: str, pattern: str | None = None):
    res = m.match_text(text)
    return [f for f in res.findings if pattern is None or f.pattern == pattern]


def feed_all(m: Matcher, segments: list[Segment]):
    dm = m.doc()
    out = []
    for seg in segments:
        out.extend(dm.feed(seg).findings)
    return out


def one_pattern(toml_body: str) -> PatternSet:
    text = 'schema_version = 1\nname = "t"\n\n[[patterns]]\n' + toml_body
    pats, errors = parse_set_text(text, "test.toml")
    assert not errors, errors
    return PatternSet(tuple(pats), ("test.toml",), "digest-" + str(hash(text)))


# ----------------------------------------------------------------------------- engines
def test_full_catalogue_compiles_in_vectorscan_without_fallback(matcher: Matcher) -> None:
    engines = matcher.engines()
    assert len(engines) == len(PSET) >= 80
    assert set(engines.values()) <= {"vectorscan", "vectorscan-prefilter"}, [
        pid for pid, e in engines.items() if e == "regex"
    ]


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_compiled_database_is_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_CACHE_DIR", str(tmp_path))
    first = Matcher(PSET, b"k")
    files = list((tmp_path / "vectorscan").glob("*.hsdb"))
    assert len(files) == 1 and files[0].stat().st_size > 1000
    second = Matcher(PSET, b"k")  # loads the serialized database
    text = "SSN: 212-67-4431, NCT01592323, CAS No.: 58-08-2"
    assert [f.value for f in findings(first, text)] == [f.value for f in findings(second, text)]
    assert second.engines() == first.engines()
    files[0].write_bytes(files[0].read_bytes()[:-100])  # damaged: ignored, compiled afresh
    third = Matcher(PSET, b"k")
    assert [f.value for f in findings(third, text)] == [f.value for f in findings(first, text)]


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_cache_is_shared_by_processes_with_different_string_hashing(tmp_path: Path) -> None:
    """Each worker and each CLI run is a new process: if the expressions came out in a
    hash-dependent order, every start would miss the cache and compile for seconds."""
    import os
    import subprocess
    import sys

    code = (
        "from scanner.detect.match import Matcher; from scanner.detect.patterns import load_pattern_set; "
        "Matcher(load_pattern_set(), b'k')"
    )
    for seed in ("1", "2", "3"):
        env = dict(os.environ, CLEARANCE_CACHE_DIR=str(tmp_path), PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert len(list((tmp_path / "vectorscan").glob("*.hsdb"))) == 1


def test_a_flood_of_one_pattern_never_hides_another(matcher: Matcher) -> None:
    """Past the per-pattern limit, a pattern's matches are counted, not judged; the SSN
    after thousands of batch numbers is still found (a per-document cap once dropped it)."""
    dm = matcher.doc()
    extra = 250
    found = []
    for i in range(MAX_FINDINGS_PER_PATTERN + extra):
        found.extend(dm.feed(Segment(f"Batch LOT-{i:06d}-1 released", Location("body", line=i + 1))).findings)
    found.extend(dm.feed(Segment("Employee SSN: 212-67-4431", Location("body"))).findings)
    assert sum(f.pattern == "ip-batch-number" for f in found) == MAX_FINDINGS_PER_PATTERN
    assert dm.limited == {"ip-batch-number": extra}
    assert [f.confidence.value for f in found if f.pattern == "phi-us-ssn"] == ["high"]


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_cache_can_be_disabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_CACHE_DIR", "")
    m = Matcher(PSET, b"k")
    assert findings(m, "SSN: 212-67-4431", "phi-us-ssn")


def test_pattern_vectorscan_cannot_read_falls_back_to_regex() -> None:
    # Branch reset (?|...) is `regex` syntax Vectorscan has no approximation for.
    pset = one_pattern("""id = "ip-branch-reset"
name = "project or study code"
category = "ip"
severity = "low"
regex = \'\'\'\\b(?|PRJ-(\\d{4})|STU-(\\d{4}))\\b\'\'\'
score = 0.9
[patterns.examples]
must_match = ["PRJ-1234"]
must_not_match = ["PRJ-12"]
""")
    m = Matcher(pset, b"k")
    assert m.engines() == {"ip-branch-reset": "regex"}
    assert [f.value for f in findings(m, "code PRJ-1234 and STU-5678 here")] == ["PRJ-1234", "STU-5678"]


# ----------------------------------------------------------------------------- confidence
def test_confidence_ladder_for_an_ssn(matcher: Matcher) -> None:
    bare = findings(matcher, "Payroll correction for 212-67-4431 requested.", "phi-us-ssn")
    near = findings(matcher, "Employee SSN: 212-67-4431", "phi-us-ssn")
    far = findings(
        matcher, "Social security numbers are listed below.\n" + "x " * 60 + "\nrow 7: 212-67-4431", "phi-us-ssn"
    )
    assert [f.confidence.value for f in bare] == ["low"]
    assert [f.confidence.value for f in near] == ["high"]
    assert [f.confidence.value for f in far] == ["medium"]
    e = near[0].explanation
    assert (e.validator, e.validator_result, e.keyword, e.keyword_scope) == ("us_ssn", True, "SSN", "near")
    assert far[0].explanation.keyword_scope == "far"


def test_negative_context_lowers_and_explains(matcher: Matcher) -> None:
    res = matcher.match_text("Order 212-67-4431 shipped")
    assert not [f for f in res.findings if f.pattern == "phi-us-ssn"]
    near = [n for n in res.near_misses if n.pattern == "phi-us-ssn"]
    assert near and near[0].explanation.negative == "Order" and near[0].explanation.confidence is None


def test_checksum_failure_is_a_near_miss_with_a_reason(matcher: Matcher) -> None:
    res = matcher.match_text("Card number 4111 1111 1111 1112")
    assert not [f for f in res.findings if f.pattern.startswith("finance-credit-card")]
    miss = [n for n in res.near_misses if n.pattern == "finance-credit-card"]
    assert miss and miss[0].explanation.validator_result is False
    assert "checksum/format check failed" in miss[0].explanation.notes
    assert miss[0].masked.endswith("1112") and "4111" not in miss[0].masked


def test_allow_listed_value_is_suppressed_and_said_so(matcher: Matcher) -> None:
    res = matcher.match_text("aws_access_key_id = AKIAIOSFODNN7EXAMPLE")
    assert not [f for f in res.findings if f.pattern == "secret-aws-access-key"]
    assert any("allow-listed value" in n.explanation.notes for n in res.near_misses)


def test_window_edge_does_not_cut_words_into_keywords(matcher: Matcher) -> None:
    # "SERVER" ends in "VER"; the IP's negative word "ver" must not be found inside it.
    text = "IT HANDOVER NOTES - LIMS SERVER\n=====================\n\nHost: lims-prod-01\nIP: 203.0.113.251\n"
    got = findings(matcher, text, "phi-ip-address")
    assert [f.value for f in got] == ["203.0.113.251"] and got[0].explanation.negative is None


def test_negative_after_the_value_stops_at_the_line_end(matcher: Matcher) -> None:
    got = findings(matcher, "IP: 203.0.113.7\nFirmware: 7.1.9.9692", "phi-ip-address")
    assert [(f.value, f.confidence.value) for f in got] == [("203.0.113.7", "high")]
    assert not findings(matcher, "Firmware: 7.1.9.96", "phi-ip-address")


def test_keyword_in_the_previous_segment_counts_as_near(matcher: Matcher) -> None:
    got = feed_all(
        matcher,
        [
            Segment("Social security number:", Location("body", paragraph=0)),
            Segment("212-67-4431", Location("body", paragraph=1)),
        ],
    )
    ssn = [f for f in got if f.pattern == "phi-us-ssn"]
    assert ssn and ssn[0].confidence.value == "high" and ssn[0].location.paragraph == 1


# ----------------------------------------------------------------------------- tables
def test_column_header_applies_to_its_own_column_only(matcher: Matcher) -> None:
    row = Segment("1970-03-24 | 1962-01-15", Location("table", line=2), context="Date of Birth | Hire date")
    got = feed_all(matcher, [row])
    dob = [f for f in got if f.pattern == "phi-date-of-birth"]
    assert [f.value for f in dob] == ["1970-03-24"]
    assert dob[0].explanation.keyword_scope == "header"


def test_title_row_before_the_header_is_not_taken_as_the_header(matcher: Matcher) -> None:
    # The CSV extractor passes its first row as context; here that row is a title.
    title = "Site HR Roster"
    segs = [
        Segment(title, Location("table", line=1)),
        Segment("Employee name | Date of Birth | SIN | Phone | Department", Location("table", line=2), context=title),
        Segment(
            "Jane Example | 1970-03-24 | 123 456 782 | 212-461-3060 | QC", Location("table", line=3), context=title
        ),
    ]
    got = {f.pattern: f.value for f in feed_all(matcher, segs)}
    assert got["phi-person-name"] == "Jane Example"
    assert got["phi-date-of-birth"] == "1970-03-24"
    assert got["phi-ca-sin"] == "123 456 782"
    assert got["phi-phone-number"] == "212-461-3060"


def test_column_values_in_prose_are_not_reported(matcher: Matcher) -> None:
    text = "The carton B1157435 and the tablet 4370A385P were inspected; Jane Example signed on 1970-03-24."
    got = {f.pattern for f in findings(matcher, text)}
    assert not got & {"ip-batch-number", "phi-person-name", "phi-date-of-birth"}


def test_cell_in_a_spreadsheet_with_header_and_row_label(matcher: Matcher) -> None:
    seg = Segment("507232520", Location("sheet", sheet="travel", cell="B2"), context="Passport No. | Anthony Example")
    got = feed_all(matcher, [seg])
    assert [(f.pattern, f.value) for f in got] == [("phi-passport-number", "507232520")]


def test_first_row_cell_is_labelled_by_the_cell_before_it(matcher: Matcher) -> None:
    # A two-column key/value table in Word: its first row has no header above it.
    segs = [
        Segment("Compound", Location("table", cell="A1", name="table 1")),
        Segment("IXRW-089221", Location("table", cell="B1", name="table 1")),
    ]
    got = [(f.pattern, f.value) for f in feed_all(matcher, segs)]
    assert ("ip-compound-code", "IXRW-089221") in got
    other_row = [
        Segment("Compound", Location("table", cell="A1", name="table 1")),
        Segment("IXRW-089221", Location("table", cell="B2", name="table 1")),
    ]
    assert not [f for f in feed_all(matcher, other_row) if f.pattern == "ip-compound-code"]


# ----------------------------------------------------------------------------- overlaps and long values
def test_value_inside_a_reported_structure_is_part_of_it(matcher: Matcher) -> None:
    text = "Molecular formula and structure:\nInChI=1S/C8H10N4O2/c1-10-4-9-6-5(10)7(13)12(3)8(14)11(6)2/h4H,1-3H3"
    got = findings(matcher, text)
    assert [f.pattern for f in got] == ["formula-inchi"]


def test_same_text_claimed_by_two_patterns_goes_to_the_stronger(matcher: Matcher) -> None:
    got = findings(matcher, "MRN 614-791-508 (social insurance review)")
    values = [(f.pattern, f.value) for f in got]
    assert ("phi-medical-record-number", "614-791-508") in values
    assert len([v for v in values if v[1] == "614-791-508"]) == 1


def test_a_sequence_longer_than_the_window_is_one_finding(matcher: Matcher) -> None:
    import random

    rnd = random.Random(3)
    seq = "".join(rnd.choice("ACGT") for _ in range(9000))
    wrapped = "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60))
    got = findings(matcher, f"Insert DNA sequence:\n{wrapped}\nSequence verified.", "formula-nucleotide-sequence")
    assert len(got) == 1 and got[0].value.replace("\n", "") == seq
    assert got[0].masked.endswith(f"({len(got[0].value)} chars)")


def test_private_key_block_is_one_finding_and_masked(matcher: Matcher) -> None:
    body = "\n".join(["MHcCAQEEIGl5c3ludGhldGljLXRlc3Qta2V5LWZvci1jbGVhcmFuY2UtZXhh"] * 3)
    text = f"Deploy key:\n-----BEGIN EC PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----\n"
    got = findings(matcher, text, "secret-private-key")
    assert len(got) == 1 and got[0].value.endswith("-----END EC PRIVATE KEY-----")
    assert got[0].confidence.value == "high" and "MHcCAQ" not in got[0].masked


# ----------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    "text",
    [
        "SSN: 212\u201167\u20114431",  # non-breaking hyphens (Word)
        "SSN: \uff12\uff11\uff12-\uff16\uff17-\uff14\uff14\uff13\uff11",  # full-width digits
        "SSN: 2 1 2 - 6 7 - 4 4 3 1",  # letter-spaced PDF text
        "SSN:\u00a0212-67-4431",  # NBSP
        "SSN: \u0662\u0661\u0662-\u0666\u0667-\u0664\u0664\u0663\u0661",  # Arabic-Indic digits
    ],
)
def test_typographic_variants_are_normalised(matcher: Matcher, text: str) -> None:
    got = findings(matcher, text, "phi-us-ssn")
    assert [f.value for f in got] == ["212-67-4431"]


def test_offsets_and_values_survive_non_ascii_text(matcher: Matcher) -> None:
    text = "Patientin Müller-Lüdenscheidt, Gebäude Ø 3 — SSN: 212-67-4431 und E-Mail jürgen@example.org"
    got = {f.pattern: f for f in findings(matcher, text)}
    ssn = got["phi-us-ssn"]
    assert ssn.value == "212-67-4431" and text[ssn.start : ssn.end] == "212-67-4431"


# ----------------------------------------------------------------------------- safety
def test_regex_timeout_raises_match_timeout() -> None:
    pset = one_pattern("""id = "ip-evil"
name = "catastrophic"
category = "ip"
severity = "low"
regex = \'\'\'(?:a|aa)+c\'\'\'
prefilter = \'\'\'aaaa\'\'\'
max_width = 4000
[patterns.examples]
must_match = ["aac"]
must_not_match = ["b"]
""")
    m = Matcher(pset, b"k", regex_timeout=0.05)
    with pytest.raises(MatchTimeout) as info:
        m.match_text("a" * 3000)
    assert info.value.pattern_id == "ip-evil"


def test_findings_never_carry_raw_values_in_their_dict(matcher: Matcher) -> None:
    f = findings(matcher, "Employee SSN: 212-67-4431", "phi-us-ssn")[0]
    d = f.to_dict()
    assert "212-67-4431" not in str(d) and d["masked"] == "***-**-4431"
    assert f.to_dict(reveal=True)["text"] == "212-67-4431"


def test_keyed_hash_ignores_separators_and_depends_on_the_key() -> None:
    assert keyed_hash(b"a", "212-67-4431") == keyed_hash(b"a", "212 67 4431")
    assert keyed_hash(b"a", "212-67-4431") != keyed_hash(b"b", "212-67-4431")
    assert mask("AKIAQX5WDCKWZDOMOJYI") == "****************OJYI"


def test_hard_negatives_stay_quiet(matcher: Matcher) -> None:
    text = (
        "Store in CO2-controlled incubator. Rinse with purified H2O; dry with N2. Implant grade Ti6Al4V. "
        "Firmware 12.12.5.6641. Catalogue no. 4767-305-383 and 75285 980 58. PO number: 3113592856. "
        "IT ticket 666-43-8305. Courier tracking no. 5634 9341 7548 5911. Water (Karl Fischer) NMT 0.5 %. "
        "Effective date: 11/10/2023. Batch size: 50000 tablets. Dispose of it in the confidential waste bins. "
        "ACCEPTANCE CRITERIA MET. Paper size A4. SOP-PRD-256 version 5.0."
    )
    got = [(f.pattern, f.value) for f in findings(matcher, text)]
    assert got == []


# ----------------------------------------------------------------------------- tables in plain text (PDF pages)
PDF_MANIFEST = """Page 1
Shipping Manifest - Clinical Supplies
Consignor: Example Pharma Services
Ship date: 01/04/2023
Item Lot No. NDC Units
IMP kit B B4492029 9812-9824-81 116
Comparator ZU-3422-043 06793-5147-7 33
Placebo kit 9926H861I 64769-4618-21 20
Contact at receiving site: Tel +49 621 3377463
Courier tracking no. 5682 6368 3285 9760
"""


def test_text_table_rows_take_their_header_line(matcher: Matcher) -> None:
    got = findings(matcher, PDF_MANIFEST)
    lots = [(f.value, f.confidence.value, f.explanation.keyword_scope) for f in got if f.pattern == "ip-batch-number"]
    assert [v for v, _c, _s in lots] == ["B4492029", "ZU-3422-043", "9926H861I"]
    assert all(c in ("medium", "high") for _v, c, _s in lots)
    ndc = [f.value for f in got if f.pattern == "ip-us-ndc"]
    assert ndc == ["9812-9824-81", "06793-5147-7", "64769-4618-21"]  # not taken as lots
    assert "5682 6368 3285 9760" not in [f.value for f in got]


def test_text_table_dates_of_birth_and_codes(matcher: Matcher) -> None:
    text = (
        "Adverse Event Line Listing\nSubject Date of Birth Diagnosis (ICD-10) Term Severity\n"
        "021-001 1943-01-05 N18.3 chronic kidney disease Moderate\n"
        "030-002 11/30/1964 E78.5 hyperlipidaemia Severe\n\nVisit dates follow.\n"
    )
    got = {(f.pattern, f.value) for f in findings(matcher, text)}
    assert {
        ("phi-date-of-birth", "1943-01-05"),
        ("phi-date-of-birth", "11/30/1964"),
        ("phi-icd10-code", "N18.3"),
        ("phi-icd10-code", "E78.5"),
    } <= got


def test_prose_is_not_a_text_table(matcher: Matcher) -> None:
    text = (
        "The Author Was Born In A Small Town Near The Coast\nand moved away on 2/10/04 with B4492029 samples.\n"
        "Patients Who Were Employees Of The Site\nJohn Example 1961-02-03 withdrew.\n"
    )
    got = [(f.pattern, f.value) for f in findings(matcher, text)]
    assert not [g for g in got if g[0] in ("phi-date-of-birth", "ip-batch-number", "phi-person-name")], got
