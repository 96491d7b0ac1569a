"""Serving event photos (照片) only to people who may see the event.

Photos are never reachable under MEDIA_URL: every link the pages, the admin and
the API give out points here, and each request is scoped through
`incidents.selectors.attachment_for_user` (built on `events_for_user`). Outside
the viewer's scope the photo does not exist: 404, as for the event itself.

The bytes leave in one of two ways (settings.ATTACHMENT_ACCEL_REDIRECT_PREFIX):
empty, this process streams the file (FileResponse); set, the answer carries
only headers and `X-Accel-Redirect: <prefix>/<stored name>`, and nginx sends the
file from an `internal` location, so a gunicorn worker is not held for the
transfer. Either way the answer is private to the viewer's browser. Caddy does
the same with `handle_response` (deploy/Caddyfile).

`?size=thumb` answers the photo's thumbnail (lists, the timeline) through the same
scope; a photo stored before thumbnails were made gets one on that first request.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from incidents.models import Attachment
from incidents.photos import FORMATS, THUMBNAIL_CONTENT_TYPE
from incidents.selectors import attachment_for_user
from operations.services.thumbnails import attachment_thumbnail_make

# Only what photo intake stores (photos.py re-encodes to these); anything else is sent as bytes.
IMAGE_TYPES = frozenset(content_type for content_type, _ext in FORMATS.values())
SIZES = ("full", "thumb")
PHOTO_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def photo_url(attachment: Attachment, size: str = "full") -> str:
    """The page link of a photo (signed-in web users; the admin); size "thumb" for its thumbnail."""
    url = reverse("event-photo", args=[attachment.event_id, attachment.pk])
    return f"{url}?size=thumb" if size == "thumb" else url


def api_photo_url(request, event_code: str, attachment: Attachment, size: str = "full") -> str:
    """The absolute API link of a photo (token or session authentication); size "thumb" for its thumbnail."""
    url = request.build_absolute_uri(reverse("api:event-photo", args=[event_code, attachment.pk]))
    return f"{url}?size=thumb" if size == "thumb" else url


def requested_size(request: HttpRequest) -> str:
    """The `size` query parameter: full (default) or thumb; anything else is refused, naming it."""
    size = request.GET.get("size", "full") or "full"
    if size not in SIZES:
        raise InvalidInput({"size": _("size must be full or thumb, not %(size)s.") % {"size": size[:20]}})
    return size


def attachment_response(attachment: Attachment, size: str = "full") -> HttpResponse:
    """The photo's bytes (or the proxy's instruction to send them), with private, no-sniff headers."""
    content_type = attachment.content_type if attachment.content_type in IMAGE_TYPES else "application/octet-stream"
    name = attachment.file.name
    if size == "thumb" and attachment_thumbnail_make(attachment):
        content_type, name = THUMBNAIL_CONTENT_TYPE, attachment.thumbnail.name
    # A photo that cannot be read for a thumbnail is answered whole (or 404s below if it is gone).
    prefix = getattr(settings, "ATTACHMENT_ACCEL_REDIRECT_PREFIX", "") or ""
    if prefix:
        # nginx keeps Content-Type, Content-Disposition and Cache-Control from this answer.
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{quote(name)}"
    else:
        try:
            handle = attachment.file.storage.open(name, "rb")
        except (FileNotFoundError, OSError):
            raise NotFound("No such photo.") from None
        response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{posixpath.basename(name)}"'
    # The photo is the viewer's to see, not a shared cache's; the type is ours, not a guess.
    response["Cache-Control"] = "private"
    response["X-Content-Type-Options"] = "nosniff"
    # Opened in its own tab (the thumbnails link to it) the photo is the document: the browser's
    # image viewer styles it inline, which the pages' policy would refuse (a console error); the
    # photo's own policy allows that and nothing else, no script at all.
    response["Content-Security-Policy"] = PHOTO_POLICY
    return response


@login_required
@require_safe
def event_photo(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    """GET /events/<pk>/photos/<id>: a photo of an event the signed-in user may see; 404 otherwise."""
    try:
        size = requested_size(request)
    except InvalidInput as error:
        return HttpResponseBadRequest(str(error))
    try:
        return attachment_response(attachment_for_user(request.user, attachment_id, event_pk=pk), size)
    except NotFound:
        raise Http404("No such photo.") from None


class _AnyAccept(BaseContentNegotiation):
    """Errors are JSON whatever the client accepts (an <img> asks for image/*); success is the file itself."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class EventPhotoView(APIView):
    """A photo of an event you may see (the `url` of an event's `photos`); 404 for any other."""

    content_negotiation_class = _AnyAccept

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "size", str, enum=list(SIZES), description="thumb: the thumbnail (320 px, WebP); full (default)"
            )
        ],
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The photo (JPEG, PNG or WebP)"),
        },
        tags=["events"],
    )
    def get(self, request, code: str, attachment_id: int):
        size = requested_size(request)
        return attachment_response(attachment_for_user(request.user, attachment_id, event_code=code), size)
