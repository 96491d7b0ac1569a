"""#13 item 4: auto-escalation is exactly once, and one bad event does not stop the sweep."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from dispatch.models import RoutingRule, SlaClock
from incidents.models import Event
from operations import sweep as sweep_module
from operations.sweep import sweep
from tests.factories import file_event

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def manual_dispatch():
    RoutingRule.objects.update(is_active=False)


def test_an_escalation_that_fails_leaves_the_clock_due_and_is_retried(monkeypatch):
    with freeze_time(datetime(2026, 11, 25, 10, tzinfo=SH)):
        broken, fine = file_event(), file_event(title="另一处")
    real = sweep_module.event_escalate

    def escalate(*, event_id, **kwargs):
        if event_id == broken.pk:
            raise RuntimeError("the database said something unexpected")
        return real(event_id=event_id, **kwargs)

    monkeypatch.setattr(sweep_module, "event_escalate", escalate)
    with freeze_time(datetime(2026, 11, 25, 10, 31, tzinfo=SH)):
        result = sweep()
    # The other event of the same batch went on; the broken one rolled back whole.
    assert (result.escalated, result.failed) == (1, 1)
    assert Event.objects.get(pk=fine.pk).owner_unit.code == "990102"
    stuck = SlaClock.objects.get(event=broken, step="dispatch")
    assert (stuck.red_notified, stuck.breached_at) == (False, None)  # not marked red without escalating
    assert not Event.objects.get(pk=broken.pk).records.filter(action="escalate").exists()

    monkeypatch.setattr(sweep_module, "event_escalate", real)
    with freeze_time(datetime(2026, 11, 25, 10, 32, tzinfo=SH)):
        retried = sweep()
        again = sweep()
    assert (retried.escalated, again.escalated) == (1, 0)
    event = Event.objects.get(pk=broken.pk)
    assert event.owner_unit.code == "990102"
    assert event.records.filter(action="escalate").count() == 1
    first_clock = SlaClock.objects.filter(event=event, step="dispatch").order_by("id").first()
    assert first_clock.breached_at is not None and first_clock.red_notified


def test_the_red_mark_and_the_escalation_commit_together(monkeypatch):
    """A crash between them (here: the escalation's history write) leaves neither."""
    with freeze_time(datetime(2026, 11, 25, 10, tzinfo=SH)):
        event = file_event()

    def crash(*args, **kwargs):
        raise SystemError("worker killed")

    monkeypatch.setattr(sweep_module, "event_escalate", crash)
    with freeze_time(datetime(2026, 11, 25, 10, 31, tzinfo=SH)):
        assert sweep().failed == 1
    clock = SlaClock.objects.get(event=event, step="dispatch")
    assert clock.next_check_at is not None and not clock.red_notified
    assert Event.objects.get(pk=event.pk).version == event.version
