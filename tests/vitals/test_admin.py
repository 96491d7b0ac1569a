"""The vital-signs admin: configuration editable, warnings read-only, sensors and warnings scoped for staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.vitals.conftest import NANHU_GRID1, XILING, make_sensor, series
from vitals.models import VitalWarning

pytestmark = pytest.mark.django_db


def test_the_admin_pages_open_and_warnings_cannot_be_edited(client, persona, depth, post_readings):
    make_sensor("wl-1", depth)
    post_readings(series("wl-1", "12 12 12"))
    warning = VitalWarning.objects.get()
    client.force_login(persona("admin"))
    for url in ("indicator", "sensor", "vitalwarning", "inhibition", "silence"):
        assert client.get(f"/admin/vitals/{url}/").status_code == 200, url
    assert client.get(f"/admin/vitals/indicator/{depth.pk}/change/").status_code == 200
    page = client.get(f"/admin/vitals/vitalwarning/{warning.pk}/change/")
    assert page.status_code == 200 and b'name="state"' not in page.content  # read-only
    assert client.get("/admin/vitals/vitalwarning/add/").status_code == 403


def test_staff_see_the_sensors_and_warnings_of_their_jurisdiction_only(client, persona, depth, post_readings):
    make_sensor("wl-nanhu", depth, NANHU_GRID1)
    make_sensor("wl-xiling", depth, XILING)
    post_readings(series("wl-nanhu", "12 12 12") + series("wl-xiling", "12 12 12"))
    staff = persona("op_hexi")
    staff.is_staff = True
    staff.save()
    for model in ("sensor", "vitalwarning"):
        staff.user_permissions.add(Permission.objects.get(content_type__app_label="vitals", codename=f"view_{model}"))
    client.force_login(staff)
    sensors = client.get("/admin/vitals/sensor/").content.decode()
    assert "wl-xiling" in sensors and "wl-nanhu" not in sensors
    nanhu = VitalWarning.objects.get(sensor__code="wl-nanhu")
    assert client.get(f"/admin/vitals/vitalwarning/{nanhu.pk}/change/").status_code in (302, 404)
