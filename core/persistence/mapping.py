"""Maps the domain's plain dataclasses onto the tables (SQLAlchemy imperative mapping).

The domain never imports SQLAlchemy; this module teaches SQLAlchemy about the domain. Mapping
happens once per process, on first use of a unit of work, never at import time.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import registry

from core.domain.approvals import ApprovalWait
from core.domain.audit import AuditEntry
from core.domain.batches import BatchLine, ContributionBatch
from core.domain.budgets import Budget
from core.domain.claims import Claim, ClaimDocument
from core.domain.contributions import ContributionRecord
from core.domain.conversations import ChatSession, Handoff, LinkCode
from core.domain.directory import Assignment, Branch, Department, Employee, Responsibility
from core.domain.escalation import Alert, EscalationStep
from core.domain.notifications import Notification
from core.domain.records import RecordDocument
from core.domain.reminders import Reminder
from core.domain.settlement import SettlementJob
from core.persistence import tables

mapper_registry = registry(metadata=tables.metadata)
_lock = threading.Lock()
_mapped = False

_MAPPINGS = (
    (Branch, tables.branches),
    (Department, tables.departments),
    (Employee, tables.employees),
    (Responsibility, tables.responsibilities),
    (ContributionRecord, tables.contributions),
    (ContributionBatch, tables.batches),
    (BatchLine, tables.batch_lines),
    (Claim, tables.claims),
    (ClaimDocument, tables.claim_documents),
    (Alert, tables.alerts),
    (EscalationStep, tables.escalation_steps),
    (Notification, tables.outbox),
    (AuditEntry, tables.audit_log),
    (Reminder, tables.reminders),
    (ChatSession, tables.chat_sessions),
    (Handoff, tables.handoffs),
    (LinkCode, tables.link_codes),
    (Budget, tables.budgets),
    (Assignment, tables.assignments),
    (RecordDocument, tables.record_documents),
    (SettlementJob, tables.settlement_jobs),
    (ApprovalWait, tables.approval_waits),
)


_DECIDED_BY_STATE = (Claim, ContributionBatch, Alert)


def start_mappers() -> None:
    global _mapped
    with _lock:
        if _mapped:
            return
        for cls, table in _MAPPINGS:
            if cls in _DECIDED_BY_STATE:
                # Compare-and-set on the business state: an UPDATE carries "AND state = <what we
                # read>", so two people deciding at once cannot both win (StaleDataError).
                mapper_registry.map_imperatively(
                    cls, table, version_id_col=table.c.state, version_id_generator=False
                )
            else:
                mapper_registry.map_imperatively(cls, table)
        _mapped = True
