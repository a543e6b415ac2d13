"""Video providers behind one port: the installed plug-ins that serve video jobs (the built-in
`local` one among them), built from their settings at start-up."""

from darkroom.contracts.jobtypes import JobType
from darkroom.runtime.providers import Registry
from darkroom.video_worker.providers.base import RenderedVideo, VideoProvider
from darkroom.video_worker.providers.local import FrameCallback, render_video, source_size

__all__ = [
    "FrameCallback",
    "RenderedVideo",
    "VideoProvider",
    "render_video",
    "source_size",
    "video_providers",
]


def video_providers(registry: Registry) -> dict[str, VideoProvider]:
    """Each configured provider plug-in that serves video jobs, by name; none is an error."""
    providers: dict[str, VideoProvider] = registry.build(JobType.VIDEO)
    return providers
