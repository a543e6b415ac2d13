"""Job parameters as the workers receive them (already validated and resolved by the gateway).

Each job type has its own model, tagged by `kind`; `JobParams` is their union. Rows written
before the tag existed hold image parameters without `kind`: they read as image parameters.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, model_validator

MAX_SEED = 2**32 - 1
VARIANT_WIDTHS = (640, 1024, 1920)
VARIANT_FORMATS = ("webp", "avif")
# The built-in local provider's models: what rows and messages written before jobs of these types
# named a model ran with.
LOCAL_UPSCALE_MODEL = "lanczos"
LOCAL_VARIANTS_MODEL = "resize"
LOCAL_VIDEO_MODEL = "ken-burns"


class ImageParams(BaseModel):
    """Resolved text-to-image parameters: explicit size and seed, never defaults left open."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["image"] = "image"
    prompt: str = Field(min_length=1, max_length=2000, description="What to draw.")
    negative_prompt: str | None = Field(None, max_length=2000, description="What to avoid.")
    num_images: int = Field(ge=1, le=4, description="How many images to make.")
    width: int = Field(ge=64, le=2048, multiple_of=8, description="Width in pixels.")
    height: int = Field(ge=64, le=2048, multiple_of=8, description="Height in pixels.")
    seed: int = Field(
        ge=0, le=MAX_SEED, description="Random seed; same prompt and seed, same images."
    )
    model: str = Field(description="Model of the provider.")
    provider: str = Field(description="Generation provider.")


class InputImage(BaseModel):
    """Where a worker reads an input image: a stored object (an upload or an earlier job's output,
    whose ownership the gateway checked), or a URL the worker fetches under the SSRF rules."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str | None = Field(None, min_length=1, max_length=1024, description="Object key.")
    url: str | None = Field(None, min_length=1, max_length=2048, description="http(s) URL.")
    asset_id: str | None = Field(None, description="The asset id the caller gave, if any.")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> InputImage:
        if (self.key is None) == (self.url is None):
            raise ValueError("an input image has exactly one of key and url")
        return self


class UpscaleParams(BaseModel):
    """Resolved upscale parameters."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["upscale"] = "upscale"
    input: InputImage = Field(description="The image to upscale.")
    scale: Literal[2, 4] = Field(description="Output size is exactly scale times the input size.")
    format: Literal["png", "webp"] = Field(description="Output format.")
    provider: str = Field("local", description="Upscale provider.")
    model: str = Field(LOCAL_UPSCALE_MODEL, description="Model of the provider.")


class VariantsParams(BaseModel):
    """Resolved variants parameters: the responsive set an image site serves."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["variants"] = "variants"
    input: InputImage = Field(description="The image to derive the variants from.")
    widths: tuple[int, ...] = Field(VARIANT_WIDTHS, description="Output widths in pixels.")
    formats: tuple[str, ...] = Field(VARIANT_FORMATS, description="Output formats, per width.")
    provider: str = Field("local", description="Provider.")
    model: str = Field(LOCAL_VARIANTS_MODEL, description="Model of the provider.")


class VideoParams(BaseModel):
    """Resolved video parameters: explicit size, frame rate and seed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["video"] = "video"
    prompt: str | None = Field(None, max_length=2000, description="What to show.")
    negative_prompt: str | None = Field(None, max_length=2000, description="What to avoid.")
    inputs: tuple[InputImage, ...] = Field((), max_length=4, description="Images to animate.")
    duration_s: int = Field(ge=1, le=10, description="Length in seconds.")
    fps: int = Field(ge=8, le=30, description="Frames per second.")
    width: int = Field(ge=64, le=1920, multiple_of=2, description="Width in pixels.")
    height: int = Field(ge=64, le=1920, multiple_of=2, description="Height in pixels.")
    seed: int = Field(ge=0, le=MAX_SEED, description="Random seed (motion, generated frames).")
    provider: str = Field("local", description="Video provider.")
    model: str = Field(LOCAL_VIDEO_MODEL, description="Model of the provider.")

    @property
    def frames(self) -> int:
        return self.duration_s * self.fps


class ProviderChoice(BaseModel):
    """The provider and model a submission (or a chain step) names; the gateway checks them
    against the installed plug-ins and fills in the default model."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(
        "local",
        max_length=100,
        description="Provider: one of GET /v1/models (a 422 names it otherwise).",
    )
    model: str | None = Field(
        None, max_length=100, description="Model of the provider; its default for the job's type."
    )

    def _choice(self) -> dict[str, Any]:
        """The step's provider and model as params fields (a step stored without a model, before
        steps named one, runs the params' default)."""
        return {"provider": self.provider} | ({"model": self.model} if self.model else {})


class UpscaleStep(ProviderChoice):
    """A chain step: upscale the previous step's image."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["upscale"] = "upscale"
    scale: Literal[2, 4] = Field(2, description="2 or 4.")
    format: Literal["png", "webp"] = Field("png", description="Output format.")

    def params(self, source: InputImage) -> UpscaleParams:
        """The step's job parameters, reading `source` (the step before's output)."""
        values = {"input": source, "scale": self.scale, "format": self.format}
        return UpscaleParams.model_validate(values | self._choice())


class VariantsStep(ProviderChoice):
    """A chain step: the responsive set (640, 1024, 1920 px wide, each in WebP and AVIF) of the previous
    step's image. It ends a chain (it makes six files, not one image to pass on)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["variants"] = "variants"

    def params(self, source: InputImage) -> VariantsParams:
        """The step's job parameters, reading `source` (the step before's output)."""
        return VariantsParams.model_validate({"input": source} | self._choice())


ChainStep = Annotated[UpscaleStep | VariantsStep, Field(discriminator="type")]


class BatchParams(BaseModel):
    """A batch: one child image job per prompt, with shared options."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["batch"] = "batch"
    prompts: tuple[str, ...] = Field(min_length=1, max_length=50, description="One per child.")
    template: ImageParams = Field(description="The shared options (the first prompt's params).")


class ChainParams(BaseModel):
    """A chain: a first job, then each step as a job of its own, started by the completion of the
    step before it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["chain"] = "chain"
    first: ImageParams | UpscaleParams = Field(description="The first step's parameters.")
    steps: tuple[ChainStep, ...] = Field(min_length=1, max_length=5, description="What follows.")

    @property
    def step_names(self) -> list[str]:
        """Every step's name, the first included: image, upscale, variants."""
        return [self.first.kind, *(s.type for s in self.steps)]


def params_kind(value: Any) -> str:
    """The tag of a params value; untagged (older) rows are image parameters."""
    if isinstance(value, dict):
        return str(value.get("kind", "image"))
    return str(getattr(value, "kind", "image"))


JobParams = Annotated[
    Annotated[ImageParams, Tag("image")]
    | Annotated[UpscaleParams, Tag("upscale")]
    | Annotated[VariantsParams, Tag("variants")]
    | Annotated[VideoParams, Tag("video")]
    | Annotated[BatchParams, Tag("batch")]
    | Annotated[ChainParams, Tag("chain")],
    Discriminator(params_kind),
]
"""The parameters of a job of any type."""

job_params_adapter: TypeAdapter[JobParams] = TypeAdapter(JobParams)


def parse_params(value: Any) -> JobParams:
    """The parameters of a stored job (a row's JSON), as the model of their kind."""
    return job_params_adapter.validate_python(value)
