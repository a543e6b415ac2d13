from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from darkroom.runtime.storage import (
    LocalObjectStore,
    S3ObjectStore,
    StorageSettings,
    make_object_store,
    make_url_signer,
    minio_client_from_url,
    open_object_store,
)

ENV_NAMES = [
    "STORAGE_BACKEND",
    "STORAGE_LOCAL_ROOT",
    "PUBLIC_BASE_URL",
    "ASSET_URL_SECRET",
    "ASSET_URL_TTL_S",
    "S3_ENDPOINT",
    "S3_PUBLIC_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_REGION",
    "S3_BUCKET",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def _s3_settings(**overrides: object) -> StorageSettings:
    values: dict[str, object] = {
        "storage_backend": "s3",
        "s3_endpoint": "http://minio:9000",
        "s3_access_key": "key",
        "s3_secret_key": "secret",
    }
    return StorageSettings(_env_file=None, **(values | overrides))  # type: ignore[arg-type]


def test_defaults_give_a_local_store_under_var_assets() -> None:
    settings = StorageSettings(_env_file=None)
    store = make_object_store(settings)
    assert isinstance(store, LocalObjectStore)
    assert store.path_for("jobs/a/0.png") == Path("var/assets/jobs/a/0.png")
    assert settings.asset_url_ttl == timedelta(hours=1)


def test_flat_environment_variables_are_read_case_insensitively(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_ENDPOINT", "https://s3.example.com")
    monkeypatch.setenv("s3_bucket", "outputs")
    monkeypatch.setenv("S3_ACCESS_KEY", "")  # empty counts as unset
    settings = StorageSettings(_env_file=None)
    assert (settings.storage_backend, settings.s3_bucket) == ("s3", "outputs")
    assert settings.s3_access_key is None


def test_s3_backend_without_an_endpoint_fails_at_startup() -> None:
    with pytest.raises(ValidationError, match="S3_ENDPOINT"):
        _s3_settings(s3_endpoint=None)


def test_s3_endpoint_without_scheme_fails_at_startup() -> None:
    with pytest.raises(ValidationError, match="http"):
        _s3_settings(s3_endpoint="minio:9000")


def test_only_one_of_the_s3_keys_fails_at_startup() -> None:
    with pytest.raises(ValidationError, match="both"):
        _s3_settings(s3_secret_key=None)


async def test_s3_store_presigns_with_the_public_endpoint_and_no_request() -> None:
    store = make_object_store(_s3_settings(s3_public_endpoint="https://media.example.com"))
    assert isinstance(store, S3ObjectStore)
    signed = await store.signed_url("jobs/a/0.png", timedelta(minutes=5))
    assert signed.url.startswith("https://media.example.com/darkroom/jobs/a/0.png?")


async def test_open_object_store_gives_a_local_store_without_touching_disk(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    store = await open_object_store(StorageSettings(_env_file=None, storage_local_root=root))
    assert isinstance(store, LocalObjectStore)
    assert not root.exists()


def test_signer_from_settings_verifies_urls_of_the_local_store() -> None:
    settings = StorageSettings(_env_file=None, asset_url_secret="s3cret")  # type: ignore[arg-type]
    other = StorageSettings(_env_file=None)
    expires_at = datetime.now(UTC) + timedelta(minutes=1)
    sig = make_url_signer(settings).sign("k", expires_at)
    assert make_url_signer(settings).verify("k", int(expires_at.timestamp()), sig)
    assert not make_url_signer(other).verify("k", int(expires_at.timestamp()), sig)


def test_without_keys_s3_credentials_come_from_the_environment_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "its-secret")
    client = minio_client_from_url("http://127.0.0.1:9", None, None, "eu-west-1")
    provider = client._provider  # minio keeps it here; presigning reads it without a request
    assert provider is not None
    assert provider.retrieve().access_key == "from-the-environment"
    # a presigned URL is signed with those credentials, offline
    url = client.presigned_get_object("outputs", "k")
    assert "from-the-environment" in url


def test_keys_in_the_settings_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "its-secret")
    url = minio_client_from_url(
        "http://127.0.0.1:9", "set", "keys", "us-east-1"
    ).presigned_get_object("outputs", "k")
    assert "Credential=set%2F" in url
