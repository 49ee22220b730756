"""The research pipeline's metrics, read from the database at scrape time (registered in
`ResearchConfig.ready`): runs and bundles by status, sources by decision. Counts across all
tenants; labels are the statuses and decisions, never a tenant."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .models import Bundle, ResearchRun, Source

NONE_LABEL = "none"  # rows whose field is empty (a source not classified yet)


@dataclass(frozen=True)
class CountBy:
    """One gauge: the rows of `model` counted by the values of `field`."""

    metric: str
    help_text: str
    model: type[models.Model]
    field: str


COUNTS = (
    CountBy("ats_research_runs", "Research runs by status.", ResearchRun, "status"),
    CountBy("ats_bundles", "Bundles by status.", Bundle, "status"),
    # Counted once the sources pipeline gives sources their `decision` (accept|flag|reject).
    CountBy("ats_sources", "Sources by classification decision.", Source, "decision"),
)


class ResearchCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        for count in COUNTS:
            try:
                field = count.model._meta.get_field(count.field)
            except FieldDoesNotExist:
                continue
            label = count.field
            # Every known value, so that a status that empties shows 0 instead of vanishing.
            values: dict[str, int] = {str(value): 0 for value, _ in field.choices or ()}
            rows = (
                count.model.objects.values(count.field)
                .annotate(n=Count("pk"))
                .order_by(count.field)
            )
            for row in rows:
                value = row[count.field]
                values[str(value) if value not in (None, "") else NONE_LABEL] = row["n"]
            family = GaugeMetricFamily(count.metric, count.help_text, labels=[label])
            for value, n in sorted(values.items()):
                family.add_metric([value], n)
            yield family
