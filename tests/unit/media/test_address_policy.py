"""Which addresses a fetch of a user-supplied URL may reach: the SSRF rules, without sockets."""

from ipaddress import ip_address

import pytest

from darkroom.media.address_policy import METADATA_ADDRESSES, address_problem


def problem(text: str, *, loopback: bool = False, private: bool = False) -> str | None:
    return address_problem(ip_address(text), allow_loopback=loopback, allow_private=private)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700::1111", "2a00:1450:4001::200e"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert problem(address) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.45.1.9", "::1"])
def test_loopback_is_refused_unless_allowed(address: str) -> None:
    assert problem(address) == "a loopback address"
    assert problem(address, loopback=True) is None


def test_allowing_private_ranges_does_not_allow_loopback() -> None:
    assert problem("127.0.0.1", private=True) == "a loopback address"


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("100.127.255.254", "a shared (carrier-grade NAT) address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("fec0::1", "a site-local address"),
    ],
)
def test_private_ranges_are_refused_unless_allowed(address: str, words: str) -> None:
    assert problem(address) == words
    assert problem(address, private=True) is None


def test_allowing_loopback_does_not_allow_private_ranges() -> None:
    assert problem("10.0.0.1", loopback=True) == "a private address"


@pytest.mark.parametrize("address", sorted(map(str, METADATA_ADDRESSES)))
def test_cloud_metadata_addresses_are_never_allowed(address: str) -> None:
    assert problem(address, loopback=True, private=True) == "a cloud metadata address"


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254"]
)
def test_the_well_known_metadata_endpoints_are_refused_in_every_form(address: str) -> None:
    refused = problem(address, loopback=True, private=True)

    assert refused is not None and "metadata" in refused


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("0.0.0.0", "an unspecified address"),
        ("0.1.2.3", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("239.255.255.250", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("::127.0.0.1", "a reserved address"),
    ],
)
def test_unspecified_multicast_and_reserved_are_refused_whatever_is_allowed(
    address: str, words: str
) -> None:
    assert problem(address, loopback=True, private=True) == words


@pytest.mark.parametrize("address", ["192.0.2.1", "198.51.100.7", "2001:db8::1", "198.18.0.1"])
def test_documentation_and_benchmark_ranges_are_refused_by_default(address: str) -> None:
    assert problem(address) is not None


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"),
        ("64:ff9b::7f00:1", "a loopback address"),
    ],
)
def test_ipv4_mapped_and_nat64_forms_are_judged_as_their_ipv4_address(
    address: str, words: str
) -> None:
    assert problem(address) == words


def test_ipv4_mapped_and_nat64_forms_of_public_addresses_are_allowed() -> None:
    assert problem("::ffff:8.8.8.8") is None
    assert problem("64:ff9b::808:808") is None


def test_ipv4_mapped_loopback_follows_the_loopback_switch() -> None:
    assert problem("::ffff:127.0.0.1", loopback=True) is None


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("2002:7f00:1::1", "127.0.0.1"),  # 6to4
        ("2002:a9fe:a9fe::1", "169.254.169.254"),  # 6to4
        ("2001:0:808:808:0:0:80ff:fffe", "127.0.0.1"),  # Teredo, client 127.0.0.1
    ],
)
def test_6to4_and_teredo_forms_of_refused_ipv4_addresses_are_refused(
    address: str, inner: str
) -> None:
    refused = problem(address, private=True)

    assert refused is not None
    assert f"({inner} inside {ip_address(address)})" in refused


def test_a_6to4_form_of_a_public_address_is_allowed() -> None:
    assert problem("2002:808:808::1") is None
