"""The demo organisation's dashboard accounts, created by ``hrbot db seed-demo`` in demo mode.

One shared password, printed on the login page only while ``HRBOT_DEMO_MODE`` is on, so one
browser can look at the dashboard as HR, a manager, the director, finance and an admin.
"""

from __future__ import annotations

from core.domain.accounts import AccountRole
from core.ports import PasswordHasher
from core.services import accounts
from core.services.context import Context

DEMO_PASSWORD = "hrbot-demo-2026"  # noqa: S105 - demo mode only, shown on the login page
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("wangfang@example.com", "hr", "王芳 (上海、北京 HR)"),
    ("zhaomin@example.com", "hr", "赵敏 (广州、成都 HR)"),
    ("liuqiang@example.com", "hr_manager", "刘强 (HR 经理)"),
    ("chenjing@example.com", "hr_director", "陈静 (HR 总监)"),
    ("sunli@example.com", "finance", "孙丽 (上海、北京财务)"),
    ("admin@example.com", "admin", "系统管理员 Admin"),
)


def add_demo_accounts(ctx: Context, hasher: PasswordHasher) -> int:
    """Create the accounts that do not exist yet; returns how many were created."""
    existing = {account.email for account in accounts.accounts(ctx)}
    created = 0
    for email, role, _name in DEMO_ACCOUNTS:
        if email not in existing:
            accounts.add_user(ctx, hasher, email, AccountRole(role), DEMO_PASSWORD)
            created += 1
    return created
