"""Use case: turn the input images a caller names into what a worker reads.

An asset id must be the caller's (an admin may use anyone's): an upload, or an output of a
completed job. A URL is passed on as it is: the worker fetches it under the SSRF rules
(`darkroom.media.fetch`), because only the fetch itself can check where it really connects.
The size of an asset is known here (`locate_input`), so what a job will cost can be checked at
submit (`darkroom.gateway.input_costs`); a URL's size is only known to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from darkroom.contracts.api import ImageRef
from darkroom.contracts.assets import JobResult, parse_asset_id
from darkroom.contracts.jobtypes import JobStatus
from darkroom.contracts.params import InputImage
from darkroom.gateway.errors import InvalidInput
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
USABLE = frozenset({JobStatus.COMPLETED.value, JobStatus.COMPLETED_WITH_ERRORS.value})


@dataclass(frozen=True)
class LocatedInput:
    """An input as the worker reads it, with its size in pixels when the gateway knows it."""

    image: InputImage
    width: int | None = None
    height: int | None = None


async def resolve_input(
    ref: ImageRef, user: Principal, store: JobStore, loc: tuple[str | int, ...]
) -> InputImage:
    """The input as the worker reads it; InvalidInput (a 422 at `loc`) if it cannot be used."""
    return (await locate_input(ref, user, store, loc)).image


async def locate_input(
    ref: ImageRef, user: Principal, store: JobStore, loc: tuple[str | int, ...]
) -> LocatedInput:
    """The input and, for an asset, its size; InvalidInput (a 422 at `loc`) if it cannot be used."""
    if ref.url is not None:
        return LocatedInput(InputImage(url=ref.url))
    assert ref.asset_id is not None
    where = (*loc, "asset_id")
    owner_id, index = parse_asset_id(ref.asset_id)
    if index is None:
        upload = await store.uploads.get(owner_id)
        if upload is None or not _may_use(upload.user_id, user):
            raise InvalidInput(where, f"no upload {ref.asset_id} of yours")
        image = InputImage(key=upload.key, asset_id=ref.asset_id)
        return LocatedInput(image, upload.width, upload.height)
    job = await store.get_job(owner_id)
    if job is None or not _may_use(job.user_id, user):
        raise InvalidInput(where, f"no job {owner_id} of yours")
    if job.status not in USABLE or job.result is None:
        raise InvalidInput(where, f"job {owner_id} is {job.status}: only outputs of completed jobs")
    assets = JobResult.model_validate(job.result).assets
    if index >= len(assets):
        raise InvalidInput(where, f"job {owner_id} has {len(assets)} outputs; no index {index}")
    asset = assets[index]
    if asset.content_type not in IMAGE_TYPES:
        raise InvalidInput(where, f"{ref.asset_id} is {asset.content_type}, not an input image")
    return LocatedInput(InputImage(key=asset.key, asset_id=ref.asset_id), asset.width, asset.height)


def _may_use(owner: str, user: Principal) -> bool:
    return owner == user.user_id or user.is_admin
