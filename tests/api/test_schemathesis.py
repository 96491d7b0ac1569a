"""Property-based API testing with schemathesis against the schema the app serves.

Every operation of /api/v1 is called with generated data, as a signed-in
operator; no call may produce a server error or a response that breaks the
documented schema. Bounded: a few examples per operation, no shrinking.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import User

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Like Django's test client: the app must not close the test transaction's connection after a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db):
    return Token.objects.get_or_create(user=User.objects.get(username="op_nanhu"))[0].key


# One test per operation, named by its label ("GET /api/v1/events/"). schema.parametrize() would
# give every operation the same node id, and pytest-xdist, which schedules by node id, ran one.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_api_conforms_to_its_schema(operation, token):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        case.call_and_validate(
            headers={"Authorization": f"Token {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    call()


def test_every_operation_of_the_schema_is_tested():
    assert len(OPERATIONS) >= 50 and len({op.label for op in OPERATIONS}) == len(OPERATIONS)
