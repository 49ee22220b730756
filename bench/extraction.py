#!/usr/bin/env python
"""Extraction quality benchmark (not a test): our HTML extractor vs plain `trafilatura.extract`.

Metric: the ScrapingHub article-extraction-benchmark's (`evaluate.py`), re-implemented here:
4-gram shingles of `\\w+` tokens, true/false positives and negatives per page normalized to sum
to 1, mean precision and mean recall over the pages, F1 of the two means.

Sets (provenance and licences in `bench/data/README.md`), each scored and reported separately:
- `company-real`: real company, product and service pages with hand-labelled main text;
- `articles-public`: public benchmarks with their own ground truth (newspaper4k's test pages,
  Mozilla readability's test pages with `expected.html` converted to text);
- `company-synthetic`, `article-synthetic`: `bench/extraction_corpus.py`, main texts written for
  this benchmark and rendered into realistic site templates (ground truth exact by construction).

Ours is `research.sources.extract.extract` (the product's entry point) on the page's UTF-8 bytes.

Run: `.venv/bin/python bench/extraction.py [--set NAME] [--show-worst N] [--write-doc]`
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, where bench/queue.py would
# stand in for the standard library's `queue`: the project's root takes its place.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import lxml.html
import trafilatura

from bench.extraction_corpus import build_corpus
from research.sources.extract import EXTRACTOR_VERSION, extract

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
DOC = ROOT / "docs" / "benchmarks-extraction.md"
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Page:
    key: str
    html: str
    truth: str


# -- metric ------------------------------------------------------------------------------------


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def tp_fp_fn(truth: str, predicted: str) -> tuple[float, float, float]:
    true, pred = _shingles(truth), _shingles(predicted)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(counts: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = statistics.mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# -- extractors --------------------------------------------------------------------------------


def ours(html: str) -> str:
    return extract(body=html.encode("utf-8"), content_type="text/html", charset="utf-8").text


EXTRACTORS: dict[str, Callable[[str], str]] = {
    "ours": ours,
    "trafilatura default": lambda html: trafilatura.extract(html) or "",
    "trafilatura precision": lambda html: trafilatura.extract(html, favor_precision=True) or "",
}


# -- sets --------------------------------------------------------------------------------------

_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
     "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol",
     "p", "pre", "section", "table", "td", "th", "tr", "ul"}
)  # fmt: skip


def html_to_text(html: str) -> str:
    """Reference text of an `expected.html`: its visible text, a line break at every block.
    Independent of the extractor under test, and the same for every page."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
            if element.tag != "br":
                element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def _pairs(directory: Path) -> list[Page]:
    """`NAME.html` pages with the ground truth in `NAME.txt` beside each."""
    return [
        Page(path.stem, path.read_text(encoding="utf-8"), path.with_suffix(".txt").read_text())
        for path in sorted(directory.glob("*.html"))
    ]


def _readability(directory: Path) -> list[Page]:
    """Mozilla readability's layout: `NAME/source.html` and `NAME/expected.html`."""
    return [
        Page(
            f"readability/{page.name}",
            (page / "source.html").read_text(encoding="utf-8"),
            html_to_text((page / "expected.html").read_text(encoding="utf-8")),
        )
        for page in sorted(directory.iterdir())
        if (page / "source.html").is_file()
    ]


def load_sets() -> dict[str, list[Page]]:
    synthetic: dict[str, list[Page]] = {"company-synthetic": [], "article-synthetic": []}
    for page in build_corpus():
        synthetic[f"{page.kind}-synthetic"].append(Page(page.key, page.html, page.truth))
    public = [
        Page(f"newspaper4k/{page.key}", page.html, page.truth)
        for page in _pairs(DATA / "newspaper4k")
    ]
    return {
        "company-real": _pairs(DATA / "company"),
        "articles-public": public + _readability(DATA / "readability"),
        **synthetic,
    }


# -- report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    set_name: str
    pages: int
    extractor: str
    precision: float
    recall: float
    f1: float


def run(sets: dict[str, list[Page]], show_worst: int) -> list[Row]:
    rows = []
    header = f"{'set':<20}{'pages':>6}  {'extractor':<24}{'precision':>10}{'recall':>8}{'F1':>8}"
    print(header)
    for set_name, pages in sets.items():
        for name, extractor in EXTRACTORS.items():
            counts = [tp_fp_fn(page.truth, extractor(page.html)) for page in pages]
            row = Row(set_name, len(pages), name, *scores(counts))
            rows.append(row)
            print(
                f"{set_name:<20}{row.pages:>6}  {name:<24}"
                f"{row.precision:>10.3f}{row.recall:>8.3f}{row.f1:>8.3f}"
            )
            if name == "ours" and show_worst:
                ranked = sorted(zip(counts, pages, strict=True), key=lambda item: item[0][0])
                for (tp, fp, fn), page in ranked[:show_worst]:
                    print(f"    {page.key}: tp={tp:.2f} fp={fp:.2f} fn={fn:.2f}")
        print()
    return rows


def write_doc(rows: list[Row], sets: dict[str, list[Page]], seconds: float) -> None:
    """Replace the results section of docs/benchmarks-extraction.md, keeping the prose."""
    lines = [
        "<!-- results: generated by `bench/extraction.py --write-doc`; edit the prose above -->",
        "",
        f"Run {datetime.date.today().isoformat()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"trafilatura {trafilatura.__version__}, extractor version `{EXTRACTOR_VERSION}` "
        f"({seconds:.0f} s for all sets and extractors).",
        "",
    ]
    for set_name, pages in sets.items():
        lines += [
            f"### {set_name} ({len(pages)} pages)",
            "",
            "| extractor | precision | recall | F1 |",
            "| --- | ---: | ---: | ---: |",
        ]
        for row in rows:
            if row.set_name == set_name:
                lines.append(
                    f"| {row.extractor} | {row.precision:.3f} | {row.recall:.3f} | {row.f1:.3f} |"
                )
        lines.append("")
    marker = lines[0]
    prose = DOC.read_text().split(marker)[0].rstrip() + "\n\n" if DOC.exists() else ""
    DOC.write_text(prose + "\n".join(lines))
    print(f"results written to {DOC.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", action="append", default=[], help="only this set (repeatable)")
    parser.add_argument("--show-worst", type=int, default=0, help="list our N worst pages")
    parser.add_argument("--write-doc", action="store_true", help=f"write the figures to {DOC}")
    args = parser.parse_args()
    sets = load_sets()
    unknown = set(args.set) - set(sets)
    if unknown:
        parser.error(f"unknown set {', '.join(sorted(unknown))}: choose from {', '.join(sets)}")
    if args.set:
        sets = {name: pages for name, pages in sets.items() if name in args.set}
    started = time.monotonic()
    rows = run(sets, args.show_worst)
    if args.write_doc:
        write_doc(rows, sets, time.monotonic() - started)


if __name__ == "__main__":
    main()
