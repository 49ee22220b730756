"""Every relative link in README.md and docs/*.md names a file that exists (screenshots
included), and every `#anchor` into a Markdown file names one of its headings."""

from __future__ import annotations

import re
from pathlib import Path

from .subprocess_env import BASE_DIR

LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+ (.+)$", re.M)


def documents() -> list[Path]:
    return [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").glob("*.md"))]


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_relative_links_in_the_docs_resolve() -> None:
    broken = []
    checked = 0
    for document in documents():
        for target in LINK.findall(document.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue  # http(s), mailto
            path, _, fragment = target.partition("#")
            file = (document.parent / path).resolve() if path else document
            checked += 1
            if not file.exists():
                broken.append(f"{document.name}: {target} (no such file)")
            elif fragment and file.suffix == ".md":
                anchors = {anchor(h) for h in HEADING.findall(file.read_text())}
                if fragment not in anchors:
                    broken.append(f"{document.name}: {target} (no such heading)")
    assert checked >= 20, "no links found: the pattern is wrong"
    assert not broken, "\n".join(broken)
