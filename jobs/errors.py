"""Exceptions of the job queue and the messages that tests reuse."""

from __future__ import annotations

MSG_UNKNOWN_JOB_TYPE = (
    "Unknown job type {job_type!r}: no handler is registered for it. Register one with "
    "@jobs.handler({job_type!r}) in <app>/handlers.py (known: {known})."
)
MSG_HANDLER_MISSING = (
    "No handler is registered for job type {job_type!r} on worker {worker!r}: the code that "
    "registers it is not deployed here. The job failed permanently; retry it once the "
    "handler exists."
)
MSG_PAYLOAD_NOT_DICT = "A job payload must be a dict of keyword arguments, not {type_name}."
MSG_PAYLOAD_NOT_JSON = "The payload of job type {job_type!r} is not JSON-serializable: {error}"
MSG_RESULT_NOT_JSON = "The handler's return value is not JSON-serializable: {error}"
MSG_PRIORITY_RANGE = "priority must be a whole number from -100 to 100, not {priority!r}."
MSG_MAX_ATTEMPTS = (
    "max_attempts must be a whole number of at least 1 (or None for the handler's), "
    "not {max_attempts!r}."
)
MSG_CANNOT_CANCEL = "Job {job_id} is {status}; only queued or running jobs can be cancelled."
MSG_CANNOT_RETRY = "Job {job_id} is {status}; only failed or cancelled jobs can be retried."
MSG_RETRY_DUPLICATE = (
    "Job {job_id} cannot be retried: job {other_id} with the same unique key is already "
    "queued or running."
)
MSG_LEASE_EXPIRED = "Lease expired: worker {worker!r} stopped sending heartbeats."
MSG_TIMEOUT = "The handler ran past its timeout of {timeout}s."
MSG_CANCELLED = "The job was cancelled."


class PermanentError(Exception):
    """Raised by a handler for a failure that retrying cannot fix: the job fails at once."""


class UnknownJobType(ValueError):
    """`enqueue()` was given a job type that no handler is registered for."""


class InvalidPayload(ValueError):
    """`enqueue()` was given a payload that is not a JSON-serializable dict."""


class JobStopped(Exception):
    """Base of the exceptions `job.raise_if_cancelled()` raises to stop a handler."""


class JobCancelled(JobStopped):
    """The job was cancelled while it ran; the handler stops at its next safe point."""


class JobTimeout(JobStopped):
    """The handler ran past its `timeout` (a retryable failure)."""


class LeaseLost(JobStopped):
    """This worker no longer owns the attempt (its lease expired and another worker took
    the job, or the job was released); nothing it does is recorded any more."""


class LeaseExpired(Exception):
    """The attempt's worker stopped heartbeating; recorded when its job is reclaimed."""


class WorkerStartupError(Exception):
    """The worker cannot start (database unreachable, tables missing, id in use)."""
