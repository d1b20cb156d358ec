"""Network and credential values: IP addresses, e-mail, passwords, cloud keys, tokens, private keys."""

from __future__ import annotations

import ipaddress

import regex

from scanner.detect.validators.common import _r, shannon_entropy


def ip_address(value: str) -> bool:
    # RFC 791 / RFC 4291 via the standard library: four octets 0-255 (optional /prefix),
    # or an IPv6 address with at least two colons. Leading zeros ("010.1.1.1") are
    # ambiguous (octal in some tools) and rejected, as ipaddress does.
    v = value.strip()
    try:
        if "/" in v:
            ipaddress.ip_network(v, strict=False)
        else:
            ipaddress.ip_address(v)
    except ValueError:
        return False
    return v.count(":") >= 2 or v.count(".") == 3


_FILE_TLDS = frozenset(
    {
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "bmp",
        "tif",
        "tiff",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "txt",
        "csv",
        "zip",
        "exe",
        "dll",
        "js",
        "css",
        "html",
        "htm",
        "xml",
        "json",
        "py",
        "java",
        "ts",
        "md",
        "log",
        "tmp",
        "bak",
        "dat",
        "ini",
        "cfg",
    }
)


_ROLE_MAILBOXES = frozenset(
    """
info sales support contact admin administrator office hello help helpdesk service services noreply no-reply
donotreply do-not-reply webmaster postmaster hostmaster hr jobs careers recruiting press media marketing billing
accounts accounting invoices invoice orders order spam abuse privacy legal compliance security it reception
enquiries enquiry inquiries inquiry feedback newsletter news team mail mailer-daemon taxforms phishing customerservice
customercare care purchasing procurement shipping logistics returns
""".split()
)


def email(value: str) -> bool:
    # RFC 5322 addr-spec subset; the top-level domain must be letters and not a file
    # extension ("logo@2x.png" is an image, not a mailbox).
    v = value.strip()
    local, _, domain = v.rpartition("@")
    if not local or "." not in domain or ".." in v or local.startswith(".") or local.endswith("."):
        return False
    tld = domain.rsplit(".", 1)[1].lower()
    if not (tld.isalpha() and len(tld) >= 2 and tld not in _FILE_TLDS):
        return False
    # Role and system mailboxes (sales@, info@, noreply@ ...) identify an organisation, not a person.
    head = _r(r"[._+-]").split(local.lower(), maxsplit=1)[0]
    return head not in _ROLE_MAILBOXES


_PLACEHOLDER = regex.compile(
    r"^(?:\*{3,}|x{3,}|\.{3,}|_{3,}|-{3,}|#{3,}|<[^>]*>|\$\{[^}]*\}|%[^%]+%|\{\{[^}]*\}\}|\$\w+|\[[^\]]*\]"
    r"|changeme|password\d*|passw(?:or)?d|secret|example|your[_-]?\w*|none|null|n/?a|tbd|redacted|hidden|masked"
    r"|minimum|required|optional|expired|reset|see\b.*)$",
    regex.IGNORECASE,
)


def password_value(value: str) -> bool:
    # Placeholders and policy text are not credentials (PATTERN_CATALOGUE.md 9.4): reject
    # masks (***), templates (<...>, ${...}, {{...}}, %VAR%), stock words, and values
    # that are plain words; require >= 3 character classes, or >= 2 with entropy >= 3.0.
    v = value.strip().strip("\"'`;,")
    if "=" in v or ":" in v:
        key, _, rest = v.partition("=") if "=" in v else v.partition(":")
        if _r(r"(?i)pass|pwd|kennwort|contrase|senha|secret").search(key):
            v = rest.strip().strip("\"'`;,")
    if len(v) < 6 or _PLACEHOLDER.match(v):
        return False
    classes = sum(
        (
            any(c.islower() for c in v),
            any(c.isupper() for c in v),
            any(c.isdigit() for c in v),
            any(not c.isalnum() for c in v),
        )
    )
    return classes >= 3 or (classes >= 2 and shannon_entropy(v) >= 3.0)


def aws_access_key(value: str) -> bool:
    # gitleaks rule aws-access-token: the 16 characters after the prefix are base32
    # (A-Z, 2-7) and the whole key has Shannon entropy above 3.0.
    v = value.strip()
    return len(v) == 20 and shannon_entropy(v) > 3.0


def high_entropy_token(value: str) -> bool:
    # gitleaks generic-api-key: the secret must have Shannon entropy above 3.5 and not
    # be made only of letters, '_', '.' and '-' (identifiers, version strings).
    v = value.strip().strip("\"'`")
    if "=" in v or ":" in v:
        v = _r(r"[:=]+").split(v)[-1].strip().strip("\"'`> ")
    if len(v) < 10 or _r(r"[A-Za-z_.\-]+").fullmatch(v) or _r(r"[\d.\-/: ]+").fullmatch(v):
        return False
    return shannon_entropy(v) > 3.5


def jwt(value: str) -> bool:
    # RFC 7519: three base64url parts; the first decodes to a JSON header with "alg".
    import base64
    import json

    parts = value.strip().split(".")
    if len(parts) != 3:
        return False
    head = parts[0] + "=" * (-len(parts[0]) % 4)
    try:
        header = json.loads(base64.urlsafe_b64decode(head))
    except Exception:
        return False
    return isinstance(header, dict) and "alg" in header


def pem_private_key(value: str) -> bool | None:
    # RFC 7468 textual encoding: a BEGIN line, a base64 body, the matching END line.
    # True with a body of >= 64 base64 characters and the END line; False when the text
    # says the key is truncated or elided ("..."); None for a BEGIN line alone (word
    # processors split a key over paragraphs, so the END line may be out of sight).
    body = value.split("-----", 2)[-1]
    if "..." in body or "\u2026" in body or _r(r"(?i)truncated|redacted|omitted").search(body):
        return False
    b64 = _r(r"-----END[^-]*-----|[^A-Za-z0-9+/=]").sub("", body)
    if "-----END" in value and len(b64) >= 64:
        return True
    return None
