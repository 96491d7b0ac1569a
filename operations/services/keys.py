"""Issuing Open311 API keys: only a hash is stored; the key is returned once."""

from __future__ import annotations

import hashlib
import secrets

from incidents.models import Open311Key


def issue_open311_key(key: Open311Key) -> str:
    """Save `key` (name and jurisdiction set) with a fresh secret; return the secret."""
    secret = secrets.token_urlsafe(32)
    key.prefix = secret[:8]
    key.key_hash = hashlib.sha256(secret.encode()).hexdigest()
    key.save()
    return secret
