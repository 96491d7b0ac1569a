import io
import os
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from freezegun import freeze_time
from PIL import Image

from core.errors import InvalidInput, NotPermitted
from incidents.duplicates import likely_duplicates
from incidents.history import verify_event_chain
from incidents.models import Attachment, Event, Source, State, Urgency
from incidents.selectors import events_for_user
from operations import services
from tests.factories import GRID, file_event, jpeg, png, point_in, user

pytestmark = pytest.mark.django_db


def media_files() -> set[str]:
    found = set()
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        found.update(os.path.join(root, f) for f in files)
    return found


def test_filing_resolves_the_grid_and_waits_at_the_street():
    with freeze_time("2026-11-28 09:30:00+08:00"):
        event = file_event(description="路口有一堆垃圾", address="南湖路1号", photos=[png()])
    assert re.fullmatch(r"99010020261128\d{7}", event.code)
    assert event.grid.code == GRID
    assert event.area_path == event.grid.path
    assert event.owner_unit.code == "990102001"
    assert event.state == State.REPORTED
    assert event.urgency == event.category.default_urgency
    assert event.reported_at == timezone.now() or event.reported_at.isoformat().startswith("2026-11-28T01:30")
    [rec] = event.records.all()
    assert (rec.action, rec.from_state, rec.to_state, rec.actor.username, rec.actor_role) == (
        "file",
        "",
        "reported",
        "gw_nanhu1",
        "grid_worker",
    )
    assert rec.actor_unit.code == "990102001001"
    assert rec.data["grid"] == GRID
    assert verify_event_chain(event.pk) is None


def test_codes_are_unique_and_increase():
    codes = [file_event().code for _ in range(3)]
    assert len(set(codes)) == 3
    assert codes == sorted(codes)


def test_a_point_outside_every_grid_is_refused_with_a_clear_error():
    before = Event.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.event_file(actor=user("gw_nanhu1"), title="x", category="E0101", latitude=31.5, longitude=121.5)
    assert "location" in exc.value.errors
    assert "outside every grid" in exc.value.errors["location"][0]
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"category": "E01"}, "category"),
        ({"category": "NOPE"}, "category"),
        ({"latitude": "north"}, "latitude"),
        ({"longitude": 500}, "longitude"),
        ({"urgency": 9}, "urgency"),
        ({"source": "carrier pigeon"}, "source"),
        ({"fixed_on_spot": True}, "result_note"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(kwargs, field):
    lat, lon = point_in()
    args = {"title": "垃圾", "category": "E0101", "latitude": lat, "longitude": lon, **kwargs}
    before = Event.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.event_file(actor=user("gw_nanhu1"), **args)
    assert field in exc.value.errors
    assert Event.objects.count() == before


def test_a_grid_worker_cannot_file_outside_their_grids():
    with pytest.raises(NotPermitted):
        file_event(reporter="gw_xiling1")


def test_hotline_operator_files_for_an_anonymous_caller():
    event = file_event(
        reporter="op_nanhu", source=Source.HOTLINE, reporter_name="王先生", reporter_phone="13812345678", urgency=2
    )
    assert (event.reporter.username, event.reporter_name, event.reporter_phone) == ("op_nanhu", "王先生", "13812345678")
    assert event.urgency == Urgency.URGENT
    assert event.source == Source.HOTLINE


def test_fixed_on_the_spot_goes_straight_to_handled():
    event = file_event(fixed_on_spot=True, result_note="已当场清理", photos=[png("after.png")])
    assert event.state == State.HANDLED
    assert event.self_handled
    assert [r.action for r in event.records.order_by("seq")] == ["file", "self_handle"]
    assert event.attachments.get().kind == "after"


def test_only_grid_workers_fix_on_the_spot():
    with pytest.raises(NotPermitted):
        file_event(reporter="op_nanhu", fixed_on_spot=True, result_note="x", photos=[png()])


# --- photos


def test_a_png_named_jpg_is_stored_as_the_png_it_is():
    event = file_event(photos=[png("photo.jpg")])
    attachment = event.attachments.get()
    assert attachment.content_type == "image/png"
    assert attachment.file.name.endswith(".png")
    assert "photo" not in attachment.file.name
    with attachment.file.open("rb") as fh, Image.open(fh) as image:
        assert image.format == "PNG"
        assert image.size == (32, 24)


def test_exif_gps_is_stripped():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 12.0, 30.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    upload = jpeg(exif=exif.tobytes())
    with Image.open(io.BytesIO(upload.read())) as original:
        assert original.getexif()  # the upload really carries EXIF
    upload.seek(0)
    event = file_event(photos=[upload])
    with event.attachments.get().file.open("rb") as fh, Image.open(fh) as stored:
        assert not stored.getexif()


def _bomb() -> SimpleUploadedFile:
    # 20000×20000 pixels of one colour: a few kilobytes compressed, 1.2 GB decoded.
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")
    return SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")


def _gif() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("P", (10, 10)).save(buf, "GIF")
    return SimpleUploadedFile("photo.jpg", buf.getvalue())


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: SimpleUploadedFile("photo.jpg", b"just some text, not a picture\n" * 10), "not a JPEG, PNG or WebP"),
        (lambda: SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff" + b"0" * (20 * 1024 * 1024)), "limit is 10 MB"),
        (_bomb, "megapixels"),
        (lambda: _gif(), "send JPEG, PNG or WebP"),
    ],
    ids=["text-as-jpg", "20MB", "decompression-bomb", "gif"],
)
def test_bad_photos_are_refused_and_nothing_is_stored(upload, message):
    events, attachments, files = Event.objects.count(), Attachment.objects.count(), media_files()
    with pytest.raises(InvalidInput) as exc:
        file_event(photos=[png("ok.png"), upload()])
    assert message in exc.value.errors["photos"][0]
    assert (Event.objects.count(), Attachment.objects.count(), media_files()) == (events, attachments, files)


def test_a_failure_after_photos_were_written_leaves_no_file(monkeypatch):
    files = media_files()

    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("incidents.history.chain_new", explode)  # after the photos, before the event row
    with pytest.raises(RuntimeError):
        file_event(photos=[png()])
    assert media_files() == files


# --- duplicates


def test_likely_duplicates_are_returned_at_intake():
    first = file_event()
    lat, lon = point_in()
    result = services.event_file(
        actor=user("gw_nanhu1"), title="又是垃圾", category="E0101", latitude=lat + 0.0005, longitude=lon
    )
    assert [d.event.pk for d in result.duplicates] == [first.pk]
    assert 50 < result.duplicates[0].distance_m < 60


def test_duplicates_at_intake_are_limited_to_what_the_filer_may_see():
    """Neighbouring grids meet at an edge: a grid worker filing beside it must not learn the codes
    of events in the grid next door, which they may not see."""
    from shapely.geometry import shape

    from accounts.models import OrgUnit

    mine, next_door = (shape(OrgUnit.objects.get(code=c).boundary) for c in ("99010200100101", "99010200100102"))
    edge = mine.intersection(next_door).representative_point()
    inside_mine, inside_next = (
        poly.intersection(edge.buffer(0.0003)).representative_point() for poly in (mine, next_door)
    )
    neighbour = services.event_file(
        actor=user("gw_nanhu1"), title="隔壁的垃圾", category="E0101",
        latitude=inside_next.y, longitude=inside_next.x,
    ).event  # fmt: skip
    assert neighbour.grid.code == "99010200100102"
    seen_by_community = services.event_file(
        actor=user("gw_nanhu1"), title="又是垃圾", category="E0101", latitude=inside_mine.y, longitude=inside_mine.x
    )
    assert neighbour.pk in [d.event.pk for d in seen_by_community.duplicates]  # within the radius
    grid_only = services.event_file(
        actor=user("gw_nanhu1_01"), title="再一次", category="E0101", latitude=inside_mine.y, longitude=inside_mine.x
    )
    assert neighbour.pk not in [d.event.pk for d in grid_only.duplicates]
    assert seen_by_community.event.pk in [d.event.pk for d in grid_only.duplicates]  # its own grid's still shown


def test_other_categories_far_away_or_old_events_are_not_duplicates():
    with freeze_time(timezone.now() - timedelta(hours=settings.DUPLICATE_WINDOW_HOURS + 1)):
        file_event()
    file_event(category="E0201")
    file_event(grid="99010200100103")
    lat, lon = point_in()
    result = services.event_file(actor=user("gw_nanhu1"), title="x", category="E0101", latitude=lat, longitude=lon)
    assert result.duplicates == []


def test_merging_links_duplicates_and_keeps_both_histories():
    primary = file_event()
    duplicate = file_event(title="同一处垃圾")
    merged = services.event_merge(actor=user("op_nanhu"), event_id=duplicate.pk, into_event_id=primary.pk)
    assert merged.state == State.MERGED
    assert merged.merged_into == primary
    assert [r.action for r in merged.records.order_by("seq")] == ["file", "merge"]
    assert [r.action for r in primary.records.order_by("seq")] == ["file", "absorb"]
    assert primary.records.get(action="absorb").data == {"duplicate": duplicate.code}
    assert verify_event_chain(primary.pk) is None and verify_event_chain(duplicate.pk) is None


def test_the_duplicates_are_the_true_nearest_ten_and_the_orms_search_agrees():
    """Fifteen open events around one spot, the farthest filed last: the ten nearest come back,
    nearest first, from the written-out statement and from the ORM's search (a scope with a join)."""
    lat, lon = point_in()
    filed = [
        services.event_file(
            actor=user("gw_nanhu1"),
            title=f"垃圾 {i}",
            category="E0101",
            latitude=lat + 0.00005 * (15 - i),
            longitude=lon,
        ).event
        for i in range(15)
    ]  # the i-th is (15 - i) × about 5.6 m north: the last filed is the nearest
    nearest_first = list(reversed([e.pk for e in filed]))[:10]
    search = {"category": filed[0].category, "latitude": lat, "longitude": lon, "at": timezone.now()}
    by_statement = likely_duplicates(**search, among=events_for_user(user("op_nanhu")))
    assert [d.event.pk for d in by_statement] == nearest_first
    assert [d.distance_m for d in by_statement] == sorted(d.distance_m for d in by_statement)
    joined = events_for_user(user("op_nanhu")).filter(grid__code="99010200100101")  # a join: the ORM's path
    assert "JOIN" in str(joined.query)
    by_queryset = likely_duplicates(**search, among=joined)
    assert [(d.event.pk, d.distance_m) for d in by_queryset] == [(d.event.pk, d.distance_m) for d in by_statement]
    assert by_statement[0].event.code == Event.objects.get(pk=nearest_first[0]).code
    assert likely_duplicates(**search, among=Event.objects.none()) == []
