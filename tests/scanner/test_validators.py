"""The closed validator registry: each check against published valid values and look-alikes.

Values are the catalogue's synthetic or published test values (PATTERN_CATALOGUE.md).
"""

from __future__ import annotations

import datetime as dt

import pytest

from scanner.detect import validators as v

CASES: dict[str, tuple[list[str], list[str]]] = {
    "us_ssn": (
        ["212-67-4431", "701-34-8820", "480 19 2256"],
        [
            "000-12-3456",
            "123-00-4567",
            "078-05-1120",
            "666-45-1234",
            "123-45-0000",
            "911-11-1111",
            "111-11-1111",
            "123-45-678",
        ],
    ),
    "us_itin": (
        ["912-73-4567", "945-88-1234", "903-55-1234", "991-83-8742"],
        ["912-93-4567", "912-89-4567", "812-78-1234", "915-24-7677", "912-66-1234"],
    ),
    "us_mbi": (
        ["1EG4-TE5-MK73", "2AC4DE6FG78", "9XY0KM2NP15"],
        ["0EG4TE5MK73", "1SG4TE5MK73", "1EG4TE5MKA3", "1EG4TE5MK7"],
    ),
    "us_hicn": (["212674431A", "212-67-4431-C1", "212674431B2"], ["000674431A", "212674431", "212674431ABC"]),
    "us_npi": (["1234567893", "1000000004", "2345678900"], ["1234567890", "3234567893", "1234567839", "123456789"]),
    "us_dea": (
        ["AB1234563", "BJ6125341", "F91234563", "MS3141594", "AB1234563-001AB"],
        ["AB1234564", "ZB1234563", "FN2468135", "A11234563"],
    ),
    "phone_nanp": (
        ["(212) 555-0147", "+1 415 555 0199", "312.555.0100", "212-461-3060"],
        [
            "123-456-7890",
            "212-055-0147",
            "415-911-0000",
            "292-555-0147",
            "555-0147",
            "1-800-829-1040",
            "(888) 555-0147",
        ],
    ),
    "phone_international": (
        ["+49 621 3640795", "+44 20 7946 0958", "+1-267-951-9795"],
        ["+0 123 456 789", "+49 12", "0049 621 3640795", "+1 123 456 7890"],
    ),
    "icd10_cm": (
        ["C50.512", "S52.001A", "E11.9", "C61", "U07.1", "C4A.111", "Z79.4"],
        ["1E1.9", "EE1.9", "E11.99999", "C1", "U99.1", "C4B.1"],
    ),
    "us_ndc": (
        ["1234-5678-90", "12345-678-90", "12345-6789-0", "12345-6789-01", "12345678900"],
        ["123-4567-890", "12345-67890-1", "1234-567-89", "1234567890"],
    ),
    "eudract": (
        ["2017-004823-66", "2011-004770-28", "2004-000001-01"],
        ["2017-04823-66", "1999-004823-66", "2017-004823-6", "2999-004823-66"],
    ),
    "credit_card": (
        ["4111 1111 1111 1111", "5555 5555 5555 4444", "3782 822463 10005", "2223 0000 4840 0011", "6011111111111117"],
        [
            "4111 1111 1111 1112",
            "5555 5555 5555 4445",
            "1234 5678 1234 5678",
            "0000 0000 0000 0000",
            "9111 1111 1111 1111",
            "3782 822463 1000",
        ],
    ),
    "iban": (
        ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "FR14 2004 1010 0505 0001 3M02 606"],
        ["DE89 3704 0044 0532 0130 01", "GB82 WEST 1234 5698 7654 3", "XX82 WEST 1234 5698 7654 32"],
    ),
    "uk_nhs": (["943 476 5870", "401 023 2137", "485 777 3457"], ["943 476 5871", "401 023 2138", "123 456 7890"]),
    "ca_sin": (["123-456-782", "271-938-474", "512 345 679"], ["123-456-789", "823-456-785", "046 454 286"]),
    "ca_on_hcn": (["1234-567-897", "9876 543 217", "5554443332"], ["1234-567-890", "1234-567-89"]),
    "de_kvnr": (["A000500015", "M123456785", "T987654328"], ["A000500016", "Z123456789", "1234567890"]),
    "fr_nir": (["2 95 10 99 126 111 93", "1 85 05 78 006 084 91"], ["2 95 10 99 126 111 99", "1 85 05 78 006 084 19"]),
    "it_codice_fiscale": (["RCCMNL83S18D969H", "RSSMRA85T10A562S"], ["RCCMNL83S18D969A", "RCCMNL83Z18D969H"]),
    "nl_bsn": (["111222333", "123456782"], ["111222334", "123456789"]),
    "es_dni": (["12345678Z"], ["12345678A"]),
    "pl_pesel": (["44051401359"], ["44051401358"]),
    "ch_ahv": (["756.9217.0769.85"], ["756.9217.0769.84"]),
    "be_nn": (["85.07.30-033 28"], ["85.07.30-033 29"]),
    "se_personnummer": (["880320-0016"], ["880320-0017"]),
    "icao_document_number": (["C01X00T41"], ["C01X00T42", "C01X00T4"]),
    "vin": (
        ["1M8GDM9AXKP042788", "1G4AH59H45G118341", "1HGCM82633A004352"],
        ["1M8GDM9A1KP042788", "1M8GDM9AXKP04278O", "1M8GDM9AXKP04278"],
    ),
    "gs1_udi": (
        ["(01)51022222233336(11)141231(17)150707(10)A213B1(21)1234", "(01)10614141000415(10)ABC123(21)SN0001"],
        ["(01)51022222233337(17)150707", "(01)00812345678901(17)251331", "(01)0081234567890(10)X"],
    ),
    "cas_number": (
        ["7732-18-5", "58-08-2", "50-00-0", "64-17-5", "9448933-18-5"],
        ["7732-18-4", "0058-08-2", "12-34-5", "7732185"],
    ),
    "ec_number": (["200-001-8", "231-791-2", "200-578-6"], ["200-001-9", "20-0001-8", "231-791-3"]),
    "inchikey": (
        ["RYYVLZVUVIJVGH-UHFFFAOYSA-N", "XLYOFNOQVPJJNP-UHFFFAOYSA-N", "VNWKTOKETHGBQD-UHFFFAOYSA-N"],
        [
            "RYYVLZVUVIJVGH-UHFFFAOYSA",
            "RYYVLZVUVIJVG-UHFFFAOYSA-N",
            "RYYVLZVUVIJVGH-UHFFFAOYXA-N",
            "ryyvlzvuvijvgh-uhfffaoysa-n",
        ],
    ),
    "smiles": (
        [
            "CC(=O)OC1=CC=CC=C1C(=O)O",
            "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
            "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
            "c1ccccc1",
            "C[C@@H](N)C(=O)O",
            "CC1=CN=C(C(=C1OC)C)CS(=O)C2=NC3=C(N2)\nC=C(C=C3)OC",
        ],
        [
            "CC(=O)OC1=CC=CC=C1C(=O",
            "C1CCCCC",
            "CON",
            "SCC",
            "OCCO",
            "Hello(World)",
            "2023-01-01",
            "CCCCCCCC",
            "http://x.org/a(b)",
        ],
    ),
    "molecular_formula": (
        ["C8H10N4O2", "C9H8O4", "C13H18O2", "C14H11Cl2NO2", "C17H19NO3.HCl", "C30H17Cl2O5"],
        ["H10C8N4O2", "CO2", "H2O", "N2", "A4", "Ti6Al4V", "C18", "CHX2", "C2H2", "CS6", "INU9", "DHN3", "CNS"],
    ),
    "nucleotide_sequence": (
        ["ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTG", "1 atggctagca aaggagaaga acttttcact ggagttgtcc"],
        ["GATTACA", "A" * 40, "CATCATCATCATCATCATCATCATCATCATCAT"],
    ),
    "protein_sequence": (
        ["EVQLVESGGGLVQPGGSLRLSCAASGFTFSSYAMSWVRQAPGKGLEWVS", "MDHFNWFQKQVPVTDKNTIWGMIGFR"],
        ["ACGTACGTACGTACGTACGTACGT", "AAAAAAAAAAAAAAAAAAAAAAAA", "SHORTPEPTIDE", "DEFINITIVEAGREEMENTBETWEEN"],
    ),
    "ip_address": (
        ["192.0.2.15", "198.51.100.7/24", "2001:db8::1", "203.116.126.251"],
        ["256.1.1.1", "4.2.1", "10.2.3.4.5", "12.12.5.6641", "10:30:00"],
    ),
    "email": (
        ["jane.doe@example.com", "j.smith+trial@hospital.example.org", "qa_lead@cdmo.example.co.uk"],
        [
            "jane.doe@example",
            "logo@2x.png",
            "a..b@example.com",
            ".a@example.com",
            "info@example.com",
            "sales.nl@example.com",
            "noreply@example.org",
        ],
    ),
    "password_value": (
        ["Tr0ub4dor&3x!", "Xk9#mQ2$vL", "Sommer2024!", "Ni-rapido80", "password=Clinic2016!"],
        [
            "********",
            "<your password here>",
            "minimum",
            "${DB_PASSWORD}",
            "changeme",
            "abc",
            "xxxxxxxx",
            "{{secret}}",
            "%PASSWORD%",
        ],
    ),
    "aws_access_key": (["ASIAY34FZKBOKMUTVV7A", "AKIAZ7QW3ERT5YUI2OPL"], ["AKIAAAAAAAAAAAAAAAAA", "AKIASHORT"]),
    "high_entropy_token": (
        ["9f8e7d6c5b4a39281706f5e4d3c2b1a0", "Zx81_kQ2-vT9pL4mN7rW"],
        ["2023-01-01", "read_only", "aaaaaaaaaaaa", "short"],
    ),
    "jwt": (
        ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"],
        ["eyJub3RoaW5nIjoidGhlcmUifQ.eyJzdWIiOiJ4In0.c2ln", "a.b"],
    ),
    "person_name": (
        [
            "Lidija Mälzer-Drewes",
            "Dott. Gelsomina Alfonsi",
            "Sig.ra Etta Fusani",
            "Arie van Susa-Voortman",
            "Jorn Bakker",
        ],
        [
            "Patient Name",
            "Unknown",
            "Date Of Birth",
            "Karl",
            "PATIENT NAME",
            "John 3rd Smith",
            "Retirement Income Security Act",
            "Assistance Program",
        ],
    ),
    "compound_code": (
        ["ABC-123456", "XYZ1234", "AB-12345A", "PRGR-0612-D", "CWCM30962"],
        ["SOP-1234", "ISO-9001", "PH-102", "EQ-2744", "TRN-6081", "ABC-2023", "AB-12"],
    ),
    "batch_number": (["23A0147", "4F7K2-01", "230915", "EV-0577-753"], ["____", "ABCDEF", "2023-05-01", "x1"]),
    "age_over_89": (["Age: 93", "91-year-old", "aged 102"], ["Age: 45", "Age: 121", "Age: 89"]),
}


@pytest.mark.parametrize(
    ("name", "value"), [(n, x) for n, (good, _) in CASES.items() for x in good], ids=lambda x: str(x)[:40]
)
def test_valid(name: str, value: str) -> None:
    assert v.REGISTRY[name](value) is True


@pytest.mark.parametrize(
    ("name", "value"), [(n, x) for n, (_, bad) in CASES.items() for x in bad], ids=lambda x: str(x)[:40]
)
def test_invalid(name: str, value: str) -> None:
    assert not v.REGISTRY[name](value)


def test_registry_is_covered_by_these_tests() -> None:
    untested = (
        set(v.REGISTRY)
        - set(CASES)
        - {
            "date_of_birth",
            "calendar_date",
            "pem_private_key",
            "luhn",
            "ca_bc_phn",
            "de_idnr",
            "es_nie",
            "dk_cpr",
            "fi_hetu",
            "ie_pps",
            "at_vnr",
        }
    )
    assert not untested


@pytest.mark.parametrize("name", ["ca_bc_phn", "de_idnr", "es_nie", "dk_cpr", "fi_hetu", "ie_pps", "at_vnr"])
def test_stdnum_backed_validators_accept_stdnum_examples(name: str) -> None:
    samples = {
        "ca_bc_phn": "9698 658 215",
        "de_idnr": "36 574 261 809",
        "es_nie": "X1234567L",
        "dk_cpr": "211062-5629",
        "fi_hetu": "131052-308T",
        "ie_pps": "6433435F",
        "at_vnr": "1237 010180",
    }
    assert v.REGISTRY[name](samples[name]) is True
    assert v.REGISTRY[name]("0000000000") is False


def test_date_of_birth_three_way() -> None:
    today = dt.date.today()
    assert v.date_of_birth("03/14/1962") is True
    assert v.date_of_birth("1962-03-14") is True
    assert v.date_of_birth("14.03.1962") is True
    assert v.date_of_birth("14-MAR-1962") is True
    assert v.date_of_birth("March 14, 1962") is True
    recent = today.replace(year=today.year - 1, day=min(today.day, 28))
    assert v.date_of_birth(recent.isoformat()) is None  # could be an infant; could be a visit
    assert v.date_of_birth("02/30/1962") is False  # no such day
    assert v.date_of_birth("2026-13-01") is False
    assert v.date_of_birth(f"{today.year + 2}-01-01") is False  # future
    assert v.date_of_birth("1850-01-01") is False


def test_ambiguous_day_month_dates_are_read_both_ways() -> None:
    assert {d.isoformat() for d in v.parse_dates("05/03/1981")} == {"1981-05-03", "1981-03-05"}
    assert [d.isoformat() for d in v.parse_dates("13/03/1981")] == ["1981-03-13"]


def test_pem_private_key() -> None:
    body = "MHcCAQEEIGl5c3ludGhldGljLXRlc3Qta2V5LWZvci1jbGVhcmFuY2UtZXhhbXBsZXMAoAoGCCqGSM49AwEHoUQDQgAE"
    assert v.pem_private_key(f"-----BEGIN EC PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----") is True
    assert v.pem_private_key("-----BEGIN EC PRIVATE KEY-----") is None
    assert v.pem_private_key("-----BEGIN RSA PRIVATE KEY----- ... (truncated)") is False


def test_shannon_entropy() -> None:
    assert v.shannon_entropy("") == 0.0
    assert v.shannon_entropy("aaaa") == 0.0
    assert abs(v.shannon_entropy("abcd") - 2.0) < 1e-9


def test_luhn_and_compact_helpers() -> None:
    assert v.luhn("79927398713") and not v.luhn("79927398710")
    assert v.compact("DE89 3704-0044") == "DE8937040044"
    assert v.digits("a1-b2 c3") == "123"
