"""Outlook .msg (MS-OXMSG: MAPI properties in an OLE2 compound file), read with python-oxmsg.

What Outlook shows in the reading pane: sender, recipients (To/Cc/Bcc), subject and date
as ``header`` segments; the plain-text body and the HTML body (rendered by
``markup.html_to_text``) as ``body``. Every other string property of the message (transport
headers, conversation topic, display names, custom properties...) travels with the file
and is read as ``metadata`` named by its MAPI name. Attachments stored by value are nested
documents (``archive.scan_members``: the archive limits apply); an attachment that is an
embedded message or a reference (no bytes in the file) is a problem, not skipped silently.
Not read: the compressed RTF body (PidTagRtfCompressed) when a plain or HTML body is
present, since Outlook writes the same text there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from oxmsg import Message
from oxmsg.properties import StringProperty

from scanner.extract.archive import Member, charge_member, check_member_count, scan_members
from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.markup import html_to_text
from scanner.model import Event, Location

# MAPI property ids (MS-OXPROPS) of what the reading pane shows.
_PID_SUBJECT = 0x0037
_PID_BODY = 0x1000
_PID_BODY_HTML = 0x1013
_HEADER_PIDS: dict[int, str] = {
    _PID_SUBJECT: "Subject",
    0x0042: "From",  # PidTagSentRepresentingName
    0x0C1A: "From",  # PidTagSenderName
    0x0065: "From",  # PidTagSentRepresentingEmailAddress
    0x0C1F: "From",  # PidTagSenderEmailAddress
    0x0E04: "To",  # PidTagDisplayTo
    0x0E03: "Cc",  # PidTagDisplayCc
    0x0E02: "Bcc",  # PidTagDisplayBcc
}
_RECIPIENT_TYPE = 0x0C15  # PidTagRecipientType: 1 To, 2 Cc, 3 Bcc
_RECIPIENT_FIELDS = {1: "To", 2: "Cc", 3: "Bcc"}


def extract_msg(src: Source, ctx: Context) -> Iterator[Event]:
    try:
        msg = Message.load(src.read())
    except Exception as exc:  # oxmsg raises whatever its parsing meets: say so in words
        raise Unscannable(f"Outlook message could not be parsed ({type(exc).__name__}: {_short(exc)})") from exc
    yield from _header_and_properties(msg, ctx)
    if msg.sent_date is not None:
        yield ctx.segment(f"Date: {msg.sent_date.isoformat()}", Location("header", name="Date"))
    yield from _recipients(msg, ctx)
    body = _clean(msg.body or "")
    if body.strip():
        yield ctx.segment(body, Location("body", paragraph=0, name="text/plain"))
    html = msg.html_body
    if html:
        text = html_to_text(_clean(html))
        if text.strip():
            yield ctx.segment(text, Location("body", paragraph=1, name="text/html"))
    yield from _attachments(msg, ctx)


def _header_and_properties(msg: Message, ctx: Context) -> Iterator[Event]:
    for prop in msg.properties:
        if not isinstance(prop, StringProperty) or prop.pid in (_PID_BODY, _PID_BODY_HTML):
            continue
        try:
            value = _clean(prop.value)
        except (UnicodeDecodeError, LookupError, KeyError) as exc:
            yield ctx.problem(f"message property {prop.name} could not be decoded ({_short(exc)})")
            continue
        if not value.strip():
            continue
        field = _HEADER_PIDS.get(prop.pid)
        if field is not None:
            yield ctx.segment(f"{field}: {value}", Location("header", name=field))
        else:
            yield ctx.segment(value, Location("metadata", name=prop.name))


def _recipients(msg: Message, ctx: Context) -> Iterator[Event]:
    for rcpt in msg.recipients:
        kind = rcpt.properties.int_prop_value(_RECIPIENT_TYPE)
        field = _RECIPIENT_FIELDS.get(kind or 1, "To")
        shown = " ".join(v for v in (_clean(rcpt.name or ""), _clean(rcpt.email_address or "")) if v)
        if shown:
            yield ctx.segment(f"{field}: {shown}", Location("header", name=field))


def _attachments(msg: Message, ctx: Context) -> Iterator[Event]:
    attachments = msg.attachments
    if not attachments:
        return
    check_member_count(ctx, len(attachments))
    members: list[Member] = []
    for i, att in enumerate(attachments, 1):
        name = _clean(att.file_name or "") or f"attachment {i}"
        data = att.file_bytes
        if data is None:
            yield ctx.problem(
                f"attachment {name!r} is an embedded message or a link, not a file stored in the message: not read"
            )
            continue
        members.append(Member(name, len(data), _reader(ctx, name, data)))
    yield from scan_members(ctx, members)


def _reader(ctx: Context, name: str, data: bytes) -> Any:
    def read() -> bytes:
        charge_member(ctx, name, len(data), len(data), len(data), ctx.limits.archive_member_bytes)
        return data

    return read


def _clean(text: str) -> str:
    # A string property's stream may carry its terminating NUL (or a writer's padding).
    return text.replace("\x00", "")


def _short(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return msg[0][:200] if msg else "no detail"
