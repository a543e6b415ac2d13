"""The new job bodies: each refusal names the field a 422 would point at; params read back by kind."""

import uuid
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from darkroom.contracts.api import (
    CreateBatchJob,
    CreateImageJob,
    CreateUpscaleJob,
    CreateVideoJob,
    ImageRef,
)
from darkroom.contracts.assets import output_asset_id, parse_asset_id
from darkroom.contracts.params import (
    BatchParams,
    ChainParams,
    ImageParams,
    InputImage,
    UpscaleParams,
    UpscaleStep,
    VariantsParams,
    VariantsStep,
    VideoParams,
    parse_params,
)
from tests.factories import image_params

UPLOAD_ID = "0b7c3e52-9f1d-4d6a-8b3e-2f4a5c6d7e8f"
URL = "https://images.example.com/a.png"


def first_error(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """The first validation error of `body`; fails if the body is accepted."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    return dict(info.value.errors()[0])


def test_a_chain_after_several_images_is_refused_on_then() -> None:
    error = first_error(
        CreateImageJob, {"prompt": "a fox", "num_images": 2, "then": [{"type": "upscale"}]}
    )

    assert error["loc"] == ("then",)
    assert "num_images 1" in error["msg"]


def test_a_chain_of_one_image_is_accepted_with_its_steps() -> None:
    body = CreateImageJob.model_validate(
        {"prompt": "a fox", "then": [{"type": "upscale", "scale": 4}, {"type": "variants"}]}
    )

    assert body.then == [UpscaleStep(scale=4), VariantsStep()]


@pytest.mark.parametrize("model", [CreateImageJob, CreateUpscaleJob])
def test_variants_anywhere_but_last_is_refused_on_then(model: type[BaseModel]) -> None:
    body = {"prompt": "a fox"} if model is CreateImageJob else {"image": {"url": URL}}
    steps = [{"type": "upscale"}, {"type": "variants"}, {"type": "upscale"}]

    error = first_error(model, body | {"then": steps})

    assert error["loc"] == ("then",)
    assert "step 2 is variants" in error["msg"]


@pytest.mark.parametrize("ref", [{}, {"asset_id": UPLOAD_ID, "url": URL}], ids=["neither", "both"])
def test_an_image_ref_needs_exactly_one_of_asset_id_and_url(ref: dict[str, Any]) -> None:
    error = first_error(ImageRef, ref)

    assert error["loc"] == ("url",)
    assert "exactly one" in error["msg"]


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "a.png"])
def test_a_url_that_is_not_http_or_https_is_refused(url: str) -> None:
    error = first_error(ImageRef, {"url": url})

    assert error["loc"] == ("url",)
    assert "http" in error["msg"]


@pytest.mark.parametrize(
    "asset_id",
    ["not-an-id", UPLOAD_ID.upper(), f"{UPLOAD_ID}/", f"{UPLOAD_ID}/1234", f"{UPLOAD_ID}/-1"],
)
def test_an_asset_id_must_be_an_upload_id_or_a_job_output(asset_id: str) -> None:
    error = first_error(ImageRef, {"asset_id": asset_id})

    assert error["loc"] == ("asset_id",)


@pytest.mark.parametrize("asset_id", [UPLOAD_ID, f"{UPLOAD_ID}/0", f"{UPLOAD_ID}/999"])
def test_upload_ids_and_job_outputs_are_accepted_asset_ids(asset_id: str) -> None:
    assert ImageRef(asset_id=asset_id).asset_id == asset_id


def test_an_output_asset_id_parses_back_to_its_job_and_index() -> None:
    job_id = uuid.uuid4()

    assert parse_asset_id(output_asset_id(job_id, 3)) == (job_id, 3)
    assert parse_asset_id(UPLOAD_ID) == (uuid.UUID(UPLOAD_ID), None)
    with pytest.raises(ValueError, match="not an asset id"):
        parse_asset_id("nope")


@pytest.mark.parametrize("prompt", [None, "   "])
def test_a_video_needs_a_prompt_or_images(prompt: str | None) -> None:
    error = first_error(CreateVideoJob, {"prompt": prompt})

    assert error["loc"] == ("images",)
    assert "prompt, input images, or both" in error["msg"]


def test_a_video_of_images_alone_is_accepted() -> None:
    body = CreateVideoJob.model_validate({"images": [{"url": URL}, {"asset_id": UPLOAD_ID}]})

    assert (body.prompt, len(body.images), body.duration_s, body.fps) == (None, 2, 4, 24)


@pytest.mark.parametrize(
    ("field", "value"), [("duration_s", 0), ("duration_s", 11), ("fps", 7), ("fps", 31)]
)
def test_a_video_duration_or_frame_rate_out_of_range_is_refused(field: str, value: int) -> None:
    error = first_error(CreateVideoJob, {"prompt": "waves", field: value})

    assert error["loc"] == (field,)


@pytest.mark.parametrize("count", [0, 51])
def test_a_batch_of_0_or_over_50_prompts_is_refused(count: int) -> None:
    error = first_error(CreateBatchJob, {"prompts": ["a fox"] * count})

    assert error["loc"] == ("prompts",)


def test_a_batch_of_50_prompts_is_accepted() -> None:
    assert len(CreateBatchJob.model_validate({"prompts": ["a fox"] * 50}).prompts) == 50


def test_a_blank_batch_prompt_is_named_by_its_index() -> None:
    error = first_error(CreateBatchJob, {"prompts": ["a fox", "a cat", "  \n"]})

    assert error["loc"] == ("prompts",)
    assert "prompt 2 is blank" in error["msg"]


SOURCE = InputImage(key="uploads/u-1/a.png", asset_id=UPLOAD_ID)

EVERY_KIND: list[BaseModel] = [
    image_params(negative_prompt="fog"),
    UpscaleParams(input=SOURCE, scale=4, format="webp"),
    VariantsParams(input=InputImage(url=URL)),
    VideoParams(
        prompt="waves",
        inputs=(SOURCE, InputImage(url=URL)),
        duration_s=2,
        fps=12,
        width=848,
        height=480,
        seed=7,
    ),
    BatchParams(prompts=("a fox", "a cat"), template=image_params(prompt="a fox")),
    ChainParams(first=image_params(), steps=(UpscaleStep(scale=2), VariantsStep())),
    ChainParams(first=UpscaleParams(input=SOURCE, scale=2, format="png"), steps=(VariantsStep(),)),
]


@pytest.mark.parametrize("params", EVERY_KIND, ids=lambda p: type(p).__name__)
def test_params_of_every_kind_read_back_as_the_model_of_their_kind(params: BaseModel) -> None:
    stored = params.model_dump(mode="json")

    parsed = parse_params(stored)

    assert type(parsed) is type(params)
    assert parsed == params
    assert parsed.model_dump(mode="json") == stored


def test_a_chain_keeps_the_kind_of_its_first_step() -> None:
    chain = ChainParams(
        first=UpscaleParams(input=SOURCE, scale=2, format="png"), steps=(VariantsStep(),)
    )

    parsed = parse_params(chain.model_dump(mode="json"))

    assert isinstance(parsed, ChainParams)
    assert isinstance(parsed.first, UpscaleParams)
    assert parsed.step_names == ["upscale", "variants"]


def test_untagged_params_from_before_the_tag_read_as_image_params() -> None:
    row = image_params(prompt="an old row").model_dump(mode="json")
    del row["kind"]

    parsed = parse_params(row)

    assert isinstance(parsed, ImageParams)
    assert (parsed.kind, parsed.prompt) == ("image", "an old row")
