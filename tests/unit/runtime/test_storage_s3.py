"""S3ObjectStore logic that a real server cannot be made to show on demand (no sockets)."""

from typing import Any, cast

import pytest
from minio import Minio
from minio.error import S3Error

from darkroom.runtime.storage import S3ObjectStore
from darkroom.runtime.storage.s3 import parse_endpoint


def _s3_error(code: str) -> S3Error:
    return S3Error(cast(Any, None), code, "test", "/bucket", "request-id", "host-id")


class _RacingClient:
    """bucket_exists says no, then another process creates the bucket before make_bucket."""

    def __init__(self, code: str, visible_after: bool) -> None:
        self.code = code
        self.visible_after = visible_after
        self.checks = 0

    def bucket_exists(self, bucket: str) -> bool:
        self.checks += 1
        return self.checks > 1 and self.visible_after

    def make_bucket(self, bucket: str) -> None:
        raise _s3_error(self.code)


def _store(client: _RacingClient) -> S3ObjectStore:
    return S3ObjectStore(cast(Minio, client), "darkroom")


async def test_ensure_bucket_tolerates_a_bucket_created_meanwhile_by_another_process() -> None:
    await _store(_RacingClient("BucketAlreadyOwnedByYou", visible_after=True)).ensure_bucket()


async def test_ensure_bucket_accepts_already_exists_when_the_bucket_is_ours_to_see() -> None:
    await _store(_RacingClient("BucketAlreadyExists", visible_after=True)).ensure_bucket()


async def test_ensure_bucket_fails_when_the_name_belongs_to_someone_else() -> None:
    with pytest.raises(S3Error, match="BucketAlreadyExists"):
        await _store(_RacingClient("BucketAlreadyExists", visible_after=False)).ensure_bucket()


async def test_ensure_bucket_passes_other_s3_errors_on() -> None:
    with pytest.raises(S3Error, match="AccessDenied"):
        await _store(_RacingClient("AccessDenied", visible_after=True)).ensure_bucket()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:9000", ("127.0.0.1:9000", False)),
        ("https://media.example.com", ("media.example.com", True)),
        ("https://media.example.com/", ("media.example.com", True)),
        ("http://minio:9000", ("minio:9000", False)),
    ],
)
def test_endpoint_url_gives_host_and_tls_from_its_scheme(
    url: str, expected: tuple[str, bool]
) -> None:
    assert parse_endpoint(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:9000",
        "minio:9000",
        "ftp://host",
        "http://",
        "http://h/bucket",
        "http://user:pw@host",
        "http://host?x=1",
    ],
)
def test_endpoint_without_scheme_or_with_a_path_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="S3 endpoint"):
        parse_endpoint(url)
