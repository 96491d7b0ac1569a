import pytest

from core.errors import NotFound
from incidents.selectors import event_for_user, events_for_user
from operations import services
from tests.factories import dept, file_event, user

pytestmark = pytest.mark.django_db


def test_lead_and_co_handlers_see_the_event_others_do_not():
    event = file_event()
    services.event_dispatch(
        actor=user("op_nanhu"),
        event_id=event.pk,
        department=dept("990102001-huanwei"),
        co_departments=[dept("990102001-chengguan")],
    )
    for username in ("hd_nanhu_huanwei", "hd_nanhu_chengguan", "op_nanhu", "op_jiangnan", "op_city", "gw_nanhu1"):
        assert events_for_user(user(username)).filter(pk=event.pk).exists(), username
    for username in ("hd_jiangnan_huanwei", "hd_hexi_chengguan", "op_hexi", "op_xiling", "gw_xiling1", "gw_haiwan1"):
        assert not events_for_user(user(username)).filter(pk=event.pk).exists(), username
        with pytest.raises(NotFound):
            event_for_user(user(username), pk=event.pk)


def test_a_returned_event_leaves_the_departments_view():
    event = file_event()
    services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))
    services.event_return(actor=user("hd_nanhu_huanwei"), event_id=event.pk, reason="不归我们")
    assert not events_for_user(user("hd_nanhu_huanwei")).filter(pk=event.pk).exists()


def test_no_duplicates_in_lists_for_users_with_several_routes_to_an_event():
    event = file_event()
    services.event_dispatch(
        actor=user("op_nanhu"),
        event_id=event.pk,
        department=dept("990102001-huanwei"),
        co_departments=[dept("990102001-chengguan")],
    )
    admin = user("admin")
    assert events_for_user(admin).filter(pk=event.pk).count() == 1
    assert events_for_user(user("hd_nanhu_chengguan")).count() == 1


def test_a_city_operator_who_also_handles_for_a_department_still_sees_the_whole_city():
    from accounts.roles import Role
    from accounts.services import membership_grant

    elsewhere = file_event(reporter="gw_xiling1", grid="99010300100101")  # 河西区, no department
    op_city = user("op_city")
    membership_grant(user=op_city, role=Role.HANDLER, department=dept("990102001-huanwei"))
    visible = events_for_user(user("op_city"))
    assert visible.filter(pk=elsewhere.pk).exists()
    assert visible.count() == events_for_user(user("admin")).count()
