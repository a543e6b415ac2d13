"""The video worker's errors: the shared bases and classification (`darkroom.runtime.worker`).

Input problems are raised as `PermanentError` (`input_refused`) or `RetryableError`
(`input_unavailable`) by `darkroom.runtime.worker.inputs`.
"""

from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError, classify

__all__ = ["PermanentError", "RetryableError", "WorkerError", "classify"]
