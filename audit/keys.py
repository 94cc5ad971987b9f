"""The audit log's keys. Every event is hashed with HMAC-SHA256 under a key that lives in the
environment, never in the database (`AUDIT_KEY`), so whoever can write the database cannot
forge an event or re-chain the log without it.

Rotation: set `AUDIT_KEY` to the new key and add the old one to `AUDIT_PREVIOUS_KEYS`
(comma-separated). New events carry the new key's id; older events still verify with theirs.
(The log written before keys existed was re-hashed under AUDIT_KEY when it was migrated.)
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


class UnknownAuditKey(LookupError):
    """An event or checkpoint names a key that is not configured."""


def key_id(key: str) -> str:
    """A short public fingerprint of a key (never the key)."""
    return hashlib.sha256(f"levelset-audit-key:{key}".encode()).hexdigest()[:12]


def current() -> tuple[str, str]:
    """The key new events and checkpoints are signed with: (id, key)."""
    key = settings.AUDIT_KEY
    return key_id(key), key


def _keys() -> dict[str, str]:
    keys = [settings.AUDIT_KEY, *settings.AUDIT_PREVIOUS_KEYS]
    return {key_id(k): k for k in keys if k}


def digest(content: bytes, kid: str) -> str:
    """HMAC-SHA256 of `content` under the configured key `kid` names."""
    key = _keys().get(kid)
    if key is None:
        raise UnknownAuditKey(f"audit key {kid} is not configured (AUDIT_PREVIOUS_KEYS)")
    return hmac.new(key.encode(), content, hashlib.sha256).hexdigest()
