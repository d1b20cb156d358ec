"""Chemistry and biology: CAS and EC numbers, InChIKey, molecular formulas, SMILES, sequences."""

from __future__ import annotations

from collections import Counter

import regex

from scanner.detect.validators.common import _r


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
