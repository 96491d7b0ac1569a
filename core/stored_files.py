"""Stored files follow the database transaction that recorded them.

A service deletes the photos it stored when its own transaction fails
(`operations.services._base.written_files`). When that transaction is only a
savepoint inside a larger one (an Idempotency-Key request commits the key,
the work and the response together), the photos must also go if the outer
transaction rolls back after the service finished: the names wait here until
the outermost commit, and the owner of the outer transaction discards them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.core.files.storage import default_storage
from django.db import transaction


def _pending() -> list[str]:
    connection = transaction.get_connection()
    if not hasattr(connection, "citygov_uncommitted_files"):
        connection.citygov_uncommitted_files = []
    return connection.citygov_uncommitted_files


def keep_until_commit(names: list[str]) -> None:
    """Called after a savepoint that stored `names` was released inside an outer transaction."""
    pending = _pending()
    pending.extend(names)
    transaction.on_commit(pending.clear)


@contextlib.contextmanager
def discarded_on_rollback() -> Iterator[dict]:
    """Around an outer transaction: delete the files stored inside it if it does not commit.

    Set `outcome["rolled_back"] = True` when the block asks for a rollback
    (transaction.set_rollback) instead of raising.
    """
    pending = _pending()
    mark = len(pending)
    outcome = {"rolled_back": False}
    try:
        yield outcome
    except BaseException:
        _discard(pending, mark)
        raise
    if outcome["rolled_back"]:
        _discard(pending, mark)


def _discard(pending: list[str], mark: int) -> None:
    for name in pending[mark:]:
        default_storage.delete(name)
    del pending[mark:]
