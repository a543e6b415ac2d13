"""Standard Webhooks signing: each user's secret derives from WEBHOOK_SIGNING_KEY (so nothing is
stored, and every replica computes the same one), and every attempt carries `webhook-id`,
`webhook-timestamp` and `webhook-signature`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from pydantic import SecretStr
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
_LABEL = b"darkroom webhook secret v1\x00"


def user_secret(signing_key: SecretStr, user_id: str) -> str:
    """The user's Standard Webhooks secret (`whsec_` + base64 of 32 bytes)."""
    key = signing_key.get_secret_value().encode()
    derived = hmac.new(key, _LABEL + user_id.encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(derived).decode()


def signed_headers(secret: str, webhook_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    """The headers of one attempt: its id (the same on every attempt), its time, its signature."""
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=sent_at, data=body)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
