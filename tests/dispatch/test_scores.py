"""The composite score and ranking (综合评价): the arithmetic by hand, then a small history through the services."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from accounts.models import Department, OrgUnit, Role, User
from accounts.services import membership_grant
from dispatch.models import IndicatorWeight, RoutingRule
from dispatch.ranking import ranking, weights_for
from dispatch.reports import monthly_trend
from dispatch.scores import (
    DEFAULT_WEIGHTS,
    arrow,
    competition_ranks,
    composite_score,
    formula_text,
    period_label,
    period_span,
    previous_span,
)
from operations import services as s
from tests.factories import dept, file_event, png, user

SH = ZoneInfo("Asia/Shanghai")
NANHU, LIUAN = "99010200100101", "99010200200101"
NHW, NCG, LHW = "990102001-huanwei", "990102001-chengguan", "990102002-huanwei"
HANDLERS = {NHW: "hd_nanhu_huanwei", NCG: "hd_nanhu_chengguan", LHW: "hd_liuan_huanwei"}
DEPT_WEIGHTS = DEFAULT_WEIGHTS["department"]


# --- the arithmetic ---------------------------------------------------------------------------


def test_score_is_the_weighted_mean_of_the_defined_indicators():
    values = {"on_time_rate": 0.5, "closure_rate": 1.0, "rework_rate": 0.25, "return_rate": 0.0}
    # 100 × (40 × 0.5 + 30 × 1 + 20 × (1 − 0.25) + 10 × (1 − 0)) ÷ 100 = 75
    assert composite_score(values, DEPT_WEIGHTS) == 75.0
    # An indicator without a value leaves with its weight: (40 × 0.5 + 30 × 1) ÷ 70 = 71.43
    assert composite_score({"on_time_rate": 0.5, "closure_rate": 1.0}, DEPT_WEIGHTS) == 71.43
    assert composite_score({"on_time_rate": None}, DEPT_WEIGHTS) is None
    # A zero weight leaves the indicator out.
    assert composite_score(values, {"on_time_rate": 0, "closure_rate": 1}) == 100.0


def test_competition_ranks_share_equal_scores_and_skip():
    ranks = competition_ranks({"a": 90.0, "b": 95.5, "c": 90.0, "d": 10.0, "e": None})
    assert ranks == {"b": 1, "a": 2, "c": 2, "d": 4, "e": None}


def test_arrow_compares_ranks():
    assert arrow(1, 3) == "↑"
    assert arrow(3, 1) == "↓"
    assert arrow(2, 2) == "→"
    assert arrow(2, None) == ""
    assert arrow(None, 2) == ""


def test_periods_and_the_one_before():
    assert period_span("month", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_span("quarter", date(2026, 11, 3)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_span("year", date(2026, 11, 3)) == (date(2026, 1, 1), date(2026, 12, 31))
    assert previous_span("month", date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert previous_span("quarter", date(2026, 1, 1)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert previous_span("year", date(2026, 1, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
    assert [period_label(k, date(2026, 10, 1)) for k in ("month", "quarter", "year")] == ["2026-10", "2026-Q4", "2026"]


def test_formula_names_each_weight():
    text = formula_text(DEPT_WEIGHTS)
    assert text == "100 × (40 × 按期结案率 + 30 × 结案率 + 20 × (1 − 返工率) + 10 × (1 − 退回率)) ÷ 100"


# --- a small history ---------------------------------------------------------------------------


def at(month, day, hh, mm=0):
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


def run_at(moment, fn, *args, **kwargs):
    with freeze_time(moment):
        return fn(*args, **kwargs)


def operator(grid):
    return user("op_nanhu") if grid == NANHU else user("op_jiangnan")


def verifier(grid):
    return user("gw_nanhu1") if grid == NANHU else user("admin")


def handled(month, day, department, *, grid=NANHU, category="E0101", late=False, rework=False, returned_by=None):
    """One event filed at 09:00, dispatched, accepted, result at 10:00, verified and closed the same
    hour (or the next day: `late`, past E0402's 24 h overall limit); `rework`: the first check fails;
    `returned_by`: first dispatched to that department, which returns it."""
    event = run_at(
        at(month, day, 9),
        file_event,
        reporter="gw_nanhu1" if grid == NANHU else "op_jiangnan",
        grid=grid,
        category="E0402" if late else category,
    )
    op = operator(grid)
    if returned_by:
        run_at(at(month, day, 9, 1), s.event_dispatch, actor=op, event_id=event.pk, department=dept(returned_by))
        run_at(
            at(month, day, 9, 2),
            s.event_return,
            actor=user(HANDLERS[returned_by]),
            event_id=event.pk,
            reason="不归我们",
        )
    hd = user(HANDLERS[department])
    run_at(at(month, day, 9, 5), s.event_dispatch, actor=op, event_id=event.pk, department=dept(department))
    run_at(at(month, day, 9, 6), s.event_accept, actor=hd, event_id=event.pk)
    run_at(at(month, day, 10), s.event_submit_result, actor=hd, event_id=event.pk, note="done", photos=[png()])
    if rework:
        run_at(
            at(month, day, 10, 10), s.event_verify, actor=verifier(grid), event_id=event.pk, passed=False, note="redo"
        )
        run_at(at(month, day, 10, 30), s.event_submit_result, actor=hd, event_id=event.pk, note="again", photos=[png()])
    close_at = at(month, day + 1, 10) if late else at(month, day, 11)
    run_at(close_at, s.event_verify, actor=verifier(grid), event_id=event.pk, passed=True, note="")
    run_at(close_at, s.event_close, actor=op, event_id=event.pk)
    return event


@pytest.fixture
def history(db):
    """October: 南湖城管 one on time, 南湖环卫 one late, 柳岸环卫 one on time. November: 南湖环卫 three on
    time, one of them returned by 城管 first; 城管 one on time but reworked; 柳岸环卫 one late."""
    RoutingRule.objects.update(is_active=False)
    handler = User.objects.create_user("hd_liuan_huanwei", password="x")
    membership_grant(user=handler, role=Role.HANDLER, department=Department.objects.get(code=LHW))
    handled(10, 13, NCG)
    handled(10, 13, NHW, late=True)
    handled(10, 13, LHW, grid=LIUAN)
    handled(11, 2, NHW)
    handled(11, 2, NHW)
    handled(11, 2, NHW, returned_by=NCG)
    handled(11, 2, NCG, rework=True)
    handled(11, 3, LHW, grid=LIUAN, late=True)


def read(who="sup_jiangnan", unit="990102", period="month", on=date(2026, 11, 15)):
    return run_at(at(11, 20, 12), ranking, user(who), unit=OrgUnit.objects.get(code=unit), period=period, on=on)


def board(placings):
    return {p.key: p for p in placings}


def test_department_scores_ranks_and_arrows_by_hand(history):
    result = read()
    assert (result.label, result.previous_label) == ("2026-11", "2026-10")
    rows = board(result.departments.placings)
    # 环卫 (南湖): 3 dispatches received, none returned, 3 closed on time, none reworked: 100.
    assert (rows[NHW].score, rows[NHW].rank) == (100.0, 1)
    # 城管: 2 dispatches received, 1 returned (退回率 0.5); closed 1 on time, reworked (返工率 1):
    # 100 × (40 × 1 + 30 × 1 + 20 × 0 + 10 × 0.5) ÷ 100 = 75.
    assert rows[NCG].values["return_rate"] == 0.5 and rows[NCG].values["rework_rate"] == 1.0
    assert (rows[NCG].score, rows[NCG].rank) == (75.0, 2)
    # 柳岸环卫: closed 1, late: 100 × (40 × 0 + 30 × 1 + 20 × 1 + 10 × 1) ÷ 100 = 60.
    assert (rows[LHW].score, rows[LHW].rank) == (60.0, 3)
    # October: 城管 100 and 柳岸 100 share the first place, 环卫 (late) 60 is third.
    assert (rows[NCG].previous_score, rows[NCG].previous_rank) == (100.0, 1)
    assert (rows[LHW].previous_score, rows[LHW].previous_rank) == (100.0, 1)
    assert (rows[NHW].previous_score, rows[NHW].previous_rank) == (60.0, 3)
    assert (rows[NHW].arrow, rows[NCG].arrow, rows[LHW].arrow) == ("↑", "↓", "↓")
    assert "-" not in rows  # the no-department row is not ranked
    assert [p.key for p in result.departments.placings][:1] == [NHW]


def test_region_scores_by_hand(history):
    rows = board(read().regions.placings)
    # 南湖街道, November: 4 cases, all closed on time, 1 reworked:
    # 100 × (40 × 1 + 40 × 1 + 20 × (1 − 1/4)) ÷ 100 = 95; October: 2 closed, 1 on time: 80.
    nanhu, liuan = rows["990102001"], rows["990102002"]
    assert (nanhu.score, nanhu.rank, nanhu.previous_score, nanhu.previous_rank) == (95.0, 1, 80.0, 2)
    # 柳岸街道: November 1 closed late: 100 × (0 + 40 + 20) ÷ 100 = 60; October 100, first.
    assert (liuan.score, liuan.rank, liuan.previous_score, liuan.previous_rank) == (60.0, 2, 100.0, 1)
    assert (nanhu.arrow, liuan.arrow) == ("↑", "↓")


def test_quarter_and_year_gather_both_months(history):
    quarter = board(read(period="quarter").departments.placings)
    # Q4: 南湖环卫 4 closed (3 on time), 3 dispatches... no returns: 100 × (40 × 3/4 + 30 + 20 + 10) ÷ 100 = 90.
    assert quarter[NHW].score == 90.0
    assert quarter[NHW].previous_rank is None and quarter[NHW].arrow == ""  # nothing in Q3
    year = read(period="year")
    assert (year.start, year.end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert board(year.departments.placings)[NHW].score == 90.0


def test_the_admins_weights_change_the_score(history, client):
    assert weights_for("department") == DEPT_WEIGHTS  # migration 0009 stored the defaults
    client.post("/accounts/login/", {"username": "admin", "password": "demo-2026"})
    on_time = IndicatorWeight.objects.get(applies_to="department", indicator="on_time_rate")
    page = client.get("/admin/dispatch/indicatorweight/", HTTP_ACCEPT_LANGUAGE="en")
    assert "100 × (40 × 按期结案率" in page.content.decode()
    response = client.post(
        f"/admin/dispatch/indicatorweight/{on_time.pk}/change/",
        {"applies_to": "department", "indicator": "on_time_rate", "weight": "0"},
    )
    assert response.status_code == 302, response.content[:400]
    rows = board(read().departments.placings)
    # Without 按期: 南湖环卫 100; 城管 100 × (30 + 0 + 5) ÷ 60 = 58.33; 柳岸 (30 + 20 + 10) ÷ 60 = 100.
    assert (rows[NHW].score, rows[NCG].score, rows[LHW].score) == (100.0, 58.33, 100.0)
    assert (rows[NHW].rank, rows[LHW].rank, rows[NCG].rank) == (1, 1, 3)
    assert "40 ×" not in read().departments.formula


def test_no_rows_at_all_means_the_defaults(history):
    IndicatorWeight.objects.filter(applies_to="region").delete()
    assert weights_for("region") == DEFAULT_WEIGHTS["region"]
    IndicatorWeight.objects.create(applies_to="region", indicator="closure_rate", weight=1)
    assert weights_for("region") == {"closure_rate": 1.0}  # once there are rows, they are the truth
    assert board(read().regions.placings)["990102002"].score == 100.0


def test_a_street_operators_ranking_shows_only_their_street(history):
    result = read(who="op_nanhu", unit="990102001")
    keys = {p.key for p in result.departments.placings}
    assert keys == {NHW, NCG}  # 柳岸环卫 worked only on 柳岸's events, which op_nanhu cannot see
    assert all(p.key.startswith("990102001") for p in result.regions.placings)  # communities of 南湖


def test_monthly_trend_is_the_total_of_each_month(history):
    months = run_at(
        at(11, 20, 12), monthly_trend, user("sup_jiangnan"), unit=OrgUnit.objects.get(code="990102"), year=2026
    )
    assert [m for m, _row in months] == list(range(1, 12))  # December has not begun
    by_month = dict(months)
    assert (by_month[10].should_close, by_month[10].closed_on_time) == (3, 2)
    assert (by_month[11].should_close, by_month[11].closed_on_time, by_month[11].reworked_due) == (5, 4, 1)
    assert by_month[9].should_close == 0 and by_month[9].closure_rate is None
