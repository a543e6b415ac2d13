"""Control messages: what the gateway tells running workers (on `jobs.control`, keyed by job id)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CancelRequested(BaseModel):
    """Stop this job: skip it if it has not started, stop it at its next step if it runs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["job.cancel-requested"] = "job.cancel-requested"
    job_id: uuid.UUID = Field(description="The job to cancel.")
    user_id: str = Field(min_length=1, max_length=200, description="Owner of the job.")
    requested_by: str = Field(description="Who asked (the owner or an admin).")
    requested_at: AwareDatetime = Field(description="When the cancel was asked for.")
    recorded: bool = Field(
        description="True when the job was not running and the gateway already recorded "
        "job.cancelled: workers only skip its request. False: the job was running, and the worker "
        "that stops it (or next reads its request) records job.cancelled."
    )
