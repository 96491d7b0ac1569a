import pytest

from dispatch.models import RoutingRule


@pytest.fixture(autouse=True)
def no_routing(request, db):
    """Lifecycle tests drive every step by hand; routing is tested in tests/dispatch."""
    if "committed_city" in request.fixturenames:
        request.getfixturevalue("committed_city")  # load first, then switch routing off
    RoutingRule.objects.update(is_active=False)
