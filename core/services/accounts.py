"""Dashboard accounts: create one (``hrbot user add``), log in with rate limiting, API tokens.

Passwords are hashed by the ``PasswordHasher`` port (argon2 in production); API tokens are shown
once and stored only as their SHA-256, so a database dump holds no usable credential. Failed
logins are counted in the database, not in one process's memory, so a fleet of web processes
enforces one limit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.domain.accounts import (
    Account,
    AccountRole,
    LoginLimits,
    LoginRefused,
    TooManyAttempts,
    check_password,
    normal_email,
)
from core.domain.audit import AuditEntry
from core.domain.errors import InvalidValue, NotFound
from core.ports import PasswordHasher
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

_DUMMY_HASH: dict[int, str] = {}
"""A hash to verify against when the e-mail is unknown, so both answers take as long."""


@dataclass(frozen=True)
class NewAccount:
    account: Account
    employee_name: str | None


def add_user(
    ctx: Context,
    hasher: PasswordHasher,
    email: str,
    role: AccountRole,
    password: str,
    employee_no: str | None = None,
) -> NewAccount:
    """Create an account; HR and finance accounts are linked to their employee record (found
    by ``employee_no`` or else by e-mail), whose directory role must match."""
    email = normal_email(email)
    check_password(password)
    with ctx.uow() as uow:
        if uow.accounts.by_email(email) is not None:
            raise InvalidValue(f"an account for {email} already exists", field="email")
        employee = None
        if employee_no:
            employee = uow.directory.employee_by_no(employee_no)
            if employee is None:
                raise NotFound(f"no employee {employee_no}", field="employee_no")
        elif role.employee_role is not None:
            employee = uow.directory.employee_by_email(email)
        wanted = role.employee_role
        if wanted is not None and employee is None:
            raise NotFound(
                f"no employee with e-mail {email}: a {role} account belongs to an employee "
                "(import them first, or name them with --employee)",
                field="email",
            )
        if wanted is not None and employee is not None and employee.role is not wanted:
            raise InvalidValue(
                f"{employee.employee_no} is {employee.role} in the directory, not {role}",
                field="role",
            )
        account = Account(
            email=email,
            role=role,
            password_hash=hasher.hash(password),
            created_at=ctx.now(),
            employee_id=employee.id if employee else None,
        )
        uow.accounts.add(account)
        _audit(ctx, uow, account, "account.create", role=str(role))
        uow.commit()
        return NewAccount(account, employee.name if employee else None)


def login(
    ctx: Context,
    hasher: PasswordHasher,
    email: str,
    password: str,
    address: str,
    limits: LoginLimits | None = None,
) -> Account:
    """The account for these credentials, or ``LoginRefused`` / ``TooManyAttempts``."""
    limits = limits or LoginLimits()
    email = email.strip().lower()[:254]
    now = ctx.now()
    with ctx.uow() as uow:
        by_email, by_address = uow.accounts.failures_since(now - limits.window, email, address)
        if by_email >= limits.per_email or by_address >= limits.per_address:
            raise TooManyAttempts(
                "too many failed logins: try again later",
                minutes=int(limits.window.total_seconds() // 60),
            )
        account = uow.accounts.by_email(email)
        stored = account.password_hash if account else _dummy(hasher)
        matches = hasher.verify(stored, password[:1024])
        succeeded = account is not None and matches and not account.disabled
        uow.accounts.record_attempt(email, address, now, succeeded)
        if not succeeded or account is None or account.id is None:
            uow.commit()
            raise LoginRefused("wrong e-mail or password")
        values: dict[str, object] = {"last_login_at": now}
        if hasher.needs_rehash(account.password_hash):
            values["password_hash"] = hasher.hash(password)
        uow.accounts.update(account.id, **values)
        _audit(ctx, uow, account, "account.login", address=address)
        uow.commit()
        return account


def account(ctx: Context, account_id: int) -> Account | None:
    """An enabled account by id (a session cookie names it), else None."""
    with ctx.uow() as uow:
        found = uow.accounts.get(account_id)
    return found if found is not None and not found.disabled else None


def issue_api_token(ctx: Context, email: str) -> str:
    """A new bearer token for the account (the old one stops working); shown only now."""
    token = "hrb_" + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        found = uow.accounts.by_email(normal_email(email))
        if found is None or found.id is None:
            raise NotFound(f"no account {email}", field="email")
        uow.accounts.update(found.id, api_token_hash=token_hash(token))
        _audit(ctx, uow, found, "account.token")
        uow.commit()
    return token


def account_for_token(ctx: Context, token: str) -> Account | None:
    if not token.startswith("hrb_") or len(token) > 100:
        return None
    with ctx.uow() as uow:
        found = uow.accounts.by_token_hash(token_hash(token))
    return found if found is not None and not found.disabled else None


def accounts(ctx: Context) -> list[Account]:
    with ctx.uow() as uow:
        return uow.accounts.all()


def record_action(ctx: Context, account_id: int, action: str, **detail: object) -> None:
    """An audit row for what a dashboard account did outside any entity's own use case (an
    import it confirmed, a report it exported)."""
    with ctx.uow() as uow:
        found = uow.accounts.get(account_id)
        if found is None:
            raise NotFound(f"no account {account_id}")
        _audit(ctx, uow, found, action, **detail)
        uow.commit()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_label(account: Account) -> str:
    """How an account is named in the audit trail when no employee stands behind it."""
    return f"user:{account.id}"


def _dummy(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash(secrets.token_hex(16))
    return _DUMMY_HASH[key]


def _audit(ctx: Context, uow: UnitOfWork, account: Account, action: str, **detail: object) -> None:
    assert account.id is not None
    uow.audit.add(
        AuditEntry(
            at=ctx.now(),
            action=action,
            subject_kind="account",
            subject_id=account.id,
            actor_id=account.employee_id,
            actor=actor_label(account),
            channel="dashboard",
            detail={"email": account.email, **detail},
        )
    )
