"""Events (事件), their categories, approval requests, history chain, photos and access logs.

One idea per module; every public name is re-exported here so `from incidents.models import X`
reads the same everywhere. The modules are imported in the order the models were always
declared in, so the app registry (and everything that walks it) sees them in that order.
"""

# Declaration order (see above), not alphabetical:
# isort: off
from .categories import Category, CategoryKind, Urgency
from .states import INVALIDATABLE_STATES, OPEN_STATES, REQUEST_STATES, TERMINAL_STATES, WITH_DEPARTMENT, State
from .events import Event, Source
from .approvals import ApprovalRequest, RequestKind, RequestStatus
from .records import ACTION_LABELS, EventRecord
from .attachments import Attachment, AttachmentKind, attachment_path
from .contact_reveals import ContactReveal
from .open311_keys import Open311Key
# isort: on

__all__ = [
    "ACTION_LABELS",
    "INVALIDATABLE_STATES",
    "OPEN_STATES",
    "REQUEST_STATES",
    "TERMINAL_STATES",
    "WITH_DEPARTMENT",
    "ApprovalRequest",
    "Attachment",
    "AttachmentKind",
    "Category",
    "CategoryKind",
    "ContactReveal",
    "Event",
    "EventRecord",
    "Open311Key",
    "RequestKind",
    "RequestStatus",
    "Source",
    "State",
    "Urgency",
    "attachment_path",  # named by migration 0001 as incidents.models.attachment_path
]
