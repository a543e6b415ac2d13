"""Object store on S3 or an S3-compatible server (MinIO, moto), through the `minio` client."""

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.credentials import (
    AWSConfigProvider,
    ChainedProvider,
    EnvAWSProvider,
    EnvMinioProvider,
    IamAwsProvider,
)
from minio.error import MinioException, S3Error

from darkroom.runtime.storage.base import (
    ObjectNotFound,
    SignedUrl,
    StoredObject,
    StoreUnavailable,
    describe,
    validate_key,
)
from darkroom.runtime.storage.signing import expires_after

logger = logging.getLogger(__name__)

# minio's own defaults are a 300 s timeout and 5 retries: far too long for a /readyz probe, and
# each blocked call holds a thread of the default executor.
_TIMEOUT = urllib3.Timeout(connect=5, read=60)
_RETRIES = urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504])


def parse_endpoint(url: str) -> tuple[str, bool]:
    """Split `http(s)://host[:port]` into minio's `(endpoint, secure)`; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise ValueError(f"S3 endpoint must look like http(s)://host[:port], got {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"S3 endpoint {url!r} must not have a path, query or fragment")
    return parts.netloc, parts.scheme == "https"


def minio_client_from_url(
    url: str, access_key: str | None, secret_key: str | None, region: str
) -> Minio:
    """Return a Minio client for `url`; `region` is set so that presigning needs no request.
    Without keys, the credentials come from the environment's chain, as AWS SDKs find them."""
    endpoint, secure = parse_endpoint(url)
    http_client = urllib3.PoolManager(
        timeout=_TIMEOUT,
        retries=_RETRIES,
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
    )
    return Minio(
        endpoint,
        access_key=access_key,
        secret_key=secret_key,
        secure=secure,
        region=region,
        http_client=http_client,
        credentials=None if access_key else environment_credentials(),
    )


def environment_credentials() -> ChainedProvider:
    """AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and a session token), then MINIO_ACCESS_KEY/
    MINIO_SECRET_KEY, then ~/.aws/credentials (AWS_PROFILE), then a role: web identity
    (EKS IRSA), the ECS task role or the EC2 instance profile. Tried at the first request."""
    return ChainedProvider(
        [EnvAWSProvider(), EnvMinioProvider(), AWSConfigProvider(), IamAwsProvider()]
    )


class S3ObjectStore:
    """Stores objects in one bucket; downloads are presigned GET URLs."""

    def __init__(self, client: Minio, bucket: str, *, presign_client: Minio | None = None) -> None:
        self._client = client
        self._bucket = bucket
        # A second client whose endpoint is the public one, so URLs work outside the cluster.
        self._presign_client = presign_client or client

    @property
    def bucket(self) -> str:
        """The bucket this store writes to."""
        return self._bucket

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing; safe to call concurrently from several processes."""
        await asyncio.to_thread(self._ensure_bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Upload `data` under `key`, replacing any existing object."""
        validate_key(key)
        stored = await asyncio.to_thread(self._put, key, data, content_type)
        logger.debug("stored %s bytes=%d sha256=%s", key, stored.bytes, stored.sha256)
        return stored

    async def get(self, key: str) -> bytes:
        """Return the object's bytes; raise ObjectNotFound if there is no such key."""
        return await asyncio.to_thread(self._get, validate_key(key))

    async def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""
        return await asyncio.to_thread(self._exists, validate_key(key))

    async def signed_url(self, key: str, ttl: timedelta) -> SignedUrl:
        """Return a presigned GET URL for `key`, valid for `ttl` (1 s to 7 days)."""
        validate_key(key)
        now = datetime.now(UTC).replace(microsecond=0)
        expires_at = expires_after(ttl, now)
        url = await asyncio.to_thread(
            self._presign_client.presigned_get_object,
            self._bucket,
            key,
            expires=expires_at - now,
            request_date=now,
        )
        return SignedUrl(url=url, expires_at=expires_at)

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the server answers and the bucket exists."""
        try:
            found = await asyncio.to_thread(self._client.bucket_exists, self._bucket)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreUnavailable(f"S3 bucket {self._bucket} is unreachable: {exc}") from exc
        if not found:
            raise StoreUnavailable(f"S3 bucket {self._bucket} does not exist")

    def _ensure_bucket(self) -> None:
        if self._client.bucket_exists(self._bucket):
            return
        try:
            self._client.make_bucket(self._bucket)
        except S3Error as exc:
            if not self._created_meanwhile(exc):
                raise
            logger.info("bucket %s was created concurrently", self._bucket)
            return
        logger.info("created bucket %s", self._bucket)

    def _created_meanwhile(self, exc: S3Error) -> bool:
        if exc.code == "BucketAlreadyOwnedByYou":
            return True
        # On AWS this code means another account owns the name; usable only if we can see it.
        return exc.code == "BucketAlreadyExists" and self._client.bucket_exists(self._bucket)

    def _put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        stored = describe(key, data, content_type)
        self._client.put_object(
            self._bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={"sha256": stored.sha256},
        )
        return stored

    def _get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(self._bucket, key)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise ObjectNotFound(key) from exc
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def _exists(self, key: str) -> bool:
        try:
            self._client.stat_object(self._bucket, key)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                return False
            raise
        return True
