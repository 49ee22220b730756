"""The sources of the demo's sources run: an analyst's pasted notes and saved web pages, one
of each kind the classifier decides on (SPEC §8): accepted notes and articles, a near-copy of
a note, a paywalled teaser, an error page saved by mistake, a thin press note and an empty
page. All offline: pasted text and uploaded files, never a URL to fetch."""

from __future__ import annotations

from dataclasses import dataclass

from .cast import CLIENT, HARVEST, KESTREL, cast


@dataclass(frozen=True)
class Document:
    title: str
    filename: str  # "" for pasted text
    body: str
    expected: str  # the decision the pipeline should reach: accept | flag | reject

    @property
    def content_type(self) -> str:
        return "text/html" if self.filename.endswith(".html") else "text/plain"


def _fair_notes() -> str:
    known = cast().generated_known
    lines = [
        "Automatica 2026, Munich: notes from the robotics hall.",
        "",
        f"{CLIENT.name} showed its new welding cell; the stand was busy all day and its "
        "engineering director mentioned they are reorganising the R&D leadership.",
        f"{KESTREL.name} had three cobot arms on a shared conveyor; their sales lead said "
        "exports to North America doubled.",
    ]
    for company in known[:6]:
        lines.append(
            f"{company.name} ({company.city}) {company.activity}; roughly "
            f"{company.headcount} people, per the booth staff."
        )
    lines.append("Follow up with the three CTO candidates met at the networking evening.")
    return "\n".join(lines)


def _article_html() -> str:
    known = cast().generated_known
    paragraphs = [
        f"Collaborative robots have left the pilot phase. At {HARVEST.name} in Linz, harvesting "
        "robots now pick tomatoes around the clock in three Austrian greenhouses, and the "
        "company says its order book covers the next eighteen months.",
        f"In Zurich, {KESTREL.name} ships collaborative arms to thirty countries and is "
        "opening a service hub in Chicago. Its founders credit a modular wrist design that "
        "lets customers change tools in seconds instead of minutes.",
        f"{known[6].name} in {known[6].city} {known[6].activity}, while {known[7].name} "
        f"{known[7].activity}. Both report that customers now ask for complete cells rather "
        "than single machines, which favours suppliers with strong software teams.",
        "Hiring remains the bottleneck. Several chief executives told us that experienced "
        "robotics engineers are harder to find than capital, and that technology leaders who "
        "have scaled a product from prototype to series production are the scarcest of all. "
        "Salaries for such roles rose by about fifteen percent in two years, and many firms "
        "now recruit across borders, from Munich to Gothenburg and from Lyon to Brno.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Cobots leave the pilot phase | Automation Europe</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<main><article><h1>Cobots leave the pilot phase</h1>{body}</article></main>"
        "<footer>© 2026 Automation Europe</footer></body></html>"
    )


def _duplicate_notes(notes: str) -> str:
    """The fair notes as a colleague pasted them again, lightly edited."""
    lines = notes.split("\n")
    return "\n".join(lines[:-1]).replace("notes from the robotics hall", "robotics hall notes")


TEASER = (
    "European robot makers are competing for a small pool of engineering leaders. Founders, "
    "investors and headhunters told us what it takes to hire a chief technology officer "
    "today, and why the usual playbook no longer works. In Munich, a maker of welding robots "
    "spent eleven months looking for a head of software before promoting from within. In "
    "Gothenburg, a warehouse automation start-up hired its CTO from a video game studio, "
    "betting that real-time graphics experience transfers to fleet control. In Lyon, a "
    "family-owned gearbox maker turned to an executive search firm after two failed "
    "attempts to recruit through its own network. The common thread: candidates who have "
    "taken a product from prototype to series production are rare, they are rarely looking, "
    "and they want equity as much as salary. Compensation data from three recruiters shows "
    "that packages for such roles rose by about fifteen percent in two years, with the "
    "sharpest increases in Switzerland and the Nordics."
)
PAYWALL_HTML = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Inside the race for robotics talent | Industry Insider</title>"
    '<script type="application/ld+json">{"@type": "NewsArticle", '
    '"isAccessibleForFree": "False"}</script></head><body><main><article>'
    f"<h1>Inside the race for robotics talent</h1><p>{TEASER}</p>"
    "<p class='paywall'>Subscribe to continue reading this article.</p>"
    "</article></main></body></html>"
)
SUGGESTIONS = (
    "Cobots leave the pilot phase: harvesting robots, modular wrists and the hiring "
    "bottleneck in European automation.",
    "Why warehouse robots are moving from shuttles to autonomous mobile fleets, and what "
    "that means for suppliers of drives and sensors.",
    "Machine vision on the factory floor: three-dimensional cameras guide robots picking "
    "mixed parts from bins at full line speed.",
    "Energy costs push European manufacturers to modernise, and automation budgets grow "
    "even where the wider economy stalls.",
    "A guide to the trade fairs of the year, from Automatica in Munich to the Hannover Messe "
    "and the robotics week in Odense.",
)
ERROR_HTML = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>404 | Page not found</title></head><body><main>"
    "<h1>Page not found</h1><p>Sorry, the page you are looking for does not exist or has "
    "been moved. Try the search, go back to the home page, or read one of the articles our "
    "readers liked most this month:</p>"
    + "".join(f"<p>{line}</p>" for line in SUGGESTIONS * 2)
    + "</main></body></html>"
)
THIN_HTML = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Brenner Antriebe appoints new managing director</title></head><body><main>"
    "<article><h1>Brenner Antriebe appoints new managing director</h1>"
    "<p>Hamburg, 4 March 2026. Brenner Antriebe GmbH has appointed a new managing director "
    "with effect from April. Further details will follow.</p></article></main></body></html>"
)
EMPTY_HTML = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title></title>"
    "<script>window.location = '/app';</script></head><body><div id='app'></div></body></html>"
)


def documents() -> list[Document]:
    notes = _fair_notes()
    return [
        Document("Automatica 2026: fair notes", "", notes, "accept"),
        Document(
            "Call with a former Kestrel engineer",
            "",
            f"Call notes, 5 March 2026. A former engineering manager at {KESTREL.name} says "
            f"the company lost two senior robotics engineers to {CLIENT.name} last year and is "
            "hiring a head of R&D. Culture: engineering-led, flat, strong on safety. "
            f"Suggests {HARVEST.name} as a source of field-robotics talent.",
            "accept",
        ),
        Document("Automatica 2026: fair notes (copy)", "", _duplicate_notes(notes), "flag"),
        Document("Cobots leave the pilot phase", "cobots.html", _article_html(), "accept"),
        Document("Inside the race for robotics talent", "talent.html", PAYWALL_HTML, "flag"),
        Document("Saved link: Lumenbot press page", "lumenbot.html", ERROR_HTML, "flag"),
        Document("Brenner Antriebe: new managing director", "brenner.html", THIN_HTML, "reject"),
        Document("Careers page (app shell)", "careers.html", EMPTY_HTML, "reject"),
    ]
