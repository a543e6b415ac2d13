"""The built-in procedural provider: real PNGs, deterministic, progress steps, loop stays free."""

import asyncio
import io

import numpy as np
import pytest
from PIL import Image

from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers import GeneratedImage, image_providers
from darkroom.image_worker.providers.local import LocalProvider
from darkroom.runtime.providers import ProviderLoadError, Registry
from tests.factories import image_params
from tests.fixtures.local_http import StepRecorder


async def generate(params: ImageParams, steps: int = 4) -> list[GeneratedImage]:
    return await LocalProvider(steps=steps).generate_image(params, StepRecorder())


def pixels(image: GeneratedImage) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image.data)).convert("RGB"), dtype=np.int16)


def mean_difference(a: GeneratedImage, b: GeneratedImage) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


@pytest.mark.parametrize(("width", "height"), [(64, 64), (512, 320), (72, 1024)])
async def test_images_are_pngs_of_exactly_the_requested_size(width: int, height: int) -> None:
    [image] = await generate(image_params(width=width, height=height))

    decoded = Image.open(io.BytesIO(image.data))
    assert decoded.format == "PNG"
    assert decoded.size == (width, height)
    assert (image.width, image.height, image.content_type) == (width, height, "image/png")


async def test_same_prompt_and_seed_give_byte_identical_images() -> None:
    params = image_params(width=256, height=192, num_images=2)

    first, second = await generate(params), await generate(params)

    assert [image.data for image in first] == [image.data for image in second]


async def test_different_prompts_give_clearly_different_images() -> None:
    [lighthouse] = await generate(image_params(prompt="a lighthouse at dusk"))
    [jellyfish] = await generate(image_params(prompt="neon jellyfish in a dark ocean"))

    assert mean_difference(lighthouse, jellyfish) > 20


async def test_a_different_seed_gives_a_different_image() -> None:
    [one] = await generate(image_params(seed=1))
    [two] = await generate(image_params(seed=2))

    assert mean_difference(one, two) > 5


async def test_three_images_are_three_distinct_images() -> None:
    images = await generate(image_params(num_images=3))

    assert len(images) == 3
    assert len({image.data for image in images}) == 3
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert mean_difference(images[i], images[j]) > 5


async def test_the_negative_prompt_shifts_the_palette_only_subtly() -> None:
    [plain] = await generate(image_params())
    [negative] = await generate(image_params(negative_prompt="blurry"))

    assert plain.data != negative.data
    assert mean_difference(plain, negative) < 40


@pytest.mark.parametrize("steps", [3, 4, 10])
async def test_progress_is_reported_once_per_step_in_order(steps: int) -> None:
    recorder = StepRecorder()

    await LocalProvider(steps=steps).generate_image(image_params(num_images=2), recorder)

    assert recorder.calls == [(done, steps) for done in range(1, steps + 1)]


async def test_the_event_loop_keeps_running_while_a_large_image_renders() -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    async with asyncio.TaskGroup() as group:
        group.create_task(ticker())
        try:
            await generate(image_params(width=2048, height=2048, num_images=2), steps=3)
        finally:
            done.set()

    # Rendering on the loop itself would allow a tick only at each of the 3 steps.
    assert ticks > 20


@pytest.mark.parametrize("steps", [0, 1, 2])
def test_fewer_than_three_steps_are_refused(steps: int) -> None:
    with pytest.raises(ValueError, match="at least 3 steps"):
        LocalProvider(steps=steps)


def test_a_negative_step_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        LocalProvider(step_delay_s=-1.0)


async def test_an_unknown_model_is_refused_before_any_step() -> None:
    recorder = StepRecorder()

    with pytest.raises(ValueError, match="unknown model 'sdxl'"):
        await LocalProvider().generate_image(image_params(model="sdxl"), recorder)
    assert recorder.calls == []


def test_the_local_provider_is_an_installed_plug_in_built_from_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCAL_PROVIDER_STEPS", "5")
    provider = image_providers(Registry.installed())["local"]

    assert isinstance(provider, LocalProvider)
    assert provider._steps == 5


def test_the_local_provider_refuses_too_few_steps_in_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCAL_PROVIDER_STEPS", "2")
    with pytest.raises(ProviderLoadError, match="invalid settings: LOCAL_PROVIDER_STEPS"):
        image_providers(Registry.installed())


async def test_the_noop_model_reports_every_step_and_returns_pngs_of_the_requested_size() -> None:
    steps = StepRecorder()
    params = image_params(model="noop", width=128, height=64, num_images=2)

    images = await LocalProvider(steps=5).generate_image(params, steps)

    assert steps.calls == [(n, 5) for n in range(1, 6)]
    assert len(images) == 2
    for image in images:
        assert Image.open(io.BytesIO(image.data)).size == (128, 64)
