"""core.ratelimit.allow: a fixed window per key, one cache round trip once the window is open."""

from unittest import mock

import pytest
from django.core.cache import cache
from freezegun import freeze_time

from core import ratelimit
from core.ratelimit import allow


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_limit_holds_within_a_window_and_a_new_window_starts_again():
    with freeze_time("2026-12-02 10:00:05") as clock:
        assert [allow("k", 3) for _ in range(5)] == [True, True, True, False, False]
        assert allow("other", 3)  # keys are counted apart
        clock.tick(60)
        assert [allow("k", 3) for _ in range(4)] == [True, True, True, False]


def test_an_open_window_costs_one_round_trip():
    with freeze_time("2026-12-02 10:00:05"):
        allow("k", 10)
        with mock.patch.object(ratelimit, "cache", wraps=cache) as spy:
            assert allow("k", 10)
    assert [c[0] for c in spy.method_calls] == ["incr"]


def test_a_window_opened_by_another_process_meanwhile_counts_this_hit_too():
    fake = mock.Mock()
    fake.incr.side_effect = [ValueError("missing"), 2]  # absent, then the other process's 1 plus ours
    fake.add.return_value = False
    with mock.patch.object(ratelimit, "cache", fake):
        assert allow("k", 2) is True
    fake.incr.side_effect = [ValueError("missing"), 3]
    with mock.patch.object(ratelimit, "cache", fake):
        assert allow("k", 2) is False


@pytest.mark.parametrize("incr", [None, ValueError("missing")])
def test_an_unreachable_cache_lets_the_hit_through_and_says_so(incr, caplog):
    fake = mock.Mock()
    fake.incr.side_effect = [incr]
    fake.add.return_value = None  # django-redis with IGNORE_EXCEPTIONS answers None
    with mock.patch.object(ratelimit, "cache", fake):
        assert allow("k", 0) is True
    assert "shared cache unreachable" in caplog.text
