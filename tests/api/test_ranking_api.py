"""GET /api/v1/reports/ranking and /reports/trend: shape, figures, scope, errors, schema."""

import pytest
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.models import User
from tests.dispatch.test_scores import LHW, NCG, NHW, history  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("history")]
NOW = "2026-11-20 12:00:00+08:00"
ROW_FIELDS = {
    "key",
    "label",
    "rank",
    "score",
    "arrow",
    "previous_rank",
    "previous_score",
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "return_rate",
}


def api(username):
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def get(client, url, query):
    with freeze_time(NOW):
        return client.get(url, query)


def test_ranking_shape_and_figures():
    body = get(
        api("sup_jiangnan"), "/api/v1/reports/ranking", {"unit": "990102", "period": "month", "date": "2026-11-15"}
    )
    assert body.status_code == 200, body.content
    data = body.json()
    assert (data["unit"], data["period"], data["label"]) == ("990102", "month", "2026-11")
    assert (data["start"], data["end"]) == ("2026-11-01", "2026-11-30")
    assert data["previous"] == {"label": "2026-10", "start": "2026-10-01", "end": "2026-10-31"}
    departments = data["departments"]
    assert departments["formula"].startswith("100 × (40 × 按期结案率")
    assert {w["indicator"]: w["weight"] for w in departments["weights"]} == {
        "on_time_rate": 40.0,
        "closure_rate": 30.0,
        "rework_rate": 20.0,
        "return_rate": 10.0,
    }
    rows = {r["key"]: r for r in departments["rows"]}
    assert all(set(r) == ROW_FIELDS for r in departments["rows"])
    assert [r["key"] for r in departments["rows"]] == [NHW, NCG, LHW]
    assert rows[NCG] | {"label": None} == {
        "key": NCG,
        "label": None,
        "rank": 2,
        "score": 75.0,
        "arrow": "↓",
        "previous_rank": 1,
        "previous_score": 100.0,
        "closure_rate": 1.0,
        "on_time_rate": 1.0,
        "rework_rate": 1.0,
        "return_rate": 0.5,
    }
    assert [(r["key"], r["score"], r["arrow"]) for r in data["regions"]["rows"]] == [
        ("990102001", 95.0, "↑"),
        ("990102002", 60.0, "↓"),
    ]
    assert any(d["name"] == "应结案数" for d in data["definitions"])


def test_ranking_defaults_and_errors():
    client = api("sup_jiangnan")
    with freeze_time(NOW):
        default = client.get("/api/v1/reports/ranking").json()
    assert (default["unit"], default["period"], default["label"]) == ("990102", "month", "2026-11")
    bad = get(client, "/api/v1/reports/ranking", {"period": "week", "date": "soon"})
    assert bad.status_code == 400
    assert "period" in bad.content.decode() and "date" in bad.content.decode()
    assert get(api("op_nanhu"), "/api/v1/reports/ranking", {"unit": "990102"}).status_code == 400
    User.objects.create_user("outsider", password="x")
    assert get(api("outsider"), "/api/v1/reports/ranking", {}).status_code == 404


def test_trend_api():
    data = get(api("sup_jiangnan"), "/api/v1/reports/trend", {"unit": "990102", "year": 2026}).json()
    assert [m["month"] for m in data["months"]] == list(range(1, 12))
    november = data["months"][10]
    assert (november["should_close"], november["closed_on_time"], november["rework_rate"]) == (5, 4, 0.2)


def test_the_schema_documents_ranking_and_trend():
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    ranking = schema["paths"]["/api/v1/reports/ranking"]["get"]
    assert {p["name"] for p in ranking["parameters"]} >= {"unit", "period", "date"}
    assert "RankingOutput" in schema["components"]["schemas"]
    placing = schema["components"]["schemas"]["PlacingOutput"]["properties"]
    assert set(placing) == ROW_FIELDS
    assert "/api/v1/reports/trend" in schema["paths"]
