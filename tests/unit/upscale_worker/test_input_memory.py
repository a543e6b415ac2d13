"""A variants job holds its decoded input once: the provider reads it and never copies it whole.
Measured as peak RSS (VmHWM) of a fresh process running one job."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MB = 1024 * 1024

# Runs one variants job (3 widths x WebP and AVIF); prints "<rss before> <peak rss> <outcome>".
JOB = """
import asyncio, sys, uuid
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import InputImage, VariantsParams
from darkroom.contracts.requests import VariantsJobRequested
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.upscale_worker.handlers import WorkerDeps, make_variants
from darkroom.upscale_worker.providers.local_provider import LocalProvider
from tests.factories import OCCURRED_AT
from tests.unit.image_worker.fakes import FakeObjectStore

def kb(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field))

async def emit(event):
    pass

async def main():
    store = FakeObjectStore()
    store.objects["uploads/u/in.png"] = (open(sys.argv[1], "rb").read(), "image/png")
    params = VariantsParams(input=InputImage(key="uploads/u/in.png"))
    request = VariantsJobRequested(request_id=uuid.uuid4(), job_id=uuid.uuid4(), user_id="u",
                                   first_seq=3, requested_at=OCCURRED_AT, params=params)
    settings = InputSettings(_env_file=None)
    local = {"local": LocalProvider(settings)}
    deps = WorkerDeps(local, local, store, emit, settings)
    before = kb("VmRSS")
    await make_variants(request, AttemptEvents(request, JobType.VARIANTS), deps)
    print(before * 1024, kb("VmHWM") * 1024)

asyncio.run(main())
"""


def flat_rgb_png(path: Path, width: int, height: int) -> Path:
    """A real 8-bit RGB PNG of one colour, compressed row by row (a few hundred KB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    deflate = zlib.compressobj(6)
    row = b"\x00" + b"\x7f" * (width * 3)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
    path.write_bytes(data + chunk(b"IEND", b""))
    return path


def test_variants_of_a_40_mp_input_hold_it_decoded_once(tmp_path: Path) -> None:
    image = flat_rgb_png(tmp_path / "in.png", 8000, 5000)  # 160 MB as Pillow holds it

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
    before, peak = (int(value) for value in done.stdout.split())

    # Two decoded copies would be 320 MB (main's peak grew by ~460 MB: three copies).
    assert peak - before < 320 * MB, f"peak RSS grew by {(peak - before) // MB} MB"
