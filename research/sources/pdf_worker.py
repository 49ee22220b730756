"""Child process that extracts a PDF's text: run only by `research.sources.pdf`.

It reads the PDF from stdin, limits itself (address space, CPU time, no files written) before
parsing anything, and writes one JSON object to stdout. It imports nothing from the project and
runs with `python -I`, so it starts fast and sees no environment.
"""

from __future__ import annotations

import io
import json
import resource
import sys


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _has_images(page: object) -> bool:
    try:
        xobjects = page["/Resources"]["/XObject"]  # type: ignore[index]
        return any(
            xobject.get_object().get("/Subtype") == "/Image" for xobject in xobjects.values()
        )
    except (KeyError, TypeError, AttributeError):
        return False


def extract(data: bytes, *, max_pages: int, max_chars: int) -> dict[str, object]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    reader = PdfReader(io.BytesIO(data))
    result: dict[str, object] = {"status": "ok", "encrypted": reader.is_encrypted}
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs only restrict printing, with no password
        except (PdfReadError, NotImplementedError, ValueError):
            opened = 0
        if not opened:
            return {"status": "encrypted", "text": "", "pages": None, "pages_read": 0}
    page_count = len(reader.pages)
    texts: list[str] = []
    chars = 0
    images = False
    pages_read = 0
    for page in reader.pages[:max_pages]:
        text = page.extract_text() or ""
        images = images or (not text.strip() and _has_images(page))
        texts.append(text)
        chars += len(text)
        pages_read += 1
        if chars >= max_chars:
            break
    text = "\n\n".join(texts)[:max_chars]
    metadata = reader.metadata
    result.update(
        text=text,
        pages=page_count,
        pages_read=pages_read,
        truncated=pages_read < page_count or chars > max_chars,
        title=str(metadata.title or "") if metadata else "",
        images=images,
    )
    if page_count and not text.strip():
        result["status"] = "image_only"
    return result


def main() -> None:
    memory_bytes, cpu_seconds, max_pages, max_chars = (int(arg) for arg in sys.argv[1:5])
    data = sys.stdin.buffer.read()
    _limit(memory_bytes, cpu_seconds)
    try:
        result = extract(data, max_pages=max_pages, max_chars=max_chars)
    except MemoryError:
        result = {"status": "error", "error": "memory_limit", "text": ""}
    except Exception as exc:  # a broken file of any kind: report, never crash
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500], "text": ""}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
