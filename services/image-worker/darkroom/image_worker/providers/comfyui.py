"""ComfyUI on the operator's own GPUs: the job's values put into a workflow (ComfyUI's API format)
at its `{{placeholders}}`, queued on the ComfyUI server, followed on its websocket (or by polling
`/history` when the socket fails), its saved images fetched from the same server; a cancelled
job is taken off ComfyUI's queue, or interrupted if it runs. The transport is comfyui_client.

Placeholders are string values `"{{name}}"`, `name` a field of the job's parameters: `prompt`,
`negative_prompt` (empty when the job has none), `seed`, `width`, `height`, `num_images` (the
latent's batch size). A value that is exactly one placeholder takes the field's type (a number
stays a number); a placeholder inside a longer string is replaced by its text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, PositiveFloat, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model

DEFAULT_WORKFLOW = Path(__file__).with_name("comfyui_workflow.json")
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
FIELDS = frozenset({"prompt", "negative_prompt", "seed", "width", "height", "num_images"})
PERCENT = 100


class ComfyuiSettings(BaseSettings):
    """COMFYUI_URL (required), COMFYUI_WORKFLOW_FILE, COMFYUI_API_KEY, COMFYUI_POLL_INTERVAL_S,
    COMFYUI_TIMEOUT_S."""

    model_config = SettingsConfigDict(env_prefix="COMFYUI_", extra="ignore", env_ignore_empty=True)

    url: str = Field(description="ComfyUI server URL, such as http://gpu-box:8188.")
    workflow_file: Path = Field(
        DEFAULT_WORKFLOW,
        description="Workflow in ComfyUI's API format with {{placeholders}} (default: the "
        "SDXL text-to-image graph shipped with Darkroom).",
    )
    api_key: SecretStr | None = Field(
        None, description="Sent as `Authorization: Bearer` (for a proxy in front of ComfyUI)."
    )
    poll_interval_s: PositiveFloat = Field(
        1.0, description="Wait between two /history polls when the websocket is down."
    )
    timeout_s: PositiveFloat = Field(30.0, description="Longest wait for one HTTP answer.")

    @field_validator("workflow_file")
    @classmethod
    def _usable_workflow(cls, path: Path) -> Path:
        load_workflow(path)
        return path


class ComfyuiProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="comfyui",
        description="ComfyUI on your own GPUs: a workflow of yours with the job's values.",
        models=[image_model("workflow", 0.0, "The workflow of COMFYUI_WORKFLOW_FILE.")],
        limits=ProviderLimitsInfo(starts_per_s=2.0, concurrency=2, timeout_s=600.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = ComfyuiSettings

    def __init__(self, settings: ComfyuiSettings) -> None:
        from darkroom.image_worker.providers.comfyui_client import ComfyuiClient

        self.workflow = load_workflow(settings.workflow_file)
        self.client = ComfyuiClient(settings)

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        """Progress in percent: 1 once queued, the sampler's steps as ComfyUI reports them (never
        going back: a second sampler starts again from 0), 100 when the images are here."""
        reported = 1

        async def on_progress(value: int, maximum: int) -> None:
            nonlocal reported
            percent = min(PERCENT - 1, value * PERCENT // maximum)
            if percent > reported:
                reported = percent
                await on_step(percent, PERCENT)

        async def on_queued() -> None:
            await on_step(1, PERCENT)

        workflow = fill(self.workflow, placeholder_values(params))
        images = await self.client.run(workflow, on_queued, on_progress)
        await on_step(PERCENT, PERCENT)
        return images


def load_workflow(path: Path) -> dict[str, Any]:
    """The workflow at `path`, checked: ComfyUI's API format (node id → class_type and inputs),
    `{{prompt}}` somewhere in it, and no placeholder but the known ones."""
    try:
        text = path.read_text(encoding="utf-8")
        workflow = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the ComfyUI workflow {path}: {exc}") from exc
    if not (
        isinstance(workflow, dict)
        and workflow
        and all(
            isinstance(n, dict) and "class_type" in n and "inputs" in n for n in workflow.values()
        )
    ):
        raise ValueError(
            f"{path} is not a workflow in ComfyUI's API format (ComfyUI: Export (API)): "
            "an object of nodes, each with class_type and inputs"
        )
    named = set(PLACEHOLDER.findall(text))
    if unknown := sorted(named - FIELDS):
        raise ValueError(f"{path}: unknown placeholders {unknown}; known: {sorted(FIELDS)}")
    if "prompt" not in named:
        raise ValueError(f"{path} has no {{{{prompt}}}} placeholder: the job's prompt goes there")
    return workflow


def placeholder_values(params: ImageParams) -> dict[str, str | int]:
    """What each placeholder stands for in this job."""
    return {
        "prompt": params.prompt,
        "negative_prompt": params.negative_prompt or "",
        "seed": params.seed,
        "width": params.width,
        "height": params.height,
        "num_images": params.num_images,
    }


def fill(node: Any, values: dict[str, str | int]) -> Any:
    """A copy of a workflow (or any part of it) with its placeholders replaced."""
    if isinstance(node, dict):
        return {key: fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(value, values) for value in node]
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), node)
    return node
