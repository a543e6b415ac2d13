"""Settings group of every worker service: how many jobs at once, how long to drain."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field, PositiveInt, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.jobtypes import Priority
from darkroom.contracts.providers import ProviderLimitsInfo
from darkroom.runtime.worker.limits import ProviderLimit, ProviderLimits
from darkroom.runtime.worker.retry import RetryPolicy


class WorkerSettings(BaseSettings):
    """The consumer loop shared by the workers (`darkroom.runtime.worker.consumer`)."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    worker_concurrency: PositiveInt = Field(
        4,
        description="Jobs a worker process runs at once, records of one partition included; each "
        "partition is committed up to its lowest unfinished record.",
    )
    worker_drain_timeout_s: float = Field(
        30.0,
        gt=0,
        description="On SIGTERM, how long running jobs may take to finish before they are handed "
        "back uncommitted (the next owner of their partition runs them again).",
    )
    worker_commit_interval_ms: int = Field(
        50, ge=0, description="Finished records are committed at most this often."
    )
    worker_retry_capacity: PositiveInt = Field(
        1000,
        description="Retries one worker process holds while they wait for their backoff; more wait "
        "on the retry topic (later, never lost).",
    )
    worker_priority_weights: dict[Priority, PositiveInt] = Field(
        default_factory=lambda: {Priority.HIGH: 6, Priority.NORMAL: 3, Priority.LOW: 1},
        description="Share of job starts per priority while several have jobs waiting, as JSON: "
        'with {"high": 6, "normal": 3, "low": 1}, ten starts go 6 high, 3 normal, 1 low.',
    )
    job_max_attempts: PositiveInt = Field(
        3, description="Attempts of a job before a retryable failure is final (dead-lettered)."
    )
    job_retry_base_delay_s: float = Field(
        2.0, ge=0, description="Backoff before the second attempt; it doubles each attempt (±20 %)."
    )
    job_retry_max_delay_s: float = Field(
        300.0, ge=0, description="Longest backoff between attempts."
    )
    job_heartbeat_s: float = Field(
        15.0,
        gt=0,
        description="A running job with no event for this long repeats its last progress, so the "
        "gateway's sweeper can tell it from a lost one.",
    )
    job_timeout_s: float = Field(
        300.0, gt=0, description="An attempt running longer is stopped and fails as retryable."
    )

    provider_limits: dict[str, ProviderLimit] = Field(
        default_factory=lambda: {"local": ProviderLimit()},
        description='Per provider, as JSON: {"name": {"starts_per_s": 10, "concurrency": 5, '
        '"timeout_s": 300}}; null is unlimited (no timeout_s: JOB_TIMEOUT_S). A provider missing '
        "here has the limits its plug-in declares. The built-in local provider runs on this "
        "machine's CPU and is unlimited (WORKER_CONCURRENCY bounds it).",
    )
    provider_default_starts_per_s: float | None = Field(
        10.0, gt=0, description="Start rate of a provider missing from PROVIDER_LIMITS."
    )
    provider_default_concurrency: PositiveInt | None = Field(
        5, description="Jobs at once of a provider missing from PROVIDER_LIMITS."
    )

    @field_validator("provider_limits")
    @classmethod
    def _local_unlimited_unless_set(
        cls, value: dict[str, ProviderLimit]
    ) -> dict[str, ProviderLimit]:
        return {"local": ProviderLimit(), **value}

    @field_validator("worker_priority_weights")
    @classmethod
    def _every_priority_weighted(cls, value: dict[Priority, int]) -> dict[Priority, int]:
        if missing := [p.value for p in Priority if p not in value]:
            raise ValueError(f"give a weight for every priority; missing: {', '.join(missing)}")
        return value

    def request_topics(self, topics: dict[Priority, str]) -> dict[str, int]:
        """A job type's request topics (by priority) with the weights of their turns."""
        return {topic: self.worker_priority_weights[p] for p, topic in topics.items()}

    def limits(self, declared: Mapping[str, ProviderLimitsInfo] | None = None) -> ProviderLimits:
        """Each provider's limits: PROVIDER_LIMITS, else what its plug-in declares, else the
        PROVIDER_DEFAULT_* ones."""
        default = ProviderLimit(
            starts_per_s=self.provider_default_starts_per_s,
            concurrency=self.provider_default_concurrency,
        )
        plugins = {
            name: ProviderLimit(**info.model_dump()) for name, info in (declared or {}).items()
        }
        return ProviderLimits({**plugins, **self.provider_limits}, default)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.job_max_attempts,
            base_delay_s=self.job_retry_base_delay_s,
            max_delay_s=max(self.job_retry_max_delay_s, self.job_retry_base_delay_s),
            timeout_s=self.job_timeout_s,
            heartbeat_s=self.job_heartbeat_s,
        )
