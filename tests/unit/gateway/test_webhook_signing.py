"""Webhook signatures: each user's secret derives from the signing key (the same in every
process, different per user and per key), and the Python and JavaScript verifiers that
docs/webhooks.md shows accept Darkroom's deliveries and refuse altered ones."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from darkroom.gateway.webhooks.signing import signed_headers, user_secret

DOC = Path(__file__).parents[3] / "docs" / "webhooks.md"
KEY = SecretStr("k" * 40)
BODY = b'{"type": "job.completed", "job_id": "5b2c0d6e-0d0c-4a2f-9a3f-1e8c7b6a5d4e"}'


def snippet(language: str) -> str:
    """The code block of `language` under "Verifying a delivery" in docs/webhooks.md."""
    section = DOC.read_text().split("## Verifying a delivery")[1]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"no {language} block in docs/webhooks.md"
    return found.group(1)


def delivery() -> tuple[str, dict[str, str]]:
    secret = user_secret(KEY, "alice")
    return secret, signed_headers(secret, "msg_1", datetime.now(UTC), BODY)


def test_each_user_has_a_secret_of_its_own_that_every_process_computes_alike() -> None:
    alice = user_secret(KEY, "alice")
    assert alice == user_secret(SecretStr("k" * 40), "alice")
    assert alice != user_secret(KEY, "bob") and alice != user_secret(SecretStr("j" * 40), "alice")
    assert alice.startswith("whsec_") and len(alice) == len("whsec_") + 44


def test_the_documented_python_verifier_accepts_a_delivery_and_refuses_an_altered_one() -> None:
    scope: dict[str, object] = {}
    exec(snippet("python"), scope)  # the documentation's own code
    verify, refused = scope["verify"], scope["WebhookVerificationError"]
    secret, headers = delivery()
    assert verify(BODY, headers, secret) == json.loads(BODY)  # type: ignore[operator]
    with pytest.raises(refused):  # type: ignore[call-overload]
        verify(BODY.replace(b"completed", b"failed"), headers, secret)  # type: ignore[operator]
    with pytest.raises(refused):  # type: ignore[call-overload]
        verify(BODY, headers, user_secret(KEY, "bob"))  # type: ignore[operator]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_documented_javascript_verifier_accepts_a_delivery_and_refuses_an_altered_one(
    tmp_path: Path,
) -> None:
    secret, headers = delivery()
    (tmp_path / "verify.mjs").write_text(snippet("js"))
    check = f"""import {{ verifyWebhook }} from "./verify.mjs";
const headers = {json.dumps(headers)}, secret = {json.dumps(secret)};
const body = {json.dumps(BODY.decode())};
console.log(verifyWebhook(body, headers, secret).type);
for (const [b, s] of [[body.replace("completed", "failed"), secret], [body, "whsec_AAAA"]]) {{
  try {{ verifyWebhook(b, headers, s); console.log("accepted"); }}
  catch (e) {{ console.log("refused"); }}
}}
"""
    (tmp_path / "check.mjs").write_text(check)
    ran = subprocess.run(
        ["node", "check.mjs"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert ran.stdout.split() == ["job.completed", "refused", "refused"], ran.stderr
