"""``/readyz``'s verdict: the database answers, and its schema is the one this code expects.

A process is ready only when the database's Alembic revision is this code's head: behind (run
``hrbot db upgrade``) or unknown to this code (a newer release migrated it) is 503, and so is a
database that cannot be reached. Reading the revision is the reachability check too: one
connection, one small query.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from alembic.script import ScriptDirectory

from core.persistence.gauges import schema_revision
from core.persistence.migrate import alembic_config

if TYPE_CHECKING:
    from sqlalchemy import Engine

UPGRADE_HINT = "migrations behind: run `hrbot db upgrade`"


def readiness(engine: Engine) -> tuple[bool, dict[str, Any]]:
    """(ready, the JSON body's details): ``database`` is ``ok`` or says what is wrong; the
    revisions are given whenever the database could be read."""
    try:
        revision = schema_revision(engine)
    except Exception as error:  # any driver error means not ready, and says which
        return False, {"database": f"unreachable: {type(error).__name__}"}
    head, known = _revisions()
    details: dict[str, Any] = {"revision": revision, "head": head}
    if revision == head:
        return True, {"database": "ok"} | details
    if revision is not None and revision not in known:
        problem = f"database revision {revision} is newer than this release (head {head})"
        return False, {"database": problem} | details
    return False, {"database": UPGRADE_HINT} | details


@cache
def _revisions() -> tuple[str | None, frozenset[str]]:
    """This release's head and every revision it knows (read from the migration files once)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head(), frozenset(r.revision for r in script.walk_revisions())
