"""``hrbot user add|list|token``: dashboard accounts.

``add`` asks for the password twice (or reads one line from stdin with ``--password-stdin``, for
scripts), hashes it with argon2 and never prints it. HR and finance accounts are linked to the
employee with the same e-mail (or ``--employee``), whose directory role must match.

Errors: one line on stderr; exit 2 for bad usage (unknown role), 1 for bad data.
"""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

user_app = typer.Typer(help="Dashboard accounts: add one, list them, issue an API token.")

ROLES = ("hr", "hr_manager", "hr_director", "finance", "admin")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        _fail("no terminal to ask for the password: use --password-stdin", code=2)
    return str(typer.prompt("Password 密码", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Login e-mail.")],
    role: Annotated[
        str, typer.Option("--role", help="hr, hr_manager, hr_director, finance, admin")
    ],
    employee: Annotated[
        str | None, typer.Option("--employee", help="Employee number to link (default: by e-mail).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Create a dashboard account."""
    if role not in ROLES:
        _fail(f"--role must be one of {', '.join(ROLES)}, got {role!r}", code=2)
    from adapters.passwords import Argon2Hasher
    from bot.bootstrap import build
    from core.domain.accounts import AccountRole
    from core.domain.errors import DomainError
    from core.services import accounts

    password = _password(password_stdin)
    services = build()
    try:
        created = accounts.add_user(
            services.ctx, Argon2Hasher(), email, AccountRole(role), password, employee
        )
    except DomainError as error:
        _fail(str(error))
    finally:
        services.close()
    who = f" ({created.employee_name})" if created.employee_name else ""
    typer.echo(f"account created: {created.account.email}{who}, role {role}")


@user_app.command("list")
def list_accounts() -> None:
    """Every dashboard account with its role."""
    from bot.bootstrap import build
    from core.services import accounts

    services = build()
    try:
        found = accounts.accounts(services.ctx)
    finally:
        services.close()
    for account in found:
        state = " (disabled)" if account.disabled else ""
        typer.echo(f"{account.email}\t{account.role}{state}")


@user_app.command("token")
def token(email: Annotated[str, typer.Argument(help="The account's e-mail.")]) -> None:
    """Issue a bearer token for /api (replaces the previous one); printed once."""
    from bot.bootstrap import build
    from core.domain.errors import DomainError
    from core.services import accounts

    services = build()
    try:
        issued = accounts.issue_api_token(services.ctx, email)
    except DomainError as error:
        _fail(str(error))
    finally:
        services.close()
    typer.echo(issued)
