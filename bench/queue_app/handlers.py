"""No-op handlers for the queue benchmark (registered by the jobs app's autodiscovery)."""

from __future__ import annotations

import jobs
from bench.queue_systems.stamps import stamp


@jobs.handler("bench.noop")
def noop(job: jobs.Job) -> None:
    """Nothing: what is measured is the queue's own cost per job."""


@jobs.handler("bench.noop_atomic", atomic=True)
def noop_atomic(job: jobs.Job) -> None:
    """Nothing, inside the transaction that marks the job succeeded."""


@jobs.handler("bench.stamp")
def stamp_start(job: jobs.Job, *, seq: int) -> None:
    stamp(seq)
