"""Cross-references and evidence verification of a structurally valid bundle.

Runs inside ``RunBundleV1``'s last validator. Every cited sha256 must be one of the bundle's
sources (errors); each snippet is verified against its source's text (warnings when not found).
When there is no error, the companies are normalized in place: resolved ``evidence``,
deduplicated ``source_sha256s`` and metrics.

Cost: each cited source's text is normalized once, lazily (a bundle may carry 2,000 sources of
up to 2 MiB), and each snippet is one substring search in the text of the source it cites.
"""

import hashlib
from typing import TYPE_CHECKING, Any, NamedTuple

from ats.normalize import mixed_script_letters, name_skeleton

from . import issues
from .issues import Loc
from .normalize import normalize_evidence_text

if TYPE_CHECKING:
    from .models import Company, RunBundleV1

ErrorSpec = tuple[Loc, str, str, dict[str, str]]  # loc, code, message template, context
WarningSpec = tuple[Loc, str, str]  # loc, code, message


class ResolvedEvidence(NamedTuple):
    """A snippet resolved against the sources (output only: never part of an uploaded bundle).

    ``source_sha256`` is the cited source or, for a snippet citing none, the company's source
    whose text contains it (the company's first source when none does). ``text_sha256`` is the
    SHA-256 of the normalized text (whitespace collapsed, casefolded): the key for deduplicating
    evidence at ingestion. A named tuple, not a model: a bundle resolves up to ~15,000 of them
    (and a tuple is built in half the time of a frozen dataclass).
    """

    text: str
    source_sha256: str
    verified: bool
    text_sha256: str

    def as_dict(self) -> dict[str, str | bool]:
        return self._asdict()


def resolve_bundle(bundle: "RunBundleV1") -> tuple[list[ErrorSpec], list[WarningSpec]]:
    """Check the bundle's references and verify its evidence; normalize it when no error."""
    known = {source.sha256: source for source in bundle.sources}
    normalized_texts: dict[str, str] = {}

    def text_of(sha256: str) -> str:
        text = normalized_texts.get(sha256)
        if text is None:
            text = normalized_texts[sha256] = normalize_evidence_text(known[sha256].content_text)
        return text

    errors: list[ErrorSpec] = []
    warnings: list[WarningSpec] = []
    resolved: list[list[ResolvedEvidence]] = []
    first_by_name: dict[str, int] = {}
    first_by_domain: dict[str, int] = {}

    for i, company in enumerate(bundle.proposal_json.companies):
        base: Loc = ("proposal_json", "companies", i)
        for j, sha256 in enumerate(company.source_sha256s):
            if sha256 not in known:
                errors.append(_unknown(sha256, (*base, "source_sha256s", j)))
        company_sources = [sha for sha in dict.fromkeys(company.source_sha256s) if sha in known]

        evidence: list[ResolvedEvidence] = []
        # Locations and messages are built only for what is reported (most snippets are not).
        for j, snippet in enumerate(company.evidence_snippets):
            needle = normalize_evidence_text(snippet.text)
            cited = snippet.source_sha256
            if cited is not None:
                if cited not in known:
                    loc = (*base, "evidence_snippets", j, "source_sha256")
                    errors.append(_unknown(cited, loc))
                    continue
                verified = needle in text_of(cited)
            else:
                if not company_sources:  # every source of the company is unknown: reported
                    continue
                matched = next((sha for sha in company_sources if needle in text_of(sha)), None)
                cited = matched or company_sources[0]
                verified = matched is not None
            if not verified:
                message = (
                    issues.MSG_UNVERIFIED_EVIDENCE.format(sha256=cited)
                    if snippet.source_sha256 is not None
                    else issues.MSG_UNVERIFIED_EVIDENCE_ANY
                )
                loc = (*base, "evidence_snippets", j)
                warnings.append((loc, issues.UNVERIFIED_EVIDENCE, message))
            evidence.append(
                ResolvedEvidence(
                    snippet.text,
                    cited,
                    verified,
                    hashlib.sha256(needle.encode("utf-8")).hexdigest(),
                )
            )
        resolved.append(evidence)

        for k, metric in enumerate(company.metrics):
            if metric.source_sha256 is not None and metric.source_sha256 not in known:
                loc = (*base, "metrics", k, "source_sha256")
                errors.append(_unknown(metric.source_sha256, loc))

        warnings.extend(_duplicate_company(company, i, first_by_name, first_by_domain))

    if not errors:
        for company, evidence in zip(bundle.proposal_json.companies, resolved, strict=True):
            _normalize_company(company, evidence)
    return errors, warnings


def _unknown(sha256: str, loc: Loc) -> ErrorSpec:
    return (loc, issues.UNKNOWN_SOURCE, issues.MSG_UNKNOWN_SOURCE, {"sha256": sha256})


def _duplicate_company(
    company: "Company", index: int, by_name: dict[str, int], by_domain: dict[str, int]
) -> list[WarningSpec]:
    found: list[WarningSpec] = []
    name_loc = ("proposal_json", "companies", index, "name")
    if lookalike := mixed_script_letters(company.name):
        letter, script = lookalike
        message = issues.MSG_MIXED_SCRIPT.format(letter=letter, script=script)
        found.append((name_loc, issues.MIXED_SCRIPT, message))
    # Names that read the same are duplicates: case, legal forms, invisible characters and
    # look-alike letters aside ("Acme", "A\u200bcme GmbH", "\u0410cme").
    keys: list[tuple[str, str | None, dict[str, int]]] = [
        ("name", name_skeleton(company.name), by_name),
        ("domain", company.domain, by_domain),
    ]
    for field, key, firsts in keys:
        if key is None:
            continue
        if key not in firsts:
            firsts[key] = index
            continue
        msg = issues.MSG_DUPLICATE_COMPANY.format(field=field, first=firsts[key])
        found.append((("proposal_json", "companies", index, field), issues.DUPLICATE_COMPANY, msg))
    return found


def _normalize_company(company: "Company", evidence: list[ResolvedEvidence]) -> None:
    company._evidence = evidence
    unique_sources = list(dict.fromkeys(company.source_sha256s))
    if len(unique_sources) != len(company.source_sha256s):
        company.source_sha256s = unique_sources
    seen: set[Any] = set()
    metrics = []
    for metric in company.metrics:
        identity = metric.identity()
        if identity not in seen:
            seen.add(identity)
            metrics.append(metric)
    if len(metrics) != len(company.metrics):
        company.metrics = metrics
