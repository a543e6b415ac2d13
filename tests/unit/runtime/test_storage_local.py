import asyncio
import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from darkroom.runtime.storage import (
    LocalObjectStore,
    ObjectNotFound,
    StoreUnavailable,
    UrlSigner,
    asset_key,
)

SIGNER = UrlSigner(b"unit-test-secret")
UNSAFE_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "jobs/../../outside",
    "jobs\\0.png",
    "jobs//0.png",
    "jobs/0.png/",
    "./jobs/0.png",
    "jobs/\x00.png",
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "assets"


@pytest.fixture
def store(root: Path) -> LocalObjectStore:
    return LocalObjectStore(root, "https://darkroom.example.com/", SIGNER)


def _key() -> str:
    return asset_key(uuid.uuid4(), 0, "png")


async def test_put_then_get_returns_the_same_bytes(store: LocalObjectStore) -> None:
    key, data = _key(), os.urandom(4096)
    await store.put(key, data, "image/png")
    assert await store.get(key) == data


async def test_put_reports_size_sha256_and_content_type(store: LocalObjectStore) -> None:
    key, data = _key(), b"\x89PNG fake image"
    stored = await store.put(key, data, "image/png")
    assert stored.key == key
    assert stored.bytes == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.content_type == "image/png"


async def test_put_on_an_existing_key_overwrites_it_and_leaves_one_file(
    store: LocalObjectStore,
) -> None:
    key = _key()
    await store.put(key, b"first attempt", "image/png")
    await store.put(key, b"second", "image/png")
    assert await store.get(key) == b"second"
    assert [p.name for p in store.path_for(key).parent.iterdir()] == ["0.png"]


async def test_exists_is_false_before_put_and_true_after(store: LocalObjectStore) -> None:
    key = _key()
    assert not await store.exists(key)
    await store.put(key, b"x", "image/png")
    assert await store.exists(key)


async def test_get_of_a_missing_key_raises_object_not_found(store: LocalObjectStore) -> None:
    key = _key()
    with pytest.raises(ObjectNotFound) as caught:
        await store.get(key)
    assert caught.value.key == key


async def test_a_key_naming_a_folder_is_not_an_object(store: LocalObjectStore) -> None:
    key = _key()
    await store.put(key, b"x", "image/png")
    folder = key.rsplit("/", 1)[0]
    assert not await store.exists(folder)
    with pytest.raises(ObjectNotFound):
        await store.get(folder)
    with pytest.raises(ObjectNotFound):
        await store.get(f"{key}/below-a-file")


@pytest.mark.parametrize("key", UNSAFE_KEYS)
async def test_unsafe_keys_are_refused_by_every_operation(
    store: LocalObjectStore, root: Path, key: str
) -> None:
    with pytest.raises(ValueError):
        await store.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.exists(key)
    with pytest.raises(ValueError):
        await store.signed_url(key, timedelta(minutes=1))
    assert not (root.parent / "outside").exists()


async def test_failed_write_keeps_the_previous_object_and_no_temp_file(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _key()
    await store.put(key, b"good", "image/png")

    def fail_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.put(key, b"half-written", "image/png")
    monkeypatch.undo()
    assert await store.get(key) == b"good"
    assert [p.name for p in store.path_for(key).parent.iterdir()] == ["0.png"]


async def test_signed_url_points_at_the_gateway_and_verifies(store: LocalObjectStore) -> None:
    key = _key()
    signed = await store.signed_url(key, timedelta(minutes=10))
    url = urlsplit(signed.url)
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        f"https://darkroom.example.com/v1/assets/{key}"
    )
    assert int(query["expires"]) == int(signed.expires_at.timestamp())
    assert signed.expires_at.tzinfo is not None
    assert timedelta(minutes=9) < signed.expires_at - datetime.now(UTC) <= timedelta(minutes=10)
    assert SIGNER.verify(key, int(query["expires"]), query["sig"])
    assert not SIGNER.verify(_key(), int(query["expires"]), query["sig"])


async def test_ping_creates_the_root_folder(store: LocalObjectStore, root: Path) -> None:
    await store.ping()
    assert await asyncio.to_thread(root.is_dir)


@pytest.fixture
def root_is_a_file(root: Path) -> None:
    root.write_bytes(b"not a folder")


@pytest.mark.usefixtures("root_is_a_file")
async def test_ping_fails_when_the_root_is_not_a_folder(root: Path) -> None:
    with pytest.raises(StoreUnavailable):
        await LocalObjectStore(root, "http://127.0.0.1:8000", SIGNER).ping()


def test_asset_key_is_deterministic_per_job_and_index() -> None:
    job_id = uuid.UUID("5f0c7a52-94c4-4a35-9d4b-2f8f5d0b6a11")
    assert asset_key(job_id, 2, "webp") == f"jobs/{job_id}/2.webp"
    assert asset_key(job_id, 2, "webp") == asset_key(job_id, 2, "webp")


@pytest.mark.parametrize(("index", "ext"), [(-1, "png"), (0, ""), (0, ".png"), (0, "p/g")])
def test_asset_key_refuses_negative_indexes_and_odd_extensions(index: int, ext: str) -> None:
    with pytest.raises(ValueError):
        asset_key(uuid.uuid4(), index, ext)


async def test_temporary_files_of_writes_cut_off_by_a_crash_are_removed_once_old(
    store: LocalObjectStore, root: Path
) -> None:
    key = asset_key(uuid.uuid4(), 0, "png")
    await store.put(key, b"kept", "image/png")
    folder = store.path_for(key).parent
    old, fresh = folder / ".0.png.abc123.tmp", folder / ".0.png.def456.tmp"
    old.write_bytes(b"half a file")
    fresh.write_bytes(b"a write in progress")
    hour_ago = datetime.now(UTC).timestamp() - 3600
    os.utime(old, (hour_ago, hour_ago))

    removed = await store.remove_orphans(older_than_s=600)

    assert removed == 1
    assert not old.exists() and fresh.exists()  # a write that may still be running is left alone
    assert await store.get(key) == b"kept"
