"""Who is who in the demo: the search firm's own company records (some of them the targets
of the review page's match hints), the client of the search, and the researched companies
of each run, all drawn from one seeded generator (`data`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from .data import DemoCompany, Generator, without_domain


def _hand(
    name: str, domain: str, city: str, country: str, sector: str, activity: str, **more: object
) -> DemoCompany:
    figures = {
        "founded": 1998,
        "headcount": 420,
        "revenue": 85_000_000,
        "currency": "EUR",
        "ownership": "Family-owned",
    }
    return DemoCompany(
        name=name,
        domain=domain,
        city=city,
        country=country,
        sector=sector,
        activity=activity,
        **{**figures, **more},  # type: ignore[arg-type]
    )


CLIENT = _hand(
    "Northwind Robotics GmbH", "northwind-robotics.de", "Munich", "DE", "Industrial robotics",
    "builds welding robots for automotive body shops", aliases=("Northwind",),
)  # fmt: skip
# Known to the firm; a proposal with a near-identical name and another domain is hinted as
# "probably the same" (similar name).
KESTREL = _hand(
    "Kestrel Automation AG", "kestrel-automation.ch", "Zurich", "CH", "Industrial robotics",
    "ships collaborative arms to 30 countries", revenue=82_000_000, currency="CHF",
    headcount=390, founded=2004,
)  # fmt: skip
# Known with one domain; the research finds a company of the same name at another one.
FELDMANN = _hand(
    "Feldmann Sensorik GmbH", "feldmann-group.com", "Graz", "AT", "Sensors",
    "produces force-torque sensors for cobot wrists", headcount=260, revenue=41_000_000,
)  # fmt: skip
# Two records of the firm share a name (no domains): a proposal of that name is ambiguous.
BRENNER_DE = _hand(
    "Brenner Antriebe GmbH", "", "Hamburg", "DE", "Motion control",
    "manufactures servo drives for packaging machines", headcount=150, revenue=23_000_000,
)  # fmt: skip
BRENNER_CH = _hand(
    "Brenner Antriebe AG", "", "Basel", "CH", "Motion control",
    "makes precision gearboxes", headcount=90, revenue=17_000_000, currency="CHF",
)  # fmt: skip
# Known under its trade name too: the research proposes it by that alias only.
HARVEST = _hand(
    "Linz Harvest Robotics GmbH", "lhr-robotics.at", "Linz", "AT", "Industrial robotics",
    "builds harvesting robots for greenhouses", headcount=180, revenue=26_000_000,
    aliases=("LHR Robotics",),
)  # fmt: skip
HAND_PLACED = (CLIENT, KESTREL, FELDMANN, BRENNER_DE, BRENNER_CH, HARVEST)

# The research's look-alikes of the hand-placed companies.
KESTREL_LOOKALIKE = replace(KESTREL, name="Kestrel Automaton AG", domain="kestrelautomaton.ch")
FELDMANN_ELSEWHERE = replace(FELDMANN, domain="feldmann-sensorik.at", headcount=240)
BRENNER_PROPOSED = replace(BRENNER_DE, name="Brenner Antriebe")
HARVEST_BY_ALIAS = replace(HARVEST, name="LHR Robotics", domain="", aliases=())

KNOWN_WITH_DOMAIN = 24
KNOWN_WITHOUT_DOMAIN = 6
REVIEW_NEW = 127  # with the look-alike and the repeated name: 150 with the rest
SUCCEEDED_NEW = 18
FAILED_NEW = 6


@dataclass(frozen=True)
class Cast:
    known: tuple[DemoCompany, ...]  # the firm's company records (hand-placed first)
    review_new: tuple[DemoCompany, ...]  # unknown to the firm, for the run awaiting review
    succeeded_new: tuple[DemoCompany, ...]
    failed_new: tuple[DemoCompany, ...]

    @property
    def generated_known(self) -> tuple[DemoCompany, ...]:
        """The firm's generated records (after the hand-placed ones)."""
        return self.known[len(HAND_PLACED) :]


@cache
def cast() -> Cast:
    generator = Generator()
    for company in (*HAND_PLACED, KESTREL_LOOKALIKE):
        generator.reserve(company.name, company.domain)
    with_domain = [generator.company() for _ in range(KNOWN_WITH_DOMAIN)]
    no_domain = [without_domain(generator.company()) for _ in range(KNOWN_WITHOUT_DOMAIN)]
    generated = (*with_domain, *no_domain)
    return Cast(
        known=(*HAND_PLACED, *generated),
        review_new=tuple(generator.company() for _ in range(REVIEW_NEW)),
        succeeded_new=tuple(generator.company() for _ in range(SUCCEEDED_NEW)),
        failed_new=tuple(generator.company() for _ in range(FAILED_NEW)),
    )
