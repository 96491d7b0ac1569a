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
