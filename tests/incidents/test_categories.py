import pytest

from incidents.models import Category, CategoryKind, Urgency

pytestmark = pytest.mark.django_db

EVENT_CLASSES = {"市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "扩展事件"}
COMPONENT_CLASSES = {"公用设施", "交通设施", "市容环境设施", "园林绿化设施", "其他设施"}


def test_standard_major_classes_exist():
    majors = Category.objects.filter(parent__isnull=True)
    assert set(majors.filter(kind=CategoryKind.EVENT).values_list("name", flat=True)) == EVENT_CLASSES
    assert set(majors.filter(kind=CategoryKind.COMPONENT).values_list("name", flat=True)) == COMPONENT_CLASSES


def test_at_least_forty_subclasses_each_with_a_default_urgency():
    subs = Category.objects.filter(parent__isnull=False)
    assert subs.count() >= 40
    for sub in subs:
        assert sub.default_urgency in Urgency.values
        assert sub.code.startswith(sub.parent.code)
        assert sub.kind == sub.parent.kind
    assert subs.get(name="燃气泄漏").default_urgency == Urgency.CRITICAL


def test_a_third_level_is_refused():
    sub = Category.objects.get(code="E0101")
    third = Category(code="E010101", name="x", kind=CategoryKind.EVENT, parent=sub)
    with pytest.raises(Exception, match="major class"):
        third.full_clean()


def test_categories_are_editable_in_the_admin(login):
    client = login("admin")
    sub = Category.objects.get(code="E0101")
    response = client.get(f"/admin/incidents/category/{sub.pk}/change/")
    assert response.status_code == 200
    response = client.get("/admin/incidents/category/?q=垃圾")
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 2
