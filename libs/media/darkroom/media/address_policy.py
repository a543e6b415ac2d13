"""Which IP addresses a server-side fetch of a user-supplied URL may connect to (SSRF defence).

Pure functions over `ipaddress` values, so every rule is tested without a socket. An IPv6
address that carries an IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo) is judged by what it carries
as well, so `::ffff:127.0.0.1` is as loopback as `127.0.0.1`.
"""

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

# Instance metadata and credential endpoints: refused even when private ranges are allowed.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure wire server
    )
)
_THIS_NETWORK = IPv4Network("0.0.0.0/8")  # "this host": connecting to it reaches localhost
_SHARED = IPv4Network("100.64.0.0/10")  # carrier-grade NAT; the stdlib calls it neither
_NAT64 = IPv6Network("64:ff9b::/96")


def address_problem(ip: IPAddress, *, allow_loopback: bool, allow_private: bool) -> str | None:
    """Why `ip` must not be fetched from, in words ("a loopback address"), or None if it may.

    Refused always: unspecified, multicast, reserved, metadata, and anything not publicly routable.
    Loopback only with `allow_loopback`; private, link-local, shared (CGNAT) and unique-local only
    with `allow_private`.
    """
    embedded = _embedded_ipv4(ip)
    if isinstance(ip, IPv6Address) and (ip.ipv4_mapped or ip in _NAT64):
        # These forms are the IPv4 address itself, so they are judged as it alone.
        return address_problem(
            embedded[0], allow_loopback=allow_loopback, allow_private=allow_private
        )
    for inner in embedded:
        problem = address_problem(inner, allow_loopback=allow_loopback, allow_private=allow_private)
        if problem:
            return f"{problem} ({inner} inside {ip})"
    return _own_problem(ip, allow_loopback=allow_loopback, allow_private=allow_private)


def _own_problem(ip: IPAddress, *, allow_loopback: bool, allow_private: bool) -> str | None:
    # Order matters: loopback and link-local addresses are also "private" to the stdlib, and the
    # reserved IPv4 block 240/4 is too, so the always-refused checks come first.
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_reserved:
        return "a reserved address"
    private = _private_kind(ip)
    if private:
        return None if allow_private else private
    return None if ip.is_global else "not a publicly routable address"


def _private_kind(ip: IPAddress) -> str | None:
    if ip.is_link_local:
        return "a link-local address"
    if ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if isinstance(ip, IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if ip.is_private:
        return "a private address"
    return None


def _embedded_ipv4(ip: IPAddress) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, for the forms that reach them."""
    if isinstance(ip, IPv4Address):
        return []
    if ip.ipv4_mapped:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)
    return []
