"""PDF text extraction bounded in time and memory.

pypdf (pure Python, BSD; PyMuPDF is AGPL) runs in a child process (`pdf_worker.py`) that caps
its own address space and CPU time with `resource.setrlimit`, while this side enforces a
wall-clock timeout and kills it. A PDF bomb or a 2,000-page file therefore costs at most
`PdfLimits` of one process and never stalls or swells the worker; the pages beyond `max_pages`
are not read (the result says it was truncated).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("pdf_worker.py")


@dataclass(frozen=True)
class PdfLimits:
    timeout: float = 30.0  # wall clock, seconds
    cpu_seconds: int = 20
    memory_bytes: int = 1024 * 1024 * 1024  # address space of the child
    max_pages: int = 500
    max_chars: int = 2_000_000


@dataclass(frozen=True)
class PdfText:
    status: str  # "ok" | "image_only" | "encrypted" | "error"
    text: str
    pages: int | None
    pages_read: int
    truncated: bool
    title: str
    error: str | None

    def signals(self) -> dict[str, Any]:
        signals: dict[str, Any] = {"pdf_pages": self.pages, "pdf_pages_read": self.pages_read}
        if self.truncated:
            signals["pdf_truncated"] = True
        if self.error:
            signals["pdf_error"] = self.error
        return signals


def _failed(error: str) -> PdfText:
    return PdfText("error", "", None, 0, False, "", error)


def extract_pdf_text(data: bytes, *, limits: PdfLimits | None = None) -> PdfText:
    """Never raises for a bad file: a broken, hostile or oversized PDF gives status "error"."""
    limits = limits or PdfLimits()
    command = [
        sys.executable, "-I", str(WORKER), str(limits.memory_bytes), str(limits.cpu_seconds),
        str(limits.max_pages), str(limits.max_chars),
    ]  # fmt: skip
    try:
        completed = subprocess.run(
            command, input=data, capture_output=True, timeout=limits.timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return _failed(f"time_limit: parsing took longer than {limits.timeout:g} s")
    if completed.returncode != 0:
        return _failed(f"killed: the PDF parser exceeded its limits (exit {completed.returncode})")
    try:
        result = json.loads(completed.stdout)
    except ValueError:
        return _failed("the PDF parser gave no result")
    return PdfText(
        status=result["status"],
        text=result.get("text", ""),
        pages=result.get("pages"),
        pages_read=result.get("pages_read", 0),
        truncated=bool(result.get("truncated")),
        title=result.get("title", ""),
        error=result.get("error"),
    )
