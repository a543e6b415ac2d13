"""`CreateImageJob`: what a submission may say, and the size it resolves to."""

from typing import Any

import pytest
from pydantic import ValidationError

from darkroom.contracts.api import CreateImageJob, resolve_size
from darkroom.contracts.catalog import ASPECT_SIZES
from tests.factories import create_image_job


def rejection(**overrides: Any) -> str:
    """The validation message of a body with `overrides`; fails if the body is accepted."""
    with pytest.raises(ValidationError) as info:
        create_image_job(**overrides)
    return str(info.value)


def test_a_prompt_alone_is_a_valid_body_with_defaults() -> None:
    body = create_image_job()

    assert (body.num_images, body.provider, body.model, body.seed) == (1, "local", None, None)
    assert resolve_size(body) == ASPECT_SIZES["1:1"]


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_an_empty_or_blank_prompt_is_rejected(prompt: str) -> None:
    assert "prompt" in rejection(prompt=prompt)


def test_a_prompt_over_2000_characters_is_rejected() -> None:
    assert create_image_job(prompt="x" * 2000).prompt == "x" * 2000
    assert "prompt" in rejection(prompt="x" * 2001)


@pytest.mark.parametrize("num_images", [0, 5])
def test_num_images_outside_1_to_4_is_rejected(num_images: int) -> None:
    assert "num_images" in rejection(num_images=num_images)


def test_a_width_that_is_not_a_multiple_of_8_is_rejected() -> None:
    assert "width" in rejection(width=1020, height=1024)


def test_width_without_height_is_rejected() -> None:
    assert "width and height go together" in rejection(width=512)
    assert "width and height go together" in rejection(height=512)


def test_aspect_ratio_together_with_a_size_is_rejected() -> None:
    assert "not both" in rejection(aspect_ratio="16:9", width=512, height=512)
    assert "not both" in rejection(aspect_ratio="16:9", width=512)


def test_an_unknown_aspect_ratio_is_rejected() -> None:
    assert "aspect_ratio" in rejection(aspect_ratio="2:1")


def test_an_unknown_field_is_forbidden() -> None:
    message = rejection(promt="typo")

    assert "promt" in message
    assert "extra" in message.lower()


@pytest.mark.parametrize(("ratio", "size"), sorted(ASPECT_SIZES.items()))
def test_each_aspect_ratio_resolves_to_its_catalog_size(ratio: str, size: tuple[int, int]) -> None:
    assert resolve_size(create_image_job(aspect_ratio=ratio)) == size


def test_an_explicit_size_is_kept() -> None:
    assert resolve_size(create_image_job(width=512, height=320)) == (512, 320)


def test_the_catalog_sizes_are_valid_dimensions() -> None:
    for width, height in ASPECT_SIZES.values():
        CreateImageJob(prompt="p", width=width, height=height)
