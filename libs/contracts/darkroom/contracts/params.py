"""Job parameters as the workers receive them (already validated and resolved by the gateway)."""

from pydantic import BaseModel, ConfigDict, Field

MAX_SEED = 2**32 - 1


class ImageParams(BaseModel):
    """Resolved text-to-image parameters: explicit size and seed, never defaults left open."""

    model_config = ConfigDict(frozen=True, extra="ignore")

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
