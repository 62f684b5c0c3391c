"""The unit of work: one transaction, its repositories, and commit-or-nothing on exit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core.domain.errors import IllegalTransition
from core.persistence.absences import AbsenceRepository
from core.persistence.accounts import AccountRepository
from core.persistence.approvals import ApprovalWaitRepository
from core.persistence.dashboard import DashboardQueries
from core.persistence.digests import DigestRepository
from core.persistence.mapping import start_mappers
from core.persistence.privacy import PrivacyRepository
from core.persistence.reports import ReportQueries
from core.persistence.repositories import (
    AlertRepository,
    AuditRepository,
    BatchRepository,
    ChatRepository,
    ClaimRepository,
    ContributionRepository,
    DirectoryRepository,
    InboxRepository,
    OutboxRepository,
    RecordRepository,
    ReminderRepository,
    SettlementRepository,
)
from core.persistence.rosters import RosterStore
from core.persistence.web_messages import WebMessageRepository


class UnitOfWork:
    """``with uow: ...; uow.commit()``: anything not committed is rolled back on exit."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.directory = DirectoryRepository(self.session)
        self.contributions = ContributionRepository(self.session)
        self.batches = BatchRepository(self.session)
        self.claims = ClaimRepository(self.session)
        self.alerts = AlertRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.chats = ChatRepository(self.session)
        self.web_messages = WebMessageRepository(self.session)
        self.inbox = InboxRepository(self.session)
        self.records = RecordRepository(self.session)
        self.settlement = SettlementRepository(self.session)
        self.rosters = RosterStore(self.session)
        self.reports = ReportQueries(self.session)
        self.dashboard = DashboardQueries(self.session)
        self.accounts = AccountRepository(self.session)
        self.absences = AbsenceRepository(self.session)
        self.digests = DigestRepository(self.session)
        self.approvals = ApprovalWaitRepository(self.session)
        self.privacy = PrivacyRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back anything uncommitted without expiring loaded objects, so results
        # returned from a use case stay readable after its unit of work ends.
        self.session.close()
        if isinstance(exc, StaleDataError):  # raised by an autoflush inside the block
            raise _lost_race() from None

    def commit(self) -> None:
        try:
            self.audit.seal()  # last, so the audit chain's lock is held only until the commit
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise _lost_race() from None

    def flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError:
            self.session.rollback()
            raise _lost_race() from None


def _lost_race() -> IllegalTransition:
    """Two people changed the same claim, batch or alert at once; this one came second."""
    return IllegalTransition("someone else changed this at the same moment", state="changed")


class Database:
    """An engine and the factory of units of work over it (one per process)."""

    def __init__(self, engine: Engine) -> None:
        start_mappers()
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)

    def dispose(self) -> None:
        self.engine.dispose()
