"""Descriptors of the files a job produced."""

from pydantic import BaseModel, ConfigDict, Field


class AssetDescriptor(BaseModel):
    """One file a job stored in object storage."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str = Field(min_length=1, description="Object key, deterministic per job and index.")
    content_type: str = Field(description="MIME type, e.g. image/png.")
    width: int = Field(ge=1, description="Width in pixels.")
    height: int = Field(ge=1, description="Height in pixels.")
    bytes: int = Field(ge=0, description="Size of the file in bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file, hex.")


class JobResult(BaseModel):
    """What a completed job produced."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    assets: list[AssetDescriptor] = Field(description="The stored files, in output order.")
