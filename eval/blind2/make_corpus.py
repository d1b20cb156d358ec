#!/usr/bin/env python3
"""Blind corpus family "blind2" for the Clearance DLP scanner (CDMO paperwork).

    make_corpus.py OUTDIR            generate documents + OUTDIR/truth.jsonl
    make_corpus.py --verify OUTDIR   re-read every file and check every truth value
                                     (entities and negatives) occurs in its text

Independent of the project's patterns/tests. Deterministic (SEED).
"""
import csv
import email
import email.policy
import io
import json
import os
import random
import re
import string
import sys
from collections import Counter
from email.message import EmailMessage

SEED = 20240611
FAMILY = "blind2"
CATEGORY = {
    "us_ssn": "phi", "phone_number": "phi", "email_address": "phi", "date_of_birth": "phi",
    "medical_record_number": "phi", "icd10_code": "phi", "ip_address": "phi", "uk_nhs_number": "phi",
    "iban": "phi", "credit_card": "phi", "passport_number": "phi", "person_name": "phi",
    "cas_number": "formula", "molecular_formula": "formula", "formulation": "formula",
    "batch_number": "ip", "nct_number": "ip", "compound_code": "ip", "confidentiality_marker": "ip",
    "private_key": "secret", "aws_access_key": "secret", "password_assignment": "secret",
}
SEV = {"secret": 4, "phi": 3, "formula": 2, "ip": 1}

# ----------------------------------------------------------------- vocab
FIRST = {
    "en": ["Margaret", "Oliver", "Priya", "Daniel", "Hannah", "Marcus", "Siobhan", "Trevor", "Gwen", "Rahul"],
    "de": ["Jürgen", "Annegret", "Lukas", "Friederike", "Matthias", "Sabine", "Tobias", "Henrike", "Wolfgang", "Ute"],
    "fr": ["Amélie", "Thibault", "Séverine", "Gaëtan", "Hélène", "Laurent", "Océane", "Benoît", "Maëlle", "Yannick"],
    "es": ["Inmaculada", "Álvaro", "Rocío", "Iñigo", "Begoña", "Sergio", "Nerea", "Joaquín", "Lucía", "Ramón"],
    "it": ["Giuseppina", "Lorenzo", "Chiara", "Massimiliano", "Federica", "Davide", "Ilaria", "Raffaele", "Serena", "Tommaso"],
    "nl": ["Femke", "Joost", "Marieke", "Sjoerd", "Annelies", "Bram", "Lotte", "Wouter", "Ingrid", "Pieter"],
    "pt": ["Conceição", "João", "Margarida", "Gonçalo", "Inês", "Rui"],
    "pl": ["Małgorzata", "Krzysztof", "Agnieszka", "Łukasz", "Katarzyna", "Wojciech"],
}
LAST = {
    "en": ["Hargreaves", "Okonkwo", "Whitfield", "Ramanathan", "Pemberton", "Castellano", "McAllister", "Thornbury", "Ashworth", "Delacroix"],
    "de": ["Oberholzer", "Kästner", "Wiedemann", "Schöllhorn", "Brückner", "Hildebrandt", "Vogelsang", "Riedl", "Kronenberg", "Lämmle"],
    "fr": ["Lefèvre", "Marchand", "Dubreuil", "Chevalier", "Rousseau", "Garnier", "Lacombe", "Perrault", "Besnard", "Thibodeau"],
    "es": ["Etxeberria", "Villanueva", "Quintana", "Santamaría", "Olmedo", "Barrientos", "Castañeda", "Iglesias", "Zubiaurre", "Peñalver"],
    "it": ["Bianchetti", "Scognamiglio", "Marchetti", "Lo Presti", "Fabbri", "Galimberti", "Caruso", "Pellegrini", "Zanetti", "Moretti"],
    "nl": ["van der Heijden", "Bakker", "de Vries", "Verhoeven", "Jansen", "Kuipers", "van Leeuwen", "Mulder", "Dekker", "Hoekstra"],
    "pt": ["Figueiredo", "Carvalho", "Magalhães", "Rebelo", "Antunes", "Sequeira"],
    "pl": ["Wiśniewska", "Kowalczyk", "Zieliński", "Dąbrowska", "Lewandowski", "Szymańska"],
}
COMPANIES = ["Rheinwerk Pharma Services GmbH", "Lyon BioFabrication SAS", "Farmaquímica del Ebro S.L.",
             "Officina Farmaceutica Brianza S.p.A.", "Zuidkust Contract Manufacturing B.V.",
             "Thameside Sterile Fill Ltd", "Vistula Synthesis Sp. z o.o.", "Tejo Analítica Lda."]
COMPANY_PERSONLIKE = ["Johnson Matthey", "Eli Lilly", "Merck KGaA", "Boehringer Ingelheim", "Sigma-Aldrich",
                      "Carl Zeiss", "Hamilton Bonaduz", "Mettler Toledo", "Sartorius Stedim", "Thermo Fisher"]
EXCIPIENTS = ["Microcrystalline cellulose PH 101", "Lactose monohydrate 200M", "Croscarmellose sodium",
              "Magnesium stearate", "Hypromellose 2910 5 cP", "Povidone K30", "Colloidal anhydrous silica",
              "Sodium starch glycolate", "Mannitol 160C", "Polysorbate 80", "Sucrose", "Trehalose dihydrate",
              "Histidine hydrochloride", "Sodium chloride", "Dibasic calcium phosphate", "Talc",
              "Titanium dioxide", "Pregelatinised starch 1500", "Stearic acid", "Copovidone VA64"]
EXCIP_DE = ["Mikrokristalline Cellulose", "Lactose-Monohydrat", "Magnesiumstearat", "Povidon K30", "Mannitol"]
EXCIP_FR = ["Cellulose microcristalline", "Stéarate de magnésium", "Lactose monohydraté", "Amidon prégélatinisé"]
FORMULAS = ["C17H19NO3", "C9H8O4", "C13H18O2", "C8H9NO2", "C21H30O2", "C22H25N3O", "C16H13ClN2O",
            "C27H30N6O3S", "C19H21N5O2", "C14H22N2O3", "C23H27FN4O2", "C11H15NO2S", "C18H16F3NO4",
            "C30H32N6O5", "C12H17N3O4S"]
CAS_BASES = ["5078", "773218", "6417", "6764", "7509", "10999", "12144", "131073", "764701", "10888",
             "744005", "1685385", "11086", "6812", "6768", "14178", "7505", "12709", "5898", "105602",
             "584082", "77863", "7699", "13846", "5330"]
ICD = ["E11.9", "I10", "J45.909", "C50.911", "K21.0", "M54.5", "F32.1", "L40.0", "G43.109", "N18.3",
       "E78.5", "I48.91", "D50.9", "R51", "J18.9", "T78.40XA", "L20.9", "K50.90"]
STREETS = ["Industriestraße 14", "12 rue des Tanneurs", "Calle de Alcalá 201", "Via Roma 33",
           "Kanaalweg 7", "Unit 4, Riverside Park"]

L = {  # labels per language
    "name": {"en": "Name", "de": "Name", "fr": "Nom", "es": "Nombre", "it": "Nome", "nl": "Naam", "pt": "Nome", "pl": "Imię i nazwisko"},
    "dob": {"en": "Date of birth", "de": "Geburtsdatum", "fr": "Date de naissance", "es": "Fecha de nacimiento",
            "it": "Data di nascita", "nl": "Geboortedatum", "pt": "Data de nascimento", "pl": "Data urodzenia"},
    "phone": {"en": "Telephone", "de": "Telefon", "fr": "Téléphone", "es": "Teléfono", "it": "Telefono", "nl": "Telefoon", "pt": "Telefone", "pl": "Telefon"},
    "email": {"en": "E-mail", "de": "E-Mail", "fr": "Courriel", "es": "Correo electrónico", "it": "E-mail", "nl": "E-mail", "pt": "E-mail", "pl": "E-mail"},
    "batch": {"en": "Batch No.", "de": "Chargen-Nr.", "fr": "N° de lot", "es": "Nº de lote", "it": "N. lotto", "nl": "Partijnummer", "pt": "N.º de lote", "pl": "Nr serii"},
    "date": {"en": "Date", "de": "Datum", "fr": "Date", "es": "Fecha", "it": "Data", "nl": "Datum", "pt": "Data", "pl": "Data"},
    "approved": {"en": "Approved by", "de": "Freigegeben von", "fr": "Approuvé par", "es": "Aprobado por", "it": "Approvato da", "nl": "Goedgekeurd door", "pt": "Aprovado por", "pl": "Zatwierdził"},
    "product": {"en": "Product", "de": "Produkt", "fr": "Produit", "es": "Producto", "it": "Prodotto", "nl": "Product", "pt": "Produto", "pl": "Produkt"},
    "passport": {"en": "Passport No.", "de": "Reisepass-Nr.", "fr": "N° de passeport", "es": "Nº de pasaporte", "it": "N. passaporto", "nl": "Paspoortnummer", "pt": "N.º do passaporte", "pl": "Nr paszportu"},
    "conf": {"en": "STRICTLY CONFIDENTIAL", "de": "STRENG VERTRAULICH", "fr": "STRICTEMENT CONFIDENTIEL", "es": "ESTRICTAMENTE CONFIDENCIAL",
             "it": "STRETTAMENTE RISERVATO", "nl": "STRIKT VERTROUWELIJK", "pt": "ESTRITAMENTE CONFIDENCIAL", "pl": "ŚCIŚLE POUFNE"},
    "pw": {"en": "password", "de": "Passwort", "fr": "mot de passe", "es": "contraseña", "it": "password", "nl": "wachtwoord", "pt": "senha", "pl": "hasło"},
    "company": {"en": "Company", "de": "Firma", "fr": "Société", "es": "Empresa", "it": "Azienda", "nl": "Bedrijf", "pt": "Empresa", "pl": "Firma"},
    "visit": {"en": "Visitor log", "de": "Besucherbuch", "fr": "Registre des visiteurs", "es": "Registro de visitantes",
              "it": "Registro visitatori", "nl": "Bezoekersregister", "pt": "Registo de visitantes", "pl": "Rejestr odwiedzających"},
    "train": {"en": "Training record", "de": "Schulungsnachweis", "fr": "Attestation de formation", "es": "Registro de formación",
              "it": "Registro di formazione", "nl": "Trainingsregistratie", "pt": "Registo de formação", "pl": "Rejestr szkoleń"},
}
MONTHS = {"en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
          "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
          "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
          "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
          "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"],
          "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"]}


class G:
    """Value generators (valid ones and look-alikes)."""

    def __init__(self, rng):
        self.r = rng

    def lang_of(self, lang):
        return lang if lang in FIRST else "en"

    def person(self, lang=None):
        r = self.r
        lg = lang if lang in FIRST and r.random() < 0.7 else r.choice(list(FIRST))
        f, l = r.choice(FIRST[lg]), r.choice(LAST[lg])
        if r.random() < 0.15:
            return "%s, %s" % (l, f)
        if r.random() < 0.12:
            return "%s %s. %s" % (f, r.choice("ABCDEHJKMRS"), l)
        return "%s %s" % (f, l)

    def date(self, lang, y0=1940, y1=2003):
        r = self.r
        y, m, d = r.randint(y0, y1), r.randint(1, 12), r.randint(1, 28)
        st = r.random()
        if lang == "en" and st < 0.3:
            return "%s %d, %d" % (MONTHS["en"][m - 1], d, y)
        if lang in MONTHS and lang != "en" and st < 0.25:
            return "%d %s %d" % (d, MONTHS[lang][m - 1], y) if lang != "de" else "%d. %s %d" % (d, MONTHS[lang][m - 1], y)
        if st < 0.5:
            return "%04d-%02d-%02d" % (y, m, d)
        if lang == "en" and st < 0.7:
            return "%02d/%02d/%04d" % (m, d, y)
        sep = {"de": ".", "pl": ".", "nl": "-", "fr": "/", "es": "/", "it": "/", "pt": "/"}.get(lang, "/")
        return "%02d%s%02d%s%04d" % (d, sep, m, sep, y)

    def recent_date(self, lang):
        return self.date(lang, 2021, 2024)

    def ssn(self):
        r = self.r
        a = r.choice([x for x in range(1, 900) if x != 666])
        return "%03d-%02d-%04d" % (a, r.randint(1, 99), r.randint(1, 9999))

    def ssn_bad(self):
        r = self.r
        return r.choice(["000-%02d-%04d", "666-%02d-%04d", "9%02d-%02d-%04d"]).replace("9%02d", "9%02d" % r.randint(0, 99)) % (r.randint(1, 99), r.randint(1, 9999))

    def phone(self, lang):
        r = self.r
        d = lambda n: "".join(r.choice(string.digits) for _ in range(n))
        return {
            "en": lambda: r.choice(["+44 20 7946 %s" % d(4), "+1 (617) 555-%s" % d(4), "+1 919-555-%s" % d(4), "0161 496 %s" % d(4)]),
            "de": lambda: r.choice(["+49 621 %s %s" % (d(3), d(4)), "+49 (0)89 %s-%s" % (d(4), d(3)), "0711 %s %s" % (d(3), d(3))]),
            "fr": lambda: "+33 %d %s %s %s %s" % (r.randint(1, 5), d(2), d(2), d(2), d(2)),
            "es": lambda: r.choice(["+34 91 %s %s %s" % (d(3), d(2), d(2)), "+34 6%s %s %s" % (d(2), d(3), d(3))]),
            "it": lambda: r.choice(["+39 02 %s %s" % (d(4), d(4)), "+39 347 %s %s" % (d(3), d(4))]),
            "nl": lambda: r.choice(["+31 20 %s %s" % (d(3), d(4)), "+31 (0)6 %s %s" % (d(4), d(4))]),
            "pt": lambda: "+351 21 %s %s" % (d(3), d(4)),
            "pl": lambda: "+48 22 %s %s %s" % (d(3), d(2), d(2)),
        }.get(lang, lambda: "+44 20 7946 %s" % d(4))()

    def email(self, name):
        r = self.r
        import unicodedata
        base = unicodedata.normalize("NFKD", name.replace(",", "")).encode("ascii", "ignore").decode().lower()
        parts = [p for p in re.split(r"[^a-z]+", base) if p]
        local = r.choice([".".join([parts[0], parts[-1]]), parts[0][0] + parts[-1], parts[-1] + "_" + parts[0]])
        dom = r.choice(["rheinwerk-pharma.de", "lyonbiofab.fr", "farmaquimica-ebro.es", "ofb-brianza.it",
                        "zuidkust-cmo.nl", "thameside-sterile.co.uk", "vistula-synth.pl", "tejoanalitica.pt",
                        "gmail.com", "sponsor-biotech.com"])
        return "%s@%s" % (local, dom)

    def mrn(self):
        r = self.r
        return r.choice(["MRN%07d", "%08d", "H%07d", "PT-%06d"]) % r.randint(10 ** 5, 10 ** 6 * 9)

    def ip(self):
        r = self.r
        return r.choice(["10.%d.%d.%d", "192.168.%d.%d", "172.%d.%d.%d"]) % tuple(
            r.randint(16 if i == 0 else 1, 31 if i == 0 else 254) for i in range(3))[: None]  # noqa

    def ip_good(self):
        r = self.r
        c = r.choice(["10", "192.168", "172.%d" % r.randint(16, 31), "%d" % r.choice([62, 81, 145, 194, 212])])
        n = 4 - c.count(".") - 1
        return c + "." + ".".join(str(r.randint(1, 254)) for _ in range(n))

    def ip_bad(self):
        r = self.r
        return "%d.%d.%d.%d" % (r.randint(1, 20), r.randint(0, 40), r.randint(256, 999), r.randint(1, 300))

    IBAN_FMT = {"DE": "8n10n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n",
                "BE": "12n", "PT": "21n", "PL": "24n", "AT": "16n"}

    def iban(self, cc=None, valid=True, compact=False):
        r = self.r
        cc = cc or r.choice(list(self.IBAN_FMT))
        bban = ""
        for n, t in re.findall(r"(\d+)([nac])", self.IBAN_FMT[cc]):
            pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits}[t]
            if cc == "NL" and t == "a":
                bban += r.choice(["ABNA", "RABO", "INGB", "TRIO"])
                continue
            bban += "".join(r.choice(pool) for _ in range(int(n)))
        num = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
        chk = 98 - int(num) % 97
        if not valid:
            chk = (chk + r.randint(1, 9)) % 97 or 11
            if chk < 2:
                chk += 3
        s = "%s%02d%s" % (cc, chk, bban)
        return s if compact else " ".join(s[i:i + 4] for i in range(0, len(s), 4))

    @staticmethod
    def luhn_ok(digits):
        tot = 0
        for i, ch in enumerate(reversed(digits)):
            v = int(ch)
            if i % 2:
                v *= 2
                v -= 9 if v > 9 else 0
            tot += v
        return tot % 10 == 0

    def card(self, valid=True):
        r = self.r
        kind = r.choice(["visa", "mc", "amex"])
        pre, n = {"visa": ("4", 16), "mc": (str(r.randint(51, 55)), 16), "amex": (r.choice(["34", "37"]), 15)}[kind]
        body = pre + "".join(r.choice(string.digits) for _ in range(n - len(pre) - 1))
        for c in string.digits:
            if self.luhn_ok(body + c) == valid:
                body += c
                break
        if n == 15:
            return "%s %s %s" % (body[:4], body[4:10], body[10:])
        return r.choice([" ", "-"]).join(body[i:i + 4] for i in range(0, 16, 4))

    def passport(self, lang):
        r = self.r
        U = string.ascii_uppercase
        D = string.digits
        pick = lambda p, n: "".join(r.choice(p) for _ in range(n))
        return {"de": lambda: r.choice("CFGHJK") + pick("CFGHJKLMNPRTVWXYZ0123456789", 8),
                "fr": lambda: pick(D, 2) + pick(U, 2) + pick(D, 5),
                "it": lambda: pick(U, 2) + pick(D, 7),
                "es": lambda: pick(U, 3) + pick(D, 6),
                "nl": lambda: "N" + pick(U, 2) + pick(U + D, 5) + pick(D, 1),
                "pl": lambda: pick(U, 2) + pick(D, 7),
                "pt": lambda: pick(U, 1) + pick(D, 6),
                }.get(lang, lambda: pick(D, 9))()

    def nhs(self, valid=True):
        r = self.r
        while True:
            d = [r.randint(0, 9) for _ in range(9)]
            d[0] = r.randint(4, 7)
            s = sum(v * (10 - i) for i, v in enumerate(d))
            c = 11 - s % 11
            c = 0 if c == 11 else c
            if c == 10:
                continue
            if not valid:
                c = (c + r.randint(1, 8)) % 10
                s2 = c
                if 11 - sum(v * (10 - i) for i, v in enumerate(d)) % 11 in (s2, 11 if s2 == 0 else -1):
                    continue
            t = "".join(map(str, d)) + str(c)
            return r.choice(["%s %s %s" % (t[:3], t[3:6], t[6:]), t, "%s-%s-%s" % (t[:3], t[3:6], t[6:])])

    @staticmethod
    def cas_check(base):
        return sum(int(ch) * (i + 1) for i, ch in enumerate(reversed(base))) % 10

    def cas(self, valid=True):
        r = self.r
        base = r.choice(CAS_BASES) if r.random() < 0.6 else str(r.randint(100000, 9999999))
        c = self.cas_check(base)
        if not valid:
            c = (c + r.randint(1, 9)) % 10
        return "%s-%s-%d" % (base[:-2], base[-2:], c)

    def batch(self):
        r = self.r
        y = r.randint(21, 24)
        return r.choice(["%d%s%04d" % (y, r.choice("ABCDEFGHJK"), r.randint(1, 9999)),
                         "LT-%d%02d-%03d" % (y, r.randint(1, 12), r.randint(1, 999)),
                         "CH%d%05d" % (y, r.randint(1, 99999)),
                         "B%d-%s%03d" % (y, r.choice(["RW", "LY", "EB", "ZK"]), r.randint(1, 999)),
                         "P%06d" % r.randint(100000, 999999)])

    def compound(self):
        r = self.r
        return r.choice(["%s-%05d" % (r.choice(["RWP", "LYB", "FQE", "ZCM", "TSF"]), r.randint(1000, 99999)),
                         "%s%d" % (r.choice(["KX", "BLZ", "VT"]), r.randint(1000, 99999)),
                         "%s-%d-%02d" % (r.choice(["ONC", "IMM", "NEU"]), r.randint(100, 999), r.randint(1, 99))])

    def nct(self):
        return "NCT%08d" % self.r.randint(1000000, 6999999)

    def aws(self):
        return "AKIA" + "".join(self.r.choice(string.ascii_uppercase + "234567") for _ in range(16))

    def pw_value(self):
        r = self.r
        return r.choice(["Winter", "Reaktor", "Lyophil", "Cleanroom", "Tablet", "Granul"]) + \
            r.choice(["#", "!", "_", "$", "%"]) + str(r.randint(10, 9999)) + r.choice(["x", "Q", "zz", "!"])

    def private_key_block(self):
        r = self.r
        kind = r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
        b64 = string.ascii_letters + string.digits + "+/"
        lines = ["".join(r.choice(b64) for _ in range(64)) for _ in range(r.randint(3, 6))]
        begin = "-----BEGIN %s-----" % kind
        return begin, "\n".join([begin] + lines + ["-----END %s-----" % kind])

    def formulation(self, lang="en"):
        r = self.r
        if lang == "de" and r.random() < 0.6:
            name = r.choice(EXCIP_DE)
        elif lang == "fr" and r.random() < 0.6:
            name = r.choice(EXCIP_FR)
        else:
            name = r.choice(EXCIPIENTS)
        q = r.choice(["%.1f mg" % (r.randint(5, 3000) / 10), "%.2f %% w/w" % (r.randint(20, 6500) / 100),
                      "%.1f mg/tablet" % (r.randint(5, 2500) / 10), "%.2f mg/mL" % (r.randint(1, 900) / 100),
                      "%.3f kg" % (r.randint(100, 90000) / 1000), "%.1f g per batch" % (r.randint(100, 99999) / 10)])
        if lang in ("de", "fr", "it", "es", "nl", "pt", "pl") and r.random() < 0.5:
            q = q.replace(".", ",")
        return "%s %s" % (name, q)


class Doc:
    def __init__(self, name, kind, template, lang):
        self.name, self.kind, self.template, self.lang = name, kind, template, lang
        self.blocks = []          # ("h"|"p"|"kv"|"table"|"pre", ...)
        self.header = []
        self.footer = []
        self.comments = []        # (anchor_text, comment_text)
        self.core = {}            # author,title,subject,keywords,comments
        self.hidden = []          # (sheet_name, rows)
        self.notes = {}           # slide index -> text
        self.cell_comments = []   # (row_label, comment)
        self.annots = []
        self.pdfmeta = {}
        self.entities, self.negatives, self.ignore = [], [], []
        self.eml = {}

    def e(self, t, v, where="body"):
        self.entities.append({"category": CATEGORY[t], "type": t, "value": v, "where": where})
        return v

    def neg(self, t, v):
        self.negatives.append({"type_lookalike": t, "value": v})
        return v

    def ign(self, t, v):
        self.ignore.append({"type": t, "value": v})
        return v


# ----------------------------------------------------------------- templates
# Each template fills a Doc. `sens` = include sensitive entities; `boost` = list of
# extra types the quota manager wants planted.

def add_boost(d, g, boost, where_choices=("body",)):
    """Plant extra entities of requested types in a natural-looking 'additional info' block."""
    if not boost:
        return
    lg = d.lang
    rows = []
    for t in boost:
        w = g.r.choice(where_choices)
        v = plant_value(d, g, t, lg)
        if t == "private_key":
            begin, block = v
            d.e(t, begin, w if w in ("body",) else "body")
            d.blocks.append(("pre", "Deploy key for the data-historian bridge (rotate after audit):\n" + block))
            continue
        label = {"person_name": L["name"][lg], "date_of_birth": L["dob"][lg], "us_ssn": "SSN",
                 "phone_number": L["phone"][lg], "email_address": L["email"][lg], "medical_record_number": "MRN",
                 "icd10_code": "ICD-10", "ip_address": "Host IP", "iban": "IBAN", "credit_card": "Corporate card",
                 "passport_number": L["passport"][lg], "uk_nhs_number": "NHS number", "cas_number": "CAS RN",
                 "molecular_formula": "Formula", "formulation": "Composition", "batch_number": L["batch"][lg],
                 "compound_code": "Compound", "nct_number": "ClinicalTrials.gov", "aws_access_key": "aws_access_key_id",
                 "password_assignment": "", "confidentiality_marker": "Classification"}[t]
        if t == "password_assignment":
            d.e(t, v, w)
            target = d.footer if w == "header_footer" else None
            if target is not None:
                target.append(v)
            else:
                d.blocks.append(("p", "Service account for the balance interface: " + v))
            continue
        d.e(t, v, w if w != "header_footer" else "body")
        rows.append((label, v))
    if rows:
        d.blocks.append(("kv", rows))


def plant_value(d, g, t, lg):
    r = g.r
    if t == "person_name":
        return g.person(lg)
    if t == "date_of_birth":
        return g.date(lg)
    if t == "us_ssn":
        return g.ssn()
    if t == "phone_number":
        return g.phone(lg)
    if t == "email_address":
        return g.email(g.person(lg))
    if t == "medical_record_number":
        return g.mrn()
    if t == "icd10_code":
        return r.choice(ICD)
    if t == "ip_address":
        return g.ip_good()
    if t == "iban":
        return g.iban(compact=r.random() < 0.3)
    if t == "credit_card":
        return g.card()
    if t == "passport_number":
        return g.passport(lg)
    if t == "uk_nhs_number":
        return g.nhs()
    if t == "cas_number":
        return g.cas()
    if t == "molecular_formula":
        return r.choice(FORMULAS)
    if t == "formulation":
        return g.formulation(lg)
    if t == "batch_number":
        return g.batch()
    if t == "compound_code":
        return g.compound()
    if t == "nct_number":
        return g.nct()
    if t == "aws_access_key":
        return g.aws()
    if t == "password_assignment":
        return r.choice(["%s = %s", "%s: %s", "%s=%s"]) % (L["pw"][lg] if r.random() < 0.6 else r.choice(["pwd", "db_password", "PASSWORD"]), g.pw_value())
    if t == "private_key":
        return g.private_key_block()
    if t == "confidentiality_marker":
        return L["conf"][lg]
    raise KeyError(t)


def neg_common(d, g, n=2):
    """Hard negatives sprinkled into narrative."""
    r = g.r
    out = []
    for _ in range(n):
        k = r.choice(["cas", "formula", "ip", "ssn", "iban", "card", "nhs", "aws", "pw", "key", "phone", "code", "batchref", "date"])
        if k == "cas":
            v = d.neg("cas_number", g.cas(valid=False))
            out.append("Reference standard listed under %s was rejected at goods-in (number does not verify)." % v)
        elif k == "formula":
            v = d.neg("molecular_formula", r.choice(["CO2", "H2O", "N2", "Ti6Al4V", "O2", "Ar"]))
            out.append("Inerting with %s was confirmed before charging." % v)
        elif k == "ip":
            v = d.neg("ip_address", g.ip_bad())
            out.append("Controller firmware %s installed by the vendor." % v)
        elif k == "ssn":
            v = d.neg("us_ssn", g.ssn_bad())
            out.append("Placeholder ID %s must be replaced before submission." % v)
        elif k == "iban":
            v = d.neg("iban", g.iban(valid=False))
            out.append("Payment returned: account %s failed bank validation." % v)
        elif k == "card":
            v = d.neg("credit_card", g.card(valid=False))
            out.append("Equipment asset tag %s." % v)
        elif k == "nhs":
            v = d.neg("uk_nhs_number", g.nhs(valid=False))
            out.append("Work order %s closed." % v)
        elif k == "aws":
            v = d.neg("aws_access_key", r.choice(["AKIAIOSFODNN7EXAMPLE", "AKIA" + "X" * 12, "AKIA1234"]))
            out.append("Documentation example key %s (not a real credential)." % v)
        elif k == "pw":
            v = d.neg("password_assignment", r.choice(["password: see KeePass entry", "password reset required",
                                                       "Passwort: siehe Tresor", "password = <redacted>"]))
            out.append("Access note: %s." % v)
        elif k == "key":
            v = d.neg("private_key", r.choice(["-----BEGIN CERTIFICATE-----", "-----BEGIN PUBLIC KEY-----"]))
            out.append("The certificate chain (%s ...) was uploaded to the portal." % v)
        elif k == "phone":
            v = d.neg("phone_number", "%d-%03d-%04d" % (r.randint(1000, 9999), r.randint(0, 999), r.randint(0, 9999)))
            out.append("Catalogue part %s ordered." % v)
        elif k == "code":
            v = d.neg("compound_code", r.choice(["ISO-14644", "EN-285", "USP-797", "ICH-Q7", "HEPA-H14", "GAMP-5"]))
            out.append("Performed per %s." % v)
        elif k == "batchref":
            v = d.neg("batch_number", r.choice(["SOP-QA-%03d" % r.randint(1, 300), "Rev. %02d" % r.randint(1, 12), "WI-%04d" % r.randint(1, 9999)]))
            out.append("Document reference %s." % v)
        else:
            v = d.neg("date_of_birth", g.recent_date(d.lang))
            out.append("Next requalification due %s." % v)
    return out


def t_apqr(d, g, sens):
    r, lg = g.r, d.lang
    prod = r.choice(["Metoprolol succinate ER 95 mg", "Levetiracetam 500 mg film-coated tablets", "Ondansetron 4 mg/2 mL injection",
                     "Apixaban 5 mg tablets", "Pregabalin 150 mg capsules"])
    d.blocks.append(("h", {"de": "Jährliche Produktqualitätsüberprüfung", "fr": "Revue annuelle de la qualité produit",
                           "es": "Revisión anual de calidad del producto", "it": "Revisione annuale della qualità del prodotto",
                           "nl": "Jaarlijkse productkwaliteitsbeoordeling"}.get(lg, "Annual Product Quality Review") + " 2023"))
    d.blocks.append(("kv", [(L["product"][lg], prod), ("Review period", "01-Jan-2023 to 31-Dec-2023")]))
    rows = []
    for i in range(r.randint(4, 8)):
        b = d.e("batch_number", g.batch()) if sens else "%d" % (i + 1)
        rows.append([b, "%.1f %%" % r.uniform(97, 101.5), "%.2f %%" % r.uniform(0.05, 0.4), r.choice(["Released", "Released", "Rejected"])])
    d.blocks.append(("table", [L["batch"][lg] if sens else "Seq.", "Assay", "Total impurities", "Status"], rows))
    d.blocks.append(("p", "Trend of dissolution results remained within specification; %d deviations and %d change controls were closed in the period." % (r.randint(1, 9), r.randint(1, 6))))
    if sens:
        rev = d.e("person_name", g.person(lg))
        d.blocks.append(("p", "The review was compiled by %s and discussed at the quality council on %s." % (rev, g.recent_date(lg))))
        if r.random() < 0.6:
            d.header.append(d.e("confidentiality_marker", L["conf"][lg], "header_footer"))
        if r.random() < 0.5:
            d.core["author"] = d.e("person_name", g.person(lg), "core_property")
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_cleaning(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", {"de": "Reinigungsvalidierungsbericht", "fr": "Rapport de validation du nettoyage",
                           "es": "Informe de validación de limpieza", "it": "Rapporto di convalida della pulizia",
                           "nl": "Reinigingsvalidatierapport"}.get(lg, "Cleaning Validation Report")))
    eq = r.choice(["Fluid-bed granulator FBG-200", "Tablet press Fette 2090", "Reactor R-301 (Hastelloy)", "Blender IBC 600 L"])
    rows = [("Equipment", eq), ("Worst-case product", r.choice(["Active A (PDE 0.05 mg/day)", "Highly potent API, OEB 4"])),
            ("MACO", "%.2f mg/swab" % r.uniform(0.01, 2))]
    if sens:
        rows.append(("Previous product", d.e("compound_code", g.compound())))
        rows.append(("Residue tracked", d.e("molecular_formula", r.choice(FORMULAS))))
        rows.append(("Detergent CAS", d.e("cas_number", g.cas())))
    d.blocks.append(("kv", rows))
    swabs = []
    for i in range(r.randint(5, 9)):
        swabs.append(["S%02d" % (i + 1), r.choice(["Chute", "Punch face", "Impeller", "Outlet valve", "Lid gasket"]),
                      "%.3f" % r.uniform(0.001, 0.5), "Pass"])
    d.blocks.append(("table", ["Swab", "Location", "Result (µg/cm²)", "Outcome"], swabs))
    if sens:
        an = d.e("person_name", g.person(lg))
        d.blocks.append(("p", "Samples analysed by %s, reviewed on %s. Solvent blank used acetonitrile." % (an, g.recent_date(lg))))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_iqoq(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", r.choice(["IQ/OQ Protocol", "Performance Qualification (PQ) Protocol", "Installation Qualification"]) + " – " +
                     r.choice(["Lyophiliser LY-04", "Autoclave AC-2", "HPLC Agilent 1290", "Isolator ISO-7", "WFI loop"])))
    d.blocks.append(("p", "Objective: verify that the system is installed per design specification and operates within the defined ranges."))
    tests = [["OQ-%02d" % i, r.choice(["Alarm test", "Door interlock", "Temperature mapping", "Vacuum hold", "Audit trail review"]),
              r.choice(["Pass", "Pass", "Pass with comment"])] for i in range(1, r.randint(5, 9))]
    d.blocks.append(("table", ["Test", "Description", "Result"], tests))
    if sens:
        ipaddr = d.e("ip_address", g.ip_good())
        d.blocks.append(("kv", [("PLC network address", ipaddr), ("SCADA node", "HMI-%02d" % r.randint(1, 20))]))
        if r.random() < 0.6:
            pw = d.e("password_assignment", plant_value(d, g, "password_assignment", lg))
            d.blocks.append(("p", "Vendor service login used during OQ: " + pw))
        sig = [[d.e("person_name", g.person(lg)), role, g.recent_date(lg)] for role in ("Executed by", "Reviewed by")]
        d.blocks.append(("table", ["Name", "Role", "Date"], sig))
        if r.random() < 0.5:
            d.comments.append(("Objective", "Please confirm scope with " + d.e("person_name", g.person(lg), "comment")))
    for s in neg_common(d, g, 3):
        d.blocks.append(("p", s))


def t_label(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", "Clinical label proof – " + r.choice(["Kit label", "Carton", "Vial label", "Blister card"])))
    d.blocks.append(("p", {"de": "Nur zur klinischen Prüfung bestimmt.", "fr": "Réservé à l'essai clinique.",
                           "es": "Exclusivamente para ensayo clínico.", "it": "Solo per sperimentazione clinica.",
                           "nl": "Uitsluitend voor klinisch onderzoek."}.get(lg, "For clinical trial use only.")))
    rows = [("Storage", "Store at 2–8 °C"), ("Kit number", "%04d" % r.randint(1, 9999))]
    if sens:
        rows.insert(0, ("Protocol", d.e("nct_number", g.nct())))
        rows.append((L["batch"][lg], d.e("batch_number", g.batch())))
        rows.append(("Investigational product", d.e("compound_code", g.compound())))
    d.blocks.append(("kv", rows))
    if sens and r.random() < 0.6:
        d.blocks.append(("p", "Proof approved by %s (sponsor) – artwork v3." % d.e("person_name", g.person(lg))))
    for s in neg_common(d, g, 1):
        d.blocks.append(("p", s))


def t_excursion(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", "Temperature excursion report – shipment " + "SHP-%05d" % r.randint(1, 99999)))
    log = [["%02d:%02d" % (h, r.choice([0, 15, 30, 45])), "%.1f" % r.uniform(1.5, 11.8)] for h in range(0, 24, 3)]
    d.blocks.append(("table", ["Time", "Logger °C"], log))
    d.blocks.append(("p", "Maximum excursion %.1f °C for %d min; stability data support release." % (r.uniform(8.1, 12), r.randint(10, 180))))
    if sens:
        d.blocks.append(("kv", [("Courier contact", d.e("person_name", g.person(lg))),
                                (L["phone"][lg], d.e("phone_number", g.phone(lg))),
                                (L["email"][lg], d.e("email_address", g.email(g.person(lg)))),
                                (L["batch"][lg], d.e("batch_number", g.batch()))]))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_regletter(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", r.choice(["Response to Deficiency Letter", "Antwort auf Mängelschreiben", "Réponse à la lettre de questions",
                                    "Risposta alla richiesta di integrazione", "Respuesta al requerimiento"])))
    greet = {"de": "Sehr geehrte Damen und Herren,", "fr": "Madame, Monsieur,", "it": "Gentili Signori,", "es": "Estimados señores:"}.get(lg, "Dear Sir or Madam,")
    d.blocks.append(("p", greet))
    body = "Please find enclosed the updated Module 3.2.S.4.1 specification and the revised impurity justification."
    if sens:
        cc = d.e("compound_code", g.compound())
        mf = d.e("molecular_formula", r.choice(FORMULAS))
        body = ("With reference to %s (%s), please find enclosed the updated Module 3.2.S.4.1 specification. "
                "The clinical bridging data from %s are provided in Annex 2." % (cc, mf, d.e("nct_number", g.nct())))
    d.blocks.append(("p", body))
    if sens:
        who = d.e("person_name", g.person(lg))
        d.blocks.append(("p", "Yours faithfully,\n%s\nHead of Regulatory Affairs\n%s" % (who, d.e("phone_number", g.phone(lg)))))
        d.header.append(d.e("confidentiality_marker", r.choice([L["conf"][lg], "Confidential – Commercially Sensitive"]), "header_footer"))
    else:
        d.blocks.append(("p", "Regulatory Affairs Department"))
    for s in neg_common(d, g, 1):
        d.blocks.append(("p", s))


def t_complaint(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", "Complaint investigation CMP-%d-%03d" % (r.randint(2022, 2024), r.randint(1, 999))))
    d.blocks.append(("p", "Complaint category: %s. Root cause: %s." % (r.choice(["missing tablet", "cracked vial", "label smudge", "particulate"]),
                                                                   r.choice(["feeder jam", "capper torque drift", "printhead wear", "operator error"]))))
    if sens:
        pat = d.e("person_name", g.person(lg))
        d.blocks.append(("p", "Reporter %s (%s %s) described dizziness after intake; physician coded %s. Hospital record %s." % (
            pat, L["dob"][lg], d.e("date_of_birth", g.date(lg)), d.e("icd10_code", r.choice(ICD)),
            d.e("medical_record_number", g.mrn()))))
        d.blocks.append(("kv", [(L["batch"][lg], d.e("batch_number", g.batch())),
                                ("Investigator", d.e("person_name", g.person(lg)))]))
        if lg == "en" and r.random() < 0.6:
            d.blocks.append(("p", "UK patient NHS No. " + d.e("uk_nhs_number", g.nhs())))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_audit(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", r.choice(["Supplier audit report", "Internal GMP audit", "Auditbericht Lieferant", "Rapport d'audit fournisseur"])))
    obs = [["%d" % (i + 1), r.choice(["Major", "Minor", "Observation"]), r.choice([
        "Environmental monitoring trending not performed", "Logbook entries not contemporaneous",
        "Calibration overdue on balance", "Pest control map outdated", "Water system sampling gaps"])] for i in range(r.randint(3, 7))]
    d.blocks.append(("table", ["No.", "Classification", "Finding"], obs))
    if sens:
        aud = [d.e("person_name", g.person(lg)) for _ in range(2)]
        d.blocks.append(("p", "Audit team: %s (lead) and %s. Opening meeting held on %s." % (aud[0], aud[1], g.recent_date(lg))))
        if r.random() < 0.5:
            d.footer.append(d.e("confidentiality_marker", L["conf"][lg], "header_footer"))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_training(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", L["train"][lg] + " – " + r.choice(["Aseptic gowning", "GDP refresher", "Data integrity", "Cleanroom behaviour"])))
    rows = []
    for _ in range(r.randint(4, 8)):
        if sens:
            rows.append([d.e("person_name", g.person(lg)), "E%05d" % r.randint(1, 99999), g.recent_date(lg), r.choice(["passed", "passed", "retake"])])
        else:
            rows.append([r.choice(["Operator", "QC analyst", "Engineer", "Supervisor"]), "Group %s" % r.choice("ABCD"), g.recent_date(lg), "passed"])
    d.blocks.append(("table", [L["name"][lg] if sens else "Role", "ID", L["date"][lg], "Result"], rows))
    for s in neg_common(d, g, 1):
        d.blocks.append(("p", s))


def t_visitor(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", L["visit"][lg] + " – Gate 2"))
    rows = []
    for _ in range(r.randint(3, 7)):
        if sens:
            p = d.e("person_name", g.person(lg))
            row = [p, r.choice(COMPANY_PERSONLIKE), d.e("passport_number", g.passport(lg)) if r.random() < 0.5 else "badge",
                   d.e("phone_number", g.phone(lg)) if r.random() < 0.4 else "-"]
        else:
            row = ["Visitor %d" % r.randint(1, 99), r.choice(COMPANY_PERSONLIKE), "badge", "-"]
        d.ign("person_name", row[1])
        rows.append(row)
    d.blocks.append(("table", [L["name"][lg], L["company"][lg], L["passport"][lg], L["phone"][lg]], rows))
    d.blocks.append(("p", "All visitors escorted; safety briefing acknowledged."))


def t_notebook(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", "ELN transcription – page %d" % r.randint(10, 250)))
    if sens:
        cc = d.e("compound_code", g.compound())
        d.blocks.append(("p", "Exp. %s: charged %s (%.2f g) in THF at -%d °C, warmed to rt over %d h. Crude weight %.2f g, yield %d %%." % (
            cc, d.e("cas_number", g.cas()), r.uniform(1, 50), r.randint(5, 78), r.randint(1, 16), r.uniform(1, 40), r.randint(40, 96))))
        d.blocks.append(("p", "Product mass consistent with %s; purity by HPLC %.1f %%. Witnessed: %s" % (
            d.e("molecular_formula", r.choice(FORMULAS)), r.uniform(95, 99.9), d.e("person_name", g.person(lg)))))
    else:
        d.blocks.append(("p", "Buffer preparation: 0.1 M phosphate pH 6.8, filtered 0.45 µm. Balance check OK."))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_coa(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", {"de": "Analysenzertifikat", "fr": "Certificat d'analyse", "es": "Certificado de análisis",
                           "it": "Certificato di analisi", "nl": "Analysecertificaat", "pt": "Certificado de análise",
                           "pl": "Świadectwo analizy"}.get(lg, "Certificate of Analysis")))
    mat = r.choice(["Sodium chloride Ph. Eur.", "Magnesium stearate NF", "Ethanol 96 %", "Mannitol EP"])
    rows = [("Material", mat), ("Supplier", r.choice(COMPANIES))]
    if sens:
        rows.append(("CAS", d.e("cas_number", g.cas())))
        rows.append((L["batch"][lg], d.e("batch_number", g.batch())))
    d.blocks.append(("kv", rows))
    d.blocks.append(("table", ["Test", "Specification", "Result"], [["Appearance", "white powder", "complies"],
                                                                   ["Loss on drying", "≤ 0.5 %", "%.2f %%" % r.uniform(0.05, 0.4)],
                                                                   ["Assay", "98.0–102.0 %", "%.1f %%" % r.uniform(98.5, 101.5)]]))
    if sens and r.random() < 0.5:
        d.blocks.append(("p", "QC release: " + d.e("person_name", g.person(lg))))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_route(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", "Route of synthesis – step %d" % r.randint(1, 6)))
    if sens:
        cc = d.e("compound_code", g.compound())
        d.blocks.append(("p", "Intermediate %s (%s) is prepared by Suzuki coupling of the aryl bromide with the boronic ester "
                              "(Pd catalyst, CAS %s) in 2-MeTHF/water at %d °C. Isolated yield %d %%." % (
                                  cc, d.e("molecular_formula", r.choice(FORMULAS)), d.e("cas_number", g.cas()), r.randint(55, 85), r.randint(60, 94))))
        rows = [[d.e("formulation", g.formulation(lg)), "charge"] for _ in range(r.randint(2, 4))]
        d.blocks.append(("table", ["Reagent charge", "Note"], rows))
    else:
        d.blocks.append(("p", "Generic description: amide coupling with a carbodiimide, aqueous work-up, crystallisation from heptane."))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_po(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", {"de": "Bestellung", "fr": "Bon de commande", "es": "Orden de compra", "it": "Ordine d'acquisto",
                           "nl": "Inkooporder", "pt": "Nota de encomenda", "pl": "Zamówienie"}.get(lg, "Purchase Order") + " PO-%06d" % r.randint(1, 999999)))
    rows = [[r.choice(["Nitrile gloves", "Sterile filters 0.22 µm", "HPLC column C18", "Tyvek suits", "Single-use bags 50 L"]),
             str(r.randint(1, 500)), "%.2f EUR" % r.uniform(5, 900)] for _ in range(r.randint(3, 6))]
    d.blocks.append(("table", ["Item", "Qty", "Unit price"], rows))
    if sens:
        d.blocks.append(("kv", [("Vendor", r.choice(COMPANIES)), ("IBAN", d.e("iban", g.iban(compact=r.random() < 0.3))),
                                ("Buyer", d.e("person_name", g.person(lg)))]))
        if r.random() < 0.4:
            d.blocks.append(("p", "Expedite fee charged to card %s." % d.e("credit_card", g.card())))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


def t_formula_sheet(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", r.choice(["Unit formula", "Rezeptur", "Formule unitaire", "Fórmula cuali-cuantitativa", "Formula unitaria"])))
    if sens:
        for _ in range(r.randint(3, 5)):
            d.blocks.append(("p", d.e("formulation", g.formulation(lg))))
    else:
        d.blocks.append(("p", "Excipient grades comply with Ph. Eur.; quantities are held in the master batch record."))
    for s in neg_common(d, g, 1):
        d.blocks.append(("p", s))


def t_it(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", "LIMS / historian change ticket CHG-%05d" % r.randint(1, 99999)))
    d.blocks.append(("p", "Migration of the chromatography data system to the new virtual cluster; validation impact assessed."))
    if sens:
        d.blocks.append(("kv", [("Server", d.e("ip_address", g.ip_good())), ("aws_access_key_id", d.e("aws_access_key", g.aws()))]))
        d.blocks.append(("p", d.e("password_assignment", plant_value(d, g, "password_assignment", lg))))
    for s in neg_common(d, g, 3):
        d.blocks.append(("p", s))


def t_hr_travel(d, g, sens):
    r, lg = g.r, d.lang
    d.blocks.append(("h", r.choice(["Travel request – PAI inspection support", "Onboarding form", "Expense claim"])))
    if sens:
        p = d.e("person_name", g.person(lg))
        rows = [(L["name"][lg], p), (L["dob"][lg], d.e("date_of_birth", g.date(lg)))]
        if r.random() < 0.5:
            rows.append(("SSN", d.e("us_ssn", g.ssn())))
        if r.random() < 0.6:
            rows.append((L["passport"][lg], d.e("passport_number", g.passport(lg))))
        if r.random() < 0.5:
            rows.append(("IBAN", d.e("iban", g.iban())))
        d.blocks.append(("kv", rows))
    else:
        d.blocks.append(("p", "Travel policy: economy class for flights under six hours; per diem according to company table."))
    for s in neg_common(d, g, 2):
        d.blocks.append(("p", s))


TEMPLATES = {"apqr": t_apqr, "cleaning_validation": t_cleaning, "equipment_qualification": t_iqoq,
             "label_proof": t_label, "temp_excursion": t_excursion, "regulatory_letter": t_regletter,
             "complaint": t_complaint, "audit_report": t_audit, "training_record": t_training,
             "visitor_log": t_visitor, "lab_notebook": t_notebook, "supplier_coa": t_coa, "synthesis_route": t_route,
             "purchase_order": t_po, "unit_formula": t_formula_sheet, "it_change": t_it, "hr_travel": t_hr_travel}

# ----------------------------------------------------------------- rendering


def font_setup():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if os.path.exists(p):
            pdfmetrics.registerFont(TTFont("DV", p))
            pdfmetrics.registerFont(TTFont("DVB", p.replace("Sans.ttf", "Sans-Bold.ttf")))
            return "DV", "DVB"
    return "Helvetica", "Helvetica-Bold"


def kv_style(d):
    return hash((d.name, "kv")) % 3  # replaced by rng choice stored on doc


def blocks_to_lines(d):
    out = []
    for b in d.blocks:
        if b[0] in ("h", "p", "pre"):
            out.append(b[1])
        elif b[0] == "kv":
            for k, v in b[1]:
                if d.kvstyle == 1:
                    out.append(k)
                    out.append(v)
                else:
                    out.append("%s: %s" % (k, v))
        elif b[0] == "table":
            sep = " | " if d.kvstyle != 2 else "\t"
            out.append(sep.join(b[1]))
            for row in b[2]:
                out.append(sep.join(row))
        out.append("")
    return out


def render_txt(d, path):
    lines = d.header + [""] + blocks_to_lines(d) + d.footer
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def render_csv(d, path, delim):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=delim)
        for h in d.header:
            w.writerow([h])
        for b in d.blocks:
            if b[0] in ("h", "p", "pre"):
                w.writerow([b[1]])
            elif b[0] == "kv":
                for k, v in b[1]:
                    w.writerow([k, v])
            elif b[0] == "table":
                w.writerow(b[1])
                for row in b[2]:
                    w.writerow(row)
        for f in d.footer:
            w.writerow([f])


def render_docx(d, path):
    from docx import Document
    doc = Document()
    sec = doc.sections[0]
    for h in d.header:
        sec.header.paragraphs[0].text = (sec.header.paragraphs[0].text + "  " + h).strip()
    for f in d.footer:
        sec.footer.paragraphs[0].text = (sec.footer.paragraphs[0].text + "  " + f).strip()
    anchors = {}
    for b in d.blocks:
        if b[0] == "h":
            para = doc.add_heading(b[1], level=1)
        elif b[0] in ("p", "pre"):
            para = doc.add_paragraph()
            parts = b[1].split("\n")
            for i, part in enumerate(parts):
                run = para.add_run(part)
                if i < len(parts) - 1:
                    run.add_break()
        elif b[0] == "kv":
            if d.kvstyle == 2:
                t = doc.add_table(rows=0, cols=2)
                for k, v in b[1]:
                    c = t.add_row().cells
                    c[0].text, c[1].text = k, v
                continue
            for k, v in b[1]:
                if d.kvstyle == 1:
                    doc.add_paragraph(k).runs[0].bold = True
                    doc.add_paragraph(v)
                else:
                    p = doc.add_paragraph()
                    p.add_run(k + ": ").bold = True
                    p.add_run(v)
            continue
        elif b[0] == "table":
            t = doc.add_table(rows=1, cols=len(b[1]))
            for i, h in enumerate(b[1]):
                t.rows[0].cells[i].text = h
            for row in b[2]:
                c = t.add_row().cells
                for i, v in enumerate(row):
                    c[i].text = v
            continue
        for anc, txt in d.comments:
            if anc in b[1] and anc not in anchors and para.runs:
                doc.add_comment(para.runs, text=txt, author="QA reviewer", initials="QA")
                anchors[anc] = True
    for anc, txt in d.comments:  # unanchored comments
        if anc not in anchors:
            p = doc.add_paragraph("See review note.")
            doc.add_comment(p.runs, text=txt, author="QA reviewer", initials="QA")
    cp = doc.core_properties
    cp.author = d.core.get("author", "Document Control")
    cp.title = d.core.get("title", d.blocks[0][1] if d.blocks else "")
    if "subject" in d.core:
        cp.subject = d.core["subject"]
    if "keywords" in d.core:
        cp.keywords = d.core["keywords"]
    if "comments" in d.core:
        cp.comments = d.core["comments"]
    doc.save(path)


def render_xlsx(d, path):
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    wb = Workbook()
    ws = wb.active
    ws.title = "Report"
    if d.header:
        ws.oddHeader.center.text = " ".join(d.header)
    if d.footer:
        ws.oddFooter.center.text = " ".join(d.footer)
    row = 1
    for b in d.blocks:
        if b[0] in ("h", "p", "pre"):
            ws.cell(row=row, column=1, value=b[1])
            row += 1
        elif b[0] == "kv":
            if d.kvstyle == 1:  # header row with values underneath
                for i, (k, v) in enumerate(b[1]):
                    ws.cell(row=row, column=i + 1, value=k)
                    ws.cell(row=row + 1, column=i + 1, value=v)
                row += 2
            else:
                for k, v in b[1]:
                    ws.cell(row=row, column=1, value=k)
                    ws.cell(row=row, column=2, value=v)
                    row += 1
        elif b[0] == "table":
            for i, h in enumerate(b[1]):
                ws.cell(row=row, column=i + 1, value=h)
            row += 1
            for r_ in b[2]:
                for i, v in enumerate(r_):
                    ws.cell(row=row, column=i + 1, value=v)
                row += 1
        row += 1
    for i, (lab, txt) in enumerate(d.cell_comments):
        c = ws.cell(row=row + i, column=1, value=lab)
        c.comment = Comment(txt, "QA")
    for name, rows in d.hidden:
        hs = wb.create_sheet(name)
        for r_ in rows:
            hs.append(r_)
        hs.sheet_state = "hidden"
    wb.properties.creator = d.core.get("author", "Document Control")
    wb.properties.title = d.core.get("title", "")
    if "keywords" in d.core:
        wb.properties.keywords = d.core["keywords"]
    if "subject" in d.core:
        wb.properties.subject = d.core["subject"]
    if "comments" in d.core:
        wb.properties.description = d.core["comments"]
    wb.save(path)


def render_pptx(d, path):
    from pptx import Presentation
    from pptx.util import Inches, Pt
    prs = Presentation()
    slides = []
    cur = None
    for b in d.blocks:
        if b[0] == "h" or cur is None:
            s = prs.slides.add_slide(prs.slide_layouts[5])
            s.shapes.title.text = b[1] if b[0] == "h" else d.template
            slides.append(s)
            cur = s
            cur._y = 1.5
            if b[0] == "h":
                continue
        if b[0] in ("p", "pre", "kv"):
            text = b[1] if b[0] != "kv" else "\n".join("%s: %s" % kv for kv in b[1])
            tb = cur.shapes.add_textbox(Inches(0.5), Inches(cur._y), Inches(9), Inches(0.8))
            tf = tb.text_frame
            tf.word_wrap = True
            for i, line in enumerate(text.split("\n")):
                para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
                para.text = line
                para.font.size = Pt(11)
            cur._y += 0.4 + 0.25 * text.count("\n")
        elif b[0] == "table":
            nrows = len(b[2]) + 1
            shp = cur.shapes.add_table(nrows, len(b[1]), Inches(0.5), Inches(cur._y), Inches(9), Inches(0.3 * nrows))
            t = shp.table
            for i, h in enumerate(b[1]):
                t.cell(0, i).text = h
            for ri, r_ in enumerate(b[2]):
                for ci, v in enumerate(r_):
                    t.cell(ri + 1, ci).text = v
            cur._y += 0.3 * nrows + 0.2
        if cur._y > 6.5:
            cur = None
    merged = {}
    for idx, txt in sorted(d.notes.items()):
        j = min(idx, len(slides) - 1)
        merged[j] = (merged.get(j, "") + " " + txt).strip()
    for j, txt in merged.items():
        slides[j].notes_slide.notes_text_frame.text = txt
    for h in d.header + d.footer:  # footer-like text box on first slide
        s = slides[0]
        tb = s.shapes.add_textbox(Inches(0.3), Inches(7.0), Inches(9), Inches(0.3))
        tb.text_frame.text = h
    prs.core_properties.author = d.core.get("author", "Document Control")
    prs.core_properties.title = d.core.get("title", "")
    if "keywords" in d.core:
        prs.core_properties.keywords = d.core["keywords"]
    if "subject" in d.core:
        prs.core_properties.subject = d.core["subject"]
    if "comments" in d.core:
        prs.core_properties.comments = d.core["comments"]
    prs.save(path)


def render_pdf(d, path, fonts):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, Preformatted
    from xml.sax.saxutils import escape
    fn, fb = fonts
    body = ParagraphStyle("b", fontName=fn, fontSize=9.5, leading=12)
    head = ParagraphStyle("h", fontName=fb, fontSize=13, leading=16, spaceAfter=6)
    mono = ParagraphStyle("m", fontName="Courier", fontSize=7, leading=8.5)
    story = []
    for b in d.blocks:
        if b[0] == "h":
            story.append(Paragraph(escape(b[1]), head))
        elif b[0] == "p":
            story.append(Paragraph(escape(b[1]).replace("\n", "<br/>"), body))
        elif b[0] == "pre":
            story.append(Preformatted(b[1], mono))
        elif b[0] == "kv":
            if d.kvstyle == 1:
                for k, v in b[1]:
                    story.append(Paragraph("<b>%s</b>" % escape(k), body))
                    story.append(Paragraph(escape(v), body))
            else:
                story.append(Table([[Paragraph(escape(k), body), Paragraph(escape(v), body)] for k, v in b[1]], colWidths=[140, 330]))
        elif b[0] == "table":
            n = len(b[1])
            data = [[Paragraph(escape(c), body) for c in b[1]]] + [[Paragraph(escape(c), body) for c in r_] for r_ in b[2]]
            story.append(Table(data, colWidths=[470.0 / n] * n))
        story.append(Spacer(1, 6))

    def deco(canv, doc_):
        canv.saveState()
        canv.setFont(fn, 8)
        if d.header:
            canv.drawString(40, A4[1] - 30, "  ".join(d.header))
        if d.footer:
            canv.drawString(40, 25, "  ".join(d.footer))
        if doc_.page == 1:
            for i, a in enumerate(d.annots):
                canv.textAnnotation(a, Rect=(400, 700 - 40 * i, 560, 730 - 40 * i))
        canv.restoreState()

    doc = SimpleDocTemplate(path, pagesize=A4, title=d.pdfmeta.get("title", d.blocks[0][1] if d.blocks else ""),
                            author=d.pdfmeta.get("author", "Document Control"), subject=d.pdfmeta.get("subject", ""),
                            keywords=d.pdfmeta.get("keywords", ""), topMargin=50, bottomMargin=45)
    doc.build(story, onFirstPage=deco, onLaterPages=deco)


def render_eml(d, path):
    r = d._rng
    msg = EmailMessage()
    msg["From"] = d.eml.get("from", "QA Mailbox <qa-mailbox@rheinwerk-pharma.de>")
    msg["To"] = d.eml.get("to", "Sponsor Team <sponsor-team@sponsor-biotech.com>")
    msg["Subject"] = d.blocks[0][1] if d.blocks and d.blocks[0][0] == "h" else d.template
    msg["Date"] = "Tue, %02d Apr 2024 %02d:%02d:00 +0200" % (r.randint(1, 28), r.randint(7, 18), r.randint(0, 59))
    msg["Message-ID"] = "<%d.%s@mail.local>" % (r.randint(10 ** 8, 10 ** 9), d.template)
    body = "\n".join(d.header + blocks_to_lines(d)[2:] + d.footer)
    msg.set_content(body)
    if d.eml.get("attach"):
        msg.add_attachment(d.eml["attach"].encode("utf-8"), maintype="text", subtype="plain", filename="details.txt")
    with open(path, "wb") as fh:
        fh.write(bytes(msg))


# ----------------------------------------------------------------- hidden places


def add_hidden(d, g, types):
    """Move/plant some entities into kind-specific hidden places."""
    r, lg = g.r, d.lang
    k = d.kind
    for t in types:
        v = plant_value(d, g, t, lg)
        if t == "private_key":
            continue
        if k == "docx":
            place = r.choice(["header_footer", "comment", "core_property"])
        elif k == "xlsx":
            place = r.choice(["hidden_sheet", "cell_comment", "core_property", "header_footer"])
        elif k == "pptx":
            place = r.choice(["notes", "notes", "core_property"])
        elif k == "pdf":
            place = r.choice(["header_footer", "pdf_annotation", "pdf_metadata"])
        elif k == "eml":
            place = "body"
        else:
            place = "body"
        if t in ("person_name",) and place == "core_property":
            d.core["author"] = d.e(t, v, place)
            continue
        if place == "core_property" and k == "pptx":
            place = "notes"
        label = {"date_of_birth": L["dob"][lg], "phone_number": L["phone"][lg], "email_address": L["email"][lg]}.get(t, t.replace("_", " "))
        line = "%s %s" % (label, v) if t not in ("password_assignment", "confidentiality_marker", "formulation") else v
        if place == "header_footer":
            (d.footer if r.random() < 0.5 else d.header).append(line)
        elif place == "comment":
            d.comments.append(("__none__%d" % len(d.comments), "Reviewer note: " + line))
        elif place == "core_property":
            key = r.choice(["keywords", "subject", "comments"])
            d.core[key] = (d.core.get(key, "") + " " + line).strip()
        elif place == "hidden_sheet":
            d.hidden.append(("_ref%d" % len(d.hidden), [["field", "value"], [label, v]]))
        elif place == "cell_comment":
            d.cell_comments.append(("note", "Check: " + line))
        elif place == "notes":
            ni = r.randint(0, 2)
            d.notes[ni] = (d.notes.get(ni, "") + " Speaker note: " + line).strip()
        elif place == "pdf_annotation":
            d.annots.append("Sticky note: " + line)
        elif place == "pdf_metadata":
            key = r.choice(["subject", "keywords"])
            d.pdfmeta[key] = (d.pdfmeta.get(key, "") + " " + line).strip()
            if t == "person_name" and r.random() < 0.5:
                d.pdfmeta["author"] = v
                d.e(t, v, place)
                continue
        else:
            d.blocks.append(("p", line))
        d.e(t, v, place)


def finalize(d):
    """Make every planted place renderable for this file kind; re-label `where` accordingly."""
    k = d.kind
    remap = {}
    if k in ("txt", "csv", "eml"):
        for key, v in d.core.items():
            d.blocks.append(("p", "%s: %s" % ({"author": "Prepared by"}.get(key, key.capitalize()), v)))
        d.core = {}
        for _, txt in d.comments:
            d.blocks.append(("p", "Note: " + txt))
        d.comments = []
        remap = {"core_property": "body", "comment": "body", "header_footer": "body"}
    elif k == "pdf":
        for key, v in d.core.items():
            key = key if key in ("author", "subject", "keywords") else "subject"
            d.pdfmeta[key] = (d.pdfmeta.get(key, "") + " " + v).strip() if key != "author" else v
        d.core = {}
        d.annots += [txt for _, txt in d.comments]
        d.comments = []
        remap = {"core_property": "pdf_metadata", "comment": "pdf_annotation"}
    elif k == "xlsx":
        d.cell_comments += [("review", txt) for _, txt in d.comments]
        d.comments = []
        remap = {"comment": "cell_comment"}
    elif k == "pptx":
        for i, (_, txt) in enumerate(d.comments):
            d.notes[i] = (d.notes.get(i, "") + " " + txt).strip()
        d.comments = []
        remap = {"comment": "notes", "header_footer": "body"}
    for e in d.entities:
        e["where"] = remap.get(e["where"], e["where"])


# ----------------------------------------------------------------- driver

KIND_PLAN = ["docx"] * 24 + ["xlsx"] * 22 + ["pdf"] * 22 + ["pptx"] * 14 + ["csv"] * 8 + ["csv;"] * 6 + ["txt"] * 12 + ["eml"] * 12
LANGS = ["en"] * 10 + ["de"] * 5 + ["fr"] * 4 + ["es"] * 3 + ["it"] * 3 + ["nl"] * 3 + ["pt", "pl"]
QUOTA = {t: 12 for t in CATEGORY}
QUOTA.update({"person_name": 45, "formulation": 28, "date_of_birth": 28})


def generate(outdir):
    rng = random.Random(SEED)
    g = G(rng)
    fonts = font_setup()
    os.makedirs(outdir, exist_ok=True)
    kinds = KIND_PLAN[:]
    rng.shuffle(kinds)
    n = len(kinds)
    clean_idx = set(rng.sample(range(n), int(n * 0.4)))
    docs = []
    counts = Counter()
    tnames = list(TEMPLATES)
    for i, kind in enumerate(kinds):
        real_kind = "csv" if kind.startswith("csv") else kind
        tmpl = tnames[i % len(tnames)] if rng.random() < 0.7 else rng.choice(tnames)
        if real_kind == "csv" and tmpl in ("regulatory_letter", "unit_formula"):
            tmpl = rng.choice(["training_record", "visitor_log", "purchase_order", "apqr", "temp_excursion"])
        lang = rng.choice(LANGS)
        if lang == "pl" and real_kind == "pdf":
            lang = "pl"  # DejaVu handles Polish glyphs
        ext = {"csv": "csv", "csv;": "csv"}.get(kind, kind)
        name = "%03d_%s_%s.%s" % (i, tmpl, lang, ext)
        d = Doc(name, real_kind, tmpl, lang)
        d._rng = rng
        d.kvstyle = rng.randint(0, 2)
        d.delim = ";" if kind == "csv;" else ","
        sens = i not in clean_idx
        TEMPLATES[tmpl](d, g, sens)
        if sens:
            # quota manager: plant the most-needed types
            need = sorted(QUOTA, key=lambda t: (counts[t] + sum(1 for e in d.entities if e["type"] == t)) - QUOTA[t] + rng.random() * 3)
            k = rng.randint(1, 4)
            boost = [t for t in need[:k] if counts[t] < QUOTA[t]]
            hid_ok = real_kind in ("docx", "xlsx", "pptx", "pdf")
            if hid_ok and rng.random() < 0.55:
                hid = [t for t in boost if t not in ("private_key",)][:2]
                boost = [t for t in boost if t not in hid]
                add_hidden(d, g, hid)
            add_boost(d, g, boost)
            if hid_ok and rng.random() < 0.6:
                add_hidden(d, g, rng.sample(["person_name", "date_of_birth", "email_address", "phone_number",
                                             "password_assignment", "confidentiality_marker", "formulation",
                                             "iban", "compound_code", "nct_number", "aws_access_key"], rng.randint(1, 2)))
            if real_kind == "eml":
                fr = g.person(lang)
                em = g.email(fr)
                d.eml["from"] = "%s <%s>" % (fr, em)
                d.e("person_name", fr, "email_header")
                d.e("email_address", em, "email_header")
                if rng.random() < 0.5:
                    extra = ["%s: %s" % (L["dob"][lang], d.e("date_of_birth", g.date(lang), "attachment")),
                             d.e("formulation", g.formulation(lang), "attachment")]
                    d.eml["attach"] = "\n".join(extra) + "\n"
        else:
            if real_kind == "eml":
                d.eml["from"] = "Quality Systems <quality.systems@rheinwerk-pharma.de>"
            if real_kind in ("docx", "xlsx", "pptx", "pdf") and rng.random() < 0.3:
                d.header.append(d.neg("confidentiality_marker", rng.choice(["Classification: Public", "Internal distribution: none required",
                                                                             "Öffentlich", "Document public"])))
        # language-neutral common look-alike: a non-birth date
        if real_kind == "pptx" and sens and rng.random() < 0.4:
            d.notes[0] = (d.notes.get(0, "") + " Reminder: " + d.e("confidentiality_marker", L["conf"][lang], "notes")).strip()
        if real_kind == "eml":  # functional mailboxes in headers: not personal data
            for who, addr in (("QA Mailbox", "qa-mailbox@rheinwerk-pharma.de"), ("Sponsor Team", "sponsor-team@sponsor-biotech.com"),
                              ("Quality Systems", "quality.systems@rheinwerk-pharma.de")):
                d.ign("email_address", addr)
                d.ign("person_name", who)
        for c in COMPANIES:
            if any(c in str(b) for b in d.blocks):
                d.ign("person_name", c)
        finalize(d)
        for e in d.entities:
            counts[e["type"]] += 1
        path = os.path.join(outdir, name)
        if real_kind == "txt":
            render_txt(d, path)
        elif real_kind == "csv":
            render_csv(d, path, d.delim)
        elif real_kind == "docx":
            render_docx(d, path)
        elif real_kind == "xlsx":
            render_xlsx(d, path)
        elif real_kind == "pptx":
            render_pptx(d, path)
        elif real_kind == "pdf":
            render_pdf(d, path, fonts)
        elif real_kind == "eml":
            render_eml(d, path)
        docs.append(d)
    with open(os.path.join(outdir, "truth.jsonl"), "w", encoding="utf-8") as fh:
        for d in docs:
            cats = sorted({e["category"] for e in d.entities}, key=lambda c: -SEV[c])
            line = {"file": d.name, "kind": d.kind, "family": FAMILY, "entities": d.entities, "negatives": d.negatives,
                    "ignore": d.ignore, "expected_verdict": "sensitive" if d.entities else "clean",
                    "expected_category": cats[0] if cats else None, "categories": cats, "container": False,
                    "depth": 0, "template": d.template + ("+hidden" if any(e["where"] != "body" for e in d.entities) else "")}
            fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    return docs


# ----------------------------------------------------------------- verification


def extract(path, kind):
    parts = []
    if kind in ("txt", "csv"):
        parts.append(open(path, encoding="utf-8").read())
    elif kind == "docx":
        from docx import Document
        doc = Document(path)
        body = doc.element.body
        parts.append(" ".join(t.text or "" for t in body.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t")))
        for s in doc.sections:
            for hf in (s.header, s.footer):
                parts.extend(p.text for p in hf.paragraphs)
        try:
            for c in doc.comments:
                parts.append(c.text)
        except Exception:
            pass
        cp = doc.core_properties
        parts += [cp.author or "", cp.title or "", cp.subject or "", cp.keywords or "", cp.comments or ""]
    elif kind == "xlsx":
        from openpyxl import load_workbook
        wb = load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                parts.append(" ".join(str(c.value) for c in row if c.value is not None))
                parts.extend(c.comment.text for c in row if c.comment)
            parts += [ws.oddHeader.center.text or "", ws.oddFooter.center.text or ""]
        p = wb.properties
        parts += [p.creator or "", p.title or "", p.subject or "", p.keywords or "", p.description or ""]
    elif kind == "pptx":
        from pptx import Presentation
        prs = Presentation(path)
        for s in prs.slides:
            for shp in s.shapes:
                if shp.has_text_frame:
                    parts.append(shp.text_frame.text)
                if shp.has_table:
                    for row in shp.table.rows:
                        parts.append(" ".join(c.text for c in row.cells))
            if s.has_notes_slide:
                parts.append(s.notes_slide.notes_text_frame.text)
        cp = prs.core_properties
        parts += [cp.author or "", cp.title or "", cp.keywords or "", cp.subject or "", cp.comments or ""]
    elif kind == "pdf":
        from pdfminer.high_level import extract_text
        from pdfminer.pdfparser import PDFParser
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdftypes import resolve1
        parts.append(extract_text(path))
        with open(path, "rb") as fh:
            doc = PDFDocument(PDFParser(fh))
            for info in doc.info:
                for v in info.values():
                    v = resolve1(v)
                    if isinstance(v, bytes):
                        v = v.decode("utf-16") if v[:2] == b"\xfe\xff" else v.decode("latin-1")
                    parts.append(str(v))
            for page in PDFPage.create_pages(doc):
                for a in resolve1(page.annots) or []:
                    a = resolve1(a)
                    c = resolve1(a.get("Contents"))
                    if isinstance(c, bytes):
                        c = c.decode("utf-16") if c[:2] == b"\xfe\xff" else c.decode("latin-1")
                    if c:
                        parts.append(str(c))
    elif kind == "eml":
        msg = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
        for h in ("From", "To", "Cc", "Subject"):
            if msg[h]:
                parts.append(str(msg[h]))
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
    return re.sub(r"\s+", " ", " ".join(parts))


def verify(outdir):
    bad = 0
    lines = [json.loads(l) for l in open(os.path.join(outdir, "truth.jsonl"), encoding="utf-8")]
    for l in lines:
        text = extract(os.path.join(outdir, l["file"]), l["kind"])
        for e in l["entities"] + [{"type": n["type_lookalike"], "value": n["value"], "neg": 1} for n in l["negatives"]]:
            v = re.sub(r"\s+", " ", e["value"]).strip()
            if v not in text:
                bad += 1
                print("MISSING %s %s %r%s" % (l["file"], e["type"], v, " (negative)" if e.get("neg") else ""))
        if (l["expected_verdict"] == "sensitive") != bool(l["entities"]):
            bad += 1
            print("VERDICT MISMATCH", l["file"])
    print("verified %d files, %d problems" % (len(lines), bad))
    return bad


def summary(outdir):
    lines = [json.loads(l) for l in open(os.path.join(outdir, "truth.jsonl"), encoding="utf-8")]
    t, w, k, v, ng = Counter(), Counter(), Counter(), Counter(), Counter()
    for l in lines:
        k[l["kind"]] += 1
        v[l["expected_verdict"]] += 1
        for e in l["entities"]:
            t[e["type"]] += 1
            w[e["where"]] += 1
        for n in l["negatives"]:
            ng[n["type_lookalike"]] += 1
    print("types:", dict(sorted(t.items())))
    print("where:", dict(w))
    print("kinds:", dict(k), "verdicts:", dict(v))
    print("negatives:", sum(ng.values()), dict(sorted(ng.items())))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        summary(sys.argv[2])
        sys.exit(1 if verify(sys.argv[2]) else 0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    generate(sys.argv[1])
    summary(sys.argv[1])
