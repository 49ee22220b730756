"""Extraction: HTML main text, PDF in a limited subprocess, plain text encodings, sniffing."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from ats.tests.subprocess_env import production_env, run_python
from research.sources import html
from research.sources.extract import (
    EXTRACTOR_VERSION,
    extract,
    normalize_text,
    sniff_content_type,
    text_sha256,
    word_count,
)
from research.sources.pdf import PdfLimits

from . import sources_pages as pages
from . import sources_pdfs as pdfs


def test_html_main_text_without_boilerplate() -> None:
    body = pages.ARTICLE.encode()
    result = extract(body=body, content_type="text/html", url="https://news.example/a")

    assert result.kind == "html"
    assert "closed a $48 million Series C round led by Harbor Lane Capital" in result.text
    assert "Northwind Robotics raises $48 million" in result.text  # the headline is kept
    for boilerplate in ("cookies", "Accept all", "Contact sales", "Privacy policy",
                        "Subscribe to our newsletter", "Share on LinkedIn", "Book a"):  # fmt: skip
        assert boilerplate not in result.text
    assert result.word_count >= 150
    assert result.title.startswith("Northwind Robotics raises $48 million")
    assert result.material_hash == hashlib.sha256(body).hexdigest()
    assert result.text_hash == hashlib.sha256(result.text.encode()).hexdigest()
    assert result.extractor_version == EXTRACTOR_VERSION
    assert result.pdf_status is None
    record = json.loads(json.dumps(result.to_record()))
    assert "text" not in record and record["word_count"] == result.word_count


def test_extraction_is_deterministic() -> None:
    first = extract(body=pages.ARTICLE.encode(), content_type="text/html")
    second = extract(body=pages.ARTICLE.encode(), content_type="text/html")

    assert first == second


def test_html_signals_for_classification() -> None:
    login = extract(body=pages.LOGIN.encode(), content_type="text/html")
    article = extract(body=pages.ARTICLE.encode(), content_type="text/html")

    assert login.signals["password_field"] and login.signals["login_form"]
    assert not article.signals["password_field"]
    assert article.signals["h1"].startswith("Northwind Robotics raises")


def test_paywall_markup_is_a_signal() -> None:
    html = pages.site_page(
        "Premium",
        '<article><div class="article-body paywall"><p>Only the first lines are visible.</p>'
        '</div><script type="application/ld+json">{"@type": "NewsArticle", '
        '"isAccessibleForFree": false}</script></article>',
    )
    assert extract(body=html.encode(), content_type="text/html").signals["paywall_markup"]


def test_xhtml_and_declared_charsets() -> None:
    xhtml = (
        '<?xml version="1.0" encoding="iso-8859-1"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>Caf\xe9</title></head><body><main><p>Le caf\xe9 de la gare est ouvert "
        "tous les jours depuis 1921.</p></main></body></html>"
    ).encode("iso-8859-1")
    result = extract(body=xhtml, content_type="application/xhtml+xml", charset="iso-8859-1")

    assert "Le café de la gare est ouvert tous les jours depuis 1921." in result.text
    meta = b'<html><head><meta charset="windows-1252"></head><body><p>na\xefve caf\xe9</p>'
    assert "naïve café" in extract(body=meta, content_type="text/html").text


def test_plain_text_encoding_and_line_endings() -> None:
    body = pages.PLAIN_TEXT.encode("cp1252")
    declared = extract(body=body, content_type="text/plain", charset="windows-1252")
    detected = extract(body=body, content_type="text/plain")

    assert declared.text == detected.text
    assert "\u201cfulfilment as a service\u201d" in declared.text
    assert "Renée Duval" in declared.text
    assert "\r" not in declared.text
    assert declared.kind == "text"
    assert declared.title == "Crestline Logistics \u2013 company notes"
    utf16 = extract(body="Grüße aus Köln".encode("utf-16"), content_type="text/plain")
    assert utf16.text == "Grüße aus Köln"


def test_pdf_text() -> None:
    result = extract(body=pdfs.text_pdf(pages.PDF_PAGES), content_type="application/pdf")

    assert result.kind == "pdf"
    assert result.pdf_status == "ok"
    assert "Meridian Freight operates 48 cross-dock terminals" in result.text
    assert "Rotterdam and Antwerp hubs" in result.text
    assert result.signals["pdf_pages"] == 2
    assert result.word_count >= 50


def test_image_only_pdf() -> None:
    result = extract(body=pdfs.image_only_pdf(pages=2), content_type="application/pdf")

    assert result.pdf_status == "image_only"
    assert result.text == "" and result.word_count == 0


def test_password_protected_pdf() -> None:
    result = extract(
        body=pdfs.encrypted_pdf("Confidential figures"), content_type="application/pdf"
    )

    assert result.pdf_status == "encrypted"
    assert result.text == ""


def test_pdf_encrypted_with_an_empty_password_is_read() -> None:
    body = pdfs.encrypted_pdf("Open to everyone who has the file", user_password="")
    result = extract(body=body, content_type="application/pdf")

    assert result.pdf_status == "ok"
    assert "Open to everyone" in result.text


@pytest.mark.parametrize("body", [b"%PDF-1.7\n garbage", b"", b"%PDF-1.4\n" + bytes(5000)])
def test_broken_pdf_never_raises(body: bytes) -> None:
    result = extract(body=body, content_type="application/pdf")

    assert result.pdf_status == "error"
    assert result.text == ""
    assert result.signals["pdf_error"]


def test_pdf_decompression_bomb_is_stopped() -> None:
    started = time.monotonic()
    result = extract(
        body=pdfs.decompression_bomb_pdf(megabytes=300), content_type="application/pdf"
    )

    assert result.pdf_status == "error"
    assert time.monotonic() - started < 30  # bounded by the limits, not by the bomb


def test_huge_pdf_reads_only_the_first_pages() -> None:
    body = pdfs.many_pages_pdf(2000)
    result = extract(body=body, content_type="application/pdf", pdf_limits=PdfLimits(max_pages=50))

    assert result.pdf_status == "ok"
    assert result.signals["pdf_pages"] == 2000
    assert result.signals["pdf_pages_read"] == 50
    assert result.signals["pdf_truncated"] is True
    assert "Page 49 of the annual report" in result.text
    assert "Page 50 of" not in result.text


def test_pdf_wall_clock_limit_kills_the_parser() -> None:
    limits = PdfLimits(timeout=0.2, max_pages=10_000)  # 2,000 pages need far longer
    result = extract(
        body=pdfs.many_pages_pdf(2000), content_type="application/pdf", pdf_limits=limits
    )

    assert result.pdf_status == "error"
    assert result.signals["pdf_error"].startswith("time_limit")


def test_pdf_memory_limit_is_enforced_in_the_child() -> None:
    limits = PdfLimits(memory_bytes=32 * 1024 * 1024)  # too little even to load the parser
    result = extract(
        body=pdfs.text_pdf(["tiny"]), content_type="application/pdf", pdf_limits=limits
    )

    assert result.pdf_status == "error"


def test_unsupported_content() -> None:
    result = extract(body=b"\x89PNG\r\n", content_type="image/png")

    assert result.kind == "unsupported" and result.text == ""


@pytest.mark.parametrize(
    ("body", "declared", "filename", "expected"),
    [
        (b"%PDF-1.7\n...", None, "report.txt", "application/pdf"),
        (b"  <!DOCTYPE html><html><body>x</body></html>", None, None, "text/html"),
        (b"<html><body>x</body></html>", "application/xhtml+xml", None, "application/xhtml+xml"),
        (
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"></html>',
            None,
            None,
            "application/xhtml+xml",
        ),
        (b'<?xml version="1.0"?><rss><channel></channel></rss>', None, "feed.html", None),
        (b"<p>Some <b>markup</b> without a doctype</p>", None, "page.html", "text/html"),
        (b"<p>Some <b>markup</b> without a doctype</p>", None, None, "text/html"),
        (b"Plain words, nothing else.\n", None, "notes.html", "text/plain"),
        (b"Plain words in a file named like a PDF", None, "scan.pdf", "text/plain"),
        ("Grüße".encode("utf-16"), None, None, "text/plain"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None, "image.html", None),
        (b"PK\x03\x04 docx", None, "letter.txt", None),
        (b"\x00\x01\x02\x03binary", None, None, None),
        (b"", None, "empty.txt", None),
    ],
)
def test_sniff_content_type_by_content(
    body: bytes, declared: str | None, filename: str | None, expected: str | None
) -> None:
    assert sniff_content_type(body, declared=declared, filename=filename) == expected


def test_normalize_text() -> None:
    raw = "  Caf\u0065\u0301 \u00a0 menu\r\nline two\rline three\u2028\n\n\n\nlast\x00  "

    assert normalize_text(raw) == "Café menu\nline two\nline three\n\nlast"
    assert text_sha256(raw) == text_sha256("Café menu\nline two\nline three\n\nlast")


def test_word_count_is_unicode_aware() -> None:
    assert word_count("Ren\u00e9e's co-founder met O\u2019Brien in Z\u00fcrich.") == 6
    assert word_count("東京都に本社") == 6


FEATURE_GRID = """<h1>Corvid Sentinel</h1>
<p>Corvid Sentinel watches every controller and engineering workstation on a plant network and
flags behaviour that does not match the baseline it has learned over the first weeks.</p>
<ul class="features">
<li><h2>Asset inventory</h2><p>Every device on the plant network is discovered within hours,
with its firmware version, vendor and the protocols it speaks.</p>
<a class="more" href="/inventory">Learn more about inventory</a></li>
<li><h2>Risk ranking</h2><p>Alerts are ranked by their risk to safety and uptime, so the night
shift sees the three that matter instead of three hundred.</p>
<a class="more" href="/ranking">Learn more</a></li>
</ul>
<p>Corvid Security was founded in 2016 in Tel Aviv and opened its US headquarters in Houston in
2022; it protects more than 1,200 sites in energy, water and chemicals.</p>
<p><a href="/a">Energy</a> <a href="/b">Water</a> <a href="/c">Chemicals</a>
<a href="/d">Food</a></p>
<p>&copy; 2026 Corvid Security Ltd.</p>"""


def test_calls_to_action_and_link_rows_inside_the_content_are_dropped() -> None:
    html = pages.site_page("Corvid Sentinel", FEATURE_GRID, site="Corvid Security")
    text = extract(body=html.encode(), content_type="text/html").text

    for kept in ("Asset inventory", "Every device on the plant network is discovered",
                 "founded in 2016 in Tel Aviv", "three that matter"):  # fmt: skip
        assert kept in text
    for dropped in ("Learn more", "Energy Water", "2026 Corvid Security Ltd"):
        assert dropped not in text


LAYOUT_TABLE_PAGE = """<html><head><title>Callows Audio</title></head><body>
<table width="755"><tr><td><img src="logo.jpg"></td>
<td><a href="about.htm"><img src="about.jpg"></a></td></tr>
<tr><td colspan="2"><strong>Mobile Disco</strong></td></tr>
<tr><td colspan="2">The roadshow was born in 1971, when Jim Lindsay started a mobile disco playing
Motown, stax and trojan music, and has since played every style its clients asked for.<br><br>
Callows Audio provides mobile discos for weddings, parties, celebrations, dinner dances and any
other special event for both private and business customers across south east England.<br><br>
We use professional equipment of the highest quality, with lighting and special effects if
required, and all of it is regularly PAT tested in compliance with current regulations.</td></tr>
</table></body></html>"""


def test_old_table_layouts_keep_their_text() -> None:
    text = extract(body=LAYOUT_TABLE_PAGE.encode(), content_type="text/html").text

    assert "The roadshow was born in 1971" in text
    assert "Callows Audio provides mobile discos for weddings" in text
    assert "regularly PAT tested" in text


TWO_COLUMN_TABLE_PAGE = """<html><head><title>Ferrow Design-Build</title></head><body>
<table><tr>
<td><h1>Innovations in Design, Construction and Customer Service</h1>
<p>Whether embarking on a custom home or a remodeling project, you deserve creative design,
quality craftsmanship and an award-winning customer experience from start to finish.</p>
<p>As a full-service firm, Ferrow Design-Build does a wide range of residential projects in the
Bryan and College Station area, from kitchens and baths to whole new homes.</p>
<ul><li><a href="/about">more about Ferrow Design-Build</a></li>
<li><a href="/process">more about our design-build process</a></li></ul></td>
<td><h4>news and events</h4>
<h3>August 21: <a href="/blog/worse">Home Improvements that Make Things Worse</a></h3>
<h1>What is your Dream Project?</h1>
Let us bring it to reality! <a href="/dream">Click here to get started</a></td>
</tr></table></body></html>"""
# What trafilatura returns for that page's first row when it drops the teaser column: the left
# cell's heading and paragraphs joined into one line.
TWO_COLUMN_TRAFILATURA_TEXT = (
    "| Innovations in Design, Construction and Customer Service Whether embarking on a custom "
    "home or a remodeling project, you deserve creative design, quality craftsmanship and an "
    "award-winning customer experience from start to finish. As a full-service firm, Ferrow "
    "Design-Build does a wide range of residential projects in the Bryan and College Station "
    "area, from kitchens and baths to whole new homes. |  |"
)


def test_a_line_joined_from_a_cells_blocks_stands_for_that_cell() -> None:
    """A line that is no block's whole text selects the smallest block holding it (the cell),
    not the whole page with the next column's teasers (which the region fallback would give)."""
    cleaned = html.remove_boilerplate(html._parse(TWO_COLUMN_TABLE_PAGE))

    container = html._content_container(cleaned, TWO_COLUMN_TRAFILATURA_TEXT)

    assert container is not None and container.tag == "td"
    text = html.region_text(html.drop_link_blocks(container))
    assert text.startswith("Innovations in Design, Construction and Customer Service\n")
    assert "does a wide range of residential projects" in text
    for dropped in ("Make Things Worse", "Dream Project", "more about"):
        assert dropped not in text
    # A block much longer than the line does not stand for it: no whole column for one sentence.
    assert html._content_container(cleaned, "| Whether embarking on a custom home |") is None


LIST_IN_A_CELL_PAGE = """<html><body><table><tr>
<td><p><strong>Why you should use Harrow Roofing</strong></p>
<ul><li>The highest quality products and service</li><li>Our work is guaranteed</li></ul>
<p><strong>Services we offer</strong></p>
<ul><li>New roofs, flat or pitched</li><li>Roof repairs</li><li>Guttering</li></ul>
<p>We are members of the Federation of Master Builders and have over 25 years of experience
in the trade.</p></td>
<td>Write to us: 6-8 Elm Road, Sevenoaks, Kent</td></tr></table></body></html>"""


def test_a_joined_line_without_the_lists_between_its_blocks_stands_for_their_cell() -> None:
    """trafilatura leaves the lists out of the cell's line: the cell is still found (its words
    in order), and the container's text brings the lists back."""
    cleaned = html.remove_boilerplate(html._parse(LIST_IN_A_CELL_PAGE))
    joined = (
        "| Why you should use Harrow Roofing Services we offer We are members of the Federation"
        " of Master Builders and have over 25 years of experience in the trade. | |"
    )

    container = html._content_container(cleaned, joined)

    assert container is not None and container.tag == "td"
    text = html.region_text(container)
    assert "Our work is guaranteed\nServices we offer\nNew roofs, flat or pitched" in text
    assert "Write to us" not in text


ADDRESS_CELLS_PAGE = """<html><head><title>Quick Quote | Fincorra</title></head><body>
<div id="center"><h1>Car Finance Quick Quote</h1>
<p>Interested in a quotation? Here are our contact details.</p>
<p><b>Fincorra Pty Ltd</b></p>
<table><tr>
<td><p>Level 2, 845 Pacific Highway<br>Chatswood NSW 2067<br>ABN 67 107 000 931</p></td>
<td><p>PO Box 5214<br>West Chatswood<br>NSW 1515</p></td>
<td><p>Office hours are 9am until 7pm<br>eastern daylight time.<br>Phone: 1300 000 227<br>
Fax: (02) 9411 0000</p></td></tr></table></div>
<div id="bottom1">Fincorra is a privately owned Australian company based in Sydney. As a
specialist automotive finance company, Fincorra provides car finance and car leasing solutions
to any resident within Australia.<br><a href="/">Car Loans Australia</a> |
<a href="/chattel">Chattel Mortgages</a> | <a href="/calculators">Car Finance Calculator</a> |
<a href="/news">News</a> | <a href="/sitemap">Sitemap</a></div>
<div id="bottom"><div id="b1">&copy; Copyright 2003-2014 Fincorra Pty Ltd.</div></div>
</body></html>"""


def test_lines_broken_by_br_are_found_in_their_block() -> None:
    """ "Highway<br>Chatswood" is two words in trafilatura's text: the block is found and the
    content kept without the site's footer blurb below it."""
    text = extract(body=ADDRESS_CELLS_PAGE.encode(), content_type="text/html").text

    for kept in ("Car Finance Quick Quote", "845 Pacific Highway", "West Chatswood",
                 "Phone: 1300 000 227"):  # fmt: skip
        assert kept in text
    assert "privately owned Australian company" not in text
    assert "Copyright" not in text


@pytest.mark.sqlite
def test_only_extracting_loads_the_extraction_libraries(tmp_path) -> None:
    # They cost a process about 25 MiB: the admin, the API and the worker load them only
    # when a page is extracted (a module-level import in the wrong place brings them back).
    loaded = "print(' '.join(m for m in ('trafilatura', 'pypdf') if m in sys.modules) or '-')"
    code = "; ".join(
        [
            "import sys, django",
            "django.setup()",
            "from django.urls import get_resolver",
            "get_resolver().url_patterns",  # the admin's and the API's modules
            "import jobs.worker, research.services.stages",
            "from research.sources.extract import extract",
            loaded,
            "extract(body=b'<html><body><p>Hello there.</p></body></html>',"
            " content_type='text/html', url='https://news.example/a')",
            loaded,
        ]
    )
    result = run_python(code, production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["-", "trafilatura"]
