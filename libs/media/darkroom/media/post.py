"""SSRF-safe POST of a small body to a URL a user chose (a webhook receiver).

The same checks as `fetch` run before every request: scheme, DNS answer, every address; the
request goes to the checked address itself, so a name that resolves elsewhere since it was
accepted (DNS rebinding) is refused, not followed. Redirects are not followed (a 3xx is an
answer like any other), and only the first bytes of the answer are read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from darkroom.media.fetch import (
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    Resolver,
    check_url,
    is_certificate_error,
    parse_url,
    resolve_with_getaddrinfo,
    safe_client,
    send_checked,
)

USER_AGENT = "Darkroom-Webhooks/0.1"


@dataclass(frozen=True)
class PostAnswer:
    """What the receiver answered."""

    status: int
    retry_after_s: float | None  # from Retry-After (seconds or an HTTP date), if given
    excerpt: str  # the answer's first bytes, for the delivery's record


async def check_destination(
    url: str, policy: FetchPolicy, resolver: Resolver | None = None
) -> None:
    """Raises FetchRefused if `url` may not be posted to (scheme, name, address), FetchFailed if
    its name cannot be resolved for now."""
    await check_url(parse_url(url), policy, resolver or resolve_with_getaddrinfo)


async def post(
    url: str,
    content: bytes,
    headers: dict[str, str],
    policy: FetchPolicy,
    *,
    resolver: Resolver | None = None,
) -> PostAnswer:
    """POST `content` to `url` within `policy.timeout_s`, reading at most `policy.max_bytes` of
    the answer. Raises FetchRefused (the destination is not allowed, or its certificate is not
    valid) or FetchFailed (no answer: timeout, connection refused, name not resolved now)."""
    resolve = resolver or resolve_with_getaddrinfo
    try:
        async with asyncio.timeout(policy.timeout_s), safe_client(policy, USER_AGENT) as client:
            target = await check_url(parse_url(url), policy, resolve)
            response = await send_checked(client, target, "POST", content, headers)
            try:
                excerpt = await _excerpt(response, policy.max_bytes)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise FetchFailed(f"no answer within {policy.timeout_s:g} s") from exc
    except httpx.TransportError as exc:
        if is_certificate_error(exc):
            raise FetchRefused(f"the TLS certificate of {url} is not valid: {exc}") from exc
        raise FetchFailed(f"cannot reach {url}: {exc!r}") from exc
    return PostAnswer(response.status_code, retry_after(response.headers), excerpt)


async def _excerpt(response: httpx.Response, limit: int) -> str:
    data = bytearray()
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit]).decode("utf-8", "replace")


def retry_after(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds to wait that a Retry-After header asks for (a number of seconds or an HTTP
    date), or None if it is absent or not understood."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
