"""Named validators: a closed registry pattern files refer to by name.

Each takes the matched value and answers:

* ``True``  - the value passes a published check (checksum, structural rule). A
  "hard" pattern raises its score to its ``validated_score``; a "soft" one adds 0.1.
* ``False`` - the value cannot be what the pattern claims. A "hard" pattern drops
  the hit (kept as a near-miss for ``--explain``); a "soft" one loses 0.2.
* ``None``  - no opinion (e.g. a date that could be a birth date but is recent).

python-stdnum is used wherever it knows the identifier; our own code only where it
has none, each with a comment naming the published rule it implements. Validators
are pure functions of the value: no I/O, no state, safe to call from any process.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import math
from collections import Counter
from collections.abc import Callable

import regex

Validator = Callable[[str], bool | None]

_NON_ALNUM = regex.compile(r"[^0-9A-Za-z]")
_COMPILED: dict[str, regex.Pattern[str]] = {}


def _r(pattern: str) -> regex.Pattern[str]:
    """A compiled pattern, compiled once: validators run for every candidate."""
    rx = _COMPILED.get(pattern)
    if rx is None:
        rx = _COMPILED[pattern] = regex.compile(pattern)
    return rx


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def compact(value: str) -> str:
    return _NON_ALNUM.sub("", value)


def shannon_entropy(value: str) -> float:
    """Bits per character over the value's own character frequencies (as gitleaks computes it)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# --------------------------------------------------------------------------- US PHI
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


def luhn(value: str) -> bool:
    from stdnum import luhn as _luhn

    d = digits(value)
    return len(d) >= 2 and bool(_luhn.is_valid(d))


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


# --------------------------------------------------------------------------- dates
_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january", "januar", "janvier", "gennaio", "enero"),
            ("feb", "february", "februar", "fevrier", "février", "febbraio", "febrero"),
            ("mar", "march", "marz", "märz", "mars", "marzo"),
            ("apr", "april", "avril", "aprile", "abril"),
            ("may", "mai", "maggio", "mayo"),
            ("jun", "june", "juni", "juin", "giugno", "junio"),
            ("jul", "july", "juli", "juillet", "luglio", "julio"),
            ("aug", "august", "aout", "août", "agosto"),
            ("sep", "sept", "september", "septembre", "settembre", "septiembre"),
            ("oct", "october", "oktober", "octobre", "ottobre", "octubre", "okt"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dezember", "decembre", "décembre", "dicembre", "diciembre", "dez"),
        ),
        start=1,
    )
    for m in names
}
_NUM_DATE = regex.compile(r"^(\d{1,4})[-/. ](\d{1,2}|[A-Za-zéû]{3,9}\.?)[-/. ,]*(\d{2,4})$")
_TEXT_DATE = regex.compile(r"^([A-Za-zéû]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_COMPACT_MON = regex.compile(r"^(\d{1,2})([A-Za-z]{3})(\d{2,4})$")


def _year4(y: int, today: _dt.date) -> int:
    if y >= 100:
        return y
    # Two-digit years (M/D/YY): a birth year cannot be in the future, so pivot on today.
    return 2000 + y if 2000 + y <= today.year else 1900 + y


def parse_dates(value: str, today: _dt.date | None = None) -> list[_dt.date]:
    """Every calendar date the text can mean (ambiguous D/M orders give two)."""
    today = today or _dt.date.today()
    v = value.strip().rstrip(".")
    out: list[_dt.date] = []

    def add(y: int, m: int, d: int) -> None:
        try:
            out.append(_dt.date(_year4(y, today), m, d))
        except ValueError:
            pass

    m = _TEXT_DATE.match(v)
    if m:
        mon = _MONTHS.get(m.group(1).lower())
        if mon:
            add(int(m.group(3)), mon, int(m.group(2)))
        return out
    m = _COMPACT_MON.match(v)
    if m:
        mon = _MONTHS.get(m.group(2).lower())
        if mon:
            add(int(m.group(3)), mon, int(m.group(1)))
        return out
    m = _NUM_DATE.match(v)
    if not m:
        return out
    a, b, c = m.group(1), m.group(2), m.group(3)
    if not b.isdigit():
        mon = _MONTHS.get(b.rstrip(".").lower())
        if mon and len(a) <= 2:
            add(int(c), mon, int(a))
        return out
    if len(a) == 4:  # ISO YYYY-MM-DD
        add(int(a), int(b), int(c))
    else:  # MM/DD/YYYY or DD/MM/YYYY (both kept when both are dates)
        add(int(c), int(a), int(b))
        add(int(c), int(b), int(a))
    return out


def date_of_birth(value: str) -> bool | None:
    # HIPAA Safe Harbor (C): birth dates. The value must be a real calendar date in
    # 1900..today (PATTERN_CATALOGUE.md 4.10). True when every reading is at least ten
    # years old (an adult's birth date, not a document date); None when it is recent
    # (an infant's birth date is possible, but so is a signature or visit date).
    today = _dt.date.today()
    dates = [d for d in parse_dates(value, today) if _dt.date(1900, 1, 1) <= d <= today]
    if not dates:
        return False
    if all((today - d).days >= 3653 for d in dates):
        return True
    return None


def calendar_date(value: str) -> bool:
    """A real calendar date (02/30 is not), any year 1900-2199."""
    return any(1900 <= d.year < 2200 for d in parse_dates(value))


def age_over_89(value: str) -> bool:
    # HIPAA Safe Harbor (C): ages over 89 are identifiers; above 120 is not an age.
    d = digits(value)
    return bool(d) and 90 <= int(d) <= 120


# --------------------------------------------------------------------------- clinical codes
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


# --------------------------------------------------------------------------- finance
# ISO/IEC 7812 issuer ranges of the major schemes, with the lengths they issue.
_CARD_RANGES: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),  # Visa
    (51, 55, (16,)),
    (2221, 2720, (16,)),  # Mastercard
    (34, 34, (15,)),
    (37, 37, (15,)),  # American Express
    (6011, 6011, (16, 17, 18, 19)),
    (644, 649, (16, 17, 18, 19)),
    (65, 65, (16, 17, 18, 19)),  # Discover
    (3528, 3589, (16, 17, 18, 19)),  # JCB
    (300, 305, (14, 16)),
    (309, 309, (14, 16)),
    (36, 36, (14, 16)),
    (38, 39, (14, 16)),  # Diners
    (62, 62, (16, 17, 18, 19)),  # UnionPay
    (5018, 5018, (12, 13, 14, 15, 16, 17, 18, 19)),
    (5020, 5020, (12, 13, 14, 15, 16, 17, 18, 19)),
    (5038, 5038, (12, 13, 14, 15, 16, 17, 18, 19)),
    (6304, 6304, (12, 13, 14, 15, 16, 17, 18, 19)),
    (6759, 6759, (12, 13, 14, 15, 16, 17, 18, 19)),
    (676770, 676774, (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro
)


def credit_card(value: str) -> bool:
    # Luhn (stdnum.luhn; stdnum has no card-brand module) plus an issuer range and a
    # length that scheme issues (PATTERN_CATALOGUE.md 6.2 table).
    d = digits(value)
    if not 12 <= len(d) <= 19 or len(set(d)) < 2 or not luhn(d):
        return False
    for lo, hi, lengths in _CARD_RANGES:
        width = len(str(lo))
        if lo <= int(d[:width]) <= hi and len(d) in lengths:
            return True
    return False


def iban(value: str) -> bool:
    # ISO 13616 / ISO 7064 mod 97-10 first (cheap: most look-alikes stop here), then
    # stdnum.iban for the per-country length and BBAN structure from SWIFT's registry.
    v = compact(value).upper()
    if not 15 <= len(v) <= 34 or not v[:2].isalpha() or not v[2:4].isdigit():
        return False
    try:
        if int("".join(str(int(ch, 36)) for ch in v[4:] + v[:4])) % 97 != 1:
            return False
    except ValueError:
        return False
    from stdnum import iban as _iban

    return bool(_iban.is_valid(v))


# --------------------------------------------------------------------------- international ids
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


def _stdnum(module: str) -> Validator:
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


# --------------------------------------------------------------------------- devices / vehicles
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


# --------------------------------------------------------------------------- chemistry
def cas_number(value: str) -> bool:
    # CAS Registry Number check digit (CAS "Check Digit Verification of CAS Registry
    # Numbers") via stdnum.casrn. Hyphens are required here: stdnum.casrn's compact()
    # would also accept a bare digit run.
    from stdnum import casrn

    v = value.strip()
    return v.count("-") == 2 and not v.startswith("0") and bool(casrn.is_valid(v))


def ec_number(value: str) -> bool:
    # EC (EINECS/ELINCS/NLP) number NNN-NNN-R via stdnum.eu.ecnumber.
    from stdnum.eu import ecnumber

    v = value.strip()
    return v.count("-") == 2 and bool(ecnumber.is_valid(v))


def inchikey(value: str) -> bool:
    # InChI Technical Manual: 14 upper-case letters (skeleton hash), '-', 8 letters,
    # flag S/N (standard/non-standard), version A, '-', protonation letter. The hash
    # cannot be checked without the structure.
    return bool(_r(r"[A-Z]{14}-[A-Z]{8}[SN]A-[A-Z]").fullmatch(value.strip()))


_ELEMENTS = frozenset(
    """
H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr
Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb
Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf
Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og
""".split()
)
# Ubiquitous species that are not anyone's secret formula (PATTERN_CATALOGUE.md 7.6 step 5).
_FORMULA_STOP = frozenset(
    {
        "CO2",
        "CO",
        "H2O",
        "O2",
        "N2",
        "H2",
        "NaCl",
        "HCl",
        "NaOH",
        "KOH",
        "H2SO4",
        "CH4",
        "NH3",
        "H2O2",
        "HNO3",
        "CH3OH",
        "C2H5OH",
        "CH3CN",
        "CHCl3",
        "CH2Cl2",
        "CCl4",
        "H3PO4",
        "C2H6O",
        "CH2O",
        "C2H4O2",
        "C6H6",
        "C7H8",
        "C3H6O",
        "C2H6",
    }
)
_FORMULA_TOKEN = regex.compile(r"([A-Z][a-z]?)(\d*)")


def _formula_counts(core: str) -> list[tuple[str, int]] | None:
    pos, out = 0, []
    for m in _FORMULA_TOKEN.finditer(core):
        if m.start() != pos:
            return None
        out.append((m.group(1), int(m.group(2)) if m.group(2) else 1))
        pos = m.end()
    return out if pos == len(core) and out else None


def molecular_formula(value: str) -> bool:
    # Hill system (E. A. Hill, JACS 1900, 22, 478): with carbon, C first, then H, then
    # the other elements alphabetically; every symbol a real element, none repeated.
    # Plus sanity (PATTERN_CATALOGUE.md 7.6): at least 3 elements, or 2 elements and 6
    # atoms, and not a ubiquitous species (CO2, H2O, N2 ...). Salts and hydrates after
    # '.' or a middle dot are checked part by part; a trailing charge is allowed.
    v = value.strip().replace("\u00b7", ".")
    parts = [p for p in v.split(".") if p]
    if not parts:
        return False
    main = _r(r"^\d+").sub("", parts[0]).rstrip("+-")
    counts = _formula_counts(main)
    if counts is None or v in _FORMULA_STOP or main in _FORMULA_STOP:
        return False
    symbols = [s for s, _ in counts]
    if any(s not in _ELEMENTS for s in symbols) or len(set(symbols)) != len(symbols):
        return False
    if "C" in symbols:
        rest = [s for s in symbols if s not in ("C", "H")]
        expected = ["C"] + (["H"] if "H" in symbols else []) + sorted(rest)
    else:
        expected = sorted(symbols)
    if symbols != expected:
        return False
    atoms = sum(n for _, n in counts)
    if not any(n > 1 for _, n in counts):
        return False  # "CNS", "CHO": a formula with no count above one is an acronym
    if "C" in symbols:
        # organic: carbon and hydrogen, and a few atoms ("CS6" and "C18" are codes)
        if "H" not in symbols or not (len(symbols) >= 3 or atoms >= 6):
            return False
    elif len(symbols) < 3 or sum(1 for _, n in counts if n > 1) < 2:
        return False  # inorganic (all alphabetical): "Na2O4S" yes, "INU9" or "DHN3" no
    for extra in parts[1:]:
        extra_counts = _formula_counts(_r(r"^\d+").sub("", extra))
        if extra_counts is None or any(s not in _ELEMENTS for s, _ in extra_counts):
            return False
    return True


_SMILES_ATOM = regex.compile(r"Cl|Br|\[[^\]]{1,20}\]|[BCNOPSFI]|[bcnops]|\*")
_SMILES_ORGANIC_UPPER = set("BCNOPSFI")


def smiles(value: str) -> bool:
    # OpenSMILES grammar checks plus the catalogue's heuristic (7.5): balanced brackets
    # and parentheses, every ring-closure digit paired, no upper-case letter outside
    # brackets that is not an organic-subset atom (Cl/Br allowed), at least two structural
    # signals (ring closure, branch, multiple bond, bracket atom, aromatic run) and a
    # few atoms, so plain words and acronyms ("CON", "SCC", "OCCO") are not SMILES.
    v = _r(r"\r?\n").sub("", value.strip())  # a structure wrapped over lines is one structure
    if len(v) < 6 or _r(r"\s|//|\.\.|==|##").search(v):
        return False
    depth = 0
    for ch in v:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    if depth != 0 or v.count("[") != v.count("]"):
        return False
    outside = _r(r"\[[^\]]*\]").sub("", v)
    if "[" in outside or "]" in outside:
        return False
    i = 0
    while i < len(outside):
        ch = outside[i]
        if ch.isupper():
            if outside.startswith(("Cl", "Br"), i):
                i += 2
                continue
            if ch not in _SMILES_ORGANIC_UPPER:
                return False
        elif ch.islower() and ch not in "bcnops":
            return False
        i += 1
    rings = Counter(_r(r"%\d{2}|\d").findall(outside))
    if any(n % 2 for n in rings.values()):
        return False
    signals = sum(
        (
            bool(rings),
            "(" in outside,
            bool(_r(r"[A-Za-z\]\)]\s*[=#$]\s*[A-Za-z\[\(]").search(v)),
            "[" in v,
            bool(_r(r"[cnops]{3}").search(outside)),
        )
    )
    atoms = len(_SMILES_ATOM.findall(v))
    return signals >= 2 and atoms >= 4


_NUCLEOTIDE = regex.compile(r"[ACGTUNacgtun\s\d]+")


def nucleotide_sequence(value: str) -> bool:
    # IUPAC nucleotide codes: at least 30 bases of A/C/G/T/U (N allowed), all four
    # bases present and no single base above 70 % (so "AAAAAAAA..." filler is not a gene).
    seq = _r(r"[\s\d]").sub("", value).upper()
    if len(seq) < 30 or not _NUCLEOTIDE.fullmatch(value):
        return False
    counts = Counter(seq)
    bases = {b for b in counts if b in "ACGTU"}
    return len(bases) >= 4 and max(counts.values()) <= 0.7 * len(seq) and counts.get("N", 0) < 0.5 * len(seq)


_AMINO = set("ACDEFGHIKLMNPQRSTVWY")


def protein_sequence(value: str) -> bool:
    # IUPAC one-letter amino-acid codes: at least 20 residues of the 20 standard letters,
    # at least 8 different residues, and not a nucleotide run (A/C/G/T/U/N only).
    seq = _r(r"[\s\d]").sub("", value).upper()
    if len(seq) < 20 or any(c not in _AMINO for c in seq):
        return False
    if set(seq) <= set("ACGTUN"):
        return False
    return len(set(seq)) >= 8


# --------------------------------------------------------------------------- IT / secrets
def ip_address(value: str) -> bool:
    # RFC 791 / RFC 4291 via the standard library: four octets 0-255 (optional /prefix),
    # or an IPv6 address with at least two colons. Leading zeros ("010.1.1.1") are
    # ambiguous (octal in some tools) and rejected, as ipaddress does.
    v = value.strip()
    try:
        if "/" in v:
            ipaddress.ip_network(v, strict=False)
        else:
            ipaddress.ip_address(v)
    except ValueError:
        return False
    return v.count(":") >= 2 or v.count(".") == 3


_FILE_TLDS = frozenset(
    {
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "bmp",
        "tif",
        "tiff",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "txt",
        "csv",
        "zip",
        "exe",
        "dll",
        "js",
        "css",
        "html",
        "htm",
        "xml",
        "json",
        "py",
        "java",
        "ts",
        "md",
        "log",
        "tmp",
        "bak",
        "dat",
        "ini",
        "cfg",
    }
)


_ROLE_MAILBOXES = frozenset(
    """
info sales support contact admin administrator office hello help helpdesk service services noreply no-reply
donotreply do-not-reply webmaster postmaster hostmaster hr jobs careers recruiting press media marketing billing
accounts accounting invoices invoice orders order spam abuse privacy legal compliance security it reception
enquiries enquiry inquiries inquiry feedback newsletter news team mail mailer-daemon taxforms phishing customerservice
customercare care purchasing procurement shipping logistics returns
""".split()
)


def email(value: str) -> bool:
    # RFC 5322 addr-spec subset; the top-level domain must be letters and not a file
    # extension ("logo@2x.png" is an image, not a mailbox).
    v = value.strip()
    local, _, domain = v.rpartition("@")
    if not local or "." not in domain or ".." in v or local.startswith(".") or local.endswith("."):
        return False
    tld = domain.rsplit(".", 1)[1].lower()
    if not (tld.isalpha() and len(tld) >= 2 and tld not in _FILE_TLDS):
        return False
    # Role and system mailboxes (sales@, info@, noreply@ ...) identify an organisation, not a person.
    head = _r(r"[._+-]").split(local.lower(), maxsplit=1)[0]
    return head not in _ROLE_MAILBOXES


_PLACEHOLDER = regex.compile(
    r"^(?:\*{3,}|x{3,}|\.{3,}|_{3,}|-{3,}|#{3,}|<[^>]*>|\$\{[^}]*\}|%[^%]+%|\{\{[^}]*\}\}|\$\w+|\[[^\]]*\]"
    r"|changeme|password\d*|passw(?:or)?d|secret|example|your[_-]?\w*|none|null|n/?a|tbd|redacted|hidden|masked"
    r"|minimum|required|optional|expired|reset|see\b.*)$",
    regex.IGNORECASE,
)


def password_value(value: str) -> bool:
    # Placeholders and policy text are not credentials (PATTERN_CATALOGUE.md 9.4): reject
    # masks (***), templates (<...>, ${...}, {{...}}, %VAR%), stock words, and values
    # that are plain words; require >= 3 character classes, or >= 2 with entropy >= 3.0.
    v = value.strip().strip("\"'`;,")
    if "=" in v or ":" in v:
        key, _, rest = v.partition("=") if "=" in v else v.partition(":")
        if _r(r"(?i)pass|pwd|kennwort|contrase|senha|secret").search(key):
            v = rest.strip().strip("\"'`;,")
    if len(v) < 6 or _PLACEHOLDER.match(v):
        return False
    classes = sum(
        (
            any(c.islower() for c in v),
            any(c.isupper() for c in v),
            any(c.isdigit() for c in v),
            any(not c.isalnum() for c in v),
        )
    )
    return classes >= 3 or (classes >= 2 and shannon_entropy(v) >= 3.0)


def aws_access_key(value: str) -> bool:
    # gitleaks rule aws-access-token: the 16 characters after the prefix are base32
    # (A-Z, 2-7) and the whole key has Shannon entropy above 3.0.
    v = value.strip()
    return len(v) == 20 and shannon_entropy(v) > 3.0


def high_entropy_token(value: str) -> bool:
    # gitleaks generic-api-key: the secret must have Shannon entropy above 3.5 and not
    # be made only of letters, '_', '.' and '-' (identifiers, version strings).
    v = value.strip().strip("\"'`")
    if "=" in v or ":" in v:
        v = _r(r"[:=]+").split(v)[-1].strip().strip("\"'`> ")
    if len(v) < 10 or _r(r"[A-Za-z_.\-]+").fullmatch(v) or _r(r"[\d.\-/: ]+").fullmatch(v):
        return False
    return shannon_entropy(v) > 3.5


def jwt(value: str) -> bool:
    # RFC 7519: three base64url parts; the first decodes to a JSON header with "alg".
    import base64
    import json

    parts = value.strip().split(".")
    if len(parts) != 3:
        return False
    head = parts[0] + "=" * (-len(parts[0]) % 4)
    try:
        header = json.loads(base64.urlsafe_b64decode(head))
    except Exception:
        return False
    return isinstance(header, dict) and "alg" in header


def pem_private_key(value: str) -> bool | None:
    # RFC 7468 textual encoding: a BEGIN line, a base64 body, the matching END line.
    # True with a body of >= 64 base64 characters and the END line; False when the text
    # says the key is truncated or elided ("..."); None for a BEGIN line alone (word
    # processors split a key over paragraphs, so the END line may be out of sight).
    body = value.split("-----", 2)[-1]
    if "..." in body or "\u2026" in body or _r(r"(?i)truncated|redacted|omitted").search(body):
        return False
    b64 = _r(r"-----END[^-]*-----|[^A-Za-z0-9+/=]").sub("", body)
    if "-----END" in value and len(b64) >= 64:
        return True
    return None


# --------------------------------------------------------------------------- people / IP markers
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


_REGISTRY: dict[str, Validator] = {
    # US PHI
    "us_ssn": us_ssn,
    "us_itin": us_itin,
    "us_mbi": us_mbi,
    "us_hicn": us_hicn,
    "us_npi": us_npi,
    "us_dea": us_dea,
    "phone_nanp": phone_nanp,
    "phone_international": phone_international,
    "date_of_birth": date_of_birth,
    "calendar_date": calendar_date,
    "age_over_89": age_over_89,
    "icd10_cm": icd10_cm,
    "email": email,
    "ip_address": ip_address,
    "person_name": person_name,
    # generic checksums
    "luhn": luhn,
    # finance
    "credit_card": credit_card,
    "iban": iban,
    # international ids
    "uk_nhs": uk_nhs,
    "ca_sin": ca_sin,
    "ca_on_hcn": ca_on_hcn,
    "ca_bc_phn": _stdnum("ca.bc_phn"),
    "de_kvnr": de_kvnr,
    "de_idnr": _stdnum("de.idnr"),
    "fr_nir": _stdnum("fr.nir"),
    "it_codice_fiscale": _stdnum("it.codicefiscale"),
    "nl_bsn": _stdnum("nl.bsn"),
    "es_dni": _stdnum("es.dni"),
    "es_nie": _stdnum("es.nie"),
    "be_nn": _stdnum("be.nn"),
    "pl_pesel": _stdnum("pl.pesel"),
    "ch_ahv": _stdnum("ch.ssn"),
    "se_personnummer": _stdnum("se.personnummer"),
    "dk_cpr": _stdnum("dk.cpr"),
    "fi_hetu": _stdnum("fi.hetu"),
    "ie_pps": _stdnum("ie.pps"),
    "at_vnr": _stdnum("at.vnr"),
    "icao_document_number": icao_document_number,
    # devices, vehicles
    "vin": vin,
    "gs1_udi": gs1_udi,
    # chemistry and biology
    "cas_number": cas_number,
    "ec_number": ec_number,
    "inchikey": inchikey,
    "smiles": smiles,
    "molecular_formula": molecular_formula,
    "nucleotide_sequence": nucleotide_sequence,
    "protein_sequence": protein_sequence,
    # products, trials, IP
    "us_ndc": us_ndc,
    "eudract": eudract,
    "compound_code": compound_code,
    "batch_number": batch_number,
    # secrets
    "password_value": password_value,
    "aws_access_key": aws_access_key,
    "high_entropy_token": high_entropy_token,
    "jwt": jwt,
    "pem_private_key": pem_private_key,
}


def _cached(fn: Validator) -> Validator:
    """Validators are pure: remember recent answers (documents repeat their identifiers)."""
    import functools

    wrapped = functools.lru_cache(maxsize=4096)(fn)
    functools.update_wrapper(wrapped, fn)
    return wrapped  # type: ignore[return-value]


# date_of_birth depends on today's date, so it is not cached across calls.
REGISTRY: dict[str, Validator] = {
    name: (fn if name == "date_of_birth" else _cached(fn)) for name, fn in _REGISTRY.items()
}
