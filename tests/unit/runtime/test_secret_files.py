"""Secrets from files: a service's and a provider plug-in's settings read a file named like the
variable in DARKROOM_SECRETS_DIR (as Docker secrets and Kubernetes secret volumes mount them);
the environment wins over a file, and a secrets directory that does not exist stops the process."""

from __future__ import annotations

from pathlib import Path

import pytest

from darkroom.gateway.settings import GatewaySettings
from darkroom.runtime.providers import Registry
from darkroom.runtime.secret_files import secrets_dir

REAL_JWT = "f" * 40


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("JWT_SECRET", "BFL_API_KEY", "WEBHOOK_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DARKROOM_SECRETS_DIR", str(tmp_path))
    return tmp_path


def test_a_services_secret_is_read_from_its_file(secrets: Path) -> None:
    (secrets / "JWT_SECRET").write_text(REAL_JWT)
    (secrets / "webhook_signing_key").write_text("w" * 40)

    settings = GatewaySettings(_env_file=None)  # type: ignore[call-arg]

    assert settings.jwt_secret.get_secret_value() == REAL_JWT
    assert settings.webhook_signing_key.get_secret_value() == "w" * 40


def test_the_environment_wins_over_a_file(secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (secrets / "JWT_SECRET").write_text(REAL_JWT)
    monkeypatch.setenv("JWT_SECRET", "e" * 40)

    assert GatewaySettings(_env_file=None).jwt_secret.get_secret_value() == "e" * 40  # type: ignore[call-arg]


def test_a_provider_whose_key_is_a_file_is_configured(secrets: Path) -> None:
    assert {v.name: v.configured for v in Registry.installed().views}["bfl"] is False
    (secrets / "BFL_API_KEY").write_text("bfl-key-from-a-file")

    assert {v.name: v.configured for v in Registry.installed().views}["bfl"] is True


def test_a_secrets_directory_that_does_not_exist_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DARKROOM_SECRETS_DIR", str(tmp_path / "nowhere"))

    with pytest.raises(ValueError, match=r"DARKROOM_SECRETS_DIR=.*nowhere is not a directory"):
        secrets_dir()
