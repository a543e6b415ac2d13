"""In-memory stand-ins for the image provider and the object store (cosmic-style fakes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers import GeneratedImage, StepCallback
from darkroom.runtime.storage import ObjectNotFound, SignedUrl, StoredObject
from darkroom.runtime.storage.base import describe, validate_key


class FakeProvider:
    """Reports `steps` steps, then returns one image per requested image, or raises `error`."""

    name = "fake"

    def __init__(self, steps: int = 4, error: BaseException | None = None) -> None:
        self.steps = steps
        self.error = error

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        for done in range(1, self.steps + 1):
            await on_step(done, self.steps)
        if self.error is not None:
            raise self.error
        return [
            GeneratedImage(
                data=f"{params.prompt}/{params.seed}/{index}".encode(),
                width=params.width,
                height=params.height,
                content_type="image/png",
            )
            for index in range(params.num_images)
        ]


class FakeObjectStore:
    """Implements the ObjectStore protocol with a dict; `error` makes every `put` fail."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.error = error

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        if self.error is not None:
            raise self.error
        self.objects[validate_key(key)] = (data, content_type)
        return describe(key, data, content_type)

    async def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise ObjectNotFound(key)
        return self.objects[key][0]

    async def exists(self, key: str) -> bool:
        return key in self.objects

    async def signed_url(self, key: str, ttl: timedelta) -> SignedUrl:
        return SignedUrl(f"memory://{key}", datetime.now(UTC) + ttl)

    async def ping(self) -> None:
        return None
