"""Personal-information queries (PIPL): consent answers, what a purge may remove, and what an
employee's own data export reads.

Written with SQLAlchemy Core. Every deletion names one row (or one person's rows) and reports
whether it removed anything, so two purges running at once never both count, audit or delete the
same thing: the second one's ``DELETE``/``UPDATE`` waits for the first's row lock (PostgreSQL) or
the write lock (SQLite) and then matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, delete, func, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from core.domain.claims import CLAIM_LIFECYCLE, ClaimState, DocumentKind
from core.domain.consents import Consent, ConsentKind
from core.domain.retention import LEAVER_COLUMNS
from core.encryption import KEY_ID_BYTES, TEXT_PREFIX
from core.persistence import tables as t

SEALED_COLUMNS = ("id_number", "phone")
"""The encrypted columns of ``employees``, in the order ``sealed_people`` gives them."""

_CONSENT = (
    t.consents.c.id,
    t.consents.c.employee_id,
    t.consents.c.kind,
    t.consents.c.notice_version,
    t.consents.c.granted,
    t.consents.c.at,
    t.consents.c.channel,
)


@dataclass(frozen=True)
class ExpiredDocument:
    id: int
    claim_id: int
    employee_id: int
    kind: str
    storage_key: str


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    action: str
    subject_kind: str
    subject_id: int
    actor_id: int | None
    channel: str | None
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any]


def _consent(row: Any) -> Consent:
    return Consent(
        id=row.id,
        employee_id=row.employee_id,
        kind=ConsentKind(row.kind),
        notice_version=row.notice_version,
        granted=bool(row.granted),
        at=row.at,
        channel=row.channel,
    )


class PrivacyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # Consent -----------------------------------------------------------------------------

    def add_consent(self, consent: Consent) -> int:
        statement = insert(t.consents).values(
            employee_id=consent.employee_id,
            kind=str(consent.kind),
            notice_version=consent.notice_version,
            granted=consent.granted,
            at=consent.at,
            channel=consent.channel,
        )
        consent.id = int(self.session.execute(statement.returning(t.consents.c.id)).scalar_one())
        return consent.id

    def latest_consent(self, employee_id: int, kind: ConsentKind) -> Consent | None:
        query = (
            select(*_CONSENT)
            .where(t.consents.c.employee_id == employee_id, t.consents.c.kind == str(kind))
            .order_by(t.consents.c.at.desc(), t.consents.c.id.desc())
            .limit(1)
        )
        row = self.session.execute(query).first()
        return _consent(row) if row else None

    def consents_of(self, employee_id: int) -> list[Consent]:
        query = select(*_CONSENT).where(t.consents.c.employee_id == employee_id)
        return [_consent(r) for r in self.session.execute(query.order_by(t.consents.c.id))]

    # Claim documents past retention ------------------------------------------------------

    def expired_documents(self, closed_before: datetime) -> list[ExpiredDocument]:
        """Uploaded documents (never the voucher) of claims that closed before the instant,
        and of drafts abandoned since then.

        A claim closed when it entered its final state: the latest audit row that moved it
        there (the audit trail is append-only, so this time cannot change); the paid or
        decided time when the trail has none. A claim with neither keeps its documents. A
        draft was abandoned when its last document was uploaded: one nobody has touched for
        the whole retention period would otherwise keep its medical documents for ever.
        """
        claims, docs, log = t.claims, t.claim_documents, t.audit_log
        later = t.claim_documents.alias("later")
        last_upload = (
            select(func.max(later.c.uploaded_at))
            .where(later.c.claim_id == claims.c.id)
            .scalar_subquery()
        )
        entered_final = (
            select(func.max(log.c.at))
            .where(
                log.c.subject_kind == "claim",
                log.c.subject_id == claims.c.id,
                log.c.to_state == claims.c.state,
            )
            .scalar_subquery()
        )
        closed_at = func.coalesce(entered_final, claims.c.paid_at, claims.c.decided_at)
        query = (
            select(
                docs.c.id, docs.c.claim_id, claims.c.employee_id, docs.c.kind, docs.c.storage_key
            )
            .join_from(docs, claims, claims.c.id == docs.c.claim_id)
            .where(
                docs.c.kind != DocumentKind.VOUCHER,
                or_(
                    and_(
                        claims.c.state.in_(sorted(CLAIM_LIFECYCLE.finals)),
                        closed_at < closed_before,
                    ),
                    and_(claims.c.state == ClaimState.DRAFT, last_upload < closed_before),
                ),
            )
            .order_by(docs.c.id)
        )
        return [
            ExpiredDocument(r.id, r.claim_id, r.employee_id, str(r.kind), r.storage_key)
            for r in self.session.execute(query)
        ]

    def delete_document(self, document_id: int) -> bool:
        """Remove one claim document row; False when it was already gone (another purge)."""
        gone = self.session.execute(
            delete(t.claim_documents).where(t.claim_documents.c.id == document_id)
        )
        return bool(gone.rowcount)  # type: ignore[attr-defined]

    def storage_key_in_use(self, storage_key: str) -> bool:
        """Whether any document row still names the file (a voucher is also filed in a record)."""
        for table in (t.claim_documents, t.record_documents):
            query = select(table.c.id).where(table.c.storage_key == storage_key).limit(1)
            if self.session.execute(query).first() is not None:
                return True
        return False

    # Web chat transcripts past retention -------------------------------------------------

    def old_messages(self, before: datetime) -> dict[int, int]:
        """How many web chat messages older than ``before`` each person has."""
        messages = t.web_messages
        query = (
            select(messages.c.employee_id, func.count().label("n"))
            .where(messages.c.created_at < before)
            .group_by(messages.c.employee_id)
            .order_by(messages.c.employee_id)
        )
        return {r.employee_id: int(r.n) for r in self.session.execute(query)}

    def delete_messages(self, employee_id: int, before: datetime) -> int:
        messages = t.web_messages
        gone = self.session.execute(
            delete(messages).where(
                messages.c.employee_id == employee_id, messages.c.created_at < before
            )
        )
        return int(gone.rowcount)  # type: ignore[attr-defined]

    # Leavers' ID numbers -----------------------------------------------------------------

    def leavers_with_sensitive_data(self, left_before: date) -> list[int]:
        """People who left before the day and still have an ID or mobile number on file."""
        people = t.employees
        query = (
            select(people.c.id)
            .where(
                people.c.leave_date.is_not(None),
                people.c.leave_date < left_before,
                or_(*(people.c[name].is_not(None) for name in LEAVER_COLUMNS)),
            )
            .order_by(people.c.id)
        )
        return [int(r.id) for r in self.session.execute(query)]

    def clear_leaver_data(self, employee_id: int) -> bool:
        """Forget one person's ID and mobile numbers; False when they were already gone. (The
        engine clears the ID number's keyed hash with it: core/persistence/blind_index.py.)"""
        people = t.employees
        cleared = self.session.execute(
            update(people)
            .where(
                people.c.id == employee_id,
                or_(*(people.c[name].is_not(None) for name in LEAVER_COLUMNS)),
            )
            .values(dict.fromkeys(LEAVER_COLUMNS))
        )
        return bool(cleared.rowcount)  # type: ignore[attr-defined]

    # Key rotation ----------------------------------------------------------------------

    def sealed_people(self, after_id: int, limit: int) -> list[tuple[int, str | None, str | None]]:
        """``(id, id_number, phone)`` as stored (ciphertext, not opened), by id after
        ``after_id``: what a key rotation looks at, a page at a time."""
        people = t.employees
        raw = [type_coerce(people.c[name], String).label(name) for name in SEALED_COLUMNS]
        query = (
            select(people.c.id, *raw)
            .where(people.c.id > after_id, or_(*(people.c[n].is_not(None) for n in SEALED_COLUMNS)))
            .order_by(people.c.id)
            .limit(limit)
        )
        return [(int(r[0]), r[1], r[2]) for r in self.session.execute(query)]

    def reseal_person(self, employee_id: int) -> None:
        """Write one person's ID and mobile numbers again: the column type seals them with the
        current key, and the engine recomputes the ID number's keyed hash with it."""
        people = t.employees
        row = self.session.execute(
            select(*(people.c[name] for name in SEALED_COLUMNS)).where(people.c.id == employee_id)
        ).one()
        self.session.execute(
            update(people).where(people.c.id == employee_id).values(dict(row._mapping))
        )

    def sealing_key_names(self) -> set[str]:
        """The ids of every key that sealed a stored ID or mobile number (read from the values'
        prefixes, nothing opened): one pass over the table, no index needed."""
        people = t.employees
        width = len(TEXT_PREFIX) + 2 * KEY_ID_BYTES
        names: set[str] = set()
        for name in SEALED_COLUMNS:
            raw = type_coerce(people.c[name], String)
            prefix = func.substr(raw, 1, width)
            query = select(prefix).where(raw.like(f"{TEXT_PREFIX}%")).distinct()
            names |= {str(p)[len(TEXT_PREFIX) :] for p in self.session.scalars(query)}
        return names

    def storage_keys(self) -> list[str]:
        """Every stored document's key: claim documents, receipts and vouchers."""
        keys = select(t.claim_documents.c.storage_key).union(
            select(t.record_documents.c.storage_key)
        )
        return sorted(str(k) for k in self.session.scalars(keys))

    # An employee's own data --------------------------------------------------------------

    def audit_about(self, subjects: Iterable[tuple[str, int]]) -> list[AuditRow]:
        """Audit rows whose subject is one of ``subjects``, in the order they were written."""
        log = t.audit_log
        by_kind: dict[str, list[int]] = {}
        for kind, subject_id in subjects:
            by_kind.setdefault(kind, []).append(subject_id)
        found: list[tuple[int, AuditRow]] = []
        for kind, ids in sorted(by_kind.items()):
            query = select(log).where(
                log.c.subject_kind == kind, log.c.subject_id.in_(sorted(set(ids)))
            )
            found += [
                (
                    r.id,
                    AuditRow(
                        at=r.at,
                        action=r.action,
                        subject_kind=r.subject_kind,
                        subject_id=r.subject_id,
                        actor_id=r.actor_id,
                        channel=r.channel,
                        from_state=r.from_state,
                        to_state=r.to_state,
                        detail=r.detail,
                    ),
                )
                for r in self.session.execute(query)
            ]
        return [row for _, row in sorted(found, key=lambda pair: pair[0])]

    def last_action_at(self, action: str, subject: tuple[str, int]) -> datetime | None:
        log = t.audit_log
        query = select(func.max(log.c.at)).where(
            log.c.action == action,
            log.c.subject_kind == subject[0],
            log.c.subject_id == subject[1],
        )
        found: datetime | None = self.session.scalar(query)
        return found

    def department_name(self, department_id: int | None) -> str | None:
        if department_id is None:
            return None
        query = select(t.departments.c.name).where(t.departments.c.id == department_id)
        name: str | None = self.session.scalar(query)
        return name

    def handoffs_of(self, employee_id: int) -> list[dict[str, Any]]:
        """The person's questions to HR and their answers (never who answered)."""
        handoffs = t.handoffs
        query = (
            select(
                handoffs.c.id,
                handoffs.c.question,
                handoffs.c.lang,
                handoffs.c.state,
                handoffs.c.created_at,
                handoffs.c.answer,
                handoffs.c.answered_at,
            )
            .where(handoffs.c.employee_id == employee_id)
            .order_by(handoffs.c.id)
        )
        return [dict(r._mapping) for r in self.session.execute(query)]
