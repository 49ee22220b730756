"""Figures and records as recruiters read them: "CHF 85M", "420 people", "yes", "2 warnings",
"Ann approved the bundle". Pure functions: the review page, the admin lists and service
messages share them, so one thing reads the same everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

# Event types as phrases that follow the actor's name ("Ann approved the bundle").
EVENT_PHRASES = {
    "run_created": "created the run",
    "run_updated": "edited the run",
    "run_cancelled": "cancelled the run",
    "run_retried": "retried the run",
    "bundle_uploaded": "uploaded a bundle",
    "bundle_superseded": "replaced the bundle awaiting review with a newer upload",
    "bundle_approved": "approved the bundle",
    "bundle_rejected": "rejected the bundle",
    "ingest_succeeded": "ingested the bundle",
    "ingest_failed": "could not ingest the bundle",
    "list_submitted": "submitted a list of companies",
    "list_ingested": "added the list's companies",
    "prospect_edited": "edited a prospect",
}

# Metric keys whose number is a count of people (shown "420 people" without a unit).
_PEOPLE_KEYS = {"headcount", "employees", "employee_count", "staff", "fte"}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`plural(1, "company", "companies")` → "1 company"; the plural adds "s" by default."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {word}"


def actor_display(label: str) -> str:
    """An audit label (`user:ann`, `api_key:agent`, `system:worker`) as people say it."""
    kind, _, name = label.partition(":")
    if not name:
        return label or "someone"
    if kind == "user":
        return name
    if kind == "api_key":
        return f"API key “{name}”"
    if kind == "system":
        return "the worker" if name == "worker" else f"{name.replace('_', ' ')} (system)"
    return name


def when(moment: datetime | None) -> str:
    """A moment in the site's time zone, e.g. "3 Mar 2026, 14:05 UTC"."""
    if moment is None:
        return "—"
    return date_format(timezone.localtime(moment), "j M Y, H:i T")


def event_phrase(event_type: str) -> str:
    return EVENT_PHRASES.get(event_type, event_type.replace("_", " "))


def number(value: float | int) -> str:
    """420.0 → "420", 1234567 → "1,234,567", 0.825 → "0.83"."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def compact_amount(value: float | int) -> str:
    """85,000,000 → "85M", 1,250,000 → "1.25M", 12,500 → "12.5k"."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{number(round(value / size, 2))}{suffix}"
    return number(value)


def metric_value(
    *, key: str, value_type: str, value: Any, unit: str = "", currency: str = ""
) -> str:
    """A metric's value for people: "CHF 85M", "420 people", "yes", "12 %"."""
    if value is None:
        return "—"
    if value_type == "bool":
        return "yes" if value else "no"
    if value_type == "number":
        if currency:
            return f"{currency} {compact_amount(value)}"
        text = number(value)
        if unit in ("%", "percent"):
            return f"{text} %"
        if unit:
            return f"{text} {unit}"
        if key in _PEOPLE_KEYS:
            return f"{text} {'person' if value == 1 else 'people'}"
        return text
    if value_type == "json":
        import json

        return json.dumps(value, ensure_ascii=False)
    return f"{value} {unit}".strip()


_ACRONYMS = {"arr", "ceo", "cfo", "coo", "cto", "ebitda", "hq", "ipo", "mrr", "r&d", "url"}


def metric_label(key: str) -> str:
    """`revenue_eur` → "Revenue eur"; `cto_search` → "CTO search"."""
    words = key.replace("_", " ").split()
    words = [w.upper() if w in _ACRONYMS else w for w in words]
    if words and words[0].islower():
        words[0] = words[0].capitalize()
    return " ".join(words) or key
