"""Shared settings groups: async database drivers, and no development secrets in production."""

from typing import Any

import pytest
from pydantic import ValidationError

from darkroom.gateway.settings import GatewaySettings
from darkroom.runtime.settings import DEV_JWT_SECRET, DatabaseSettings
from darkroom.runtime.storage import DEV_ASSET_URL_SECRET

REAL_JWT_SECRET = "b3f1c9a27e5d4f08a6c2e9d17b4a3f60"
REAL_ASSET_SECRET = "0c9e2f7a1b6d4e83a5f0c2d97e1b4a36"
REAL_WEBHOOK_KEY = "5d0a9c3e7f1b24e6a8c0d2f4b6e8a1c3"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "DARKROOM_ENV",
        "JWT_SECRET",
        "ASSET_URL_SECRET",
        "WEBHOOK_SIGNING_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def gateway(**values: Any) -> GatewaySettings:
    return GatewaySettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/darkroom", "postgresql+asyncpg://u:p@db:5432/darkroom"),
        ("postgres://u:p@db/darkroom", "postgresql+asyncpg://u:p@db/darkroom"),
        ("postgresql+asyncpg://u@db/darkroom", "postgresql+asyncpg://u@db/darkroom"),
        ("sqlite:///var/darkroom.db", "sqlite+aiosqlite:///var/darkroom.db"),
        ("sqlite:////tmp/abs.db", "sqlite+aiosqlite:////tmp/abs.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_database_urls_get_an_async_driver(given: str, used: str) -> None:
    settings = DatabaseSettings(_env_file=None, database_url=given)  # type: ignore[call-arg]

    assert settings.database_url == used


def test_database_url_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://env@db/darkroom")

    assert DatabaseSettings(_env_file=None).database_url == "postgresql+asyncpg://env@db/darkroom"  # type: ignore[call-arg]


def test_prod_refuses_the_development_jwt_secret_naming_it() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET") as info:
        gateway(darkroom_env="prod", asset_url_secret=REAL_ASSET_SECRET)

    assert "ASSET_URL_SECRET" not in str(info.value)


def test_prod_refuses_the_development_asset_url_secret_naming_it() -> None:
    with pytest.raises(ValidationError, match="ASSET_URL_SECRET") as info:
        gateway(darkroom_env="prod", jwt_secret=REAL_JWT_SECRET)

    assert "JWT_SECRET" not in str(info.value)


def test_prod_accepts_real_secrets() -> None:
    settings = gateway(
        darkroom_env="prod",
        jwt_secret=REAL_JWT_SECRET,
        asset_url_secret=REAL_ASSET_SECRET,
        webhook_signing_key=REAL_WEBHOOK_KEY,
    )

    assert settings.jwt_secret.get_secret_value() == REAL_JWT_SECRET


def test_prod_reads_real_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DARKROOM_ENV", "prod")
    monkeypatch.setenv("JWT_SECRET", REAL_JWT_SECRET)
    monkeypatch.setenv("ASSET_URL_SECRET", REAL_ASSET_SECRET)
    monkeypatch.setenv("WEBHOOK_SIGNING_KEY", REAL_WEBHOOK_KEY)

    assert gateway().darkroom_env == "prod"


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_accept_the_development_secrets(env: str) -> None:
    settings = gateway(darkroom_env=env)

    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert settings.asset_url_secret.get_secret_value() == DEV_ASSET_URL_SECRET


def test_a_jwt_secret_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValidationError, match="jwt_secret"):
        gateway(jwt_secret="too-short")


def test_the_development_jwt_secret_is_long_enough_for_hs256() -> None:
    assert len(DEV_JWT_SECRET.encode()) >= 32
