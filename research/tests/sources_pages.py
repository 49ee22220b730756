"""Pages the fixture server serves: realistic markup with navigation, cookie banners and footers
around the part that matters."""

from __future__ import annotations


def site_page(title: str, main: str, *, site: str = "Northwind Robotics") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your experience.
By continuing to browse you accept our use of cookies.</p><button>Accept all</button>
<button>Manage preferences</button></div>
<header class="site-header"><a class="logo" href="/">{site}</a>
<nav class="main-nav"><ul><li><a href="/products">Products</a></li><li><a href="/solutions">
Solutions</a></li><li><a href="/company">Company</a></li><li><a href="/careers">Careers</a></li>
<li><a href="/contact">Contact sales</a></li></ul></nav></header>
<main>{main}</main>
<aside class="sidebar"><h3>Related</h3><ul><li><a href="/news/1">Northwind opens Austin
office</a></li><li><a href="/news/2">Webinar: automating inbound logistics</a></li></ul></aside>
<footer class="site-footer"><p>&copy; 2026 {site} Inc. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li>
<li><a href="/imprint">Imprint</a></li></ul>
<p>Subscribe to our newsletter</p><form><input type="email" placeholder="Email"></form></footer>
</body></html>"""


ARTICLE_PARAGRAPHS = [
    "Northwind Robotics, the Boston-based maker of autonomous pallet movers, said on Tuesday "
    "that it had closed a $48 million Series C round led by Harbor Lane Capital, with "
    "participation from existing investors Quarry Ventures and the logistics group Meridian "
    "Freight.",
    "The company, founded in 2017 by former MIT researchers Dana Whitfield and Arjun Mehta, "
    "employs about 240 people and says its robots now move goods in more than 90 warehouses "
    "across North America and Europe. Revenue roughly doubled last year, according to chief "
    "executive Dana Whitfield, although the company did not disclose exact figures.",
    "The new capital will fund a second manufacturing line in Worcester, Massachusetts, and "
    "the expansion of the firm's software team, which builds the fleet-management platform "
    "that schedules hundreds of robots in a single building. Northwind plans to hire 120 "
    "engineers and field technicians over the next eighteen months.",
    "Whitfield said demand had shifted from pilots to full deployments as warehouse operators "
    "struggled to hire enough forklift drivers. Customers include the grocery distributor "
    "FreshWay and the third-party logistics provider Crestline, which runs Northwind robots "
    "at six sites in Ohio and Pennsylvania.",
    "Analysts at Kestrel Research estimate that the market for autonomous mobile robots in "
    "warehouses will grow by about 25 percent a year through 2030, with competition from "
    "larger rivals such as Locus and from in-house systems built by the biggest retailers.",
]


def article_html(paragraphs: list[str], *, headline: str, byline: str) -> str:
    body = "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)
    main = f"""<article class="post"><h1>{headline}</h1>
<p class="byline">{byline}</p>
{body}
<div class="share"><a href="#">Share on LinkedIn</a> <a href="#">Share on X</a></div>
</article>
<section class="cta"><h2>See Northwind in action</h2><a class="button" href="/demo">Book a
demo</a></section>"""
    return site_page(headline, main)


ARTICLE = article_html(
    ARTICLE_PARAGRAPHS,
    headline="Northwind Robotics raises $48 million to scale warehouse automation",
    byline="By Jordan Ellis, March 3, 2026",
)
# The same press release syndicated on the same template: a new byline and one changed
# sentence. A near-duplicate, not an exact one.
ARTICLE_COPY = article_html(
    [
        *ARTICLE_PARAGRAPHS[:-1],
        ARTICLE_PARAGRAPHS[-1].replace("about 25 percent", "roughly a quarter"),
    ],
    headline="Northwind Robotics closes $48M Series C",
    byline="Staff report, March 4, 2026",
)

THIN = site_page(
    "Careers",
    "<h1>Careers</h1><p>We are always looking for talented people. "
    "Send your CV to jobs@northwind.example.</p>",
)

LOGIN = site_page(
    "Sign in",
    """<div class="login-box"><h1>Sign in to your account</h1>
<p>Please log in to continue reading this report. Subscribers get unlimited access to all
research, market data and company profiles.</p>
<form action="/session" method="post"><label>Email<input type="email" name="email"></label>
<label>Password<input type="password" name="password"></label>
<label><input type="checkbox" name="remember"> Remember me</label>
<button type="submit">Sign in</button></form>
<p><a href="/password/reset">Forgot your password?</a> New here?
<a href="/subscribe">Subscribe now</a> to read the full article.</p></div>""",
)

ERROR_200 = site_page(
    "Page not found",
    """<div class="error-page"><h1>404 - Page not found</h1>
<p>Sorry, the page you are looking for does not exist or has been moved.</p>
<p>Try searching our site or go back to the <a href="/">homepage</a>.</p></div>""",
)

PDF_PAGES = [
    "Meridian Freight annual report 2025\n"
    "Meridian Freight operates 48 cross-dock terminals in twelve countries and employs\n"
    "about 9,400 people. Revenue grew 11 percent to 2.3 billion euros, driven by contract\n"
    "logistics for grocery and pharmaceutical customers.",
    "The company invested in warehouse automation with partners including Northwind\n"
    "Robotics and expects to complete the rollout of autonomous pallet movers at its\n"
    "Rotterdam and Antwerp hubs by the end of 2026.",
]

PLAIN_TEXT = (
    "Crestline Logistics \u2013 company notes\r\n"
    "Founded in 1998 in Columbus, Ohio, Crestline runs \u201cfulfilment as a service\u201d for "
    "mid-sized retailers. Its chief operating officer, Ren\u00e9e Duval, joined from FreshWay "
    "in 2024.\r\n"
)
