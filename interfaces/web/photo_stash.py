"""Photos chosen on the intake form survive a form error (a duplicate warning, a missing location,
a file too large beside good ones): each good upload is kept server-side under a short-lived signed
token, shown again as a thumbnail with a remove box, and attached when the form finally files.

The originals are kept as uploaded (the attachment code re-encodes and makes thumbnails when the
event is filed); files live under MEDIA_ROOT/tmp/stash/ and are deleted after STASH_MAX_AGE, on the
next stash, or as soon as the event is filed.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import InvalidInput
from incidents.photos import process_photo

SALT = "citygov.photo-stash"
STASH_MAX_AGE = 3600  # seconds: one sitting at the form
TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
EXT_OF = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


@dataclass(frozen=True)
class Stashed:
    token: str
    name: str


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "tmp" / "stash"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_stash(now: float | None = None) -> int:
    """Delete stashed files older than STASH_MAX_AGE; the number deleted."""
    limit = (now if now is not None else time.time()) - STASH_MAX_AGE
    gone = 0
    for path in _folder().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                gone += 1
        except FileNotFoundError:
            pass  # a parallel request cleaned it
    return gone


def stash(user_id: int, uploads: list) -> tuple[list[Stashed], list[str]]:
    """Keep each valid upload; return the tokens and, for the ones refused, why (named by file)."""
    clean_stash()
    kept: list[Stashed] = []
    refused: list[str] = []
    for upload in uploads:
        try:
            processed = process_photo(upload)
        except InvalidInput as exc:
            refused.extend(str(m) for messages in exc.errors.values() for m in messages)
            continue
        key = secrets.token_hex(16) + EXT_OF[processed.content_type]
        upload.seek(0)
        (_folder() / key).write_bytes(upload.read())
        name = Path(getattr(upload, "name", "photo")).name[:100]
        kept.append(Stashed(signing.dumps({"k": key, "u": user_id, "n": name}, salt=SALT), name))
    return kept, refused


def _open(token: str, user_id: int) -> tuple[Path, str] | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=STASH_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != user_id:
        return None
    key = str(data.get("k", ""))
    path = _folder() / key
    if "/" in key or path.suffix not in TYPES or not path.is_file():
        return None
    return path, str(data.get("n") or key)


def stashed_file(token: str, user_id: int) -> tuple[bytes, str] | None:
    """The stashed bytes and content type, for the thumbnail; None for a bad, foreign or old token."""
    found = _open(token, user_id)
    if found is None:
        return None
    path, _name = found
    return path.read_bytes(), TYPES[path.suffix]


def unstash(tokens: list[str], user_id: int) -> tuple[list[SimpleUploadedFile], list[Stashed]]:
    """The kept photos as uploads for the service, and their tokens (to show again); stale ones drop."""
    files, still = [], []
    for token in dict.fromkeys(tokens):  # once each, in order
        found = _open(token, user_id)
        if found is None:
            continue
        path, name = found
        files.append(SimpleUploadedFile(name, path.read_bytes(), content_type=TYPES[path.suffix]))
        still.append(Stashed(token, name))
    return files, still


def discard(tokens: list[str], user_id: int) -> None:
    """Delete the stashed files once the event holds its own copies."""
    for token in tokens:
        found = _open(token, user_id)
        if found is not None:
            found[0].unlink(missing_ok=True)
