import pytest
from django.core.exceptions import ValidationError
from guardian.models import UserObjectPermission

from accounts.models import Department, OrgUnit, OrgUnitUserObjectPermission, Role, User
from accounts.selectors import has_department_permission, has_unit_permission, jurisdiction_q
from accounts.services import membership_grant, membership_revoke
from fixtures.demo_city import DEMO_USERS

pytestmark = pytest.mark.django_db


def test_a_grant_at_a_district_covers_its_subtree_and_nothing_else(persona):
    op = persona("op_jiangnan")
    inside = OrgUnit.objects.get(code="99010200200203")
    outside = OrgUnit.objects.get(code="99010300100101")
    city = OrgUnit.objects.get(code="990100")
    assert has_unit_permission(op, "operate_event", inside)
    assert not has_unit_permission(op, "operate_event", outside)
    assert not has_unit_permission(op, "operate_event", city)
    assert not has_unit_permission(op, "supervise_event", inside)


def test_jurisdiction_filter_selects_exactly_the_subtree(persona):
    q = jurisdiction_q(persona("op_nanhu"), "view_events")
    codes = set(OrgUnit.objects.filter(q).values_list("code", flat=True))
    assert codes == set(OrgUnit.objects.filter(path__contains="/990102001/").values_list("code", flat=True))
    outsider = User.objects.create_user("nobody", password="x")
    assert not OrgUnit.objects.filter(jurisdiction_q(outsider, "view_events")).exists()


def test_handlers_hold_permissions_on_their_department_only(persona):
    handler = persona("hd_nanhu_huanwei")
    own = Department.objects.get(code="990102001-huanwei")
    other = Department.objects.get(code="990102002-huanwei")
    assert has_department_permission(handler, "handle_event", own)
    assert not has_department_permission(handler, "handle_event", other)


def test_grants_live_in_the_direct_foreign_key_tables():
    assert OrgUnitUserObjectPermission.objects.exists()
    assert UserObjectPermission.objects.count() == 0


def test_revoking_a_membership_removes_its_grants(persona):
    user = persona("op_xiling")
    unit = OrgUnit.objects.get(code="990103001")
    membership = user.memberships.get()
    membership_revoke(membership=membership)
    assert not has_unit_permission(user, "operate_event", unit)
    membership_grant(user=user, role=Role.OPERATOR, org_unit=unit)
    assert has_unit_permission(user, "operate_event", unit)


@pytest.mark.parametrize(
    ("role", "unit_code", "department_code"),
    [
        (Role.HANDLER, "990102", None),
        (Role.OPERATOR, None, "990102-chengguan"),
        (Role.GRID_WORKER, "990102", None),
        (Role.OPERATOR, "99010200100101", None),
    ],
)
def test_memberships_that_make_no_sense_are_refused(role, unit_code, department_code):
    user = User.objects.create_user("newcomer", password="x")
    with pytest.raises(ValidationError):
        membership_grant(
            user=user,
            role=role,
            org_unit=OrgUnit.objects.filter(code=unit_code).first(),
            department=Department.objects.filter(code=department_code).first(),
        )
    assert not user.memberships.exists()


def test_there_is_a_demo_user_for_every_role_at_several_tiers():
    roles = {}
    for spec in DEMO_USERS:
        roles.setdefault(spec.role, set()).add(len(spec.unit_code or spec.department_code.split("-")[0]))
    assert set(roles) == set(Role.values)
    assert len(roles[Role.OPERATOR]) >= 3
    assert len(roles[Role.HANDLER]) >= 2


@pytest.mark.parametrize("username", [spec.username for spec in DEMO_USERS])
def test_every_demo_user_signs_in(login, username):
    client = login(username)
    response = client.get("/?stay=1")
    assert response.status_code == 200
    assert response.context["memberships"]
    start = client.get("/", follow=True)
    assert start.status_code == 200


def test_wrong_password_is_refused_beside_the_form(client):
    response = client.post("/accounts/login/", {"username": "op_city", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
