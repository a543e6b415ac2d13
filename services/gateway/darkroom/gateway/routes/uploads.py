"""Uploads: a user's image, stored and usable as an input of their jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from darkroom.contracts.api import UploadView
from darkroom.gateway.deps import CurrentUser, ServicesDep
from darkroom.gateway.uploads import accept_upload
from darkroom.gateway.views import upload_view

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])


@router.post(
    "",
    status_code=201,
    response_model=UploadView,
    summary="Upload an input image",
    responses={
        413: {"description": "The file is larger than UPLOAD_MAX_BYTES."},
        415: {"description": "Not a PNG, JPEG or WebP image."},
        422: {"description": "Too many pixels (decompression bombs included), or corrupt."},
    },
)
async def upload_image(
    file: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image.")],
    user: CurrentUser,
    services: ServicesDep,
) -> UploadView:
    """The format is read from the content, never from the name or the declared type."""
    upload = await accept_upload(file, user, services.store, services.objects, services.settings)
    ttl = timedelta(seconds=services.settings.asset_url_ttl_s)
    return await upload_view(upload, services.objects, ttl)
