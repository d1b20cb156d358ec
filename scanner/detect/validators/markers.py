"""Names of people and a company's own codes: person names, compound codes, batch numbers."""

from __future__ import annotations

from scanner.detect.validators.common import _r, compact
from scanner.detect.validators.dates import calendar_date

_NAME_STOP = frozenset(
    """
patient patients name names subject subjects employee employees date dob male female unknown not none see
the and for with from this that study site trial visit department dept production warehouse engineering quality
qa qc total page number id mrn member signature signed approved reviewed checked verified yes no n/a tbd
mr mrs ms dr prof dott ing sig herr frau sr sra consent history information details record file
act acts plan plans program programme policy report form section service services security income retirement
health insurance benefit benefits medical clinical safety assurance control management division office center
centre hospital clinic university institute laboratory laboratories pharma pharmaceuticals inc ltd llc gmbh ag sa
corp corporation company group holdings partners association foundation committee board council agency authority
ministry government county city national international federal general annual final draft summary review approval
manual procedure protocol amendment agreement contract invoice order time table figure appendix street road avenue
network model areas area system systems data enterprise enterprises solutions technologies products product team
support assistance relations resources compensation payroll handbook portal account accounts number
""".split()
)


def person_name(value: str) -> bool:
    # Keyword-anchored capture only (no NER): 2-4 capitalised words (particles such as
    # "de", "van", "del" allowed in between), none of them a form word ("Patient Name",
    # "Date", "Unknown") and no digits.
    words = [w for w in _r(r"[\s]+").split(value.strip()) if w]
    # Titles: "Dr.", "Dott.", "Sig.ra", "Ing.", "Mme", "Herr" ... (short, capitalised, dotted).
    words = [
        w
        for w in words
        if not (
            _r(r"\p{Lu}\p{Ll}{0,4}\.(?:\p{Ll}{1,3}\.?)?").fullmatch(w)
            or w in ("Herr", "Frau", "Mme", "Mlle", "Mr", "Mrs", "Ms", "Mx", "Dr")
        )
    ]
    if not 2 <= len(words) <= 5 or any(c.isdigit() for c in value):
        return False
    caps = 0
    for w in words:
        if w.lower().strip(".,") in _NAME_STOP:
            return False
        if w[0].isupper():
            caps += 1
            if len(w) > 1 and w.isupper() and len(w) > 3:
                return False  # "PATIENT", "CONFIDENTIAL": headings, not names
    return caps >= 2


_CODE_DENY = frozenset(
    """
SOP DOC DOCS CAPA DEV DEVN CC CR CHG ISO HEPA PH EQ EQP TRN PO REF REV VER FORM FRM WI QA QC LIMS ELN LAB
NCT IND NDA ANDA BLA DMF COVID USP EP JP BP RT QP IT ID PID TEL FAX ZIP DIN EN IEC ASTM ICH GMP OOS OOT
ROOM RM BLDG UNIT CAT TMP TEMP PN SN MRN
""".split()
)


def compound_code(value: str) -> bool:
    # Internal compound codes (PATTERN_CATALOGUE.md 7.12): letters + digits with optional
    # suffix; document-control and standards prefixes (SOP-, CAPA-, ISO-, HEPA-, PH-...)
    # are not compounds, nor are years ("ABC-2023").
    v = value.strip().upper()
    prefix = _r(r"[A-Z]+").match(v)
    if not prefix or prefix.group(0) in _CODE_DENY:
        return False
    nums = _r(r"\d+").findall(v)
    if not nums or max(len(n) for n in nums) < 3:
        return False
    return not (len(nums) == 1 and len(nums[0]) == 4 and 1950 <= int(nums[0]) <= 2099 and v.endswith(nums[0]))


def batch_number(value: str) -> bool:
    # Batch/lot numbers are site-specific (GS1 AI 10: up to 20 alphanumerics). Require at
    # least one digit and some structure; reject quantities, dates and placeholders.
    v = value.strip()
    if not _r(r"\d").search(v) or _r(r"(?i)[_\-.x*]+").fullmatch(v):
        return False
    if calendar_date(v):
        return False
    return len(compact(v)) >= 4
