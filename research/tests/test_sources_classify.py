"""Classification (SPEC §8): every reason code, end to end from the local fixture server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from research.sources import classify as c
from research.sources.extract import Extraction, extract
from research.sources.fetch import FetchFailed, FetchPolicy, fetch_url

from . import sources_pages as pages
from .sources_server import FixtureServer, serve_fixtures


@pytest.fixture(scope="module")
def fixture_server() -> Iterator[FixtureServer]:
    with serve_fixtures() as server:
        yield server


POLICY = FetchPolicy(allow_private_networks=True, connect_timeout=2, read_timeout=2, max_retries=0)


def fetched(server: FixtureServer, path: str) -> tuple[Extraction, c.Classification]:
    result = fetch_url(server.url(path), policy=POLICY)
    extraction = extract(body=result.body, content_type=result.content_type, charset=result.charset)
    return extraction, c.classify(extraction=extraction, unsupported_type=not result.supported)


def test_good_article_is_accepted(fixture_server: FixtureServer) -> None:
    extraction, classification = fetched(fixture_server, "/article")

    assert extraction.word_count >= 150
    assert classification == c.Classification(decision=c.ACCEPT, reason_codes=(), details={})


def test_near_copy_on_the_same_template_is_a_duplicate(fixture_server: FixtureServer) -> None:
    article, _ = fetched(fixture_server, "/article")
    copy, copy_classification = fetched(fixture_server, "/article-copy")
    thin, _ = fetched(fixture_server, "/thin")

    groups = c.near_duplicate_groups(
        {"article": article.text, "copy": copy.text, "thin": thin.text}
    )

    primary = "article" if len(article.text) >= len(copy.text) else "copy"
    duplicate = "copy" if primary == "article" else "article"
    assert groups == {duplicate: primary}
    flagged = c.with_codes(copy_classification, c.FLAG_DUPLICATE_TEMPLATE)
    assert flagged.decision == c.FLAG
    assert flagged.reason_codes == (c.FLAG_DUPLICATE_TEMPLATE,)


def test_thin_page_is_rejected(fixture_server: FixtureServer) -> None:
    extraction, classification = fetched(fixture_server, "/thin")

    assert classification.decision == c.REJECT
    assert classification.reason_codes == (c.REJECT_THIN_CONTENT,)
    assert classification.details[c.REJECT_THIN_CONTENT] == {
        "word_count": extraction.word_count,
        "min_words": 150,
    }


def test_login_page_is_flagged(fixture_server: FixtureServer) -> None:
    _, classification = fetched(fixture_server, "/login")

    assert c.FLAG_PAYWALL_OR_LOGIN in classification.reason_codes
    assert c.REJECT_THIN_CONTENT in classification.reason_codes  # a login wall is thin too
    assert classification.decision == c.REJECT


def test_error_page_served_with_200_is_flagged(fixture_server: FixtureServer) -> None:
    _, classification = fetched(fixture_server, "/error-200")

    assert c.FLAG_ERROR_PAGE in classification.reason_codes
    assert classification.details[c.FLAG_ERROR_PAGE]["why"] in ("error title", "error h1")


def test_pdf_with_text_is_accepted(fixture_server: FixtureServer) -> None:
    extraction, classification = fetched(fixture_server, "/report.pdf")

    assert extraction.word_count >= 50
    assert classification.decision == c.ACCEPT


@pytest.mark.parametrize(
    ("path", "status"), [("/scan.pdf", "image_only"), ("/locked.pdf", "encrypted")]
)
def test_unextractable_pdf_is_flagged_not_rejected(
    fixture_server: FixtureServer, path: str, status: str
) -> None:
    extraction, classification = fetched(fixture_server, path)

    assert extraction.pdf_status == status
    assert classification.reason_codes == (c.FLAG_UNEXTRACTABLE_PDF,)
    assert classification.decision == c.FLAG


def test_unsupported_type_is_flagged(fixture_server: FixtureServer) -> None:
    _, classification = fetched(fixture_server, "/image.png")

    assert classification.reason_codes == (c.FLAG_UNSUPPORTED_TYPE,)
    assert classification.details[c.FLAG_UNSUPPORTED_TYPE] == {"content_type": "image/png"}


def test_fetch_failure_is_rejected(fixture_server: FixtureServer) -> None:
    with pytest.raises(FetchFailed) as caught:
        fetch_url(fixture_server.url("/missing"), policy=POLICY)

    classification = c.classify(extraction=None, fetch_error=caught.value)

    assert classification.reason_codes == (c.REJECT_FETCH_FAILED,)
    assert classification.decision == c.REJECT
    assert classification.details[c.REJECT_FETCH_FAILED]["status"] == 404


def test_empty_text_is_rejected() -> None:
    extraction = extract(body=b"<html><body><div></div></body></html>", content_type="text/html")

    assert c.classify(extraction=extraction).reason_codes == (c.REJECT_EMPTY_TEXT,)


def test_thin_pdf_threshold_is_50_words() -> None:
    from .sources_pdfs import text_pdf

    short = extract(body=text_pdf([" ".join(["word"] * 49)]), content_type="application/pdf")
    enough = extract(body=text_pdf([" ".join(["word"] * 50)]), content_type="application/pdf")

    assert c.classify(extraction=short).reason_codes == (c.REJECT_THIN_CONTENT,)
    assert c.classify(extraction=enough).reason_codes == ()


def test_short_plain_text_is_not_thin() -> None:
    extraction = extract(body=b"Crestline hired a new COO.", content_type="text/plain")

    assert c.classify(extraction=extraction).decision == c.ACCEPT


LONG = " ".join(pages.ARTICLE_PARAGRAPHS)


@pytest.mark.parametrize(
    ("main", "expected"),
    [
        # Real-world walls: teaser plus subscriber wording, or a bare sign-in page.
        (f"<h1>Market update</h1><p>{pages.ARTICLE_PARAGRAPHS[0]}</p><p>Subscribe now to "
         "continue reading. Already a subscriber? Log in.</p>", c.FLAG_PAYWALL_OR_LOGIN),
        ("<h1>Log in</h1><p>Welcome back. Enter your email to receive a magic link.</p>",
         c.FLAG_PAYWALL_OR_LOGIN),
        # Error pages served with 200, and bot challenges.
        ("<h1>Oops! That page can\u2019t be found.</h1><p>It looks like nothing was found at "
         "this location.</p>", c.FLAG_ERROR_PAGE),
        ("<h1>Seite nicht gefunden</h1><p>Die angeforderte Seite existiert nicht.</p>",
         c.FLAG_ERROR_PAGE),
        ("<h1>Just a moment...</h1><p>Checking if the site connection is secure. Enable "
         "JavaScript and cookies to continue.</p>", c.FLAG_ERROR_PAGE),
        # Long articles that only mention these words are not flagged.
        (f"<h1>The error that cost a logistics firm millions</h1><p>{LONG}</p><p>The 404 "
         "page of its portal was shown to customers for a week.</p>", None),
        (f"<h1>Why newsrooms sign in readers</h1><p>Readers who log in to continue reading "
         f"tend to subscribe.</p><p>{LONG}</p>", None),
    ],
)  # fmt: skip
def test_login_and_error_heuristics(main: str, expected: str | None) -> None:
    extraction = extract(
        body=pages.site_page("Page", f"<main>{main}</main>").encode(), content_type="text/html"
    )
    codes = c.classify(extraction=extraction).reason_codes

    flags = {code for code in codes if code in (c.FLAG_PAYWALL_OR_LOGIN, c.FLAG_ERROR_PAGE)}
    assert flags == ({expected} if expected else set())


def test_header_login_form_on_a_long_article_is_not_a_login_page() -> None:
    page = pages.ARTICLE.replace(
        '<nav class="main-nav">',
        '<form class="login"><input type="password" name="pw"></form><nav class="main-nav">',
    )
    extraction = extract(body=page.encode(), content_type="text/html")

    assert extraction.signals["password_field"]
    assert c.classify(extraction=extraction).decision == c.ACCEPT


def test_title_of_a_404_page_flags_it() -> None:
    page = pages.ARTICLE.replace(
        "<title>Northwind Robotics raises $48 million to scale warehouse automation",
        "<title>404 Not Found",
    )
    extraction = extract(body=page.encode(), content_type="text/html")

    assert c.FLAG_ERROR_PAGE in c.classify(extraction=extraction).reason_codes


def test_decision_for_and_with_codes() -> None:
    assert c.decision_for([]) == c.ACCEPT
    assert c.decision_for([c.FLAG_ERROR_PAGE]) == c.FLAG
    assert c.decision_for([c.FLAG_ERROR_PAGE, c.REJECT_THIN_CONTENT]) == c.REJECT
    base = c.classify(extraction=extract(body=b"Notes.", content_type="text/plain"))
    both = c.with_codes(
        base, c.FLAG_DUPLICATE_TEMPLATE, c.FLAG_DUPLICATE_TEMPLATE,
        FLAG_DUPLICATE_TEMPLATE={"primary": 7},
    )  # fmt: skip
    assert both.reason_codes == (c.FLAG_DUPLICATE_TEMPLATE,)
    assert both.details[c.FLAG_DUPLICATE_TEMPLATE] == {"primary": 7}
    assert both.decision == c.FLAG
    assert set(c.REASON_CODES) == {
        "REJECT_EMPTY_TEXT", "REJECT_FETCH_FAILED", "REJECT_THIN_CONTENT", "FLAG_PAYWALL_OR_LOGIN",
        "FLAG_ERROR_PAGE", "FLAG_DUPLICATE_TEMPLATE", "FLAG_UNEXTRACTABLE_PDF",
        "FLAG_UNSUPPORTED_TYPE",
    }  # fmt: skip


def test_near_duplicate_groups_keep_the_longest_primary_and_are_deterministic() -> None:
    base = " ".join(pages.ARTICLE_PARAGRAPHS)
    texts = {
        3: base,
        1: base + " An extra closing sentence about the company's plans for Europe.",
        2: base.replace("Tuesday", "Wednesday"),
        4: "A completely different text about irrigation controllers in Murcia, Spain. " * 5,
        5: "",
    }

    assert c.near_duplicate_groups(texts) == {3: 1, 2: 1}
    assert c.near_duplicate_groups(dict(reversed(texts.items()))) == {3: 1, 2: 1}
    assert c.near_duplicate_groups({}) == {}
    same_length = {"b": "alpha beta gamma delta " * 20, "a": "alpha beta gamma delta " * 20}
    assert c.near_duplicate_groups(same_length) == {"a": "b"}  # ties: the first key wins


def test_different_articles_on_the_same_topic_are_not_duplicates() -> None:
    other = [paragraph.replace("Northwind", "Southwind") for paragraph in pages.ARTICLE_PARAGRAPHS]
    texts = {"first": " ".join(pages.ARTICLE_PARAGRAPHS[:3]), "second": " ".join(other[3:])}

    assert c.near_duplicate_groups(texts) == {}
