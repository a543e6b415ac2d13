"""CPU video work for the video worker: Ken Burns clips from still images, encoded in memory."""

from darkroom.video_worker.providers.local import (
    FrameCallback,
    RenderedVideo,
    render_video,
    source_size,
)

__all__ = ["FrameCallback", "RenderedVideo", "render_video", "source_size"]
