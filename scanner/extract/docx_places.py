"""Word places outside the run text: field codes, symbols, form fields, content-control
properties, alternate content, ActiveX properties and chart values.

``scanner.extract.docx`` walks paragraphs and calls these helpers for the elements that
carry text a recipient can see without it being a ``w:t``: Alt+F9 shows field codes, a
hover shows alt text and tooltips, a click opens a drop-down's entries, Developer >
Properties shows a content control's tag. Each helper returns plain strings; the walker
decides where (part, paragraph) they were found.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from scanner.ooxml.xml import local_name

# A placeholder element the walker puts where a branch of alternate content or a ruby
# annotation was, so the text it held is reported at its paragraph without being run text.
EXTRA = "{urn:x-clearance:docx}extra"

# Fonts whose code points are pictures (a tick, a phone), not the letters they encode.
_DINGBAT_FONTS = frozenset({"wingdings", "wingdings 2", "wingdings 3", "webdings", "zapf dingbats", "zapfdingbats"})

_FIELD_TOKENS = re.compile(r'"[^"]*"|\S+')

# Namespaces whose mc:Choice Word (2016 and later) renders; any other Choice is skipped and
# its mc:Fallback is what a recipient sees.
_UNDERSTOOD = frozenset(
    {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "http://schemas.openxmlformats.org/drawingml/2006/main",
        "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
        "http://schemas.openxmlformats.org/officeDocument/2006/math",
        "http://schemas.openxmlformats.org/drawingml/2006/chart",
        "http://schemas.openxmlformats.org/drawingml/2006/picture",
        "urn:schemas-microsoft-com:vml",
        "urn:schemas-microsoft-com:office:office",
        "urn:schemas-microsoft-com:office:word",
        "http://schemas.microsoft.com/office/word/2010/wordml",
        "http://schemas.microsoft.com/office/word/2012/wordml",
        "http://schemas.microsoft.com/office/word/2015/wordml/symex",
        "http://schemas.microsoft.com/office/word/2016/wordml/cid",
        "http://schemas.microsoft.com/office/word/2018/wordml",
        "http://schemas.microsoft.com/office/word/2018/wordml/cex",
        "http://schemas.microsoft.com/office/word/2020/wordml/sdtdatahash",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingInk",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingDrawing",
        "http://schemas.microsoft.com/office/drawing/2010/main",
        "http://schemas.microsoft.com/office/drawing/2014/chartex",
        "http://schemas.microsoft.com/office/drawing/2016/ink",
        "http://schemas.microsoft.com/office/drawing/2017/model3d",
        "http://schemas.microsoft.com/office/drawing/2010/chart",
    }
)

# ActiveX properties that hold what the control shows (its text, caption, tooltip), not
# colours and sizes, whose long numbers would read as identifiers.
_OCX_TEXT = frozenset({"value", "caption", "text", "controltiptext", "tag", "groupname", "list"})
AX = "http://schemas.microsoft.com/office/2006/activeX"
_AX_PR, _AX_NAME, _AX_VALUE = f"{{{AX}}}ocxPr", f"{{{AX}}}name", f"{{{AX}}}value"


def symbol_char(char: str | None, font: str | None) -> str:
    """The character a ``w:sym`` shows: a code in a font's private-use page (F0xx) is the
    byte xx of that font; dingbat fonts draw pictures, so they give nothing."""
    if not char or (font or "").strip().lower() in _DINGBAT_FONTS:
        return ""
    try:
        code = int(char, 16)
    except ValueError:
        return ""
    if 0xF000 <= code <= 0xF0FF:
        code -= 0xF000
    if code < 0x20 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return ""
    return chr(code)


def link_data(url: str) -> str:
    """What of a link address can carry data: its path, query and fragment, decoded.

    The host is an address, not a value, and links to plain sites stay silent; an
    identifier put in a link (``...?ssn=...``) is shown on hover and is read.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    rest = parts.path
    if parts.query:
        rest += "?" + parts.query
    if parts.fragment:
        rest += "#" + parts.fragment
    rest = unquote(rest).strip()
    return rest if any(c.isalnum() for c in rest) else ""


def field_text(instruction: str) -> str:
    """A field's instruction as Alt+F9 shows it (whitespace folded), or '' when empty.

    A HYPERLINK's address is reduced to the part that can carry data (``link_data``):
    the host of a link is no one's data, and a plain link stays silent.
    """
    tokens = _FIELD_TOKENS.findall(instruction)
    if tokens and tokens[0].upper() == "HYPERLINK" and len(tokens) > 1 and not tokens[1].startswith("\\"):
        address = link_data(tokens[1].strip('"'))
        tokens[1:2] = [address] if address else []
        if len(tokens) == 1:
            return ""
    return " ".join(tokens)


def form_field(ffdata: Any, w: str) -> tuple[str, list[str]]:
    """(name, texts) of a legacy form field's ``w:ffData``: default text, drop-down
    entries, help and status-bar text (F1 and the status bar show them)."""
    name = ""
    texts: list[str] = []
    val = f"{{{w}}}val"
    for el in ffdata.iter():
        tag = el.tag
        if not isinstance(tag, str) or not tag.startswith(f"{{{w}}}"):
            continue
        local = tag[len(w) + 2 :]
        value = (el.get(val) or "").strip()
        if not value:
            continue
        if local == "name":
            name = value
        elif local in ("listEntry", "helpText", "statusText") or (local == "default" and _in_text_input(el, w)):
            texts.append(value)
    return name, _unique(texts)


def _in_text_input(el: Any, w: str) -> bool:
    parent = el.getparent()
    return parent is not None and parent.tag == f"{{{w}}}textInput"


def content_control(sdt_pr: Any, w: str) -> tuple[str, list[str]]:
    """(title, texts) of a content control's ``w:sdtPr``: its title (alias) and tag, the
    entries of a drop-down or combo box, and the XPath of a data binding."""
    title = ""
    texts: list[str] = []
    val = f"{{{w}}}val"
    for el in sdt_pr.iter():
        tag = el.tag
        if not isinstance(tag, str) or not tag.startswith(f"{{{w}}}"):
            continue
        local = tag[len(w) + 2 :]
        if local == "alias":
            title = (el.get(val) or "").strip()
            if title:
                texts.append(title)
        elif local == "tag":
            texts.append((el.get(val) or "").strip())
        elif local == "listItem":
            texts.append((el.get(f"{{{w}}}displayText") or "").strip())
            texts.append((el.get(f"{{{w}}}value") or "").strip())
        elif local == "dataBinding":
            texts.append((el.get(f"{{{w}}}xpath") or "").strip())
    return title, _unique(texts)


def activex_texts(root: Any) -> list[str]:
    """The text-bearing properties (Value, Caption, ControlTipText, ...) of an ActiveX
    control persisted as XML (``word/activeX/activeX1.xml``, ``ax:ocxPr``)."""
    out: list[str] = []
    for pr in root.iter(_AX_PR):
        name = (pr.get(_AX_NAME) or "").strip().lower()
        value = (pr.get(_AX_VALUE) or "").strip()
        if name in _OCX_TEXT and value:
            out.append(value)
    return _unique(out)


def extra_element(kind: str, text: str) -> Any:
    """A placeholder (``EXTRA``) for text that belongs to a paragraph but is not its run text."""
    el = etree.Element(EXTRA, kind=kind)
    el.text = text
    return el


def choose_branch(ac: Any, choice_tag: str, fallback_tag: str) -> None:
    """Leave in ``mc:AlternateContent`` the branch Word shows, read in place: the first
    Choice whose namespaces Word knows, else the Fallback. Another branch usually repeats
    it (every text box twice) and is dropped when it holds nothing new; otherwise it is
    replaced by a placeholder with what it adds ("alternate content")."""
    branches = [b for b in ac if b.tag == choice_tag or b.tag == fallback_tag]
    if len(branches) < 2:
        return  # a lone branch is read as it is
    chosen = next((b for b in branches if b.tag == choice_tag and understood(b)), None)
    if chosen is None:
        chosen = next((b for b in branches if b.tag == fallback_tag), branches[0])
    shown = set(branch_texts(chosen))
    for branch in branches:
        if branch is chosen:
            continue
        new = [x for x in dict.fromkeys(branch_texts(branch)) if x not in shown]
        if new:
            ac.replace(branch, extra_element("alternate content", "\n".join(new)))
        else:
            ac.remove(branch)


def understood(choice: Any) -> bool:
    """Whether Word renders this ``mc:Choice``: every prefix it Requires is a namespace Word knows."""
    prefixes = (choice.get("Requires") or "").split()
    nsmap = choice.nsmap
    return all(nsmap.get(prefix) in _UNDERSTOOD for prefix in prefixes)


_SIGNATURE_TAGS = frozenset({"t", "delText", "instrText", "delInstrText"})
_SIGNATURE_ATTRS = ("descr", "title", "alt", "string")


def branch_texts(branch: Any) -> list[str]:
    """The text a branch of alternate content holds, in order: run text, text-box text,
    alt text and WordArt strings. Two branches with the same texts show the same thing."""
    out: list[str] = []
    for el in branch.iter():
        if not isinstance(el.tag, str):
            continue
        if el.text and local_name(el.tag) in _SIGNATURE_TAGS and el.text.strip():
            out.append(el.text.strip())
        for attr in _SIGNATURE_ATTRS:
            value = el.get(attr)
            if value and value.strip():
                out.append(value.strip())
    return out


def chart_values(root: Any, c: str) -> list[str]:
    """What a chart shows that its rich text and string caches do not: literal category
    labels (``c:strLit``) and the plotted numbers (``c:numCache``, ``c:numLit``)."""
    out: list[str] = []
    v = f"{{{c}}}v"
    for tag in ("strLit", "numCache", "numLit"):
        for cache in root.iter(f"{{{c}}}{tag}"):
            for el in cache.iter(v):
                if el.text and el.text.strip():
                    out.append(el.text.strip())
    return out


def all_texts(root: Any) -> list[str]:
    """Every text node of a part whose vocabulary we do not model (chartex)."""
    return [t.strip() for t in root.itertext() if t.strip()]


def _unique(texts: list[str]) -> list[str]:
    return [t for t in dict.fromkeys(texts) if t]
