"""The object-store port: what workers and the gateway need from storage, and the key rules."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

MAX_KEY_LENGTH = 1024  # S3's limit; applied to every backend so keys stay portable


@dataclass(frozen=True)
class StoredObject:
    """What was written: enough to build an asset descriptor without reading the object back."""

    key: str
    bytes: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class SignedUrl:
    """A time-limited download URL; `expires_at` is timezone-aware UTC."""

    url: str
    expires_at: datetime


class ObjectNotFound(Exception):
    """The key does not exist in the store."""

    def __init__(self, key: str) -> None:
        super().__init__(f"object {key!r} not found")
        self.key = key


class StoreUnavailable(Exception):
    """The store cannot be reached or is not usable (raised by `ping`)."""


class ObjectStore(Protocol):
    """Binary objects addressed by slash-separated keys."""

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Store `data` under `key`, replacing any existing object."""
        ...

    async def get(self, key: str) -> bytes:
        """Return the object's bytes; raise ObjectNotFound if it is missing."""
        ...

    async def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""
        ...

    async def signed_url(self, key: str, ttl: timedelta) -> SignedUrl:
        """Return a URL a client can download the object from until `ttl` has passed."""
        ...

    async def ping(self) -> None:
        """Return if the store is usable; raise StoreUnavailable otherwise (for /readyz)."""
        ...


def asset_key(job_id: uuid.UUID, index: int, ext: str, run: uuid.UUID | None = None) -> str:
    """Return the key of a job's `index`-th output of run `run` (its request): the same run
    repeated (a redelivery) overwrites it instead of adding one, and a run that was superseded
    never overwrites the outputs of the run that replaced it."""
    if index < 0:
        raise ValueError(f"asset index must be >= 0, got {index}")
    if not ext.isascii() or not ext.isalnum():
        raise ValueError(f"asset extension must be ASCII letters or digits, got {ext!r}")
    return f"jobs/{job_id}/{run}/{index}.{ext}" if run else f"jobs/{job_id}/{index}.{ext}"


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative key, else raise ValueError.

    Refused: empty or over-long keys, absolute keys, backslashes, NUL, and empty, `.` or `..`
    segments, so that no key can escape a filesystem root or alias another key.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"object key must be 1 to {MAX_KEY_LENGTH} characters long")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"object key {key!r} must be relative, without backslashes or NUL")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise ValueError(f"object key {key!r} has an empty, '.' or '..' segment")
    return key


def describe(key: str, data: bytes, content_type: str) -> StoredObject:
    """Return the StoredObject for `data` (hashes it: call off the event loop for large data)."""
    return StoredObject(
        key=key, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), content_type=content_type
    )
