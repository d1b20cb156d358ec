#!/usr/bin/env python3
"""Regenerate the demo files in resources/samples/ (synthetic data only).

Needs the dev extras (reportlab). The identifiers below are made up; SSN-shaped values
use ranges that validate but are not known to belong to anyone.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "resources" / "samples"


def roster_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Roster"
    ws.append(["Employee", "SSN", "Date of birth", "Department"])
    ws.append(["Maria Keller", "212-67-4431", "1984-03-12", "QC Microbiology"])
    ws.append(["Tomas Berg", "523-41-7788", "1979-11-02", "Aseptic Filling"])
    ws.append(["Aiko Tanaka", "401-22-9134", "1991-06-25", "Validation"])
    hidden = wb.create_sheet("Payroll")
    hidden.sheet_state = "hidden"
    hidden.append(["IBAN", "DE89 3704 0044 0532 0130 00"])
    wb.properties.title = "Q3 site roster"
    wb.save(path)


def formulation_docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "CONFIDENTIAL – Sponsor proprietary information"
    doc.add_heading("Formulation sheet – CX-4471 immediate-release tablet 50 mg", 1)
    doc.add_paragraph("Project Falcon, compound CX-4471. Batch 23A0147 manufactured at Site 2.")
    table = doc.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["Component", "CAS No.", "Function", "% w/w"], strict=True):
        cell.text = text
    for row in [
        ("CX-4471", "—", "API", "25.0"),
        ("Microcrystalline cellulose", "9004-34-6", "Filler", "58.5"),
        ("Croscarmellose sodium", "74811-65-7", "Disintegrant", "5.0"),
        ("Magnesium stearate", "557-04-0", "Lubricant", "1.5"),
    ]:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    doc.add_paragraph("Granulation endpoint: 2.5 kW power draw; dry to LOD ≤ 2.0 %.")
    doc.core_properties.title = "CX-4471 formulation"
    doc.save(path)


def coa_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in [
        "Certificate of Analysis",
        "Product: Sodium chloride 0.9 % w/v solution for infusion",
        "Test            Specification          Result",
        "Appearance      Clear, colourless     Complies",
        "pH              4.5 - 7.0              5.6",
        "Assay (NaCl)    95.0 - 105.0 %         99.4 %",
        "Released by QA on 2026-10-02.",
    ]:
        c.drawString(60, y, line)
        y -= 22
    c.setTitle("Certificate of Analysis")
    c.save()


def email_txt(path: Path) -> None:
    path.write_text(
        "From: it-support@example-cdmo.com\nTo: lims-admins@example-cdmo.com\nSubject: LIMS migration\n\n"
        "The new connection string is Server=db01;User Id=lims;Password=Sommer2024!x;\n"
        "Please do not forward.\n",
        encoding="utf-8",
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    roster_xlsx(OUT / "hr_roster_Q3.xlsx")
    formulation_docx(OUT / "formulation_sheet_CX-4471.docx")
    coa_pdf(OUT / "certificate_of_analysis_NaCl.pdf")
    email_txt(OUT / "lims_migration_email.txt")
    print(f"wrote samples to {OUT}")


if __name__ == "__main__":
    main()
