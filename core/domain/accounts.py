"""Dashboard accounts: who may log in to the HR dashboard, with which role, and the rules for
their e-mail, password and login attempts.

An account is separate from an employee record (an ``admin`` need not be on the payroll), but
every other role is linked to the employee it belongs to: acting on an alert from the dashboard
goes through the same core rules as a chat button, so it needs the same person behind it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.directory import Role
from core.domain.errors import DomainError, InvalidValue


class AccountRole(StrEnum):
    HR = "hr"
    HR_MANAGER = "hr_manager"
    HR_DIRECTOR = "hr_director"
    FINANCE = "finance"
    ADMIN = "admin"

    @property
    def employee_role(self) -> Role | None:
        """The directory role the linked employee must hold (admins need none)."""
        return None if self is AccountRole.ADMIN else Role(self.value)


IMPORTERS = frozenset({AccountRole.ADMIN, AccountRole.HR_DIRECTOR})
"""Who may import employee and contribution files from the dashboard."""

MIN_PASSWORD = 10
MAX_PASSWORD = 256
"""argon2 hashes any length, but a megabyte "password" is a denial of service, not a secret."""

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,188}\.[^@\s]{1,60}$")


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed in ``window`` per e-mail and per client address before refusing."""

    per_email: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass
class Account:
    email: str
    role: AccountRole
    password_hash: str
    created_at: datetime
    employee_id: int | None = None
    api_token_hash: str | None = None
    disabled: bool = False
    last_login_at: datetime | None = None
    id: int | None = None


class LoginRefused(DomainError):
    """Wrong e-mail or password; deliberately says neither which."""

    code = "error.login_refused"


class TooManyAttempts(DomainError):
    code = "error.too_many_attempts"


def normal_email(text: str) -> str:
    email = text.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidValue(f"not an e-mail address: {text!r}", field="email")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidValue(
            f"the password needs at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidValue(f"the password may have at most {MAX_PASSWORD} characters")
    return password
