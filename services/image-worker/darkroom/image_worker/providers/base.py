"""What every image provider offers the worker: a port, tested with fakes in the handler tests."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ModelInfo


@dataclass(frozen=True)
class GeneratedImage:
    """One finished image, encoded and ready to store."""

    data: bytes
    width: int
    height: int
    content_type: str


# Awaited after each step with (steps done, starting at 1; total steps).
StepCallback = Callable[[int, int], Awaitable[None]]


class Provider(Protocol):
    """A text-to-image backend (a provider plug-in serving image jobs: darkroom.runtime.providers);
    it raises plain exceptions and the worker classifies them."""

    name: str

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]: ...


def image_model(name: str, cost_usd: float, description: str) -> ModelInfo:
    """A model serving image jobs, priced per image (how a provider plug-in lists its models)."""
    return ModelInfo(
        name=name, job_types=[JobType.IMAGE], cost_usd=cost_usd, description=description
    )
