"""Named validators: a closed registry pattern files refer to by name.

Each takes the matched value and returns True (valid: confidence floor 0.85), False
(invalid: a "hard" pattern drops the hit, a "soft" one loses 0.2) or None (no opinion).
python-stdnum is used wherever it knows the identifier; our own code only where it has
none, each with a comment naming the published rule.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

Validator = Callable[[str], bool | None]

_NON_ALNUM = regex.compile(r"[^0-9A-Za-z]")


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def compact(value: str) -> str:
    return _NON_ALNUM.sub("", value)


def us_ssn(value: str) -> bool:
    # stdnum.us.ssn: area not 000/666/9xx, group not 00, serial not 0000, plus the
    # famous advertising/published numbers (078-05-1120 ...).
    from stdnum.us import ssn

    return bool(ssn.is_valid(digits(value)))


def us_itin(value: str) -> bool:
    # IRS ITIN: 9 digits, first 9, middle (4th-5th) digits in 50-65, 70-88, 90-92, 94-99.
    # Not stdnum.us.itin: its table (70-99 except 89/93) rejects the 50-65 range the IRS
    # issues (see PATTERN_CATALOGUE.md §10 item 11).
    d = digits(value)
    if len(d) != 9 or d[0] != "9":
        return False
    mid = int(d[3:5])
    return 50 <= mid <= 65 or 70 <= mid <= 88 or 90 <= mid <= 92 or 94 <= mid <= 99


def luhn(value: str) -> bool:
    from stdnum import luhn as _luhn

    d = digits(value)
    return len(d) >= 2 and bool(_luhn.is_valid(d))


def credit_card(value: str) -> bool:
    # Luhn (stdnum has no brand module) plus the lengths card networks issue: 13-19.
    d = digits(value)
    return 13 <= len(d) <= 19 and luhn(d) and len(set(d)) > 2


def us_npi(value: str) -> bool:
    # CMS NPI: 10 digits starting 1 or 2; Luhn over "80840" + NPI (the card-issuer prefix).
    d = digits(value)
    return len(d) == 10 and d[0] in "12" and luhn("80840" + d)


def iban(value: str) -> bool:
    from stdnum import iban as _iban

    return bool(_iban.is_valid(compact(value)))


def cas_number(value: str) -> bool:
    from stdnum import casrn

    return bool(casrn.is_valid(value.strip()))


def uk_nhs(value: str) -> bool:
    from stdnum.gb import nhs

    return bool(nhs.is_valid(digits(value)))


def ca_sin(value: str) -> bool:
    from stdnum.ca import sin

    return bool(sin.is_valid(digits(value)))


def ec_number(value: str) -> bool:
    from stdnum.eu import ecnumber

    return bool(ecnumber.is_valid(value.strip()))


REGISTRY: dict[str, Validator] = {
    "us_ssn": us_ssn,
    "us_itin": us_itin,
    "luhn": luhn,
    "credit_card": credit_card,
    "us_npi": us_npi,
    "iban": iban,
    "cas_number": cas_number,
    "uk_nhs": uk_nhs,
    "ca_sin": ca_sin,
    "ec_number": ec_number,
}
