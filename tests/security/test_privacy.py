import pytest

from core.errors import NotFound, NotPermitted
from dispatch.models import RoutingRule
from incidents.models import ContactReveal, Source
from incidents.privacy import contact_for, contact_reveal, mask_name, mask_phone
from operations import services
from tests.factories import dept, file_event, user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("13812345678", "138****5678"), ("021-5555123", "021****5123"), ("5555123", "***5123"), ("110", "***"), ("", "")],
)
def test_phone_masking(raw, masked):
    assert mask_phone(raw) == masked


def test_name_masking():
    assert (mask_name("王先生"), mask_name("李"), mask_name("")) == ("王**", "李", "")


@pytest.fixture
def hotline_event():
    RoutingRule.objects.update(is_active=False)
    event = file_event(reporter="op_nanhu", source=Source.HOTLINE, reporter_name="王先生", reporter_phone="13812345678")
    services.event_dispatch(actor=user("op_nanhu"), event_id=event.pk, department=dept("990102001-huanwei"))
    return event


def test_a_handler_sees_masked_contact_and_cannot_reveal(hotline_event):
    shown = contact_for(user("hd_nanhu_huanwei"), hotline_event)
    assert (shown.name, shown.phone, shown.masked, shown.can_reveal) == ("王**", "138****5678", True, False)
    with pytest.raises(NotPermitted):
        contact_reveal(user=user("hd_nanhu_huanwei"), event_id=hotline_event.pk)
    assert not ContactReveal.objects.exists()


def test_an_operator_reveals_and_the_reveal_is_logged(hotline_event):
    op = user("op_jiangnan")
    assert contact_for(op, hotline_event).masked
    shown = contact_reveal(user=op, event_id=hotline_event.pk, reason="回访")
    assert (shown.name, shown.phone) == ("王先生", "13812345678")
    log = ContactReveal.objects.get()
    assert (log.user, log.event_id, log.reason) == (op, hotline_event.pk, "回访")


def test_outsiders_cannot_even_find_the_event(hotline_event):
    with pytest.raises(NotFound):
        contact_reveal(user=user("op_hexi"), event_id=hotline_event.pk)


def test_a_grid_worker_sees_their_own_report_unmasked():
    RoutingRule.objects.update(is_active=False)
    event = file_event(reporter="gw_nanhu1", reporter_name="张三", reporter_phone="13900001111")
    shown = contact_for(user("gw_nanhu1"), event)
    assert not shown.masked and shown.phone == "13900001111"


def test_the_admin_shows_contacts_masked_and_reveals_only_through_the_logged_reveal(client, hotline_event):
    """A staff operator of the district reads the event in the admin: 王** 138****5678, and a link to
    the event page's logged reveal; nothing is revealed (or logged) by opening the admin page."""
    from django.contrib.auth.models import Permission

    op = user("op_jiangnan")
    op.is_staff = True
    op.save(update_fields=["is_staff"])
    op.user_permissions.add(Permission.objects.get(content_type__app_label="incidents", codename="view_event"))
    client.force_login(op)
    page = client.get(f"/admin/incidents/event/{hotline_event.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "13812345678" not in body and "王先生" not in body
    assert "王**" in body and "138****5678" in body
    assert f'href="/events/{hotline_event.pk}/"' in body
    assert not ContactReveal.objects.exists()
    # The reveal itself is the event page's, and it is logged.
    revealed = client.post(f"/events/{hotline_event.pk}/reveal", {"reason": "回访"})
    assert "13812345678" in revealed.content.decode()
    assert ContactReveal.objects.get().user == op


def test_the_superuser_sees_contacts_masked_in_the_admin_too(client, hotline_event):
    client.force_login(user("admin"))
    body = client.get(f"/admin/incidents/event/{hotline_event.pk}/change/").content.decode()
    assert "13812345678" not in body and "138****5678" in body
