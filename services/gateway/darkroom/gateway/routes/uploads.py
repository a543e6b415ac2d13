"""Uploads: a user's image, stored and usable as an input of their jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from darkroom.contracts.api import UploadView
from darkroom.gateway.deps import CurrentUser, RejectUnknownQuery, ServicesDep
from darkroom.gateway.errors import UploadRejected
from darkroom.gateway.uploads import accept_upload
from darkroom.gateway.views import upload_view
from darkroom.runtime.inputs import InputSettings

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], dependencies=[RejectUnknownQuery])

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers around the file


def body_limit(settings: InputSettings) -> int:
    """The largest body of an upload (the route's `max_body_size`): the file and its form."""
    return settings.input_max_bytes + FORM_OVERHEAD


MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A PNG, JPEG or WebP image.",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=UploadView,
    summary="Upload an input image",
    openapi_extra=MULTIPART_BODY,
    responses={
        413: {"description": "The file is larger than INPUT_MAX_BYTES."},
        415: {"description": "Not a PNG, JPEG or WebP image."},
        422: {"description": "No file, too many pixels (decompression bombs included), corrupt."},
    },
)
async def upload_image(request: Request, user: CurrentUser, services: ServicesDep) -> UploadView:
    """Multipart, one field `file`. The format is read from the content, never from the name or
    the declared type. The route's `max_body_size` (`body_limit`) refuses a body announced larger
    before it is read, and stops reading one sent without a length (chunked) at the limit."""
    async with _form(request, services.settings.input_max_bytes) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise UploadRejected(422, "send the image as the multipart field `file`")
        upload = await accept_upload(
            file, user, services.store, services.objects, services.settings
        )
    ttl = timedelta(seconds=services.settings.asset_url_ttl_s)
    return await upload_view(upload, services.objects, ttl)


@asynccontextmanager
async def _form(request: Request, limit: int) -> AsyncIterator[FormData]:
    """The parsed form, its files closed after use. A body that streams past the route's
    `max_body_size` stops being read there (FastAPI raises its 413): the answer says the limit."""
    try:
        form = await request.form(max_files=1, max_fields=8)
    except HTTPException as exc:
        if exc.status_code != 413:
            raise
        raise UploadRejected(413, f"the file is larger than {limit:,} bytes") from exc
    try:
        yield form
    finally:
        await form.close()
