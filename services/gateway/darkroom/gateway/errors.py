"""Domain errors of the gateway's use cases; main.py maps them to HTTP answers."""


class JobNotFound(Exception):
    """No such job for this caller (another user's job is not found either, never forbidden)."""


class WrongTokenScope(Exception):
    """The token is valid but may not do this (a stream-only token on the API)."""
