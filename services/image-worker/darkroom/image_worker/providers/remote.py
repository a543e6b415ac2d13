"""What the hosted providers share: their images decoded as stored, result URLs downloaded
through the SSRF-safe fetcher (INPUT_FETCH_* settings), never with a provider's key."""

from __future__ import annotations

import io

from PIL import Image

from darkroom.image_worker.providers.base import GeneratedImage
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.providers.media import download_result


def decode_image(data: bytes) -> GeneratedImage:
    """An encoded image with the size and type read from its header."""
    with Image.open(io.BytesIO(data)) as image:
        fmt, (width, height) = image.format or "PNG", image.size
    return GeneratedImage(data, width, height, f"image/{fmt.lower()}")


async def download_image(url: str, policy: FetchPolicy, what: str) -> GeneratedImage:
    """The image at a provider's result URL. A refused URL (expired, or an address the policy
    refuses) or a failed download is retryable: a new attempt makes a new result."""
    return decode_image(await download_result(url, policy, what))
