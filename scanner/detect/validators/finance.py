"""Payment cards and bank accounts."""

from __future__ import annotations

from scanner.detect.validators.common import compact, digits, luhn

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
