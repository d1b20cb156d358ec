"""E-mail: .eml (RFC 5322 / MIME) and .mbox, read as a recipient's mail client shows them.

The header fields a recipient sees (From, To, Cc, Subject, Date, Reply-To...) are segments
of part ``header`` named by the field; every other field travels with the message and
shows under "view source", so it is read too, as ``metadata``. Text bodies are decoded
(base64, quoted-printable, charset) and HTML rendered (``markup.html_to_text``), both
alternatives of a multipart/alternative since a client may show either. Attachments,
forwarded messages (message/rfc822) included, are nested documents, read by their own
extractors within the archive limits (``archive.scan_members``: members per file, bytes per
member and per file; nesting depth where each is dispatched). An inline image referenced
by the HTML (Content-ID, no file name) is the message's picture, not an attachment, and is
not read (as images inside a DOCX are not); how many is noted.

An mbox is a container: each message is a member.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message

from scanner.extract.archive import Member, charge_member, check_member_count, scan_members
from scanner.extract.base import Context, Source
from scanner.extract.markup import html_to_text
from scanner.extract.text import detect_encoding
from scanner.model import Event, Location

# Shown by a mail client in the message's header pane, in this order.
VISIBLE_HEADERS = ("From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date")
_VISIBLE_LOWER = frozenset(h.lower() for h in VISIBLE_HEADERS)
_MBOX_FROM = re.compile(rb"^From [^\r\n]*\r?\n", re.MULTILINE)
_MBOXRD_QUOTE = re.compile(rb"^>(>*From )", re.MULTILINE)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# MIME structure and signatures: no words a person wrote, and base64 noise for the matcher.
_STRUCTURAL_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "mime-version", "dkim-signature", "arc-seal"}
    | {"arc-message-signature", "x-google-dkim-signature", "authentication-results", "arc-authentication-results"}
)


def extract_eml(src: Source, ctx: Context) -> Iterator[Event]:
    msg = email.message_from_bytes(src.read(), policy=email.policy.default)
    yield from _message(msg, ctx)


def _message(msg: Message, ctx: Context) -> Iterator[Event]:
    yield from _headers(msg, ctx)
    attachments: list[tuple[str, Message]] = []
    inline_images = 0
    body_index = 0
    for part in _leaves(msg):
        ctype = part.get_content_type()
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if ctype == "message/rfc822" or filename or disposition == "attachment":
            attachments.append((filename or "", part))
            continue
        if ctype.startswith("text/") or ctype in _HTML_TYPES:
            text = _text_of(part)
            if ctype in _HTML_TYPES:
                text = html_to_text(text)
            if text.strip():
                yield ctx.segment(text, Location("body", paragraph=body_index, name=ctype, line=1))
                body_index += 1
            continue
        if ctype.startswith("image/") and part.get("Content-ID"):
            inline_images += 1
            continue
        attachments.append(("", part))  # an unnamed non-text part: still content that travels
    if inline_images:
        yield ctx.note("inline_images", inline_images)
    if attachments:
        check_member_count(ctx, len(attachments))
        yield from scan_members(ctx, (_attachment(ctx, i, name, part) for i, (name, part) in enumerate(attachments, 1)))


def _leaves(msg: Message) -> Iterator[Message]:
    """The parts that hold content, in order; a forwarded message (message/rfc822) is one
    leaf, read as a nested document (``Message.walk`` would open it into this message)."""
    if msg.get_content_type() == "message/rfc822" or not msg.is_multipart():
        yield msg
        return
    payload = msg.get_payload()
    for sub in payload if isinstance(payload, list) else ():
        if isinstance(sub, Message):
            yield from _leaves(sub)


def _headers(msg: Message, ctx: Context) -> Iterator[Event]:
    for name, raw in msg.items():
        try:
            value = str(raw)
        except (ValueError, LookupError, TypeError):  # a malformed encoded word: read it as written
            value = str(getattr(raw, "_parse_tree", raw))
        if not value.strip() or name.lower() in _STRUCTURAL_HEADERS:
            continue
        part = "header" if name.lower() in _VISIBLE_LOWER else "metadata"
        yield ctx.segment(f"{name}: {value}", Location(part, name=name))


def _text_of(part: Message) -> str:
    """A text part's content: transfer encoding undone, charset decoded (guessed if wrong)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload())
    charset = part.get_content_charset()
    if charset:
        try:
            return payload.decode(charset, "replace")
        except LookupError:
            pass
    return payload.decode(detect_encoding(payload[:65536]), "replace")


def _attachment(ctx: Context, index: int, name: str, part: Message) -> Member:
    label = name.replace("\\", "/").rsplit("/", 1)[-1] if name else ""
    if not label:
        ext = ".eml" if part.get_content_type() == "message/rfc822" else ""
        label = f"attachment {index}{ext}"

    def read() -> bytes:
        data = _attachment_bytes(part)
        # Charged to the file's budget like an archive member (base64 is not compression:
        # the stored size is the decoded one, so the ratio check never fires).
        charge_member(ctx, label, len(data), len(data), len(data), ctx.limits.archive_member_bytes)
        return data

    return Member(label, len(part.get_payload() or ""), read)


def _attachment_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], EmailMessage | Message):
            return bytes(inner[0].as_bytes())
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    return str(part.get_payload()).encode("utf-8")


# --- mbox ------------------------------------------------------------------------------------


def extract_mbox(src: Source, ctx: Context) -> Iterator[Event]:
    """Each message after a "From " separator line is a member named "message N"."""
    data = src.read()
    starts = [m.start() for m in _MBOX_FROM.finditer(data)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    check_member_count(ctx, len(starts))
    bounds = list(zip(starts, starts[1:] + [len(data)], strict=True))
    yield from scan_members(ctx, (_mbox_member(data, i, a, b) for i, (a, b) in enumerate(bounds, 1)))


def _mbox_member(data: bytes, index: int, start: int, end: int) -> Member:
    def read() -> bytes:
        chunk = data[start:end]
        sep = _MBOX_FROM.match(chunk)
        body = chunk[sep.end() :] if sep else chunk
        return _MBOXRD_QUOTE.sub(rb"\1", body)  # ">From " in a body was escaped by the writer

    return Member(f"message {index}.eml", end - start, read)
