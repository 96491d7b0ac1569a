"""Roll-up == live (#15 item 5): random histories driven through the real services, reports read
from the daily roll-ups and from the live computation, compared field by field.

Each example files a few events on random days and streets and tries a random sequence of the
lifecycle's operations on each (dispatch, accept, return, redispatch, extension, suspension and
resume, urge, result, failed and passed verification, close early or late, reopen, invalidate,
merge); an operation the state does not allow is refused and simply not in the history. Then some
days are rolled up, more operations happen after that (marked days), time moves on past deadlines
nobody swept (the came-due correction), the sweep runs, everything is rebuilt; at each point every
indicator of every grouping (total, region, department, dispatcher, grid worker), the department
ranking rows and the monthly trend must be the same from both sources.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Department, OrgUnit, Role, User
from accounts.services import membership_grant
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from dispatch import rollups
from dispatch.figures import HISTOGRAM_EDGES, Row, histogram_p90_minutes
from dispatch.models import DailyRollup, MonthlyRollup, RollupDay, RollupMark, RoutingRule
from dispatch.reports import department_ranking_rows, monthly_trend, sla_report
from incidents.models import Event
from operations import services as s
from operations.sweep import sweep
from tests.factories import dept, file_event, png, user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NANHU, LIUAN = "99010200100101", "99010200200101"
NHW, NCG, LHW = "990102001-huanwei", "990102001-chengguan", "990102002-huanwei"
HANDLERS = {NHW: "hd_nanhu_huanwei", NCG: "hd_nanhu_chengguan", LHW: "hd_liuan_huanwei"}
DEPARTMENTS = {NANHU: [NHW, NCG], LIUAN: [LHW]}
OPERATOR = {NANHU: "op_nanhu", LIUAN: "op_jiangnan"}
SUPERVISOR = {NANHU: "sup_nanhu", LIUAN: "sup_jiangnan"}
VERIFIER = {NANHU: "gw_nanhu1", LIUAN: "admin"}
REPORTER = {NANHU: "gw_nanhu1", LIUAN: "op_jiangnan"}
EXPECTED = (NotPermitted, NotFound, Conflict, InvalidInput)
ACTIONS = [
    "dispatch", "dispatch", "accept", "accept", "return", "redispatch", "extension", "suspension", "resume",
    "urge", "submit", "submit", "verify_fail", "verify_pass", "verify_pass", "close", "close", "reopen",
    "invalidate", "merge",
]  # fmt: skip
READERS = [("sup_jiangnan", "990102"), ("op_nanhu", "990102001"), ("hd_nanhu_huanwei", "990102001")]


@pytest.fixture(autouse=True)
def _setup():
    RoutingRule.objects.update(is_active=False)
    if not User.objects.filter(username="hd_liuan_huanwei").exists():
        handler = User.objects.create_user("hd_liuan_huanwei", password="x")
        membership_grant(user=handler, role=Role.HANDLER, department=Department.objects.get(code=LHW))


def _lead_handler(event_id: int) -> User | None:
    code = Event.objects.filter(pk=event_id).values_list("lead_department__code", flat=True).first()
    return user(HANDLERS[code]) if code in HANDLERS else None


def attempt(action: str, event_id: int, grid: str, choice: int, previous: list[int]) -> None:
    """Try one operation; a refusal (wrong state, too late, not allowed) leaves no history."""
    op, sup = user(OPERATOR[grid]), user(SUPERVISOR[grid])
    handler = _lead_handler(event_id)
    departments = DEPARTMENTS[grid]
    try:
        if action == "dispatch":
            s.event_dispatch(actor=op, event_id=event_id, department=dept(departments[choice % len(departments)]))
        elif action == "redispatch":
            target = departments[(choice + 1) % len(departments)]
            s.event_redispatch(actor=op, event_id=event_id, department=dept(target), reason="改派")
        elif action == "urge":
            s.event_urge(actor=sup, event_id=event_id, note="加快")
        elif action == "verify_pass" or action == "verify_fail":
            passed = action == "verify_pass"
            s.event_verify(actor=user(VERIFIER[grid]), event_id=event_id, passed=passed, note="" if passed else "重做")
        elif action == "close":
            s.event_close(actor=op, event_id=event_id)
        elif action == "reopen":
            s.event_reopen(actor=op, event_id=event_id, reason="回访不满意")
        elif action == "invalidate":
            s.event_invalidate(actor=sup, event_id=event_id, reason="不是问题")
        elif action == "merge" and previous:
            s.event_merge(actor=op, event_id=event_id, into_event_id=previous[choice % len(previous)])
        elif handler is None:
            return
        elif action == "accept":
            s.event_accept(actor=handler, event_id=event_id)
        elif action == "return":
            s.event_return(actor=handler, event_id=event_id, reason="不归我们")
        elif action == "submit":
            s.event_submit_result(actor=handler, event_id=event_id, note="done", photos=[png()])
        elif action == "extension":
            req = s.extension_request(actor=handler, event_id=event_id, hours=1 + choice % 8, reason="等车")
            s.request_decide(actor=sup, request_id=req.pk, approve=choice % 3 != 0)
        elif action == "suspension":
            req = s.suspension_request(actor=handler, event_id=event_id, reason="封路")
            s.request_decide(actor=sup, request_id=req.pk, approve=True)
        elif action == "resume":
            s.event_resume(actor=handler, event_id=event_id)
    except EXPECTED:
        pass


step = st.tuples(st.sampled_from(ACTIONS), st.integers(5, 480), st.integers(0, 11))
program = st.fixed_dictionaries(
    {
        "grid": st.sampled_from([NANHU, LIUAN]),
        "day": st.integers(1, 4),
        "category": st.sampled_from(["E0101", "E0402"]),
        "steps": st.lists(step, min_size=1, max_size=12),
        "later": st.lists(step, max_size=3),
    }
)


def run(moment: datetime, fn, *args, **kwargs):
    with freeze_time(moment):
        return fn(*args, **kwargs)


def _row(row: Row) -> dict:
    return {**row.as_dict(), "histogram": row.handling_histogram, "count": row.handling_count}


def snapshot(report) -> dict:
    return {
        "unit": report.unit.code,
        "total": _row(report.total),
        "by_department": [_row(r) for r in report.by_department],
        "by_region": [_row(r) for r in report.by_region],
        "by_dispatcher": [r.as_dict() for r in report.by_dispatcher],
        "by_grid_worker": [r.as_dict() for r in report.by_grid_worker],
    }


def assert_same_everywhere(moment: datetime) -> None:
    for username, code in READERS:
        reader, unit = user(username), OrgUnit.objects.get(code=code)
        # The whole month, most of it (the month less 1 November), and two days of it.
        for start, end in (
            (date(2026, 11, 1), date(2026, 11, 30)),
            (date(2026, 11, 2), date(2026, 11, 30)),
            (date(2026, 11, 2), date(2026, 11, 3)),
        ):
            kw = {"unit": unit, "start": start, "end": end}
            live = snapshot(run(moment, sla_report, reader, source="live", **kw))
            assert snapshot(run(moment, sla_report, reader, **kw)) == live, (username, start, end)
            assert [_row(r) for r in run(moment, department_ranking_rows, reader, **kw)] == [
                _row(r) for r in run(moment, department_ranking_rows, reader, source="live", **kw)
            ]
        trend = run(moment, monthly_trend, reader, unit=unit, year=2026)
        live_trend = run(moment, monthly_trend, reader, unit=unit, year=2026, source="live")
        assert [(m, _row(r)) for m, r in trend] == [(m, _row(r)) for m, r in live_trend], username


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    programs=st.lists(program, min_size=1, max_size=4),
    built=st.sets(st.integers(0, 6), min_size=1),
    wait_hours=st.integers(0, 72),
)
def test_rollup_equals_live(programs, built, wait_hours):
    latest = datetime(2026, 11, 5, 9, 0, tzinfo=SH)
    previous: dict[str, list[int]] = {NANHU: [], LIUAN: []}
    filed = []
    for p in programs:
        at = datetime(2026, 11, p["day"], 9, 0, tzinfo=SH)
        grid = p["grid"]
        event = run(at, file_event, reporter=REPORTER[grid], grid=grid, category=p["category"])
        for action, minutes, choice in p["steps"]:
            at += timedelta(minutes=minutes)
            run(at, attempt, action, event.pk, grid, choice, previous[grid])
        previous[grid].append(event.pk)
        filed.append((event.pk, grid, p["later"]))
        latest = max(latest, at)
    # Some days rolled up (1–6 November, and a day with no events), as of `build_at`.
    build_at = latest + timedelta(minutes=30)
    run(build_at, rollups.rebuild_days, [date(2026, 11, 1) + timedelta(days=n) for n in built])
    assert_same_everywhere(build_at)
    # Later facts of events of rolled-up days: their days are marked, read live until rebuilt.
    at = build_at
    for event_id, grid, later in filed:
        for action, minutes, choice in later:
            at += timedelta(minutes=minutes)
            run(at, attempt, action, event_id, grid, choice, previous[grid])
    # Time passes with nobody sweeping: deadlines come due after the roll-up was built.
    report_at = at + timedelta(hours=wait_hours)
    assert_same_everywhere(report_at)
    run(report_at, sweep)  # lights and breaches: clock writes, marked days
    assert_same_everywhere(report_at)
    run(report_at, rollups.refresh)
    assert not RollupMark.objects.exists()
    assert_same_everywhere(report_at + timedelta(hours=wait_hours))
    # Every day of November rolled up: the month is read from its monthly sums ...
    run(report_at, rollups.rebuild_range, date(2026, 11, 1), date(2026, 11, 30))
    assert_same_everywhere(report_at + timedelta(hours=1))
    # ... until a day of it changes: then that day is live and the others come from their daily rows.
    run(report_at + timedelta(hours=2), file_event, reporter="gw_nanhu1", grid=NANHU)
    assert_same_everywhere(report_at + timedelta(hours=3))


def test_a_later_fact_marks_the_day_and_a_rebuild_clears_it():
    at = datetime(2026, 11, 2, 9, 0, tzinfo=SH)
    event = run(at, file_event, reporter="gw_nanhu1", grid=NANHU)
    day = date(2026, 11, 2)
    assert RollupMark.objects.filter(day=day).exists()
    run(at + timedelta(hours=1), rollups.rebuild_days, [day])
    assert not RollupMark.objects.filter(day=day).exists()
    assert list(DailyRollup.objects.filter(day=day, kind="area").values_list("area_path", "received")) == [
        (event.area_path, 1)
    ]
    run(at + timedelta(hours=2), s.event_dispatch, actor=user("op_nanhu"), event_id=event.pk, department=dept(NHW))
    assert RollupMark.objects.filter(day=day).exists()  # written in the dispatch's own transaction
    clean, live_days = rollups.day_status(day, day)
    assert clean == {} and live_days == [day]
    rows_before = DailyRollup.objects.filter(day=day).count()
    run(at + timedelta(hours=3), rollups.rebuild_days, [day])
    run(at + timedelta(hours=3), rollups.rebuild_days, [day])  # idempotent: replaced, not added
    assert DailyRollup.objects.filter(day=day, kind="department", key=NHW).count() == 1
    assert DailyRollup.objects.filter(day=day).count() >= rows_before


def test_a_whole_clean_month_is_read_from_its_monthly_sums():
    at = datetime(2026, 11, 2, 9, 0, tzinfo=SH)
    run(at, file_event, reporter="gw_nanhu1", grid=NANHU)
    run(at + timedelta(hours=1), rollups.rebuild_range, date(2026, 11, 1), date(2026, 11, 30))
    _clean, live_days = rollups.day_status(date(2026, 11, 1), date(2026, 11, 30))
    assert live_days == [] and rollups._month_plan(date(2026, 11, 1), date(2026, 11, 30)) == ([date(2026, 11, 1)], [])
    assert MonthlyRollup.objects.filter(month=date(2026, 11, 1), kind="area").count() == 1
    # A range that covers most of the month reads the month less the days outside it ...
    assert rollups._month_plan(date(2026, 11, 2), date(2026, 11, 30)) == ([date(2026, 11, 1)], [date(2026, 11, 1)])
    # ... and one that covers half of it or less reads its daily rows.
    assert rollups._month_plan(date(2026, 11, 16), date(2026, 11, 30)) == ([], [])
    run(at + timedelta(hours=2), file_event, reporter="gw_nanhu1", grid=NANHU)  # marks the 2nd
    _clean, live_days = rollups.day_status(date(2026, 11, 1), date(2026, 11, 30))
    assert live_days == [date(2026, 11, 2)]
    assert rollups._month_plan(date(2026, 11, 1), date(2026, 11, 30)) == ([], [])


def test_a_month_less_its_days_outside_the_period_drops_the_keys_seen_only_on_those_days():
    """The worker who reported only on 1 November is in November's sums, not in 2–30 November."""
    run(datetime(2026, 11, 1, 9, 0, tzinfo=SH), file_event, reporter="gw_nanhu1", grid=NANHU)
    run(datetime(2026, 11, 5, 9, 0, tzinfo=SH), file_event, reporter="gw_nanhu1_01", grid=NANHU)
    run(datetime(2026, 11, 6, 9, 0, tzinfo=SH), rollups.rebuild_range, date(2026, 11, 1), date(2026, 11, 30))
    reader, unit = user("op_nanhu"), OrgUnit.objects.get(code="990102001")
    kw = {"unit": unit, "start": date(2026, 11, 2), "end": date(2026, 11, 30)}
    assert rollups._month_plan(kw["start"], kw["end"]) == ([date(2026, 11, 1)], [date(2026, 11, 1)])
    at = datetime(2026, 11, 6, 10, 0, tzinfo=SH)
    fast, live = run(at, sla_report, reader, **kw), run(at, sla_report, reader, source="live", **kw)
    assert snapshot(fast) == snapshot(live)
    assert [r.key for r in fast.by_grid_worker] == ["gw_nanhu1_01"] and fast.total.received == 1


def test_p90_is_the_upper_bound_of_the_bucket_holding_the_nearest_rank_element():
    row = Row("x", "x")
    for minutes in [10] * 8 + [100, 5000]:  # nearest rank 9 of 10: 100 min, bucket (60, 120]
        row.add_handling(minutes)
    assert row.p90_handling_hours == 120 / 60
    assert row.mean_handling_hours == (80 + 100 + 5000) * 60 / 10 / 3600
    assert histogram_p90_minutes([0] * (len(HISTOGRAM_EDGES) + 1)) is None
    beyond = Row("y", "y")
    beyond.add_handling(20_000)
    assert beyond.p90_handling_hours == HISTOGRAM_EDGES[-1] / 60  # open last bucket: its lower bound


def test_rollup_rebuild_command_replaces_the_days_and_names_bad_dates():
    from io import StringIO

    from django.core.management import CommandError, call_command

    at = datetime(2026, 11, 2, 9, 0, tzinfo=SH)
    run(at, file_event, reporter="gw_nanhu1", grid=NANHU)
    out = StringIO()
    run(
        at + timedelta(hours=1),
        call_command,
        "rollup_rebuild",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-03",
        stdout=out,
    )
    assert "over 3 days (2026-11-01 to 2026-11-03)" in out.getvalue()
    assert sorted(RollupDay.objects.values_list("day", flat=True)) == [date(2026, 11, d) for d in (1, 2, 3)]
    assert not RollupMark.objects.filter(day=date(2026, 11, 2)).exists()
    with pytest.raises(CommandError, match="--from: '2026-13-01' is not a date"):
        call_command("rollup_rebuild", "--from", "2026-13-01")
    with pytest.raises(CommandError, match="before --from"):
        call_command("rollup_rebuild", "--from", "2026-11-03", "--to", "2026-11-01")
