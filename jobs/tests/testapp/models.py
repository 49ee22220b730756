"""Rows the test handlers write, so tests can count what each job did."""

from django.db import models


class Effect(models.Model):
    """One row per handler run that got as far as its write."""

    job_id = models.BigIntegerField(db_index=True)
    attempt = models.PositiveIntegerField()
    worker = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"effect of job {self.job_id} attempt {self.attempt}"


class FailureMark(models.Model):
    """Written by an on_failure hook, as an owning app would mark its run failed."""

    job_id = models.BigIntegerField(unique=True)
    error = models.TextField()

    def __str__(self) -> str:
        return f"job {self.job_id} failed: {self.error}"


class HookCall(models.Model):
    """Written by an on_cancel or on_retry hook, as an owning app would follow its job."""

    job_id = models.BigIntegerField()
    hook = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"{self.hook} of job {self.job_id}"
