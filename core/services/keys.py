"""Re-sealing stored personal information under the current encryption key, so an older key can
be retired (``hrbot keys rotate``).

Rotation is two steps for the operator: put the new key first in ``HRBOT_ENCRYPTION_KEY`` (the
old one after it: everything still opens), then run this. It rewrites every ID number and mobile
number not yet sealed with the first key (their keyed hash follows), and every document file,
a page of people per transaction and one file at a time (each written atomically). A crash half
way loses nothing: what was done is done, and running it again finds only the rest. Once it
reports nothing left under older keys, the old key can be removed from the setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from core.encryption_keys import current_keyring
from core.services.common import audit
from core.services.context import Context

log = logging.getLogger("hrbot.keys")

PAGE = 200


@dataclass(frozen=True)
class Rotation:
    people: int
    """People whose ID or mobile number was sealed again (or would be, in a dry run)."""
    documents: int
    """Document files sealed again."""
    current: int
    """Values and files already under the current key."""
    missing: int
    """Documents whose file is gone (kept as rows; reported, never an error)."""
    key: str
    """The current key's id."""


def missing_keys(ctx: Context) -> list[str]:
    """The ids of keys that sealed stored data but are not in the keyring: a process started
    without them could read no one's ID or mobile number (every chat turn and notice about them
    would fail), so ``hrbot serve`` and ``hrbot worker`` refuse to start instead."""
    with ctx.uow() as uow:
        found = uow.privacy.sealing_key_names()
    return sorted(found - set(current_keyring().key_ids))


def rotate(
    ctx: Context, dry_run: bool = False, progress: Callable[[int, int], None] | None = None
) -> Rotation:
    """Seal everything under the current key; ``progress(done, total)`` after each document."""
    keyring = current_keyring()
    people = current = 0
    after = 0
    while True:
        with ctx.uow() as uow:
            page = uow.privacy.sealed_people(after, PAGE)
            if not page:
                break
            for employee_id, *values in page:
                after = employee_id
                stale = [v for v in values if v and not keyring.text_is_current(v)]
                current += sum(1 for v in values if v) - len(stale)
                if stale:
                    people += 1
                    if not dry_run:
                        uow.privacy.reseal_person(employee_id)
            if not dry_run:
                uow.commit()
    with ctx.uow() as uow:
        keys = uow.privacy.storage_keys()
    documents = missing = 0
    for done, key in enumerate(keys, start=1):
        if not ctx.documents.exists(key):
            missing += 1
        elif dry_run:
            documents += 1  # counted as to do: reading each file to tell would cost as much
        elif ctx.documents.reseal(key):
            documents += 1
        else:
            current += 1
        if progress is not None:
            progress(done, len(keys))
    result = Rotation(people, documents, current, missing, keyring.primary.name)
    if not dry_run:
        with ctx.uow() as uow:
            audit(
                uow,
                ctx.now(),
                "keys.rotate",
                ("keyring", 0),
                channel="cli",
                people=people,
                documents=documents,
                key=result.key,
            )
            uow.commit()
    log.info("key rotation%s: %s", " (dry run)" if dry_run else "", result)
    return result
