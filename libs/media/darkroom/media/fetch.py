"""SSRF-safe download of a user-supplied image URL, bounded in time, size and redirects.

safehttpx and advocate did not fit (one resolved IP checked, no redirects or size limit; or
requests-only and unmaintained), so this builds on httpx's extension points instead. Every hop
is validated from scratch: scheme, DNS answer, every address (`address_policy`). The request
then goes to the checked address itself (the URL's host replaced by the IP, the name kept in the
Host header and, for https, in the `sni_hostname` extension so that TLS still verifies the
name), so a second DNS answer cannot rebind it. The Content-Type is not trusted or checked: the
caller sniffs the bytes (`decode.probe_image`).
"""

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from http.cookiejar import CookieJar, DefaultCookiePolicy

import certifi
import httpx

from darkroom.media.address_policy import IPAddress, address_problem

# (host, port) -> IP address strings, as getaddrinfo would answer.
Resolver = Callable[[str, int], Awaitable[list[str]]]
USER_AGENT = "Darkroom/0.1 (+image fetch)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do. Any port is allowed: image hosts use 8080 or 8443 too, and the
    address checks, not the port, are what keep requests off internal networks."""

    max_bytes: int = 20 * 1024 * 1024
    timeout_s: float = 15.0  # whole download, all redirects included
    max_redirects: int = 3
    allow_loopback: bool = False  # tests and local demos only
    allow_private: bool = False  # private/link-local ranges (e.g. an internal CDN); never metadata


class FetchRefused(Exception):
    """Permanent: the URL or its answer is not allowed (scheme, address, size, redirects, not an image, 4xx)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FetchFailed(Exception):
    """Transient: timeout, connection error, 5xx or 429 — trying again may succeed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CheckedURL:
    """One hop: the URL as given and the checked addresses to connect to instead of its host."""

    url: httpx.URL
    addresses: list[IPAddress]


async def fetch_url(url: str, policy: FetchPolicy, *, resolver: Resolver | None = None) -> bytes:
    """The body of `url` after at most `policy.max_redirects` redirects, every hop checked.

    Raises FetchRefused (do not retry) or FetchFailed (may be retried).
    """
    resolve = resolver or resolve_with_getaddrinfo
    try:
        async with asyncio.timeout(policy.timeout_s), safe_client(policy) as client:
            return await _follow(client, parse_url(url), policy, resolve)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise FetchFailed(f"fetching {url} took longer than {policy.timeout_s:g} s") from exc
    except httpx.TransportError as exc:
        if is_certificate_error(exc):
            raise FetchRefused(f"the TLS certificate for {url} is not valid: {exc}") from exc
        raise FetchFailed(f"fetching {url} failed: {exc!r}") from exc


@cache
def _tls() -> ssl.SSLContext:
    """The verifying TLS context every fetch and post shares (httpx's own trust: certifi's CA
    bundle). A client made without it builds one, loading the bundle: about 60 ms a client."""
    return ssl.create_default_context(cafile=certifi.where())


def safe_client(policy: FetchPolicy, user_agent: str = USER_AGENT) -> httpx.AsyncClient:
    # No keep-alive: a pooled connection is keyed by IP, so a later hop to another name on the
    # same IP could reuse a TLS session verified for the first name.
    return httpx.AsyncClient(
        verify=_tls(),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(policy.timeout_s),
        limits=httpx.Limits(max_keepalive_connections=0),
        cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # accepts no cookie
        headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
    )


async def _follow(
    client: httpx.AsyncClient, url: httpx.URL, policy: FetchPolicy, resolve: Resolver
) -> bytes:
    for _ in range(policy.max_redirects + 1):
        target = await check_url(url, policy, resolve)
        response = await send_checked(client, target)
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = _redirect(url, response.headers["location"])
                continue
            _check_status(response, url)
            return await _read_body(response, policy.max_bytes, url)
        finally:
            await response.aclose()
    raise FetchRefused(f"more than {policy.max_redirects} redirects, last to {url}")


def parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchRefused(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused(f"refused: only http and https URLs are fetched, not {url!r}")
    if parsed.userinfo:
        raise FetchRefused("refused: URLs with a user name or password are not fetched")
    if not parsed.host:
        raise FetchRefused(f"refused: {url!r} has no host")
    return parsed


def _redirect(url: httpx.URL, location: str) -> httpx.URL:
    try:
        return parse_url(str(url.join(location)))
    except httpx.InvalidURL as exc:
        raise FetchRefused(f"{url} redirected to an invalid URL {location!r}") from exc


async def check_url(url: httpx.URL, policy: FetchPolicy, resolve: Resolver) -> CheckedURL:
    """Resolve the host and refuse unless every address is allowed."""
    host = url.host
    try:
        addresses = [ipaddress.ip_address(host)]
        where = ""
    except ValueError:
        port = url.port or (443 if url.scheme == "https" else 80)
        # The IDNA form httpx sends; getaddrinfo's own IDNA 2003 encoding can differ.
        answer = await _resolve(resolve, url.raw_host.decode("ascii"), port)
        addresses = [ipaddress.ip_address(text) for text in answer]
        where = f" (address of {host})"
    for ip in addresses:
        problem = address_problem(
            ip, allow_loopback=policy.allow_loopback, allow_private=policy.allow_private
        )
        if problem:
            raise FetchRefused(f"refused: {ip}{where} is {problem}")
    return CheckedURL(url, addresses)


async def _resolve(resolve: Resolver, host: str, port: int) -> list[str]:
    try:
        answer = await resolve(host, port)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            raise FetchFailed(f"could not resolve {host} for now: {exc}") from exc
        raise FetchRefused(f"cannot resolve {host}: {exc}") from exc
    except OSError as exc:
        raise FetchFailed(f"could not resolve {host}: {exc}") from exc
    if not answer:
        raise FetchRefused(f"cannot resolve {host}: no addresses")
    return answer


async def resolve_with_getaddrinfo(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def send_checked(
    client: httpx.AsyncClient,
    target: CheckedURL,
    method: str = "GET",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Open a streamed request to the first checked address that accepts a connection."""
    url = target.url
    # The IDNA (ASCII) form of the name, as the certificate carries it.
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    failure: httpx.ConnectError | None = None
    for ip in target.addresses:
        request = client.build_request(
            method,
            url.copy_with(host=str(ip)),
            content=content,
            headers={**(headers or {}), "Host": url.netloc.decode("ascii")},
            extensions=extensions,
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            if is_certificate_error(exc):
                raise
            failure = exc
    raise FetchFailed(f"could not connect to {url.host}: {failure!r}") from failure


def _check_status(response: httpx.Response, url: httpx.URL) -> None:
    status = response.status_code
    said = f"{url} answered {status} {response.reason_phrase}".rstrip()
    if status == 429 or status >= 500:
        raise FetchFailed(said, status=status)
    if not 200 <= status < 300:
        raise FetchRefused(said, status=status)
    encoding = response.headers.get("content-encoding", "identity").lower()
    if encoding != "identity":
        # Decoding gzip or brotli ourselves would let a small body expand past max_bytes.
        raise FetchRefused(f"{url} sent a {encoding}-encoded body; only identity is accepted")


async def _read_body(response: httpx.Response, max_bytes: int, url: httpx.URL) -> bytes:
    too_big = f"{url} is larger than the limit of {max_bytes:,} bytes"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchRefused(f"{too_big} (Content-Length: {int(declared):,})")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise FetchRefused(too_big)
    return bytes(body)


def is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
