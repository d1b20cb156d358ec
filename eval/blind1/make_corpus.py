#!/usr/bin/env python3
"""Blind labelled test corpus for Clearance (family "blind1").

    make_corpus.py OUTDIR            generate ~150 documents + OUTDIR/truth.jsonl
    make_corpus.py --verify OUTDIR   re-read every file and check that each truth value
                                     (and each hard negative) occurs in the text of its place

Written without looking at the scanner's patterns, tests or the shared dev documents.
Deterministic: fixed seed, no clock.  Needs python-docx, openpyxl, reportlab (generate)
and pdfminer.six (verify).
"""
import csv
import datetime as dt
import io
import json
import os
import random
import re
import sys
import unicodedata
from email import policy
from email.message import EmailMessage
from xml.sax.saxutils import escape as xesc

SEED = 1729_2024
R = random.Random(SEED)

CATEGORY = {
    "us_ssn": "phi", "phone_number": "phi", "email_address": "phi", "date_of_birth": "phi",
    "medical_record_number": "phi", "icd10_code": "phi", "ip_address": "phi", "iban": "phi",
    "credit_card": "phi", "passport_number": "phi", "person_name": "phi", "us_npi": "phi",
    "uk_nhs_number": "phi", "cas_number": "formula", "molecular_formula": "formula",
    "formulation": "formula", "batch_number": "ip", "compound_code": "ip",
    "confidentiality_marker": "ip", "nct_number": "ip", "private_key": "secret",
    "aws_access_key": "secret", "password_assignment": "secret",
}
SEVERITY = {"secret": 4, "phi": 3, "formula": 2, "ip": 1}


# ============================================================ checksums / generators
def pick(seq):
    return R.choice(seq)


def digits(n, first_nonzero=False):
    s = "".join(R.choice("0123456789") for _ in range(n))
    if first_nonzero and s[0] == "0":
        s = R.choice("123456789") + s[1:]
    return s


def luhn_digit(payload):
    s = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return str((10 - s % 10) % 10)


def luhn_ok(num):
    num = re.sub(r"\D", "", num)
    return luhn_digit(num[:-1]) == num[-1]


def gen_card():
    kind = R.random()
    if kind < 0.45:
        body = "4" + digits(14)
    elif kind < 0.8:
        body = str(R.randint(51, 55)) + digits(13)
    elif kind < 0.9:
        body = str(R.randint(2221, 2720)) + digits(11)
    else:
        body = pick(["34", "37"]) + digits(12)
        n = body + luhn_digit(body)
        return "%s %s %s" % (n[:4], n[4:10], n[10:])
    n = body + luhn_digit(body)
    sep = pick([" ", " ", "-", ""])
    return sep.join(n[i:i + 4] for i in range(0, 16, 4))


def bad_card():
    while True:
        c = gen_card()
        d = re.sub(r"\D", "", c)
        last = str((int(d[-1]) + R.randint(1, 9)) % 10)
        bad = c[:-1] + last
        if not luhn_ok(bad):
            return bad


SSN_BLACK = {"078-05-1120", "457-55-5462", "219-09-9999"}


def gen_ssn(sep="-"):
    while True:
        a = R.randint(1, 899)
        if a == 666:
            continue
        s = "%03d%s%02d%s%04d" % (a, sep, R.randint(1, 99), sep, R.randint(1, 9999))
        if s.replace(sep, "-") not in SSN_BLACK:
            return s


def bad_ssn():
    k = R.randint(0, 4)
    if k == 0:
        return "000-%02d-%04d" % (R.randint(10, 99), R.randint(1000, 9999))
    if k == 1:
        return "666-%02d-%04d" % (R.randint(10, 99), R.randint(1000, 9999))
    if k == 2:
        return "%03d-%02d-%04d" % (R.randint(900, 999), R.randint(10, 99), R.randint(1000, 9999))
    if k == 3:
        return "%03d-00-%04d" % (R.randint(100, 665), R.randint(1000, 9999))
    return "%03d-%02d-0000" % (R.randint(100, 665), R.randint(10, 99))


def gen_npi():
    base = R.choice("12") + digits(8)
    return base + luhn_digit("80840" + base)


def bad_npi():
    n = gen_npi()
    return n[:9] + str((int(n[9]) + R.randint(1, 9)) % 10)


def npi_ok(n):
    return luhn_digit("80840" + n[:9]) == n[9]


def gen_nhs(fmt=True):
    while True:
        d = digits(9, True)
        s = sum(int(x) * (10 - i) for i, x in enumerate(d))
        c = 11 - s % 11
        if c == 11:
            c = 0
        if c == 10:
            continue
        n = d + str(c)
        if fmt:
            return pick(["%s %s %s", "%s-%s-%s", "%s %s %s"]) % (n[:3], n[3:6], n[6:])
        return n


def nhs_ok(n):
    n = re.sub(r"\D", "", n)
    s = sum(int(x) * (10 - i) for i, x in enumerate(n[:9]))
    c = 11 - s % 11
    c = 0 if c == 11 else c
    return c != 10 and c == int(n[9])


def cas_check(body):
    return str(sum((i + 1) * int(ch) for i, ch in enumerate(reversed(body))) % 10)


def cas_ok(c):
    a, b, k = c.split("-")
    return cas_check(a + b) == k


def gen_cas():
    a = digits(R.randint(2, 7), True)
    b = digits(2)
    return "%s-%s-%s" % (a, b, cas_check(a + b))


def bad_cas():
    c = gen_cas()
    k = (int(c[-1]) + R.randint(1, 9)) % 10
    return c[:-1] + str(k)


def iban_mod(s):
    s = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in s)) % 97


def make_iban(cc, bban):
    num = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
    return "%s%02d%s" % (cc, 98 - int(num) % 97, bban)


ES_W = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]


def es_dc(ten):
    c = 11 - sum(int(x) * w for x, w in zip(ten, ES_W)) % 11
    return {11: 0, 10: 1}.get(c, c)


IT_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def it_cin(s):
    t = 0
    for i, ch in enumerate(s):
        v = int(ch) if ch.isdigit() else ord(ch) - 65
        t += IT_ODD[v] if i % 2 == 0 else v
    return chr(65 + t % 26)


def gen_bban(cc):
    if cc == "DE":
        return digits(8, True) + digits(10)
    if cc == "FR":
        bank, br, acc = digits(5, True), digits(5), digits(11)
        key = 97 - (89 * int(bank) + 15 * int(br) + 3 * int(acc)) % 97
        return bank + br + acc + "%02d" % key
    if cc == "ES":
        bank, br, acc = digits(4, True), digits(4), digits(10)
        return bank + br + "%d%d" % (es_dc("00" + bank + br), es_dc(acc)) + acc
    if cc == "IT":
        rest = digits(5, True) + digits(5) + digits(12)
        return it_cin(rest) + rest
    if cc == "NL":
        return pick(["ABNA", "RABO", "INGB", "TRIO", "SNSB", "ASNB"]) + digits(10)
    if cc == "BE":
        b = digits(10, True)
        k = int(b) % 97 or 97
        return b + "%02d" % k
    if cc == "GB":
        return pick(["NWBK", "BARC", "HBUK", "LOYD", "MIDL"]) + digits(6) + digits(8)
    if cc == "CH":
        return digits(5, True) + digits(12)
    raise ValueError(cc)


def fmt_iban(i, grouped=None):
    if grouped is None:
        grouped = R.random() < 0.7
    return " ".join(i[k:k + 4] for k in range(0, len(i), 4)) if grouped else i


def gen_iban(cc=None):
    cc = cc or pick(["DE", "FR", "ES", "IT", "NL", "BE", "GB", "CH"])
    return fmt_iban(make_iban(cc, gen_bban(cc)))


def bad_iban(cc=None):
    cc = cc or pick(["DE", "FR", "ES", "IT", "NL", "GB"])
    good = make_iban(cc, gen_bban(cc))
    while True:
        chk = "%02d" % R.randint(2, 98)
        b = good[:2] + chk + good[4:]
        if iban_mod(b) != 1:
            return fmt_iban(b)


B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def gen_aws():
    return "AKIA" + "".join(R.choice(B32) for _ in range(16))


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def gen_pem():
    kind = pick(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"])
    lines = ["".join(R.choice(B64) for _ in range(64)) for _ in range(R.randint(5, 11))]
    lines.append("".join(R.choice(B64) for _ in range(R.randint(12, 40))) + "==")
    begin = "-----BEGIN %s-----" % kind
    return begin, "\n".join([begin] + lines + ["-----END %s-----" % kind])


def gen_password():
    return pick([
        lambda: "%s%d%s" % (pick(["Sommer", "Winter", "Lab", "Batch", "Qual", "Primavera", "Lente", "Herbst"]),
                            R.randint(2019, 2025), pick(["!", "#", "$", "?"])),
        lambda: "".join(R.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(R.randint(10, 16))),
        lambda: "%s-%s-%d" % (pick(["Tz7q", "Kx9r", "mP4w", "Vn2L", "qR8d"]), pick(["Lv", "Hs", "Bt", "Wy"]), R.randint(10, 99)),
        lambda: "%s_%s%d!" % (pick(["svc", "Lims", "Mes", "Scada", "Erp"]), pick(["Adm", "Prod", "Qa"]), R.randint(100, 999)),
    ])()


def gen_nct():
    return "NCT0" + digits(7)


def gen_compound():
    p = pick(["CLX", "VRN", "KTX", "ZPH", "ABR", "HLV", "MRG", "TRX", "QBN", "ELP", "NVT", "OSB"])
    return pick([lambda: "%s-%d" % (p, R.randint(1000, 9999)),
                 lambda: "%s-%05d" % (p, R.randint(100, 99999)),
                 lambda: "%s%d" % (p, R.randint(100000, 999999)),
                 lambda: "%s-%d-%s" % (p[:2], R.randint(100, 999), pick(["A", "B", "HCl", "01"]))])()


def gen_batch():
    y = R.randint(22, 25)
    return pick([
        lambda: "B%02d%02d-%04d" % (y, R.randint(1, 12), R.randint(1, 9999)),
        lambda: "%02d%s%03d%s" % (y, pick("ABCDEFGHJK"), R.randint(1, 999), pick("ABCDE")),
        lambda: "P-%02d-%04d" % (y, R.randint(1, 9999)),
        lambda: "%d%02d%04d" % (R.randint(1, 9), y, R.randint(1, 9999)),
        lambda: "L%02d%02d%03d" % (y, R.randint(1, 52), R.randint(1, 999)),
        lambda: "CH%02d-%05d" % (y, R.randint(1, 99999)),
        lambda: "%s%02d%04d" % (pick(["GM", "TX", "FP", "DS"]), y, R.randint(1, 9999)),
    ])()


def gen_mrn():
    return pick([
        lambda: digits(8),
        lambda: "MRN-%07d" % R.randint(1, 9999999),
        lambda: "H%s-%06d" % (pick(["19", "20", "21", "22", "23"]), R.randint(1, 999999)),
        lambda: "%s%07d" % (pick(["KA", "PA", "HC", "NHC"]), R.randint(1, 9999999)),
        lambda: "%03d-%03d-%03d" % (R.randint(100, 999), R.randint(0, 999), R.randint(0, 999)),
    ])()


def gen_passport(cc):
    if cc in ("US",):
        return digits(9, True)
    if cc == "GB":
        return digits(9, True)
    if cc == "DE":
        return "C" + "".join(R.choice("0123456789CFGHJKLMNPRTVWXYZ") for _ in range(8))
    if cc == "FR":
        return digits(2) + "".join(R.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + digits(5)
    if cc == "ES":
        return "".join(R.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + digits(6)
    if cc == "IT":
        return "Y" + R.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + digits(7)
    if cc == "NL":
        return "".join(R.choice("BCDFGHJKLMNPRSTVWXYZ") for _ in range(2)) + "".join(R.choice("BCDFGHJKLMNPRSTVWXYZ0123456789") for _ in range(6)) + digits(1)
    return digits(9)


def gen_ip(public=False):
    if public:
        return "%d.%d.%d.%d" % (pick([185, 193, 212, 62, 81, 194, 141]), R.randint(1, 254), R.randint(0, 254), R.randint(1, 254))
    return pick([lambda: "10.%d.%d.%d" % (R.randint(0, 254), R.randint(0, 254), R.randint(1, 254)),
                 lambda: "192.168.%d.%d" % (R.randint(0, 254), R.randint(1, 254)),
                 lambda: "172.%d.%d.%d" % (R.randint(16, 31), R.randint(0, 254), R.randint(1, 254))])()


def version4():
    return "%d.%d.%d.%d" % (R.randint(1, 12), R.randint(0, 20), R.randint(0, 30), R.randint(1, 250))


ICD = [("E11.9", "type 2 diabetes mellitus"), ("I10", "essential hypertension"), ("J45.909", "asthma"),
       ("C50.911", "malignant neoplasm of breast"), ("I21.4", "NSTEMI"), ("K21.9", "GERD"),
       ("G43.909", "migraine"), ("N18.3", "chronic kidney disease stage 3"), ("M79.7", "fibromyalgia"),
       ("L27.0", "generalized drug eruption"), ("T88.7", "adverse effect of drug"), ("R11.2", "nausea with vomiting"),
       ("K71.6", "toxic liver disease with hepatitis"), ("D70.1", "drug-induced agranulocytosis"),
       ("R50.9", "fever"), ("J18.9", "pneumonia"), ("I48.91", "atrial fibrillation"), ("F32.9", "depressive episode"),
       ("E78.5", "hyperlipidaemia"), ("C34.90", "lung cancer"), ("M05.79", "rheumatoid arthritis"), ("L50.0", "urticaria"),
       ("R21", "rash"), ("K52.9", "colitis")]

PHONE_FMT = {
    "US": lambda: "+1 %d-%03d-%04d" % (pick([617, 919, 858, 732, 312, 650]), R.randint(200, 989), R.randint(1000, 9999)),
    "US2": lambda: "(%d) %03d-%04d" % (pick([617, 919, 858, 732, 312, 650]), R.randint(200, 989), R.randint(1000, 9999)),
    "DE": lambda: pick(["+49 %d %d %d", "0%d %d-%d", "+49 (0)%d %d %d"]) % (pick([6221, 89, 30, 621, 7531, 6151]), R.randint(100, 9999), R.randint(10, 999)),
    "FR": lambda: pick(["+33 %d %02d %02d %02d %02d", "0%d %02d %02d %02d %02d"]) % (R.randint(1, 7), R.randint(10, 99), R.randint(10, 99), R.randint(10, 99), R.randint(10, 99)),
    "ES": lambda: pick(["+34 %d %03d %03d", "%d %03d %03d"]) % (pick([91, 93, 96, 6]) * 10 + R.randint(1, 9) if False else R.randint(600, 699), R.randint(100, 999), R.randint(100, 999)),
    "IT": lambda: pick(["+39 0%d %d %d", "0%d %d%d"]) % (pick([2, 6, 11, 51]), R.randint(1000, 9999), R.randint(100, 9999)),
    "NL": lambda: pick(["+31 %d %03d %04d", "0%d-%03d %04d"]) % (pick([20, 10, 30, 71, 6]), R.randint(100, 999), R.randint(1000, 9999)),
    "GB": lambda: pick(["+44 20 %04d %04d", "+44 (0)1223 %06d" if False else "+44 1223 %03d %03d"]) % (R.randint(1000, 9999), R.randint(100, 9999)) if False else pick(["+44 20 7%03d %04d" % (R.randint(100, 999), R.randint(1000, 9999)), "01223 %06d" % R.randint(200000, 999999)]),
    "CH": lambda: "+41 %d %03d %02d %02d" % (pick([61, 44, 22]), R.randint(100, 999), R.randint(10, 99), R.randint(10, 99)),
}


def gen_phone(cc):
    return PHONE_FMT.get(cc, PHONE_FMT["DE"])()


def phone_like_order():
    return pick(["PO %s" % digits(10, True), "SO-%s-%s-%s" % (digits(4), digits(3), digits(4)),
                 "Auftrag %s %s %s" % (digits(4), digits(3), digits(3)), "Order %s-%s-%s" % (digits(3), digits(3), digits(4)),
                 "AWB %s-%s" % (digits(3), digits(8))])


# ============================================================ people & language data
FIRST = {
    "en": ["Emily", "James", "Olivia", "Michael", "Sarah", "David", "Rachel", "Thomas", "Megan", "Daniel", "Laura", "Kevin", "Hannah", "Brian", "Grace"],
    "de": ["Anna", "Lukas", "Katharina", "Jonas", "Sabine", "Matthias", "Julia", "Stefan", "Birgit", "Tobias", "Jürgen", "Petra", "Maximilian", "Ursula"],
    "fr": ["Camille", "Julien", "Élodie", "Mathieu", "Chloé", "Nicolas", "Amélie", "François", "Sophie", "Hélène", "Benoît", "Manon"],
    "es": ["Lucía", "Javier", "Carmen", "Alejandro", "María José", "Pablo", "Elena", "Sergio", "Nuria", "Íñigo", "Rocío", "Andrés"],
    "it": ["Giulia", "Marco", "Francesca", "Alessandro", "Chiara", "Lorenzo", "Valentina", "Matteo", "Federica", "Davide", "Silvia", "Niccolò"],
    "nl": ["Sanne", "Daan", "Lotte", "Bram", "Eva", "Joost", "Femke", "Pieter", "Anouk", "Sven", "Marloes", "Wouter"],
    "x": ["Priya", "Wei", "Aisha", "Mehmet", "Katarzyna", "Hiroshi", "Oluwaseun", "Ana", "Dmitri", "Soo-ah", "Rahul", "Fatima"],
}
LAST = {
    "en": ["Whitfield", "Harrington", "Okafor", "Brennan", "Caldwell", "Thornton", "McAllister", "Pearson", "Delaney", "Hughes", "Ashworth", "Fairbanks"],
    "de": ["Keller", "Hoffmann", "Schäfer", "Brandstätter", "Wagner", "Lehmann", "Zimmermann", "Krüger", "Vogel", "Hartmann", "Neumeier", "Böhm"],
    "fr": ["Lefebvre", "Moreau", "Girard", "Dubois", "Fontaine", "Rousseau", "Chevalier", "Lemaire", "Gauthier", "Mercier", "Beaumont"],
    "es": ["García Romero", "Fernández", "Ortega Ruiz", "Navarro", "Castillo", "Moreno Vidal", "Iglesias", "Domínguez", "Serrano", "Vázquez"],
    "it": ["Rossi", "Bianchi", "Esposito", "Colombo", "Ricci", "Marchetti", "Galli", "Conti", "De Luca", "Ferraro", "Lombardi"],
    "nl": ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Mulder", "van Dijk", "de Groot", "Meijer", "Hendriks"],
    "x": ["Raghunathan", "Zhang", "Okonkwo", "Yilmaz", "Kowalska", "Tanaka", "Adeyemi", "Silva Pereira", "Volkov", "Park", "Mehta", "Haddad"],
}
LANGS = ["en", "de", "fr", "es", "it", "nl"]
CC_OF = {"en": "GB", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL"}

_used_names = set()


def person(lang=None):
    for _ in range(50):
        l = lang or pick(LANGS + ["x", "en"])
        if R.random() < 0.15:
            l = "x"
        f, s = pick(FIRST[l]), pick(LAST[l])
        if (f, s) not in _used_names or R.random() < 0.05:
            _used_names.add((f, s))
            return f, s
    return f, s


def full(fs, style="fl"):
    f, s = fs
    if style == "lf":
        return "%s, %s" % (s, f)
    if style == "LF":
        return "%s %s" % (s.upper(), f)
    if style == "dr":
        return "Dr. %s %s" % (f, s)
    return "%s %s" % (f, s)


def ascii_slug(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", s.lower())


def email_of(fs, domain):
    f, s = ascii_slug(fs[0]), ascii_slug(fs[1])
    return pick(["%s.%s@%s", "%s%s@%s", "%s_%s@%s"]) % (f, s, domain) if R.random() < 0.7 else "%s%s@%s" % (f[0], s, domain)


MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"],
}


def fmt_date(d, lang, style=None):
    style = style or pick(["num", "num", "iso", "long"])
    if style == "iso":
        return d.isoformat()
    if style == "long":
        m = MONTHS[lang if lang in MONTHS else "en"][d.month - 1]
        if lang == "en":
            return pick(["%d %s %d" % (d.day, m, d.year), "%s %d, %d" % (m, d.day, d.year)])
        if lang == "es":
            return "%d de %s de %d" % (d.day, m, d.year)
        if lang == "de":
            return "%d. %s %d" % (d.day, m, d.year)
        return "%d %s %d" % (d.day, m, d.year)
    if lang == "en":
        return pick(["%02d/%02d/%d" % (d.month, d.day, d.year), "%02d/%02d/%d" % (d.day, d.month, d.year)])
    if lang in ("de",):
        return "%02d.%02d.%d" % (d.day, d.month, d.year)
    if lang == "nl":
        return pick(["%02d-%02d-%d", "%02d.%02d.%d"]) % (d.day, d.month, d.year)
    return "%02d/%02d/%d" % (d.day, d.month, d.year)


def rand_dob():
    return dt.date(1950, 1, 1) + dt.timedelta(days=R.randint(0, 53 * 365))


def rand_recent():
    return dt.date(2022, 1, 1) + dt.timedelta(days=R.randint(0, 3 * 365))


L = {  # label synonyms
    "name": {"en": ["Name", "Full name", "Employee name", "Surname, first name"], "de": ["Name", "Vor- und Nachname", "Mitarbeiter/in", "Name, Vorname"],
             "fr": ["Nom et prénom", "Nom complet", "Salarié(e)"], "es": ["Nombre y apellidos", "Nombre completo", "Empleado/a"],
             "it": ["Nome e cognome", "Nominativo", "Dipendente"], "nl": ["Naam", "Volledige naam", "Medewerker"]},
    "dob": {"en": ["Date of birth", "D.O.B.", "DOB", "Birth date", "Born"], "de": ["Geburtsdatum", "Geb.-Datum", "geb. am"],
            "fr": ["Date de naissance", "Né(e) le", "Date naiss."], "es": ["Fecha de nacimiento", "F. nacimiento", "Nacido/a el"],
            "it": ["Data di nascita", "Nato/a il", "Data nascita"], "nl": ["Geboortedatum", "Geb. datum", "Geboren op"]},
    "phone": {"en": ["Phone", "Tel.", "Mobile", "Telephone", "Cell"], "de": ["Telefon", "Tel.", "Mobil", "Handy"],
              "fr": ["Téléphone", "Tél.", "Portable"], "es": ["Teléfono", "Tel.", "Móvil"], "it": ["Telefono", "Cellulare", "Tel."],
              "nl": ["Telefoon", "Tel.", "Mobiel"]},
    "email": {"en": ["E-mail", "Email address", "Email"], "de": ["E-Mail", "E-Mail-Adresse"], "fr": ["Courriel", "Adresse e-mail"],
              "es": ["Correo electrónico", "E-mail"], "it": ["E-mail", "Posta elettronica"], "nl": ["E-mailadres", "E-mail"]},
    "iban": {"en": ["IBAN", "Bank account (IBAN)", "Salary account"], "de": ["IBAN", "Bankverbindung (IBAN)", "Kontoverbindung"],
             "fr": ["IBAN", "RIB / IBAN", "Coordonnées bancaires"], "es": ["IBAN", "Cuenta bancaria (IBAN)", "Cuenta de abono"],
             "it": ["IBAN", "Coordinate bancarie", "Conto corrente (IBAN)"], "nl": ["IBAN", "Rekeningnummer (IBAN)", "Bankrekening"]},
    "passport": {"en": ["Passport No.", "Passport number"], "de": ["Reisepassnummer", "Pass-Nr."], "fr": ["N° de passeport", "Numéro de passeport"],
                 "es": ["Número de pasaporte", "Pasaporte n.º"], "it": ["Numero passaporto", "Passaporto n."], "nl": ["Paspoortnummer", "Nr. paspoort"]},
    "batch": {"en": ["Batch No.", "Lot", "Batch", "Lot number"], "de": ["Ch.-B.", "Chargennummer", "Charge"], "fr": ["N° de lot", "Lot"],
              "es": ["Lote", "N.º de lote"], "it": ["Lotto", "N. lotto"], "nl": ["Partijnummer", "Batchnummer", "Charge"]},
    "formula": {"en": ["Molecular formula", "Mol. formula", "Empirical formula"], "de": ["Summenformel", "Molekülformel"],
                "fr": ["Formule brute", "Formule moléculaire"], "es": ["Fórmula molecular"], "it": ["Formula bruta", "Formula molecolare"],
                "nl": ["Brutoformule", "Molecuulformule"]},
    "cas": {"en": ["CAS No.", "CAS RN", "CAS"], "de": ["CAS-Nr."], "fr": ["N° CAS"], "es": ["N.º CAS"], "it": ["Numero CAS"], "nl": ["CAS-nummer"]},
}


def lab(key, lang):
    return pick(L[key].get(lang, L[key]["en"]))


MARKERS = {
    "en": [("CONFIDENTIAL", []), ("Company Confidential", ["Confidential"]), ("Strictly Confidential – Do Not Distribute", ["Strictly Confidential"]),
           ("Confidential – Internal Use Only", ["Confidential"]), ("PROPRIETARY AND CONFIDENTIAL", ["CONFIDENTIAL"]),
           ("Commercially sensitive – not for onward distribution", ["Commercially sensitive"]),
           ("Contains confidential information of the Sponsor", ["confidential"])],
    "de": [("VERTRAULICH", []), ("Streng vertraulich", ["vertraulich"]), ("Vertraulich – nur für den internen Gebrauch", ["Vertraulich"]),
           ("Betriebsgeheimnis – nicht weitergeben", ["Betriebsgeheimnis"])],
    "fr": [("CONFIDENTIEL", []), ("Strictement confidentiel", ["confidentiel"]), ("Document confidentiel – diffusion restreinte", ["confidentiel"])],
    "es": [("CONFIDENCIAL", []), ("Estrictamente confidencial", ["confidencial"]), ("Documento confidencial – uso interno", ["confidencial"])],
    "it": [("RISERVATO", []), ("Strettamente riservato", ["riservato"]), ("Documento riservato – uso interno", ["riservato"])],
    "nl": [("VERTROUWELIJK", []), ("Strikt vertrouwelijk", ["vertrouwelijk"]), ("Vertrouwelijk – alleen voor intern gebruik", ["Vertrouwelijk"])],
}


def marker(c, lang, slot="body"):
    v, alts = pick(MARKERS.get(lang, MARKERS["en"]) + (MARKERS["en"][:2] if lang != "en" else []))
    return c.e("confidentiality_marker", v, slot, alts)


EXCIP = [  # (english, {lang: name}, cas)
    ("Microcrystalline cellulose", {"de": "Mikrokristalline Cellulose", "fr": "Cellulose microcristalline", "es": "Celulosa microcristalina", "it": "Cellulosa microcristallina", "nl": "Microkristallijne cellulose"}, "9004-34-6"),
    ("Lactose monohydrate", {"de": "Lactose-Monohydrat", "fr": "Lactose monohydraté", "es": "Lactosa monohidrato", "it": "Lattosio monoidrato", "nl": "Lactosemonohydraat"}, "64044-51-5"),
    ("Magnesium stearate", {"de": "Magnesiumstearat", "fr": "Stéarate de magnésium", "es": "Estearato de magnesio", "it": "Magnesio stearato", "nl": "Magnesiumstearaat"}, "557-04-0"),
    ("Croscarmellose sodium", {"de": "Croscarmellose-Natrium", "fr": "Croscarmellose sodique", "es": "Croscarmelosa sódica", "it": "Croscarmellosa sodica"}, "74811-65-7"),
    ("Sodium starch glycolate", {"de": "Carboxymethylstärke-Natrium", "fr": "Glycolate d'amidon sodique"}, "9063-38-1"),
    ("Povidone K30", {}, "9003-39-8"),
    ("Colloidal silicon dioxide", {"de": "Hochdisperses Siliciumdioxid", "fr": "Silice colloïdale anhydre", "es": "Sílice coloidal anhidra", "it": "Silice colloidale anidra"}, "7631-86-9"),
    ("Mannitol", {"fr": "Mannitol", "es": "Manitol", "it": "Mannitolo"}, "69-65-8"),
    ("Hypromellose 2910", {}, "9004-65-3"),
    ("Crospovidone", {"es": "Crospovidona"}, "25249-54-1"),
    ("Talc", {"de": "Talkum", "es": "Talco", "it": "Talco"}, "14807-96-6"),
    ("Titanium dioxide", {"de": "Titandioxid", "fr": "Dioxyde de titane", "es": "Dióxido de titanio", "it": "Biossido di titanio", "nl": "Titaandioxide"}, "13463-67-7"),
    ("Stearic acid", {"de": "Stearinsäure", "fr": "Acide stéarique"}, "57-11-4"),
    ("Polysorbate 80", {}, "9005-65-6"),
    ("Sodium lauryl sulfate", {"de": "Natriumdodecylsulfat", "fr": "Laurylsulfate de sodium"}, "151-21-3"),
    ("Pregelatinised starch", {"de": "Vorverkleisterte Stärke", "fr": "Amidon prégélatinisé"}, "9005-25-8"),
    ("Hydroxypropyl cellulose", {}, "9004-64-2"),
    ("Triethyl citrate", {}, "77-93-0"),
    ("Anhydrous citric acid", {"de": "Citronensäure, wasserfrei"}, "77-92-9"),
]
EXCIP = [e for e in EXCIP if cas_ok(e[2])]


def gen_molformula():
    parts = ["C%d" % R.randint(12, 34), "H%d" % R.randint(10, 48)]
    if R.random() < 0.4:
        parts.append(pick(["Cl", "F", "F3", "Br", "ClF", "F2"]))
    parts.append("N%d" % R.randint(1, 7) if R.random() < 0.85 else "N")
    parts.append("O%d" % R.randint(1, 6) if R.random() < 0.8 else "O")
    if R.random() < 0.25:
        parts.append(pick(["S", "S2", "P"]))
    s = "".join(parts).replace("N1", "N").replace("O1", "O")
    return re.sub(r"([A-Z][a-z]?)1(?!\d)", r"\1", s)


UNITS = {"en": ["% w/w", "mg/tablet", "mg per capsule", "mg/tab"], "de": ["% (m/m)", "mg/Tablette", "mg pro Kapsel"],
         "fr": ["% m/m", "mg/comprimé", "mg par gélule"], "es": ["% p/p", "mg/comprimido"], "it": ["% p/p", "mg/compressa"],
         "nl": ["% m/m", "mg/tablet"]}


def dec(x, lang, nd=1):
    s = ("%." + str(nd) + "f") % x
    return s.replace(".", ",") if lang in ("de", "fr", "es", "it", "nl") and R.random() < 0.8 else s


def formulation_rows(c, lang, n=None, unit=None, joiner=" ", slot="body"):
    """Returns list of (name, qty_text) and records entities with value name+joiner+qty."""
    n = n or R.randint(4, 7)
    unit = unit or pick(UNITS.get(lang, UNITS["en"]))
    chosen = R.sample(EXCIP, n)
    out = []
    for eng, tr, cas in chosen:
        nm = tr.get(lang, eng) if R.random() < 0.8 else eng
        q = R.uniform(0.5, 60) if "%" in unit else R.uniform(0.8, 240)
        qty = "%s %s" % (dec(q, lang, pick([1, 1, 2])), unit)
        c.e("formulation", nm + joiner + qty, slot, [qty])
        out.append((nm, qty, cas, eng))
    return out


PRODUCTS = ["film-coated tablets 10 mg", "tablets 25 mg", "hard capsules 50 mg", "tablets 5 mg", "oral suspension 20 mg/mL",
            "lyophilisate for injection 100 mg", "modified-release tablets 200 mg", "film-coated tablets 2.5 mg"]
SITES = ["Ludwigshafen", "Monza", "Lyon-Gerland", "Tres Cantos", "Leiden", "Cambridge", "Raleigh", "Basel", "Ghent"]
OURCO = ["Veridia Contract Pharma", "NorthBridge CDMO", "Alcedo Pharmaservices", "Helix & Stone Manufacturing", "Quintara BioPharm"]
COMPANIES = [("Hoffmann Feinchemie GmbH", "hoffmann-feinchemie.de"), ("Laboratorios Ortega S.L.", "lab-ortega.es"),
             ("Bernard Excipients SAS", "bernard-excipients.fr"), ("Farmaceutica Colombo S.p.A.", "colombo-farma.it"),
             ("Van Dijk Packaging B.V.", "vandijk-pack.nl"), ("Pearson Analytical Ltd", "pearson-analytical.co.uk"),
             ("Trialogix Clinical Services", "trialogix.com"), ("Meridian Sponsor Therapeutics", "meridian-tx.com"),
             ("Kestrel Biologics Inc.", "kestrelbio.com"), ("Sorell Pharma AG", "sorell-pharma.ch")]
OURDOM = {"Veridia Contract Pharma": "veridia-cp.com", "NorthBridge CDMO": "northbridge-cdmo.eu", "Alcedo Pharmaservices": "alcedo-ps.de",
          "Helix & Stone Manufacturing": "helixstone.com", "Quintara BioPharm": "quintara-bio.nl"}


# ============================================================ document model
class Ctx:
    def __init__(self):
        self.ents, self.negs, self.ign = [], [], []

    def e(self, t, v, slot="body", alts=None):
        assert t in CATEGORY, t
        self.ents.append({"type": t, "value": v, "slot": slot, "alts": list(alts or [])})
        return v

    def n(self, t, v):
        self.negs.append({"type_lookalike": t, "value": v})
        return v

    def i(self, t, v):
        self.ign.append({"type": t, "value": v})
        return v


class Doc:
    def __init__(self, title, lang="en"):
        self.title, self.lang = title, lang
        self.header, self.footer, self.blocks, self.comments = [], [], [], []
        self.meta, self.hidden = {}, []
        self.kvstyle = pick(["colon", "colon", "table", "tab", "above"])
        self.attachments = []  # eml: (filename, Doc, kind)
        self.mail = None       # eml headers dict

    def h(self, t): self.blocks.append(("h", t))
    def p(self, t): self.blocks.append(("p", t))
    def kv(self, pairs, style=None): self.blocks.append(("kv", pairs, style or self.kvstyle))
    def table(self, headers, rows, mono=False): self.blocks.append(("table", headers, rows, mono))
    def pre(self, t): self.blocks.append(("pre", t))
    def sheet(self, name): self.blocks.append(("sheet", name))

    def comment(self, text, author="QA review"):
        self.comments.append((text, author, max(0, len(self.blocks) - 1)))


WHERE = {
    "docx": {"body": "body", "hf": "header_footer", "comment": "comment", "meta": "core_property", "hidden": None},
    "xlsx": {"body": "body", "hf": "header_footer", "comment": "cell_comment", "meta": "core_property", "hidden": "hidden_sheet"},
    "pdf": {"body": "body", "hf": "header_footer", "comment": "body", "meta": "pdf_metadata", "hidden": None},
    "txt": {"body": "body", "hf": "body", "comment": "body", "meta": None, "hidden": None},
    "csv": {"body": "body", "hf": None, "comment": None, "meta": None, "hidden": None},
    "eml": {"body": "body", "hf": "body", "comment": "body", "meta": None, "hidden": None},
}


def cellstr(v):
    return v if isinstance(v, str) else str(v)


# ------------------------------------------------------------ renderers
def render_docx(doc, path):
    from docx import Document
    from docx.shared import Pt
    d = Document()
    sec = d.sections[0]
    if doc.header:
        sec.header.paragraphs[0].text = doc.header[0]
        for line in doc.header[1:]:
            sec.header.add_paragraph(line)
    if doc.footer:
        sec.footer.paragraphs[0].text = doc.footer[0]
        for line in doc.footer[1:]:
            sec.footer.add_paragraph(line)
    anchors = {}
    for idx, b in enumerate(doc.blocks):
        k = b[0]
        para = None
        if k == "h":
            para = d.add_heading(b[1], level=1 if idx == 0 else 2)
        elif k == "sheet":
            para = d.add_heading(b[1], level=2)
        elif k == "p":
            para = d.add_paragraph(b[1])
        elif k == "pre":
            for j, line in enumerate(b[1].split("\n")):
                pp = d.add_paragraph()
                r = pp.add_run(line)
                r.font.name = "Courier New"
                r.font.size = Pt(8)
                para = para or pp
        elif k == "kv":
            pairs, style = b[1], b[2]
            if style == "table":
                t = d.add_table(rows=len(pairs), cols=2)
                t.style = "Table Grid"
                for i, (l, v) in enumerate(pairs):
                    t.cell(i, 0).text, t.cell(i, 1).text = l, cellstr(v)
                para = t.cell(0, 1).paragraphs[0]
            elif style == "above":
                for l, v in pairs:
                    pl = d.add_paragraph()
                    rl = pl.add_run(l)
                    rl.bold, rl.font.size = True, Pt(8)
                    pv = d.add_paragraph(cellstr(v))
                    para = para or pv
            else:
                for l, v in pairs:
                    pp = d.add_paragraph()
                    rl = pp.add_run(l + (":\t" if style == "tab" else ": "))
                    rl.bold = True
                    pp.add_run(cellstr(v))
                    para = para or pp
        elif k == "table":
            headers, rows = b[1], b[2]
            ncol = len(headers) if headers else len(rows[0])
            t = d.add_table(rows=len(rows) + (1 if headers else 0), cols=ncol)
            t.style = "Table Grid"
            r0 = 0
            if headers:
                for j, hd in enumerate(headers):
                    t.cell(0, j).text = hd
                r0 = 1
            for i, row in enumerate(rows):
                for j, v in enumerate(row):
                    t.cell(r0 + i, j).text = cellstr(v)
            para = t.cell(r0, 0).paragraphs[0]
        anchors[idx] = para
    for text, author, anchor in doc.comments:
        para = anchors.get(anchor) or d.paragraphs[-1]
        if not para.runs:
            para.add_run(" ")
        d.add_comment(para.runs, text=text, author=author, initials="".join(w[0] for w in author.split()[:2]).upper())
    cp = d.core_properties
    cp.author = doc.meta.get("author", "Document Control")
    cp.last_modified_by = doc.meta.get("last_modified_by", "dms-export")
    cp.title = doc.meta.get("title", "")
    cp.subject = doc.meta.get("subject", "")
    cp.keywords = doc.meta.get("keywords", "")
    cp.comments = ""
    cp.created = dt.datetime(2024, 5, 6, 9, 0, 0)
    cp.modified = dt.datetime(2024, 5, 6, 9, 0, 0)
    cp.revision = 1
    d.save(path)


def render_xlsx(doc, path):
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", "", doc.title)[:31] or "Sheet1"
    first = ws
    row = 1
    anchors = {}
    for idx, b in enumerate(doc.blocks):
        k = b[0]
        cell = None
        if k == "sheet":
            ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", "", b[1])[:31])
            row = 1
            continue
        if k in ("h", "p"):
            cell = ws.cell(row, 1, b[1])
            if k == "h":
                cell.font = Font(bold=True, size=12)
            row += 1
        elif k == "pre":
            for line in b[1].split("\n"):
                cl = ws.cell(row, 1, line)
                cell = cell or cl
                row += 1
        elif k == "kv":
            pairs, style = b[1], b[2]
            for l, v in pairs:
                if style == "above":
                    ws.cell(row, 1, l).font = Font(bold=True, size=8)
                    cl = ws.cell(row + 1, 1, v)
                    row += 2
                else:
                    ws.cell(row, 1, l).font = Font(bold=True)
                    cl = ws.cell(row, 2, v)
                    row += 1
                cell = cell or cl
        elif k == "table":
            headers, rows = b[1], b[2]
            if headers:
                for j, hd in enumerate(headers):
                    ws.cell(row, j + 1, hd).font = Font(bold=True)
                row += 1
            for r_ in rows:
                for j, v in enumerate(r_):
                    cl = ws.cell(row, j + 1, v)
                    cell = cell or cl
                row += 1
        row += 1 if k in ("table", "kv") else 0
        anchors[idx] = cell
    for text, author, anchor in doc.comments:
        cell = anchors.get(anchor) or first.cell(1, 1)
        cm = Comment(text, author)
        cm.width, cm.height = 300, 120
        cell.comment = cm
    if doc.header:
        first.oddHeader.center.text = " – ".join(doc.header).replace("&", "&&")
    if doc.footer:
        first.oddFooter.left.text = " – ".join(doc.footer).replace("&", "&&")
    for name, headers, rows in doc.hidden:
        hs = wb.create_sheet(name[:31])
        if headers:
            hs.append(list(headers))
        for r_ in rows:
            hs.append(list(r_))
        hs.sheet_state = "hidden"
    pr = wb.properties
    pr.creator = doc.meta.get("author", "Document Control")
    pr.lastModifiedBy = doc.meta.get("last_modified_by", "dms-export")
    pr.title = doc.meta.get("title")
    pr.subject = doc.meta.get("subject")
    pr.keywords = doc.meta.get("keywords")
    pr.created = pr.modified = dt.datetime(2024, 5, 6, 9, 0, 0)
    wb.save(path)


def render_pdf(doc, path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet, ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Paragraph, Spacer, Table, TableStyle, Preformatted
    from reportlab.lib import colors
    ss = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=ss["BodyText"], fontSize=8.5, leading=10.5)
    mono = ParagraphStyle("mono", parent=ss["Code"], fontSize=7.5, leading=9)
    story = []
    by_anchor = {}
    for text, author, anchor in doc.comments:
        by_anchor.setdefault(anchor, []).append((text, author))
    width = A4[0] - 36 * mm
    for idx, b in enumerate(doc.blocks):
        k = b[0]
        if k in ("h", "sheet"):
            story.append(Paragraph(xesc(b[1]), ss["Heading2" if idx else "Heading1"]))
        elif k == "p":
            story.append(Paragraph(xesc(b[1]), ss["BodyText"]))
        elif k == "pre":
            story.append(Preformatted(b[1], mono))
        elif k == "kv":
            pairs, style = b[1], b[2]
            if style == "table":
                t = Table([[Paragraph(xesc(l), small), Paragraph(xesc(cellstr(v)), small)] for l, v in pairs],
                          colWidths=[55 * mm, width - 55 * mm])
                t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
                story.append(t)
            elif style == "above":
                for l, v in pairs:
                    story.append(Paragraph("<font size=7>%s</font>" % xesc(l), small))
                    story.append(Paragraph(xesc(cellstr(v)), ss["BodyText"]))
            else:
                for l, v in pairs:
                    story.append(Paragraph("<b>%s:</b> %s" % (xesc(l), xesc(cellstr(v))), ss["BodyText"]))
        elif k == "table":
            headers, rows, monot = b[1], b[2], b[3]
            allrows = ([headers] if headers else []) + [[cellstr(v) for v in r_] for r_ in rows]
            if monot:
                ncol = len(allrows[0])
                w = [max(len(r_[j]) for r_ in allrows) + 3 for j in range(ncol)]
                txt = "\n".join("".join(r_[j].ljust(w[j]) for j in range(ncol)).rstrip() for r_ in allrows)
                story.append(Preformatted(txt, mono))
            else:
                ncol = len(allrows[0])
                t = Table([[Paragraph(xesc(v), small) for v in r_] for r_ in allrows], colWidths=[width / ncol] * ncol, repeatRows=1 if headers else 0)
                t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
                story.append(t)
        for text, author in by_anchor.get(idx, []):
            story.append(Paragraph("<i>Reviewer note (%s): %s</i>" % (xesc(author), xesc(text)), small))
        story.append(Spacer(1, 3 * mm))

    def on_page(canv, _doc):
        canv.saveState()
        canv.setFont("Helvetica", 7.5)
        y = A4[1] - 10 * mm
        for line in doc.header:
            canv.drawString(18 * mm, y, line)
            y -= 9
        y = 10 * mm + 9 * max(0, len(doc.footer) - 1)
        for line in doc.footer:
            canv.drawString(18 * mm, y, line)
            y -= 9
        canv.drawRightString(A4[0] - 18 * mm, 6 * mm, "%d" % canv.getPageNumber())
        canv.restoreState()

    m = doc.meta
    sd = SimpleDocTemplate(path, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=22 * mm, bottomMargin=22 * mm,
                           title=m.get("title", doc.title), author=m.get("author", "Document Control"), subject=m.get("subject", ""),
                           keywords=m.get("keywords", ""), creator="DMS PDF export", producer="DMS PDF export", invariant=1)
    sd.build(story, onFirstPage=on_page, onLaterPages=on_page)


def render_text(doc):
    out = []
    out += doc.header
    if doc.header:
        out.append("")
    by_anchor = {}
    for text, author, anchor in doc.comments:
        by_anchor.setdefault(anchor, []).append((text, author))
    tstyle = pick(["space", "pipe"])
    for idx, b in enumerate(doc.blocks):
        k = b[0]
        if k in ("h", "sheet"):
            out += ["", b[1], ("=" if idx == 0 else "-") * min(70, len(b[1]))]
        elif k == "p":
            out.append(b[1])
        elif k == "pre":
            out.append(b[1])
        elif k == "kv":
            pairs, style = b[1], b[2]
            wl = max(len(l) for l, _ in pairs) + 2
            for l, v in pairs:
                if style == "above":
                    out += [l, "    " + cellstr(v)]
                elif style in ("table", "tab"):
                    out.append((l + ":").ljust(wl) + " " + cellstr(v))
                else:
                    out.append("%s: %s" % (l, cellstr(v)))
        elif k == "table":
            headers, rows, monot = b[1], b[2], b[3]
            allrows = ([headers] if headers else []) + [[cellstr(v) for v in r_] for r_ in rows]
            ncol = len(allrows[0])
            w = [max(len(r_[j]) for r_ in allrows) for j in range(ncol)]
            if tstyle == "pipe" and not monot:
                for i, r_ in enumerate(allrows):
                    out.append("| " + " | ".join(r_[j].ljust(w[j]) for j in range(ncol)) + " |")
                    if i == 0 and headers:
                        out.append("|" + "|".join("-" * (w[j] + 2) for j in range(ncol)) + "|")
            else:
                for i, r_ in enumerate(allrows):
                    out.append("  ".join(r_[j].ljust(w[j]) for j in range(ncol)).rstrip())
                    if i == 0 and headers:
                        out.append("  ".join("-" * w[j] for j in range(ncol)))
        for text, author in by_anchor.get(idx, []):
            out.append("[Note – %s] %s" % (author, text))
        out.append("")
    if doc.footer:
        out += ["", "-" * 40] + doc.footer
    return "\n".join(out).strip("\n") + "\n"


def render_csv(doc, delim):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\r\n" if delim == ";" else "\n")
    for b in doc.blocks:
        k = b[0]
        if k in ("h", "p", "sheet"):
            w.writerow([b[1]])
        elif k == "pre":
            for line in b[1].split("\n"):
                w.writerow([line])
        elif k == "kv":
            for l, v in b[1]:
                w.writerow([l, cellstr(v)])
        elif k == "table":
            if b[1]:
                w.writerow(b[1])
            for r_ in b[2]:
                w.writerow([cellstr(v) for v in r_])
    return buf.getvalue()


def render_eml(doc, path):
    m = EmailMessage()
    for k, v in doc.mail.items():
        m[k] = v
    m.set_content(render_text(doc))
    for fname, sub, kind in doc.attachments:
        if kind == "csv":
            m.add_attachment(render_csv(sub, sub.delim), subtype="csv", filename=fname)
        else:
            m.add_attachment(render_text(sub), subtype="plain", filename=fname)
    with open(path, "wb") as fh:
        fh.write(m.as_bytes(policy=policy.SMTP))


# ============================================================ templates (sensitive)
def company():
    co, dom = pick(COMPANIES)
    return co, dom


def our():
    o = pick(OURCO)
    return o, OURDOM[o]


def neg_dates(c, lang, n=2):
    lbls = {"en": ["Manufacturing date", "Expiry", "Effective date", "Retest date", "Sampling date", "Issued"],
            "de": ["Herstelldatum", "Verfallsdatum", "Gültig ab", "Nachtestdatum"], "fr": ["Date de fabrication", "Date de péremption", "Date d'effet"],
            "es": ["Fecha de fabricación", "Fecha de caducidad"], "it": ["Data di produzione", "Data di scadenza"], "nl": ["Productiedatum", "Vervaldatum"]}
    return [(pick(lbls.get(lang, lbls["en"])), c.n("date_of_birth", fmt_date(rand_recent(), lang))) for _ in range(n)]


def t_bmr(c, kind, lang):
    o, dom = our()
    cc = c.e("compound_code", gen_compound())
    prod = pick(PRODUCTS)
    d = Doc("Batch Manufacturing Record", lang)
    bn = gen_batch()
    d.header = ["%s – %s" % (o, pick(SITES)), marker(c, lang, "hf")]
    d.footer = ["MBR-%04d rev. %02d" % (R.randint(1, 999), R.randint(1, 9))]
    c.n("batch_number", d.footer[0].split()[0])
    d.h("Batch Manufacturing Record / %s %s" % ("Herstellprotokoll" if lang == "de" else "BMR", prod))
    pairs = [("Product code", cc), (lab("batch", lang), c.e("batch_number", bn)), ("Batch size", "%d 000 tablets" % R.randint(50, 900))]
    if R.random() < 0.5:
        pairs.append(("API (" + lab("formula", lang) + ")", c.e("molecular_formula", gen_molformula())))
    pairs += neg_dates(c, lang, 2)
    d.kv(pairs)
    d.h(pick(["Bill of materials", "Dispensing record", "Materials dispensed"]))
    rows = []
    j = "\t" if kind == "xlsx" else " "
    for nm, qty, cas, eng in formulation_rows(c, lang, unit=pick(["kg", "g", "% w/w"]), joiner=" "):
        lot = c.e("batch_number", gen_batch())
        rows.append([nm, qty, lot])
    d.table(["Material", "Quantity", pick(["Supplier lot", "Vendor batch", "Lieferantencharge"])], rows, mono=(kind == "pdf"))
    d.h("Process steps")
    ops = [person(lang) for _ in range(3)]
    steps = ["Sieving (1.0 mm)", "Dry mixing 10 min", "Granulation", "Drying to LOD ≤ 2.0 %", "Blending with lubricant", "Compression"]
    srows = []
    for k_, s in enumerate(steps[:R.randint(4, 6)]):
        a, b = pick(ops), pick(ops)
        srows.append([str(k_ + 1), s, c.e("person_name", full(a)), c.e("person_name", full(b))])
    d.table(["Step", "Operation", "Performed by", "Checked by"], srows)
    d.p("Equipment used: granulator GR-%03d (PLC firmware %s), fluid bed FB-%02d. Nitrogen (N2) blanket applied; %s monitored." % (
        R.randint(100, 999), c.n("ip_address", version4()), R.randint(1, 40), c.n("molecular_formula", "CO2")))
    if kind in ("docx", "xlsx") and R.random() < 0.8:
        rv = person(lang)
        d.comment("Yield below 98 %% – please review with %s before release." % c.e("person_name", full(rv), "comment"), "QA review")
    if R.random() < 0.6:
        d.meta["author"] = c.e("person_name", full(pick(ops)), "meta")
    if R.random() < 0.5:
        d.meta["keywords"] = "BMR; %s; %s" % (c.e("batch_number", bn, "meta"), c.e("compound_code", cc, "meta"))
    if kind == "xlsx" and R.random() < 0.7:
        d.hidden.append(("calc_lots", ["Material", "Internal lot", "Weighed by"],
                         [[r_[0], c.e("batch_number", gen_batch(), "hidden"), c.e("person_name", full(person(lang)), "hidden")] for r_ in rows[:2]]))
    return d


def t_deviation(c, kind, lang):
    o, dom = our()
    d = Doc("Deviation report", lang)
    dev = "DEV-%d-%04d" % (R.randint(2022, 2025), R.randint(1, 9999))
    c.n("batch_number", dev)
    d.header = [o + " Quality Management", "Deviation " + dev]
    if R.random() < 0.6:
        d.footer = [marker(c, lang, "hf")]
    d.h(pick(["Deviation Report", "Abweichungsbericht", "Rapport de déviation", "Informe de desviación"]))
    cc = c.e("compound_code", gen_compound())
    bn = c.e("batch_number", gen_batch())
    owner, qa, op = person(lang), person(lang), person(lang)
    d.kv([("Deviation no.", dev), ("Product / compound", cc), ("Affected batch", bn),
          ("Owner", c.e("person_name", full(owner, pick(["fl", "lf"])))), ("Date of occurrence", c.n("date_of_birth", fmt_date(rand_recent(), lang)))])
    other = c.e("batch_number", gen_batch())
    d.h("Description")
    d.p("During in-process control of batch %s the tablet hardness was out of limit (%d N vs. 80–120 N). %s stopped the press and informed %s. "
        "The previous batch %s was not affected. Change control %s was raised." % (
            bn, R.randint(40, 70), c.e("person_name", full(op)), c.e("person_name", full(qa)), other,
            c.n("batch_number", "CC-%d-%03d" % (R.randint(2022, 2025), R.randint(1, 999)))))
    d.h("Root cause")
    d.p("Worn punch set (tooling ID T-%s). Element analysis of debris showed Fe and Cr traces consistent with %s tooling." % (
        digits(4), c.n("molecular_formula", "SS316L")))
    d.h("CAPA")
    d.table(["Action", "Responsible", "Due"], [
        ["Replace punch set", c.e("person_name", full(person(lang))), fmt_date(rand_recent(), lang, "iso")],
        ["Retrain operators", full(op), fmt_date(rand_recent(), lang, "iso")]])
    if kind == "docx":
        d.comment("Impact on %s to be assessed – ask %s." % (c.e("compound_code", gen_compound(), "comment"), c.e("person_name", full(person(lang)), "comment")), "Reviewer")
    if R.random() < 0.5:
        d.meta["subject"] = "Deviation %s batch %s" % (dev, c.e("batch_number", bn, "meta"))
    return d


def t_coa(c, kind, lang):
    o, dom = our()
    d = Doc("Certificate of Analysis", lang)
    d.header = [o + " – Quality Control Laboratory"]
    if R.random() < 0.7:
        d.header.append(marker(c, lang, "hf"))
    d.h(pick(["Certificate of Analysis", "Analysenzertifikat", "Certificat d'analyse", "Certificado de análisis", "Certificato di analisi"]))
    cc = c.e("compound_code", gen_compound())
    mf = gen_molformula()
    cas = gen_cas()
    bn = gen_batch()
    pairs = [("Material", "%s drug substance" % cc), (lab("batch", lang), c.e("batch_number", bn)),
             (lab("formula", lang), c.e("molecular_formula", mf)), (lab("cas", lang), c.e("cas_number", cas))]
    pairs += neg_dates(c, lang, 2)
    d.kv(pairs)
    rows = [["Appearance", "White to off-white powder", "Complies"], ["Identification (IR)", "Conforms to reference", "Conforms"],
            ["Assay (HPLC)", "98.0 – 102.0 %", "%.1f %%" % R.uniform(98.5, 101.5)], ["Water (KF)", "≤ 0.5 %", "%.2f %%" % R.uniform(0.05, 0.4)],
            ["Residual solvents", "ICH Q3C", "Complies"], ["Heavy metals", "≤ 10 ppm", "< 5 ppm"]]
    d.table(["Test", "Specification", "Result"], rows)
    ref = c.e("batch_number", gen_batch())
    d.p("Reference standard lot %s was used. Column: C18, 150 × 4.6 mm (%s)." % (ref, c.n("compound_code", pick(["USP L1", "EN-1822", "ISO-14644"]))))
    qp = person(lang)
    d.kv([("Released by (QP)", c.e("person_name", full(qp, pick(["fl", "dr"])))), ("Signature date", c.n("date_of_birth", fmt_date(rand_recent(), lang)))], "colon")
    if R.random() < 0.6:
        d.meta["title"] = "CoA %s" % c.e("batch_number", bn, "meta")
    if kind in ("xlsx", "docx") and R.random() < 0.6:
        d.comment("Impurity profile compared against batch %s." % c.e("batch_number", gen_batch(), "comment"), "QC")
    return d


def t_supplier(c, kind, lang):
    co, dom = company()
    c.i("person_name", co)
    d = Doc("Supplier qualification questionnaire", lang)
    o, _ = our()
    d.header = [o + " – Supplier Quality", "Form SQ-%02d" % R.randint(1, 30)]
    d.h(pick(["Supplier Qualification Questionnaire", "Lieferantenfragebogen", "Questionnaire fournisseur", "Cuestionario de proveedores"]))
    ct = person(lang)
    cc = CC_OF.get(lang, "DE")
    d.kv([("Company", co), ("Contact person", c.e("person_name", full(ct))), (lab("phone", lang), c.e("phone_number", gen_phone(cc))),
          (lab("email", lang), c.e("email_address", email_of(ct, dom))), ("DUNS", c.n("phone_number", "%s-%s-%s" % (digits(2), digits(3), digits(4)))),
          ("Bank details – " + lab("iban", lang), c.e("iban", gen_iban(cc if cc != "GB" else "GB")))])
    d.h("Quality system")
    d.table(["Question", "Answer"], [["Certified to ISO 9001:2015?", "Yes"], ["GMP certificate available?", "Yes, EudraGMDP"],
                                     ["Last regulatory inspection", fmt_date(rand_recent(), lang, "iso")], ["Sub-contracted testing?", "No"]])
    d.h("Supplied materials")
    rows = []
    for eng, tr, cas in R.sample(EXCIP, 3):
        rows.append([eng, c.e("cas_number", cas), c.n("cas_number", bad_cas()) if R.random() < 0.5 else "n/a"])
    d.table(["Material", "CAS", "Cat. No."], rows)
    if R.random() < 0.5:
        qa = person(lang)
        d.p("Questionnaire completed by %s, Head of QA, on %s." % (c.e("person_name", full(qa)), c.n("date_of_birth", fmt_date(rand_recent(), lang))))
    if kind == "xlsx":
        d.comment("Bank details verified by phone with %s" % c.e("person_name", full(ct), "comment"), "Purchasing")
    if R.random() < 0.5:
        d.meta["author"] = c.e("person_name", full(ct), "meta")
    return d


def t_stability(c, kind, lang):
    o, _ = our()
    d = Doc("Stability summary", lang)
    cc = c.e("compound_code", gen_compound())
    d.header = [marker(c, lang, "hf")] if R.random() < 0.7 else [o]
    d.h("Stability Study Summary – %s %s" % (cc, pick(PRODUCTS)))
    proto = c.n("batch_number", "STB-%d-%03d" % (R.randint(2021, 2025), R.randint(1, 300)))
    bns = [c.e("batch_number", gen_batch()) for _ in range(3)]
    d.kv([("Protocol", proto), ("Batches", ", ".join(bns)), ("Study director", c.e("person_name", full(person(lang), pick(["fl", "dr"]))))])
    rows = []
    for tp in ["0", "3", "6", "9", "12"]:
        rows.append([tp, pick(["25 °C / 60 % RH", "40 °C / 75 % RH", "30 °C / 65 % RH"]), "%.1f" % R.uniform(97, 101), "%.2f" % R.uniform(0.05, 0.6), "Complies"])
    d.table(["Month", "Condition", "Assay (%)", "Total impurities (%)", "Dissolution"], rows)
    d.p("Packaging: Alu/Alu blister, headspace purged with N2. No trend observed; %s uptake negligible." % c.n("molecular_formula", "CO2"))
    if R.random() < 0.5:
        d.p("API: %s (%s), CAS %s." % (cc, c.e("molecular_formula", gen_molformula()), c.e("cas_number", gen_cas())))
    if kind == "xlsx" and R.random() < 0.6:
        d.hidden.append(("raw", ["Batch", "Analyst"], [[c.e("batch_number", b_, "hidden"), c.e("person_name", full(person(lang)), "hidden")] for b_ in bns[:2]]))
    if kind == "docx":
        d.comment("OOT at 9 M for %s – confirm with lab." % c.e("batch_number", bns[0], "comment"), "Stability")
    if R.random() < 0.5:
        d.meta["title"] = "Stability %s" % c.e("compound_code", cc, "meta")
    return d


def t_manifest(c, kind, lang, delim=","):
    d = Doc("Shipment manifest", lang)
    nct = gen_nct()
    co, dom = company()
    c.i("person_name", co)
    d.h("Clinical Supply Shipment Manifest – Direct-to-Patient")
    d.kv([("Study", c.e("nct_number", nct)), ("Sponsor", co), ("IMP", c.e("compound_code", gen_compound())),
          ("Courier", "Medisafe Logistics"), ("Shipment ref", c.n("phone_number", phone_like_order()))], "colon")
    rows = []
    cc = pick(["US", "DE", "ES", "IT", "NL", "FR"])
    plang = {"US": "en"}.get(cc, cc.lower())
    for k_ in range(R.randint(4, 8)):
        p = person(plang if plang in FIRST else None)
        kit = c.n("medical_record_number", "K-%06d" % R.randint(1, 999999)) if k_ < 2 else "K-%06d" % R.randint(1, 999999)
        rows.append([kit, "%04d-%03d" % (R.randint(1001, 1099), R.randint(1, 200)), c.e("person_name", full(p)),
                     c.e("phone_number", gen_phone("US" if cc == "US" else cc)), c.e("date_of_birth", fmt_date(rand_dob(), plang if plang in MONTHS else "en", "num")),
                     c.e("batch_number", gen_batch())])
    heads = pick([["Kit No.", "Subject", "Recipient", "Phone", "DOB", "IMP lot"],
                  ["Kit", "Subject ID", "Patient name", "Contact no.", "Birth date", "Batch"]])
    d.table(heads, rows)
    if kind == "xlsx" and R.random() < 0.7:
        d.hidden.append(("addresses", ["Subject", "Recipient", "Email"],
                         [[r_[1], c.e("person_name", r_[2], "hidden"), c.e("email_address", email_of(person(plang if plang in FIRST else None), pick(["gmail.com", "web.de", "orange.fr", "libero.it"])), "hidden")] for r_ in rows[:3]]))
    if kind == "xlsx":
        d.comment("Courier to call %s before delivery" % c.e("person_name", full(person()), "comment"), "Supply chain")
    if kind == "pdf":
        d.meta["subject"] = "DtP manifest %s" % c.e("nct_number", nct, "meta")
    d.delim = delim
    return d


def t_pv(c, kind, lang):
    d = Doc("Case narrative", lang)
    nct = gen_nct() if R.random() < 0.6 else None
    d.header = ["Pharmacovigilance – Individual Case Safety Report"]
    if R.random() < 0.6:
        d.footer = [marker(c, "en", "hf")]
    uk = R.random() < 0.4
    p = person("en" if uk else None)
    pn = full(p)
    d.h("Case Narrative – PV-%d-%05d" % (R.randint(2022, 2025), R.randint(1, 99999)))
    pairs = [("Patient", c.e("person_name", pn)), (pick(["DOB", "Date of birth", "D.O.B."]), c.e("date_of_birth", fmt_date(rand_dob(), "en")))]
    if uk:
        pairs.append((pick(["NHS No.", "NHS number"]), c.e("uk_nhs_number", gen_nhs())))
    pairs.append((pick(["MRN", "Hospital record no.", "Medical record number"]), c.e("medical_record_number", gen_mrn())))
    if nct:
        pairs.append(("Study", c.e("nct_number", nct)))
    d.kv(pairs)
    dx1, dx2 = R.sample(ICD, 2)
    ae = pick([x for x in ICD if x[0] in ("L27.0", "T88.7", "R11.2", "K71.6", "D70.1", "R21", "L50.0")])
    cc = c.e("compound_code", gen_compound())
    bn = c.e("batch_number", gen_batch())
    rep = person("en")
    d.p("A %d-year-old %s with a history of %s (%s) and %s (%s) received %s 10 mg once daily (lot %s). On day %d the patient developed %s (%s). "
        "%s was hospitalised and the study drug was withdrawn; the event resolved after %d days. The reporter, %s, considered the event possibly related." % (
            R.randint(25, 80), pick(["female", "male"]), dx1[1], c.e("icd10_code", dx1[0]), dx2[1], c.e("icd10_code", dx2[0]), cc, bn,
            R.randint(3, 60), ae[1], c.e("icd10_code", ae[0]), c.e("person_name", p[0] + " " + p[1]) if R.random() < 0.3 else pick(["The patient", "She" , "He"]),
            R.randint(2, 20), c.e("person_name", full(rep, "dr"))))
    d.h("Reporter")
    rp = [("Name", full(rep, "dr")), (pick(["Phone", "Tel."]), c.e("phone_number", gen_phone(pick(["US", "GB"])))),
          ("Email", c.e("email_address", email_of(rep, pick(["stmarys-hospital.nhs.uk", "bayview-medical.org", "uniklinik-nord.de"]))))]
    if not uk or R.random() < 0.5:
        rp.append(("NPI", c.e("us_npi", gen_npi())))
    d.kv(rp, "colon")
    d.p("Lab values: ALT 182 U/L, AST 140 U/L on %s (not a birth date). Room K2.17 ward." % c.n("date_of_birth", fmt_date(rand_recent(), "en")))
    c.n("icd10_code", "K2.17")
    if kind == "docx":
        d.comment("Follow-up requested from %s" % c.e("person_name", full(rep), "comment"), "PV")
        if R.random() < 0.6:
            d.meta["title"] = "ICSR %s" % c.e("person_name", pn, "meta")
    if kind == "pdf" and R.random() < 0.7:
        d.meta["keywords"] = "ICSR, %s, %s" % (c.e("icd10_code", ae[0], "meta"), c.e("compound_code", cc, "meta"))
    return d


HR_TITLES = {"en": "New Starter Form", "de": "Personalstammblatt – Neueinstellung", "fr": "Fiche d'embauche", "es": "Ficha de alta de empleado",
             "it": "Scheda anagrafica dipendente", "nl": "Indiensttredingsformulier"}


def t_hr(c, kind, lang):
    us = lang == "en" and R.random() < 0.6
    d = Doc(HR_TITLES[lang], lang)
    o, dom = our()
    d.header = [o + " – HR", marker(c, lang, "hf")] if R.random() < 0.7 else [o + " – Human Resources"]
    d.h(HR_TITLES[lang])
    p = person(lang)
    cc = "US" if us else CC_OF[lang]
    nm_style = pick(["fl", "lf", "LF"])
    pairs = [(lab("name", lang), c.e("person_name", full(p, nm_style))), (lab("dob", lang), c.e("date_of_birth", fmt_date(rand_dob(), lang)))]
    if us:
        pairs.append((pick(["SSN", "Social Security No.", "Social security number"]), c.e("us_ssn", gen_ssn())))
    pairs.append((lab("passport", lang), c.e("passport_number", gen_passport(cc))))
    pairs += [(lab("phone", lang), c.e("phone_number", gen_phone(cc))), (lab("email", lang), c.e("email_address", email_of(p, pick(["gmail.com", "gmx.de", "outlook.com", "hotmail.fr", "yahoo.es", "libero.it", "ziggo.nl"]))))]
    if not us or R.random() < 0.5:
        pairs.append((lab("iban", lang), c.e("iban", gen_iban(CC_OF[lang]))))
    d.kv(pairs)
    ec = person(lang)
    em = {"en": "Emergency contact", "de": "Notfallkontakt", "fr": "Personne à prévenir", "es": "Contacto de emergencia", "it": "Contatto di emergenza", "nl": "Contactpersoon bij nood"}[lang]
    d.h(em)
    d.p("%s (%s), %s" % (c.e("person_name", full(ec)), pick(["spouse", "partner", "mother", "brother"]), c.e("phone_number", gen_phone(cc))))
    d.h({"en": "Start", "de": "Eintritt", "fr": "Embauche", "es": "Alta", "it": "Assunzione", "nl": "Indienst"}[lang])
    d.kv([("Start date", c.n("date_of_birth", fmt_date(rand_recent(), lang))), ("Department", pick(["QC Microbiology", "Production – Solids", "Warehouse", "QA Operations"])),
          ("Manager", c.e("person_name", full(person(lang))))], "colon")
    if kind == "docx" and R.random() < 0.6:
        d.comment("Work permit copy pending – passport scan received from %s." % c.e("person_name", full(p), "comment"), "HR")
    if R.random() < 0.5:
        d.meta["title"] = "%s – %s" % (HR_TITLES[lang], c.e("person_name", full(p), "meta"))
    return d


def t_payroll(c, kind, lang, delim=","):
    us = lang == "en"
    d = Doc("Payroll export", lang)
    d.delim = delim
    n = R.randint(6, 12)
    if us:
        heads = pick([["Emp ID", "Last Name", "First Name", "SSN", "DOB", "Gross", "Net", "Routing No."],
                      ["EmployeeNo", "Name", "Social Sec #", "Birthdate", "Gross pay", "Net pay", "ABA"]])
    else:
        heads = {"de": ["Personalnr.", "Name", "Vorname", "Geburtsdatum", "IBAN", "Brutto", "Netto"],
                 "fr": ["Matricule", "Nom", "Prénom", "Date de naissance", "IBAN", "Brut", "Net"],
                 "es": ["Nº empleado", "Apellidos", "Nombre", "Fecha nac.", "IBAN", "Bruto", "Neto"],
                 "it": ["Matricola", "Cognome", "Nome", "Data di nascita", "IBAN", "Lordo", "Netto"],
                 "nl": ["Personeelsnr", "Achternaam", "Voornaam", "Geboortedatum", "IBAN", "Bruto", "Netto"]}[lang]
    rows = []
    jn = delim if kind == "csv" else " "
    for k_ in range(n):
        p = person(lang if not us else "en")
        gross = R.uniform(2800, 9800)
        if us:
            rt = c.n("us_ssn", pick(["0210", "0260", "1110", "0710"]) + digits(5))
            if len(heads) == 8:
                c.e("person_name", p[1] + jn + p[0])
                rows.append(["E%05d" % R.randint(1, 99999), p[1], p[0], c.e("us_ssn", gen_ssn()),
                             c.e("date_of_birth", fmt_date(rand_dob(), "en", "num")), "%.2f" % gross, "%.2f" % (gross * 0.71), rt])
            else:
                rows.append(["%06d" % R.randint(1, 999999), c.e("person_name", full(p, "lf")), c.e("us_ssn", gen_ssn(pick(["-", "-", ""]))),
                             c.e("date_of_birth", fmt_date(rand_dob(), "en", pick(["num", "iso"]))), "%.2f" % gross, "%.2f" % (gross * 0.7), rt])
        else:
            c.e("person_name", p[1] + jn + p[0])
            rows.append(["%05d" % R.randint(1, 99999), p[1], p[0], c.e("date_of_birth", fmt_date(rand_dob(), lang, "num")),
                         c.e("iban", gen_iban(CC_OF[lang] if R.random() < 0.8 else None)), dec(gross, lang, 2), dec(gross * 0.64, lang, 2)])
    if us and len(heads) == 8:
        # first/last name columns: record surnames only once per row already; drop first-name entity duplicates (kept as separate names)
        pass
    d.table(heads, rows)
    if not us and R.random() < 0.6:
        bad = c.n("iban", bad_iban(CC_OF[lang]))
        rows.append(["%05d" % R.randint(1, 99999), "(Test)", "(Test)", "", bad, dec(0, lang, 2), dec(0, lang, 2)])
    if kind == "xlsx":
        d.hidden.append(("Stammdaten", ["ID", "Private e-mail", "Phone"], [[r_[0], c.e("email_address", email_of(person(lang), "gmail.com"), "hidden"),
                                                                           c.e("phone_number", gen_phone("US" if us else CC_OF[lang]), "hidden")] for r_ in rows[:3]]))
        d.header = [marker(c, lang, "hf")]
        d.comment("Net pay for %s corrected after tax class change." % c.e("person_name", full(person(lang)), "comment"), "Payroll")
    return d


def t_techtransfer(c, kind, lang):
    o, _ = our()
    co, dom = company()
    c.i("person_name", co)
    d = Doc("Technology transfer report", lang)
    cc = c.e("compound_code", gen_compound())
    d.header = [marker(c, "en", "hf"), "%s → %s" % (co, o)]
    d.footer = ["TT-%03d v%d.0" % (R.randint(1, 300), R.randint(1, 4))]
    d.h("Technology Transfer Report – %s" % cc)
    mf = c.e("molecular_formula", gen_molformula())
    d.p("The active substance %s (%s, CAS %s) is transferred from the sending unit at %s to the receiving unit at %s. "
        "Demonstration batches %s and %s were manufactured at 60 kg scale." % (
            cc, mf, c.e("cas_number", gen_cas()), co, o, c.e("batch_number", gen_batch()), c.e("batch_number", gen_batch())))
    d.h(pick(["Unit formula", "Quantitative composition", "Composition per tablet"]))
    unit = pick(["mg/tablet", "% w/w", "mg per tablet"])
    rows = [[nm, qty, pick(["Filler", "Binder", "Disintegrant", "Lubricant", "Glidant", "Coating"])] for nm, qty, cas, eng in formulation_rows(c, "en", unit=unit)]
    d.table(["Component", "Quantity", "Function"], rows, mono=(kind == "pdf"))
    d.h("Critical process parameters")
    d.table(["Step", "Parameter", "Range"], [["Granulation", "Impeller speed", "150–250 rpm"], ["Drying", "Inlet air", "55–65 °C"], ["Compression", "Main force", "8–14 kN"]])
    team = [person() for _ in range(3)]
    d.p("Transfer team: " + ", ".join(c.e("person_name", full(t_)) for t_ in team) + ".")
    d.p("Reactor jacket alloy Ti6Al4V was excluded; CO2 cooling not required.")
    c.n("molecular_formula", "Ti6Al4V")
    if kind == "docx":
        d.comment("Confirm %s source with sending unit (%s)." % (c.e("cas_number", EXCIP[0][2], "comment"), c.e("email_address", email_of(team[0], dom), "comment")), "TT lead")
        d.meta["subject"] = "Tech transfer %s" % c.e("compound_code", cc, "meta")
    if kind == "pdf":
        d.meta["author"] = c.e("person_name", full(team[0]), "meta")
    return d


def t_helpdesk(c, kind, lang):
    d = Doc("IT service ticket", lang)
    u = person()
    o, dom = our()
    inc = "INC%07d" % R.randint(1, 9999999)
    d.h("Ticket %s – %s" % (inc, pick(["LIMS login failure", "Cannot connect to MES database", "VPN access for contractor", "Chromatography PC offline"])))
    d.kv([("Requester", c.e("person_name", full(u))), ("Email", c.e("email_address", email_of(u, dom))),
          ("Workstation IP", c.e("ip_address", gen_ip())), ("Ext.", str(R.randint(2000, 7999))), ("Client version", c.n("ip_address", version4()))], "colon")
    pw = gen_password()
    form = pick([("password: %s", "en"), ("Passwort: %s", "de"), ("mot de passe : %s", "fr"), ("contraseña: %s", "es"), ("Temporary password: %s", "en"), ("pwd=%s", "en")])
    pa = form[0] % pw
    srv = c.e("ip_address", gen_ip())
    d.p("User reports the service account no longer works on %s. Credentials currently in use: user lims_svc, %s. Please reset." % (srv, c.e("password_assignment", pa, alts=[pw])))
    d.h("Worklog")
    t = pick(["PGPASSWORD=%s psql -h %s -U mes_ro -d mes", "export DB_PASSWORD=%s; ./sync.sh %s"])
    pw2 = gen_password()
    line = t % (pw2, srv)
    pa2 = line.split(" psql")[0] if line.startswith("PG") else "DB_PASSWORD=%s" % pw2
    c.e("password_assignment", pa2, alts=[pw2])
    d.pre(line)
    if R.random() < 0.85:
        key = gen_aws()
        d.pre("aws configure list\naccess_key     ****************%s shared-credentials-file\n# pasted by user:\naws_access_key_id = %s" % (key[-4:], c.e("aws_access_key", key)))
    if R.random() < 0.75:
        b, full_ = gen_pem()
        c.e("private_key", b, alts=[full_])
        d.p("User attached the deployment key:")
        d.pre(full_)
    d.p("Note: policy says never send %s in tickets. Placeholder %s is fine." % (c.n("password_assignment", "password: ********"), c.n("password_assignment", "DB_PASSWORD=${VAULT_DB_PASSWORD}")))
    tech = person()
    d.kv([("Assigned to", c.e("person_name", full(tech))), ("Status", "Resolved")], "colon")
    if kind == "docx":
        d.comment("Rotate key %s" % c.e("aws_access_key", gen_aws(), "comment"), "SecOps")
    return d


def t_cardrecon(c, kind, lang, delim=","):
    d = Doc("Corporate card reconciliation", lang)
    d.delim = delim
    d.h(pick(["Corporate card reconciliation", "Firmenkreditkarten – Abrechnung", "Rapprochement cartes affaires"]))
    rows = []
    for _ in range(R.randint(5, 9)):
        p = person(lang)
        rows.append([c.e("person_name", full(p)), c.e("credit_card", gen_card()), pick(["Lufthansa", "Hotel Ibis Lyon", "Amazon Business", "Sigma-Aldrich", "Iberia", "Trenitalia"]),
                     dec(R.uniform(20, 1800), lang, 2), pick(["EUR", "USD", "GBP"])])
    for _ in range(2):
        rows.append(["(reversal)", c.n("credit_card", bad_card()), "Refund", "-" + dec(R.uniform(20, 300), lang, 2), "EUR"])
    d.table(["Cardholder", "Card number", "Merchant", "Amount", "Currency"], rows)
    d.p("Statement ref. %s" % c.n("phone_number", phone_like_order()))
    if kind == "xlsx":
        d.hidden.append(("cvv_check", ["Card", "Holder"], [[c.e("credit_card", gen_card(), "hidden"), c.e("person_name", full(person(lang)), "hidden")]]))
        d.meta["author"] = c.e("person_name", full(person(lang)), "meta")
        d.comment("Card %s blocked after loss report." % c.e("credit_card", gen_card(), "comment"), "Finance")
    return d


def t_sites(c, kind, lang, delim=","):
    d = Doc("Investigator site list", lang)
    d.delim = delim
    nct = c.e("nct_number", gen_nct())
    d.h("Investigator sites – %s" % nct)
    rows = []
    for _ in range(R.randint(4, 7)):
        us = R.random() < 0.6
        p = person("en" if us else None)
        cc = "US" if us else pick(["DE", "FR", "ES", "IT", "NL", "GB"])
        rows.append([str(R.randint(101, 399)), c.e("person_name", full(p, "dr")), c.e("us_npi", gen_npi()) if us else "",
                     c.e("email_address", email_of(p, pick(["mgh-research.org", "duke-ctu.org", "chu-lyon.fr", "hsanpau.es", "umcg.nl", "uniklinik-koeln.de"]))),
                     c.e("phone_number", gen_phone(cc))])
    if kind != "csv" and R.random() < 0.5:
        # transposed layout: row labels
        heads = None
        rows = [list(x) for x in zip(*([["Site", "Principal investigator", "NPI", "E-mail", "Phone"]] + rows))]
    else:
        heads = ["Site", "Principal investigator", "NPI", "E-mail", "Phone"]
    d.table(heads, rows)
    d.p("Protocol amendment %s; IRB approval numbers are not NPIs: %s." % (c.n("nct_number", "NCT-%d-%03d" % (R.randint(2020, 2025), R.randint(1, 999))), c.n("us_npi", bad_npi())))
    if kind == "xlsx":
        d.hidden.append(("home_contacts", ["PI", "Mobile"], [[c.e("person_name", rows[0][1] if heads else rows[1][1], "hidden"), c.e("phone_number", gen_phone("US"), "hidden")]]))
        d.meta["keywords"] = "sites; " + c.e("nct_number", nct, "meta")
    return d


def t_config(c, kind, lang):
    d = Doc("Deployment notes", lang)
    d.h(pick(["LIMS interface – deployment notes", "MES historian – server config", "Data integrity backup job"]))
    db = c.e("ip_address", gen_ip())
    pw = gen_password()
    key = gen_aws()
    lines = ["# generated %s" % fmt_date(rand_recent(), "en", "iso"), "APP_ENV=production", "DB_HOST=%s" % db, "DB_USER=lims_app",
             c.e("password_assignment", "DB_PASSWORD=%s" % pw, alts=[pw]), "AWS_ACCESS_KEY_ID=%s" % c.e("aws_access_key", key), "AWS_REGION=eu-central-1",
             "SMTP_RELAY=%s" % c.e("ip_address", gen_ip()), "ARCHIVE_PASSWORD=${ARCHIVE_PASSWORD}", "APP_VERSION=%s" % c.n("ip_address", version4())]
    c.n("password_assignment", "ARCHIVE_PASSWORD=${ARCHIVE_PASSWORD}")
    d.pre("\n".join(lines))
    pw2 = gen_password()
    d.p("Connection string used by the reporting service:")
    cs = "Server=%s;Database=QMS;User Id=qms_report;Password=%s;" % (c.e("ip_address", gen_ip()), pw2)
    c.e("password_assignment", "Password=%s" % pw2, alts=[pw2])
    d.pre(cs)
    b, full_ = gen_pem()
    c.e("private_key", b, alts=[full_])
    d.p("SFTP key for partner upload:")
    d.pre(full_)
    if True:  # SFTP key + host key
        b2, full2 = gen_pem()
        c.e("private_key", b2, alts=[full2])
        d.p("Backup host key (%s):" % c.e("ip_address", gen_ip()))
        d.pre(full2)
    if R.random() < 0.5:
        pw3 = gen_password()
        d.pre("spring:\n  datasource:\n    url: jdbc:postgresql://%s:5432/mes\n    username: mes\n    %s" % (c.e("ip_address", gen_ip()), c.e("password_assignment", "password: %s" % pw3, alts=[pw3])))
    d.p("Owner: %s" % c.e("person_name", full(person())))
    return d


def t_partner_mail(c, kind, lang):
    o, odom = our()
    co, dom = company()
    c.i("person_name", co)
    a, b = person(lang), person()
    ea, eb = email_of(a, dom), email_of(b, odom)
    d = Doc("mail", lang)
    subj = pick(["Re: batch release status", "Formulation for scale-up", "Shipment of demo batches", "Updated composition – please review", "AW: Chargenfreigabe"])
    d.mail = {"From": "%s <%s>" % (full(a), ea), "To": "%s <%s>" % (full(b), eb), "Subject": subj,
              "Date": "Tue, 14 May 2024 09:%02d:00 +0200" % R.randint(0, 59), "Message-ID": "<%s@%s>" % (digits(12), dom)}
    c.i("email_address", "%s@%s" % (digits(12), dom))
    greet = {"en": "Dear %s,", "de": "Hallo %s,", "fr": "Bonjour %s,", "es": "Hola %s:", "it": "Gentile %s,", "nl": "Beste %s,"}[lang]
    d.p(greet % c.e("person_name", full(b)))
    cc = c.e("compound_code", gen_compound())
    bn = c.e("batch_number", gen_batch())
    d.p("please find attached the current composition for %s. Batch %s has been released; the CoA follows separately. "
        "For questions call me on %s." % (cc, bn, c.e("phone_number", gen_phone(CC_OF.get(lang, "DE")))))
    if R.random() < 0.5:
        d.p("Note the salt form changed: free base is now %s, CAS %s." % (c.e("molecular_formula", gen_molformula()), c.e("cas_number", gen_cas())))
    att = Doc("att", lang)
    if R.random() < 0.5:
        att.delim = pick([",", ";"])
        j = att.delim
        rows = []
        for nm, qty, cas, eng in formulation_rows(c, lang if j == ";" else "en", joiner=j):
            rows.append([nm, qty])
        att.table(["Component", "Quantity"], rows)
        d.attachments.append(("composition_%s.csv" % ascii_slug(cc)[:8], att, "csv"))
    else:
        att.h("Composition – %s" % cc)
        rows = [[nm, qty] for nm, qty, cas, eng in formulation_rows(c, lang)]
        att.table(["Component", "Quantity"], rows, mono=True)
        att.p("Target weight: 250 mg. %s" % marker(c, lang))
        d.attachments.append(("composition.txt", att, "txt"))
    d.p("Best regards / Mit freundlichen Grüßen")
    d.p(c.e("person_name", full(a)))
    d.p("%s | %s" % (co, c.e("email_address", ea)))
    d.p("cc: %s" % c.e("email_address", eb))
    d.p(c.e("person_name", full(b)) + " (" + o + ")")
    disc = pick([("This e-mail and any attachments are confidential and intended solely for the addressee.", ["confidential"]),
                 ("Diese E-Mail enthält vertrauliche Informationen und ist ausschließlich für den Adressaten bestimmt.", ["vertrauliche"]),
                 ("Ce message et ses pièces jointes sont confidentiels.", ["confidentiels"])])
    d.footer = [c.e("confidentiality_marker", disc[0], alts=disc[1])]
    return d


def t_pv_mail(c, kind, lang):
    d = t_pv(c, "txt", "en")
    o, odom = our()
    s, r = person("en"), person()
    es, er = email_of(s, pick(["bayview-medical.org", "stmarys-hospital.nhs.uk"])), email_of(r, odom)
    d.mail = {"From": "%s <%s>" % (full(s), es), "To": "Drug Safety <drugsafety@%s>" % odom, "Subject": "SAE report – follow-up",
              "Date": "Wed, 15 May 2024 16:%02d:00 +0100" % R.randint(0, 59)}
    d.blocks.insert(0, ("p", "Forwarded by %s (%s) to drugsafety@%s" % (c.e("person_name", full(s)), c.e("email_address", es), odom)))
    c.e("email_address", "drugsafety@%s" % odom)
    return d


def t_helpdesk_mail(c, kind, lang):
    d = t_helpdesk(c, "txt", lang)
    o, odom = our()
    d.mail = {"From": "IT Service Desk <servicedesk@%s>" % odom, "To": "it-ops@%s" % odom, "Subject": "[Ticket] update"}
    d.blocks.insert(0, ("p", "Automated notification from servicedesk@%s – do not reply, write to it-ops@%s." % (odom, odom)))
    c.e("email_address", "servicedesk@%s" % odom)
    c.e("email_address", "it-ops@%s" % odom)
    if R.random() < 0.6:
        att = Doc("att", lang)
        att.delim = ","
        att.table(["timestamp", "src_ip", "user", "event"], [["2024-05-14T08:%02d:11Z" % R.randint(0, 59), c.e("ip_address", gen_ip(public=R.random() < 0.5)),
                                                            "lims_svc", "LOGIN_FAILED"] for _ in range(3)])
        d.attachments.append(("auth_log.csv", att, "csv"))
    return d


MRN_LBL = {"en": ["MRN", "Hospital no.", "Medical record no."], "de": ["Patientennummer", "Fall-/Patienten-Nr."], "fr": ["N° de dossier patient", "IPP"],
           "es": ["NHC", "N.º historia clínica"], "it": ["Cartella clinica n.", "N. nosologico"], "nl": ["Patiëntnummer", "Ziekenhuisnummer"]}
_uk_toggle = [0]


def t_samplereq(c, kind, lang, delim=","):
    d = Doc("Sample requisition", lang)
    d.delim = delim
    _uk_toggle[0] += 1
    uk = _uk_toggle[0] % 2 == 1
    hosp = pick(["St Aldhelm's University Hospital", "Klinikum Rheinpfalz", "Hôpital Saint-Vincent", "Hospital Universitario La Fe", "Ospedale San Gerardo"])
    d.h("Bioanalytical sample requisition – %s" % hosp)
    nct = c.e("nct_number", gen_nct())
    d.kv([("Protocol", nct), ("Central lab", "%s Bioanalytics" % our()[0]), ("Shipment", c.n("phone_number", phone_like_order()))], "colon")
    lg = "en" if uk else lang
    heads = [pick(["Patient", "Patient name", "Name"]), pick(MRN_LBL.get(lg, MRN_LBL["en"])), lab("dob", lg), pick(["Diagnosis (ICD-10)", "ICD-10", "Dx code"])]
    if uk:
        heads.append(pick(["NHS No.", "NHS number"]))
    heads += ["Sample ID", "Collected"]
    rows = []
    for k_ in range(R.randint(4, 7)):
        p = person("en" if uk else lang)
        r_ = [c.e("person_name", full(p, pick(["fl", "lf"]))), c.e("medical_record_number", gen_mrn()), c.e("date_of_birth", fmt_date(rand_dob(), lg, "num")),
              c.e("icd10_code", pick(ICD)[0])]
        if uk:
            r_.append(c.e("uk_nhs_number", gen_nhs()))
        sid = "S%02d-%05d" % (R.randint(22, 25), R.randint(1, 99999))
        r_ += [c.n("medical_record_number", sid) if k_ == 0 else sid, c.n("date_of_birth", fmt_date(rand_recent(), lg, "iso")) if k_ == 0 else fmt_date(rand_recent(), lg, "iso")]
        rows.append(r_)
    d.table(heads, rows)
    d.p("Samples shipped on dry ice (solid %s), data logger firmware %s." % (c.n("molecular_formula", "CO2"), c.n("ip_address", version4())))
    if kind == "xlsx":
        d.comment("Consent withdrawn for %s – destroy aliquots." % c.e("person_name", rows[-1][0], "comment"), "Lab manager")
    if kind == "pdf" and R.random() < 0.6:
        d.meta["subject"] = "Sample requisition %s" % c.e("nct_number", nct, "meta")
    return d


def t_visitor(c, kind, lang):
    d = Doc("Visitor access request", lang)
    o, _ = our()
    d.header = [o + " – Security", marker(c, lang, "hf")] if R.random() < 0.5 else [o + " – Site Security"]
    d.h(pick(["Visitor / auditor access request", "Besucheranmeldung", "Demande d'accès visiteur", "Solicitud de acceso de visitantes", "Richiesta accesso visitatori", "Aanvraag bezoekerstoegang"]))
    host = person(lang)
    d.kv([("Host", c.e("person_name", full(host))), (lab("phone", lang), c.e("phone_number", gen_phone(CC_OF[lang]))), ("Visit date", c.n("date_of_birth", fmt_date(rand_recent(), lang)))], "colon")
    rows = []
    for _ in range(R.randint(3, 4)):
        cc = pick(["US", "GB", "DE", "FR", "ES", "IT", "NL"])
        p = person({"US": "en", "GB": "en"}.get(cc, cc.lower()))
        co, dom = company()
        c.i("person_name", co)
        rows.append([c.e("person_name", full(p)), co, cc, c.e("passport_number", gen_passport(cc)), c.e("date_of_birth", fmt_date(rand_dob(), "en", "iso"))])
    d.table(["Visitor", "Company", "Nationality", lab("passport", lang), lab("dob", lang)], rows)
    d.p("Visitors must wear Grade C gowning; badge %s issued at reception." % c.n("us_npi", "BDG-%s" % digits(6)))
    if kind == "docx":
        d.comment("Passport copy for %s still missing." % c.e("person_name", rows[0][0], "comment"), "Security")
    if kind == "xlsx":
        d.meta["author"] = c.e("person_name", full(host), "meta")
    return d


# ============================================================ templates (clean)
def t_c_sop(c, kind, lang):
    d = Doc("SOP", lang)
    o, _ = our()
    sop = c.n("batch_number", "SOP-%s-%04d" % (pick(["QA", "PRD", "QC", "ENG"]), R.randint(1, 999)))
    d.header = [o, "%s – Version %d.0" % (sop, R.randint(1, 9))]
    d.footer = ["Classification: internal", "Printed copies are uncontrolled"]
    d.h(pick(["Cleaning of Granulation Suite", "Reinigung der Tablettierräume", "Nettoyage des isolateurs", "Limpieza de salas de granulación", "Gowning for Grade B areas"]))
    d.kv([("Document", sop)] + neg_dates(c, lang, 1) + [("Owner", pick(["Head of Production", "QA Operations", "Site Engineering"]))], "colon")
    d.h("1 Purpose")
    d.p("This procedure describes the cleaning of rooms K2.17 and K2.18 and associated equipment after each campaign.")
    c.n("icd10_code", "K2.17")
    d.h("2 Materials")
    d.p("Detergent (cat. no. %s), 70 %% IPA, WFI. Do not use %s-propelled sprays; dry ice (%s) blasting is not permitted. Stainless steel (Fe, Cr, Ni) surfaces only." % (
        c.n("compound_code", pick(["DET-2200", "CIP-100", "HEPA-H14"])), c.n("molecular_formula", "N2"), c.n("molecular_formula", "CO2")))
    d.h("3 Procedure")
    for i, s in enumerate(["Remove product residues with a dry vacuum.", "Wash with detergent solution (1 % v/v) at 45–55 °C.",
                           "Rinse with purified water until conductivity < 5 µS/cm.", "Verify visually clean; record in logbook LB-%03d." % R.randint(1, 300)]):
        d.p("3.%d %s" % (i + 1, s))
    d.table(["Step", "Responsible role", "Frequency"], [["Cleaning", "Production operator", "After each batch"], ["Verification", "QA on the floor", "Each campaign"],
                                                        ["Swab sampling", "QC microbiology", "Quarterly"]])
    return d


def t_c_calib(c, kind, lang, delim=","):
    d = Doc("Calibration schedule", lang)
    d.delim = delim
    d.h("Calibration schedule %d" % R.randint(2023, 2025))
    rows = []
    for _ in range(R.randint(6, 12)):
        rows.append(["EQ-%04d" % R.randint(1, 9999), pick(["Balance XPR205", "pH meter S220", "HPLC 1290", "Tablet tester 8M", "Temperature probe PT-100", "Karl Fischer titrator"]),
                     pick(["Lab 1.04", "Room B2.11", "Warehouse", "QC 0.12"]), c.n("ip_address", version4()) if R.random() < 0.5 else "n/a",
                     c.n("date_of_birth", fmt_date(rand_recent(), lang, "iso")), pick(["12 months", "6 months", "24 months"])])
    d.table(["Asset", "Description", "Location", "Firmware", "Next due", "Interval"], rows)
    return d


def t_c_price(c, kind, lang, delim=","):
    d = Doc("Price list", lang)
    d.delim = delim
    d.h(pick(["Price list – analytical services", "Preisliste Laborleistungen", "Tarifs des prestations analytiques"]))
    rows = []
    for s in ["Assay by HPLC", "Related substances", "Water content (KF)", "Dissolution (6 units)", "Microbial limits", "Endotoxin (LAL)", "Residual solvents GC",
              "Particle size (laser)", "XRPD", "Heavy metals ICP-MS"]:
        cat = pick([lambda: c.n("cas_number", bad_cas()), lambda: c.n("batch_number", "SV-%s-%s" % (digits(2), digits(4))), lambda: "%s%s" % (pick("AMPQ"), digits(4))])()
        rows.append([cat, s, dec(R.uniform(80, 950), lang, 2), pick(["5 days", "10 days", "3 days"])])
    d.table(["Cat. No.", "Service", "Price (EUR)", "Lead time"], rows)
    d.p("Prices valid from %s. Order hotline references such as %s are order numbers, not phone numbers." % (c.n("date_of_birth", fmt_date(rand_recent(), lang)), c.n("phone_number", phone_like_order())))
    return d


def t_c_training(c, kind, lang):
    d = Doc("Training matrix", lang)
    d.h("Training matrix by role")
    sops = ["SOP-QA-%04d" % R.randint(1, 999) for _ in range(5)]
    for s_ in sops:
        c.n("batch_number", s_)
    d.table(["Role"] + sops, [[r_] + [pick(["R", "I", "–"]) for _ in sops] for r_ in ["Operator", "Shift lead", "QC analyst", "QA specialist", "Warehouse clerk", "Engineer"]])
    d.p("R = read & understand, I = instructor-led. Matrix revision %s." % c.n("ip_address", version4()))
    return d


def t_c_em(c, kind, lang, delim=","):
    d = Doc("EM results", lang)
    d.delim = delim
    d.h("Environmental monitoring – %s" % pick(["Grade A/B filling line", "Grade C weighing", "Grade D corridor"]))
    rows = []
    for _ in range(R.randint(8, 14)):
        rows.append([c.n("date_of_birth", fmt_date(rand_recent(), lang, "num")) if R.random() < 0.3 else fmt_date(rand_recent(), lang, "iso"),
                     pick(["Room B2.11", "Room C1.04", "Line L4.3", "Panel F1.02"]), pick(["Settle plate", "Contact plate", "Active air"]),
                     str(R.randint(0, 3)), pick(["< 1", "< 5", "< 25"]), "OK"])
    rows[0][1] = "Line L4.3"
    c.n("icd10_code", "L4.3")
    d.table(["Date", "Location", "Method", "CFU", "Limit", "Status"], rows)
    return d


def t_c_itchange(c, kind, lang):
    d = Doc("IT change notice", lang)
    d.h("Change notice – %s upgrade" % pick(["Empower", "SAP", "TrackWise", "LabWare", "Historian"]))
    v1, v2 = c.n("ip_address", version4()), c.n("ip_address", version4())
    d.kv([("Current version", v1), ("Target version", v2), ("Window", "Saturday 22:00–02:00"), ("Change ID", c.n("phone_number", "CHG %s %s" % (digits(4), digits(4))))], "colon")
    d.p("Users must log out before the window. Passwords are not affected and must never be shared; password resets go through the self-service portal.")
    d.p("SNMP OID 1.3.6.1.4.1.2021 monitoring remains active. Build %s.%d is required for Windows clients." % (v2, R.randint(1000, 9999)))
    c.n("aws_access_key", "AKIAEXAMPLEKEY")
    d.p("Cloud credentials (e.g. keys beginning AKIAEXAMPLEKEY in the vendor guide) are never stored on lab PCs.")
    return d


def t_c_sustain(c, kind, lang):
    d = Doc("Sustainability update", lang)
    d.h(pick(["Site sustainability update", "Nachhaltigkeitsbericht – Kurzfassung", "Rapport développement durable"]))
    d.p("Scope 1 %s emissions fell by %d %% after the switch of the steam boiler to biomass. Water use per batch dropped to %d m3." % (c.n("molecular_formula", "CO2"), R.randint(5, 30), R.randint(3, 20)))
    d.p("Solvent recovery: ethanol and acetone are distilled on site; NOx and SO2 are below permit limits. Certified to ISO 14001 and %s." % c.n("compound_code", "ISO-50001"))
    d.table(["KPI", "2023", "2024"], [["Energy (MWh)", str(R.randint(9000, 20000)), str(R.randint(8000, 19000))], ["Waste recycled (%)", "61", "68"], ["CO2e (t)", str(R.randint(2000, 6000)), str(R.randint(1800, 5800))]])
    return d


def t_c_po(c, kind, lang, delim=";"):
    d = Doc("PO summary", lang)
    d.delim = delim
    d.h(pick(["Open purchase orders", "Offene Bestellungen", "Commandes ouvertes"]))
    rows = []
    for _ in range(R.randint(6, 10)):
        rows.append([c.n("phone_number", digits(10, True)) if R.random() < 0.5 else "45%s" % digits(8), pick(["Gloves nitrile M", "HEPA filter H14", "Vials 10R", "Stoppers 20 mm", "Alu foil 20 µm", "IPA 70 %"]),
                     str(R.randint(1, 500)), dec(R.uniform(50, 9000), lang, 2), fmt_date(rand_recent(), lang, "iso")])
    d.table(["PO", "Item", "Qty", "Value", "Delivery"], rows)
    return d


def t_c_notice(c, kind, lang):
    d = Doc("Site notice", lang)
    d.h(pick(["Site notice: annual shutdown", "Aviso: parada anual", "Avviso: fermo impianto", "Mededeling: jaarlijkse stop"]))
    d.p("The plant will shut down for maintenance from %s to %s. Compressed air, %s and %s supply will be interrupted." % (
        c.n("date_of_birth", fmt_date(rand_recent(), lang)), fmt_date(rand_recent(), lang), c.n("molecular_formula", "N2"), c.n("molecular_formula", "O2")))
    d.p("Contact the facility desk via the intranet. Badge readers will be updated to firmware %s." % c.n("ip_address", version4()))
    return d


def t_c_blankform(c, kind, lang):
    d = Doc(HR_TITLES[lang] + " (template)", lang)
    d.h(HR_TITLES[lang] + " – blank template")
    d.kv([(lab("name", lang), "________________"), (lab("dob", lang), "__ / __ / ____"), (lab("passport", lang), "________________"),
          (lab("iban", lang), "____ ____ ____ ____ ____"), (lab("phone", lang), "________________"), (lab("email", lang), "________________@________")])
    d.p("Example format only: IBAN %s (invalid check digits – for illustration)." % c.n("iban", bad_iban(CC_OF[lang])))
    if lang == "en":
        d.p("SSN format example: %s (not a valid number)." % c.n("us_ssn", bad_ssn()))
    return d


# ============================================================ plan & main
SENS = [  # (template, kinds, count)
    (t_bmr, ["docx", "pdf", "xlsx"], 6), (t_deviation, ["docx", "pdf", "txt"], 5), (t_coa, ["pdf", "docx", "xlsx"], 5),
    (t_supplier, ["docx", "xlsx", "pdf"], 5), (t_stability, ["docx", "pdf", "xlsx"], 5), (t_manifest, ["xlsx", "csv", "pdf"], 5),
    (t_pv, ["docx", "pdf", "txt"], 4), (t_pv_mail, ["eml"], 4), (t_hr, ["docx", "pdf", "txt"], 7), (t_payroll, ["csv", "xlsx"], 6),
    (t_techtransfer, ["docx", "pdf"], 5), (t_helpdesk, ["txt", "docx"], 4), (t_helpdesk_mail, ["eml"], 4), (t_partner_mail, ["eml"], 6),
    (t_cardrecon, ["xlsx", "csv"], 3), (t_sites, ["xlsx", "csv", "docx"], 4), (t_config, ["txt"], 6), (t_samplereq, ["xlsx", "csv", "pdf"], 5),
    (t_visitor, ["docx", "xlsx", "pdf"], 4),
]
CLEAN = [
    (t_c_sop, ["docx", "pdf", "txt"], 9), (t_c_calib, ["xlsx", "csv"], 6), (t_c_price, ["xlsx", "csv", "pdf"], 6), (t_c_training, ["xlsx", "docx"], 5),
    (t_c_em, ["csv", "xlsx"], 6), (t_c_itchange, ["txt", "docx", "pdf"], 7), (t_c_sustain, ["pdf", "docx"], 5), (t_c_po, ["csv", "xlsx"], 5),
    (t_c_notice, ["txt", "pdf", "docx"], 6), (t_c_blankform, ["docx", "pdf"], 5),
]
SLUG = {"t_bmr": "batch_record", "t_deviation": "deviation", "t_coa": "coa", "t_supplier": "supplier_questionnaire", "t_stability": "stability_summary",
        "t_manifest": "dtp_manifest", "t_pv": "case_narrative", "t_pv_mail": "sae_followup", "t_hr": "onboarding", "t_payroll": "payroll_export",
        "t_techtransfer": "tech_transfer", "t_helpdesk": "ticket", "t_helpdesk_mail": "ticket_notification", "t_partner_mail": "partner_mail",
        "t_cardrecon": "card_reconciliation", "t_sites": "site_list", "t_config": "deployment_notes", "t_c_sop": "sop", "t_c_calib": "calibration",
        "t_c_price": "price_list", "t_c_training": "training_matrix", "t_c_em": "em_results", "t_c_itchange": "change_notice",
        "t_c_sustain": "sustainability", "t_c_po": "open_po", "t_c_notice": "site_notice", "t_c_blankform": "blank_form", "t_samplereq": "sample_requisition", "t_visitor": "visitor_access"}


def build_plan():
    plan = []
    for fn, kinds, n in SENS + CLEAN:
        for k in range(n):
            kind = kinds[k % len(kinds)]
            lang = LANGS[(k + len(plan)) % 6] if fn not in (t_pv, t_pv_mail, t_config) else "en"
            plan.append((fn, kind, lang))
    R.shuffle(plan)
    return plan


def finalize(c, kind):
    ents, dropped, seen = [], 0, set()
    for e in c.ents:
        key = (e["type"], re.sub(r"[^0-9a-z]", "", e["value"].lower()), WHERE[kind][e["slot"]])
        if key in seen:
            continue
        seen.add(key)
        w = WHERE[kind][e["slot"]]
        if w is None:
            dropped += 1
            continue
        ent = {"category": CATEGORY[e["type"]], "type": e["type"], "value": e["value"], "where": w}
        if e["alts"]:
            ent["alts"] = e["alts"]
        ents.append(ent)
    return ents


def generate(outdir):
    os.makedirs(outdir, exist_ok=True)
    truth = []
    for idx, (fn, kind, lang) in enumerate(build_plan()):
        c = Ctx()
        delim = None
        if kind == "csv":
            delim = ";" if lang in ("de", "fr", "es", "it", "nl") and R.random() < 0.8 else ","
            doc = fn(c, kind, lang, delim) if "delim" in fn.__code__.co_varnames[:fn.__code__.co_argcount] else fn(c, kind, lang)
        else:
            doc = fn(c, kind, lang)
        name = "%03d_%s_%s.%s" % (idx, SLUG[fn.__name__], lang, kind)
        path = os.path.join(outdir, name)
        if kind == "docx":
            render_docx(doc, path)
        elif kind == "xlsx":
            render_xlsx(doc, path)
        elif kind == "pdf":
            render_pdf(doc, path)
        elif kind == "txt":
            with open(path, "w", encoding="utf-8", newline="\r\n" if R.random() < 0.3 else "\n") as fh:
                fh.write(render_text(doc))
        elif kind == "csv":
            data = render_csv(doc, delim)
            enc = "utf-8"
            if delim == ";":
                enc = pick(["utf-8-sig", "cp1252", "utf-8"])
                try:
                    data.encode(enc)
                except UnicodeEncodeError:
                    enc = "utf-8-sig"
            with open(path, "w", encoding=enc, newline="") as fh:
                fh.write(data)
        elif kind == "eml":
            render_eml(doc, path)
        ents = finalize(c, kind)
        cats = sorted({e["category"] for e in ents}, key=lambda x: -SEVERITY[x])
        truth.append({"file": name, "kind": kind, "family": "blind1", "entities": ents, "negatives": c.negs, "ignore": c.ign,
                      "expected_verdict": "sensitive" if ents else "clean", "expected_category": cats[0] if cats else None,
                      "categories": sorted(cats), "container": False, "depth": 0, "template": fn.__name__[2:], "lang": lang})
    with open(os.path.join(outdir, "truth.jsonl"), "w", encoding="utf-8") as fh:
        for t in truth:
            fh.write(json.dumps(t, ensure_ascii=False, sort_keys=True) + "\n")
    return truth


# ============================================================ verification
def extract(path, kind):
    """Returns {where: text} read back with independent libraries."""
    out = {}
    if kind == "docx":
        import docx
        d = docx.Document(path)
        body = []
        for blk in d.iter_inner_content():
            if hasattr(blk, "rows"):
                for row in blk.rows:
                    body.append("\t".join(cell.text for cell in row.cells))
            else:
                body.append(blk.text)
        out["body"] = "\n".join(body)
        hf = []
        for s in d.sections:
            for part in (s.header, s.footer):
                hf += [p.text for p in part.paragraphs]
        out["header_footer"] = "\n".join(hf)
        out["comment"] = "\n".join(cm.text for cm in d.comments)
        cp = d.core_properties
        out["core_property"] = "\n".join(str(x or "") for x in (cp.author, cp.title, cp.subject, cp.keywords, cp.comments, cp.last_modified_by))
    elif kind == "xlsx":
        import openpyxl
        wb = openpyxl.load_workbook(path)
        vis, hid, hf, cm = [], [], [], []
        for ws in wb.worksheets:
            tgt = hid if ws.sheet_state != "visible" else vis
            for row in ws.iter_rows():
                tgt.append("\t".join("" if c_.value is None else str(c_.value) for c_ in row))
                for c_ in row:
                    if c_.comment:
                        cm.append(c_.comment.text)
            for hdr in (ws.oddHeader, ws.oddFooter):
                for part in (hdr.left, hdr.center, hdr.right):
                    if part.text:
                        hf.append(part.text.replace("&&", "&"))
        out["body"], out["hidden_sheet"], out["header_footer"], out["cell_comment"] = "\n".join(vis), "\n".join(hid), "\n".join(hf), "\n".join(cm)
        p = wb.properties
        out["core_property"] = "\n".join(str(x or "") for x in (p.creator, p.title, p.subject, p.keywords))
    elif kind == "pdf":
        from pdfminer.high_level import extract_text
        from pdfminer.pdfparser import PDFParser
        from pdfminer.pdfdocument import PDFDocument
        txt = extract_text(path)
        out["body"] = out["header_footer"] = txt
        with open(path, "rb") as fh:
            info = PDFDocument(PDFParser(fh)).info
        vals = []
        for dct in info:
            for v in dct.values():
                if isinstance(v, bytes):
                    v = v.decode("utf-16") if v[:2] in (b"\xfe\xff", b"\xff\xfe") else v.decode("latin-1")
                vals.append(str(v))
        out["pdf_metadata"] = "\n".join(vals)
    elif kind in ("txt", "csv"):
        raw = open(path, "rb").read()
        for enc in ("utf-8-sig", "cp1252"):
            try:
                out["body"] = raw.decode(enc)
                break
            except UnicodeDecodeError:
                pass
    elif kind == "eml":
        import email
        m = email.message_from_bytes(open(path, "rb").read(), policy=policy.default)
        parts = ["%s: %s" % (k, m[k]) for k in ("From", "To", "Cc", "Subject") if m[k]]
        for part in m.walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
        out["body"] = "\n".join(parts)
    return out


def ws_norm(s):
    return re.sub(r"\s+", " ", s).strip()


def verify(outdir):
    from collections import Counter
    truth = [json.loads(l) for l in open(os.path.join(outdir, "truth.jsonl"), encoding="utf-8")]
    bad, loose, negmiss = [], 0, []
    per_type, per_where, kinds, verdicts = Counter(), Counter(), Counter(), Counter()
    for t in truth:
        kinds[t["kind"]] += 1
        verdicts[t["expected_verdict"]] += 1
        ex = extract(os.path.join(outdir, t["file"]), t["kind"])
        alltext = ws_norm("\n".join(ex.values()))
        for e in t["entities"]:
            per_type[e["type"]] += 1
            per_where[e["where"]] += 1
            place = ws_norm(ex.get(e["where"], ""))
            if ws_norm(e["value"]) not in place:
                bad.append((t["file"], e["type"], e["where"], e["value"][:60]))
        for n in t["negatives"]:
            if ws_norm(n["value"]) not in alltext:
                negmiss.append((t["file"], n["value"]))
        # sanity: checksums
        for e in t["entities"]:
            v = e["value"]
            if e["type"] == "credit_card":
                assert luhn_ok(v), v
            elif e["type"] == "iban":
                assert iban_mod(v.replace(" ", "")) == 1, v
            elif e["type"] == "us_npi":
                assert npi_ok(v), v
            elif e["type"] == "uk_nhs_number":
                assert nhs_ok(v), v
            elif e["type"] == "cas_number":
                assert cas_ok(v), v
            elif e["type"] == "aws_access_key":
                assert re.fullmatch(r"AKIA[A-Z0-9]{16}", v), v
            elif e["type"] == "nct_number":
                assert re.fullmatch(r"NCT\d{8}", v), v
        if t["expected_verdict"] == "clean":
            assert not re.search(r"[A-Za-z0-9]@[A-Za-z0-9]", alltext), t["file"]
    try:  # cross-check with python-stdnum where it exists (not used for generation)
        from stdnum import iban as s_iban, luhn as s_luhn, casrn as s_cas
        from stdnum.gb import nhs as s_nhs
        from stdnum.us import ssn as s_ssn
        xs = Counter()
        for t in truth:
            for e in t["entities"]:
                v, ty = e["value"], e["type"]
                ok = {"iban": lambda: s_iban.is_valid(v), "credit_card": lambda: s_luhn.is_valid(re.sub(r"\D", "", v)),
                      "cas_number": lambda: s_cas.is_valid(v), "uk_nhs_number": lambda: s_nhs.is_valid(v),
                      "us_ssn": lambda: s_ssn.is_valid(v), "us_npi": lambda: s_luhn.is_valid("80840" + v)}.get(ty)
                if ok:
                    xs[(ty, ok())] += 1
            for n in t["negatives"]:
                v, ty = n["value"], n["type_lookalike"]
                ok = {"iban": lambda: s_iban.is_valid(v), "credit_card": lambda: s_luhn.is_valid(re.sub(r"\D", "", v)),
                      "cas_number": lambda: s_cas.is_valid(v), "us_ssn": lambda: s_ssn.is_valid(v)}.get(ty)
                if ok:
                    xs[("NEG " + ty, ok())] += 1
        print("stdnum cross-check (type, valid):", dict(sorted(xs.items())))
    except ImportError:
        print("python-stdnum not available; cross-check skipped")
    print("files:", len(truth), dict(kinds), dict(verdicts))
    print("entities:", sum(per_type.values()), "negatives:", sum(len(t["negatives"]) for t in truth))
    print("per type:", dict(sorted(per_type.items())))
    print("per where:", dict(per_where))
    print("values NOT found in their place:", len(bad))
    for b in bad[:40]:
        print("   ", b)
    print("negatives not found:", len(negmiss), negmiss[:10])
    return not bad and not negmiss


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        sys.exit(0 if verify(sys.argv[2]) else 1)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    generate(sys.argv[1])
    print("wrote", sys.argv[1])
