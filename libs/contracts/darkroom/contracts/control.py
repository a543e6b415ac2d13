"""Control messages: what the gateway tells running workers (on `jobs.control`, keyed by job id)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter


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


class RunSuperseded(BaseModel):
    """A run of this job was replaced by a new one (the sweeper found it stalled or its request
    lost): a worker running the old request stops without reporting, and one that reaches it
    later skips it. Its reports would be refused anyway; this saves the work."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["job.run-superseded"] = "job.run-superseded"
    job_id: uuid.UUID = Field(description="The job.")
    superseded_request_id: uuid.UUID = Field(description="The request whose run must stop.")
    request_id: uuid.UUID = Field(description="The request of the run that replaces it.")
    superseded_at: AwareDatetime = Field(description="When the run was replaced.")


ControlMessage = Annotated[CancelRequested | RunSuperseded, Field(discriminator="type")]
"""Any control message; dispatch with `match` and end with `assert_never`."""

control_adapter: TypeAdapter[ControlMessage] = TypeAdapter(ControlMessage)
