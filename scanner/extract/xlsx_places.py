"""The places of a workbook beside its cells that a recipient sees by opening, hovering or
clicking: each read with the location Excel shows it at (sheet and cell, or sheet and what).

* in the worksheet part (handed over by the sheet reader as it streams the part):
  hyperlinks (target, in-workbook location, display text, tooltip), data validations
  (literal drop-down lists and other formulas, input prompts and error messages, also in
  the Excel 2010 ``x14:dataValidations`` extension), conditional-format formulas and texts,
  AutoFilter values, what-if scenarios, controls (names, alternative text, linked cells);
* in the parts a sheet relates to: tables (name, column headers, totals labels, calculated
  formulas), legacy VML drawings (form controls: captions, linked cells, list ranges, macros;
  and the text of comment shapes), form-control properties (``ctrlProps``: list items),
  chart caches (the numbers and literals a chart draws, beside the titles and category
  names the drawing reader gives);
* workbook-wide: the people of threaded comments, shared strings no cell uses (they travel
  with the file), and formulas stored without a cached value.

What Excel does not show (ids, styles, layout) is left to the package sweep's accounting.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from scanner.extract.base import Context
from scanner.extract.numfmt import NumberFormat, display
from scanner.extract.ooxml import Names, column_letters
from scanner.model import Event, Location
from scanner.ooxml.package import Package, Rel
from scanner.ooxml.xml import PARSER_OPTIONS, PROLOG_SCAN, check_prolog, local_name

X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
_VML_X = "urn:schemas-microsoft-com:office:excel"
_VML_V = "urn:schemas-microsoft-com:vml"
_CHARTEX = "http://schemas.microsoft.com/office/drawing/2014/chartex"

# Data-validation and conditional-format attributes and children with words in them, as
# (attribute or child local name, the name the location gives it).
_VALIDATION_ATTRS = ("promptTitle", "prompt", "errorTitle", "error")
_FORMULAS = ("formula1", "formula2")
# VML ClientData children that hold formulas or a caption a control shows (ECMA-376 Part 4, 19.3.2).
_VML_FORMULAS = ("FmlaLink", "FmlaRange", "FmlaMacro", "FmlaTxbx", "FmlaGroup", "FmlaPict")
_CTRL_ATTRS = ("fmlaLink", "fmlaRange", "fmlaTxbx", "fmlaMacro", "fmlaGroup", "altText", "text")

_LITERAL = re.compile(r'"((?:[^"]|"")*)"')
# A formula that is string literals joined by '&' only: its value needs no calculation.
_CONCAT_ONLY = re.compile(r'\s*"(?:[^"]|"")*"(?:\s*&\s*"(?:[^"]|"")*")*\s*')
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?)?")
_ORD_1899_12_30 = dt.date(1899, 12, 30).toordinal()
_ORD_1904 = dt.date(1904, 1, 1).toordinal()
_ORD_1900_03_01 = dt.date(1900, 3, 1).toordinal()
_CHUNK = 65536  # characters of unreferenced shared strings per segment


# --- cells ---------------------------------------------------------------------------------


def uncalculated_formula(formula: str) -> tuple[str, bool]:
    """(text, is it text) of a formula cell stored without a cached value.

    Excel would calculate it on opening; we do not calculate, so the formula as written is
    what exists ("=SUM(A1:A3)", ``="SSN 212-67-4431"``, ``=IF(A1,"x","y")``): a literal is
    readable there as it is, between quotes. A formula that only joins string literals
    (``="212-67"&"-4431"``) needs no calculation either: the text it shows follows the
    formula after a tab, so a value split across literals is read whole.
    """
    text = "=" + formula
    if "&" in formula and '"' in formula and _CONCAT_ONLY.fullmatch(formula):
        text += "\t" + "".join(m.replace('""', '"') for m in _LITERAL.findall(formula))
    return text, False


def iso_date_text(value: str, fmt: NumberFormat | None, date1904: bool) -> str:
    """A ``t="d"`` cell (an ISO 8601 date) as its number format shows it; as stored otherwise."""
    m = _ISO.fullmatch(value.strip().rstrip("Z"))
    if fmt is None or not fmt.is_date or m is None:
        return value
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3])).toordinal()
    except ValueError:
        return value
    if date1904:
        serial = day - _ORD_1904
    else:
        # Excel's 1900 system counts a 29 Feb 1900 that never was: dates before March are one less.
        serial = day - _ORD_1899_12_30 - (1 if day < _ORD_1900_03_01 else 0)
    seconds = int(m[4] or 0) * 3600 + int(m[5] or 0) * 60 + int(m[6] or 0) + float("0." + (m[7] or "0"))
    shown = display(repr(serial + seconds / 86400), fmt, date1904)
    return shown or value


# --- elements of the worksheet part -------------------------------------------------------


def sheet_element_tags(x: str) -> tuple[str, ...]:
    """The worksheet elements (after ``<sheetData>``) that ``sheet_element`` reads."""
    return (
        f"{{{x}}}hyperlinks",
        f"{{{x}}}dataValidations",
        f"{{{x}}}conditionalFormatting",
        f"{{{X14}}}dataValidations",
        f"{{{X14}}}conditionalFormatting",
        f"{{{x}}}autoFilter",
        f"{{{x}}}scenarios",
        f"{{{x}}}controls",
    )


def sheet_element(el: Any, ctx: Context, sheet: str, rels: dict[str, Rel], names: Names) -> Iterator[Event]:
    """The words of one of the ``sheet_element_tags`` elements, located at its cells."""
    local = local_name(el.tag)
    if local == "hyperlinks":
        yield from _hyperlinks(el, ctx, sheet, rels, names)
    elif local == "dataValidations":
        yield from _validations(el, ctx, sheet)
    elif local == "conditionalFormatting":
        yield from _conditional(el, ctx, sheet)
    elif local == "autoFilter":
        values = filter_values(el)
        if values:
            yield ctx.segment("\n".join(values), Location("filter", sheet=sheet, cell=el.get("ref")))
    elif local == "scenarios":
        yield from _scenarios(el, ctx, sheet)
    else:
        yield from _controls(el, ctx, sheet)


def filter_values(el: Any) -> list[str]:
    """The values an AutoFilter keeps (shown ticked in its drop-down) and its custom criteria."""
    out: list[str] = []
    for item in el.iter():
        if isinstance(item.tag, str) and local_name(item.tag) in ("filter", "customFilter"):
            text = (item.get("val") or "").strip()
            if text:
                out.append(text)
    return out


def _scenarios(el: Any, ctx: Context, sheet: str) -> Iterator[Event]:
    """What-if scenarios (Data > What-If Analysis > Scenario Manager): names, comments, values."""
    for scenario in el:
        if local_name(scenario.tag) != "scenario":
            continue
        lines = [v.strip() for v in (scenario.get(a) for a in ("name", "comment", "user")) if v and v.strip()]
        for cell in scenario:
            value = (cell.get("val") or "").strip()
            if value:
                lines.append(f"{cell.get('r') or '?'}: {value}")
        if lines:
            yield ctx.segment("\n".join(lines), Location("scenario", sheet=sheet, name=scenario.get("name")))


def _controls(el: Any, ctx: Context, sheet: str) -> Iterator[Event]:
    """Controls on a sheet: their names (the name box shows them), alternative text, linked cells.

    Excel writes each twice (``mc:Choice`` and ``mc:Fallback``, a copy with fewer
    details): the fallback copy is left out, and within one list a shape id is read once.
    """
    parent = el.getparent()
    holder = parent.getparent() if parent is not None and local_name(parent.tag) == "Fallback" else None
    if holder is not None and any(local_name(c.tag) == "Choice" for c in holder if isinstance(c.tag, str)):
        return
    done: set[str] = set()
    for control in el.iter():
        if not isinstance(control.tag, str) or local_name(control.tag) != "control":
            continue
        key = control.get("shapeId") or str(len(done))
        lines = [(control.get("name") or "").strip()]
        for pr in control:
            if local_name(pr.tag) == "controlPr":
                lines.extend((pr.get(a) or "").strip() for a in ("altText", "linkedCell", "listFillRange", "macro"))
        lines = [line for line in lines if line]
        if lines and key not in done:
            done.add(key)
            yield ctx.segment("\n".join(lines), Location("form_field", sheet=sheet, name=control.get("name")))


def _hyperlinks(el: Any, ctx: Context, sheet: str, rels: dict[str, Rel], names: Names) -> Iterator[Event]:
    for link in el:
        if local_name(link.tag) != "hyperlink":
            continue
        ref = link.get("ref")
        rel = rels.get(names.rid(link) or "")
        if rel is not None and rel.target.strip():
            yield ctx.segment(rel.target.strip(), Location("hyperlink", sheet=sheet, cell=ref, name="target"))
        for attr in ("location", "display", "tooltip"):
            text = (link.get(attr) or "").strip()
            if text:
                yield ctx.segment(text, Location("hyperlink", sheet=sheet, cell=ref, name=attr))


def _child_text(el: Any, local: str) -> str:
    """Text of a child (``formula1``) or, in the x14 form, of its ``xm:f``/``xm:sqref``."""
    for child in el:
        if local_name(child.tag) == local:
            if len(child):
                return "".join(child.itertext()).strip()
            return (child.text or "").strip()
    return ""


def _sqref(el: Any) -> str | None:
    return el.get("sqref") or _child_text(el, "sqref") or None


def _validations(el: Any, ctx: Context, sheet: str) -> Iterator[Event]:
    for dv in el:
        if local_name(dv.tag) != "dataValidation":
            continue
        ref = _sqref(dv)
        for attr in _VALIDATION_ATTRS:
            text = (dv.get(attr) or "").strip()
            if text:
                yield ctx.segment(text, Location("data_validation", sheet=sheet, cell=ref, name=attr))
        for local in _FORMULAS:
            formula = _child_text(dv, local)
            if not formula:
                continue
            if dv.get("type") == "list" and local == "formula1" and _CONCAT_ONLY.fullmatch(formula):
                # A literal drop-down list: the items as the list shows them, one per line.
                items = "".join(m.replace('""', '"') for m in _LITERAL.findall(formula)).split(",")
                yield ctx.segment(
                    "\n".join(i.strip() for i in items if i.strip()),
                    Location("data_validation", sheet=sheet, cell=ref, name="list"),
                )
            else:
                yield ctx.segment(formula, Location("data_validation", sheet=sheet, cell=ref, name=local))


def _conditional(el: Any, ctx: Context, sheet: str) -> Iterator[Event]:
    ref = _sqref(el)
    for rule in el:
        if local_name(rule.tag) != "cfRule":
            continue
        text = (rule.get("text") or "").strip()
        if text:
            yield ctx.segment(text, Location("conditional_format", sheet=sheet, cell=ref, name="text"))
        for child in rule:
            if local_name(child.tag) in ("formula", "f"):
                formula = (child.text or "").strip()
                if formula:
                    yield ctx.segment(formula, Location("conditional_format", sheet=sheet, cell=ref, name="formula"))


# --- parts a sheet relates to ----------------------------------------------------------------


def sheet_parts(pkg: Package, ctx: Context, part: str, sheet: str, x: str, comments: set[str]) -> Iterator[Event]:
    """Tables, VML drawings (form controls, comment shapes) and form-control properties of a sheet.

    ``comments``: the sheet's comment texts already given, so a comment shape repeating
    one is not given twice.
    """
    for target in pkg.related(part, "table"):
        yield from _table(pkg.xml(target), ctx, sheet, x, target)
    for target in pkg.related(part, "vmldrawing"):
        root = _lenient_xml(pkg, target)
        if root is not None:
            yield from _vml(root, ctx, sheet, target, comments)
    for target in pkg.related(part, "ctrlprop"):
        yield from _ctrl_props(pkg.xml(target), ctx, sheet, target)


def _table(root: Any, ctx: Context, sheet: str, x: str, part: str) -> Iterator[Event]:
    name = root.get("displayName") or root.get("name") or part
    lines = list(dict.fromkeys(v.strip() for v in (root.get("displayName"), root.get("name")) if v and v.strip()))
    col_tag = f"{{{x}}}tableColumn"
    for col in root.iter(col_tag):
        for attr in ("name", "totalsRowLabel"):
            text = (col.get(attr) or "").strip()
            if text:
                lines.append(text)
        for child in col:
            if local_name(child.tag) in ("calculatedColumnFormula", "totalsRowFormula") and (child.text or "").strip():
                lines.append(child.text.strip())
    comment = (root.get("comment") or "").strip()
    if comment:
        lines.append(comment)
    lines.extend(filter_values(root))
    if lines:
        yield ctx.segment("\n".join(lines), Location("table", sheet=sheet, cell=root.get("ref"), name=name))


def _lenient_xml(pkg: Package, name: str) -> Any | None:
    """A VML part: XML as Office writes it, which is not always well formed (``<br>``), so
    a part lxml rejects is read again in recovery mode. Entities are refused first either way."""
    data = pkg.read(name)
    check_prolog(data[:PROLOG_SCAN], name)
    try:
        return etree.fromstring(data, etree.XMLParser(**PARSER_OPTIONS))
    except etree.XMLSyntaxError:
        pass
    try:
        return etree.fromstring(data, etree.XMLParser(**{**PARSER_OPTIONS, "recover": True}))
    except etree.XMLSyntaxError:
        return None  # unreadable even so: the package sweep accounts for the part


def _vml(root: Any, ctx: Context, sheet: str, part: str, comments: set[str]) -> Iterator[Event]:
    data_tag, box_tag = f"{{{_VML_X}}}ClientData", f"{{{_VML_V}}}textbox"
    for shape in root.iter():
        if not isinstance(shape.tag, str) or local_name(shape.tag) not in ("shape", "rect", "roundrect"):
            continue
        client = shape.find(data_tag)
        kind = client.get("ObjectType") if client is not None else None
        box = shape.find(box_tag)
        caption = " ".join(" ".join(box.itertext()).split()) if box is not None else ""
        alt = (shape.get("alt") or "").strip()
        if kind == "Note":
            cell = _vml_cell(client)
            if caption and " ".join(caption.split()) not in comments:
                yield ctx.segment(caption, Location("cell_comment", sheet=sheet, cell=cell, name=part))
            continue
        lines = [t for t in (caption, alt) if t]
        if client is not None:
            for local in _VML_FORMULAS:
                for child in client.iterfind(f"{{{_VML_X}}}{local}"):
                    if (child.text or "").strip():
                        lines.append(child.text.strip())
        if lines:
            name = shape.get("id") or part
            yield ctx.segment("\n".join(lines), Location("form_field", sheet=sheet, name=f"{kind or 'shape'} {name}"))


def _vml_cell(client: Any) -> str | None:
    row, col = client.findtext(f"{{{_VML_X}}}Row"), client.findtext(f"{{{_VML_X}}}Column")
    if row and col and row.strip().isdigit() and col.strip().isdigit():
        return column_letters(int(col)) + str(int(row) + 1)
    return None


def _ctrl_props(root: Any, ctx: Context, sheet: str, part: str) -> Iterator[Event]:
    lines = [v.strip() for v in (root.get(a) for a in _CTRL_ATTRS) if v and v.strip()]
    for item in root.iter():
        if isinstance(item.tag, str) and local_name(item.tag) == "item" and (item.get("val") or "").strip():
            lines.append(item.get("val").strip())
    if lines:
        kind = root.get("objectType") or "control"
        yield ctx.segment("\n".join(lines), Location("form_field", sheet=sheet, name=f"{kind} {part}"))


# --- charts ------------------------------------------------------------------------------


def chart_caches(root: Any, names: Names, date1904: bool) -> list[str]:
    """The values a chart draws that are not its titles or category names (``drawing_paragraphs``
    gives those, ``c:strCache`` included): number caches as their format code shows them,
    string and number literals, literal series names, and the data of an Excel 2016 chart."""
    c = names.uris["c"]
    str_cache, c_v, c_pt, fmt_tag = f"{{{c}}}strCache", f"{{{c}}}v", f"{{{c}}}pt", f"{{{c}}}formatCode"
    out: list[str] = []
    formats: dict[str, NumberFormat] = {}
    for v in root.iter(c_v):
        text = (v.text or "").strip()
        if not text:
            continue
        pt = v.getparent()
        holder = pt.getparent() if pt is not None and pt.tag == c_pt else None
        if holder is not None and holder.tag == str_cache:
            continue  # given with the drawing's text
        if holder is not None and local_name(holder.tag) in ("numCache", "numLit"):
            code = pt.get("formatCode") or holder.findtext(fmt_tag) or "General"
            fmt = formats.get(code)
            if fmt is None:
                fmt = formats[code] = NumberFormat(code)
            text = display(text, fmt, date1904) or text
        out.append(text)
    for el in root.iter(f"{{{_CHARTEX}}}pt", f"{{{_CHARTEX}}}v"):
        text = (el.text or "").strip()
        if text:
            out.append(text)
    return out


# --- workbook-wide -----------------------------------------------------------------------


def persons(pkg: Package, ctx: Context, workbook: str) -> Iterator[Event]:
    """The people of threaded comments (shown with each comment), from the workbook's persons part."""
    for target in pkg.related(workbook, "person"):
        root = pkg.xml(target)
        people: list[str] = []
        for person in root.iter():
            if isinstance(person.tag, str) and local_name(person.tag) == "person":
                people.extend(v.strip() for v in (person.get("displayName"), person.get("userId")) if v and v.strip())
        if people:
            yield ctx.segment("\n".join(dict.fromkeys(people)), Location("cell_comment", name=target))


def unreferenced_strings(ctx: Context, strings: list[str], used: bytearray, part: str) -> Iterator[Event]:
    """Shared strings no cell of a read sheet uses: not on screen, but they leave with the file.

    Given in segments of up to ``_CHUNK`` characters, one string a line (named by the index
    of the first): a table of two million strings no cell uses (a known hostile shape) is
    then a few hundred segments, and the strings themselves can be freed once joined.
    """
    if 0 not in used:
        return
    bits: list[str] = []
    size = 0
    first = -1
    for index in range(len(strings)):
        if used[index]:
            continue
        text = strings[index]
        if not text.strip():
            continue
        if first < 0:
            first = index
        bits.append(text)
        size += len(text) + 1
        if size >= _CHUNK:
            yield ctx.segment("\n".join(bits), Location("unreferenced_string", name=f"{part} #{first}"))
            bits, size, first = [], 0, -1
    if bits:
        yield ctx.segment("\n".join(bits), Location("unreferenced_string", name=f"{part} #{first}"))
