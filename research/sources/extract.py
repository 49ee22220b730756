"""Main text of a source: HTML without boilerplate, PDF text, plain text in the right encoding.

Every result is normalized (NFC, "\\n" line endings, trimmed), hashed and counted the same way
whatever the input, so reprocessing unchanged bytes with the same EXTRACTOR_VERSION gives the
same text_hash and can be skipped.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from typing import Any

import charset_normalizer

from .pdf import PdfLimits, extract_pdf_text
from .sniff import HTML, PDF, PLAIN, SUPPORTED_CONTENT_TYPES, XHTML, sniff_content_type

__all__ = [
    "EXTRACTOR_VERSION",
    "SUPPORTED_CONTENT_TYPES",
    "Extraction",
    "decode_text",
    "extract",
    "normalize_text",
    "sniff_content_type",
    "text_sha256",
    "word_count",
]

# Bump the last part when our own code changes what the same bytes give.
# Versions from the packages' metadata: importing trafilatura and pypdf costs about 25 MiB (a
# worker holds 110 MiB after start with them, 85 without) and 0.3 s, paid by every process
# that loads the admin or the job handlers, not only by the extraction (html.py imports
# trafilatura when a page is extracted).
EXTRACTOR_VERSION = f"3/trafilatura-{version('trafilatura')}/pypdf-{version('pypdf')}"

_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_INLINE_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Ideographs and kana are written without spaces: each counts as a word, as in CJK word counts.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+(?:['\u2019-]\w+)*")


def normalize_text(text: str) -> str:
    """NFC, "\\n" line endings, no control characters, single spaces, at most one blank line
    in a row, no space at line ends, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub("", text)
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def text_sha256(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def decode_text(body: bytes, *, charset: str | None = None) -> str:
    """Bytes to text: a BOM, then the declared charset, then UTF-8, then charset-normalizer's
    best guess (cp1252 and friends are common in the wild and never fail to decode)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    candidates = [charset] if charset else []
    for encoding in [*candidates, "utf-8"]:
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        return str(best)
    return body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Extraction:
    text: str  # normalized: "\n" line endings, trimmed, NFC
    word_count: int
    text_hash: str  # SHA-256 hex of `text` (normalized)
    material_hash: str  # SHA-256 hex of the raw bytes
    kind: str  # "html" | "pdf" | "text" | "unsupported"
    title: str
    pdf_status: str | None  # None | "ok" | "image_only" | "encrypted" | "error"
    signals: dict[str, Any] = field(default_factory=dict)  # classification hints (JSON-able)
    extractor_version: str = EXTRACTOR_VERSION

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        del record["text"]
        return record


def _result(
    body: bytes, text: str, *, kind: str, title: str = "", pdf_status: str | None = None,
    signals: dict[str, Any] | None = None,
) -> Extraction:  # fmt: skip
    text = normalize_text(text)
    return Extraction(
        text=text,
        word_count=word_count(text),
        text_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        material_hash=hashlib.sha256(body).hexdigest(),
        kind=kind,
        title=normalize_text(title),
        pdf_status=pdf_status,
        signals=signals or {},
    )


def extract(
    *,
    body: bytes,
    content_type: str,
    url: str | None = None,
    charset: str | None = None,
    pdf_limits: PdfLimits | None = None,
) -> Extraction:
    """HTML via trafilatura (precision-tuned, works on company pages too), PDF in a subprocess
    with time and memory limits, plain text with encoding detection. Never raises for bad
    input: a broken file gives empty text and a pdf_status/signal saying why."""
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type in (HTML, XHTML):
        from .html import extract_html

        html = extract_html(decode_text(body, charset=charset or _meta_charset(body)), url=url)
        return _result(body, html.text, kind="html", title=html.title, signals=html.signals)
    if content_type == PDF:
        pdf = extract_pdf_text(body, limits=pdf_limits)
        return _result(
            body,
            pdf.text,
            kind="pdf",
            title=pdf.title,
            pdf_status=pdf.status,
            signals=pdf.signals(),
        )
    if content_type == PLAIN:
        text = decode_text(body, charset=charset)
        first_line = next((line for line in normalize_text(text).split("\n") if line), "")
        return _result(body, text, kind="text", title=first_line[:200])
    return _result(body, "", kind="unsupported", signals={"content_type": content_type})


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


def _meta_charset(body: bytes) -> str | None:
    """The charset a <meta> tag declares in the first 4 KB (HTML's prescan, simplified)."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii").lower() if match else None
