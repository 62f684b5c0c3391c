"""The intent ids of the public contract (shared/faq-intents.md).

Checks outside the project score the engine by these ids, so they are never renamed; the loader
refuses a knowledge base that leaves one of them out. New intents may be added to the knowledge
base without being listed here.
"""

from __future__ import annotations

REQUIRED_INTENT_IDS: tuple[str, ...] = (
    "contribution_delayed_what_to_do",
    "delay_affects_claim",
    "hospital_claim_documents",
    "hospital_claim_how_to_submit",
    "claim_progress",
    "claim_payout_time",
    "claim_rejected",
    "advance_payment_refund",
    "medical_account_frozen",
    "outpatient_claim",
    "upload_formats",
    "contribution_records",
    "contribution_base",
    "contribution_deadline",
    "account_balance",
    "new_hire_enrollment",
    "leaver_contribution",
    "branch_transfer",
    "lapse_consequences",
    "employer_obligation_rights",
    "receipt_download",
    "bank_account_change",
    "contact_hr",
    "language_settings",
)
