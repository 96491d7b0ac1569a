import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/accounts/orgunit/?q=南湖",
    "/admin/accounts/orgunit/?tier__exact=5&within=990102",
    "/admin/accounts/department/?q=城管&type__id__exact=1",
    "/admin/accounts/departmenttype/",
    "/admin/accounts/membership/?role__exact=handler",
    "/admin/accounts/user/?q=op_",
]


@pytest.mark.parametrize("url", PAGES)
def test_admin_lists_search_and_filter(login, url):
    client = login("admin")
    response = client.get(url)
    assert response.status_code == 200


def test_admin_subtree_filter_narrows_the_list(login):
    client = login("admin")
    response = client.get("/admin/accounts/orgunit/?tier__exact=5&within=990102")
    assert response.context["cl"].result_count == 12


def test_admin_is_closed_to_non_staff(login):
    client = login("op_city")
    response = client.get("/admin/accounts/orgunit/")
    assert response.status_code == 302


def _unit_grants(username: str) -> set[tuple[str, str]]:
    from accounts.models import OrgUnitUserObjectPermission

    return set(
        OrgUnitUserObjectPermission.objects.filter(user__username=username).values_list(
            "content_object__code", "permission__codename"
        )
    )


def test_moving_a_membership_to_another_user_takes_the_grants_from_the_previous_one(login):
    """op_xiling's operator membership at 西岭街道 is given to a new colleague in the admin."""
    from accounts.models import Membership, User
    from incidents.selectors import events_for_user
    from tests.factories import file_event

    newcomer = User.objects.create_user("op_xiling_new", password="x")
    membership = Membership.objects.get(user__username="op_xiling", org_unit__code="990103001")
    event = file_event(reporter="gw_xiling1", grid="99010300100101")
    assert events_for_user(User.objects.get(username="op_xiling")).filter(pk=event.pk).exists()

    admin = login("admin")
    response = admin.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {"user": newcomer.pk, "role": membership.role, "org_unit": membership.org_unit_id, "department": ""},
    )
    assert response.status_code == 302, response.content[:2000]
    assert Membership.objects.get(pk=membership.pk).user == newcomer
    assert ("990103001", "operate_event") in _unit_grants("op_xiling_new")
    assert _unit_grants("op_xiling") == set()
    assert not events_for_user(User.objects.get(username="op_xiling")).filter(pk=event.pk).exists()


def test_deleting_a_membership_in_the_admin_takes_its_grants(login):
    from accounts.models import Membership

    membership = Membership.objects.get(user__username="op_xiling", org_unit__code="990103001")
    admin = login("admin")
    response = admin.post(f"/admin/accounts/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _unit_grants("op_xiling") == set()
