"""The schema, declared once; Alembic migrations reproduce it and a test checks they agree."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    or_,
)

from core.domain.accounts import AccountRole
from core.domain.approvals import WaitKind
from core.domain.batches import BatchState
from core.domain.claims import ClaimState, ClaimType, DocumentKind
from core.domain.contributions import DelayReason
from core.domain.conversations import HandoffState
from core.domain.directory import Locale, Role
from core.domain.escalation import AlertState, StepKind, StepState, SubjectKind
from core.domain.notifications import ChannelKind, DeliveryState
from core.domain.records import RecordKind
from core.domain.reminders import ReminderKind
from core.domain.settlement import JobKind, JobState
from core.persistence.types import EncryptedString, JSONText, Money, PeriodType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MONEY = Money()


def enum(cls: type[StrEnum], name: str) -> Enum:
    """Enums stored as their string values (portable, readable in a dump)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


def lease_columns() -> list[Column[object]]:
    """Who holds a row and until when (core/persistence/leases.py): timers and the outbox."""
    return [Column("lease_owner", String(64)), Column("lease_until", UTCDateTime)]


def timer_columns() -> list[Column[object]]:
    """A timer row (escalation step, reminder): due when, fired once, and leased meanwhile."""
    return [
        Column("due_at", UTCDateTime, nullable=False),
        Column("state", enum(StepState, "step_state"), nullable=False),
        Column("fired_at", UTCDateTime),
        Column("note", Text),
        *lease_columns(),
    ]


branches = Table(
    "branches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("city", String(100), nullable=False, default=""),
    Column("region", String(100), nullable=False, default=""),
    Column("due_day", Integer, nullable=False, default=15),
    Column("working_hours", String(11)),
)

departments = Table(
    "departments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("name", String(200), nullable=False),
    UniqueConstraint("branch_id", "name", name="uq_departments_branch_name"),
)

employees = Table(
    "employees",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_no", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # Encrypted at rest (migration 0013); found and kept unique through its keyed hash, which
    # every engine fills in (core/persistence/blind_index.py).
    Column("id_number", EncryptedString, info={"blind_index": "id_number_hash"}),
    Column("id_number_hash", String(64), unique=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False, index=True),
    Column("department_id", ForeignKey("departments.id")),
    Column("role", enum(Role, "role"), nullable=False),
    Column("manager_id", ForeignKey("employees.id")),
    Column("email", String(254)),
    Column("phone", EncryptedString),
    Column("slack_user_id", String(32), unique=True),
    Column("telegram_user_id", String(32), unique=True),
    Column("locale", enum(Locale, "locale")),
    Column("hire_date", Date, nullable=False),
    Column("leave_date", Date),
    Column("contribution_base", MONEY),
)

responsibilities = Table(
    "responsibilities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("branch_id", ForeignKey("branches.id"), nullable=False, index=True),
    UniqueConstraint("employee_id", "branch_id", name="uq_responsibilities_employee_branch"),
)

contributions = Table(
    "contributions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("period", PeriodType, nullable=False),
    Column("base", MONEY, nullable=False),
    Column("employer_amount", MONEY, nullable=False),
    Column("employee_amount", MONEY, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("paid_date", Date),
    Column("delay_reason", enum(DelayReason, "delay_reason")),
    UniqueConstraint("employee_id", "period", name="uq_contributions_employee_period"),
)

IRREGULAR = or_(
    contributions.c.paid_date.is_(None), contributions.c.paid_date > contributions.c.due_date
)
"""Contributions unpaid or paid late: the few rows among millions that the delay report and the
overview's "affected" count read, through the partial index below."""
Index(
    "ix_contributions_irregular",
    contributions.c.period,
    sqlite_where=IRREGULAR,
    postgresql_where=IRREGULAR,
)

batches = Table(
    "contribution_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("period", PeriodType, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("state", enum(BatchState, "batch_state"), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("headcount", Integer, nullable=False, default=0),
    Column("total_base", MONEY, nullable=False),
    Column("total_employer", MONEY, nullable=False),
    Column("total_employee", MONEY, nullable=False),
    Column("verified_by", ForeignKey("employees.id")),
    Column("approved_by", ForeignKey("employees.id")),
    Column("return_reason", Text),
    Column("failure_cause", Text),
    Column("paid_date", Date),
    Column("failure_message", Text),
    Column("joiners", Integer, nullable=False, default=0, server_default="0"),
    Column("leavers", Integer, nullable=False, default=0, server_default="0"),
    Column("transfers_in", Integer, nullable=False, default=0, server_default="0"),
    Column("transfers_out", Integer, nullable=False, default=0, server_default="0"),
    Column("bureau_reference", String(64)),
    Column("payment_reference", String(64)),
    UniqueConstraint("branch_id", "period", "version", name="uq_batches_branch_period_version"),
)

batch_lines = Table(
    "batch_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("contribution_batches.id"), nullable=False, index=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    # Indexed: deleting a record must not scan every line on file for references to it.
    Column("contribution_id", ForeignKey("contributions.id"), nullable=False, index=True),
    Column("base", MONEY, nullable=False),
    Column("employer_amount", MONEY, nullable=False),
    Column("employee_amount", MONEY, nullable=False),
    Column("change", String(16)),
)

claims = Table(
    "claims",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False, index=True),
    Column("claim_type", enum(ClaimType, "claim_type"), nullable=False),
    Column("state", enum(ClaimState, "claim_state"), nullable=False, index=True),
    Column("amount", MONEY),
    Column("hold_reason", Text),
    Column("decision_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("submitted_at", UTCDateTime),
    Column("decided_at", UTCDateTime),
    Column("paid_at", UTCDateTime),
    Column("payout_reference", String(64)),
)

claim_documents = Table(
    "claim_documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("claim_id", ForeignKey("claims.id"), nullable=False, index=True),
    Column("kind", enum(DocumentKind, "document_kind"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(255), nullable=False, unique=True),
    Column("uploaded_at", UTCDateTime, nullable=False),
)

escalation_policies = Table(
    "escalation_policies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("levels", Text, nullable=False),
    Column("repeat", Integer, nullable=False, server_default="0"),
    Column("repeat_every", String(16)),
    # Set on versions an admin wrote (dashboard or `hrbot policy set`): the latest of those is
    # the policy new alerts start with; versions from settings leave them empty.
    Column("edited_at", UTCDateTime),
    Column("edited_by", String(255)),
    Column("edit_note", Text),
    UniqueConstraint("name", "version", name="uq_escalation_policies_name_version"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", enum(SubjectKind, "subject_kind"), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("employee_id", ForeignKey("employees.id")),
    Column("suspected_cause", enum(DelayReason, "delay_reason")),
    Column("state", enum(AlertState, "alert_state"), nullable=False, index=True),
    Column("level", Integer, nullable=False, default=0),
    Column("policy_name", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("cause", enum(DelayReason, "delay_reason")),
    Column("cause_note", Text),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", ForeignKey("employees.id")),
    Column("expected_fix_date", Date),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", ForeignKey("employees.id")),
    Column("resolution", Text),
    Column("flagged_at", UTCDateTime),
    Index("ix_alerts_subject", "subject_kind", "subject_id"),
)

escalation_steps = Table(
    "escalation_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", ForeignKey("alerts.id"), nullable=False, index=True),
    Column("level", Integer, nullable=False),
    Column("kind", enum(StepKind, "step_kind"), nullable=False),
    *timer_columns(),
    Index("ix_escalation_steps_due", "state", "due_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("recipient_id", ForeignKey("employees.id"), nullable=False),
    Column("channel", enum(ChannelKind, "channel_kind"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("params", JSONText, nullable=False),
    Column("buttons", JSONText, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", enum(DeliveryState, "delivery_state"), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("external_id", String(128)),
    Column("last_error", Text),
    *lease_columns(),
    Column("subject_kind", String(32)),
    Column("subject_id", Integer),
    Column("replaces_id", Integer),
    Index("ix_outbox_due", "state", "next_attempt_at"),
    Index("ix_outbox_subject", "subject_kind", "subject_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", ForeignKey("employees.id")),
    Column("actor", String(64), nullable=False),
    Column("channel", String(32)),
    Column("action", String(64), nullable=False),
    Column("subject_kind", String(32), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("from_state", String(32)),
    Column("to_state", String(32)),
    Column("detail", JSONText, nullable=False),
    # The hash chain (core/domain/audit_chain.py); triggers refuse UPDATE and DELETE.
    Column("seq", Integer, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_audit_subject", "subject_kind", "subject_id"),
    UniqueConstraint("seq", name="uq_audit_log_seq"),
)

audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("row_hash", String(64), nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed", Boolean, nullable=False, default=False),
    UniqueConstraint("platform", "event_id", name="uq_inbox_platform_event"),
)

budgets = Table(
    "budgets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("period", PeriodType, nullable=False),
    Column("amount", MONEY, nullable=False),
    UniqueConstraint("branch_id", "period", name="uq_budgets_branch_period"),
)

reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("contribution_batches.id"), nullable=False),
    Column("kind", enum(ReminderKind, "reminder_kind"), nullable=False),
    Column("days_before", Integer, nullable=False),
    *timer_columns(),
    UniqueConstraint("batch_id", "kind", "days_before", name="uq_reminders_batch_kind_days"),
    Index("ix_reminders_due", "state", "due_at"),
)

chat_sessions = Table(
    "chat_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("employee_id", ForeignKey("employees.id")),
    Column("locale", String(8)),
    Column("dialog", String(32)),
    Column("data", JSONText, nullable=False),
    Column("buttons", JSONText, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform", "user_id", name="uq_chat_sessions_platform_user"),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False, index=True),
    Column("question", Text, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("guesses", JSONText, nullable=False),
    Column("state", enum(HandoffState, "handoff_state"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("answer", Text),
    Column("answered_by", ForeignKey("employees.id")),
    Column("answered_at", UTCDateTime),
)

link_codes = Table(
    "link_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("user_id", String(64), nullable=False, index=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("used", Boolean, nullable=False, default=False),
)

web_messages = Table(
    "web_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("payload", JSONText, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("replaces_id", Integer),
    # The web chat's event stream asks "this person's messages after id N" every second or so.
    Index("ix_web_messages_employee", "employee_id", "id"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("start_date", Date, nullable=False),
    UniqueConstraint("employee_id", "start_date", name="uq_assignments_employee_start"),
)

record_documents = Table(
    "record_documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("kind", enum(RecordKind, "record_kind"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(255), nullable=False),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("period", PeriodType),
    Column("batch_id", ForeignKey("contribution_batches.id")),
    Column("claim_id", ForeignKey("claims.id")),
    Index("ix_record_documents_employee", "employee_id", "id"),
)

settlement_jobs = Table(
    "settlement_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", enum(JobKind, "job_kind"), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("idempotency_key", String(120), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", enum(JobState, "job_state"), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reference", String(64)),
    Column("last_error", Text),
    Column("finished_at", UTCDateTime),
    *lease_columns(),
    Index("ix_settlement_jobs_due", "state", "id"),
)

dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("role", enum(AccountRole, "account_role"), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("employee_id", ForeignKey("employees.id")),
    Column("api_token_hash", String(64), unique=True),
    Column("disabled", Boolean, nullable=False, default=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_login_attempts_email", "email", "at"),
    Index("ix_login_attempts_address", "address", "at"),
)

absences = Table(
    "absences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("substitute_id", ForeignKey("employees.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("channel", String(32)),
    Column("cancelled_at", UTCDateTime),
    Index("ix_absences_employee", "employee_id", "starts_on"),
)

# A batch or claim waiting for someone's decision: when the wait began, when its approver is
# reminded next (the timer) and when the wait is overdue and becomes an alert. One row per
# subject, reset when the subject moves to another waiting stage.
approval_waits = Table(
    "approval_waits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", enum(WaitKind, "wait_kind"), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("reminded", Integer, nullable=False, server_default="0"),
    Column("alert_id", ForeignKey("alerts.id")),
    *timer_columns(),
    UniqueConstraint("subject_kind", "subject_id", name="uq_approval_waits_subject"),
    Index("ix_approval_waits_due", "state", "due_at"),
)

# Who was checked for a digest on which day (or ISO week): one row each, so several workers and
# restarts send a digest once.
digest_runs = Table(
    "digest_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key", String(16), nullable=False),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("sent", Boolean, nullable=False),
    UniqueConstraint("employee_id", "kind", "key", name="uq_digest_runs_employee_kind_key"),
)

# Answers to consent notices (PIPL, core/domain/consents.py): one row per answer, written once
# and never changed; the latest answer of a person for a kind decides.
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("notice_version", String(32), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("channel", String(32)),
    Index("ix_consents_employee", "employee_id", "kind", "id"),
)
