"""Object store on the local filesystem, for development and single-host deployments."""

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from darkroom.runtime.storage.base import (
    ObjectNotFound,
    SignedUrl,
    StoredObject,
    StoreUnavailable,
    describe,
    validate_key,
)
from darkroom.runtime.storage.signing import UrlSigner, expires_after

logger = logging.getLogger(__name__)

# A key naming a directory, or going through a file, is as missing as a key naming nothing.
_MISSING_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
# A write goes to `.<name>.<random>.tmp` beside its target, then is renamed over it.
TMP_PREFIX, TMP_SUFFIX = ".", ".tmp"
ORPHAN_AGE_S = 600.0  # a temporary file this old belongs to no running write


class LocalObjectStore:
    """Stores objects as files under `root`; downloads go through the gateway's signed URLs."""

    def __init__(self, root: Path, public_base_url: str, signer: UrlSigner) -> None:
        self._root = root
        self._public_base_url = public_base_url.rstrip("/")
        self._signer = signer

    def path_for(self, key: str) -> Path:
        """Return the file that holds `key` (ValueError for unsafe keys), e.g. to stream it."""
        return self._root.joinpath(*validate_key(key).split("/"))

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Write `data` atomically under `key`, replacing any existing file."""
        path = self.path_for(key)
        stored = await asyncio.to_thread(_write_atomic, path, key, data, content_type)
        logger.debug("stored %s bytes=%d sha256=%s", key, stored.bytes, stored.sha256)
        return stored

    async def remove_orphans(self, older_than_s: float = ORPHAN_AGE_S) -> int:
        """Delete temporary files left by writes that were cut off (kill -9 mid-write); returns
        how many. Readers never see them: a key's file appears only by an atomic rename."""
        removed = await asyncio.to_thread(_remove_orphans, self._root, older_than_s)
        if removed:
            logger.info("removed %d unfinished temporary file(s) under %s", removed, self._root)
        return removed

    async def get(self, key: str) -> bytes:
        """Return the bytes stored under `key`; raise ObjectNotFound if there are none."""
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except _MISSING_ERRORS as exc:
            raise ObjectNotFound(key) from exc

    async def exists(self, key: str) -> bool:
        """Tell whether a file is stored under `key`."""
        return await asyncio.to_thread(self.path_for(key).is_file)

    async def signed_url(self, key: str, ttl: timedelta) -> SignedUrl:
        """Return a gateway URL for `key`, signed to expire after `ttl`."""
        path = quote(validate_key(key), safe="/")
        expires_at = expires_after(ttl)
        query = urlencode(
            {"expires": int(expires_at.timestamp()), "sig": self._signer.sign(key, expires_at)}
        )
        url = f"{self._public_base_url}/v1/assets/{path}?{query}"
        return SignedUrl(url=url, expires_at=expires_at)

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the root folder exists (or can be made) and is writable."""
        try:
            await asyncio.to_thread(_ensure_writable_dir, self._root)
        except OSError as exc:
            raise StoreUnavailable(f"local store root {self._root} is not usable: {exc}") from exc


def _remove_orphans(root: Path, older_than_s: float) -> int:
    """Delete temporary files of writes that never finished (a process killed mid-write)."""
    if not root.is_dir():
        return 0
    cutoff, removed = time.time() - older_than_s, 0
    for tmp in root.rglob(f"{TMP_PREFIX}*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
    return removed


def _write_atomic(path: Path, key: str, data: bytes, content_type: str) -> StoredObject:
    """Write via a temporary file in the same directory, then rename over the target."""
    stored = describe(key, data, content_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.", suffix=TMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), 0o644)  # mkstemp makes 0600; stored assets are not secrets
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return stored


def _ensure_writable_dir(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if not os.access(root, os.W_OK | os.X_OK):
        raise PermissionError(f"{root} is not writable")
