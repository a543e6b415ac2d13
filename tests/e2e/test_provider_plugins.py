"""A provider plug-in installed beside Darkroom (the example of docs/examples/provider-plugin,
on the services' PYTHONPATH) runs image jobs through the whole stack: GET /v1/models lists it,
a job naming it completes with its picture, a model or provider it does not have is a 422 on
that field, and its API key never reaches a log."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.e2e.client import submit, wait_for_status
from tests.fixtures.plugins import install_example_plugin
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

API_KEY = "acme-key-4f7c1b2e9d"


async def test_a_plug_in_provider_runs_image_jobs_end_to_end(
    make_stack,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    plugins = install_example_plugin(tmp_path / "plugins")
    stack = make_stack(PYTHONPATH=str(plugins), ACME_API_KEY=API_KEY)
    user, prompt = f"u-{uuid.uuid4().hex[:8]}", "a red kite over the dunes"
    async with httpx.AsyncClient(timeout=30) as http:
        catalog = (await http.get(f"{stack.gateway_url}/v1/models", headers=auth(user))).json()
        providers = {p["name"]: p for p in catalog["providers"]}
        assert providers["acme"]["configured"] and providers["local"]["configured"]
        assert providers["acme"]["models"][0]["name"] == "flat-1"

        job = await submit(http, stack.gateway_url, user, prompt=prompt, provider="acme")
        done = await wait_for_status(http, job["status_url"], user, "completed")
        assert done["params"]["model"] == "flat-1"
        picture = (await http.get(done["assets"][0]["url"])).content
        assert Image.open(io.BytesIO(picture)).getpixel((0, 0)) == tuple(
            hashlib.sha256(prompt.encode()).digest()[:3]
        )

        for body, field in (
            ({"provider": "acme", "model": "flat-9"}, "model"),
            ({"provider": "dalle"}, "provider"),
        ):
            refused = await http.post(
                f"{stack.gateway_url}/v1/jobs/image",
                json={"prompt": prompt, **body},
                headers=auth(user),
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["detail"][0]["loc"] == ["body", field]
    assert API_KEY not in stack.logs()
