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

import functools

from scanner.detect.validators.chemistry import (
    cas_number,
    ec_number,
    inchikey,
    molecular_formula,
    nucleotide_sequence,
    protein_sequence,
    smiles,
)
from scanner.detect.validators.common import Validator, compact, digits, luhn, shannon_entropy
from scanner.detect.validators.dates import age_over_89, calendar_date, date_of_birth, parse_dates
from scanner.detect.validators.finance import credit_card, iban
from scanner.detect.validators.health import eudract, icd10_cm, us_ndc
from scanner.detect.validators.identity import (
    ca_on_hcn,
    ca_sin,
    de_kvnr,
    gs1_udi,
    icao_document_number,
    phone_international,
    phone_nanp,
    stdnum_validator,
    uk_nhs,
    us_dea,
    us_hicn,
    us_itin,
    us_mbi,
    us_npi,
    us_ssn,
    vin,
)
from scanner.detect.validators.markers import batch_number, compound_code, person_name
from scanner.detect.validators.secrets import (
    aws_access_key,
    email,
    high_entropy_token,
    ip_address,
    jwt,
    password_value,
    pem_private_key,
)

# The helpers tests and the pattern workbench use, beside the registry itself.
__all__ = [
    "REGISTRY",
    "Validator",
    "compact",
    "date_of_birth",
    "digits",
    "luhn",
    "parse_dates",
    "pem_private_key",
    "shannon_entropy",
]

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
    "ca_bc_phn": stdnum_validator("ca.bc_phn"),
    "de_kvnr": de_kvnr,
    "de_idnr": stdnum_validator("de.idnr"),
    "fr_nir": stdnum_validator("fr.nir"),
    "it_codice_fiscale": stdnum_validator("it.codicefiscale"),
    "nl_bsn": stdnum_validator("nl.bsn"),
    "es_dni": stdnum_validator("es.dni"),
    "es_nie": stdnum_validator("es.nie"),
    "be_nn": stdnum_validator("be.nn"),
    "pl_pesel": stdnum_validator("pl.pesel"),
    "ch_ahv": stdnum_validator("ch.ssn"),
    "se_personnummer": stdnum_validator("se.personnummer"),
    "dk_cpr": stdnum_validator("dk.cpr"),
    "fi_hetu": stdnum_validator("fi.hetu"),
    "ie_pps": stdnum_validator("ie.pps"),
    "at_vnr": stdnum_validator("at.vnr"),
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
    wrapped = functools.lru_cache(maxsize=4096)(fn)
    functools.update_wrapper(wrapped, fn)
    return wrapped


# date_of_birth depends on today's date, so it is not cached across calls.
REGISTRY: dict[str, Validator] = {
    name: (fn if name == "date_of_birth" else _cached(fn)) for name, fn in _REGISTRY.items()
}
