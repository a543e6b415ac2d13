"""The broker's incarnation: the first record of the incarnation topic.

Whoever finds the topic empty writes one, naming a fresh id; every process adopts the first
record as the log it runs on. A broker that lost its log (the embedded broker's memory storage
after a restart, a cluster rebuilt) answers with another first record, or none: each process
then knows its positions and commits belong to a log that is gone.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class BrokerIncarnation(BaseModel):
    """The one record of the incarnation topic that counts (its first)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    incarnation: uuid.UUID = Field(description="Id of this log of the broker.")
    claimed_by: str = Field(max_length=200, description="The process that wrote it.")
    claimed_at: AwareDatetime = Field(description="When it was written.")
