"""Settings group of whoever reads user-supplied images: the gateway (uploads, and what it checks
at submit) and the workers (input assets and URLs)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.media.decode import ImageLimits
from darkroom.media.fetch import FetchPolicy

# How a worker holds a decoded input: Pillow keeps 8-bit RGB and RGBA alike in 4 bytes a pixel.
HELD_BYTES_PER_PIXEL = 4
DEFAULT_MAX_JOB_DECODED_BYTES = 480_000_000
DEFAULT_UPSCALE_MAX_OUTPUT_PIXELS = 64_000_000


@dataclass(frozen=True)
class JobInputLimits:
    """What the inputs of one job may cost, as far as their sizes are known before it runs."""

    max_job_decoded_bytes: int = DEFAULT_MAX_JOB_DECODED_BYTES
    upscale_max_output_pixels: int = DEFAULT_UPSCALE_MAX_OUTPUT_PIXELS


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
    input_max_decoded_bytes: PositiveInt = Field(
        160_000_000,
        description="Most bytes an input image decodes to (pixels x bytes a pixel: 3 for 8-bit "
        "RGB, 8 for 16-bit RGBA), read from its header before decoding. The default lets every "
        "8-bit image within INPUT_MAX_PIXELS through and gives 16-bit ones half the pixels.",
    )
    input_max_job_decoded_bytes: PositiveInt = Field(
        DEFAULT_MAX_JOB_DECODED_BYTES,
        description="Most bytes the inputs of one job decode to together, at 4 bytes a pixel "
        "(four 30 MP photos); the gateway refuses a job over it at submit when it knows the "
        "inputs' sizes (uploads and earlier outputs, not URLs).",
    )
    upscale_max_output_pixels: PositiveInt = Field(
        DEFAULT_UPSCALE_MAX_OUTPUT_PIXELS,
        description="Largest output of an upscale or variant, in pixels (a 2000x2000 input x4 is "
        "64 MP); the gateway refuses an upscale of a known input over it at submit, the worker "
        "fails any other as invalid input.",
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
        return ImageLimits(
            max_bytes=self.input_max_bytes,
            max_pixels=self.input_max_pixels,
            max_decoded_bytes=self.input_max_decoded_bytes,
        )

    @property
    def job_input_limits(self) -> JobInputLimits:
        return JobInputLimits(
            max_job_decoded_bytes=self.input_max_job_decoded_bytes,
            upscale_max_output_pixels=self.upscale_max_output_pixels,
        )

    @property
    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(
            max_bytes=self.input_max_bytes,
            timeout_s=self.input_fetch_timeout_s,
            max_redirects=self.input_fetch_max_redirects,
            allow_loopback=self.input_fetch_allow_loopback,
            allow_private=self.input_fetch_allow_private,
        )
