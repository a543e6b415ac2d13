"""Object storage for job outputs: one interface, a local and an S3 implementation."""

from darkroom.runtime.storage.base import (
    ObjectNotFound,
    ObjectStore,
    SignedUrl,
    StoredObject,
    StoreUnavailable,
    asset_key,
    validate_key,
)
from darkroom.runtime.storage.local import LocalObjectStore
from darkroom.runtime.storage.s3 import S3ObjectStore, minio_client_from_url
from darkroom.runtime.storage.settings import DEV_ASSET_URL_SECRET, StorageSettings
from darkroom.runtime.storage.signing import UrlSigner

__all__ = [
    "DEV_ASSET_URL_SECRET",
    "LocalObjectStore",
    "ObjectNotFound",
    "ObjectStore",
    "S3ObjectStore",
    "SignedUrl",
    "StorageSettings",
    "StoreUnavailable",
    "StoredObject",
    "UrlSigner",
    "asset_key",
    "make_object_store",
    "make_url_signer",
    "minio_client_from_url",
    "open_object_store",
    "prepare_object_store",
    "validate_key",
]


def make_url_signer(settings: StorageSettings) -> UrlSigner:
    """Return the signer for local asset URLs (the gateway verifies with the same one)."""
    return UrlSigner(settings.asset_url_secret.get_secret_value().encode())


def make_object_store(settings: StorageSettings) -> ObjectStore:
    """Build the configured store without any I/O; an S3 bucket is not created here."""
    if settings.storage_backend == "local":
        return LocalObjectStore(
            settings.storage_local_root, settings.public_base_url, make_url_signer(settings)
        )
    return _make_s3_store(settings)


async def prepare_object_store(store: ObjectStore) -> None:
    """Create what the store needs before first use: for S3, its bucket if missing; for the local
    store, clear temporary files of writes cut off by a crash."""
    if isinstance(store, S3ObjectStore):
        await store.ensure_bucket()
    elif isinstance(store, LocalObjectStore):
        await store.remove_orphans()


async def open_object_store(settings: StorageSettings) -> ObjectStore:
    """Build the configured store and prepare it."""
    store = make_object_store(settings)
    await prepare_object_store(store)
    return store


def _make_s3_store(settings: StorageSettings) -> S3ObjectStore:
    if settings.s3_endpoint is None:
        raise ValueError("storage_backend 's3' needs S3_ENDPOINT, e.g. http://127.0.0.1:9000")
    access = settings.s3_access_key.get_secret_value() if settings.s3_access_key else None
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    client = minio_client_from_url(settings.s3_endpoint, access, secret, settings.s3_region)
    presign_client = None
    if settings.s3_public_endpoint:
        presign_client = minio_client_from_url(
            settings.s3_public_endpoint, access, secret, settings.s3_region
        )
    return S3ObjectStore(client, settings.s3_bucket, presign_client=presign_client)
