"""Test helpers: photos made on the fly, points inside demo grids, events at a given stage."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from shapely.geometry import shape

from accounts.models import Department, OrgUnit, User
from incidents.models import Event
from operations import services

GRID = "99010200100101"  # 南湖一村社区第1网格, 南湖街道, 江南区


def png(name: str = "photo.png", size: tuple[int, int] = (32, 24), color: str = "green") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def jpeg(name: str = "photo.jpg", exif: bytes | None = None) -> SimpleUploadedFile:
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    Image.new("RGB", (40, 30), "blue").save(buf, "JPEG", **kwargs)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def point_in(code: str = GRID) -> tuple[float, float]:
    """(latitude, longitude) of a point well inside the unit."""
    centroid = shape(OrgUnit.objects.get(code=code).boundary).centroid
    return centroid.y, centroid.x


def user(username: str) -> User:
    return User.objects.get(username=username)


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def file_event(reporter: str = "gw_nanhu1", grid: str = GRID, category: str = "E0101", **kwargs) -> Event:
    lat, lon = point_in(grid)
    kwargs.setdefault("title", "暴露垃圾")
    return services.event_file(actor=user(reporter), category=category, latitude=lat, longitude=lon, **kwargs).event


def dispatched_event(**kwargs) -> Event:
    event = file_event(**kwargs)
    return services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))


def accepted_event(**kwargs) -> Event:
    event = dispatched_event(**kwargs)
    return services.event_accept(actor=user("hd_nanhu_huanwei"), event_id=event.pk)


def handled_event(**kwargs) -> Event:
    event = accepted_event(**kwargs)
    return services.event_submit_result(
        actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="已清理", photos=[png("after.png")]
    )


def verified_event(**kwargs) -> Event:
    event = handled_event(**kwargs)
    return services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=True)


def closed_event(**kwargs) -> Event:
    event = verified_event(**kwargs)
    return services.event_close(actor=user("op_nanhu"), event_id=event.pk)
