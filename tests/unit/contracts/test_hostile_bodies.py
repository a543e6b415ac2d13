"""Request bodies refuse what the gateway can judge alone: numbers JSON cannot carry, input URLs a
worker could never fetch or that hold a password, and lists and strings without a bound."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from darkroom.contracts.api import CreateBatchJob, CreateImageJob, CreateUpscaleJob, CreateVideoJob

BODIES: list[type[BaseModel]] = [CreateImageJob, CreateBatchJob, CreateUpscaleJob, CreateVideoJob]
UNFETCHABLE = [
    "http://",
    "http:///a.png",
    "http://[::1",
    "ftp://x",
    "http://exa mple.com/a.png",
    "http://example.com:99999/a.png",
]
STRING_BOUNDS = {"maxLength", "enum", "const", "pattern"}
WITH_CREDENTIALS = [
    "http://user:pass@host/a.png",
    "https://user@host/a.png",
    "https://:secret@host/a.png",
]


def refusal(body: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        body.model_validate(data)
    [error] = caught.value.errors()
    return dict(error)


@pytest.mark.parametrize("body", BODIES)
def test_request_bodies_refuse_nan_and_infinity_as_numbers(body: type[BaseModel]) -> None:
    assert body.model_config.get("allow_inf_nan") is False
    assert body.model_config.get("extra") == "forbid"


@pytest.mark.parametrize(
    ("field", "value"),
    [("seed", float("nan")), ("width", float("inf")), ("num_images", float("-inf"))],
)
def test_a_number_json_cannot_carry_is_refused_naming_the_field(field: str, value: float) -> None:
    data = {"prompt": "a", field: value} | ({"height": 512} if field == "width" else {})

    error = refusal(CreateImageJob, data)

    assert (error["loc"], error["type"]) == ((field,), "finite_number")


@pytest.mark.parametrize("url", UNFETCHABLE)
def test_an_input_url_no_worker_could_fetch_is_refused_at_image_url(url: str) -> None:
    error = refusal(CreateUpscaleJob, {"image": {"url": url}})

    assert error["loc"] == ("image", "url")
    assert "URL" in error["msg"]


@pytest.mark.parametrize("url", WITH_CREDENTIALS)
def test_an_input_url_with_a_user_name_or_password_is_refused(url: str) -> None:
    upscale = refusal(CreateUpscaleJob, {"image": {"url": url}})
    video = refusal(CreateVideoJob, {"images": [{"asset_id": None, "url": url}]})

    assert upscale["loc"] == ("image", "url")
    assert video["loc"] == ("images", 0, "url")
    assert "user name or password" in upscale["msg"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a.png",
        "HTTP://Example.COM/a.png?sig=abc&at=x@y",
        "http://[2001:db8::1]:8080/a.png",
        "https://例え.jp/画像.png",
        "https://cdn.example.com/a%20b.png",
    ],
)
def test_an_ordinary_input_url_is_accepted_unchanged(url: str) -> None:
    body = CreateUpscaleJob.model_validate({"image": {"url": url}})

    assert body.image.url == url


def test_the_json_schema_says_what_an_input_url_may_be() -> None:
    ref = CreateUpscaleJob.model_json_schema()["$defs"]["ImageRef"]["properties"]["url"]

    assert ref["format"] == "uri"
    assert "user:password@" in ref["description"]


def unbounded(node: Any, path: str = "#") -> list[str]:
    """Paths of arrays without maxItems and of free strings without maxLength in a JSON Schema."""
    if isinstance(node, list):
        return [found for i, item in enumerate(node) for found in unbounded(item, f"{path}/{i}")]
    if not isinstance(node, dict):
        return []
    found = [path] if node.get("type") == "array" and "maxItems" not in node else []
    if node.get("type") == "string" and not STRING_BOUNDS & node.keys():
        found.append(path)
    return found + [
        deeper for key, value in node.items() for deeper in unbounded(value, f"{path}/{key}")
    ]


@pytest.mark.parametrize("body", BODIES)
def test_every_list_and_string_of_a_request_body_has_a_bound(body: type[BaseModel]) -> None:
    assert unbounded(body.model_json_schema()) == []
