"""Thumbnails (#16 item 4): made at upload, upright, without EXIF, served through the same scope."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from incidents.models import Attachment
from incidents.photos import THUMBNAIL_PX, process_photo
from tests.factories import dispatched_event, png

pytestmark = pytest.mark.django_db


def _rotated_jpeg(size=(1200, 600)) -> SimpleUploadedFile:
    """A landscape JPEG whose EXIF says 'rotate 90° to view' (Orientation 6) and holds a GPS tag."""
    image = Image.new("RGB", size, "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x8825] = {2: (31.0, 14.0, 0.0)}  # GPSInfo: latitude
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    return SimpleUploadedFile("phone.jpg", buf.getvalue(), content_type="image/jpeg")


def _client(username):
    client = APIClient()
    client.force_login(User.objects.get(username=username))
    return client


def _read(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_thumbnail_is_upright_small_webp_without_exif():
    processed = process_photo(_rotated_jpeg())
    with Image.open(io.BytesIO(processed.thumbnail.read())) as thumb:
        assert thumb.format == "WEBP"
        # Orientation 6 turns 1200×600 into portrait 600×1200; the longer side shrinks to 320.
        assert thumb.size == (THUMBNAIL_PX // 2, THUMBNAIL_PX)
        assert not thumb.getexif()
        assert "exif" not in thumb.info and "icc_profile" not in thumb.info
    assert processed.thumbnail.name.endswith(".thumb.webp")
    assert processed.thumbnail.name.split(".")[0] == processed.content.name.split(".")[0]


def test_a_small_photo_is_not_enlarged():
    processed = process_photo(png(size=(40, 30)))
    with Image.open(io.BytesIO(processed.thumbnail.read())) as thumb:
        assert thumb.size == (40, 30)


def test_upload_stores_the_thumbnail_beside_the_photo():
    event = dispatched_event(photos=[_rotated_jpeg()])
    photo = event.attachments.get()
    assert photo.thumbnail.name.rsplit("/", 1)[0] == photo.file.name.rsplit("/", 1)[0]
    assert photo.thumbnail.storage.exists(photo.thumbnail.name)


def test_the_thumbnail_is_served_only_to_those_who_see_the_event():
    event = dispatched_event(photos=[_rotated_jpeg()])
    photo = event.attachments.get()
    with photo.thumbnail.open("rb") as fh:
        stored = fh.read()
    paths = [
        f"/events/{event.pk}/photos/{photo.pk}?size=thumb",
        f"/api/v1/events/{event.code}/photos/{photo.pk}?size=thumb",
    ]
    for path in paths:
        response = _client("op_nanhu").get(path, HTTP_ACCEPT="image/*")
        assert response.status_code == 200, path
        assert response["Content-Type"] == "image/webp"
        assert response["Cache-Control"] == "private"
        # Its own policy (not the pages'): the browser's image viewer may style it, nothing may run.
        assert (
            response["Content-Security-Policy"]
            == "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
        )
        assert _read(response) == stored
        assert _client("op_hexi").get(path).status_code == 404
    # The full photo is still the full photo.
    full = _client("op_nanhu").get(f"/events/{event.pk}/photos/{photo.pk}")
    assert full["Content-Type"] == "image/jpeg" and len(_read(full)) == photo.size


def test_an_unknown_size_is_refused_naming_it():
    event = dispatched_event(photos=[png()])
    photo = event.attachments.get()
    api = _client("op_nanhu").get(f"/api/v1/events/{event.code}/photos/{photo.pk}?size=huge")
    assert api.status_code == 400
    assert "size" in api.json()["errors"] or "size" in str(api.json())
    page = _client("op_nanhu").get(f"/events/{event.pk}/photos/{photo.pk}?size=huge")
    assert page.status_code == 400 and b"size" in page.content


def test_behind_the_proxy_the_thumbnail_is_handed_over_too():
    event = dispatched_event(photos=[png()])
    photo = event.attachments.get()
    with override_settings(ATTACHMENT_ACCEL_REDIRECT_PREFIX="/protected-media"):
        response = _client("op_nanhu").get(f"/events/{event.pk}/photos/{photo.pk}?size=thumb")
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.thumbnail.name}"
    assert response["Content-Type"] == "image/webp" and response.content == b""


def _without_thumbnail(event) -> Attachment:
    photo = event.attachments.get()
    photo.thumbnail.storage.delete(photo.thumbnail.name)
    Attachment.objects.filter(pk=photo.pk).update(thumbnail="")
    photo.refresh_from_db()
    return photo


def test_an_older_photo_gets_its_thumbnail_on_first_request():
    event = dispatched_event(photos=[_rotated_jpeg()])
    photo = _without_thumbnail(event)
    response = _client("op_nanhu").get(f"/events/{event.pk}/photos/{photo.pk}?size=thumb")
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    photo.refresh_from_db()
    assert photo.thumbnail and photo.thumbnail.storage.exists(photo.thumbnail.name)
    with Image.open(io.BytesIO(_read(response))) as thumb:
        assert thumb.size == (THUMBNAIL_PX // 2, THUMBNAIL_PX)


def test_someone_outside_the_scope_does_not_make_one():
    event = dispatched_event(photos=[png()])
    photo = _without_thumbnail(event)
    assert _client("op_hexi").get(f"/events/{event.pk}/photos/{photo.pk}?size=thumb").status_code == 404
    photo.refresh_from_db()
    assert not photo.thumbnail


def test_make_thumbnails_fills_the_missing_and_names_the_unreadable(capsys):
    good = _without_thumbnail(dispatched_event(photos=[png()]))
    broken = _without_thumbnail(dispatched_event(photos=[png("b.png")]))
    broken.file.storage.delete(broken.file.name)
    broken.file.storage.save(broken.file.name, ContentFile(b"not an image"))
    with pytest.raises(CommandError, match=f"attachment {broken.pk}"):
        call_command("make_thumbnails", verbosity=0)
    good.refresh_from_db()
    broken.refresh_from_db()
    assert good.thumbnail and not broken.thumbnail
    assert "1 thumbnail(s) made" in capsys.readouterr().out
    # Again: nothing more to make for the good one; the broken one is still named.
    with pytest.raises(CommandError):
        call_command("make_thumbnails", verbosity=0)
    assert "0 thumbnail(s) made" in capsys.readouterr().out


def test_the_event_page_shows_thumbnails_linking_to_the_photo(client):
    event = dispatched_event(photos=[png()])
    photo = event.attachments.get()
    client.force_login(User.objects.get(username="op_nanhu"))
    page = client.get(f"/events/{event.pk}/").content.decode()
    full = f"/events/{event.pk}/photos/{photo.pk}"
    assert f'<a href="{full}"' in page
    assert f'src="{full}?size=thumb"' in page
    # In the timeline too, beside the step that added it (the report).
    timeline = page.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    assert f'src="{full}?size=thumb"' in timeline


def test_the_api_gives_the_thumbnail_link():
    event = dispatched_event(photos=[png()])
    photo = event.attachments.get()
    [shown] = _client("op_nanhu").get(f"/api/v1/events/{event.code}").json()["photos"]
    assert shown["thumbnail_url"] == f"http://testserver/api/v1/events/{event.code}/photos/{photo.pk}?size=thumb"


def test_the_lists_show_each_events_thumbnail(client):
    with_photo = dispatched_event(photos=[png()])
    photo = with_photo.attachments.get()
    without = dispatched_event()
    client.force_login(User.objects.get(username="hd_nanhu_huanwei"))
    inbox = client.get("/inbox/").content.decode()
    row = inbox.split(f">{with_photo.code}</a>", 1)[0].rsplit("<tr", 1)[1]
    assert f'src="/events/{with_photo.pk}/photos/{photo.pk}?size=thumb"' in row
    bare = inbox.split(f">{without.code}</a>", 1)[0].rsplit("<tr", 1)[1]
    assert "?size=thumb" not in bare


def test_the_admin_shows_the_thumbnail_linking_to_the_photo(client):
    event = dispatched_event(photos=[png()])
    photo = event.attachments.get()
    client.force_login(User.objects.get(username="admin"))
    page = client.get(f"/admin/incidents/event/{event.pk}/change/").content.decode()
    full = f"/events/{event.pk}/photos/{photo.pk}"
    assert f'<a href="{full}"><img src="{full}?size=thumb"' in page
    assert photo.thumbnail.name not in page
