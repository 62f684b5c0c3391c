"""How long hrbot keeps personal information, per kind, and what a purge removes (PIPL).

What goes, once its time is up:

- **claim documents**: the files an employee uploaded for a claim (medical documents, the ID
  copy), ``documents_days`` after the claim closed (paid, rejected or withdrawn; the time it
  entered that state). The claim row stays, so the reports (durations, costs) do not change.
  The reimbursement voucher stays too: hrbot writes it, it holds no medical detail (the ID
  number only masked) and it is the payout's proof in the employee's record.
- **web chat transcripts**: messages in the built-in web chat older than ``web_messages_days``
  (they may repeat what an employee wrote about their health).
- **ID and mobile numbers of people who left**: ``leaver_days`` after the leave date (the ID
  number's keyed hash with it); the employee row stays (name, branch, department, dates,
  contributions, work e-mail) for the statistics, and contributions, claims and receipts stay
  for back payments and audits.

What stays: the audit trail (append-only, never deleted; each deletion adds a row to it),
contributions, claims, alerts and record documents (receipts and vouchers, which are payment
records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

DEFAULT_DOCUMENTS_DAYS = 365
DEFAULT_WEB_MESSAGES_DAYS = 180
DEFAULT_LEAVER_DAYS = 730


@dataclass(frozen=True)
class Retention:
    documents_days: int = DEFAULT_DOCUMENTS_DAYS
    web_messages_days: int = DEFAULT_WEB_MESSAGES_DAYS
    leaver_days: int = DEFAULT_LEAVER_DAYS

    def __post_init__(self) -> None:
        for name in ("documents_days", "web_messages_days", "leaver_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 day")

    def documents_closed_before(self, now: datetime) -> datetime:
        """Claims closed before this instant have outlived their documents."""
        return now - timedelta(days=self.documents_days)

    def messages_before(self, now: datetime) -> datetime:
        return now - timedelta(days=self.web_messages_days)

    def left_before(self, today: date) -> date:
        """People whose leave date is before this day lose their ID and mobile numbers."""
        return today - timedelta(days=self.leaver_days)


class PurgeKind(StrEnum):
    CLAIM_DOCUMENT = "claim_document"
    WEB_MESSAGES = "web_messages"
    LEAVER_DATA = "leaver_data"


LEAVER_COLUMNS = ("id_number", "phone")
"""What a leaver loses once ``leaver_days`` have passed (named in the audit row)."""

PURGE_ACTIONS = {
    PurgeKind.CLAIM_DOCUMENT: "purge.document",
    PurgeKind.WEB_MESSAGES: "purge.web_messages",
    PurgeKind.LEAVER_DATA: "purge.leaver_data",
}
"""The audit action written for each deletion of a kind."""


@dataclass
class PurgeCounts:
    """How many of each kind a purge found (dry run) or removed (apply); never any content."""

    counts: dict[PurgeKind, int] = field(default_factory=lambda: dict.fromkeys(PurgeKind, 0))
    files: int = 0
    """Document files among them (each claim document is one file in the document store)."""

    def add(self, kind: PurgeKind, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())
