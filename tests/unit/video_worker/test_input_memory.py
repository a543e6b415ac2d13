"""A video job's memory does not grow with its inputs: each is decoded alone and reduced to what the
frames need before the next. Measured as peak RSS (VmHWM) of a fresh process running one job."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MB = 1024 * 1024

# Runs one 720p video job naming the file four times; prints "<rss before> <peak rss> <outcome>".
JOB = """
import asyncio, sys, uuid
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import InputImage, VideoParams
from darkroom.contracts.requests import VideoJobRequested
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.video_worker.handlers import WorkerDeps, render_clip
from darkroom.video_worker.providers.local_provider import LocalProvider
from tests.factories import OCCURRED_AT
from tests.unit.image_worker.fakes import FakeObjectStore

def kb(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field))

async def emit(event):
    pass

async def main():
    store = FakeObjectStore()
    store.objects["uploads/u/in.png"] = (open(sys.argv[1], "rb").read(), "image/png")
    params = VideoParams(inputs=[InputImage(key="uploads/u/in.png")] * 4, duration_s=1, fps=8,
                         width=1280, height=720, seed=1)
    request = VideoJobRequested(request_id=uuid.uuid4(), job_id=uuid.uuid4(), user_id="u",
                                first_seq=3, requested_at=OCCURRED_AT, params=params)
    deps = WorkerDeps({"local": LocalProvider()}, store, emit, InputSettings(_env_file=None))
    before = kb("VmRSS")
    try:
        await render_clip(request, AttemptEvents(request, JobType.VIDEO), deps)
        outcome = "rendered"
    except Exception as exc:
        outcome = type(exc).__name__
    print(before * 1024, kb("VmHWM") * 1024, outcome)

asyncio.run(main())
"""


def flat_png(path: Path, width: int, height: int, depth: int, channels: int) -> Path:
    """A real PNG of one colour, compressed row by row: a few hundred KB for hundreds of MB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    colour = {1: 0, 3: 2, 4: 6}[channels]
    row = b"\x00" + b"\x7f" * (width * channels * depth // 8)
    deflate = zlib.compressobj(6)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
    path.write_bytes(data + chunk(b"IEND", b""))
    return path


def run_job(image: Path) -> tuple[int, str]:
    """(growth of the worker's peak RSS during the job, bytes; how the job ended)."""
    done = subprocess.run(
        [sys.executable, "-c", JOB, str(image)],
        cwd=ROOT,
        # One malloc arena: what the job holds, not how glibc spreads threads' frees (±150 MB).
        env={**os.environ, "MALLOC_ARENA_MAX": "1"},
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    before, peak, outcome = done.stdout.split()
    return int(peak) - int(before), outcome


def test_four_of_the_largest_accepted_input_cost_less_than_holding_them_decoded(
    tmp_path: Path,
) -> None:
    # 40 MP of 8-bit RGBA: exactly INPUT_MAX_PIXELS and INPUT_MAX_DECODED_BYTES (160 MB).
    image = flat_png(tmp_path / "rgba.png", 8000, 5000, depth=8, channels=4)

    growth, outcome = run_job(image)

    # Holding the four decoded inputs alone would take 640 MB (main's peak grew by ~1,400 MB).
    assert outcome == "rendered"
    assert growth < 640 * MB, f"peak RSS grew by {growth // MB} MB"


def test_the_issues_16_bit_input_fails_the_job_before_anything_is_decoded(tmp_path: Path) -> None:
    image = flat_png(tmp_path / "deep.png", 6000, 6000, depth=16, channels=4)
    assert image.stat().st_size < 300_000

    growth, outcome = run_job(image)

    assert outcome == "PermanentError"  # input_refused: it decodes to 288 MB
    assert growth < 64 * MB, f"peak RSS grew by {growth // MB} MB"
