"""Every state change of a job (SPEC §4, §6), each a conditional update.

- `queueing`: the public API other apps call: `enqueue`, `enqueue_many`, `cancel`, `retry`
  (exported as `jobs.enqueue` ...), and pruning (`prunable_jobs`,
  `delete_finished_jobs`, `forget_workers` for `manage.py prune_jobs`).
- `attempts`: the worker's side: claim, heartbeat, complete, fail, cancel, release and
  reclaim attempts, every update fenced by the attempt.
- `hooks`: the owning app's `on_failure` / `on_cancel` and the `errors` entries, shared by
  both sides.
- `pg`: the worker's hot path as single PostgreSQL statements (claim, batched completion,
  batched insert); SQLite takes the portable ORM path in `attempts` and `queueing`.

Time: every timestamp that the queue compares (`run_after`, leases, heartbeats, liveness) is
the database's clock (`Now()`, `statement_timestamp()`), never a worker's, so clock skew
between hosts cannot reclaim a live job or lose one.
"""

from .queueing import (
    cancel,
    delete_finished_jobs,
    enqueue,
    enqueue_many,
    forget_workers,
    prunable_jobs,
    retry,
)

__all__ = [
    "cancel",
    "delete_finished_jobs",
    "enqueue",
    "enqueue_many",
    "forget_workers",
    "prunable_jobs",
    "retry",
]
