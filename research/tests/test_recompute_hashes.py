"""`manage.py recompute_hashes`: stale evidence hashes are rewritten, collisions reported,
a dry run and a second run change nothing, a killed run resumes to the same end."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command

from ats.models import BackfillCheckpoint
from jobs.tests.utils import run_killed
from research.bundle.normalize import evidence_text_sha256
from research.models import ProspectEvidence, ResearchRun, Source, Verification

from .backfill_data import company, prospect, run_command


def old_hash(text: str) -> str:
    """What an older definition stored: the raw text's hash, not the normalized text's."""
    return hashlib.sha256(text.encode()).hexdigest()


def stale_evidence(tenant, texts: list[str]) -> list[ProspectEvidence]:
    source = Source.objects.create(tenant=tenant, sha256="6" * 64, text=" ".join(texts))
    run = ResearchRun.objects.create(tenant=tenant, objective="hashes")
    made = prospect(run, company(tenant, "Hash Co", "hash.example"), source)
    return [
        ProspectEvidence.objects.create(
            tenant=tenant,
            prospect=made,
            source=source,
            text=text,
            text_sha256=old_hash(text),
            verification=Verification.VERIFIED,
        )
        for text in texts
    ]


def recompute(*args: str) -> str:
    out = io.StringIO()
    call_command("recompute_hashes", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def hashes(tenant) -> list[tuple[str, str]]:
    return sorted(ProspectEvidence.objects.for_tenant(tenant).values_list("text", "text_sha256"))


@pytest.mark.sqlite
def test_stale_hashes_are_fixed_once(tenant_a, tenant_b) -> None:
    stale_evidence(tenant_a, ["Raised  a Series B", "Employs 180 engineers"])
    stale_evidence(tenant_b, ["Raised  a Series B"])
    dry = recompute("--tenant", "alpha", "--dry-run")
    assert "ProspectEvidence.text_sha256 stale: 2" in dry
    assert all(h == old_hash(text) for text, h in hashes(tenant_a))

    out = recompute("--tenant", "alpha", "--batch-size", "1")
    assert "ProspectEvidence.text_sha256 updated: 2" in out
    assert all(h == evidence_text_sha256(text) for text, h in hashes(tenant_a))
    assert all(h == old_hash(text) for text, h in hashes(tenant_b))  # not this tenant's run

    again = recompute("--tenant", "alpha")
    assert "ProspectEvidence.text_sha256 updated: 0" in again
    assert "rows examined: 2" in again


def test_a_hash_that_would_duplicate_another_row_is_reported_not_written(tenant_a) -> None:
    # Two rows under the old definition; the same evidence under the current one (the second
    # is already normalized, so its old hash is the current one).
    first, second, third = stale_evidence(tenant_a, ["Acme  News", "acme news", "Other news"])
    out = recompute()
    assert "ProspectEvidence.text_sha256 updated: 1" in out  # "Other news"
    assert "left as is (would duplicate another row): 1" in out
    assert f"ProspectEvidence #{first.pk}: its recomputed text_sha256 equals another row's" in out
    assert ProspectEvidence.objects.get(pk=first.pk).text_sha256 == old_hash("Acme  News")
    assert ProspectEvidence.objects.get(pk=second.pk).text_sha256 == old_hash("acme news")
    assert ProspectEvidence.objects.get(pk=third.pk).text_sha256 == evidence_text_sha256(
        "Other news"
    )


@pytest.mark.django_db(transaction=True)
def test_killed_halfway_then_resumed_ends_like_an_uninterrupted_run(tenant_a, tenant_b) -> None:
    texts = [f"Snippet  {n} of the source" for n in range(10)]
    stale_evidence(tenant_a, texts)
    stale_evidence(tenant_b, texts)
    run_killed("", 2, "recompute_hashes", "--tenant", "alpha", "--batch-size", "3")
    checkpoint = BackfillCheckpoint.objects.get(command="recompute_hashes")
    assert checkpoint.counts["ProspectEvidence.text_sha256 updated"] == 6
    assert sum(h == evidence_text_sha256(t) for t, h in hashes(tenant_a)) == 6
    out, err = run_command("recompute_hashes", "--tenant", "alpha", "--batch-size", "3")
    assert "Resuming" in err
    assert "ProspectEvidence.text_sha256 updated: 10" in out
    run_command("recompute_hashes", "--tenant", "beta", "--batch-size", "3")
    assert [h for _, h in hashes(tenant_a)] == [h for _, h in hashes(tenant_b)]
    assert all(h == evidence_text_sha256(t) for t, h in hashes(tenant_a))
