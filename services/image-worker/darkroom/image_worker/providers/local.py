"""The built-in `local` provider: procedural art, CPU only, deterministic per prompt and seed.

The art itself lives in `darkroom.media.procedural` (the video worker paints from a prompt too);
this module adds what the worker needs around it: models, progress steps and PNG encoding.
"""

import asyncio
import functools
import io
import logging
from typing import ClassVar

from PIL import Image
from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ModelInfo, ProviderInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback
from darkroom.media import procedural

logger = logging.getLogger(__name__)

MIN_STEPS = 3
PNG_COMPRESS_LEVEL = 1


def _encode(image: Image.Image) -> GeneratedImage:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    return GeneratedImage(out.getvalue(), image.width, image.height, "image/png")


def _encode_all(canvases: list[procedural.Canvas]) -> list[GeneratedImage]:
    return [_encode(canvas.image()) for canvas in canvases]


@functools.lru_cache(maxsize=16)
def _blank(width: int, height: int) -> GeneratedImage:
    """A flat grey PNG, encoded once per size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (128, 128, 128)).save(out, "PNG")
    return GeneratedImage(out.getvalue(), width, height, "image/png")


class LocalProviderSettings(BaseSettings):
    """The local provider's options (it needs no credentials: always configured)."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    local_provider_steps: PositiveInt = Field(
        4, ge=MIN_STEPS, description="Progress steps of the local provider."
    )
    local_provider_step_delay_s: float = Field(
        0.0, ge=0, description="Sleep per step of the local provider, so a demo shows progress."
    )


class LocalProvider:
    """Procedural images with real progress steps; the rendering runs in a worker thread."""

    name = "local"
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="local",
        description="Built in: procedural art painted from the prompt, on the CPU, no key needed; "
        "the same prompt and seed give the same picture.",
        models=[
            ModelInfo(name="procedural", job_types=[JobType.IMAGE], description="Procedural art."),
            ModelInfo(
                name="noop",
                job_types=[JobType.IMAGE],
                description="A flat grey image of the size asked: tests and benchmarks of the "
                "pipeline itself.",
            ),
        ],
    )
    settings_class: ClassVar[type[BaseSettings]] = LocalProviderSettings

    def __init__(
        self,
        settings: LocalProviderSettings | None = None,
        *,
        steps: int = 4,
        step_delay_s: float = 0.0,
    ) -> None:
        if settings is not None:  # built as a plug-in
            steps, step_delay_s = (
                settings.local_provider_steps,
                settings.local_provider_step_delay_s,
            )
        if steps < MIN_STEPS:
            raise ValueError(f"The local provider needs at least {MIN_STEPS} steps, got {steps}.")
        if step_delay_s < 0:
            raise ValueError(f"The step delay must not be negative, got {step_delay_s}.")
        self._steps = steps
        self._step_delay_s = step_delay_s

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        """Render `params.num_images` PNGs, awaiting `on_step(1, n)` … `on_step(n, n)` meanwhile."""
        models = [m.name for m in self.info.models]
        if params.model not in models:
            known = ", ".join(models)
            raise ValueError(f"unknown model {params.model!r} for provider 'local'; known: {known}")
        if params.model == "noop":
            return await self._noop(params, on_step)
        palette = procedural.palette(params.prompt, params.negative_prompt)
        canvases = [
            procedural.Canvas(
                palette,
                prompt=params.prompt,
                seed=params.seed,
                index=i,
                width=params.width,
                height=params.height,
            )
            for i in range(params.num_images)
        ]
        # Off the event loop, so that Kafka heartbeats and other jobs keep running meanwhile.
        for step in range(1, self._steps + 1):
            await asyncio.to_thread(procedural.render_band, canvases, step - 1, self._steps)
            if self._step_delay_s:
                await asyncio.sleep(self._step_delay_s)
            logger.debug("local provider step %d/%d", step, self._steps)
            await on_step(step, self._steps)
        return await asyncio.to_thread(_encode_all, canvases)

    async def _noop(self, params: ImageParams, on_step: StepCallback) -> list[GeneratedImage]:
        """The same steps and outputs, without the image work: what the pipeline itself costs."""
        for step in range(1, self._steps + 1):
            if self._step_delay_s:
                await asyncio.sleep(self._step_delay_s)
            await on_step(step, self._steps)
        return [_blank(params.width, params.height)] * params.num_images
