from datetime import UTC, datetime, timedelta

import pytest

from darkroom.runtime.storage.signing import UrlSigner, expires_after

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
KEY = "jobs/5f0c7a52-94c4-4a35-9d4b-2f8f5d0b6a11/0.png"


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(b"test-secret")


def _sign(
    signer: UrlSigner, key: str = KEY, ttl: timedelta = timedelta(minutes=5)
) -> tuple[int, str]:
    expires_at = NOW + ttl
    return int(expires_at.timestamp()), signer.sign(key, expires_at)


def test_a_fresh_signature_verifies(signer: UrlSigner) -> None:
    expires, sig = _sign(signer)
    assert signer.verify(KEY, expires, sig, now=NOW)


def test_signature_is_urlsafe_base64_of_a_sha256_without_padding(signer: UrlSigner) -> None:
    _, sig = _sign(signer)
    assert len(sig) == 43
    assert set(sig) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_signature_is_refused_once_expired(signer: UrlSigner) -> None:
    expires, sig = _sign(signer)
    assert not signer.verify(KEY, expires, sig, now=NOW + timedelta(minutes=5))
    assert not signer.verify(KEY, expires, sig, now=NOW + timedelta(days=1))


def test_tampered_signature_is_refused(signer: UrlSigner) -> None:
    expires, sig = _sign(signer)
    tampered = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert not signer.verify(KEY, expires, tampered, now=NOW)
    assert not signer.verify(KEY, expires, "", now=NOW)


def test_extending_the_expiry_invalidates_the_signature(signer: UrlSigner) -> None:
    expires, sig = _sign(signer)
    assert not signer.verify(KEY, expires + 3600, sig, now=NOW)


def test_signature_for_one_key_does_not_open_another(signer: UrlSigner) -> None:
    expires, sig = _sign(signer)
    assert not signer.verify(KEY.replace("0.png", "1.png"), expires, sig, now=NOW)


def test_signature_made_with_another_secret_is_refused(signer: UrlSigner) -> None:
    expires, sig = _sign(UrlSigner(b"other-secret"))
    assert not signer.verify(KEY, expires, sig, now=NOW)


def test_non_ascii_signature_is_refused_without_raising(signer: UrlSigner) -> None:
    expires, _ = _sign(signer)
    assert not signer.verify(KEY, expires, "é\udcff", now=NOW)


def test_naive_expiry_and_empty_secret_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        UrlSigner(b"s").sign(KEY, datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="empty"):
        UrlSigner(b"")


def test_expires_after_truncates_to_whole_utc_seconds() -> None:
    now = datetime(2030, 1, 1, 0, 0, 0, 900_000, tzinfo=UTC)
    assert expires_after(timedelta(seconds=10), now) == datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1)])
def test_expires_after_refuses_a_ttl_that_is_not_positive(ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        expires_after(ttl, NOW)
