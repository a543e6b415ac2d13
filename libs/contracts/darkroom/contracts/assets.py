"""Descriptors of the files a job produced."""

import re
import uuid

from pydantic import BaseModel, ConfigDict, Field

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ASSET_ID_PATTERN = rf"^{_UUID}(/[0-9]{{1,3}})?$"
"""An upload's id (a UUID), or `<job id>/<index>`: the index-th output of a job."""


def output_asset_id(job_id: uuid.UUID, index: int) -> str:
    """The asset id of a job's `index`-th output."""
    return f"{job_id}/{index}"


def parse_asset_id(asset_id: str) -> tuple[uuid.UUID, int | None]:
    """(upload id, None) or (job id, output index); ValueError if it is neither."""
    if not re.fullmatch(ASSET_ID_PATTERN, asset_id):
        raise ValueError(f"{asset_id!r} is not an asset id")
    head, _, index = asset_id.partition("/")
    return uuid.UUID(head), int(index) if index else None


class AssetDescriptor(BaseModel):
    """One file a job stored in object storage."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str = Field(min_length=1, description="Object key, deterministic per job and index.")
    content_type: str = Field(description="MIME type, e.g. image/png.")
    width: int = Field(ge=1, description="Width in pixels.")
    height: int = Field(ge=1, description="Height in pixels.")
    bytes: int = Field(ge=0, description="Size of the file in bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file, hex.")
    duration_s: float | None = Field(None, ge=0, description="Length of a video, seconds.")
    frames: int | None = Field(None, ge=1, description="Frames of a video.")


class JobResult(BaseModel):
    """What a completed job produced."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    assets: list[AssetDescriptor] = Field(description="The stored files, in output order.")
