"""Safe XML for untrusted package parts: no entities expanded, no DTD loaded, no network.

Two rules, for two readers:

* the scan reads whatever a file holds, so ``check_prolog`` refuses only a prolog that
  declares entities (billion laughs, XXE) and lets a harmless ``<!DOCTYPE html>`` through;
* the label writer parses parts it may write back, and OPC forbids DTDs in a package
  (ECMA-376 Part 2, 8.1.4), so ``parse_no_dtd`` refuses any DTD at all.

Either way the parser itself is configured never to resolve entities, load a DTD or touch
the network, so a check that missed something still expands nothing.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
}
PROLOG_SCAN = 64 * 1024  # the DOCTYPE must come before the root element: look this far
_REASON_CHARS = 160  # of a parser's message, enough to say where and what
_UTF16_SNIFF = 64  # a NUL this early means UTF-16 (XML text starts with '<' or a BOM)
_ELEMENT_START = re.compile(rb"<[A-Za-z_]")


class PackageError(Exception):
    """A package or part that is damaged or refused as unsafe; ``str()`` is for users."""


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(**PARSER_OPTIONS)


def short_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:_REASON_CHARS]


def local_name(tag: object) -> str:
    """Local part of a Clark name; '' for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


# --- the scan's rule: no entity declarations ---------------------------------------


def _ascii_head(head: bytes) -> bytes:
    """The first bytes as ASCII-compatible bytes, so UTF-16 parts are checked too."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:_UTF16_SNIFF]:
        for enc in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                text = head[: len(head) & ~1].decode(enc, "ignore")
            except UnicodeError:  # pragma: no cover - "ignore" does not raise
                continue
            if "<" in text:
                return text.encode("ascii", "replace")
    return head


def check_prolog(head: bytes, part: str) -> None:
    """Refuse a part whose prolog declares entities (entity bomb, XXE).

    Walks the prolog (XML declaration, comments, processing instructions, DOCTYPE) up
    to the root element; a DOCTYPE whose internal subset declares an entity, or a prolog
    too long to examine, is refused. Nothing is expanded or resolved.
    """
    data = _ascii_head(head[:PROLOG_SCAN])
    if b"<!" not in data:
        return  # fast path: no DOCTYPE, comment or entity anywhere near the start
    pos = 0
    n = len(data)
    while pos < n:
        lt = data.find(b"<", pos)
        if lt < 0:
            break
        if data.startswith(b"<?", lt):
            end = data.find(b"?>", lt + 2)
            pos = end + 2 if end >= 0 else n
        elif data.startswith(b"<!--", lt):
            end = data.find(b"-->", lt + 4)
            pos = end + 3 if end >= 0 else n
        elif data[lt : lt + 9].upper() == b"<!DOCTYPE":
            if re.search(rb"<!ENTITY", data[lt:], re.IGNORECASE):
                raise PackageError(f"XML part {part} declares entities (possible entity bomb or XXE); refused")
            end = _doctype_end(data, lt)
            if end < 0:
                raise PackageError(f"XML part {part} has a document type declaration too long to check; refused")
            pos = end
        elif data.startswith(b"<!", lt):
            # Declarations outside a DOCTYPE (or a DOCTYPE we mis-measured): never legitimate.
            raise PackageError(f"XML part {part} has a malformed document type declaration; refused")
        else:
            return  # the root element: the prolog is over
    if len(head) >= PROLOG_SCAN:
        raise PackageError(f"XML part {part} has a prolog too long to check; refused")


def _doctype_end(data: bytes, start: int) -> int:
    """Index just past the DOCTYPE starting at ``start`` (handles an internal subset)."""
    bracket = data.find(b"[", start)
    close = data.find(b">", start)
    if close < 0:
        return -1
    if 0 <= bracket < close:
        sub_end = data.find(b"]", bracket)
        if sub_end < 0:
            return -1
        close = data.find(b">", sub_end)
        if close < 0:
            return -1
    return close + 1


def parse_xml(data: bytes, part: str, kind: str) -> Any:
    """Parse one whole part safely; malformed XML means a damaged package."""
    check_prolog(data[:PROLOG_SCAN], part)
    try:
        return etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"damaged or truncated {kind} (XML error in {part}: {short_reason(exc)})") from exc


# --- the writer's rule: no DTD at all ------------------------------------------------


def parse_no_dtd(data: bytes, what: str) -> Any:
    """Parse a part the label writer reads or rewrites; any DTD is refused, not just entities."""
    first_element = _ELEMENT_START.search(data)
    if b"<!DOCTYPE" in data[: first_element.start() if first_element else len(data)]:
        # Checked before parsing so an entity bomb is named as such, not as a parse error.
        raise PackageError(f"{what} declares a DTD, which Office documents must not contain")
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"damaged {what}: {short_reason(exc)}") from None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise PackageError(f"{what} declares a DTD, which Office documents must not contain")
    return root


def text_of(element: Any) -> str:
    """All text inside an element (comments and processing instructions left out)."""
    return "".join(t for t in element.itertext() if isinstance(t, str))


def to_xml(root: Any) -> bytes:
    """Serialise a part with the declaration Office itself writes (lxml's own uses single quotes)."""
    body: bytes = etree.tostring(root, xml_declaration=False, encoding="UTF-8")
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + body
