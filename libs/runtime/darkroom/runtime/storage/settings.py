"""Storage settings group: mix into a service's settings class."""

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from darkroom.runtime.settings import GatewayAddress
from darkroom.runtime.storage.s3 import parse_endpoint

# Public so that a service's settings can refuse it outside development.
DEV_ASSET_URL_SECRET = "dev-asset-secret-change-me"


class StorageSettings(GatewayAddress):
    """Where job outputs are stored and how download URLs are made (local signed URLs point at
    the gateway's /v1/assets route, under its public URL)."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    storage_backend: Literal["local", "s3"] = Field(
        default="local", description="Object store: 'local' files or an 's3' server."
    )
    storage_local_root: Path = Field(
        default=Path("var/assets"), description="Folder of the local store (backend 'local')."
    )
    asset_url_secret: SecretStr = Field(
        default=SecretStr(DEV_ASSET_URL_SECRET),
        description="HMAC secret signing local asset URLs; shared by workers and the gateway.",
    )
    asset_url_ttl_s: PositiveInt = Field(
        default=3600, description="How long a download URL stays valid, in seconds."
    )
    s3_endpoint: str | None = Field(
        default=None,
        description="S3 server URL with scheme, e.g. http://127.0.0.1:9000 (https means TLS).",
    )
    s3_public_endpoint: str | None = Field(
        default=None,
        description="S3 URL clients can reach, used in presigned URLs; defaults to s3_endpoint.",
    )
    s3_access_key: SecretStr | None = Field(
        default=None,
        description="S3 access key id. Unset: the AWS chain (AWS_ACCESS_KEY_ID…, ~/.aws, "
        "web identity, the ECS or EC2 role).",
    )
    s3_secret_key: SecretStr | None = Field(default=None, description="S3 secret access key.")
    s3_region: str = Field(
        default="us-east-1", description="S3 region; also lets URLs be presigned offline."
    )
    s3_bucket: str = Field(default="darkroom", description="Bucket holding job outputs.")

    @property
    def asset_url_ttl(self) -> timedelta:
        """`asset_url_ttl_s` as a timedelta."""
        return timedelta(seconds=self.asset_url_ttl_s)

    @field_validator("s3_endpoint", "s3_public_endpoint")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_endpoint(value)
        return value

    @model_validator(mode="after")
    def _s3_is_complete(self) -> Self:
        if self.storage_backend != "s3":
            return self
        if self.s3_endpoint is None:
            raise ValueError("storage_backend 's3' needs S3_ENDPOINT, e.g. http://127.0.0.1:9000")
        if (self.s3_access_key is None) != (self.s3_secret_key is None):
            raise ValueError("set both S3_ACCESS_KEY and S3_SECRET_KEY, or neither")
        return self
