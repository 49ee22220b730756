"""HTML main text, tuned for company and service pages as well as articles.

trafilatura alone is built for articles: on company pages (a hero, short feature blurbs, a team
grid, CTA and logo bands between sections) it keeps calls to action and drops the headings and
short blocks that carry the facts. So:

1. boilerplate that is boilerplate on any site is removed by its markup: navigation, header,
   footer and aside landmarks, cookie/consent banners, newsletter, share, chat and testimonial
   widgets, hidden elements, small forms (class/id words in `_BOILERPLATE_WORDS`);
2. trafilatura, with `favor_precision`, picks the content paragraphs of what is left (its
   default mode when precision mode kept less than half of what the default keeps: on old
   table layouts and short pages it throws the content away with the boilerplate);
3. the smallest element containing all of them is taken (table cells count as blocks), calls
   to action, link rows and copyright lines inside it are dropped ("Learn more", "Top of
   page", menus), and its own text (headings, lists and short blocks included, one block a
   line) is the main text. A line trafilatura joined from several blocks (a table cell's
   heading and paragraphs, without the lists between them) stands for the smallest block
   holding its words in order. When trafilatura's lines
   cannot be found in the page, its text is used, or the main landmark's when trafilatura kept
   much less than it.

`bench/extraction.py` measures this against plain `trafilatura.extract` on real company pages,
public benchmark pages and synthetic ones (figures in docs/benchmarks-extraction.md).
Classification signals (login forms, paywall markup, the title and first heading) are read
from the whole page before the clean-up.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

_BOILERPLATE_TAGS = frozenset(
    {"nav", "footer", "aside", "script", "style", "noscript", "template", "svg", "iframe",
     "button", "select", "dialog", "canvas", "object", "embed"}
)  # fmt: skip
_BOILERPLATE_ROLES = frozenset(
    {"navigation", "contentinfo", "complementary", "search", "dialog", "alertdialog", "banner",
     "menu", "menubar", "toolbar", "alert", "marquee"}
)  # fmt: skip
# Class or id words of boilerplate widgets, matched as whole words of the attribute
# ("cookie-banner" and "site_footer" match, "footnote" does not).
_BOILERPLATE_WORDS = re.compile(
    r"(?:^|[\s_-])(?:cookies?|consent|gdpr|ccpa|onetrust|cookiebot|cmp|newsletter|subscribe|"
    r"subscription|signup|sign-up|social|share|sharing|sharedaddy|breadcrumbs?|skip-link|"
    r"sr-only|screen-reader-text|visually-hidden|modal|popup|pop-up|overlay|announcement|"
    r"promo-bar|topbar|top-bar|cta|call-to-action|related|recommended|sidebar|widget-area|"
    r"footer|navbar|nav|menu|mega-menu|chat-widget|intercom|livechat|back-to-top|pagination|"
    r"comments?|disqus|tag-?list|tags|logo-?(?:strip|wall|grid|cloud)|trusted-by|"
    r"clients-logos|testimonials?|banner|toast|offcanvas|drawer)(?:$|[\s_-])",
    re.IGNORECASE,
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_PAYWALL_WORDS = re.compile(
    r"(?:^|[\s_-])(?:paywall|regwall|metered|piano-?(?:offer|template)|premium-(?:content|wall)|"
    r"subscriber-only|subscribers-only|locked-content|article-locked|tp-modal)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
     "h6", "tr", "td", "th", "table", "blockquote", "pre", "dd", "dt", "dl", "br", "figcaption",
     "address", "header"}
)  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_COPYRIGHT = re.compile(r"^\W*(?:©|\(c\)|copyright\b)", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
# trafilatura returning less than this share of the cleaned region's words means it dropped
# content blocks (typical on company pages made of short sections).
_FALLBACK_SHARE = 0.6
# trafilatura's precision mode keeping less than this share of what its default mode keeps means
# it threw the content away with the boilerplate (old table layouts, short pages): use the default.
# Not a half: on short pages the default mode's extra is often a footer as long as the content.
_PRECISION_COLLAPSE = 0.3
# A trafilatura line found inside a block rather than equal to one stands for that block only
# when the block has at most this many times its words (a cell's heading and paragraphs, not a
# whole column).
_CONTAINING_BLOCK_RATIO = 2
# A block made only of a link this short is a call to action or a menu item ("Learn more",
# "Top of page"); a block of several links that are most of its words is a menu or a link row.
_LINK_ONLY_WORDS = 6
_LINK_ROW_SHARE = 0.8
_COPYRIGHT_WORDS = 30


@dataclass(frozen=True)
class HtmlText:
    text: str
    title: str
    signals: dict[str, Any] = field(default_factory=dict)


def _parse(html: str) -> etree._Element | None:
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)  # lxml refuses str with an encoding declaration
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _attribute_words(element: etree._Element) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _protects_content(element: etree._Element) -> bool:
    """Never remove the region that holds the page's main heading or its main landmark."""
    return element.tag in ("main", "article", "body", "html") or bool(
        element.xpath(".//h1 | .//main | .//article | .//*[@role='main']")
    )


def _is_boilerplate(element: etree._Element) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _BOILERPLATE_TAGS:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    if _HIDDEN_STYLE.search(element.get("style", "")):
        return True
    if tag == "header" and not _protects_content(element):
        return True
    if tag == "form":
        return len(_WORD.findall(element.text_content())) < 80  # not a page-wrapping form
    if (element.get("role") or "").lower() in _BOILERPLATE_ROLES and not _protects_content(element):
        return True
    return bool(_BOILERPLATE_WORDS.search(_attribute_words(element))) and not _protects_content(
        element
    )


def remove_boilerplate(tree: etree._Element) -> etree._Element:
    """Drop boilerplate elements in place (their tail text is kept)."""
    for element in list(tree.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        if _is_boilerplate(element):
            element.drop_tree()
    for comment in tree.xpath("//comment()"):
        if comment.getparent() is not None:
            comment.drop_tree()
    return tree


def _main_region(tree: etree._Element) -> etree._Element:
    for query in ("//main", "//*[@role='main']", "//article"):
        found = tree.xpath(query)
        if len(found) == 1:
            return found[0]
    body = tree.find("body")
    return body if body is not None else tree


def region_text(element: etree._Element) -> str:
    """Visible text with a line break at every block boundary."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        block = tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if node.text and tag:
            parts.append(_SPACES.sub(" ", node.text))
        for child in node:
            walk(child)
            if child.tail:
                parts.append(_SPACES.sub(" ", child.tail))
        if block:
            parts.append("\n")

    walk(element)
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _signals(tree: etree._Element) -> dict[str, Any]:
    title = " ".join(tree.xpath("string(//title)").split())
    first_heading = " ".join(tree.xpath("string((//h1)[1])").split())
    password_fields = tree.xpath("//input[translate(@type, 'PASSWORD', 'password')='password']")
    paywall = any(
        _PAYWALL_WORDS.search(_attribute_words(element))
        for element in tree.iter()
        if isinstance(element.tag, str)
    )
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        if re.search(r'"isAccessibleForFree"\s*:\s*"?false', script, re.IGNORECASE):
            paywall = True
    robots = " ".join(tree.xpath("//meta[@name='robots']/@content")).lower()
    body = tree.find("body")
    page_words = len(_WORD.findall(body.text_content())) if body is not None else 0
    return {
        "title": title,
        "h1": first_heading,
        "password_field": bool(password_fields),
        "login_form": any(field.xpath("ancestor::form") for field in password_fields),
        # Outside headers, menus and dialogs: the page itself asks for a password.
        "password_in_content": any(
            not any(_is_boilerplate(ancestor) for ancestor in field.iterancestors())
            for field in password_fields
        ),
        "paywall_markup": paywall,
        "noindex": "noindex" in robots,
        "page_words": page_words,
    }


def _trafilatura_text(tree: etree._Element, url: str | None, *, precision: bool) -> str:
    text = trafilatura.extract(
        tree,
        url=url,
        output_format="txt",
        favor_precision=precision,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
    )
    return text or ""


def _block_keys(cleaned: etree._Element) -> dict[str, etree._Element]:
    """Each block's text, whitespace-normalized, mapped to the first block with that text."""
    for line_break in cleaned.iter("br"):  # "Hwy<br>Chatswood" is two words, as trafilatura says
        line_break.tail = " " + (line_break.tail or "")
    by_text: dict[str, etree._Element] = {}
    for element in cleaned.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCK_TAGS:
            by_text.setdefault(" ".join(element.text_content().split()), element)
    return by_text


def _in_order(words: list[str], block_words: list[str]) -> bool:
    """The words appear in the block in this order, other words allowed between them."""
    remaining = iter(block_words)
    return all(any(word == candidate for candidate in remaining) for word in words)


def _block_for(line: str, by_text: dict[str, etree._Element]) -> etree._Element | None:
    """The block whose text is the line, else the smallest block that holds the line's words in
    order and is not much longer: trafilatura joins a table cell's heading and paragraphs into
    one line, leaving out the lists between them."""
    key = " ".join(line.split())
    if key in by_text:
        return by_text[key]
    words = _WORD.findall(key)
    limit = _CONTAINING_BLOCK_RATIO * len(words)
    most_chars = 2 * _CONTAINING_BLOCK_RATIO * len(key)  # cheap bound before counting words
    best: tuple[int, etree._Element] | None = None
    for text, element in by_text.items():
        if not len(key) < len(text) <= most_chars:
            continue
        block_words = _WORD.findall(text)
        fits = len(block_words) <= limit and (best is None or len(block_words) < best[0])
        if fits and _in_order(words, block_words):
            best = (len(block_words), element)
    return best[1] if best else None


def _content_container(cleaned: etree._Element, text: str) -> etree._Element | None:
    """The smallest element holding the blocks trafilatura chose: their lowest common ancestor.
    trafilatura finds the content well but drops headings and short blocks between its
    paragraphs; the container's own text keeps them."""
    by_text = _block_keys(cleaned)
    # Table rows come out as "| cell | cell |": each cell is a block of its own.
    cells = (cell for line in text.split("\n") for cell in line.split("|"))
    lines = [cell.strip().removeprefix("- ").strip() for cell in cells]
    lines = [line for line in lines if len(_WORD.findall(line)) >= 4]
    found = [(line, _block_for(line, by_text)) for line in lines]
    matched = [element for _, element in found if element is not None]
    # Lines that match no single block (text spread over several) leave the choice unsure:
    # the blocks found must carry at least half of trafilatura's words.
    matched_words = sum(len(_WORD.findall(line)) for line, element in found if element is not None)
    if not matched or matched_words < 0.5 * sum(len(_WORD.findall(line)) for line in lines):
        return None
    common = list(reversed([matched[0], *matched[0].iterancestors()]))
    for element in matched[1:]:
        path = list(reversed([element, *element.iterancestors()]))
        length = 0
        while length < min(len(common), len(path)) and common[length] is path[length]:
            length += 1
        common = common[:length]
    return common[-1] if common else None


def _is_link_block(element: etree._Element) -> bool:
    """Calls to action, menus and link rows left inside the content: blocks that are only a
    short link, or several links with hardly any other words; copyright lines."""
    words = len(_WORD.findall(element.text_content()))
    if not words or element.tag in _HEADINGS:
        return False
    links = element.xpath(".//a")
    link_words = sum(len(_WORD.findall(link.text_content())) for link in links)
    if links and link_words == words and words <= _LINK_ONLY_WORDS:
        return True
    if len(links) >= 3 and link_words >= _LINK_ROW_SHARE * words:
        return True
    return words <= _COPYRIGHT_WORDS and bool(_COPYRIGHT.match(element.text_content()))


def _is_standalone_link(element: etree._Element) -> bool:
    """A short link set between blocks rather than inside a sentence ("Learn more" under a
    feature blurb): a button in all but markup."""
    previous = element.getprevious()
    return (
        element.tag == "a"
        and previous is not None
        and previous.tag in _BLOCK_TAGS
        and not (previous.tail or "").strip()
        and not (element.tail or "").strip()
        and 0 < len(_WORD.findall(element.text_content())) <= _LINK_ONLY_WORDS
    )


def drop_link_blocks(container: etree._Element) -> etree._Element:
    """Drop link-only blocks and standalone short links inside the container, in place (their
    tail text is kept)."""
    for element in list(container.iter()):
        if element is container or not isinstance(element.tag, str):
            continue
        if element.getparent() is None:
            continue
        block = element.tag in _BLOCK_TAGS and _is_link_block(element)
        if block or _is_standalone_link(element):
            element.drop_tree()
    return container


def _selection(cleaned: etree._Element, url: str | None) -> str:
    """trafilatura's choice of content, precision-tuned unless that mode collapsed."""
    precise = _trafilatura_text(copy.deepcopy(cleaned), url, precision=True)
    default = _trafilatura_text(copy.deepcopy(cleaned), url, precision=False)
    if len(_WORD.findall(precise)) < _PRECISION_COLLAPSE * len(_WORD.findall(default)):
        return default
    return precise


def extract_html(html: str, *, url: str | None = None) -> HtmlText:
    tree = _parse(html)
    if tree is None:
        return HtmlText(text="", title="", signals={"unparseable_html": True})
    signals = _signals(tree)
    cleaned = remove_boilerplate(tree)
    region = region_text(_main_region(cleaned))
    text = _selection(cleaned, url)
    container = _content_container(cleaned, text) if text else None
    if container is not None:
        text = region_text(drop_link_blocks(container))
        signals["extraction"] = "container"
    elif len(_WORD.findall(text)) < _FALLBACK_SHARE * len(_WORD.findall(region)):
        text = region
        signals["extraction"] = "region"
    else:
        signals["extraction"] = "trafilatura"
    return HtmlText(text=text, title=signals["title"] or signals["h1"], signals=signals)
