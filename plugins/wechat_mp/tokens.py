"""The access token's cache: sealed with the AppSecret, kept with its expiry.

A token lasts 7200 s and fetching one is rate-limited, so it is kept in the plugin's
state table between runs, but never in clear: it is encrypted with a key derived
from ``$COMPOSER_WECHAT_SECRET`` (HMAC-SHA256 in counter mode as the key stream, an
HMAC tag over nonce and ciphertext). state.db alone gives nothing usable; a changed
secret makes the cache unreadable, and a new token is fetched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

MARGIN_S = 300  # the platform renews a stable token 5 minutes before it expires
NONCE, TAG = 16, 16


def _key(secret: str, app_id: str) -> bytes:
    return hmac.new(secret.encode(), f"composer wechat token|{app_id}".encode(), "sha256").digest()


def _stream(key: bytes, nonce: bytes, size: int) -> bytes:
    blocks = (size + 31) // 32
    return b"".join(
        hmac.new(key, nonce + n.to_bytes(4, "big"), hashlib.sha256).digest() for n in range(blocks)
    )[:size]


def seal(token: str, secret: str, app_id: str) -> str:
    key, nonce = _key(secret, app_id), os.urandom(NONCE)
    plain = token.encode()
    body = nonce + bytes(a ^ b for a, b in zip(plain, _stream(key, nonce, len(plain)), strict=True))
    tag = hmac.new(key, body, hashlib.sha256).digest()[:TAG]
    return base64.b64encode(body + tag).decode()


def unseal(sealed: str, secret: str, app_id: str) -> str | None:
    """The token, or None when the record was sealed with another secret or is damaged."""
    try:
        raw = base64.b64decode(sealed.encode(), validate=True)
    except (ValueError, TypeError):
        return None
    key, body, tag = _key(secret, app_id), raw[:-TAG], raw[-TAG:]
    if len(body) <= NONCE or not hmac.compare_digest(
        hmac.new(key, body, "sha256").digest()[:TAG], tag
    ):
        return None
    nonce, cipher = body[:NONCE], body[NONCE:]
    plain = bytes(a ^ b for a, b in zip(cipher, _stream(key, nonce, len(cipher)), strict=True))
    return plain.decode(errors="replace")


class TokenCache:
    """The cached token of one account at one API host, in the plugin's state table."""

    def __init__(self, table, app_id: str, api_url: str, secret: str, clock=time.time) -> None:
        self.table, self.app_id, self.api_url, self.secret = table, app_id, api_url, secret
        self.key = f"token:{app_id}"
        self.clock = clock

    def get(self) -> str | None:
        """The cached token if it is still good for a while, else None."""
        record = self.table.get(self.key) if self.table is not None else None
        if not isinstance(record, dict) or record.get("api_url") != self.api_url:
            return None
        if float(record.get("expires_at", 0)) <= self.clock():
            return None
        return unseal(str(record.get("sealed", "")), self.secret, self.app_id)

    def put(self, token: str, expires_in: float) -> None:
        if self.table is None:
            return
        expires_at = self.clock() + max(0.0, float(expires_in) - MARGIN_S)
        self.table.put(
            self.key,
            {
                "sealed": seal(token, self.secret, self.app_id),
                "expires_at": expires_at,
                "api_url": self.api_url,
            },
        )

    def drop(self) -> None:
        if self.table is not None:
            self.table.delete(self.key)
