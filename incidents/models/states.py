"""The lifecycle's states, and the groups of them the rules read (open, terminal, with the department)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    REPORTED = "reported", _("reported (to dispatch)")
    DISPATCHED = "dispatched", _("dispatched (to accept)")
    ACCEPTED = "accepted", _("accepted (handling)")
    SUSPENDED = "suspended", _("suspended")
    HANDLED = "handled", _("handled (to verify)")
    VERIFIED = "verified", _("verified (to close)")
    CLOSED = "closed", _("closed")
    INVALIDATED = "invalidated", _("invalidated")
    MERGED = "merged", _("merged")


OPEN_STATES = (State.REPORTED, State.DISPATCHED, State.ACCEPTED, State.SUSPENDED, State.HANDLED, State.VERIFIED)
TERMINAL_STATES = (State.CLOSED, State.INVALIDATED, State.MERGED)
# The department holds the event in these states; handlers act on it.
WITH_DEPARTMENT = (State.DISPATCHED, State.ACCEPTED, State.SUSPENDED)
# Not a real case (作废) can be decided until the work is done.
INVALIDATABLE_STATES = (State.REPORTED, State.DISPATCHED, State.ACCEPTED, State.SUSPENDED)
# The states in which a pending request of each kind can still be decided. A change that
# leaves them withdraws the request (services._base.commit), so nothing waits for ever.
REQUEST_STATES: dict[str, tuple[str, ...]] = {
    "extension": (State.DISPATCHED, State.ACCEPTED, State.SUSPENDED),
    "suspension": (State.ACCEPTED,),
    "invalidation": INVALIDATABLE_STATES,
}
