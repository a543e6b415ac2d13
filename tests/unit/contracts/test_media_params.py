"""Upscale, variants and video parameters name their provider and model: rows and messages
written before they did still read (the local provider's models), and a chain step's choice
passes into the job it becomes."""

from __future__ import annotations

from darkroom.contracts.api import CreateUpscaleJob
from darkroom.contracts.params import InputImage, UpscaleStep, VariantsStep, parse_params


def test_stored_params_without_provider_or_model_are_the_local_providers() -> None:
    source = {"key": "uploads/u/in.png"}
    upscale = parse_params({"kind": "upscale", "input": source, "scale": 2, "format": "png"})
    variants = parse_params({"kind": "variants", "input": source})
    video = parse_params(
        {"kind": "video", "duration_s": 2, "fps": 8, "width": 64, "height": 64, "seed": 1}
    )

    assert [(p.provider, p.model) for p in (upscale, variants, video)] == [  # type: ignore[union-attr]
        ("local", "lanczos"),
        ("local", "resize"),
        ("local", "ken-burns"),
    ]


def test_a_chain_steps_choice_passes_into_its_jobs_params() -> None:
    source = InputImage(key="jobs/j/r/0.png")
    chosen = UpscaleStep(scale=4, provider="replicate", model="nightmareai/real-esrgan")
    stored_before_steps_chose = VariantsStep.model_validate({"type": "variants"})

    upscale = chosen.params(source)
    variants = stored_before_steps_chose.params(source)

    assert (upscale.scale, upscale.provider, upscale.model) == (4, "replicate", chosen.model)
    assert (variants.provider, variants.model, variants.input) == ("local", "resize", source)


def test_an_upscale_body_names_no_model_unless_asked() -> None:
    body = CreateUpscaleJob.model_validate({"image": {"url": "https://example.com/a.png"}})

    assert (body.provider, body.model) == ("local", None)
