"""The built-in `local` provider: procedural art, CPU only, deterministic per prompt and seed.

Each image is a mesh of soft colour blobs over a warped plane, lit by a faint silk sheen. The
palette comes from the prompt, the composition from prompt, seed and image index.
"""

import asyncio
import colorsys
import functools
import hashlib
import io
import logging
import math

import numpy as np
from PIL import Image

from darkroom.contracts.catalog import PROVIDER_MODELS
from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback

logger = logging.getLogger(__name__)

MODELS = PROVIDER_MODELS["local"]
MIN_STEPS = 3
# The art is smooth, so the field is computed at most this big and upscaled: ~10x faster.
FIELD_MAX_SIDE = 320
PNG_COMPRESS_LEVEL = 1
BLOBS = 7
# Hue offsets of harmonious schemes: analogous, complementary, split complementary, triadic.
SCHEMES = (
    (0.0, 0.05, 0.10, -0.05, -0.10),
    (0.0, 0.06, 0.50, 0.55, -0.04),
    (0.0, 0.07, 0.42, 0.58, -0.07),
    (0.0, 0.33, 0.67, 0.05, 0.38),
)


class _HashStream:
    """Floats from SHA-256 of some values: stable across Python and NumPy versions, unlike RNGs."""

    def __init__(self, *parts: object) -> None:
        encoded = (str(part).encode() for part in parts)
        self._key = b"".join(len(chunk).to_bytes(4, "big") + chunk for chunk in encoded)
        self._buffer = b""
        self._block = 0

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        if len(self._buffer) < 8:
            block = self._block.to_bytes(8, "big")
            self._buffer += hashlib.sha256(self._key + block).digest()
            self._block += 1
        chunk, self._buffer = self._buffer[:8], self._buffer[8:]
        return low + (high - low) * int.from_bytes(chunk, "big") / 2**64


def _palette(prompt: str, negative_prompt: str | None) -> np.ndarray:
    """Five colours (rows of RGB in 0..1) of one scheme; the negative prompt nudges the hue."""
    rnd = _HashStream("palette", prompt)
    hue = rnd.uniform()
    if negative_prompt:
        hue += _HashStream("negative", negative_prompt).uniform(-0.04, 0.04)
    scheme = SCHEMES[int(rnd.uniform(0, len(SCHEMES)))]
    saturation = rnd.uniform(0.55, 0.85)
    colours = []
    for i, offset in enumerate(scheme):
        # The first colour is the deep one that gives the picture depth; the others are light.
        value = rnd.uniform(0.18, 0.32) if i == 0 else rnd.uniform(0.6, 0.98)
        sat = min(1.0, saturation * rnd.uniform(0.75, 1.2))
        colours.append(colorsys.hsv_to_rgb((hue + offset) % 1.0, sat, value))
    return np.array(colours, dtype=np.float32)


class _Canvas:
    """One image: a small float field filled band by band, then upscaled and encoded."""

    def __init__(self, params: ImageParams, palette: np.ndarray, index: int) -> None:
        self.width, self.height = params.width, params.height
        scale = min(1.0, FIELD_MAX_SIDE / max(self.width, self.height))
        self.field_w = max(1, round(self.width * scale))
        self.field_h = max(1, round(self.height * scale))
        self.field = np.zeros((self.field_h, self.field_w, 3), dtype=np.float32)
        rnd = _HashStream("layout", params.prompt, params.seed, index)
        self.aspect = aspect = self.width / self.height
        self.centres = np.array(
            [[rnd.uniform(-0.1, 1.1) * aspect, rnd.uniform(-0.1, 1.1)] for _ in range(BLOBS)],
            dtype=np.float32,
        )
        self.inv_r2 = np.array([rnd.uniform(7.0, 22.0) for _ in range(BLOBS)], dtype=np.float32)
        picks = [0] + [int(rnd.uniform(1, len(palette))) for _ in range(BLOBS - 1)]
        self.colours = palette[picks] ** 2  # blended in (about) linear light: no grey mud
        self.warp = [rnd.uniform(0.05, 0.16), rnd.uniform(2.0, 5.0)] + [
            rnd.uniform(0, 2 * math.pi) for _ in range(4)
        ]
        self.sheen = (rnd.uniform(9.0, 16.0), rnd.uniform(0, math.pi))

    def render_band(self, band: int, bands: int) -> None:
        """Fill rows of the field for one band; every pixel depends only on its coordinates."""
        y0, y1 = self.field_h * band // bands, self.field_h * (band + 1) // bands
        if y1 > y0:
            self.field[y0:y1] = self._shade(*self._coords(y0, y1)).transpose(1, 2, 0)

    def _coords(self, y0: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
        unit = np.float32(1.0 / self.field_h)
        ys = (np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5) * unit
        xs = (np.arange(self.field_w, dtype=np.float32)[None, :] + 0.5) * unit
        amp, freq, p1, p2, p3, p4 = (np.float32(v) for v in self.warp)
        qx = xs + amp * np.sin(freq * ys + p1) + amp * 0.5 * np.sin(freq * 1.7 * (xs + ys) + p3)
        qy = ys + amp * np.sin(freq * xs + p2) + amp * 0.5 * np.sin(freq * 1.3 * (xs - ys) + p4)
        return qx, qy

    def _shade(self, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
        """Colour of each point as planes (3, rows, cols), gamma-encoded, roughly in 0..1."""
        dx = qx[None] - self.centres[:, 0, None, None]
        dy = qy[None] - self.centres[:, 1, None, None]
        weights = np.exp(-(dx * dx + dy * dy) * self.inv_r2[:, None, None])
        weights[0] += np.float32(0.02)  # the deep colour fills whatever no blob reaches
        # einsum rather than BLAS: a fixed summation order, so bytes never depend on threads.
        rgb = np.einsum("kyx,kc->cyx", weights, self.colours) / weights.sum(axis=0)
        freq, angle = self.sheen
        wave = np.sin(np.float32(freq) * (qx * math.cos(angle) + qy * math.sin(angle)))
        ribbons = np.float32(0.5) + np.float32(0.5) * wave
        ribbons *= ribbons * ribbons
        ribbons *= ribbons  # a sixth power: thin bright silk lines
        cx, cy = qx - np.float32(0.5 * self.aspect), qy - np.float32(0.5)
        vignette = np.float32(1.0) - np.float32(0.45) * (cx * cx + cy * cy)
        rgb += np.float32(0.12) * ribbons
        rgb *= vignette
        return np.sqrt(np.maximum(rgb, 0, out=rgb), out=rgb)

    def encode(self) -> GeneratedImage:
        pixels = np.clip(self.field * 255.0 + 0.5, 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels, "RGB")
        if image.size != (self.width, self.height):
            image = image.resize((self.width, self.height), Image.Resampling.BICUBIC)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
        return GeneratedImage(out.getvalue(), self.width, self.height, "image/png")


def _render_band(canvases: list[_Canvas], band: int, bands: int) -> None:
    for canvas in canvases:
        canvas.render_band(band, bands)


def _encode_all(canvases: list[_Canvas]) -> list[GeneratedImage]:
    return [canvas.encode() for canvas in canvases]


@functools.lru_cache(maxsize=16)
def _blank(width: int, height: int) -> GeneratedImage:
    """A flat grey PNG, encoded once per size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (128, 128, 128)).save(out, "PNG")
    return GeneratedImage(out.getvalue(), width, height, "image/png")


class LocalProvider:
    """Procedural images with real progress steps; the rendering runs in a worker thread."""

    name = "local"

    def __init__(self, *, steps: int = 4, step_delay_s: float = 0.0) -> None:
        if steps < MIN_STEPS:
            raise ValueError(f"The local provider needs at least {MIN_STEPS} steps, got {steps}.")
        if step_delay_s < 0:
            raise ValueError(f"The step delay must not be negative, got {step_delay_s}.")
        self._steps = steps
        self._step_delay_s = step_delay_s

    async def generate(self, params: ImageParams, on_step: StepCallback) -> list[GeneratedImage]:
        """Render `params.num_images` PNGs, awaiting `on_step(1, n)` … `on_step(n, n)` meanwhile."""
        if params.model not in MODELS:
            known = ", ".join(MODELS)
            raise ValueError(f"unknown model {params.model!r} for provider 'local'; known: {known}")
        if params.model == "noop":
            return await self._noop(params, on_step)
        palette = _palette(params.prompt, params.negative_prompt)
        canvases = [_Canvas(params, palette, i) for i in range(params.num_images)]
        # Off the event loop, so that Kafka heartbeats and other jobs keep running meanwhile.
        for step in range(1, self._steps + 1):
            await asyncio.to_thread(_render_band, canvases, step - 1, self._steps)
            if self._step_delay_s:
                await asyncio.sleep(self._step_delay_s)
            logger.debug("local provider step %d/%d", step, self._steps)
            await on_step(step, self._steps)
        return await asyncio.to_thread(_encode_all, canvases)

    async def _noop(self, params: ImageParams, on_step: StepCallback) -> list[GeneratedImage]:
        """The same steps and outputs, without the image work: what the pipeline itself costs."""
        for step in range(1, self._steps + 1):
            if self._step_delay_s:
                await asyncio.sleep(self._step_delay_s)
            await on_step(step, self._steps)
        return [_blank(params.width, params.height)] * params.num_images
