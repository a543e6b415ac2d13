"""Procedural art from a prompt: CPU only, deterministic per prompt, seed and image index.

Each image is a mesh of soft colour blobs over a warped plane, lit by a faint silk sheen. The
palette comes from the prompt, the composition from prompt, seed and image index. `paint` makes
one picture in one call; a caller that wants progress (the image worker) builds `Canvas`es and
renders them band by band, off its event loop, then takes `Canvas.image()`. The pixels are the
same either way: every pixel depends only on its coordinates.
"""

import colorsys
import hashlib
import math

import numpy as np
import numpy.typing as npt
from PIL import Image

# Rows of RGB in 0..1, float32.
Palette = npt.NDArray[np.float32]
_Floats = npt.NDArray[np.float32]

# The art is smooth, so the field is computed at most this big and upscaled: ~10x faster.
FIELD_MAX_SIDE = 320
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


def palette(prompt: str, negative_prompt: str | None) -> Palette:
    """Five colours (rows of RGB in 0..1) of one scheme; the negative prompt nudges the hue.

    Computed once per prompt and shared by every canvas of a request.
    """
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


class Canvas:
    """One image: a small float field filled band by band, then upscaled by `image()`."""

    def __init__(
        self, colours: Palette, *, prompt: str, seed: int, index: int, width: int, height: int
    ) -> None:
        self.width, self.height = width, height
        scale = min(1.0, FIELD_MAX_SIDE / max(width, height))
        self.field_w = max(1, round(width * scale))
        self.field_h = max(1, round(height * scale))
        self.field = np.zeros((self.field_h, self.field_w, 3), dtype=np.float32)
        rnd = _HashStream("layout", prompt, seed, index)
        self.aspect = aspect = width / height
        self.centres = np.array(
            [[rnd.uniform(-0.1, 1.1) * aspect, rnd.uniform(-0.1, 1.1)] for _ in range(BLOBS)],
            dtype=np.float32,
        )
        self.inv_r2 = np.array([rnd.uniform(7.0, 22.0) for _ in range(BLOBS)], dtype=np.float32)
        picks = [0] + [int(rnd.uniform(1, len(colours))) for _ in range(BLOBS - 1)]
        self.colours = colours[picks] ** 2  # blended in (about) linear light: no grey mud
        self.warp = [rnd.uniform(0.05, 0.16), rnd.uniform(2.0, 5.0)] + [
            rnd.uniform(0, 2 * math.pi) for _ in range(4)
        ]
        self.sheen = (rnd.uniform(9.0, 16.0), rnd.uniform(0, math.pi))

    def render_band(self, band: int, bands: int) -> None:
        """Fill rows of the field for band `band` of `bands`; all bands make the whole picture."""
        y0, y1 = self.field_h * band // bands, self.field_h * (band + 1) // bands
        if y1 > y0:
            self.field[y0:y1] = self._shade(*self._coords(y0, y1)).transpose(1, 2, 0)

    def image(self) -> Image.Image:
        """The field as an RGB image of the requested size (call after every band is rendered)."""
        pixels = np.clip(self.field * 255.0 + 0.5, 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels, "RGB")
        if image.size != (self.width, self.height):
            image = image.resize((self.width, self.height), Image.Resampling.BICUBIC)
        return image

    def _coords(self, y0: int, y1: int) -> tuple[_Floats, _Floats]:
        unit = np.float32(1.0 / self.field_h)
        ys = (np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5) * unit
        xs = (np.arange(self.field_w, dtype=np.float32)[None, :] + 0.5) * unit
        amp, freq, p1, p2, p3, p4 = (np.float32(v) for v in self.warp)
        qx = xs + amp * np.sin(freq * ys + p1) + amp * 0.5 * np.sin(freq * 1.7 * (xs + ys) + p3)
        qy = ys + amp * np.sin(freq * xs + p2) + amp * 0.5 * np.sin(freq * 1.3 * (xs - ys) + p4)
        return qx, qy

    def _shade(self, qx: _Floats, qy: _Floats) -> _Floats:
        """Colour of each point as planes (3, rows, cols), gamma-encoded, roughly in 0..1."""
        dx = qx[None] - self.centres[:, 0, None, None]
        dy = qy[None] - self.centres[:, 1, None, None]
        weights = np.exp(-(dx * dx + dy * dy) * self.inv_r2[:, None, None])
        weights[0] += np.float32(0.02)  # the deep colour fills whatever no blob reaches
        # einsum rather than BLAS: a fixed summation order, so bytes never depend on threads.
        rgb: _Floats = np.einsum("kyx,kc->cyx", weights, self.colours) / weights.sum(axis=0)
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


def render_band(canvases: list[Canvas], band: int, bands: int) -> None:
    """Render one band of every canvas: one step of a multi-image job, run in a worker thread."""
    for canvas in canvases:
        canvas.render_band(band, bands)


def paint(
    prompt: str, negative_prompt: str | None, seed: int, index: int, width: int, height: int
) -> Image.Image:
    """The RGB picture number `index` for this prompt and seed, `width` x `height` pixels.

    Same pixels as the image worker's `local` provider for the same inputs. CPU-bound (tens of
    milliseconds): async callers should run it in a thread.
    """
    canvas = Canvas(
        palette(prompt, negative_prompt),
        prompt=prompt,
        seed=seed,
        index=index,
        width=width,
        height=height,
    )
    canvas.render_band(0, 1)
    return canvas.image()
