"""The only code that changes events: one function per domain operation.

Views, admin actions, the API, management commands and Celery tasks call
these; none of them sets `Event.state` or writes history itself.
"""

from operations.services.approvals import (
    event_invalidate,
    event_resume,
    extension_request,
    invalidation_request,
    request_decide,
    suspension_request,
)
from operations.services.bulk import BulkResult, events_dispatch
from operations.services.intake import FiledEvent, event_file
from operations.services.lifecycle import (
    RESULT_ACTIONS,
    event_accept,
    event_add_note,
    event_close,
    event_dispatch,
    event_escalate,
    event_merge,
    event_redispatch,
    event_reopen,
    event_return,
    event_submit_result,
    event_urge,
    event_verify,
    result_submitter_id,
)
from operations.services.readings import BatchTooLarge, Received, readings_receive
from operations.services.warnings import warning_file, warning_level_changed, warning_lifted

__all__ = [
    "RESULT_ACTIONS",
    "BatchTooLarge",
    "BulkResult",
    "FiledEvent",
    "Received",
    "event_accept",
    "event_add_note",
    "event_close",
    "event_dispatch",
    "event_escalate",
    "event_file",
    "event_invalidate",
    "event_merge",
    "event_redispatch",
    "event_reopen",
    "event_resume",
    "event_return",
    "event_submit_result",
    "event_urge",
    "event_verify",
    "events_dispatch",
    "extension_request",
    "invalidation_request",
    "readings_receive",
    "request_decide",
    "result_submitter_id",
    "suspension_request",
    "warning_file",
    "warning_level_changed",
    "warning_lifted",
]
