"""Clinical and product codes: ICD-10-CM, NDC, EudraCT."""

from __future__ import annotations

import datetime as _dt

from scanner.detect.validators.common import _r

# ICD-10-CM categories whose third character is a letter (all others are digits).
_ICD_LETTER_CATEGORIES = frozenset({"C4A", "C7A", "C7B", "D3A", "M1A", "O9A", "Z3A"})


def icd10_cm(value: str) -> bool:
    # ICD-10-CM code structure (CDC/NCHS; SEER training "ICD-10-CM code structure"):
    # letter, digit, digit (or the few letter categories above), then optionally '.'
    # and 1-4 characters, the 7th character an extension letter/digit. U codes are used
    # since 2020 (U07.1, U09.9) so U is accepted.
    v = value.strip().upper()
    cat, _, sub = v.partition(".")
    if len(cat) != 3 or not cat[0].isalpha() or not cat[1].isdigit():
        return False
    if not cat[2].isdigit() and cat not in _ICD_LETTER_CATEGORIES:
        return False
    if cat[0] == "U" and cat not in ("U07", "U09"):
        return False
    return not sub or (len(sub) <= 4 and sub.isascii() and sub.isalnum())


def us_ndc(value: str) -> bool:
    # FDA National Drug Code: 10 digits as labeler-product-package in 4-4-2, 5-3-2 or
    # 5-4-1, or the 11-digit HIPAA form 5-4-2 (21 CFR 207.33; CMS NDC-11 conversion).
    parts = [p for p in _r(r"[-\s]").split(value.strip()) if p]
    if len(parts) == 1 and parts[0].isdigit():
        return len(parts[0]) == 11
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    return tuple(len(p) for p in parts) in ((4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2))


def eudract(value: str) -> bool:
    # EudraCT number YYYY-NNNNNN-CC: year of issue (the register opened in 2004), a
    # 6-digit sequence and 2 check characters whose algorithm is not published, so
    # only the layout and year are checked (PATTERN_CATALOGUE.md 7.11).
    v = value.strip()
    m = _r(r"(\d{4})-(\d{6})-(\d{2})").fullmatch(v)
    return bool(m) and 2004 <= int(m.group(1)) <= _dt.date.today().year + 1
