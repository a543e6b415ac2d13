"""Which provider and model a submission gets, from the installed provider plug-ins: an unknown
or unconfigured one is a 422 naming the field."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.submissions import ImageOptions
from darkroom.runtime.providers import InvalidChoice, Registry


def image_model(providers: Registry, body: ImageOptions) -> str:
    """The model of an image job (or of a batch's children): the one named, or the provider's
    default for image jobs."""
    try:
        return providers.choose(JobType.IMAGE, body.provider, body.model).name
    except InvalidChoice as exc:
        error = {
            "type": "value_error",
            "loc": ("body", exc.field),
            "msg": f"Value error, {exc}",
            "input": getattr(body, exc.field),
        }
        raise RequestValidationError([error]) from exc
