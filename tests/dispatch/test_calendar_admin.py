"""The calendar admin: overlapping working periods refused beside the field; missing holidays shown."""

from datetime import time

import pytest
from freezegun import freeze_time

from accounts.models import OrgUnit
from dispatch.calendar import calendar_for
from dispatch.models import BusinessCalendar, WorkingPeriod

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client, settings):
    """Pages in English, so the assertions can quote the messages (the default is Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def port():
    """A district calendar with one period (Monday 08:00–12:00) and no days of its own."""
    calendar = BusinessCalendar.objects.create(name="港区作息", org_unit=OrgUnit.objects.get(code="990104"))
    WorkingPeriod.objects.create(calendar=calendar, weekday=0, start=time(8), end=time(12))
    return calendar


def change_data(calendar: BusinessCalendar, periods: list[tuple]) -> dict:
    """The change form as the browser posts it: `periods` are (id or None, weekday, start, end)."""
    data = {
        "name": calendar.name,
        "org_unit": calendar.org_unit_id,
        "periods-TOTAL_FORMS": len(periods),
        "periods-INITIAL_FORMS": sum(1 for p in periods if p[0]),
        "periods-MIN_NUM_FORMS": 0,
        "periods-MAX_NUM_FORMS": 1000,
        "days-TOTAL_FORMS": 0,
        "days-INITIAL_FORMS": 0,
        "days-MIN_NUM_FORMS": 0,
        "days-MAX_NUM_FORMS": 1000,
    }
    for i, (pk, weekday, start, end) in enumerate(periods):
        data |= {
            f"periods-{i}-id": pk or "",
            f"periods-{i}-calendar": calendar.pk,
            f"periods-{i}-weekday": weekday,
            f"periods-{i}-start": start,
            f"periods-{i}-end": end,
        }
    return data


def saved(calendar) -> list:
    return list(calendar.periods.order_by("weekday", "start").values_list("weekday", "start", "end"))


def period_errors(response) -> list[dict]:
    (periods,) = [f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "periods"]
    return periods.formset.errors


def test_an_overlapping_period_is_refused_beside_its_start(login, port):
    morning = port.periods.get()
    response = login("admin").post(
        f"/admin/dispatch/businesscalendar/{port.pk}/change/",
        change_data(port, [(morning.pk, 0, "08:00", "12:00"), (None, 0, "10:00", "14:00")]),
    )
    assert response.status_code == 200
    errors = period_errors(response)
    assert errors[0] == {}
    assert "Overlaps the working period 08:00–12:00" in errors[1]["start"][0]
    assert "Overlaps the working period 08:00–12:00" in response.content.decode()
    assert saved(port) == [(0, time(8), time(12))]


def test_two_new_periods_that_overlap_each_other_are_refused(login, port):
    response = login("admin").post(
        f"/admin/dispatch/businesscalendar/{port.pk}/change/",
        change_data(port, [(port.periods.get().pk, 1, "08:00", "09:00"), (None, 2, "13:00", "17:00"),
                           (None, 2, "16:00", "18:00")]),
    )  # fmt: skip
    assert response.status_code == 200
    assert "13:00–17:00" in period_errors(response)[2]["start"][0]
    assert saved(port) == [(0, time(8), time(12))]


def test_periods_moved_in_one_save_are_checked_against_each_other_not_the_old_rows(login, port):
    morning = port.periods.get()
    # Shortening the morning to 10:00 and adding 10:00–14:00: the saved 08:00–12:00 is no obstacle.
    response = login("admin").post(
        f"/admin/dispatch/businesscalendar/{port.pk}/change/",
        change_data(port, [(morning.pk, 0, "08:00", "10:00"), (None, 0, "10:00", "14:00")]),
    )
    assert response.status_code == 302, period_errors(response)
    assert saved(port) == [(0, time(8), time(10)), (0, time(10), time(14))]
    assert calendar_for(port.org_unit).periods[0] == ((time(8), time(14)),)


@pytest.mark.parametrize(
    ("today", "warned"),
    [("2026-09-30 12:00:00+08:00", False), ("2026-10-01 09:00:00+08:00", True), ("2026-12-01 09:00:00+08:00", True)],
)
def test_from_1_october_the_admin_shows_next_years_holidays_are_missing(login, today, warned):
    with freeze_time(today):
        client = login("admin")
        listing = client.get("/admin/dispatch/businesscalendar/").content.decode()
        home = client.get("/admin/").content.decode()
    message = "knows public holidays and make-up days only through 2026-12-31"
    assert (message in listing, message in home) == (warned, warned)
    assert ("⚠ 2026-12-31" in listing) == warned
    # The message's markup is ours; the calendar's name is escaped.
    assert ("<code>python manage.py calendar_import FILE</code>" in home) == warned


def test_the_admin_points_at_running_deadlines_computed_over_unknown_days(login):
    from tests.factories import file_event

    with freeze_time("2026-12-25 10:00:00+08:00"):
        file_event()  # the overall limit ends on 1 January 2027
        home = login("admin").get("/admin/").content.decode()
    assert "1 running deadline was computed over days its calendar does not know" in home
    assert "calendar_unknown__exact=1" in home


def test_people_who_do_not_keep_calendars_see_no_calendar_warning_on_the_admin_home(login, persona):
    staff = persona("op_nanhu")
    staff.is_staff = True
    staff.save()
    with freeze_time("2026-12-01 09:00:00+08:00"):
        home = login("op_nanhu").get("/admin/")
    assert home.status_code == 200
    assert "only through 2026-12-31" not in home.content.decode()
