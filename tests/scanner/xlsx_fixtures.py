"""Tiny real workbooks for the XLSX tests: one sheet part written exactly as the test says.

Every value is synthetic; each builder writes to a path the test owns and returns it, so
the extractor reads back a real package.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

X = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def one_sheet_workbook(path: Path, sheet: str | bytes, shared: Sequence[str] = (), styles: str = "") -> Path:
    """A workbook whose only worksheet part is ``sheet``; shared strings and the inner XML
    of ``styles.xml`` (numFmts, cellXfs) only when given."""
    rels = [f'<Relationship Id="s1" Type="{R}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared:
        rels.append(f'<Relationship Id="ss" Type="{R}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles:
        rels.append(f'<Relationship Id="st" Type="{R}/styles" Target="styles.xml"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG}"><Relationship Id="r1" '
            f'Type="{R}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{X}" xmlns:r="{R}"><sheets><sheet name="S" sheetId="1" r:id="s1"/></sheets></workbook>',
        )
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared:
            z.writestr(
                "xl/sharedStrings.xml",
                f'<sst xmlns="{X}">' + "".join(f"<si><t>{s}</t></si>" for s in shared) + "</sst>",
            )
        if styles:
            z.writestr("xl/styles.xml", f'<styleSheet xmlns="{X}">{styles}</styleSheet>')
    return path
