"""The image worker's errors: the shared bases and classification (`darkroom.runtime.worker`).

A provider raises `RetryableError` or `PermanentError` with a code; anything else is mapped by
`classify`. Provider-specific mappings (an HTTP API's status codes) belong here.
"""

from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError, classify

__all__ = ["PermanentError", "RetryableError", "WorkerError", "classify"]
