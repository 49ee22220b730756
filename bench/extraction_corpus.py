"""The extraction benchmark's pages: hand-written main texts of fictional companies, rendered
into the markup of real site families, with their boilerplate (cookie banners, mega-menus,
announcement bars, sidebars, calls to action, logo strips, testimonials, chat widgets,
newsletter forms, many-column footers).

Why generated: no public corpus of company/service pages with ground truth exists, and the
public article benchmarks keep their HTML compressed in repositories we cannot read from here.
Every main text below was written by hand for this benchmark (no page was copied), so the
corpus is ours to redistribute; the ground truth is exact by construction: the text of the
main-content blocks, in order, one block a line. `build_corpus()` is deterministic.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

Block = tuple[str, "str | list[str]"]  # ("h1" | "h2" | "h3" | "p" | "ul", text or items)


@dataclass(frozen=True)
class Page:
    key: str
    kind: str  # "company" (company/product/service pages) or "article" (news, press)
    html: str
    truth: str


# -- main texts -------------------------------------------------------------------------------

COMPANY_TEXTS: dict[str, tuple[str, list[Block]]] = {
    "about-halden": (
        "Halden Analytics",
        [
            ("h1", "About Halden Analytics"),
            (
                "p",
                "Halden Analytics builds forecasting software for mid-sized manufacturers. Founded "
                "in 2014 in Trondheim, Norway, the company now serves more than 600 plants in 19 "
                "countries from offices in Oslo, Hamburg and Chicago.",
            ),
            ("h2", "Our story"),
            (
                "p",
                "Halden began as a research project at the Norwegian University of Science and "
                "Technology, where founders Ingrid Solberg and Marcus Weber studied why production "
                "plans drifted from reality within days. Their first customer, a furniture maker "
                "in Ålesund, cut finished-goods inventory by a fifth in the first year.",
            ),
            (
                "p",
                "Today the company employs 210 people, half of them engineers and data "
                "scientists. Halden is backed by Nordic Growth Partners and Alder Capital and has "
                "been profitable since 2021.",
            ),
            ("h2", "What we believe"),
            (
                "ul",
                [
                    "Plans should update themselves when the factory changes.",
                    "Planners deserve tools that explain their recommendations.",
                    "Data stays with the customer, hosted in the region they choose.",
                ],
            ),
        ],
    ),
    "services-brightline": (
        "Brightline Consulting",
        [
            ("h1", "Supply chain consulting services"),
            (
                "p",
                "Brightline Consulting helps consumer-goods companies redesign their distribution "
                "networks. Our teams combine operations research with hands-on experience running "
                "warehouses and transport fleets.",
            ),
            ("h2", "Network design"),
            (
                "p",
                "We model your flows end to end and test hundreds of footprint scenarios, from "
                "adding a regional hub to consolidating plants. Typical projects run eight to "
                "twelve weeks and pay back within the first year.",
            ),
            ("h2", "Warehouse operations"),
            (
                "p",
                "Our operations specialists assess layout, slotting and labour planning, then "
                "stay on site to implement the changes with your supervisors.",
            ),
            ("h2", "Transport procurement"),
            (
                "p",
                "We run carrier tenders for road, rail and ocean freight on behalf of clients that "
                "spend between 20 and 400 million euros a year on transport.",
            ),
            (
                "p",
                "Brightline was founded in 2009 and has 85 consultants in Amsterdam, Madrid and "
                "Warsaw.",
            ),
        ],
    ),
    "product-corvid": (
        "Corvid Security",
        [
            ("h1", "Corvid Sentinel: endpoint protection for industrial networks"),
            (
                "p",
                "Corvid Sentinel watches every controller, engineering workstation and "
                "historian on "
                "your plant network and flags behaviour that does not match its learned "
                "baseline.",
            ),
            ("h2", "Built for operational technology"),
            (
                "p",
                "Sentinel understands industrial protocols such as Modbus, PROFINET and OPC UA. It "
                "runs passively on a mirrored port, so it never interrupts production.",
            ),
            ("h3", "Key capabilities"),
            (
                "ul",
                [
                    "Asset inventory discovered automatically within hours",
                    "Alerts ranked by their risk to safety and uptime",
                    "Integration with Splunk, Microsoft Sentinel and ServiceNow",
                    "On-premises deployment with no cloud dependency",
                ],
            ),
            ("h2", "Proven in the field"),
            (
                "p",
                "Sentinel protects more than 1,200 sites in energy, water and chemicals. Corvid "
                "Security was founded in 2016 in Tel Aviv and opened its US headquarters in "
                "Houston in 2022.",
            ),
        ],
    ),
    "leadership-aurelia": (
        "Aurelia Health",
        [
            ("h1", "Leadership"),
            (
                "p",
                "Aurelia Health is led by a team that has built and scaled healthcare services "
                "across Europe.",
            ),
            ("h3", "Sofia Marchetti, Chief Executive Officer"),
            (
                "p",
                "Sofia joined Aurelia as CEO in 2020 after eleven years at Medivia, where she ran "
                "the Southern Europe business. She holds an MBA from Bocconi University.",
            ),
            ("h3", "Thomas Brandt, Chief Financial Officer"),
            (
                "p",
                "Thomas leads finance, legal and investor relations. Before Aurelia he was CFO of "
                "the diagnostics group Laborwerk and a partner at a Frankfurt audit firm.",
            ),
            ("h3", "Amara Okafor, Chief Technology Officer"),
            (
                "p",
                "Amara oversees Aurelia's clinical software platform and its 140-person "
                "engineering team. She previously led patient-facing products at NHS Digital.",
            ),
            ("h3", "Lucas Moreau, Chief Operating Officer"),
            (
                "p",
                "Lucas is responsible for Aurelia's 38 outpatient clinics in France, Italy and "
                "Spain. He joined from the hospital operator Clinalys in 2021.",
            ),
        ],
    ),
    "home-tidewater": (
        "Tidewater Marine Systems",
        [
            ("h1", "Propulsion and power for working vessels"),
            (
                "p",
                "Tidewater Marine Systems designs hybrid propulsion systems for tugs, ferries and "
                "offshore supply vessels. Our drives cut fuel use by up to 30 percent on "
                "typical duty cycles.",
            ),
            ("h2", "Hybrid drives"),
            (
                "p",
                "Battery and diesel-electric drives sized for each vessel's operating profile, "
                "with retrofit kits for existing hulls.",
            ),
            ("h2", "Shore power"),
            (
                "p",
                "Charging and shore-connection systems for ports, delivered with the local grid "
                "operator.",
            ),
            ("h2", "Lifetime service"),
            (
                "p",
                "Service engineers in Gdańsk, Rotterdam and Singapore keep more than 400 vessels "
                "running around the clock.",
            ),
            (
                "p",
                "Tidewater is a subsidiary of the Danish engineering group Skovby Industries and "
                "employs 560 people.",
            ),
        ],
    ),
    "careers-pellucid": (
        "Pellucid Labs",
        [
            ("h1", "Careers at Pellucid Labs"),
            (
                "p",
                "Pellucid Labs develops optical sensors for semiconductor inspection. Our 95 "
                "physicists, engineers and technicians work from a single campus in Eindhoven.",
            ),
            ("h2", "How we work"),
            (
                "p",
                "Small teams own a product from the first prototype to series production. "
                "Engineers spend time on customer sites in Taiwan, Korea and the United States.",
            ),
            ("h2", "Open positions"),
            (
                "ul",
                [
                    "Senior optical engineer (Eindhoven)",
                    "Embedded software developer (Eindhoven)",
                    "Field application engineer (Hsinchu)",
                    "Head of quality (Eindhoven)",
                ],
            ),
            (
                "p",
                "We offer a pension plan, a training budget of 3,000 euros a year and relocation "
                "support for international hires.",
            ),
        ],
    ),
    "case-study-kestrel": (
        "Kestrel Freight",
        [
            ("h1", "How Kestrel Freight cut empty miles by 18 percent"),
            (
                "p",
                "Kestrel Freight runs 1,400 trucks across the Midwest. In 2024 its planners still "
                "matched loads to drivers with spreadsheets and phone calls.",
            ),
            ("h2", "The challenge"),
            (
                "p",
                "Empty return trips made up almost a quarter of all miles driven, and driver "
                "turnover had reached 60 percent a year.",
            ),
            ("h2", "The solution"),
            (
                "p",
                "Kestrel deployed the RouteForge planning platform in three terminals, then "
                "company-wide within five months. Planners now see recommended backhauls for every "
                "outbound load.",
            ),
            ("h2", "The results"),
            (
                "ul",
                [
                    "Empty miles down 18 percent in the first year",
                    "Driver turnover down to 41 percent",
                    "Two hours saved per planner per day",
                ],
            ),
        ],
    ),
    "about-verdant": (
        "Verdant Agritech",
        [
            ("h1", "Who we are"),
            (
                "p",
                "Verdant Agritech makes precision irrigation controllers for fruit and vegetable "
                "growers. Our controllers combine soil-moisture probes with local weather "
                "forecasts to water each block only when it needs it.",
            ),
            (
                "p",
                "The company was founded in 2012 in Murcia, Spain, by agronomist Elena Ruiz and "
                "electrical engineer Pablo Ortega. It has 130 employees and sells through "
                "distributors in 27 countries.",
            ),
            ("h2", "Our numbers"),
            (
                "ul",
                [
                    "14,000 controllers installed",
                    "Water savings of 20 to 35 percent",
                    "Revenue of 42 million euros in 2025",
                ],
            ),
            ("h2", "Ownership"),
            (
                "p",
                "Verdant has been majority owned by the infrastructure investor Greenfield "
                "Partners since 2023; the founders remain shareholders and lead the company.",
            ),
        ],
    ),
}

ARTICLE_TEXTS: dict[str, tuple[str, list[Block]]] = {
    "news-acquisition": (
        "The Industry Ledger",
        [
            ("h1", "Skovby Industries agrees to buy battery maker Nordcell"),
            (
                "p",
                "Danish engineering group Skovby Industries has agreed to acquire Nordcell, a "
                "Swedish maker of marine battery packs, for about 310 million euros, the companies "
                "said on Monday.",
            ),
            (
                "p",
                "Nordcell, founded in 2015 in Västerås, supplies batteries for hybrid ferries and "
                "tugs and employs 280 people. Skovby already owns the propulsion specialist "
                "Tidewater Marine Systems, one of Nordcell's largest customers.",
            ),
            (
                "p",
                "Skovby chief executive Henrik Dahl said the deal would let the group offer "
                "complete electric drive trains to shipyards. Nordcell's chief executive Karin "
                "Lund will continue to run the business as a separate division.",
            ),
            (
                "p",
                "The transaction requires approval from competition authorities in the European "
                "Union and is expected to close in the third quarter. Skovby will fund the "
                "purchase with cash and a new term loan.",
            ),
            (
                "p",
                "Analysts at Fjord Securities said the price valued Nordcell at roughly three "
                "times its expected 2026 revenue, in line with recent deals in the sector.",
            ),
        ],
    ),
    "news-appointment": (
        "Healthcare Business Weekly",
        [
            ("h1", "Aurelia Health names former Medivia executive as chair"),
            (
                "p",
                "Aurelia Health, the operator of outpatient clinics in France, Italy and Spain, "
                "has appointed Giulia Ferraro as chair of its supervisory board.",
            ),
            (
                "p",
                "Ferraro spent two decades at Medivia, most recently as head of its international "
                "division, and sits on the boards of two listed medical-device makers. She "
                "succeeds Pierre Lambert, who is retiring after seven years in the role.",
            ),
            (
                "p",
                "The appointment comes as Aurelia prepares to open twelve more clinics over the "
                "next two years, financed by a 150 million euro growth investment announced in "
                "January.",
            ),
            (
                "p",
                "Chief executive Sofia Marchetti said Ferraro's experience of regulated markets "
                "would help the company expand into Portugal and Germany.",
            ),
        ],
    ),
    "blog-funding": (
        "Startup Digest",
        [
            ("h1", "Pellucid Labs raises 60 million euros for chip inspection sensors"),
            (
                "p",
                "Eindhoven-based Pellucid Labs has raised 60 million euros in a Series B round "
                "led by Lowland Ventures, with participation from the semiconductor equipment "
                "maker Veldhoven Systems.",
            ),
            (
                "p",
                "The company develops optical sensors that find defects on wafers during "
                "production rather than after it. Its customers include two of the world's five "
                "largest chip makers, according to co-founder and chief executive Jan de Vries.",
            ),
            (
                "p",
                "Pellucid plans to double its headcount to about 190 by the end of next year and "
                "to open an application lab in Hsinchu, Taiwan.",
            ),
            (
                "p",
                "The round brings total funding to 85 million euros. Earlier investors include "
                "the Brabant Development Agency and the university fund of TU Eindhoven.",
            ),
        ],
    ),
    "press-release-contract": (
        "Tidewater Marine Systems",
        [
            ("h1", "Tidewater wins contract to electrify Baltic ferry fleet"),
            (
                "p",
                "Tidewater Marine Systems will supply hybrid propulsion for six passenger ferries "
                "operated by Baltic Lines, the companies announced today.",
            ),
            (
                "p",
                "The contract, worth about 45 million euros, covers battery systems, electric "
                "drives and shore-charging stations in Gdańsk and Karlskrona. Deliveries start in "
                "2027, with the last vessel converted by the end of 2028.",
            ),
            (
                "p",
                "Baltic Lines expects the conversion to cut the fleet's annual carbon dioxide "
                "emissions by about 60,000 tonnes.",
            ),
            (
                "p",
                "Tidewater, a subsidiary of Skovby Industries, has delivered hybrid systems for "
                "more than 70 vessels since 2018.",
            ),
        ],
    ),
}


# -- markup -----------------------------------------------------------------------------------


def _render_blocks(blocks: list[Block], *, block_class: str = "") -> str:
    out = []
    for tag, content in blocks:
        if tag == "ul":
            items = "".join(f"<li>{html.escape(item)}</li>" for item in content)
            out.append(f"<ul>{items}</ul>")
        else:
            attribute = f' class="{block_class}"' if block_class and tag == "p" else ""
            out.append(f"<{tag}{attribute}>{html.escape(str(content))}</{tag}>")
    return "\n".join(out)


def _truth(blocks: list[Block]) -> str:
    lines: list[str] = []
    for _tag, content in blocks:
        lines.extend(content if isinstance(content, list) else [content])
    return "\n".join(lines)


MENU = ["Products", "Solutions", "Industries", "Resources", "Company", "Careers", "Contact"]
FOOTER_COLUMNS = {
    "Company": ["About us", "Leadership", "Careers", "Press", "Contact"],
    "Resources": ["Blog", "Case studies", "Webinars", "Documentation", "Support"],
    "Legal": ["Privacy policy", "Cookie settings", "Terms of service", "Imprint"],
}


def _footer_links() -> str:
    columns = []
    for title, links in FOOTER_COLUMNS.items():
        items = "".join(f'<li><a href="/{link.lower().replace(" ", "-")}">{link}</a></li>'
                        for link in links)  # fmt: skip
        columns.append(f"<div class='col'><h4>{title}</h4><ul>{items}</ul></div>")
    return "".join(columns)


def semantic_template(site: str, main: str) -> str:
    """Landmark elements, a consent banner and a newsletter footer (many CMS themes)."""
    menu = "".join(f'<li><a href="/{item.lower()}">{item}</a></li>' for item in MENU)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{site}</title></head><body>
<a class="skip-link" href="#content">Skip to content</a>
<div id="onetrust-banner-sdk" class="otFlat"><div class="ot-sdk-container"><p>We and our
partners use cookies to personalise content and ads, to provide social media features and to
analyse our traffic.</p><button>Accept All Cookies</button><button>Cookie Settings</button>
</div></div>
<header class="site-header"><a class="logo" href="/">{site}</a><nav><ul>{menu}</ul></nav>
<a class="btn" href="/demo">Request a demo</a></header>
<main id="content">{main}</main>
<footer class="site-footer"><div class="footer-columns">{_footer_links()}</div>
<div class="newsletter"><h4>Stay in the loop</h4><p>Get our monthly newsletter with product
news and industry insights.</p><form><input type="email"><button>Subscribe</button></form></div>
<p>&copy; 2026 {site}. All rights reserved.</p></footer></body></html>"""


def builder_template(site: str, main: str) -> str:
    """Div soup from a page builder: no landmarks, an announcement bar, a CTA band, a logo
    strip and testimonials between the content sections, a chat widget."""
    menu = "".join(f'<div class="menu-item"><a href="#">{item}</a></div>' for item in MENU)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{site}</title></head>
<body class="page-template-default"><div class="announcement-bar"><p>New: read our 2026
industry outlook report. <a href="/report">Download now</a></p></div>
<div class="elementor-section elementor-top-section"><div class="elementor-container">
<div class="elementor-widget-container"><a href="/"><img src="logo.png" alt="{site}"></a></div>
<div class="elementor-nav-menu">{menu}</div></div></div>
<div class="elementor-section"><div class="elementor-container"><div class="elementor-column">
<div class="elementor-widget-container">{main}</div></div></div></div>
<div class="elementor-section logo-strip"><p>Trusted by industry leaders</p><img src="a.png"
alt="Acme"><img src="b.png" alt="Globex"><img src="c.png" alt="Initech"></div>
<div class="elementor-section testimonials"><blockquote><p>"Working with {site} changed how we
plan our year. Highly recommended."</p><cite>VP Operations, a Fortune 500 company</cite>
</blockquote></div>
<div class="elementor-section cta"><h2>Ready to get started?</h2><p>Talk to our team and see
what we can do for you.</p><a href="/contact">Contact us</a></div>
<div class="elementor-section elementor-footer"><div class="footer-widgets">
{_footer_links()}</div><p>&copy; 2026 {site} | Privacy | Terms</p></div>
<div id="hubspot-messages-iframe-container" class="chat-widget"><p>Hi there! Have a question?
Chat with us.</p></div></body></html>"""


def sidebar_template(site: str, main: str) -> str:
    """A two-column news/blog layout: breadcrumbs, byline, share buttons, a sidebar with most
    read stories, related articles and a comment prompt."""
    menu = " | ".join(f'<a href="/{item.lower()}">{item}</a>' for item in ["News", "Markets",
                      "Technology", "Opinion", "Events", "Subscribe"])  # fmt: skip
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{site}</title></head>
<body><div id="top-bar">Monday, 2 March 2026 | <a href="/login">Sign in</a></div>
<div id="masthead"><h2 class="site-title">{site}</h2><div class="navbar">{menu}</div></div>
<div class="container"><div class="row"><div class="col-md-8 content-area">
<ol class="breadcrumb"><li>Home</li><li>News</li></ol>
<div class="entry"><p class="byline-meta">By Staff Writer · 4 min read</p>
{main}
<div class="share-buttons"><a href="#">Share on LinkedIn</a><a href="#">Share by email</a></div>
</div>
<div class="related-posts"><h3>Related articles</h3><ul><li><a href="#">Five trends shaping
logistics in 2026</a></li><li><a href="#">Interview: the new CFO playbook</a></li></ul></div>
<div id="comments"><h3>Leave a comment</h3><p>You must be logged in to post a comment.</p></div>
</div><div class="col-md-4 sidebar"><h3>Most read</h3><ol><li>Markets close higher on rate
hopes</li><li>The quiet boom in industrial software</li></ol><div class="ad">Advertisement</div>
</div></div></div><div id="footer">{_footer_links()}<p>&copy; {site} 2026</p></div>
</body></html>"""


def marketing_template(site: str, main: str) -> str:
    """A modern marketing site (Webflow/Next.js style): utility class names that say nothing,
    a mega-menu with descriptive blurbs, and CTA, stats, logo and resource-card sections inside
    <main> next to the content; the consent banner comes last in the body."""
    mega = "".join(
        f'<div class="dropdown_link"><div class="text-weight-semibold">{item}</div>'
        f'<div class="text-size-small">Explore how {site} helps teams with {item.lower()}.'
        "</div></div>"
        for item in MENU[:4]
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{site}</title></head>
<body><div class="page-wrapper"><div class="navbar_component"><div class="navbar_container">
<a href="/" class="navbar_logo-link">{site}</a><div class="navbar_menu">{mega}</div>
<a href="/login" class="button is-secondary">Log in</a><a href="/demo" class="button">Get a
demo</a></div></div>
<main class="main-wrapper"><div class="section_header"><div class="padding-global">
<div class="container-large">{main}</div></div></div>
<div class="section_stats"><div class="stats_grid"><div><div class="heading-style-h2">4.8/5
</div><div>average rating on G2</div></div><div><div class="heading-style-h2">24/7</div><div>
support in English and German</div></div></div></div>
<div class="section_resources"><h2>Resources</h2><div class="card"><h3>Guide: building a
business case</h3><p>Everything you need to convince your CFO.</p><a href="#">Read more</a>
</div><div class="card"><h3>Webinar on demand</h3><p>Watch our product experts walk through
the platform.</p><a href="#">Watch now</a></div></div>
<div class="section_layout"><h2>Join thousands of teams who trust {site}</h2><p>Start your
free trial today. No credit card required.</p><a class="button" href="/trial">Start free
trial</a></div></main>
<div class="footer_component">{_footer_links()}<div class="footer_address">{site},
Registered office: 1 Harbour Street. Company registration 0123456.</div>
<div>&copy; 2026 {site}</div></div></div>
<div class="cc-window cc-floating"><span class="cc-message">This website uses cookies to
ensure you get the best experience on our website.</span><a class="cc-btn">Got it!</a></div>
</body></html>"""


TEMPLATES = {
    "semantic": semantic_template,
    "builder": builder_template,
    "sidebar": sidebar_template,
    "marketing": marketing_template,
}


def build_corpus() -> list[Page]:
    pages = []
    for kind, texts in (("company", COMPANY_TEXTS), ("article", ARTICLE_TEXTS)):
        for key, (site, blocks) in texts.items():
            for template_name, template in TEMPLATES.items():
                main = _render_blocks(blocks)
                pages.append(
                    Page(f"{key}/{template_name}", kind, template(site, main), _truth(blocks))
                )
    return pages
