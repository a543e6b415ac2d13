"""Settings group of whoever reads user-supplied images: the gateway (uploads) and the workers
(input assets and URLs)."""

from __future__ import annotations

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.media.decode import ImageLimits
from darkroom.media.fetch import FetchPolicy


class InputSettings(BaseSettings):
    """Limits on input images, and the rules of fetching them from URLs."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    input_max_bytes: PositiveInt = Field(
        20 * 1024 * 1024, description="Largest input image (an upload or a fetched URL), bytes."
    )
    input_max_pixels: PositiveInt = Field(
        40_000_000,
        description="Most pixels of an input image, read from its header before decoding "
        "(decompression bombs are refused).",
    )
    input_fetch_timeout_s: float = Field(
        15.0, gt=0, description="Longest download of an input URL, redirects included."
    )
    input_fetch_max_redirects: int = Field(3, ge=0, description="Redirects an input URL may take.")
    input_fetch_allow_loopback: bool = Field(
        False, description="Let input URLs reach loopback addresses (tests and local demos only)."
    )
    input_fetch_allow_private: bool = Field(
        False,
        description="Let input URLs reach private and link-local ranges (an internal CDN); cloud "
        "metadata addresses stay refused.",
    )

    @property
    def image_limits(self) -> ImageLimits:
        return ImageLimits(max_bytes=self.input_max_bytes, max_pixels=self.input_max_pixels)

    @property
    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(
            max_bytes=self.input_max_bytes,
            timeout_s=self.input_fetch_timeout_s,
            max_redirects=self.input_fetch_max_redirects,
            allow_loopback=self.input_fetch_allow_loopback,
            allow_private=self.input_fetch_allow_private,
        )
