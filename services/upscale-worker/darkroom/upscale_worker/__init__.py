"""Darkroom upscale worker: upscale and variants jobs."""
