"""Which provider and model an upscale, video or chain-step submission gets: checked against the
installed plug-ins (the built-in local ones and Replicate's, not configured here), the default
model filled in, a refusal a 422 naming the field, under `then` for a chain step."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError

from darkroom.contracts.api import CreateUpscaleJob, CreateVideoJob
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import UpscaleStep, VariantsStep
from darkroom.gateway.choices import chosen_model, chosen_steps
from darkroom.runtime.providers import Registry


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    for name in ("REPLICATE_API_TOKEN", "RUNWAY_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Registry.installed()


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(RequestValidationError) as raised:
        call()
    [error] = raised.value.errors()
    return dict(error)


def test_without_a_model_each_job_type_gets_the_local_providers_own(registry: Registry) -> None:
    upscale = CreateUpscaleJob.model_validate({"image": {"url": "https://example.com/a.png"}})
    video = CreateVideoJob(prompt="waves")

    assert chosen_model(registry, JobType.UPSCALE, upscale) == "lanczos"
    assert chosen_model(registry, JobType.VIDEO, video) == "ken-burns"


def test_an_unconfigured_provider_or_an_unknown_model_is_refused_on_its_field(
    registry: Registry,
) -> None:
    runway = refusal(
        lambda: chosen_model(registry, JobType.VIDEO, CreateVideoJob(prompt="w", provider="runway"))
    )
    sdxl = refusal(
        lambda: chosen_model(registry, JobType.VIDEO, CreateVideoJob(prompt="w", model="sdxl"))
    )

    assert runway["loc"] == ("body", "provider") and runway["input"] == "runway"
    assert "not configured here: set RUNWAY_API_KEY" in runway["msg"]
    assert sdxl["loc"] == ("body", "model") and "known: ['ken-burns']" in sdxl["msg"]


def test_chain_steps_get_their_models_and_a_refused_one_is_named_under_then(
    registry: Registry,
) -> None:
    steps = chosen_steps(registry, [UpscaleStep(scale=4), VariantsStep()])
    refused = refusal(lambda: chosen_steps(registry, [VariantsStep(model="lanczos")]))

    assert [(s.provider, s.model) for s in steps] == [("local", "lanczos"), ("local", "resize")]
    assert refused["loc"] == ("body", "then", 0, "model")
    assert "known: ['resize']" in refused["msg"]
