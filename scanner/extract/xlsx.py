"""Excel (XLSX/XLSM/XLTX) text: every non-empty cell as the user sees it, hidden sheets,
cell comments, print headers/footers, defined names, text boxes, properties, embeddings;
the other places a recipient sees (sheet names, hyperlinks, data validations, conditional
formats, tables, form controls, chart caches, unused shared strings) are read by
``xlsx_places``.

Worksheets and the shared-string table are streamed, so a million-row sheet costs
constant memory and the sheet's declared dimension (which a hostile file sets to
A1:XFD1048576) is never trusted or used. The shared strings are read with iterparse and
cleared item by item. A worksheet's rows are read by ``sheet_xml.SheetRows``: rows in
the plain shape Excel, LibreOffice and openpyxl write are taken with compiled patterns
straight from the inflated text, and everything else in the part (rows with rich text,
comments or unusual attributes, the elements around ``<sheetData>`` such as the
header/footer) goes to an incremental lxml parser with the same safe settings, so a
malformed part still fails as damaged. A part that is not plain UTF-8 in the sheet's
default namespace is read whole with iterparse, which is also the reference the fast
path is tested against (``FAST_SHEETS = False``); both feed one cell loop.

A cell's text is its *displayed* value, as ``numfmt`` renders it under the cell's
number format (with the stored value after a tab when the format hides digits).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.numfmt import BUILTIN_FORMATS, NumberFormat, display, display_general
from scanner.extract.ooxml import (
    Names,
    column_letters,
    drawing_paragraphs,
    expect_root,
    extract_package,
    iterparse,
    release,
    unescape_xstring,
)
from scanner.extract.sheet_xml import Cell, SheetRows, SheetXMLError
from scanner.extract.xlsx_places import (
    chart_caches,
    iso_date_text,
    persons,
    sheet_element,
    sheet_element_tags,
    sheet_parts,
    uncalculated_formula,
    unreferenced_strings,
)
from scanner.model import Event, Location, Segment
from scanner.ooxml.package import Package
from scanner.ooxml.xml import local_name

# Worksheets are read by ``SheetRows`` (patterns for the usual rows, lxml for the rest);
# False reads every row with lxml's iterparse, the reference the tests compare it with.
FAST_SHEETS = True


def extract_xlsx(src: Source, ctx: Context) -> Iterator[Event]:
    return extract_package(
        src,
        ctx,
        "XLSX",
        "xl/workbook.xml",
        "xl/embeddings/",
        lambda pkg, c, main: _Workbook(pkg, c, main).events(),
        "unsupported format: Excel binary workbook (.xlsb)",
    )


_DIGITS = "0123456789"
_MAX_LABEL_CHARS = 200  # of a header or row label carried as a cell's context
_HEADER_SEARCH_ROWS = 20  # the column headers are looked for in this many non-empty rows
# A stored integer of up to this many digits shows in General exactly as stored (a float
# holds it exactly), so it needs no formatting.
_PLAIN_INTEGER_DIGITS = 15
_UNKNOWN_TYPE = "?"  # an explicit t="" in a cell tuple, where '' means "no t="
_HF_CODES = re.compile(r'&&|&"[^"]*"|&K[0-9A-Fa-f]{6}|&K\d\d[+-]\d{3}|&\d+|&[LCR]|&[A-Za-z]')


def _strip_header_codes(text: str) -> str:
    """'&L&"Arial,Bold"SSN&C&P of &N' -> 'SSN   of': Excel's header/footer field codes removed."""

    def repl(m: re.Match[str]) -> str:
        code = m.group(0)
        if code == "&&":
            return "&"
        return " " if code in ("&L", "&C", "&R") else ""

    return re.sub(r"[ \t]{2,}", " ", _HF_CODES.sub(repl, text)).strip()


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


class _Workbook:
    def __init__(self, pkg: Package, ctx: Context, main: str) -> None:
        self.pkg = pkg
        self.ctx = ctx
        self.main = main
        self.date1904 = False
        self.formats: dict[str, NumberFormat] = {}  # cell style index (as written) -> format
        self.strings: list[str] = []
        self.strings_part = ""
        # One flag per shared string: set when a cell shows it. The rest travel with the
        # file unseen and are given at the end (``unreferenced_strings``).
        self.used = bytearray()
        self.general = NumberFormat("General")

    def events(self) -> Iterator[Event]:
        pkg = self.pkg
        wb = pkg.xml(self.main)
        expect_root(wb, "workbook", self.main, "XLSX")
        self.names = names = Names.for_root(wb.tag, "x")
        x = names.uris["x"]
        pr = wb.find(f"{{{x}}}workbookPr")
        if pr is not None and (pr.get("date1904") or "").lower() in ("1", "true"):
            self.date1904 = True
        rels = pkg.rel_map(self.main)
        self._load_styles([r.target for r in rels.values() if r.kind == "styles" and pkg.has(r.target)])
        self._load_strings([r.target for r in rels.values() if r.kind == "sharedstrings" and pkg.has(r.target)])

        sheet_names: list[str] = []
        states: list[str] = []
        for sheet in wb.iter(f"{{{x}}}sheet"):
            name = sheet.get("name") or "?"
            sheet_names.append(name)
            state = (sheet.get("state") or "visible").lower()
            part = "hidden_sheet" if state in ("hidden", "veryhidden") else "sheet"
            states.append(sheet.get("state") or "visible")
            rel = rels.get(names.rid(sheet) or "")
            if rel is None or rel.external:
                continue
            if not pkg.has(rel.target):
                raise Unscannable(f"damaged or truncated XLSX (the part of sheet {name!r} is missing)")
            if rel.kind in ("worksheet", "xlmacrosheet", "xlintlmacrosheet", "dialogsheet"):
                yield from self._sheet(rel.target, name, part)
            if rel.kind in ("xlmacrosheet", "xlintlmacrosheet"):
                yield from self._macro_formulas(rel.target, name)
            yield from self._sheet_extras(rel.target, name, part)
        for name, state in zip(sheet_names, states, strict=True):
            # A sheet's name is on its tab (a hidden one's in Unhide, a very hidden one's in VBA).
            yield self.ctx.segment(name, Location("sheet_name", sheet=name, name=state))
        yield from self._defined_names(wb, sheet_names)
        yield from persons(pkg, self.ctx, self.main)
        strings, self.strings = self.strings, []  # freed as soon as the last is given (a big table)
        yield from unreferenced_strings(self.ctx, strings, self.used, self.strings_part)

    # -- styles and strings -------------------------------------------------------------
    def _load_styles(self, parts: list[str]) -> None:
        if not parts:
            return
        root = self.pkg.xml(parts[0])
        x = self.names.uris["x"]
        custom: dict[int, str] = {}
        for fmt in root.iter(f"{{{x}}}numFmt"):
            try:
                custom[int(fmt.get("numFmtId") or "")] = fmt.get("formatCode") or "General"
            except ValueError:
                continue
        xfs = root.find(f"{{{x}}}cellXfs")
        if xfs is None:
            return
        compiled: dict[int, NumberFormat] = {}
        for index, xf in enumerate(xfs.iterfind(f"{{{x}}}xf")):
            try:
                fmt_id = int(xf.get("numFmtId") or 0)
            except ValueError:
                fmt_id = 0
            if fmt_id == 0:
                continue
            fmt = compiled.get(fmt_id)
            if fmt is None:
                code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "General")
                fmt = compiled[fmt_id] = NumberFormat(code)
            if not fmt.is_general:
                self.formats[str(index)] = fmt

    def _load_strings(self, parts: list[str]) -> None:
        """The shared-string table as a plain list, streamed (2 million entries is ~150 MB of str)."""
        if not parts:
            return
        part = self.strings_part = parts[0]
        x = self.names.uris["x"]
        si_tag, t_tag, r_tag = f"{{{x}}}si", f"{{{x}}}t", f"{{{x}}}r"
        strings = self.strings
        append = strings.append
        with self.pkg.stream(part) as stream:
            # <sstItem> is the Office 2007 beta name of <si>; such files still circulate.
            for _, si in iterparse(stream, part, "XLSX", (si_tag, f"{{{x}}}sstItem")):
                if len(si) == 1 and si[0].tag == t_tag:
                    text = si[0].text or ""
                else:
                    text = _rich_text(si, t_tag, r_tag)
                append(unescape_xstring(text) if "_x" in text else text)
                release(si)
        self.used = bytearray(len(strings))

    # -- cells ----------------------------------------------------------------------------
    def _sheet(self, part: str, sheet: str, loc_part: str) -> Iterator[Event]:
        """Every non-empty cell of one worksheet, in document order, with its header context.

        Rows come from ``SheetRows`` (the plain shape as ``(r, cells)`` tuples read by
        compiled patterns, anything else as lxml elements), or all from lxml's iterparse
        when the part is not plain UTF-8 in the sheet's namespace or ``FAST_SHEETS`` is
        off (the reference the fast path is tested against). One loop decides every cell.

        The loop runs once per cell (millions of times in a big export), so it is written
        for speed: one generator frame, names bound to locals, the plain number, shared
        string and one-run inline string decoded inline and every other cell in
        ``_cell_text``, records built with ``tuple.__new__`` (no Python ``__new__``
        frame), the displayed value of a number memoised per format. '' stands for
        "absent" in a cell tuple.
        """
        x = self.names.uris["x"]
        place_tags = sheet_element_tags(x)
        tags = (f"{{{x}}}row", f"{{{x}}}headerFooter", *place_tags)
        hf_tag = tags[1]
        with self.pkg.stream(part) as stream:
            if not FAST_SHEETS:
                items = iterparse_elements(stream, part, tags)
            else:
                rows = SheetRows(stream, part, "XLSX", x, tags, lambda err: self._damage_in_place(part, err))
                items = rows.items() if rows.fast else iterparse_elements(rows.replay(), part, tags)
            ctx = self.ctx
            strings, used, formats, date1904 = self.strings, self.used, self.formats, self.date1904
            general_fmt = self.general
            general_cache = general_fmt.cache
            cell_text, element_cells = self._cell_text, self._element_cells
            budget, max_cells = ctx.budget, ctx.limits.max_cells
            doc = ctx.doc
            new, seg_cls, loc_cls = tuple.__new__, Segment, Location
            digits = _DIGITS
            header: dict[str, str] = {}
            header_final = False
            rows_seen = 0
            row_no = 0
            for item in items:
                if isinstance(item, tuple):
                    r, cells = item
                elif item.tag == hf_tag:
                    yield from self._header_footer(item, sheet)
                    continue
                elif item.tag in place_tags:
                    yield from sheet_element(item, ctx, sheet, self.pkg.rel_map(part), self.names)
                    release(item)
                    continue
                else:
                    r, cells = item.get("r"), element_cells(item)
                    release(item)
                row_no = int(r) if r and r.isdigit() else row_no + 1
                row_str = str(row_no)
                # Until the header row is settled, a row's cells wait in ``pending``; after
                # that (nearly always) each cell is emitted as soon as it is read.
                pending: list[tuple[str, str, bool]] | None = None if header_final else []
                label_ref: str | None = None
                row_label: str | None = None
                count = 0
                prev_ref = ""
                for ref, s, t, formula, value, inline in cells:
                    ref = ref or _next_ref(prev_ref, row_str)
                    prev_ref = ref
                    if value:
                        if not t or t == "n":
                            is_text = False
                            fmt = formats.get(s)  # None for General and for no style
                            if fmt is not None:
                                text = fmt.cache.get(value) or display(value, fmt, date1904)
                            elif value.isdigit() and len(value) <= _PLAIN_INTEGER_DIGITS:
                                text = value  # an integer in General shows as stored
                            else:
                                text = general_cache.get(value) or display_general(value, general_fmt, date1904)
                        elif t == "s":
                            try:
                                text = strings[index := int(value)]
                                used[index] = 1
                            except (IndexError, ValueError):
                                raise Unscannable(
                                    f"damaged XLSX (cell {sheet}!{ref} refers to a missing shared string)"
                                ) from None
                            is_text = True
                        else:
                            text, is_text = cell_text(t, s, value, formula, inline, sheet, ref)
                    elif t == "inlineStr":
                        text = unescape_xstring(inline) if "_x" in inline else inline
                        is_text = True
                    elif formula:
                        text, is_text = cell_text(t or None, s, value, formula, inline, sheet, ref)
                    else:
                        continue  # no value: an empty or styled-only cell
                    if not text:
                        continue
                    count += 1
                    if label_ref is None:
                        # A row's first text cell labels the others ("SSN" | 123-45-6789).
                        label_ref = ref
                        if is_text:
                            row_label = text.strip()[:_MAX_LABEL_CHARS] or None
                    if pending is not None:
                        pending.append((ref, text, is_text))
                        continue
                    context = header.get(ref.rstrip(digits)) if header else None
                    if row_label is not None and ref is not label_ref:
                        context = f"{context} | {row_label}" if context else row_label
                    yield new(
                        seg_cls,
                        (text, new(loc_cls, (loc_part, None, sheet, ref, None, None, None)), doc, context, None),
                    )
                if not count:
                    continue
                budget.cells += count
                if budget.cells > max_cells:
                    raise Unscannable(f"workbook has more than {max_cells:,} non-empty cells (limit)")
                rows_seen += 1
                if pending is None:
                    continue
                is_header = False
                # The column headers: the first row with two or more text cells (within the
                # first ``_HEADER_SEARCH_ROWS`` rows); until one is seen, the first non-empty row.
                text_cells = [(ref, text) for ref, text, is_text in pending if is_text]
                if not header or (len(text_cells) >= 2 and rows_seen <= _HEADER_SEARCH_ROWS):
                    header = {ref.rstrip(digits): text.strip()[:_MAX_LABEL_CHARS] for ref, text in text_cells}
                    header_final = len(text_cells) >= 2
                    is_header = True
                for ref, text, _ in pending:
                    context = None if is_header else header.get(ref.rstrip(digits))
                    if row_label is not None and ref != label_ref:
                        context = f"{context} | {row_label}" if context else row_label
                    yield new(
                        seg_cls,
                        (text, new(loc_cls, (loc_part, None, sheet, ref, None, None, None)), doc, context, None),
                    )

    def _damage_in_place(self, part: str, err: SheetXMLError) -> Unscannable:
        """Malformed XML as the reference reader reports it, line and column in the part itself.

        ``SheetRows`` sends lxml the part without the rows it read itself, so lxml counts
        lines and columns in a shorter text. Only a damaged part pays for reading it again
        with iterparse up to the damage; those bytes are not charged to the budget twice.
        """
        x = self.names.uris["x"]
        budget = self.ctx.budget
        spent = budget.expanded_bytes
        try:
            with self.pkg.stream(part) as stream:
                for _, el in iterparse(stream, part, "XLSX", (f"{{{x}}}row",)):
                    release(el)
        except Unscannable as found:
            return found if "XML error" in str(found) else err
        finally:
            budget.expanded_bytes = spent
        return err  # lxml reads the whole part fine: keep what SheetRows saw (never expected)

    def _element_cells(self, row: Any) -> list[Cell]:
        """A row lxml built, as the tuples ``SheetRows`` gives for the rows it reads itself.

        Every child counts: one that is not a <c> (extLst, a comment)
        still moves the column of a following cell without r=. Since '' stands for
        "absent", an explicit t="" (no known type: the stored text shows) becomes
        ``_UNKNOWN_TYPE``.
        """
        out: list[Cell] = []
        for c in row:
            t = c.get("t")
            value, formula, inline = self._cell_parts(c) if len(c) else (None, None, None)
            out.append(
                (
                    c.get("r") or "",
                    c.get("s") or "",
                    _UNKNOWN_TYPE if t == "" else t or "",
                    formula or "",
                    value or "",
                    inline or "",
                )
            )
        return out

    def _cell_parts(self, c: Any) -> tuple[str | None, str | None, str | None]:
        """A cell element's (value, formula, inline string) texts; None for a missing child."""
        x = self.names.uris["x"]
        v_tag, is_tag, f_tag = f"{{{x}}}v", f"{{{x}}}is", f"{{{x}}}f"
        value = formula = inline = None
        for child in c:
            ctag = child.tag
            if ctag == v_tag:
                value = child.text
            elif ctag == is_tag:
                inline = child
            elif ctag == f_tag:
                formula = child.text
        if inline is None:
            return value, formula, None
        t_tag = f"{{{x}}}t"
        first = inline[0] if len(inline) == 1 else None
        if first is not None and first.tag == t_tag:  # the usual <is><t>..</t></is>
            return value, formula, first.text or ""
        return value, formula, _rich_text(inline, t_tag, f"{{{x}}}r")

    def _cell_text(
        self,
        t: str | None,
        style: str | None,
        value: str | None,
        formula: str | None,
        inline: str | None,
        sheet: str,
        ref: str,
    ) -> tuple[str, bool]:
        """(displayed text, is it text) of a cell's parts; None or '' for a missing part.

        Inline strings, formula-and-value cells, uncalculated formulas, booleans, errors,
        ISO dates and ``t="str"`` formula results. An empty text means nothing to scan.
        """
        if t == "inlineStr":
            if not inline:
                return "", False
            return (unescape_xstring(inline) if "_x" in inline else inline), True
        if t == "s":
            if not value:
                return "", False
            try:
                text = self.strings[index := int(value)]
                self.used[index] = 1
                return text, True
            except (IndexError, ValueError):
                raise Unscannable(f"damaged XLSX (cell {sheet}!{ref} refers to a missing shared string)") from None
        if not value:
            # A formula stored without a cached value (never calculated, or written by a tool
            # that leaves calculation to Excel): we do not calculate. It shows as written
            # ("=SUM(A1:A3)", '="SSN 212-67-4431"': a literal reads as it is, between quotes);
            # one that only joins string literals also gives the joined text, after a tab.
            return uncalculated_formula(formula) if formula else ("", False)
        if t is None or t == "n":
            fmt = self.formats.get(style) if style else None
            if fmt is not None:
                return display(value, fmt, self.date1904), False
            if value.isdigit() and len(value) <= _PLAIN_INTEGER_DIGITS:
                return value, False
            return display_general(value, self.general, self.date1904), False
        if t == "str":
            return (unescape_xstring(value) if "_x" in value else value), True
        if t == "b":
            return ("TRUE" if value.strip() in ("1", "true") else "FALSE"), False
        if t == "d":  # an ISO 8601 date: shown under the cell's date format, as stored otherwise
            return iso_date_text(value, self.formats.get(style) if style else None, self.date1904), False
        return value, False  # "e" (error): the stored text is what shows

    def _header_footer(self, el: Any, sheet: str) -> Iterator[Event]:
        for child in el:
            name = local_name(child.tag)
            text = _strip_header_codes(child.text or "")
            if text:
                part = "footer" if "Footer" in name else "header"
                yield self.ctx.segment(text, Location(part, sheet=sheet, name=name))

    # -- comments, drawings, names ----------------------------------------------------------
    def _macro_formulas(self, part: str, sheet: str) -> Iterator[Event]:
        """An Excel 4 macro sheet shows its formulas, not their results (ALERT("..."), EXEC(...)):
        each formula is read as macro text beside the cached value the cell loop gave."""
        x = self.names.uris["x"]
        c_tag, f_tag = f"{{{x}}}c", f"{{{x}}}f"
        with self.pkg.stream(part) as stream:
            for _, cell in iterparse(stream, part, "XLSX", (c_tag,)):
                formula = cell.find(f_tag)
                if formula is not None and formula.text and formula.text.strip():
                    ref = cell.get("r")
                    yield self.ctx.segment(formula.text, Location("macro", sheet=sheet, cell=ref, name="Excel 4 macro"))
                release(cell)

    def _sheet_extras(self, part: str, sheet: str, loc_part: str) -> Iterator[Event]:
        pkg, ctx = self.pkg, self.ctx
        x = self.names.uris["x"]
        t_tag, r_tag = f"{{{x}}}t", f"{{{x}}}r"
        given: set[str] = set()  # comment texts, so a VML comment shape repeating one is not given again
        for target in pkg.related(part, "comments"):
            root = pkg.xml(target)
            for comment in root.iter(f"{{{x}}}comment"):
                text_el = comment.find(f"{{{x}}}text")
                text = _rich_text(text_el, t_tag, r_tag).strip() if text_el is not None else ""
                if text:
                    text = unescape_xstring(text)
                    given.add(" ".join(text.split()))
                    yield ctx.segment(text, Location("cell_comment", sheet=sheet, cell=comment.get("ref")))
            # The authors' names show with each comment (and in the review pane).
            authors = [a.text.strip() for a in root.iter(f"{{{x}}}author") if a.text and a.text.strip()]
            if authors:
                yield ctx.segment(
                    "\n".join(dict.fromkeys(authors)), Location("cell_comment", sheet=sheet, name="authors")
                )
        for target in pkg.related(part, "threadedcomment", "threadedcomments"):
            root = pkg.xml(target)
            for comment in root.iter():
                if local_name(comment.tag) != "threadedComment":
                    continue
                text = "".join(t.text or "" for t in comment if local_name(t.tag) == "text").strip()
                if text:
                    given.add(" ".join(text.split()))
                    yield ctx.segment(text, Location("cell_comment", sheet=sheet, cell=comment.get("ref")))
        for drawing in pkg.related(part, "drawing"):
            texts = drawing_paragraphs(pkg.xml(drawing), self.names)
            if texts:
                yield ctx.segment("\n".join(texts), Location("textbox", sheet=sheet, name=drawing))
            for chart in pkg.related(drawing, "chart", "chartex", "diagramdata"):
                root = pkg.xml(chart)
                texts = drawing_paragraphs(root, self.names)
                if texts:
                    yield ctx.segment("\n".join(texts), Location("textbox", sheet=sheet, name=chart))
                values = chart_caches(root, self.names, self.date1904)
                if values:
                    # The titles and series names label the values, as a header labels a column.
                    label = " | ".join(texts)[:_MAX_LABEL_CHARS] or None
                    yield ctx.segment("\n".join(values), Location("chart", sheet=sheet, name=chart), context=label)
        yield from sheet_parts(pkg, ctx, part, sheet, x, given)

    def _defined_names(self, wb: Any, sheet_names: list[str]) -> Iterator[Event]:
        x = self.names.uris["x"]
        for dn in wb.iter(f"{{{x}}}definedName"):
            text = (dn.text or "").strip()
            if not text:
                continue
            sheet = None
            local = dn.get("localSheetId")
            if local is not None and local.isdigit() and int(local) < len(sheet_names):
                sheet = sheet_names[int(local)]
            name = dn.get("name") or "?"
            yield self.ctx.segment(text, Location("defined_name", sheet=sheet, name=name), context=name)
            if not name.startswith("_xlnm."):  # built-in names (Print_Area, _FilterDatabase) say nothing
                # The name itself shows in the Name Manager and the name box.
                yield self.ctx.segment(name, Location("defined_name", sheet=sheet, name=name))


def iterparse_elements(stream: Any, part: str, tags: tuple[str, ...]) -> Iterator[Any]:
    """A sheet's rows and header/footer as lxml builds them (iterparse, safe settings)."""
    for _, el in iterparse(stream, part, "XLSX", tags):
        yield el


def _rich_text(el: Any, t_tag: str, r_tag: str) -> str:
    """Text of a string item: its own <t> and the <t> of its runs; phonetic runs (rPh) left out."""
    bits: list[str] = []
    for child in el:
        tag = child.tag
        if tag == t_tag:
            bits.append(child.text or "")
        elif tag == r_tag:
            for t in child.iter(t_tag):
                bits.append(t.text or "")
    return "".join(bits)


def _next_ref(prev: str, row: str) -> str:
    """The cell after ``prev`` in this row (cells may omit their r= attribute)."""
    if not prev:
        return "A" + row
    return column_letters(column_index(prev.rstrip(_DIGITS)) + 1) + row
