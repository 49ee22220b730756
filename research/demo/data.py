"""The demo's made-up world: European robotics and automation companies, with cities,
sectors, founding years, headcounts and revenues in their own currencies.

Deterministic: one seeded generator, so every `seed_demo` builds the same companies (which
is what makes seeding idempotent). Names are built from invented stems and checked against
each other with the review page's own similarity measure, so that the only probable
duplicates in the demo are the ones placed on purpose (`bundles`).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from research.services.matching import HINT_THRESHOLD, hint_key

SEED = 20260301
# Names closer than this to another demo name are drawn again: only the duplicates placed on
# purpose get a review hint.
MAX_ACCIDENTAL_SIMILARITY = HINT_THRESHOLD - 10


@dataclass(frozen=True)
class Country:
    code: str
    cities: tuple[str, ...]
    currency: str
    tld: str
    legal_forms: tuple[str, ...]


COUNTRIES = (
    Country("DE", ("Munich", "Stuttgart", "Hamburg", "Dresden", "Karlsruhe", "Aachen"), "EUR",
            "de", ("GmbH", "AG", "SE")),
    Country("AT", ("Vienna", "Graz", "Linz", "Salzburg", "Innsbruck"), "EUR", "at",
            ("GmbH", "AG")),
    Country("CH", ("Zurich", "Basel", "Lausanne", "Winterthur", "Bern"), "CHF", "ch",
            ("AG", "SA", "GmbH")),
    Country("NL", ("Eindhoven", "Delft", "Rotterdam", "Utrecht"), "EUR", "nl", ("B.V.", "N.V.")),
    Country("SE", ("Gothenburg", "Stockholm", "Malmö", "Linköping"), "SEK", "se", ("AB",)),
    Country("DK", ("Aarhus", "Copenhagen", "Odense"), "DKK", "dk", ("A/S", "ApS")),
    Country("FR", ("Lyon", "Toulouse", "Grenoble", "Nantes"), "EUR", "fr", ("SAS", "S.A.")),
    Country("IT", ("Turin", "Milan", "Bologna", "Padua"), "EUR", "it", ("S.p.A.", "S.r.l.")),
    Country("PL", ("Wrocław", "Kraków", "Poznań", "Gdańsk"), "PLN", "pl", ("S.A.",)),
    Country("GB", ("Cambridge", "Bristol", "Manchester", "Edinburgh"), "GBP", "co.uk",
            ("Ltd", "plc")),
    Country("FI", ("Tampere", "Espoo", "Oulu"), "EUR", "fi", ("Oy",)),
    Country("CZ", ("Brno", "Prague", "Ostrava"), "CZK", "cz", ("s.r.o.", "a.s.")),
)  # fmt: skip
COUNTRY = {country.code: country for country in COUNTRIES}

# Sector: (words that end a company name, what such a company does).
SECTORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Industrial robotics": (
        ("Robotics", "Automation", "Robot Systems"),
        ("builds six-axis robots for welding and palletising lines",
         "makes collaborative robot arms for small-batch assembly",
         "integrates robot cells for automotive body shops"),
    ),
    "Machine vision": (
        ("Vision", "Imaging", "Optics"),
        ("develops 3D cameras that guide robots picking parts from bins",
         "sells inspection systems that find defects on battery foils",
         "writes vision software for sorting recycled plastics"),
    ),
    "Sensors": (
        ("Sensorik", "Sensors", "Measurement"),
        ("produces force-torque sensors for cobot wrists",
         "makes safety laser scanners for driverless transport vehicles",
         "designs torque sensors for electric drive test benches"),
    ),
    "Warehouse automation": (
        ("Logistics", "Intralogistics", "Conveyor Systems"),
        ("builds shuttle systems for automated small-parts warehouses",
         "runs fleets of autonomous mobile robots in e-commerce warehouses",
         "designs goods-to-person picking stations"),
    ),
    "Motion control": (
        ("Drives", "Motion", "Mechatronics"),
        ("manufactures servo drives and gearboxes for robot joints",
         "makes linear motors for semiconductor handling",
         "supplies harmonic gears to cobot makers"),
    ),
    "Industrial software": (
        ("Software", "Digital", "Systems"),
        ("sells simulation software for commissioning robot cells offline",
         "develops fleet management software for mobile robots",
         "builds a no-code platform for programming cobots"),
    ),
}  # fmt: skip

STEMS_A = (
    "Nord", "Alp", "Kest", "Hel", "Lum", "Stahl", "Brenn", "Falk", "Vin", "Tor", "Aur", "Sil",
    "Mar", "Kron", "Lind", "Berg", "Veg", "Orb", "Cor", "Ast", "Quell", "Rhe", "Zeph", "Fjor",
    "Gran", "Hav", "Isar", "Jur", "Kal", "Leu", "Mos", "Nix", "Ode", "Pol", "Sal", "Tauer",
    "Ulm", "Wald", "Ysel", "Zin", "Bor", "Dun", "Elb", "Fen", "Glim", "Hald", "Ivar", "Kor",
)  # fmt: skip
STEMS_B = (
    "wind", "ex", "tron", "ion", "ica", "ara", "ell", "ium", "ix", "on", "stein", "feld",
    "mark", "berg", "gard", "vik", "lund", "dal", "heim", "sol", "tek", "nova", "lux", "ant",
)  # fmt: skip
OWNERSHIP = (
    "Family-owned",
    "Founder-led",
    "Private equity backed",
    "Venture backed (Series B)",
    "Listed",
    "Subsidiary of an industrial group",
)


@dataclass(frozen=True)
class DemoCompany:
    name: str
    domain: str  # "" when the research found none
    city: str
    country: str
    sector: str
    activity: str
    founded: int
    headcount: int
    revenue: int  # in `currency`
    currency: str
    ownership: str
    aliases: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        """The name as an article writes it the second time: without the legal form."""
        return self.name.rsplit(" ", 1)[0] if " " in self.name else self.name


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ł", "l"))
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


class Generator:
    """Draws distinct, plausible companies from one seeded random generator."""

    def __init__(self, seed: int = SEED) -> None:
        self.random = random.Random(seed)
        self.keys: list[str] = []  # every drawn name, normalized, tokens sorted
        self.domains: set[str] = set()

    def reserve(self, name: str, domain: str = "") -> None:
        """Names placed by hand: drawn names keep their distance from them too."""
        self.keys.append(hint_key(name))
        if domain:
            self.domains.add(domain)

    def company(self, *, sector: str | None = None, country: str | None = None) -> DemoCompany:
        rng = self.random
        sector = sector or rng.choice(sorted(SECTORS))
        words, activities = SECTORS[sector]
        place = COUNTRY[country] if country else rng.choice(COUNTRIES)
        for _ in range(1000):
            stem = rng.choice(STEMS_A) + rng.choice(STEMS_B)
            name = f"{stem} {rng.choice(words)} {rng.choice(place.legal_forms)}"
            domain = f"{ascii_slug(stem)}-{ascii_slug(name.split()[1])}.{place.tld}"
            if domain not in self.domains and self._distinct(name):
                break
        else:  # pragma: no cover - 48 x 24 stems leave plenty of room
            raise RuntimeError("The demo generator ran out of distinct names.")
        self.reserve(name, domain)
        size = rng.choice((35, 60, 85, 120, 180, 240, 320, 450, 700, 1100))
        headcount = int(size * rng.uniform(0.8, 1.2))
        per_head = rng.randint(110, 240) * 1000  # revenue per employee, in EUR
        rate = {"CHF": 0.95, "SEK": 11.4, "DKK": 7.46, "PLN": 4.3, "GBP": 0.85, "CZK": 25.2}
        revenue = round(headcount * per_head * rate.get(place.currency, 1.0), -5)
        return DemoCompany(
            name=name,
            domain=domain,
            city=rng.choice(place.cities),
            country=place.code,
            sector=sector,
            activity=rng.choice(activities),
            founded=rng.randint(1962, 2021),
            headcount=headcount,
            revenue=int(revenue),
            currency=place.currency,
            ownership=rng.choice(OWNERSHIP),
        )

    def _distinct(self, name: str) -> bool:
        key = hint_key(name)
        return all(fuzz.ratio(key, other) < MAX_ACCIDENTAL_SIMILARITY for other in self.keys)


def without_domain(company: DemoCompany) -> DemoCompany:
    return replace(company, domain="")
