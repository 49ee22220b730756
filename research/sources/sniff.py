"""Content-type sniffing by content (magic bytes and markup), not by name.

Shared by the fetcher (servers that say `application/octet-stream`) and uploads (any name).
The markup patterns follow the WHATWG MIME Sniffing standard's HTML signatures.
"""

from __future__ import annotations

import codecs
import re

SUPPORTED_CONTENT_TYPES = ("text/html", "application/xhtml+xml", "application/pdf", "text/plain")
HTML, XHTML, PDF, PLAIN = SUPPORTED_CONTENT_TYPES

SNIFF_BYTES = 8192
# Formats that are certainly not ours, even if their first bytes happen to be ASCII.
_BINARY_MAGIC = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"BM", b"RIFF",
    b"\x7fELF", b"MZ", b"\xd0\xcf\x11\xe0", b"OggS", b"ID3", b"7z\xbc\xaf", b"Rar!",
    b"wOFF", b"\x00\x00\x01\x00", b"fLaC", b"%!PS",
)  # fmt: skip
# WHATWG HTML signatures: one of these tags (case-insensitive) followed by space or ">".
_HTML_START = re.compile(
    rb"^<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body"
    rb"|br|p|!--)[\s>]",
    re.IGNORECASE,
)
_XML_DECL = re.compile(rb"^<\?xml[^>]*>\s*", re.IGNORECASE)
_XHTML_NAMESPACE = b"http://www.w3.org/1999/xhtml"
_MARKUP_TAG = re.compile(rb"<(?:html|body|p|div|h[1-6]|article|main|section|table)[\s>]", re.I)
_TEXT_CONTROL = frozenset(range(32)) - {9, 10, 12, 13, 27}


def _head_as_utf8(body: bytes) -> bytes:
    """The first bytes, re-encoded as UTF-8 when a UTF-16 BOM says they are UTF-16."""
    head = body[:SNIFF_BYTES]
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="ignore").encode("utf-8")
    return head.removeprefix(codecs.BOM_UTF8)


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    controls = sum(1 for byte in head if byte in _TEXT_CONTROL)
    return b"\x00" in head or controls / len(head) > 0.05


def sniff_content_type(
    body: bytes, *, declared: str | None = None, filename: str | None = None
) -> str | None:
    """By content (magic bytes / markup), not by name alone: one of SUPPORTED_CONTENT_TYPES,
    or None when unsupported (the API answers 415).

    The content decides the family (PDF, markup, text or binary); for text that contains
    markup without an HTML signature at its start, a declared type or a .htm/.html/.xhtml name
    may say it is HTML.
    """
    if b"%PDF-" in body[:1024]:
        return PDF
    if body.startswith(_BINARY_MAGIC):
        return None
    head = _head_as_utf8(body)
    if _looks_binary(head):
        return None
    stripped = head.lstrip()
    declared = (declared or "").split(";")[0].strip().lower()
    name = (filename or "").lower()
    xml_declaration = _XML_DECL.match(stripped)
    if xml_declaration:
        rest = stripped[xml_declaration.end() :]
        if _XHTML_NAMESPACE in head or re.match(rb"<!doctype\s+html", rest, re.I):
            return XHTML
        return None  # other XML (feeds, SVG, office formats) is not a document we extract
    if _HTML_START.match(stripped):
        if declared == XHTML or name.endswith(".xhtml") or _XHTML_NAMESPACE in head:
            return XHTML
        return HTML
    hinted_html = declared in (HTML, XHTML) or name.endswith((".html", ".htm", ".xhtml"))
    if hinted_html and _MARKUP_TAG.search(head):
        return XHTML if declared == XHTML or name.endswith(".xhtml") else HTML
    return PLAIN if stripped else None
