"""The ComfyUI provider against a local server that implements ComfyUI's own API (HTTP and
websocket): the workflow queued with the job's values at its placeholders and the websocket's
client id, progress from the websocket's sampler steps, polling /history when the socket is lost,
only saved images fetched, a refused workflow or a failing node named in the job's error, running
out of GPU memory or an unreachable server retried, the proxy key as a bearer token, and a
cancelled job interrupted (running) or deleted from the queue (waiting) at ComfyUI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers.comfyui import (
    DEFAULT_WORKFLOW,
    ComfyuiProvider,
    ComfyuiSettings,
    fill,
    placeholder_values,
)
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from tests.factories import image_params
from tests.fixtures.fake_comfyui import API_KEY, FakeComfyui, serve_fake_comfyui
from tests.fixtures.local_http import StepRecorder
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.integration


Build = Callable[..., ComfyuiProvider]


@pytest.fixture(scope="module")
def comfyui_server() -> Iterator[FakeComfyui]:
    """One server for the module's tests (starting and stopping uvicorn takes a while)."""
    yield from serve_fake_comfyui()


@pytest.fixture
def fake_comfyui(comfyui_server: FakeComfyui) -> FakeComfyui:
    comfyui_server.reset()
    return comfyui_server


@pytest.fixture
async def build() -> AsyncIterator[Build]:
    """Providers of the test's settings, their connections closed after it."""
    built: list[ComfyuiProvider] = []

    def provider(
        url: str, workflow: Path = DEFAULT_WORKFLOW, key: str | None = None
    ) -> ComfyuiProvider:
        settings = ComfyuiSettings(
            url=url, workflow_file=workflow, api_key=key, poll_interval_s=0.01, timeout_s=5
        )
        built.append(ComfyuiProvider(settings))
        return built[-1]

    yield provider
    for one in built:
        await one.client.http.aclose()


def params(prompt: str, **overrides: Any) -> ImageParams:
    return image_params(provider="comfyui", model="workflow", prompt=prompt, **overrides)


def workflow_file(tmp_path: Path, change: dict[str, Any]) -> Path:
    """The shipped workflow with nodes changed or added, written where a deployment would."""
    workflow = json.loads(DEFAULT_WORKFLOW.read_text())
    for node_id, node in change.items():
        workflow[node_id] = workflow.get(node_id, {}) | node
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(workflow))
    return path


async def test_the_workflow_is_queued_with_the_jobs_values_and_followed_on_its_websocket(
    fake_comfyui: FakeComfyui, build: Build
) -> None:
    job = params("a lighthouse", negative_prompt="fog", num_images=2, width=96, height=64, seed=7)
    steps = StepRecorder()
    images = await build(fake_comfyui.url).generate_image(job, steps)

    assert [(i.width, i.height, i.content_type) for i in images] == [(96, 64, "image/png")] * 2
    [post] = fake_comfyui.requests("POST", "/prompt")
    [socket] = fake_comfyui.requests("WS", "/ws")
    assert socket.path == f"/ws?clientId={post.body['client_id']}"
    expected = json.loads(DEFAULT_WORKFLOW.read_text())
    expected["6"]["inputs"]["text"], expected["7"]["inputs"]["text"] = "a lighthouse", "fog"
    expected["3"]["inputs"]["seed"] = 7
    expected["5"]["inputs"] |= {"width": 96, "height": 64, "batch_size": 2}
    assert post.body == {"prompt": expected, "client_id": post.body["client_id"]}
    assert steps.calls == [(1, 100), (25, 100), (50, 100), (75, 100), (99, 100), (100, 100)]
    assert len(fake_comfyui.requests("GET", "/history/")) == 1  # the websocket said when
    views = fake_comfyui.requests("GET", "/view")
    assert [v.path for v in views] == [
        f"/view?filename=darkroom_000{i:02}_.png&subfolder=&type=output" for i in range(2)
    ]


async def test_a_lost_websocket_falls_back_to_polling_the_history(
    fake_comfyui: FakeComfyui, build: Build
) -> None:
    steps = StepRecorder()
    images = await build(fake_comfyui.url).generate_image(params("a slow dropped line"), steps)

    assert [(i.width, i.height) for i in images] == [(64, 64)]
    assert len(fake_comfyui.requests("GET", "/history/")) > 2
    assert steps.calls == [(1, 100), (100, 100)]


async def test_a_workflow_of_ones_own_gets_text_placeholders_and_only_its_saved_images(
    fake_comfyui: FakeComfyui, build: Build, tmp_path: Path
) -> None:
    path = workflow_file(tmp_path, {
        "6": {"inputs": {"text": "cinematic photo of {{prompt}}", "clip": ["4", 1]}},
        "10": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}},
    })  # fmt: skip
    images = await build(fake_comfyui.url, path).generate_image(params("a pier"), StepRecorder())

    assert len(images) == 1  # the PreviewImage's temp image is not the job's
    [post] = fake_comfyui.requests("POST", "/prompt")
    assert post.body["prompt"]["6"]["inputs"]["text"] == "cinematic photo of a pier"
    assert post.body["prompt"]["10"] == {
        "class_type": "PreviewImage",
        "inputs": {"images": ["8", 0]},
    }


def test_placeholders_are_typed_when_whole_and_text_inside_a_string() -> None:
    node = {"seed": "{{seed}}", "name": "dr_{{seed}}_{{width}}", "pair": ["{{width}}", 2], "n": 3}
    filled = fill(node, placeholder_values(params("a pier", seed=5, width=128)))
    assert filled == {"seed": 5, "name": "dr_5_128", "pair": [128, 2], "n": 3}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "cannot read the ComfyUI workflow"),
        ('{"nodes": [], "links": []}', "not a workflow in ComfyUI's API format"),
        ('{"6": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{promt}}"}}}', "promt"),
        ('{"6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat"}}}', "no {{prompt}}"),
    ],
)
def test_a_workflow_darkroom_cannot_use_is_refused_with_the_settings(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "workflow.json"
    path.write_text(text)
    with pytest.raises(ValidationError, match="workflow_file") as refused:
        ComfyuiSettings(url="http://gpu-box:8188", workflow_file=path)
    assert reason in str(refused.value)


async def failure(build: Build, url: str, prompt: str, **kwargs: Any) -> WorkerError:
    with pytest.raises(WorkerError) as raised:
        await build(url, **kwargs).generate_image(params(prompt), StepRecorder())
    return raised.value


async def test_comfyuis_failures_become_the_jobs_errors_naming_the_node(
    fake_comfyui: FakeComfyui, build: Build, tmp_path: Path
) -> None:
    url = fake_comfyui.url
    broken = workflow_file(tmp_path, {"4": {"inputs": {"ckpt_name": "gone.safetensors"}}})
    refused = await failure(build, url, "a harbour", workflow=broken)
    assert isinstance(refused, PermanentError) and refused.code == ErrorCode.INVALID_INPUT
    assert "node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'gone" in str(refused)

    oom = await failure(build, url, "an oom scene")
    assert isinstance(oom, RetryableError) and oom.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert "node 3 (KSampler) failed: torch.OutOfMemoryError" in str(oom)

    crash = await failure(build, url, "a crash")
    assert isinstance(crash, PermanentError) and crash.code == ErrorCode.INVALID_INPUT
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied" in str(crash)

    vanished = await failure(build, url, "a vanished print")
    assert isinstance(vanished, RetryableError) and "404" in str(vanished)

    down = await failure(build, f"http://127.0.0.1:{free_port()}", "a harbour")
    assert isinstance(down, RetryableError) and down.code == ErrorCode.PROVIDER_UNAVAILABLE


async def test_the_api_key_goes_as_a_bearer_token_everywhere_and_a_refused_one_is_provider_auth(
    fake_comfyui: FakeComfyui, build: Build
) -> None:
    fake_comfyui.api_key = API_KEY
    wrong = await failure(build, fake_comfyui.url, "a harbour", key="comfy-wrong-key")
    assert isinstance(wrong, PermanentError) and wrong.code == ErrorCode.PROVIDER_AUTH
    assert "comfy-wrong-key" not in str(wrong)

    fake_comfyui.received.clear()
    await build(fake_comfyui.url, key=API_KEY).generate_image(params("a pier"), StepRecorder())
    assert {r.method for r in fake_comfyui.received} == {"WS", "POST", "GET"}
    assert {r.headers["authorization"] for r in fake_comfyui.received} == {f"Bearer {API_KEY}"}


async def cancel_when(build: Build, fake: FakeComfyui, prompt: str, done: int) -> str:
    """Start a job, cancel it once its progress reaches `done`; the prompt's id at ComfyUI."""
    reached = asyncio.Event()

    async def on_step(step: int, total: int) -> None:
        if step >= done:
            reached.set()

    job = asyncio.create_task(build(fake.url).generate_image(params(prompt), on_step))
    await asyncio.wait_for(reached.wait(), 5)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    [prompt_id] = fake.runs
    return prompt_id


async def test_a_cancelled_running_job_is_interrupted_at_comfyui(
    fake_comfyui: FakeComfyui, build: Build
) -> None:
    prompt_id = await cancel_when(build, fake_comfyui, "a stuck tide", done=2)

    assert [r.body for r in fake_comfyui.requests("POST", "/queue")] == [{"delete": [prompt_id]}]
    assert [r.body for r in fake_comfyui.requests("POST", "/interrupt")] == [
        {"prompt_id": prompt_id}
    ]
    assert fake_comfyui.runs[prompt_id].interrupted


async def test_a_cancelled_waiting_job_is_deleted_from_comfyuis_queue_not_interrupted(
    fake_comfyui: FakeComfyui, build: Build
) -> None:
    prompt_id = await cancel_when(build, fake_comfyui, "a queued tide", done=1)

    assert [r.body for r in fake_comfyui.requests("POST", "/queue")] == [{"delete": [prompt_id]}]
    assert fake_comfyui.requests("POST", "/interrupt") == []
    assert fake_comfyui.runs[prompt_id].state == "deleted"
