"""The README's webhook check is run as written, against signatures made by the Standard Webhooks reference
library: a receiver that copies it verifies real deliveries and refuses forged, altered and replayed ones."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verify() -> Any:
    text = README.read_text()
    section = text[text.index("## Public API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the README's Public API section lost its Python example"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own README, run as a reader would
    return namespace["verify"]


def signed(secret: str, body: str, at: datetime) -> dict[str, str]:
    msg_id = "msg_" + secrets.token_hex(8)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def test_the_readme_check_accepts_real_signatures_and_refuses_the_rest() -> None:
    verify = readme_verify()
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    body = '{"type": "access_code.set", "data": {"id": 901}}'
    now = datetime.now(UTC)
    headers = signed(secret, body, now)
    assert verify(secret, headers, body.encode())
    # Several signatures (a secret being rotated): any one that matches will do.
    assert verify(
        secret, {**headers, "webhook-signature": "v1,bm90aGluZw== " + headers["webhook-signature"]}, body.encode()
    )
    assert not verify(secret, headers, body.replace("901", "902").encode())
    other = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    assert not verify(other, headers, body.encode())
    assert not verify(secret, signed(secret, body, now - timedelta(minutes=10)), body.encode())
