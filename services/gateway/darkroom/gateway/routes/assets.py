"""Downloads of locally stored assets through signed, expiring URLs."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from darkroom.gateway.deps import RejectUnknownQuery, ServicesDep
from darkroom.runtime.storage import ObjectNotFound

router = APIRouter(prefix="/v1/assets", tags=["assets"], dependencies=[RejectUnknownQuery])
mimetypes.add_type("image/avif", ".avif")  # not in every Python's table yet
mimetypes.add_type("image/webp", ".webp")


@router.get("/{key:path}", summary="Download an asset (signed URL from a job's assets)")
async def download_asset(
    key: str,
    services: ServicesDep,
    expires: Annotated[int, Query(description="Expiry, Unix seconds.")],
    sig: Annotated[str, Query(description="Signature of key and expiry.")],
) -> Response:
    if not services.signer.verify(key, expires, sig):
        raise HTTPException(403, "the URL's signature is not valid or it has expired")
    try:
        data = await services.objects.get(key)
    except (ObjectNotFound, ValueError) as exc:
        raise HTTPException(404, "no such asset") from exc
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
