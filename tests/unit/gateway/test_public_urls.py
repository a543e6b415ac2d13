"""The gateway's status_url, Location and events_url bases follow the ports the gateway and the
notifier listen on, unless PUBLIC_BASE_URL / NOTIFIER_PUBLIC_URL are set."""

import pytest

from darkroom.gateway.settings import GatewaySettings

NAMES = (
    "GATEWAY_HOST",
    "GATEWAY_PORT",
    "NOTIFIER_HOST",
    "NOTIFIER_PORT",
    "PUBLIC_BASE_URL",
    "NOTIFIER_PUBLIC_URL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def gateway() -> GatewaySettings:
    return GatewaySettings(_env_file=None)  # type: ignore[call-arg]


def test_the_defaults_are_the_usual_local_urls() -> None:
    settings = gateway()

    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.notifier_public_url == "http://127.0.0.1:8001"


def test_moving_the_ports_alone_moves_the_public_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("GATEWAY_PORT", "9100")
    monkeypatch.setenv("NOTIFIER_HOST", "0.0.0.0")
    monkeypatch.setenv("NOTIFIER_PORT", "9101")
    settings = gateway()

    assert (settings.gateway_host, settings.gateway_port) == ("0.0.0.0", 9100)
    assert settings.public_base_url == "http://127.0.0.1:9100"
    assert settings.notifier_public_url == "http://127.0.0.1:9101"


def test_explicit_public_urls_win_over_the_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "9100")
    monkeypatch.setenv("NOTIFIER_PORT", "9101")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://api.example.com/")
    monkeypatch.setenv("NOTIFIER_PUBLIC_URL", "https://events.example.com/")
    settings = gateway()

    assert settings.public_base_url == "https://api.example.com"
    assert settings.notifier_public_url == "https://events.example.com"


def test_keyword_arguments_are_derived_from_like_the_environment() -> None:
    settings = GatewaySettings(_env_file=None, gateway_port=9200, notifier_port=9201)  # type: ignore[call-arg]

    assert settings.public_base_url == "http://127.0.0.1:9200"
    assert settings.notifier_public_url == "http://127.0.0.1:9201"
