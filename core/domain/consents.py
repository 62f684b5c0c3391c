"""Separate consent (PIPL) to process an employee's sensitive personal information.

A medical claim's documents (admission certificate, itemized bill, invoices, discharge summary)
carry health information, and the ID copy carries identity information: both are sensitive
personal information, which may only be processed with the person's separate consent given
after a notice saying what is collected, why, how long it is kept and what refusing means.

The notice is versioned. Every answer is kept (granted or refused, to which notice version, when
and through which channel); the latest answer for a kind decides. A new notice version makes
every earlier answer stale, so the person is asked again before their next document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.domain.errors import DomainError


class ConsentKind(StrEnum):
    MEDICAL = "medical"
    """Health and identity documents uploaded for a medical claim."""


MEDICAL_NOTICE = "medical-2026-12"
"""The medical notice in force. Its text is the catalog message ``consent.notice.<version>``
in both languages: a new version needs a new key, so text and version never drift apart."""


@dataclass(eq=False)
class Consent:
    employee_id: int
    kind: ConsentKind
    notice_version: str
    granted: bool
    at: datetime
    channel: str | None = None
    id: int = field(default=0)


class ConsentRequired(DomainError):
    """The person has not (or not yet, for the notice in force) agreed to the processing."""

    code = "error.consent_required"


def latest(answers: Iterable[Consent], kind: ConsentKind) -> Consent | None:
    """The most recent answer of ``kind`` (later time first, then the later row)."""
    found = [a for a in answers if a.kind is kind]
    return max(found, key=lambda a: (a.at, a.id)) if found else None


def is_current(answer: Consent | None, notice_version: str) -> bool:
    """True when ``answer`` grants consent to the notice in force."""
    return answer is not None and answer.granted and answer.notice_version == notice_version
