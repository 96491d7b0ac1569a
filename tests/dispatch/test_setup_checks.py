"""setup_check: what the city still lacks to run, with how to fix it; blocking findings exit 1."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q
from freezegun import freeze_time

from accounts.models import Department, OrgUnit, Role, Tier, User
from accounts.services import membership_grant
from dispatch.holidays import DayRow, import_days
from dispatch.models import BusinessCalendar, SlaPolicy
from dispatch.setup_checks import BLOCKING, WARNING, setup_findings

pytestmark = pytest.mark.django_db

DEMO_DAY = "2026-12-01 10:00:00+08:00"  # the next 90 days reach into 2027, which chinese-calendar 1.11 does not ship


def enter_2027() -> None:
    city = BusinessCalendar.objects.get(org_unit__isnull=True)
    import_days(city, [DayRow(date(2027, 1, 1), False, "元旦", "test"), DayRow(date(2027, 2, 7), True, "调休", "test")])


def staff_every_street() -> None:
    for street in OrgUnit.objects.filter(tier=Tier.STREET):
        user, _ = User.objects.get_or_create(username=f"op_{street.code}")
        membership_grant(user=user, role=Role.OPERATOR, org_unit=street)


def run() -> tuple[int, list[str]]:
    out = io.StringIO()
    try:
        call_command("setup_check", stdout=out, stderr=io.StringIO())
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, out.getvalue().splitlines()


def by_check(check: str, today: date | None = None) -> list:
    return [f for f in setup_findings(today) if f.check == check]


@freeze_time(DEMO_DAY)
def test_the_demo_today_is_blocked_by_2027_and_three_streets_without_an_operator():
    code, lines = run()
    assert code == 1
    calendar = [line for line in lines if line.startswith("BLOCKING calendar:")]
    assert len(calendar) == 1
    assert "“示范市工作日历” does not know public holidays and make-up days from 2027-01-01" in calendar[0]
    assert "within the next 90 days" in calendar[0]
    assert "Fix: Enter 2027's holidays" in calendar[0] and "calendar_import FILE" in calendar[0]
    streets = sorted(f.what.split()[1] for f in by_check("operators"))
    assert streets == ["柳岸街道", "海湾街道", "清河街道"]
    assert all(f.severity == BLOCKING for f in by_check("operators"))
    # One line per finding: severity, what, how to fix; blocking ones first.
    # (the summary goes to stderr when blocked)
    assert all(line.startswith(("BLOCKING ", "WARNING ")) and " Fix: " in line for line in lines)
    severities = [line.split()[0] for line in lines]
    assert severities == sorted(severities)  # BLOCKING < WARNING


@freeze_time(DEMO_DAY)
def test_with_2027_entered_and_every_street_staffed_the_city_runs_with_warnings():
    enter_2027()
    staff_every_street()
    code, lines = run()
    assert code == 0
    *findings, summary = lines
    assert findings and all(line.startswith("WARNING ") for line in findings)
    assert summary.startswith("The city can run: 0 blocking,")
    assert not by_check("calendar")


@freeze_time("2026-06-01 10:00:00+08:00")
def test_a_gap_beyond_90_days_is_only_a_warning():
    staff_every_street()
    (finding,) = by_check("calendar")
    assert finding.severity == WARNING and "from 2027-01-01 (within the next 365 days)" in finding.what
    assert run()[0] == 0


@freeze_time("2025-12-01 10:00:00+08:00")
def test_a_calendar_that_knows_the_next_365_days_is_not_reported():
    assert not by_check("calendar")


@freeze_time(DEMO_DAY)
def test_categories_without_a_time_limit_block():
    enter_2027()
    staff_every_street()
    SlaPolicy.objects.filter(step="overall").delete()
    SlaPolicy.objects.filter(Q(urgency__isnull=True) | Q(urgency=3), step="handle", category__isnull=True).delete()
    findings = by_check("time_limits")
    assert findings and all(f.severity == BLOCKING for f in findings)
    exposed = next(f for f in findings if f.what.startswith("Category E0101 暴露垃圾"))
    # E0101 keeps its own handling limit (any urgency) and loses only the overall clock.
    assert "no time limit for overall (any urgency)" in exposed.what and "handle" not in exposed.what
    road = next(f for f in findings if f.what.startswith("Category C0501"))
    assert "handle (normal, critical); overall (any urgency)" in road.what  # urgent keeps its own limit
    assert run()[0] == 1


def test_a_community_grid_worker_covers_its_communitys_grids():
    uncovered = {f.what.split("(")[1].split(")")[0] for f in by_check("grid_workers")}
    # gw_nanhu1 serves the community 990102001001: its three grids are covered.
    assert not {"99010200100101", "99010200100102", "99010200100103"} & uncovered
    assert "99010200100201" in uncovered
    assert all(f.severity == WARNING for f in by_check("grid_workers"))


def test_departments_without_a_handler_are_warnings():
    departments = {f.what.split("(")[1].split(",")[0] for f in by_check("handlers")}
    assert "990102-chengguan" not in departments  # hd_jiangnan_chengguan
    assert "990102-gongan" in departments


def test_a_district_without_a_type_the_routing_rules_need():
    assert not by_check("district_departments")  # every demo district has all eight
    Department.objects.filter(code="990104-shuiwu").update(is_active=False)
    (finding,) = by_check("district_departments")
    assert finding.severity == WARNING
    assert finding.what.startswith("District 新港区 (990104) has no 水务 (shuiwu) department")
    assert "go to the city's 水务 department" in finding.what
    Department.objects.filter(code="990100-shuiwu").update(is_active=False)
    lines = [f.what for f in by_check("district_departments")]
    assert any("新港区" in w and "left for an operator" in w for w in lines)


def test_a_city_without_grids_is_blocked():
    OrgUnit.objects.filter(tier=Tier.GRID).update(is_active=False)
    (finding,) = by_check("units")
    assert finding.severity == BLOCKING


@freeze_time(DEMO_DAY)
def test_the_admin_home_lists_the_findings_capped_per_kind(login):
    client = login("admin")
    home = client.get("/admin/").content.decode()
    assert 'class="messagelist setup-check"' in home
    assert "does not know public holidays and make-up days from 2027-01-01" in home
    assert "Street 柳岸街道 (990102002) has no operator" in home
    assert home.count("has no grid worker") == 10 and "more grids have no grid worker" in home
