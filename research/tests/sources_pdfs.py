"""Small PDFs made in the tests: text, image-only, password-protected, bombs and huge files."""

from __future__ import annotations

import io
import zlib


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF whose object n (1-based) is objects[n-1]; object 1 must be the catalog."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")


def _text_content(text: str) -> bytes:
    lines = [b"BT /F1 11 Tf 14 TL 50 780 Td"]
    for line in text.splitlines() or [""]:
        lines.append(b"(" + _escape(line) + b") Tj T*")
    lines.append(b"ET")
    return b"\n".join(lines)


def _document(contents: list[bytes], resources: bytes, extra_objects: list[bytes]) -> bytes:
    """Catalog 1, Pages 2, then extra objects (fonts, images), then page/content pairs."""
    first_page = 3 + len(extra_objects)
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(contents)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(contents)),
        *extra_objects,
    ]
    for index, content in enumerate(contents):
        content_ref = first_page + 2 * index + 1
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources %s "
            b"/Contents %d 0 R >>" % (resources, content_ref)
        )
        objects.append(_stream(content))
    return _pdf(objects)


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def text_pdf(pages: list[str]) -> bytes:
    """One page per string, each line of it a line of Helvetica text."""
    return _document(
        [_text_content(page) for page in pages], b"<< /Font << /F1 3 0 R >> >>", [_FONT]
    )


def image_only_pdf(pages: int = 1) -> bytes:
    """A scan: each page draws one image and has no text layer."""
    pixels = bytes(range(256)) * 16
    image = _stream(
        pixels, b"/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8"
    )  # fmt: skip
    draw = b"q 500 0 0 700 40 60 cm /Im1 Do Q"
    return _document([draw] * pages, b"<< /XObject << /Im1 3 0 R >> >>", [image])


def encrypted_pdf(text: str, *, user_password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([text]))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def decompression_bomb_pdf(megabytes: int = 400) -> bytes:
    """A page whose Flate content stream inflates to `megabytes` MB of text operators."""
    compressor = zlib.compressobj(9)
    chunk = b"BT /F1 11 Tf 50 780 Td (bomb) Tj ET\n" * 28_000  # about 1 MB
    parts = [compressor.compress(chunk) for _ in range(megabytes)]
    parts.append(compressor.flush())
    stream = _stream(b"".join(parts), b"/Filter /FlateDecode")
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            _FONT,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
            stream,
        ]
    )


def many_pages_pdf(pages: int = 2000) -> bytes:
    return text_pdf(
        [f"Page {number} of the annual report.\nRevenue grew." for number in range(pages)]
    )
