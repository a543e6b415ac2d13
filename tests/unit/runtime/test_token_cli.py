"""`darkroom-token`: a development token, with `--priority high` a token that may submit high."""

from __future__ import annotations

import pytest

from darkroom.contracts.jobtypes import Priority
from darkroom.runtime.auth import TokenService
from darkroom.runtime.auth.cli import main
from darkroom.runtime.settings import DEV_JWT_SECRET


def minted(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    main(list(args))
    out, err = capsys.readouterr()
    return out.splitlines()[-1], err


def test_a_token_minted_with_priority_high_grants_high(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("JWT_ISSUER", raising=False)
    token, note = minted(capsys, "alice", "--priority", "high")

    principal = TokenService(DEV_JWT_SECRET, "darkroom").verify(token)
    assert (principal.user_id, principal.priorities) == ("alice", {Priority.HIGH})
    assert "may use priority high" in note


def test_a_token_minted_without_a_flag_grants_no_priority(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("JWT_ISSUER", raising=False)
    token, _ = minted(capsys, "bob")

    assert TokenService(DEV_JWT_SECRET, "darkroom").verify(token).priorities == frozenset()


def test_the_claim_is_the_one_priority_claim_names(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("JWT_ISSUER", raising=False)
    monkeypatch.setenv("PRIORITY_CLAIM", "https://idp.example/priorities")
    token, _ = minted(capsys, "carol", "--priority", "high")

    service = TokenService(
        DEV_JWT_SECRET, "darkroom", priority_claim="https://idp.example/priorities"
    )
    assert service.verify(token).priorities == {Priority.HIGH}
