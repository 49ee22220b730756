"""Reading Prometheus exposition text in tests."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of the exposition, keyed by (sample name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: Samples) -> set[str]:
    return {label_value for _, labels in samples for _, label_value in labels}


def scrape(client: object, token: str = "test-metrics-token") -> Samples:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$"
)


def assert_aggregates_only(samples: Samples, *, tenants: list[Any]) -> None:
    """No tenant name or slug in any label, and no id in any route."""
    for _, labels in samples:
        for label, label_value in labels:
            for tenant in tenants:
                assert tenant.slug not in label_value and tenant.name not in label_value, (
                    f"{label}={label_value!r} names tenant {tenant.slug!r}"
                )
            if label == "route":
                segments = label_value.strip("/").split("/")
                assert not any(_ID_SEGMENT.match(s) for s in segments), (
                    f"route label {label_value!r} contains an id"
                )
