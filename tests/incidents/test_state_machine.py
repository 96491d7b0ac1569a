"""Random operation sequences by random personas (hypothesis stateful testing).

After every step: only transitions of the lifecycle graph appear in any
history, terminal states are left only by reopen, the history is complete
(one record per successful operation; version == record count), every
chain verifies, and personas from another district never succeed.
"""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from incidents.history import verify_event_chain
from incidents.models import ApprovalRequest, Event, EventRecord, RequestStatus
from operations import services
from tests.factories import dept, file_event, png, user

# The lifecycle graph as the design states it, written independently of the model.
ALLOWED = {
    "file": {("", "reported")},
    "self_handle": {("reported", "handled")},
    "dispatch": {("reported", "dispatched")},
    "redispatch": {("dispatched", "dispatched"), ("accepted", "dispatched")},
    "escalate": {("reported", "reported")},
    "accept": {("dispatched", "accepted")},
    "return": {("dispatched", "reported"), ("accepted", "reported")},
    "submit_result": {("accepted", "handled")},
    "verify_pass": {("handled", "verified")},
    "verify_fail": {("handled", "accepted"), ("handled", "reported")},
    "close": {("verified", "closed")},
    "reopen": {("closed", "reported")},
    "suspend": {("accepted", "suspended")},
    "resume": {("suspended", "accepted")},
    "invalidate": {(s, "invalidated") for s in ("reported", "dispatched", "accepted", "suspended")},
    "merge": {("reported", "merged"), ("dispatched", "merged")},
}
NO_STATE_CHANGE = {
    "urge",
    "note",
    "absorb",
    "extension_request",
    "extension_approve",
    "extension_refuse",
    "suspension_request",
    "suspension_refuse",
    "invalidation_request",
    "invalidation_refuse",
}
TERMINAL = {"closed", "invalidated", "merged"}

INSIDERS = ["op_nanhu", "op_jiangnan", "sup_nanhu", "gw_nanhu1", "hd_nanhu_huanwei", "hd_nanhu_chengguan"]
OUTSIDERS = ["op_hexi", "sup_hexi", "gw_xiling1", "hd_hexi_chengguan"]
PERSONAS = INSIDERS + OUTSIDERS
DEPARTMENTS = ["990102001-huanwei", "990102001-chengguan", "990102-huanwei"]
EXPECTED_ERRORS = (NotPermitted, NotFound, Conflict, InvalidInput)


def who(*likely: str):
    """Mostly someone who plausibly may, sometimes anyone (outsiders included)."""
    return st.one_of(st.sampled_from(likely), st.sampled_from(likely), st.sampled_from(PERSONAS))


OPERATORS = who("op_nanhu", "op_jiangnan")
HANDLERS = who("hd_nanhu_huanwei", "hd_nanhu_chengguan")
SUPERVISORS = who("sup_nanhu")
GRID_WORKERS = who("gw_nanhu1")


class Lifecycle(RuleBasedStateMachine):
    events = Bundle("events")

    def __init__(self):
        super().__init__()
        self.ids: list[int] = []
        self.outsider_successes: list[str] = []

    def _do(self, persona: str, call):
        try:
            result = call(user(persona))
        except EXPECTED_ERRORS:
            return None
        if persona in OUTSIDERS:
            self.outsider_successes.append(persona)
        return result

    @initialize(target=events)
    def first_event(self):
        event = file_event()
        self.ids.append(event.pk)
        return event.pk

    @rule(target=events, fixed=st.booleans())
    def file(self, fixed):
        kwargs = {"fixed_on_spot": True, "result_note": "当场处理", "photos": [png()]} if fixed else {}
        event = file_event(**kwargs)
        self.ids.append(event.pk)
        return event.pk

    @rule(event=events, persona=OPERATORS, lead=st.sampled_from(DEPARTMENTS), co=st.booleans())
    def dispatch(self, event, persona, lead, co):
        co_depts = [dept("990102001-chengguan")] if co and lead != "990102001-chengguan" else []
        self._do(
            persona,
            lambda u: services.event_dispatch(actor=u, event_id=event, department=dept(lead), co_departments=co_depts),
        )

    @rule(event=events, persona=OPERATORS, lead=st.sampled_from(DEPARTMENTS))
    def redispatch(self, event, persona, lead):
        self._do(
            persona, lambda u: services.event_redispatch(actor=u, event_id=event, department=dept(lead), reason="改派")
        )

    @rule(event=events, persona=OPERATORS)
    def escalate(self, event, persona):
        self._do(persona, lambda u: services.event_escalate(actor=u, event_id=event, reason="上报"))

    @rule(event=events, persona=HANDLERS)
    def accept(self, event, persona):
        self._do(persona, lambda u: services.event_accept(actor=u, event_id=event))

    @rule(event=events, persona=HANDLERS, reason=st.sampled_from(["非本部门职责", "", "不归我们管"]))
    def give_back(self, event, persona, reason):
        self._do(persona, lambda u: services.event_return(actor=u, event_id=event, reason=reason))

    @rule(event=events, persona=HANDLERS)
    def submit(self, event, persona):
        self._do(
            persona, lambda u: services.event_submit_result(actor=u, event_id=event, note="已处置", photos=[png()])
        )

    @rule(event=events, persona=GRID_WORKERS, passed=st.booleans())
    def verify(self, event, persona, passed):
        self._do(persona, lambda u: services.event_verify(actor=u, event_id=event, passed=passed, note="核查"))

    @rule(event=events, persona=OPERATORS)
    def close(self, event, persona):
        self._do(persona, lambda u: services.event_close(actor=u, event_id=event))

    @rule(event=events, persona=OPERATORS)
    def reopen(self, event, persona):
        self._do(persona, lambda u: services.event_reopen(actor=u, event_id=event, reason="回访不满意"))

    @rule(event=events, persona=SUPERVISORS)
    def urge(self, event, persona):
        self._do(persona, lambda u: services.event_urge(actor=u, event_id=event, note="督办"))

    @rule(event=events, persona=HANDLERS)
    def note(self, event, persona):
        self._do(persona, lambda u: services.event_add_note(actor=u, event_id=event, note="协办意见"))

    @rule(
        event=events,
        persona=who("hd_nanhu_huanwei", "op_nanhu"),
        kind=st.sampled_from(["extension", "suspension", "invalidation"]),
    )
    def ask(self, event, persona, kind):
        calls = {
            "extension": lambda u: services.extension_request(actor=u, event_id=event, hours=4, reason="需要时间"),
            "suspension": lambda u: services.suspension_request(actor=u, event_id=event, reason="季节性"),
            "invalidation": lambda u: services.invalidation_request(actor=u, event_id=event, reason="非问题"),
        }
        self._do(persona, calls[kind])

    @rule(event=events, persona=SUPERVISORS, approve=st.booleans())
    def decide(self, event, persona, approve):
        pending = ApprovalRequest.objects.filter(event_id=event, status=RequestStatus.PENDING).first()
        if pending:
            self._do(
                persona, lambda u: services.request_decide(actor=u, request_id=pending.pk, approve=approve, note="决定")
            )

    @rule(event=events, persona=who("hd_nanhu_huanwei", "sup_nanhu"))
    def resume(self, event, persona):
        self._do(persona, lambda u: services.event_resume(actor=u, event_id=event))

    @rule(a=events, b=events, persona=OPERATORS)
    def merge(self, a, b, persona):
        self._do(persona, lambda u: services.event_merge(actor=u, event_id=a, into_event_id=b))

    @rule(event=events)
    def advance(self, event):
        """One step along the main line by the right person, so runs reach deep into the loop."""
        state = Event.objects.get(pk=event).state
        steps = {
            "reported": (
                "op_nanhu",
                lambda u: services.event_dispatch(actor=u, event_id=event, department=dept("990102001-huanwei")),
            ),
            "dispatched": ("hd_nanhu_huanwei", lambda u: services.event_accept(actor=u, event_id=event)),
            "accepted": (
                "hd_nanhu_huanwei",
                lambda u: services.event_submit_result(actor=u, event_id=event, note="已处置", photos=[png()]),
            ),
            "handled": ("gw_nanhu1", lambda u: services.event_verify(actor=u, event_id=event, passed=True)),
            "verified": ("op_nanhu", lambda u: services.event_close(actor=u, event_id=event)),
        }
        if state in steps:
            persona, call = steps[state]
            self._do(persona, call)

    @invariant()
    def outsiders_never_succeed(self):
        assert self.outsider_successes == []

    @invariant()
    def histories_follow_the_graph(self):
        for event in Event.objects.filter(pk__in=self.ids):
            records = list(EventRecord.objects.filter(event=event).order_by("seq"))
            assert event.version == len(records), (event.code, event.version, len(records))
            assert records[-1].to_state == event.state
            previous = ""
            for rec in records:
                assert rec.from_state == previous or (rec.action == "absorb" and rec.from_state == previous)
                if rec.action in NO_STATE_CHANGE:
                    assert rec.to_state == rec.from_state, rec.action
                else:
                    assert (rec.from_state, rec.to_state) in ALLOWED[rec.action], (
                        rec.action,
                        rec.from_state,
                        rec.to_state,
                    )
                if rec.from_state in TERMINAL:
                    assert rec.from_state == "closed" and rec.action == "reopen", (rec.action, rec.from_state)
                previous = rec.to_state
            assert verify_event_chain(event.pk) is None


@pytest.mark.django_db
def test_random_operation_sequences_keep_the_lifecycle_sound():
    machine = Lifecycle.TestCase
    machine.settings = settings(
        max_examples=20,
        derandomize=True,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine().runTest()
    # The run must have reached deep into the loop, or it proved little.
    seen = set(EventRecord.objects.values_list("action", flat=True))
    wanted = {"dispatch", "accept", "submit_result", "verify_pass", "close", "return", "escalate", "urge"}
    assert wanted <= seen, " ".join(sorted(seen))
