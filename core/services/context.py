"""What every use case needs besides its arguments: the database, the clock, the rules, storage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.domain.consents import MEDICAL_NOTICE
from core.domain.contributions import (
    CLAIM_CHECK_MONTHS,
    LAPSE_AFTER_OVERDUE_MONTHS,
    SELF_SERVICE_MONTHS,
)
from core.domain.documents import MAX_IMAGE_PIXELS, MAX_UPLOAD_BYTES
from core.domain.escalation import EscalationPolicy, default_policy
from core.domain.notifications import ChannelKind
from core.domain.retention import Retention
from core.domain.roster import Rates
from core.domain.workclock import (
    Delay,
    DelayUnit,
    WeekendCalendar,
    WorkClock,
    WorkdayCalendar,
    WorkingHours,
)
from core.ports import Clock, DocumentStore

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


@dataclass(frozen=True)
class Rules:
    """The configurable parts of the domain, from settings."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    claim_check_months: int = CLAIM_CHECK_MONTHS
    self_service_months: int = SELF_SERVICE_MONTHS
    lapse_after: int = LAPSE_AFTER_OVERDUE_MONTHS
    policy: EscalationPolicy = field(default_factory=default_policy)
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_image_pixels: int = MAX_IMAGE_PIXELS
    """Images whose headers declare more pixels are refused unread (decompression bombs)."""
    channels: frozenset[ChannelKind] = frozenset({ChannelKind.CHAT})
    """Channels notifications may use; chat always, e-mail and SMS when configured."""
    delivery_attempts: int = 8
    """Attempts per notification before it goes dead-letter and HR is told."""
    reminder_days: tuple[int, ...] = (3, 1)
    """Days before a batch's due date when HR and finance are reminded."""
    lease: timedelta = timedelta(minutes=2)
    """How long a worker holds a claimed timer or notification before others may take it."""
    rates: Rates = field(default_factory=Rates)
    """Contribution rates and the base bounds HR is warned about when checking a roster."""
    roster_day: int = 1
    """Day of the month on which the worker builds the month's rosters."""
    confirm_above: Decimal | None = None
    """Approving a batch above this total asks finance to confirm a second time."""
    quiet_hours: bool = True
    """Staff's non-urgent chat pushes wait for working hours (off in demo mode: one person
    plays every role at any hour and wants to see each push at once)."""
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    """A branch's working hours unless it has its own (``HRBOT_WORKING_HOURS``)."""
    settlement: str = "manual"
    """``manual``: people file and pay, then mark the batch paid; ``gateway``: hrbot files and
    pays through the bureau and bank gateways after approval."""
    digest_hour: int | None = None
    """Local hour from which the daily digests (and, on ``weekly_digest_day``, the directors'
    weekly summary) go out; None: no digests (the app's settings turn them on at 09:00)."""
    weekly_digest_day: int = 0
    """Day of the week of the weekly summary, Monday = 0."""
    approval_remind_every: Delay = field(default_factory=lambda: Delay(8, DelayUnit.WORKING_HOURS))
    """A batch or claim waiting for a decision reminds its approver this often."""
    approval_deadline: Delay = field(default_factory=lambda: Delay(3, DelayUnit.WORKING_DAYS))
    """A decision missing this long after the wait began opens an alert on the policy."""
    medical_notice: str = MEDICAL_NOTICE
    """The medical consent notice in force: documents need a consent to this version (PIPL)."""
    retention: Retention = field(default_factory=Retention)
    """How long personal information is kept before ``hrbot purge`` removes it."""
    export_every: timedelta = timedelta(hours=24)
    """An employee may export their own data (/mydata) once in this long."""


@dataclass
class Context:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    documents: DocumentStore
    rules: Rules = field(default_factory=Rules)
    calendar: WorkdayCalendar = field(default_factory=WeekendCalendar)
    """Which days are workdays: mainland China's (holidays and 调休) in production."""

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """Today in ``HRBOT_TIMEZONE``: deadlines end at local midnight, not UTC's."""
        return self.clock.now().astimezone(self.rules.timezone).date()

    def work_clock(self, working_hours: str | None = None) -> WorkClock:
        """The working-time clock of a branch (its own hours, or the default ones)."""
        hours = WorkingHours.parse(working_hours) if working_hours else self.rules.working_hours
        return WorkClock(self.calendar, hours, self.rules.timezone)
