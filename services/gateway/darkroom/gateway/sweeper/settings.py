"""The sweeper's settings."""

from __future__ import annotations

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.jobs.plans.sweep import SweepRules


class SweeperSettings(BaseSettings):
    """The sweeper of stalled jobs, which runs in the gateway (one replica at a time)."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    sweeper_enabled: bool = Field(True, description="Run the sweeper of stalled jobs.")
    sweeper_interval_s: float = Field(10.0, gt=0, description="How often the sweeper looks.")
    sweeper_queued_after_s: float = Field(
        60.0,
        gt=0,
        description="A queued or retrying job with no event for this long is looked at: queued "
        "again if its request is no longer waiting in a topic (lost), left alone if it is.",
    )
    sweeper_stalled_after_s: float = Field(
        120.0,
        gt=0,
        description="A running job with no event (workers heartbeat every JOB_HEARTBEAT_S) for this "
        "long gets a new run; the old one is fenced off.",
    )
    sweeper_lost_log_grace_s: float = Field(
        45.0,
        gt=0,
        description="After the broker lost its log, a running job with no event for this long since "
        "is given a new run at once (its worker went with the broker: a live one heartbeats every "
        "JOB_HEARTBEAT_S, so keep this above twice that).",
    )
    sweeper_max_attempts: PositiveInt = Field(
        5, description="A stalled running job past this attempt is failed (code `stalled`)."
    )
    sweeper_batch_size: PositiveInt = Field(500, description="Jobs swept per pass, per state.")
    sweeper_backlog_timeout_s: float = Field(
        15.0,
        gt=0,
        description="How long a pass may read the request topics to tell waiting requests from "
        "lost ones; past it, no waiting job is swept in that pass.",
    )

    @property
    def sweep_rules(self) -> SweepRules:
        return SweepRules(
            queued_after_s=self.sweeper_queued_after_s,
            stalled_after_s=self.sweeper_stalled_after_s,
            max_attempts=self.sweeper_max_attempts,
        )
