"""The upscale worker's errors: the shared bases and classification (`darkroom.runtime.worker`).

Input problems (a refused URL, a decompression bomb) are raised as `PermanentError` with code
`input_refused` by `darkroom.runtime.worker.inputs`; an output over the pixel limit is a
ValueError, which `classify` makes a permanent `invalid_input`.
"""

from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError, classify

__all__ = ["PermanentError", "RetryableError", "WorkerError", "classify"]
