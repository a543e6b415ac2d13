"""Providers, their models and the sizes that aspect ratios stand for."""

from typing import Literal

DEFAULT_PROVIDER = "local"  # built in, needs no key: the provider plug-ins list the rest

AspectRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4"]

# About one megapixel, multiples of 64: the sizes diffusion models are trained at.
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1152, 896),
    "3:4": (896, 1152),
}


VideoResolution = Literal["480p", "720p"]

# Even sides (H.264 with 4:2:0 chroma needs them), multiples of 16 where the aspect allows.
VIDEO_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {
        "1:1": (480, 480),
        "16:9": (848, 480),
        "9:16": (480, 848),
        "4:3": (640, 480),
        "3:4": (480, 640),
    },
    "720p": {
        "1:1": (720, 720),
        "16:9": (1280, 720),
        "9:16": (720, 1280),
        "4:3": (960, 720),
        "3:4": (720, 960),
    },
}
