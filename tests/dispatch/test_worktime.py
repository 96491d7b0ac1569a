"""The deadline arithmetic module on its own."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.calendar import BUILT_IN, OFFICIAL_YEARS, Calendar, calendar_for, invalidate
from dispatch.holidays import set_working_periods
from dispatch.models import BusinessCalendar, CalendarDay, WorkingPeriod
from dispatch.worktime import add_working_minutes, unknown_day_between, working_minutes_between

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


# --- overlapping working periods (issue 13, item 16)

OVERLAPPING = {0: ((time(8), time(12)), (time(10), time(14)))}  # Monday only


def test_overlapping_periods_count_each_minute_once():
    cal = Calendar("overlap", OVERLAPPING)
    monday = at(2026, 11, 30, 8)
    # 08:00–12:00 and 10:00–14:00 are 08:00–14:00: 360 minutes end at 14:00, not at 12:00.
    assert add_working_minutes(monday, 360, cal) == at(2026, 11, 30, 14)
    assert working_minutes_between(monday, at(2026, 11, 30, 14), cal) == 360
    assert cal.minutes_per_day == 360


@pytest.mark.django_db
def test_overlapping_rows_that_got_into_the_database_are_merged_when_loaded():
    default = BusinessCalendar.objects.get(org_unit__isnull=True)
    WorkingPeriod.objects.filter(calendar=default).delete()
    # bulk_create skips model validation, as raw SQL or an old database would.
    WorkingPeriod.objects.bulk_create(
        [WorkingPeriod(calendar=default, weekday=0, start=s, end=e) for s, e in OVERLAPPING[0]]
    )
    invalidate()
    cal = calendar_for(None)
    assert cal.periods[0] == ((time(8), time(14)),)
    assert add_working_minutes(at(2026, 11, 30, 8), 360, cal) == at(2026, 11, 30, 14)


@pytest.mark.django_db
def test_saving_an_overlapping_period_is_refused_beside_its_start():
    default = BusinessCalendar.objects.get(org_unit__isnull=True)
    monday_morning = WorkingPeriod.objects.get(calendar=default, weekday=0, start=time(8, 30))
    overlapping = WorkingPeriod(calendar=default, weekday=0, start=time(10), end=time(14))
    with pytest.raises(ValidationError) as refused:
        overlapping.full_clean()
    assert "08:30–12:00" in refused.value.message_dict["start"][0]
    # Touching is not overlapping; another weekday is another day; editing a period does not clash with itself.
    WorkingPeriod(calendar=default, weekday=0, start=time(12), end=time(13, 30)).full_clean()
    WorkingPeriod(calendar=default, weekday=5, start=time(10), end=time(14)).full_clean()
    monday_morning.start, monday_morning.end = time(8), time(12, 30)
    monday_morning.full_clean()
    monday_morning.start, monday_morning.end = time(13), time(14)  # into the afternoon's 13:30–17:30
    with pytest.raises(ValidationError, match="13:30–17:30"):
        monday_morning.full_clean()


@pytest.mark.django_db
def test_replacing_working_periods_refuses_overlaps_and_changes_nothing():
    default = BusinessCalendar.objects.get(org_unit__isnull=True)
    before = list(WorkingPeriod.objects.filter(calendar=default).values_list("weekday", "start", "end"))
    with pytest.raises(ValidationError, match="Monday 10:00–14:00 overlaps 08:00–12:00"):
        set_working_periods(default, [(0, time(8), time(12)), (0, time(10), time(14)), (1, time(8), time(12))])
    assert list(WorkingPeriod.objects.filter(calendar=default).values_list("weekday", "start", "end")) == before
    set_working_periods(default, [(0, time(8), time(12)), (0, time(12), time(14))])
    assert calendar_for(None).periods == {0: ((time(8), time(14)),)}


# --- days the calendar does not know (issue 13, item 17)


def test_a_deadline_over_a_year_chinese_calendar_does_not_ship_is_flagged():
    assert max(OFFICIAL_YEARS) == 2026  # chinese-calendar 1.11.0; a newer one moves these dates
    start = at(2026, 12, 31, 17)
    due = add_working_minutes(start, 60, BUILT_IN)
    assert due == at(2027, 1, 1, 9)  # 元旦 2027 assumed a working day: the weekly pattern is all it has
    assert unknown_day_between(start, due, BUILT_IN, working=True) == date(2027, 1, 1)
    assert unknown_day_between(start, at(2026, 12, 31, 17, 30), BUILT_IN, working=True) is None
    assert unknown_day_between(start, due, BUILT_IN, working=False) is None  # natural time needs no calendar
    assert BUILT_IN.known_through(date(2026, 12, 1)) == date(2026, 12, 31)


def test_a_year_with_days_entered_counts_as_known():
    cal = Calendar("x", BUILT_IN.periods, {date(2027, 1, 1): False, date(2027, 2, 20): True})
    start = at(2026, 12, 31, 17)
    assert unknown_day_between(start, add_working_minutes(start, 60, cal), cal, working=True) is None
    assert cal.known_through(date(2026, 12, 1)) == date(2027, 12, 31)
    # 2028 is not entered: a deadline reaching into it is flagged from its first day.
    assert cal.first_unknown_day(date(2027, 6, 1), date(2028, 3, 1)) == date(2028, 1, 1)


@pytest.mark.django_db
def test_a_holiday_entered_after_a_deadline_over_that_day_moves_the_next_deadline():
    """Each day's periods are kept per loaded calendar (`merged_periods_on`): an edit must not
    leave the day's old hours in use."""
    start = at(2026, 12, 1, 16)  # Tuesday 16:00; Wednesday 2 December an ordinary working day
    assert add_working_minutes(start, 4 * HOURS, calendar_for(None)) == at(2026, 12, 2, 11, 0)
    default = BusinessCalendar.objects.get(org_unit__isnull=True)
    CalendarDay.objects.create(calendar=default, date=date(2026, 12, 2), is_working=False)
    assert add_working_minutes(start, 4 * HOURS, calendar_for(None)) == at(2026, 12, 3, 11, 0)
