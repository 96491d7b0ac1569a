"""Photos chosen on the intake form are kept across a form error and attached when it files."""

from __future__ import annotations

import os
import time

import pytest
from django.test import override_settings

from dispatch.models import RoutingRule
from incidents.models import Category, Event
from interfaces.web import photo_stash
from tests.factories import GRID, file_event, png, point_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def _data(**overrides) -> dict:
    lat, lon = point_in(GRID)
    data = {
        "category": Category.objects.get(code="E0101").pk,
        "title": "路口垃圾堆积",
        "latitude": f"{lat:.6f}",
        "longitude": f"{lon:.6f}",
        "source": "grid_worker",
    }
    data.update(overrides)
    return data


def test_a_missing_location_keeps_the_photo_and_the_next_try_attaches_it(login):
    gw = login("gw_nanhu1")
    first = gw.post("/report/", _data(latitude="", longitude="", photos=[png("before.png")]))
    assert first.status_code == 200 and "latitude" in first.context["form"].errors
    kept = first.context["stashed"]
    assert [k.name for k in kept] == ["before.png"]
    thumb = gw.get(f"/report/stash/{kept[0].token}")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png"
    assert f'value="{kept[0].token}"' in first.content.decode()
    second = gw.post("/report/", _data(stashed=[kept[0].token]))
    assert second.status_code == 302
    event = Event.objects.latest("id")
    assert event.attachments.count() == 1
    assert gw.get(f"/report/stash/{kept[0].token}").status_code == 404  # gone once filed


def test_a_duplicate_warning_keeps_the_photos(login):
    file_event()
    gw = login("gw_nanhu1")
    first = gw.post("/report/", _data(photos=[png("a.png"), png("b.png", color="red")]))
    assert "file_anyway" in first.context["form"].errors
    tokens = [k.token for k in first.context["stashed"]]
    assert len(tokens) == 2
    # The user unticks one and files anyway.
    assert gw.post("/report/", _data(stashed=tokens[:1], file_anyway="on")).status_code == 302
    assert Event.objects.latest("id").attachments.count() == 1


@override_settings(PHOTO_MAX_BYTES=2000)
def test_a_too_large_file_is_named_and_the_good_one_kept(login):
    from tests.factories import png as make

    big = make("big.png", size=(400, 400), color="blue")
    big.file.write(os.urandom(5000))  # over the limit
    big.file.seek(0)
    gw = login("gw_nanhu1")
    response = gw.post("/report/", _data(photos=[make("small.png"), big]))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["photos"])
    assert "big.png" in errors
    assert [k.name for k in response.context["stashed"]] == ["small.png"]


def test_a_stash_token_is_the_choosers_only(login, client):
    gw = login("gw_nanhu1")
    token = gw.post("/report/", _data(title="", photos=[png()])).context["stashed"][0].token
    client.logout()
    other = login("op_nanhu")
    assert other.get(f"/report/stash/{token}").status_code == 404
    # And a forged one.
    assert other.get("/report/stash/not-a-token").status_code == 404


def test_old_stashed_files_are_cleaned():
    folder = photo_stash._folder()
    old = folder / "old.png"
    old.write_bytes(b"x")
    past = time.time() - photo_stash.STASH_MAX_AGE - 60
    os.utime(old, (past, past))
    assert photo_stash.clean_stash() >= 1
    assert not old.exists()
