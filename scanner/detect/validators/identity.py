"""People's identifiers: US (SSN, ITIN, MBI, HICN, NPI, DEA, phone numbers), other countries'
national and health ids, travel documents, vehicles and devices."""

from __future__ import annotations

import regex

from scanner.detect.validators.common import Validator, _r, compact, digits, luhn


def us_ssn(value: str) -> bool:
    # stdnum.us.ssn: area not 000/666/9xx, group not 00, serial not 0000, and the
    # publicised numbers (078-05-1120, 219-09-9999, 457-55-5462). Presidio additionally
    # rejects all-identical digits and the sequential 123456789 (invalidate_result).
    from stdnum.us import ssn

    d = digits(value)
    if len(d) != 9 or len(set(d)) == 1 or d in ("123456789", "987654321"):
        return False
    return bool(ssn.is_valid(d))


def us_itin(value: str) -> bool:
    # IRS ITIN: 9 digits, first 9, middle (4th-5th) digits in 50-65, 70-88, 90-92, 94-99.
    # Not stdnum.us.itin: its table (70-99 except 89/93) rejects the 50-65 range the IRS
    # issues (PATTERN_CATALOGUE.md section 10, item 11).
    d = digits(value)
    if len(d) != 9 or d[0] != "9":
        return False
    mid = int(d[3:5])
    return 50 <= mid <= 65 or 70 <= mid <= 88 or 90 <= mid <= 92 or 94 <= mid <= 99


_MBI_LETTER = "ACDEFGHJKMNPQRTUVWXY"  # CMS: A-Z minus S, L, O, I, B, Z


def us_mbi(value: str) -> bool:
    # CMS "Understanding the Medicare Beneficiary Identifier (MBI) Format": 11 characters,
    # position 1 digit 1-9; 2, 5, 8, 9 letters; 3, 6 letter or digit; 4, 7, 10, 11 digits.
    # Letters exclude S, L, O, I, B, Z. Dashes after positions 4 and 7 are print-only.
    v = compact(value).upper()
    if len(v) != 11 or v[0] not in "123456789":
        return False
    for i, ch in enumerate(v, start=1):
        if i in (2, 5, 8, 9) and ch not in _MBI_LETTER:
            return False
        if i in (3, 6) and not (ch.isdigit() or ch in _MBI_LETTER):
            return False
        if i in (4, 7, 10, 11) and not ch.isdigit():
            return False
    return True


_HICN_BIC = regex.compile(r"^(?:[ABDEHKMTW][0-9]?|C[0-9A-Z]|F[0-8]|J[1-4]|K[1-9A-L]?)$")


def us_hicn(value: str) -> bool:
    # SSA POMS GN 01050.005: a HICN is the wage earner's 9-digit SSN (the Claim Account
    # Number) plus a Beneficiary Identification Code (letter, optionally a digit/letter).
    v = compact(value).upper()
    if len(v) < 10 or not v[:9].isdigit():
        return False
    return us_ssn(v[:9]) and bool(_HICN_BIC.match(v[9:]))


def us_npi(value: str) -> bool:
    # CMS NPI check digit: 10 digits starting 1 or 2; Luhn over "80840" + NPI (the
    # health-industry card-issuer prefix), as the CMS "Requirements for NPI check digit" state.
    d = digits(value)
    return len(d) == 10 and d[0] in "12" and luhn("80840" + d)


_DEA_FIRST = "ABCDEFGHJKLMPRSTUX"


def us_dea(value: str) -> bool:
    # DEA registration number: registrant-type letter, surname initial (or 9), 7 digits
    # with d7 = (d1 + d3 + d5 + 2 * (d2 + d4 + d6)) mod 10 (DEA record layout; Wikipedia
    # "DEA number"). A supervised-prescriber suffix after '-' is ignored.
    v = value.strip().upper().split("-", 1)[0]
    if len(v) != 9 or v[0] not in _DEA_FIRST or not (v[1].isalpha() or v[1] == "9") or not v[2:].isdigit():
        return False
    d = [int(c) for c in v[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


# NANP toll-free area codes (800 series, FCC/SOMOS).
_TOLL_FREE = frozenset(
    {
        "800",
        "822",
        "833",
        "844",
        "855",
        "866",
        "877",
        "880",
        "881",
        "882",
        "883",
        "884",
        "885",
        "886",
        "887",
        "888",
        "889",
    }
)


def phone_nanp(value: str) -> bool:
    # North American Numbering Plan: NPA (area code) and NXX (exchange) start with 2-9;
    # the NPA's second digit is not 9 (reserved); neither is an N11 service code.
    d = digits(_r(r"(?i)\s*(?:x|ext\.?|extension)\s*\d{1,6}$").sub("", value))
    if len(d) == 11 and d[0] == "1":
        d = d[1:]
    if len(d) != 10:
        return False
    npa, nxx = d[:3], d[3:6]
    if npa[0] in "01" or nxx[0] in "01" or npa[1] == "9":
        return False
    if npa in _TOLL_FREE:
        return False  # toll-free service numbers belong to organisations, not to people
    if npa[1:] == "11" or nxx[1:] == "11":
        return False
    return len(set(d)) > 2


# ITU-T E.164 country codes that are not assigned (first digits), to reject "+0..." etc.
def phone_international(value: str) -> bool:
    # ITU-T E.164: '+', country code 1-3 digits (never starting 0), at most 15 digits in
    # all, and national numbers of at least 7 digits in practice.
    v = value.strip()
    if not v.startswith("+"):
        return False
    d = digits(v)
    if not 9 <= len(d) <= 15 or d[0] == "0":
        return False
    if d[0] == "1":
        return phone_nanp(d)
    return len(set(d)) > 2


def uk_nhs(value: str) -> bool:
    from stdnum.gb import nhs

    return bool(nhs.is_valid(digits(value)))


def ca_sin(value: str) -> bool:
    from stdnum.ca import sin

    return bool(sin.is_valid(digits(value)))


def ca_on_hcn(value: str) -> bool:
    # Ontario health number: 10 digits, Luhn mod 10 over all ten (the Ontario MoH rule as
    # published in developer routines; PATTERN_CATALOGUE.md 5.3). Version code ignored.
    d = digits(value)
    return len(d) == 10 and luhn(d)


def de_kvnr(value: str) -> bool:
    # GKV Krankenversichertennummer (section 290 SGB V, Anlage 1): the letter becomes its
    # two-digit alphabet position, then weights 1,2,1,2... over those 10 digits, products
    # above 9 replaced by their digit sum; the sum mod 10 is the 10th character.
    v = compact(value).upper()
    if len(v) != 10 or not v[0].isalpha() or not v[1:].isdigit():
        return False
    seq = f"{ord(v[0]) - 64:02d}" + v[1:9]
    total = 0
    for i, ch in enumerate(seq):
        p = int(ch) * (1 if i % 2 == 0 else 2)
        total += p - 9 if p > 9 else p
    return total % 10 == int(v[9])


def stdnum_validator(module: str) -> Validator:
    """A validator backed by ``stdnum.<module>.is_valid`` on the compact value."""

    def check(value: str) -> bool:
        import importlib

        mod = importlib.import_module(f"stdnum.{module}")
        return bool(mod.is_valid(value.strip()))

    check.__name__ = module.replace(".", "_")
    check.__doc__ = f"python-stdnum ``stdnum.{module}``"
    return check


def icao_document_number(value: str) -> bool:
    # ICAO Doc 9303 check digit (used by German passport numbers, 9th character): digits
    # keep their value, A=10..Z=35, '<' = 0; weights 7, 3, 1 repeating; sum mod 10.
    v = compact(value).upper()
    if len(v) != 9:
        return False

    def val(ch: str) -> int:
        return int(ch) if ch.isdigit() else ord(ch) - 55

    total = sum(val(ch) * (7, 3, 1)[i % 3] for i, ch in enumerate(v[:8]))
    return v[8].isdigit() and total % 10 == int(v[8])


_VIN_VALUE = {
    **{str(i): i for i in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin(value: str) -> bool:
    # 49 CFR 565.15: 17 characters without I, O, Q; transliterate letters, weight by
    # position (8,7,6,5,4,3,2,10,0,9,...,2), sum mod 11 ('X' for 10) = position 9.
    v = value.strip().upper()
    if len(v) != 17 or any(c not in _VIN_VALUE for c in v):
        return False
    total = sum(_VIN_VALUE[c] * w for c, w in zip(v, _VIN_WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    return v[8] == check


def gs1_udi(value: str) -> bool:
    # GS1 General Specifications: the whole AI string via stdnum.gs1_128 (GTIN check digit
    # of AI 01, valid YYMMDD dates in AI 11/17).
    from stdnum import gs1_128

    try:
        gs1_128.validate(value.strip())
    except Exception:
        return False
    return True
