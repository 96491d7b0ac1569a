"""Clocks driven by the lifecycle, under frozen time; the sweep; recompute."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from freezegun import freeze_time

from core.errors import Conflict
from dispatch.models import Light, Notification, RoutingRule, SlaClock, SlaPolicy
from dispatch.sla import apply_extension
from incidents.models import Event
from operations import services
from operations.outbox import deliver_pending
from operations.sweep import sweep
from tests.factories import dept, file_event, png, user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def clock(event, step) -> SlaClock:
    return SlaClock.objects.filter(event=event, step=step).latest("id")


def accepted_at(moment, **kwargs) -> Event:
    with freeze_time(moment):
        event = file_event(**kwargs)
        services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))
        return services.event_accept(actor=user("hd_nanhu_huanwei"), event_id=event.pk)


def test_filing_starts_dispatch_and_overall_clocks():
    with freeze_time(at(2026, 11, 25, 10)):
        event = file_event()
    dispatch_clock = clock(event, "dispatch")
    assert dispatch_clock.due_at == at(2026, 11, 25, 10, 30)  # 30 natural minutes
    assert dispatch_clock.working_time is False
    overall = clock(event, "overall")
    assert overall.due_at == at(2026, 12, 2, 10)  # 5 working days of 7.5 h
    event.refresh_from_db()
    assert event.due_at == dispatch_clock.due_at and event.light == Light.GREEN


def test_urgent_events_must_be_dispatched_within_ten_minutes():
    with freeze_time(at(2026, 11, 25, 10)):
        event = file_event(urgency=2)
    assert clock(event, "dispatch").due_at == at(2026, 11, 25, 10, 10)


def test_exposed_garbage_is_handled_within_four_working_hours_from_acceptance():
    event = accepted_at(at(2026, 4, 3, 16))  # Friday before 清明
    handle = clock(event, "handle")
    assert (handle.due_at, handle.original_due_at) == (at(2026, 4, 7, 11), at(2026, 4, 7, 11))
    assert clock(event, "accept").stopped_at is not None


def test_road_cleaning_has_two_hours_and_other_categories_fall_back_to_their_class():
    cleaning = accepted_at(at(2026, 11, 25, 9), category="E0103")
    assert clock(cleaning, "handle").due_at == at(2026, 11, 25, 11)
    burning = accepted_at(at(2026, 11, 25, 9), category="E0106")  # E01 class: 1 working day
    assert clock(burning, "handle").due_at == at(2026, 11, 26, 9)


def test_two_hours_of_suspension_move_the_due_time_by_two_working_hours():
    event = accepted_at(at(2026, 11, 25, 9))
    assert clock(event, "handle").due_at == at(2026, 11, 25, 14, 30)
    with freeze_time(at(2026, 11, 25, 9, 30)):
        request = services.suspension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="等待封路许可")
        services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=True)
    paused = clock(event, "handle")
    assert paused.paused_at == at(2026, 11, 25, 9, 30) and paused.next_check_at is None
    with freeze_time(at(2026, 11, 25, 11, 30)):
        services.event_resume(actor=user("hd_nanhu_huanwei"), event_id=event.pk)
    resumed = clock(event, "handle")
    assert resumed.due_at == at(2026, 11, 25, 16, 30)
    assert resumed.original_due_at == at(2026, 11, 25, 14, 30)
    assert resumed.paused_minutes == 120
    [pause] = resumed.pauses
    assert datetime.fromisoformat(pause["from"]) == at(2026, 11, 25, 9, 30)
    assert datetime.fromisoformat(pause["to"]) == at(2026, 11, 25, 11, 30)


def test_an_approved_extension_moves_the_due_time_and_keeps_the_original():
    event = accepted_at(at(2026, 11, 25, 9))
    with freeze_time(at(2026, 11, 25, 10)):
        request = services.extension_request(
            actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=3, reason="需要吊车"
        )
        services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=True)
    handle = clock(event, "handle")
    assert handle.due_at == at(2026, 11, 25, 17, 30)
    assert handle.original_due_at == at(2026, 11, 25, 14, 30)
    record = Event.objects.get(pk=event.pk).records.get(action="extension_approve")
    assert datetime.fromisoformat(record.data["moved"]["handle"]["to"]) == at(2026, 11, 25, 17, 30)


def test_extensions_must_be_asked_for_before_the_deadline():
    event = accepted_at(at(2026, 11, 25, 9))
    with freeze_time(at(2026, 11, 25, 15)), pytest.raises(Conflict, match="deadline passed"):
        services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=3, reason="晚了")


def test_yellow_and_red_each_fire_exactly_once():
    event = accepted_at(at(2026, 11, 25, 9))  # handle due 14:30, yellow at 80% = 3.2 h → 13:42
    handle = clock(event, "handle")
    assert handle.yellow_at == at(2026, 11, 25, 13, 42)
    with freeze_time(at(2026, 11, 25, 13, 41)):
        assert sweep().yellow == 0
    with freeze_time(at(2026, 11, 25, 13, 43)):
        first = sweep()
        again = sweep()
    assert (first.yellow, first.red, again.checked) == (1, 0, 0)
    assert Event.objects.get(pk=event.pk).light == Light.YELLOW
    with freeze_time(at(2026, 11, 25, 14, 31)):
        first = sweep()
        again = sweep()
    assert (first.red, again.checked) == (1, 0)
    handle = clock(event, "handle")
    assert (handle.light, handle.breached_at, handle.next_check_at) == (Light.RED, at(2026, 11, 25, 14, 30), None)
    assert Event.objects.get(pk=event.pk).light == Light.RED
    deliver_pending()
    deliver_pending()
    kinds = list(
        Notification.objects.filter(event=event, kind__startswith="sla.").values_list("user__username", "kind")
    )
    for username in ("hd_nanhu_huanwei", "op_nanhu", "sup_nanhu"):
        assert kinds.count((username, "sla.yellow")) == 1, kinds
        assert kinds.count((username, "sla.red")) == 1, kinds


def test_a_sweep_long_after_both_thresholds_fires_red_only():
    event = accepted_at(at(2026, 11, 25, 9))
    with freeze_time(at(2026, 11, 26, 9)):
        result = sweep()
    assert (result.yellow, result.red) == (1, 1)
    deliver_pending()
    assert not Notification.objects.filter(event=event, kind="sla.yellow").exists()
    assert Notification.objects.filter(event=event, kind="sla.red").exists()


def test_an_undispatched_event_escalates_by_itself_once():
    with freeze_time(at(2026, 11, 25, 10)):
        event = file_event()
    with freeze_time(at(2026, 11, 25, 10, 31)):
        result = sweep()
        assert sweep().escalated == 0
    assert result.escalated == 1
    event = Event.objects.get(pk=event.pk)
    assert event.owner_unit.code == "990102"
    rec = event.records.get(action="escalate")
    assert rec.actor is None and rec.actor_role == "system"
    # The district gets its own 30 minutes; then the city.
    assert clock(event, "dispatch").due_at == at(2026, 11, 25, 11, 1)
    with freeze_time(at(2026, 11, 25, 11, 2)):
        sweep()
    assert Event.objects.get(pk=event.pk).owner_unit.code == "990100"


def test_a_dispatched_event_is_not_escalated():
    with freeze_time(at(2026, 11, 25, 10)):
        event = file_event()
        services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))
    with freeze_time(at(2026, 11, 25, 12)):
        assert sweep().escalated == 0


def test_stopped_clocks_record_breaches_and_the_closed_loop_stops_everything():
    event = accepted_at(at(2026, 11, 25, 9))
    with freeze_time(at(2026, 11, 25, 16)):
        services.event_submit_result(actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="已清理", photos=[png()])
        services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=True)
        services.event_close(actor=user("op_nanhu"), event_id=event.pk)
    handle = clock(event, "handle")
    assert handle.breached_at == at(2026, 11, 25, 14, 30) and handle.light == Light.RED
    assert not SlaClock.objects.filter(event=event, stopped_at__isnull=True).exists()
    assert Event.objects.get(pk=event.pk).due_at is None


def test_recompute_moves_open_deadlines_after_a_policy_change(capsys):
    event = accepted_at(at(2026, 11, 25, 9))
    policy = SlaPolicy.objects.get(category__code="E0101", step="handle")
    policy.limit = Decimal("2")
    policy.save()
    with freeze_time(at(2026, 11, 25, 9, 30)):
        call_command("sla_recompute", "--dry-run")
        assert clock(event, "handle").due_at == at(2026, 11, 25, 14, 30)
        call_command("sla_recompute")
    out = capsys.readouterr().out
    assert f"{event.code} handle: 2026-11-25 14:30 → 2026-11-25 11:00" in out
    assert "1 deadlines moved" in out
    handle = clock(event, "handle")
    assert (handle.due_at, handle.original_due_at) == (at(2026, 11, 25, 11), at(2026, 11, 25, 11))
    assert Event.objects.get(pk=event.pk).due_at == at(2026, 11, 25, 11)


def test_a_return_restarts_the_dispatch_clock():
    event = accepted_at(at(2026, 11, 25, 9))
    with freeze_time(at(2026, 11, 25, 9, 10)):
        services.event_return(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="不是我们的")
    running = set(SlaClock.objects.filter(event=event, stopped_at__isnull=True).values_list("step", flat=True))
    assert running == {"dispatch", "overall"}
    assert clock(event, "dispatch").due_at == at(2026, 11, 25, 9, 40)


def test_sweep_only_reads_due_clocks(django_assert_max_num_queries):
    with freeze_time(at(2026, 11, 25, 9)):
        events = [file_event() for _ in range(5)]
    clock(events[0], "dispatch")
    with freeze_time(at(2026, 11, 25, 9) + timedelta(minutes=25)), django_assert_max_num_queries(5 * 14 + 1):
        result = sweep()
    assert result.yellow == 5


# --- deadlines over days the calendar does not know (issue 13, item 17)

HOLIDAYS_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n"


def test_a_deadline_running_into_a_year_the_calendar_does_not_know_is_flagged_until_it_is_entered(
    tmp_path, caplog, capsys, login
):
    # Friday 25 December 2026: five working days of the overall limit end on 1 January 2027,
    # which chinese-calendar 1.11.0 does not know: Monday–Friday is assumed and 元旦 counts as work.
    with freeze_time(at(2026, 12, 25, 10)), caplog.at_level("WARNING", logger="dispatch.sla"):
        event = file_event()
    overall, dispatch = clock(event, "overall"), clock(event, "dispatch")
    assert overall.due_at == at(2027, 1, 1, 10)
    assert (overall.calendar_unknown, dispatch.calendar_unknown) == (True, False)
    assert "does not know from 2027-01-01" in caplog.text and event.code not in caplog.text  # ids, not contacts

    # The event page's time limits and the API's clocks say so.
    page = login("op_nanhu").get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "calendar does not know yet" in page.content.decode()
    clocks = {c["step"]: c for c in api_as("op_nanhu").get(f"/api/v1/events/{event.code}").json()["clocks"]}
    assert (clocks["overall"]["calendar_unknown"], clocks["dispatch"]["calendar_unknown"]) == (True, False)

    # The admin enters 2027's holiday; recompute moves the deadline past it and clears the flag.
    holidays = tmp_path / "holidays-2027.csv"
    holidays.write_text(HOLIDAYS_2027, encoding="utf-8")
    with freeze_time(at(2026, 12, 28, 9)):
        call_command("calendar_import", str(holidays))
        call_command("sla_recompute")
    overall = clock(event, "overall")
    assert (overall.due_at, overall.calendar_unknown) == (at(2027, 1, 4, 10), False)
    assert f"{event.code} overall: 2027-01-01 10:00 → 2027-01-04 10:00" in capsys.readouterr().out


def test_an_extension_into_an_unknown_year_flags_the_clock():
    event = accepted_at(at(2026, 12, 31, 9))  # E0101: four working hours, due 14:30 the same day
    handle = clock(event, "handle")
    assert (handle.due_at, handle.calendar_unknown) == (at(2026, 12, 31, 14, 30), False)
    with freeze_time(at(2026, 12, 31, 10)):
        apply_extension(event, hours=8, at=at(2026, 12, 31, 10))
    handle = clock(event, "handle")
    assert handle.due_at == at(2027, 1, 1, 15) and handle.calendar_unknown  # 元旦 counted as work


def api_as(username: str):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user(username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- #13 item 3: a recorded breach is never erased


def test_an_extension_cannot_be_asked_for_after_the_overall_deadline():
    """The handling clock may still run, but the overall one it would also move has passed."""
    event = accepted_at(at(2026, 11, 25, 9))
    overall = clock(event, "overall")
    handle = clock(event, "handle")
    # Make the overall limit the first to pass (a long handling step, a short overall limit).
    SlaClock.objects.filter(pk=handle.pk).update(due_at=at(2026, 11, 30, 9))
    SlaClock.objects.filter(pk=overall.pk).update(due_at=at(2026, 11, 25, 12))
    with freeze_time(at(2026, 11, 25, 13)), pytest.raises(Conflict, match="deadline passed"):
        services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=3, reason="晚了")


def test_a_suspension_cannot_be_asked_for_after_the_deadline():
    event = accepted_at(at(2026, 11, 25, 9))  # handle due 14:30
    with freeze_time(at(2026, 11, 25, 15)), pytest.raises(Conflict, match="deadline passed"):
        services.suspension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="来不及了")
    assert not Event.objects.get(pk=event.pk).requests.exists()


def test_an_extension_approved_after_the_deadline_does_not_make_a_late_event_on_time():
    event = accepted_at(at(2026, 11, 25, 9))  # handle due 14:30
    with freeze_time(at(2026, 11, 25, 14)):
        request = services.extension_request(actor=user("hd_nanhu_huanwei"), event_id=event.pk, hours=8, reason="x")
    # Decided after the deadline, before any sweep noticed the breach.
    with freeze_time(at(2026, 11, 25, 15)):
        services.request_decide(actor=user("sup_nanhu"), request_id=request.pk, approve=True)
    handle = clock(event, "handle")
    assert handle.breached_at == at(2026, 11, 25, 14, 30)
    assert handle.due_at > at(2026, 11, 25, 15) and handle.light == Light.RED
    assert Event.objects.get(pk=event.pk).light == Light.RED
    with freeze_time(at(2026, 11, 25, 15, 1)):
        assert sweep().red == 1  # the breach is announced once…
    with freeze_time(at(2026, 11, 26, 17)):
        assert sweep().red == 0  # …and not again at the new deadline
        services.event_submit_result(actor=user("hd_nanhu_huanwei"), event_id=event.pk, note="已清理", photos=[png()])
        services.event_verify(actor=user("gw_nanhu1"), event_id=event.pk, passed=True)
        services.event_close(actor=user("op_nanhu"), event_id=event.pk)
    assert clock(event, "handle").breached_at == at(2026, 11, 25, 14, 30)


def test_recompute_keeps_a_recorded_breach():
    event = accepted_at(at(2026, 11, 25, 9))
    with freeze_time(at(2026, 11, 25, 15)):
        sweep()
    policy = SlaPolicy.objects.get(category__code="E0101", step="handle")
    policy.limit = Decimal("40")
    policy.save()
    with freeze_time(at(2026, 11, 25, 15, 30)):
        call_command("sla_recompute")
    handle = clock(event, "handle")
    assert handle.due_at > at(2026, 11, 25, 15, 30)
    assert handle.breached_at == at(2026, 11, 25, 14, 30) and handle.red_notified and handle.light == Light.RED
