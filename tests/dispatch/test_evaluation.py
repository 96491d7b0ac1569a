"""Attribution from history and the standard definitions (#15), on small hand-built histories."""

from datetime import date

import pytest

from accounts.models import OrgUnit
from dispatch.models import RoutingRule
from dispatch.reports import Row, sla_report
from operations import services as s
from tests.dispatch.test_report import NANHU, NCG, NHW, Story, run_at, t
from tests.factories import dept, user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_routing():
    RoutingRule.objects.update(is_active=False)


def report_at(moment, username="sup_jiangnan"):
    return run_at(
        moment,
        sla_report,
        user(username),
        unit=OrgUnit.objects.get(code="990102"),
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
    )


def rows(report):
    return {r.key: r for r in report.by_department}


def test_a_department_that_returned_is_credited_with_what_it_did():
    story = Story(NANHU).dispatch(t(2, 9), NCG).accept(t(2, 9))
    handler = user("hd_nanhu_chengguan")
    req = run_at(t(2, 10), s.extension_request, actor=handler, event_id=story.pk, hours=4, reason="吊车")
    run_at(t(2, 10, 5), s.request_decide, actor=user("sup_nanhu"), request_id=req.pk, approve=True)
    req = run_at(t(2, 10, 30), s.suspension_request, actor=handler, event_id=story.pk, reason="封路")
    run_at(t(2, 10, 30), s.request_decide, actor=user("sup_nanhu"), request_id=req.pk, approve=True)
    run_at(t(2, 11), s.event_resume, actor=handler, event_id=story.pk)
    run_at(t(2, 11, 10), s.event_urge, actor=user("sup_nanhu"), event_id=story.pk, note="加快")
    story.submit(t(2, 11, 30)).verify(t(2, 11, 40), passed=False)
    run_at(t(2, 12), s.event_return, actor=handler, event_id=story.pk, reason="不归我们")
    story.dispatch(t(2, 13), NHW).accept(t(2, 13)).submit(t(2, 14)).verify(t(2, 14, 10)).close(t(2, 14, 20))

    report = report_at(t(2, 16))
    by = rows(report)
    cg, hw = by[NCG], by[NHW]
    assert (cg.received, cg.accepts, cg.extensions, cg.suspensions, cg.urges) == (1, 1, 1, 1, 1)
    assert (cg.reworked, cg.returns, cg.closed, cg.should_close) == (1, 1, 0, 0)
    # The department whose result closed it has the closure, and none of the other's facts.
    assert (hw.received, hw.closed, hw.closed_on_time, hw.should_close) == (1, 1, 1, 1)
    assert (hw.extensions, hw.suspensions, hw.urges, hw.reworked, hw.returns) == (0, 0, 0, 0, 0)
    # The return is the department's, not the no-department row's.
    assert (by["-"].received, by["-"].returns) == (0, 0)
    dispatcher = {r.key: r for r in report.by_dispatcher}["990102001"]
    assert (dispatcher.dispatches, dispatcher.wrong_dispatches) == (2, 1)
    assert dispatcher.accurate_dispatch_rate == pytest.approx(0.5)
    assert (report.total.should_close, report.total.reworked, report.total.rework_rate) == (1, 1, 1.0)


def test_redispatch_moves_future_facts_never_past_ones():
    story = Story(NANHU).dispatch(t(2, 9), NHW).accept(t(2, 9))
    req = run_at(
        t(2, 10), s.extension_request, actor=user("hd_nanhu_huanwei"), event_id=story.pk, hours=4, reason="等车"
    )
    run_at(t(2, 10, 5), s.request_decide, actor=user("sup_nanhu"), request_id=req.pk, approve=True)
    run_at(t(2, 11), s.event_redispatch, actor=story.op, event_id=story.pk, department=dept(NCG), reason="城管的事")
    story.handler = "hd_nanhu_chengguan"
    story.accept(t(2, 11, 10))
    handler = user("hd_nanhu_chengguan")
    req = run_at(t(2, 11, 30), s.suspension_request, actor=handler, event_id=story.pk, reason="封路")
    run_at(t(2, 11, 30), s.request_decide, actor=user("sup_nanhu"), request_id=req.pk, approve=True)
    run_at(t(2, 13, 30), s.event_resume, actor=handler, event_id=story.pk)
    story.submit(t(2, 14)).verify(t(2, 14, 10)).close(t(2, 14, 20))

    by = rows(report_at(t(2, 16)))
    hw, cg = by[NHW], by[NCG]
    assert (hw.received, hw.accepts, hw.extensions, hw.suspensions, hw.closed) == (1, 1, 1, 0, 0)
    assert (cg.received, cg.accepts, cg.extensions, cg.suspensions, cg.closed) == (1, 1, 0, 1, 1)
    assert hw.returns == cg.returns == 0


def test_co_handlers_are_credited_separately():
    story = Story(NANHU)
    run_at(
        t(2, 9), s.event_dispatch, actor=story.op, event_id=story.pk, department=dept(NHW), co_departments=[dept(NCG)]
    )
    by = rows(report_at(t(2, 16)))
    assert (by[NHW].received, by[NHW].co_handled) == (1, 0)
    assert (by[NCG].received, by[NCG].co_handled) == (0, 1)


def test_voided_events_are_in_neither_side_of_the_rework_rate():
    Story(NANHU).loop(NHW, t(2, 10))  # closed, no rework
    voided = Story(NANHU).dispatch(t(2, 9), NHW).accept(t(2, 9)).submit(t(2, 10)).verify(t(2, 10, 10), passed=False)
    run_at(t(2, 10, 30), s.event_return, actor=user("hd_nanhu_huanwei"), event_id=voided.pk, reason="不是问题")
    run_at(t(2, 11), s.event_invalidate, actor=user("sup_nanhu"), event_id=voided.pk, reason="不是问题")

    report = report_at(t(2, 16))
    # Old reading: 1 reworked (the voided event) ÷ 1 should close = 100 % for a street with no rework.
    assert (report.total.cases, report.total.should_close) == (1, 1)
    assert (report.total.reworked, report.total.rework_rate) == (0, 0.0)
    street = {r.key: r for r in report.by_region}["990102001"]
    assert (street.reworked, street.rework_rate) == (0, 0.0)
    assert (rows(report)[NHW].reworked, rows(report)[NHW].returns) == (0, 0)  # voided events credit nobody


def test_should_close_excludes_open_events_not_yet_due():
    Story(NANHU).loop(NHW, t(2, 10))  # closed on time
    Story(NANHU).dispatch(t(2, 9), NHW).accept(t(2, 9))  # open; its overall limit ends on the 9th

    early = report_at(t(3, 16))
    assert (early.total.cases, early.total.should_close, early.total.overdue_open) == (2, 1, 0)
    assert early.total.closure_rate == 1.0
    late = report_at(t(10, 9))  # the overall deadline has passed, the sweep not yet run: still overdue
    assert (late.total.should_close, late.total.overdue_open) == (2, 1)
    assert late.total.closure_rate == pytest.approx(0.5)
    department = rows(late)[NHW]  # 应处置数 = 处置数 + 超期未处置数 (open, overdue, led by it now)
    assert (department.should_close, department.closed, department.overdue_open) == (2, 1, 1)
    assert department.as_dict()["should_handle"] == 2


def test_the_bulletin_figures_come_out_of_the_definitions():
    # 立案 996: 911 closed (737 of them on time), 61 open past the overall limit, 24 open and not yet due.
    row = Row("city", "city", received=1000, cases=996, closed=911, closed_on_time=737, overdue_open=61)
    assert row.should_close == 972
    assert round(row.closure_rate * 100, 2) == 93.72
    assert round(row.on_time_rate * 100, 2) == 75.82
