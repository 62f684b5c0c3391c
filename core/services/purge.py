"""``hrbot purge``: remove personal information past its retention (core/domain/retention.py).

``plan_purge`` only counts. ``apply_purge`` removes one thing per transaction: the row is
deleted (or the column cleared) first, which locks it, then the audit row is written, then the
file is deleted, then the transaction commits. So:

- two purges at once: the second one's delete matches nothing once the first commits, and it
  skips the item (no second audit row, no error);
- a crash after the file went but before the commit leaves the row, whose file is already gone:
  the next purge finds it again and finishes (deleting a missing file is no error);
- a file that cannot be deleted rolls its row back, is logged and counted as failed, and the
  purge goes on; the next purge tries again.

Every removal is logged by kind and ids only, never a value (no names, ID numbers, file names).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.domain.retention import LEAVER_COLUMNS, PURGE_ACTIONS, PurgeCounts, PurgeKind
from core.services.common import audit
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.privacy import ExpiredDocument

log = logging.getLogger(__name__)
CHANNEL = "purge"


@dataclass
class PurgeResult:
    removed: PurgeCounts = field(default_factory=PurgeCounts)
    failed: int = 0
    """Items left in place because their file could not be deleted (see the log)."""


def plan_purge(ctx: Context) -> PurgeCounts:
    """What a purge would remove now, counted per kind; changes nothing."""
    retention, now = ctx.rules.retention, ctx.now()
    plan = PurgeCounts()
    with ctx.uow() as uow:
        documents = uow.privacy.expired_documents(retention.documents_closed_before(now))
        plan.add(PurgeKind.CLAIM_DOCUMENT, len(documents))
        plan.files = len({d.storage_key for d in documents})
        messages = uow.privacy.old_messages(retention.messages_before(now))
        plan.add(PurgeKind.WEB_MESSAGES, sum(messages.values()))
        leavers = uow.privacy.leavers_with_sensitive_data(retention.left_before(ctx.today()))
        plan.add(PurgeKind.LEAVER_DATA, len(leavers))
    return plan


def apply_purge(ctx: Context) -> PurgeResult:
    """Remove everything past retention; safe to repeat and to run in two processes at once."""
    result = PurgeResult()
    retention, now = ctx.rules.retention, ctx.now()
    with ctx.uow() as uow:
        documents = uow.privacy.expired_documents(retention.documents_closed_before(now))
        messages = uow.privacy.old_messages(retention.messages_before(now))
        leavers = uow.privacy.leavers_with_sensitive_data(retention.left_before(ctx.today()))
    for document in documents:
        try:
            removed, file_gone = _purge_document(ctx, document)
        except OSError as error:
            result.failed += 1
            log.warning(
                "purge: claim document %s kept, its file could not be deleted (%s)",
                document.id,
                error.strerror or type(error).__name__,
            )
            continue
        if removed:
            result.removed.add(PurgeKind.CLAIM_DOCUMENT)
            result.removed.files += int(file_gone)
    for employee_id in messages:
        result.removed.add(PurgeKind.WEB_MESSAGES, _purge_messages(ctx, employee_id))
    for employee_id in leavers:
        result.removed.add(PurgeKind.LEAVER_DATA, int(_purge_leaver(ctx, employee_id)))
    return result


def _purge_document(ctx: Context, document: ExpiredDocument) -> tuple[bool, bool]:
    """(row removed by this call, file deleted by this call)."""
    with ctx.uow() as uow:
        if not uow.privacy.delete_document(document.id):
            return False, False  # another purge got there first
        audit(
            uow,
            ctx.now(),
            PURGE_ACTIONS[PurgeKind.CLAIM_DOCUMENT],
            ("claim", document.claim_id),
            channel=CHANNEL,
            document_id=document.id,
            kind=document.kind,
            retention_days=ctx.rules.retention.documents_days,
        )
        shared = uow.privacy.storage_key_in_use(document.storage_key)
        if not shared:
            ctx.documents.delete(document.storage_key)
        uow.commit()
    log.info(
        "purge: deleted claim document %s of claim %s (%s)",
        document.id,
        document.claim_id,
        document.kind,
    )
    return True, not shared


def _purge_messages(ctx: Context, employee_id: int) -> int:
    retention = ctx.rules.retention
    with ctx.uow() as uow:
        count = uow.privacy.delete_messages(employee_id, retention.messages_before(ctx.now()))
        if not count:
            return 0
        audit(
            uow,
            ctx.now(),
            PURGE_ACTIONS[PurgeKind.WEB_MESSAGES],
            ("employee", employee_id),
            channel=CHANNEL,
            count=count,
            retention_days=retention.web_messages_days,
        )
        uow.commit()
    log.info("purge: deleted %s web chat messages of employee %s", count, employee_id)
    return count


def _purge_leaver(ctx: Context, employee_id: int) -> bool:
    with ctx.uow() as uow:
        if not uow.privacy.clear_leaver_data(employee_id):
            return False
        audit(
            uow,
            ctx.now(),
            PURGE_ACTIONS[PurgeKind.LEAVER_DATA],
            ("employee", employee_id),
            channel=CHANNEL,
            columns=list(LEAVER_COLUMNS),
            retention_days=ctx.rules.retention.leaver_days,
        )
        uow.commit()
    log.info("purge: cleared the ID and mobile numbers of employee %s (left)", employee_id)
    return True
