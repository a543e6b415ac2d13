"""S3ObjectStore against a real S3 server over HTTP (moto_server unless S3_ENDPOINT is set).

moto accepts any credentials and ignores presigned-URL expiry and signatures (INFRA-NOTES §5),
so refusal of expired or tampered URLs is not tested here: it needs MinIO or AWS.
"""

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from darkroom.runtime.storage import (
    ObjectNotFound,
    S3ObjectStore,
    StoreUnavailable,
    asset_key,
    minio_client_from_url,
)
from tests.fixtures.s3 import S3Endpoint

pytestmark = pytest.mark.integration


def _key() -> str:
    return asset_key(uuid.uuid4(), 0, "png")


async def test_put_then_get_returns_the_same_bytes_size_and_sha256(
    s3_store: S3ObjectStore,
) -> None:
    key, data = _key(), os.urandom(300_000)
    stored = await s3_store.put(key, data, "image/png")
    assert await s3_store.get(key) == data
    assert (stored.key, stored.bytes, stored.content_type) == (key, len(data), "image/png")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


async def test_put_on_an_existing_key_overwrites_it(s3_store: S3ObjectStore) -> None:
    key = _key()
    await s3_store.put(key, b"first attempt", "image/png")
    await s3_store.put(key, b"second", "image/png")
    assert await s3_store.get(key) == b"second"


async def test_get_of_a_missing_key_raises_object_not_found(s3_store: S3ObjectStore) -> None:
    key = _key()
    with pytest.raises(ObjectNotFound) as caught:
        await s3_store.get(key)
    assert caught.value.key == key


async def test_exists_is_false_before_put_and_true_after(s3_store: S3ObjectStore) -> None:
    key = _key()
    assert not await s3_store.exists(key)
    await s3_store.put(key, b"x", "image/png")
    assert await s3_store.exists(key)


async def test_presigned_url_downloads_the_exact_bytes_and_content_type(
    s3_store: S3ObjectStore,
) -> None:
    key, data = _key(), os.urandom(50_000)
    await s3_store.put(key, data, "image/webp")
    signed = await s3_store.signed_url(key, timedelta(minutes=10))
    async with httpx.AsyncClient() as http:
        response = await http.get(signed.url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/webp"


async def test_signed_url_expiry_is_utc_and_matches_the_ttl(s3_store: S3ObjectStore) -> None:
    signed = await s3_store.signed_url(_key(), timedelta(minutes=10))
    assert signed.expires_at.tzinfo is UTC
    assert timedelta(minutes=9) < signed.expires_at - datetime.now(UTC) <= timedelta(minutes=10)
    assert "X-Amz-Expires=600" in signed.url


async def test_presign_client_puts_the_public_host_in_urls(
    s3_endpoint: S3Endpoint, s3_store: S3ObjectStore
) -> None:
    public = minio_client_from_url(
        "https://media.example.com",
        s3_endpoint.access_key,
        s3_endpoint.secret_key,
        s3_endpoint.region,
    )
    store = S3ObjectStore(s3_endpoint.client(), s3_store.bucket, presign_client=public)
    key = _key()
    await store.put(key, b"x", "image/png")  # writes still go to the internal endpoint
    url = urlsplit((await store.signed_url(key, timedelta(minutes=5))).url)
    assert (url.scheme, url.netloc) == ("https", "media.example.com")
    assert url.path == f"/{s3_store.bucket}/{key}"
    assert await s3_store.get(key) == b"x"


async def test_ensure_bucket_is_idempotent(s3_store: S3ObjectStore) -> None:
    await s3_store.ensure_bucket()
    await s3_store.ensure_bucket()
    await s3_store.ping()


async def test_ping_fails_when_the_bucket_is_missing(s3_endpoint: S3Endpoint) -> None:
    store = S3ObjectStore(s3_endpoint.client(), f"darkroom-missing-{uuid.uuid4().hex[:12]}")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        await store.ping()


async def test_ping_fails_when_the_server_refuses_connections(
    s3_endpoint: S3Endpoint, unused_tcp_port: int
) -> None:
    client = minio_client_from_url(
        f"http://127.0.0.1:{unused_tcp_port}", "test", "test", s3_endpoint.region
    )
    with pytest.raises(StoreUnavailable, match="unreachable"):
        await S3ObjectStore(client, "darkroom").ping()
