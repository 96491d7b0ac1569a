"""Photo intake: judge the type by content, enforce limits, re-encode, name it ourselves.

Re-encoding drops EXIF (and with it the GPS position of the phone that took
the photo) and anything smuggled after the image data. Each photo also gets a
thumbnail (缩略图) for lists and the event timeline: at most THUMBNAIL_PX on its
longer side, WebP, made from the upright image, with no metadata.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidInput

# Pillow format name → (content type, extension). Only formats phones and cameras produce.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
THUMBNAIL_PX = 320
THUMBNAIL_CONTENT_TYPE = "image/webp"


@dataclass(frozen=True)
class ProcessedPhoto:
    content: ContentFile
    content_type: str
    width: int
    height: int
    size: int
    sha256: str
    thumbnail: ContentFile


def thumbnail_of(image: Image.Image) -> bytes:
    """A WebP thumbnail of an already upright image (EXIF applied), without its metadata.

    WebP keeps a PNG's transparency and is a third of a JPEG's size at this quality.
    Pillow writes no EXIF or ICC data unless asked to, so none is carried over.
    """
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA" if "A" in thumb.getbands() or "transparency" in thumb.info else "RGB")
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80, method=4)
    return out.getvalue()


def thumbnail_from_bytes(data: bytes) -> bytes:
    """The thumbnail of a stored photo (for photos stored before thumbnails were made)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return thumbnail_of(ImageOps.exif_transpose(image))


def thumbnail_name(photo_name: str) -> str:
    """Beside the photo: events/2026/12/<uuid>.jpg → events/2026/12/<uuid>.thumb.webp."""
    stem = photo_name.rsplit(".", 1)[0] if "." in photo_name.rsplit("/", 1)[-1] else photo_name
    return f"{stem}.thumb.webp"


def _limits() -> tuple[int, int, int]:
    return (
        getattr(settings, "PHOTO_MAX_BYTES", 10 * 1024 * 1024),
        getattr(settings, "PHOTO_MAX_PIXELS", 40_000_000),
        getattr(settings, "PHOTO_MAX_PER_ACTION", 9),
    )


def process_photo(upload, field: str = "photos") -> ProcessedPhoto:
    """Validate and re-encode one uploaded file; raises InvalidInput naming the field."""
    max_bytes, max_pixels, _max_count = _limits()
    name = getattr(upload, "name", "photo")
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise InvalidInput(
            {
                field: _("%(name)s is %(size).1f MB; the limit is %(max).0f MB.")
                % {"name": name, "size": size / 1048576, "max": max_bytes / 1048576}
            }
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidInput(
            {field: _("%(name)s is larger than %(max).0f MB.") % {"name": name, "max": max_bytes / 1048576}}
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
    except Image.DecompressionBombError:
        raise InvalidInput(
            {
                field: _("%(name)s has far more pixels than a photo; the limit is %(max)d megapixels.")
                % {"name": name, "max": max_pixels // 1_000_000}
            }
        ) from None
    except (UnidentifiedImageError, OSError):
        raise InvalidInput({field: _("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name}}) from None
    if fmt not in FORMATS:
        raise InvalidInput(
            {field: _("%(name)s is a %(fmt)s file; send JPEG, PNG or WebP.") % {"name": name, "fmt": fmt}}
        )
    # Checked from the header before decoding: a decompression bomb never gets expanded.
    if width * height > max_pixels:
        raise InvalidInput(
            {
                field: _("%(name)s has %(w)d×%(h)d pixels; the limit is %(max)d megapixels.")
                % {"name": name, "w": width, "h": height, "max": max_pixels // 1_000_000}
            }
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if fmt == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            elif fmt == "PNG":
                image.save(out, "PNG", optimize=True)
            else:
                image.save(out, "WEBP", quality=85)
            thumbnail = thumbnail_of(image)
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise InvalidInput({field: _("%(name)s is damaged and cannot be read as an image.") % {"name": name}}) from None
    encoded = out.getvalue()
    content_type, ext = FORMATS[fmt]
    stem = uuid.uuid4().hex
    return ProcessedPhoto(
        content=ContentFile(encoded, name=f"{stem}.{ext}"),
        content_type=content_type,
        width=image.width,
        height=image.height,
        size=len(encoded),
        sha256=hashlib.sha256(encoded).hexdigest(),
        thumbnail=ContentFile(thumbnail, name=thumbnail_name(f"{stem}.{ext}")),
    )


def process_photos(uploads, field: str = "photos") -> list[ProcessedPhoto]:
    uploads = list(uploads or [])
    _b, _p, max_count = _limits()
    if len(uploads) > max_count:
        raise InvalidInput({field: _("At most %(n)d photos at a time.") % {"n": max_count}})
    return [process_photo(upload, field) for upload in uploads]
