"""The reviewers' workplace (SPEC §10), one module per model family."""

from . import bundles, events, prospects, runs, sources

__all__ = ["bundles", "events", "prospects", "runs", "sources"]
