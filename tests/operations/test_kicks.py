"""The outbox and webhook kicks publish a task and wait for nothing.

With the Redis result backend, a task sent without ignore_result first subscribes to its result
channel; with Redis down, intake then hung until the client gave up (the process fault test caught it).
"""

from unittest import mock

import pytest

from operations import outbox, webhooks


@pytest.mark.parametrize(("module", "task"), [(outbox, outbox.DRAIN_TASK), (webhooks, webhooks.DELIVERY_TASK)])
def test_a_kick_sends_its_task_ignoring_the_result(module, task):
    app = mock.Mock()
    with mock.patch.object(module, "current_app", app):
        module._kick()
    app.send_task.assert_called_once_with(task, ignore_result=True)


def test_a_kick_with_the_broker_down_is_swallowed():
    app = mock.Mock()
    app.send_task.side_effect = ConnectionError("broker down")
    with mock.patch.object(outbox, "current_app", app):
        outbox._kick()  # logged, left for the periodic drain
