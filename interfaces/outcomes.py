"""What to tell someone whose operation took the event out of their view.

A department that returns an event (退回) no longer sees it; neither does a grid worker
whose event was merged into one in the next grid. The operation succeeded, and every channel
says so in the same words.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from incidents.models import State


def lost_sight_message(operation: str, state: str) -> str:
    if operation == "return":
        return _("Returned; waiting for the operations centre to dispatch it again.")
    if operation in ("redispatch", "dispatch"):
        return _("Dispatched to another department; it has left your view.")
    if operation == "escalate":
        return _("Escalated to the tier above; it has left your view.")
    return _("Done: the event is now %(state)s and has left your view.") % {"state": State(state).label}
