"""Darkroom video worker: image-to-video and text-to-video jobs."""
