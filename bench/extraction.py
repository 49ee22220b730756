#!/usr/bin/env python
"""Extraction quality benchmark (not a test): our HTML extractor vs plain `trafilatura.extract`.

Metric: the ScrapingHub article-extraction-benchmark's, re-implemented here: 4-gram shingles of
`\\w+` tokens, true/false positives and negatives per page normalized to sum to 1, mean precision
and mean recall over pages, F1 of the two means.

Pages: `bench/extraction_corpus.py` (hand-written main texts in realistic site markup; see its
docstring for how they were made), grouped as company/product/service pages and as articles.
Any extra directory given with `--pages DIR` is scored too: `DIR/*.html` with the ground truth
in `DIR/*.txt` beside each page.

Run: `.venv/bin/python bench/extraction.py [--pages DIR] [--show-worst N]`
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import trafilatura
from extraction_corpus import Page, build_corpus

from research.sources.html import extract_html

_TOKEN = re.compile(r"\w+")


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


EXTRACTORS: dict[str, Callable[[str], str]] = {
    "ours": lambda html: extract_html(html).text,
    "trafilatura default": lambda html: trafilatura.extract(html) or "",
    "trafilatura precision": lambda html: trafilatura.extract(html, favor_precision=True) or "",
}


def load_directory(directory: Path) -> list[Page]:
    return [
        Page(path.stem, directory.name, path.read_text(), path.with_suffix(".txt").read_text())
        for path in sorted(directory.glob("*.html"))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, action="append", default=[])
    parser.add_argument("--show-worst", type=int, default=0, help="list our N worst pages")
    args = parser.parse_args()
    pages = build_corpus()
    for directory in args.pages:
        if not directory.is_dir():
            parser.error(f"--pages {directory}: not a directory of .html and .txt files")
        pages.extend(load_directory(directory))
    groups: dict[str, list[Page]] = {}
    for page in pages:
        groups.setdefault(page.kind, []).append(page)
    print(f"{'pages':<10}{'n':>4}  {'extractor':<24}{'precision':>10}{'recall':>8}{'F1':>8}")
    for kind, group in groups.items():
        for name, extractor in EXTRACTORS.items():
            counts = [tp_fp_fn(page.truth, extractor(page.html)) for page in group]
            p, r, f1 = scores(counts)
            print(f"{kind:<10}{len(group):>4}  {name:<24}{p:>10.3f}{r:>8.3f}{f1:>8.3f}")
            if name == "ours" and args.show_worst:
                ranked = sorted(zip(counts, group, strict=True), key=lambda item: item[0][0])
                for (tp, fp, fn), page in ranked[: args.show_worst]:
                    print(f"    {page.key}: tp={tp:.2f} fp={fp:.2f} fn={fn:.2f}")


if __name__ == "__main__":
    main()
