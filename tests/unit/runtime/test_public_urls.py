"""The gateway's public URL follows GATEWAY_HOST and GATEWAY_PORT unless PUBLIC_BASE_URL is set,
so moving the port alone moves every status_url, Location and local signed asset URL with it."""

from datetime import timedelta

import pytest

from darkroom.runtime.settings import local_url
from darkroom.runtime.storage import StorageSettings, make_object_store

NAMES = ("GATEWAY_HOST", "GATEWAY_PORT", "PUBLIC_BASE_URL", "STORAGE_BACKEND")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("::", 9000, "http://127.0.0.1:9000"),
        ("::1", 9001, "http://[::1]:9001"),
        ("darkroom.internal", 80, "http://darkroom.internal:80"),
    ],
)
def test_a_bind_address_becomes_the_url_a_local_client_reaches(
    host: str, port: int, url: str
) -> None:
    assert local_url(host, port) == url


async def test_moving_gateway_port_alone_moves_the_signed_asset_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "9123")
    settings = StorageSettings(_env_file=None)  # type: ignore[call-arg]

    signed = await make_object_store(settings).signed_url("jobs/a/0.png", timedelta(minutes=5))

    assert settings.public_base_url == "http://127.0.0.1:9123"
    assert signed.url.startswith("http://127.0.0.1:9123/v1/assets/jobs/a/0.png?")


def test_a_gateway_bound_to_every_address_is_reached_at_127_0_0_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("GATEWAY_PORT", "8080")

    assert StorageSettings(_env_file=None).public_base_url == "http://127.0.0.1:8080"  # type: ignore[call-arg]


@pytest.mark.parametrize("given", ["https://media.example.com/", "https://media.example.com"])
def test_an_explicit_public_base_url_wins_over_the_port(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "9123")
    monkeypatch.setenv("PUBLIC_BASE_URL", given)

    assert StorageSettings(_env_file=None).public_base_url == "https://media.example.com"  # type: ignore[call-arg]


def test_an_empty_public_base_url_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "9123")
    monkeypatch.setenv("PUBLIC_BASE_URL", "")

    assert StorageSettings(_env_file=None).public_base_url == "http://127.0.0.1:9123"  # type: ignore[call-arg]
