"""Routing on the demo city: a table of cases, intake behaviour, tie refusal, admin and API simulation."""

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Department, DepartmentType, OrgUnit, Tier
from dispatch.models import RoutingMode, RoutingRule, RoutingSuggestion, TargetKind
from dispatch.routing import Situation, decide, route, simulate
from incidents.models import Category, State
from tests.factories import file_event, point_in

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NANHU = "99010200100101"  # 江南区 南湖街道
LIUAN = "99010200200101"  # 江南区 柳岸街道
XILING = "99010300100101"  # 河西区 西岭街道
HAIWAN = "99010400100101"  # 新港区 海湾街道
GANGKOU = "99010400200101"  # 新港区 港口镇 (no 环卫所 of its own)

WEEKDAY = datetime(2026, 11, 25, 10, 0, tzinfo=SH)  # Wednesday
NIGHT = datetime(2026, 11, 25, 23, 0, tzinfo=SH)
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=SH)
NATIONAL_DAY = datetime(2026, 10, 1, 10, 0, tzinfo=SH)  # a Thursday, public holiday
MAKEUP_SATURDAY = datetime(2026, 10, 10, 10, 0, tzinfo=SH)  # 调休: a working Saturday

# (category, place, urgency, source, time, text) → (lead department, co-handlers)
CASES = [
    ("E0101", NANHU, None, "grid_worker", WEEKDAY, "", "990102001-huanwei", []),
    ("E0101", GANGKOU, None, "grid_worker", WEEKDAY, "", "990104-huanwei", []),  # fallback to the district
    ("E0102", LIUAN, None, "grid_worker", WEEKDAY, "", "990102002-huanwei", []),
    ("E0103", HAIWAN, None, "grid_worker", WEEKDAY, "", "990104-huanwei", []),  # region rule, named department
    ("E0103", NANHU, None, "grid_worker", WEEKDAY, "", "990102001-huanwei", []),
    ("E0104", XILING, None, "grid_worker", WEEKDAY, "", "990103-shuiwu", []),
    ("E0105", NANHU, None, "grid_worker", WEEKDAY, "", "990102-yuanlin", []),
    ("E0101", NANHU, None, "grid_worker", WEEKDAY, "路边有医疗针头", "990102-yingji", ["990102-huanwei"]),
    ("E0201", NANHU, None, "grid_worker", WEEKDAY, "", "990102001-chengguan", []),
    ("E0301", NANHU, None, "hotline_12345", WEEKDAY, "", "990102001-chengguan", []),
    ("E0301", NANHU, None, "hotline_12345", SATURDAY, "", "990102-chengguan", []),
    ("E0301", NANHU, None, "hotline_12345", NATIONAL_DAY, "", "990102-chengguan", []),
    ("E0301", NANHU, None, "hotline_12345", MAKEUP_SATURDAY, "", "990102001-chengguan", []),
    ("E0304", XILING, None, "grid_worker", WEEKDAY, "", "990103001-chengguan", ["990103001-zhujian"]),
    ("E0306", NANHU, None, "grid_worker", WEEKDAY, "", "990102-shizheng", ["990102-chengguan"]),
    ("E0401", NANHU, 2, "grid_worker", WEEKDAY, "", "990102-shizheng", ["990102-yingji"]),
    ("E0401", NANHU, 3, "grid_worker", WEEKDAY, "", "990100-yingji", ["990100-gongan"]),
    ("E0402", NANHU, 2, "sensor", NIGHT, "", "990102-shuiwu", []),
    ("E0403", XILING, None, "hotline_12345", NIGHT, "", "990100-yingji", ["990100-gongan"]),  # default critical
    ("E0403", XILING, 2, "hotline_12345", NIGHT, "", "990103-yingji", ["990103-gongan"]),
    ("E0405", HAIWAN, 2, "sensor", WEEKDAY, "", "990104-shuiwu", ["990104-yingji"]),
    ("E0407", LIUAN, 2, "grid_worker", WEEKDAY, "", "990102-yuanlin", ["990102-yingji"]),
    ("E0501", NANHU, None, "grid_worker", WEEKDAY, "", "990102001-chengguan", []),
    ("E0501", NANHU, None, "video_ai", WEEKDAY, "", "990102001-chengguan", []),
    ("E0504", XILING, None, "grid_worker", WEEKDAY, "", "990103001-gongan", []),
    ("E0601", NANHU, None, "hotline_12345", WEEKDAY, "", "990102001-zhujian", ["990102001-gongan"]),
    ("E0603", NANHU, None, "hotline_12345", NIGHT, "", "990102001-gongan", []),
    ("E0603", NANHU, None, "hotline_12345", WEEKDAY, "", "990102001-chengguan", []),
    ("E0603", NANHU, None, "hotline_12345", datetime(2026, 11, 25, 5, 59, tzinfo=SH), "", "990102001-gongan", []),
    ("E0603", NANHU, None, "hotline_12345", datetime(2026, 11, 25, 6, 0, tzinfo=SH), "", "990102001-chengguan", []),
    ("C0101", NANHU, None, "grid_worker", WEEKDAY, "", "990102-shuiwu", []),
    ("C0104", XILING, None, "grid_worker", NIGHT, "", "990103-shizheng", []),
    ("C0201", NANHU, None, "video_ai", WEEKDAY, "", "990102-gongan", []),
    ("C0204", NANHU, None, "grid_worker", WEEKDAY, "", "990102-shizheng", []),
    ("C0303", GANGKOU, None, "grid_worker", WEEKDAY, "", "990104-huanwei", []),  # fallback to the district
    ("C0303", NANHU, None, "grid_worker", WEEKDAY, "", "990102001-huanwei", []),
    ("C0401", HAIWAN, None, "grid_worker", WEEKDAY, "", "990104-yuanlin", []),
    ("C0501", HAIWAN, None, "grid_worker", WEEKDAY, "", "990104-shizheng", []),
]


@pytest.mark.parametrize(("category", "place", "urgency", "source", "at", "text", "lead", "co"), CASES)
def test_routing_table(category, place, urgency, source, at, text, lead, co):
    lat, lon = point_in(place)
    decision = simulate(
        category=Category.objects.get(code=category),
        latitude=lat,
        longitude=lon,
        urgency=urgency,
        source=source,
        at=at,
        text=text,
    )
    assert decision.department is not None, [(c.rule.name, c.reason) for c in decision.candidates]
    assert decision.department.code == lead, decision.winner.rule.name
    assert sorted(d.code for d in decision.co_departments) == sorted(co)


def test_every_losing_rule_says_why():
    lat, lon = point_in(GANGKOU)
    decision = simulate(category=Category.objects.get(code="E0101"), latitude=lat, longitude=lon, at=WEEKDAY)
    reasons = {c.rule.name: c.reason for c in decision.candidates if c is not decision.winner}
    assert decision.winner.rule.name == "市容环境 → 环卫"
    assert "outside 新港区" not in reasons.get("新港区道路不洁 → 新港区环卫所", "")  # lost on category first
    assert "is not" in reasons["新港区道路不洁 → 新港区环卫所"]
    assert "none of the keywords" in reasons["危险废物 → 应急 + 环卫"]
    assert all(reason for reason in reasons.values())
    assert len(decision.candidates) == RoutingRule.objects.filter(is_active=True).count()


def test_a_matching_rule_without_a_department_loses_and_the_next_wins():
    power = DepartmentType.objects.create(code="dianli", name="电力")  # no unit has one
    RoutingRule.objects.create(
        name="power first",
        priority=40,
        category=Category.objects.get(code="E01"),
        target_kind=TargetKind.RELATIVE,
        department_type=power,
        highest_tier=4,
    )
    lat, lon = point_in(GANGKOU)
    decision = simulate(category=Category.objects.get(code="E0101"), latitude=lat, longitude=lon, at=WEEKDAY)
    lost = next(c for c in decision.candidates if c.rule.name == "power first")
    assert lost.matched and "no 电力 department" in lost.reason
    assert decision.winner.rule.name == "市容环境 → 环卫"
    assert decision.department.code == "990104-huanwei"


# --- intake


def test_an_auto_rule_dispatches_at_intake():
    event = file_event(category="E0101")
    assert event.state == State.DISPATCHED
    assert event.lead_department.code == "990102001-huanwei"
    rec = event.records.get(action="dispatch")
    assert rec.actor is None and rec.actor_role == "system"
    assert "市容环境 → 环卫" in rec.reason


def test_a_suggest_rule_puts_a_suggestion_in_front_of_the_operator():
    event = file_event(category="E0601", reporter="op_nanhu")
    assert event.state == State.REPORTED
    suggestion = RoutingSuggestion.objects.get(event=event)
    assert suggestion.department.code == "990102001-zhujian"
    assert list(suggestion.co_departments.values_list("code", flat=True)) == ["990102001-gongan"]


def test_with_no_match_the_event_waits_for_its_street():
    RoutingRule.objects.filter(category__code__in=["E01", "E0101"]).update(is_active=False)
    event = file_event(category="E0101")
    assert event.state == State.REPORTED
    assert event.owner_unit.code == "990102001"
    assert not RoutingSuggestion.objects.filter(event=event).exists()


# --- ties refused when saved


def test_a_rule_that_could_tie_is_refused_naming_the_other():
    existing = RoutingRule.objects.get(name="市容环境 → 环卫")
    clash = RoutingRule(
        name="clash",
        priority=existing.priority,
        category=Category.objects.get(code="E0101"),
        department_type=existing.department_type,
    )
    with pytest.raises(ValidationError) as exc:
        clash.full_clean()
    assert existing.name in exc.value.message_dict["priority"][0]


def test_exclusive_conditions_at_one_priority_are_accepted():
    night = RoutingRule.objects.get(name="夜间噪声 → 派出所")
    day = RoutingRule(
        name="白天噪声 → 城管",
        priority=night.priority,
        category=night.category,
        department_type=RoutingRule.objects.get(name="宣传广告 → 城管").department_type,
        time_from=night.time_to,
        time_to=night.time_from,
    )
    day.full_clean()
    overlapping = RoutingRule(
        name="傍晚噪声",
        priority=night.priority,
        category=night.category,
        department_type=day.department_type,
        time_from=night.time_from.replace(hour=21),
        time_to=night.time_from.replace(hour=23),
    )
    with pytest.raises(ValidationError):
        overlapping.full_clean()


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"target_kind": TargetKind.RELATIVE, "department_type": None}, "department_type"),
        ({"target_kind": TargetKind.NAMED, "department": None}, "department"),
        ({"urgencies": [7]}, "urgencies"),
        ({"sources": ["fax"]}, "sources"),
    ],
)
def test_malformed_rules_are_refused_beside_the_field(fields, error_field):
    rule = RoutingRule.objects.get(name="宣传广告 → 城管")
    rule.priority = 999
    for key, value in fields.items():
        setattr(rule, key, value)
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert error_field in exc.value.message_dict


# --- admin and API


def _admin_form_data(rule: RoutingRule, **changes) -> dict:
    data = {
        "name": rule.name,
        "priority": rule.priority,
        "mode": rule.mode,
        "is_active": "on" if rule.is_active else "",
        "category": rule.category_id or "",
        "region": rule.region_id or "",
        "urgencies": "[]",
        "sources": "[]",
        "time_from": "",
        "time_to": "",
        "day_type": rule.day_type,
        "keywords": rule.keywords,
        "target_kind": rule.target_kind,
        "department_type": rule.department_type_id or "",
        "highest_tier": rule.highest_tier,
        "department": rule.department_id or "",
        "co_handler_types": [t.pk for t in rule.co_handler_types.all()],
    }
    data.update(changes)
    return {
        k: v for k, v in data.items() if v != "" or k in ("time_from", "time_to", "keywords", "region", "department")
    }


def test_changing_a_rule_in_the_admin_changes_the_simulation_without_restart(login):
    client = login("admin")
    params = {
        "category": Category.objects.get(code="E0201").pk,
        "latitude": point_in(NANHU)[0],
        "longitude": point_in(NANHU)[1],
        "source": "grid_worker",
    }
    page = client.get("/admin/dispatch/routingrule/simulate/", params)
    assert page.context["decision"].department.code == "990102001-chengguan"
    rule = RoutingRule.objects.get(name="宣传广告 → 城管")
    huanwei = RoutingRule.objects.get(name="市容环境 → 环卫").department_type_id
    response = client.post(
        f"/admin/dispatch/routingrule/{rule.pk}/change/", _admin_form_data(rule, department_type=huanwei)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    page = client.get("/admin/dispatch/routingrule/simulate/", params)
    assert page.context["decision"].department.code == "990102001-huanwei"
    assert page.context["decision"].candidates and 'id="candidates"' in page.content.decode()


def test_admin_refuses_a_tie_beside_the_priority_field(login):
    client = login("admin")
    rule = RoutingRule.objects.get(name="宣传广告 → 城管")
    clash_with = RoutingRule.objects.get(name="市容环境 → 环卫")
    response = client.post(
        f"/admin/dispatch/routingrule/{rule.pk}/change/", _admin_form_data(rule, category=clash_with.category_id)
    )
    assert response.status_code == 200
    assert clash_with.name in str(response.context["adminform"].form.errors["priority"])


def test_simulation_api(login):
    client = login("op_nanhu")
    lat, lon = point_in(XILING)
    response = client.post(
        "/api/v1/routing/simulate",
        {"category": "E0304", "latitude": lat, "longitude": lon, "at": WEEKDAY.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["department"]["code"] == "990103001-chengguan"
    assert [d["code"] for d in body["co_departments"]] == ["990103001-zhujian"]
    assert body["rule"]["mode"] == RoutingMode.SUGGEST
    losers = [c for c in body["candidates"] if not c["wins"]]
    assert losers and all(c["lost_because"] for c in losers)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"category": "NOPE", "latitude": 30.01, "longitude": 120.01}, "category"),
        ({"category": "E0101", "latitude": 95, "longitude": 120.01}, "latitude"),
        ({"category": "E0101", "latitude": 10, "longitude": 10}, "location"),
    ],
)
def test_simulation_api_explains_bad_input(login, payload, field):
    client = login("op_nanhu")
    response = client.post("/api/v1/routing/simulate", payload, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["errors"]


def test_simulation_api_needs_authentication(client):
    response = client.post("/api/v1/routing/simulate", {}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_deactivating_a_department_reroutes_at_once():
    """Departments are cached per process with the rules: saving one must reach the next decision."""
    from tests.factories import dept

    e0101 = Category.objects.get(code="E0101")
    lat, lon = point_in(NANHU)
    assert simulate(category=e0101, latitude=lat, longitude=lon).department.code == "990102001-huanwei"
    street_huanwei = dept("990102001-huanwei")
    street_huanwei.is_active = False
    street_huanwei.save()
    assert simulate(category=e0101, latitude=lat, longitude=lon).department.code == "990102-huanwei"


def test_the_history_routers_remembered_answers_are_decides():
    """history_router remembers answers by what the concerned rules can tell apart; each must be the
    answer decide() gives that very situation (night noise, rest-day works, keywords, every place)."""
    import random

    from accounts.models import OrgUnit, Tier
    from dispatch.routing import Situation, decide, history_router

    route = history_router()
    rng = random.Random(4)
    grids = list(OrgUnit.objects.filter(tier=Tier.GRID))
    categories = list(Category.objects.filter(parent__isnull=False).select_related("parent"))
    texts = ["", "发现针头和医疗垃圾", "化学品泄漏", "路灯不亮"]
    zone = ZoneInfo("Asia/Shanghai")
    for _ in range(3000):
        category, grid = rng.choice(categories), rng.choice(grids)
        source = rng.choice(["hotline_12345", "grid_worker", "other", "sensor"])
        at = datetime(2026, 5, rng.randint(1, 10), rng.randint(0, 23), rng.randint(0, 59), tzinfo=zone)
        text = rng.choice(texts)
        expected = decide(Situation(category, grid, category.default_urgency, source, at, text)).department
        assert route(category, grid, source, at, text) == expected


def test_intakes_route_picks_decides_winner_from_its_categorys_rules():
    """route() (intake's) reads only the rules a category can match; the winner, its department and
    co-handlers are decide()'s over every rule, and a rule saved later is seen at once."""
    rng = random.Random(7)
    grids = list(OrgUnit.objects.filter(tier=Tier.GRID))
    categories = list(Category.objects.filter(parent__isnull=False).select_related("parent"))
    texts = ["", "发现针头和医疗垃圾", "化学品泄漏", "路灯不亮"]
    for _ in range(1500):
        category, grid = rng.choice(categories), rng.choice(grids)
        at = datetime(2026, 5, rng.randint(1, 10), rng.randint(0, 23), rng.randint(0, 59), tzinfo=SH)
        situation = Situation(
            category, grid, rng.choice([1, 2, 3]), rng.choice(["hotline_12345", "grid_worker"]), at, rng.choice(texts)
        )
        fast, full = route(situation), decide(situation)
        assert (fast.winner and fast.winner.rule) == (full.winner and full.winner.rule)
        assert fast.department == full.department
        assert fast.co_departments == full.co_departments
        for candidate in fast.candidates:
            assert candidate.rule.category is None or candidate.rule.category.pk in (category.pk, category.parent_id)
    e0201 = Category.objects.get(code="E0201")
    situation = Situation(e0201, OrgUnit.objects.get(code=NANHU), 2, "grid_worker", WEEKDAY)
    assert route(situation).department.code == "990102001-chengguan"
    RoutingRule.objects.create(
        name="城管先交应急",
        category=e0201,
        target_kind=TargetKind.NAMED,
        department=Department.objects.get(code="990102-yingji"),
        priority=0,
        mode=RoutingMode.AUTO,
    )
    assert route(situation).department.code == "990102-yingji" == decide(situation).department.code
