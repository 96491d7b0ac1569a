"""The deadline arithmetic module on its own."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.calendar import BUILT_IN, Calendar, calendar_for
from dispatch.models import BusinessCalendar, CalendarDay, WorkingPeriod
from dispatch.worktime import add_working_minutes, working_minutes_between

SH = ZoneInfo("Asia/Shanghai")
HOURS = 60


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_four_hours_from_friday_16_00_before_a_public_holiday():
    # Fri 3 April 2026 16:00: 1.5 h left that day; Sat–Mon are 清明 holidays; 2.5 h more on Tuesday.
    assert add_working_minutes(at(2026, 4, 3, 16), 4 * HOURS, BUILT_IN) == at(2026, 4, 7, 11, 0)


def test_a_make_up_saturday_counts_as_a_working_day():
    # Fri 9 October 2026 16:00; Sat 10 October is a 调休 working day with standard hours.
    assert add_working_minutes(at(2026, 10, 9, 16), 4 * HOURS, BUILT_IN) == at(2026, 10, 10, 11, 0)


def test_lunch_break_and_evening_do_not_count():
    assert add_working_minutes(at(2026, 11, 25, 11), 2 * HOURS, BUILT_IN) == at(2026, 11, 25, 14, 30)
    assert add_working_minutes(at(2026, 11, 25, 20), 30, BUILT_IN) == at(2026, 11, 26, 9, 0)
    assert add_working_minutes(at(2026, 11, 25, 12, 10), 1, BUILT_IN) == at(2026, 11, 25, 13, 31)


def test_an_exact_period_end_is_the_due_time():
    assert add_working_minutes(at(2026, 11, 25, 8, 30), 210, BUILT_IN) == at(2026, 11, 25, 12, 0)


def test_minutes_between_skips_nights_weekends_and_holidays():
    assert working_minutes_between(at(2026, 4, 3, 16), at(2026, 4, 7, 11), BUILT_IN) == 4 * HOURS
    assert working_minutes_between(at(2026, 11, 27, 17), at(2026, 11, 30, 9), BUILT_IN) == 60  # Fri 17:00 → Mon 09:00
    assert working_minutes_between(at(2026, 11, 25, 12), at(2026, 11, 25, 13, 30), BUILT_IN) == 0
    assert working_minutes_between(at(2026, 11, 25, 14), at(2026, 11, 25, 13), BUILT_IN) == 0


def test_years_chinese_calendar_does_not_know_follow_the_week_and_hand_entered_days():
    cal = Calendar("x", BUILT_IN.periods, {date(2027, 1, 1): False, date(2027, 1, 2): True})
    # Thu 31 Dec 2026 17:00 + 1 h: Fri 1 Jan 2027 is entered as a holiday, Sat 2 Jan as a working day.
    assert add_working_minutes(at(2026, 12, 31, 17), 60, cal) == at(2027, 1, 2, 9, 0)
    # Without the entries, 2027 falls back to Monday–Friday.
    assert add_working_minutes(at(2026, 12, 31, 17), 60, BUILT_IN) == at(2027, 1, 1, 9, 0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_minutes(datetime(2026, 1, 5, 9), 10, BUILT_IN)


def test_a_calendar_without_working_time_is_an_error():
    with pytest.raises(ValueError, match="too little working time"):
        add_working_minutes(at(2026, 1, 5), 60, Calendar("none", {}, {}))


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(SH)),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 20),
)
def test_adding_then_measuring_gives_the_minutes_back(start, minutes):
    due = add_working_minutes(start, minutes, BUILT_IN)
    assert due > start
    assert working_minutes_between(start, due, BUILT_IN) == pytest.approx(minutes)
    # The due instant is inside working time (or at the end of a period).
    local = due.astimezone(SH)
    assert any(s <= local.time() <= e for s, e in BUILT_IN.periods_on(local.date()))


# --- calendars in the database


@pytest.mark.django_db
def test_the_demo_calendar_is_seeded_from_chinese_calendar():
    cal = calendar_for(None)
    assert cal.is_working_day(date(2026, 10, 10))  # 调休 Saturday
    assert not cal.is_working_day(date(2026, 10, 1))
    assert CalendarDay.objects.filter(date=date(2026, 10, 10), is_working=True).exists()


@pytest.mark.django_db
def test_an_edit_in_the_admin_applies_at_once(login):
    day = date(2026, 12, 2)  # an ordinary Wednesday
    assert calendar_for(None).is_working_day(day)
    default = BusinessCalendar.objects.get(org_unit__isnull=True)
    client = login("admin")
    response = client.post(
        "/admin/dispatch/calendarday/add/",
        {"calendar": default.pk, "date": "2026-12-02", "is_working": "", "note": "台风停工"},
    )
    assert response.status_code == 302
    assert not calendar_for(None).is_working_day(day)


@pytest.mark.django_db
def test_an_org_unit_may_override_the_city_calendar():
    from accounts.models import OrgUnit

    district = OrgUnit.objects.get(code="990104")
    own = BusinessCalendar.objects.create(name="新港区港区作息", org_unit=district)
    for weekday in range(7):  # the port works every day, 07:00–19:00
        WorkingPeriod.objects.create(calendar=own, weekday=weekday, start=time(7), end=time(19))
    port = calendar_for(OrgUnit.objects.get(code="99010400100101"))
    city = calendar_for(OrgUnit.objects.get(code="99010200100101"))
    assert (port.name, city.name) == ("新港区港区作息", "示范市工作日历")
    saturday = at(2026, 11, 28, 18, 30)
    assert add_working_minutes(saturday, 60, port) == at(2026, 11, 29, 7, 30)
    assert add_working_minutes(saturday, 60, city) == at(2026, 11, 30, 9, 30)
