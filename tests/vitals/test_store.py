"""vitals.store.any_of: one parameter for thousands of values, the same rows as `__in`."""

import pytest

from accounts.models import OrgUnit
from vitals.store import any_of

pytestmark = pytest.mark.django_db


def test_any_of_finds_the_rows_in_finds():
    units = list(OrgUnit.objects.order_by("id")[:5])
    codes = [u.code for u in units]
    ids = [u.pk for u in units]
    assert set(OrgUnit.objects.filter(any_of("code", codes, "text"))) == set(units)
    assert set(OrgUnit.objects.filter(any_of("id", ids, "bigint"))) == set(units)
    # A text with the separator in it goes as an array, and matches nothing extra.
    with_comma = [*codes[:2], f"{codes[2]},{codes[3]}"]
    assert set(OrgUnit.objects.filter(any_of("code", with_comma, "text"))) == set(units[:2])
    assert not OrgUnit.objects.filter(any_of("id", [], "bigint")).exists()
