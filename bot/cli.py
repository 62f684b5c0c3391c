"""The ``hrbot`` command line (Typer). Heavy imports wait inside the commands that need them,
so ``hrbot --help`` and ``hrbot faq ask`` start fast.

Errors: one line on stderr, no traceback; exit 1 for bad data, 2 for bad usage.
"""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer

from bot.audit_cli import audit_app
from bot.backup_cli import register as register_backup
from bot.faq_cli import faq_app
from bot.import_cli import import_app
from bot.keys_cli import keys_app
from bot.policy_cli import policy_app
from bot.purge_cli import register as register_purge
from bot.report_cli import report_app
from bot.roster_cli import roster_app
from bot.telegram_cli import telegram_app
from bot.user_cli import user_app

app = typer.Typer(
    name="hrbot",
    help="hrbot: keeps employees from being hurt by late social-insurance payments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
register_backup(app)  # hrbot backup PATH / hrbot restore PATH
register_purge(app)  # hrbot purge --dry-run|--apply
db_app = typer.Typer(help="Database: migrations and demo data.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(faq_app, name="faq")
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")
app.add_typer(report_app, name="report")
app.add_typer(roster_app, name="roster")
app.add_typer(telegram_app, name="telegram")
app.add_typer(user_app, name="user")


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


_EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def _check_chat_settings() -> None:
    """Refuse to start with a chat platform half configured: one Slack setting of two, or a
    Telegram webhook without its secret."""
    from bot.platforms.slack import slack_enabled
    from bot.settings import Settings

    settings = Settings()
    try:
        slack_enabled(settings)
    except ValueError as error:
        fail(str(error), code=2)
    webhook = settings.telegram_bot_token and settings.telegram_mode == "webhook"
    if webhook and not settings.telegram_webhook_secret:
        fail(
            "HRBOT_TELEGRAM_WEBHOOK_SECRET is required in webhook mode "
            "(or set HRBOT_TELEGRAM_MODE=polling)",
            code=2,
        )
    problem = settings.gateway_problem()
    if problem:
        fail(problem, code=2)


def _check_keys(services: Any) -> None:
    """Refuse to start when stored ID and mobile numbers were sealed with a key this process
    does not hold: it would start, then fail every chat turn and notice about those people
    (the employee left without an answer). Skipped, with a warning, when the database cannot
    be read yet: a process started before its database still comes up and waits for it."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from core.encryption import KEY_SETTING
    from core.encryption_keys import current_keyring
    from core.services.keys import missing_keys

    try:
        missing = missing_keys(services.ctx)
    except SQLAlchemyError as error:
        logging.getLogger("hrbot.keys").warning(
            "encryption keys not checked: the database cannot be read (%s)", type(error).__name__
        )
        return
    if missing:
        keyring = current_keyring()
        which = "key {} which is" if len(missing) == 1 else "keys {} which are"
        fail(
            f"stored ID and mobile numbers were sealed with {which.format(', '.join(missing))}"
            f" not among the keys in use ({', '.join(keyring.key_ids)}, from "
            f"{keyring.source}): set {KEY_SETTING} to the key that wrote them (current key "
            "first, older keys after it, comma-separated)",
            code=2,
        )


def _services() -> Any:
    from bot.bootstrap import build

    try:
        return build()
    except ValueError as error:  # settlement gateways configured by half
        fail(str(error), code=2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Web only; run `hrbot worker` elsewhere.")
    ] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="One JSON object a line.")] = False,
) -> None:
    """Serve the web app (web chat, dashboard, webhooks, /metrics) under uvicorn."""
    import uvicorn

    from bot.app import create_app

    _start_logging(log_json)
    _check_chat_settings()
    services = _services()
    try:
        _check_keys(services)
    finally:
        services.close()

    uvicorn.run(
        create_app(run_worker=not no_worker),
        host=host,
        port=port,
        # uvicorn's loggers go through ours (HRBOT_LOG_LEVEL, --log-json); the app writes its
        # own access line, with the request id, so uvicorn's is off.
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def _start_logging(log_json: bool) -> None:
    from bot import logs

    try:
        logs.setup(json_lines=log_json)
    except ValueError as error:  # a bad HRBOT_ setting, in one line
        fail(str(error), code=2)


@app.command()
def worker(
    interval: Annotated[float, typer.Option(help="Seconds between rounds.", min=0.1)] = 5.0,
    log_json: Annotated[bool, typer.Option("--log-json", help="One JSON object a line.")] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Serve /metrics on this port (on HRBOT_METRICS_HOST, 127.0.0.1). Off if unset.",
            min=1,
            max=65535,
        ),
    ] = None,
) -> None:
    """Run the scheduler and the notification dispatcher until SIGTERM (for a fleet of many)."""
    import asyncio

    from bot.bootstrap import build_router
    from bot.metrics import serve_worker_metrics
    from bot.worker import Worker, run_until_signalled

    _start_logging(log_json)
    _check_chat_settings()
    services = _services()
    stop_metrics = None
    try:
        _check_keys(services)
        runner = Worker(services, build_router(services.settings, services.ctx), interval)
        if metrics_port is not None:
            host = services.settings.metrics_host
            engine = services.db.engine
            stop_metrics = serve_worker_metrics(runner.metrics, engine, metrics_port, host)
        asyncio.run(run_until_signalled(runner))
    finally:
        if stop_metrics is not None:
            stop_metrics()
        services.close()


@app.command()
def demo(
    lang: Annotated[Lang, typer.Option(help="Language of the transcript.")] = Lang.ZH,
) -> None:
    """Replay the seed scenario on a throw-away database; exit 0 only if every step happened."""
    from bot.demo.scenario import run_demo

    ok = run_demo("zh-CN" if lang is Lang.ZH else "en", out=typer.echo)
    raise typer.Exit(0 if ok else 1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Run Alembic migrations to head on HRBOT_DATABASE_URL."""
    from core.persistence.migrate import current_revision, upgrade

    services = _services()
    try:
        upgrade(services.db.engine)
        typer.echo(f"database at revision {current_revision(services.db.engine)}")
    finally:
        services.close()


@db_app.command("seed-demo")
def db_seed_demo() -> None:
    """Load the demo organisation, only into a database with no employees yet."""
    from adapters.passwords import Argon2Hasher
    from bot.demo.accounts import DEMO_PASSWORD, add_demo_accounts
    from bot.demo.history import add_demo_history
    from bot.demo.org import load_demo_org

    services = _services()
    try:
        with services.ctx.uow() as uow:
            if uow.directory.count_employees():
                typer.echo("database already has employees: demo organisation not loaded")
            else:
                load_demo_org(uow, services.ctx.today(), services.ctx.now())
                add_demo_history(uow, services.ctx.now(), services.ctx.rules.policy)
                uow.commit()
                typer.echo(f"demo organisation loaded: {uow.directory.count_employees()} employees")
            is_demo = uow.directory.employee_by_no("H2001") is not None
        # Accounts also for a demo database loaded before the dashboard existed.
        if services.settings.demo_mode and is_demo:
            created = add_demo_accounts(services.ctx, Argon2Hasher())
            typer.echo(f"demo dashboard accounts: {created} new (password {DEMO_PASSWORD})")
    finally:
        services.close()


@app.command()
def status(
    employee_no: Annotated[str, typer.Argument(help="Employee number, e.g. E1001.")],
    months: Annotated[
        int | None, typer.Option(help="How many recent months (default 6).", min=1, max=120)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """An employee's contribution status over recent months."""
    if not _EMPLOYEE_NO.match(employee_no):
        fail(f"not an employee number: {employee_no!r}")
    from bot.i18n import Translator
    from core.services.status import check_status

    services = _services()
    try:
        report = check_status(services.ctx, employee_no, months)
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    t = Translator(services.settings.default_locale, services.settings.zone)
    typer.echo(f"{report.employee_no}: {report.status} ({t.word('status', report.status)})")
    for m in report.months:
        due = m.due_date.isoformat() if m.due_date else "-"
        paid = m.paid_date.isoformat() if m.paid_date else "-"
        typer.echo(
            f"  {m.period}  {m.state:<15} due {due:<10}  paid {paid:<10}  "
            f"{t.word('month', m.state)}"
        )


@app.command()
def escalate(
    now: Annotated[bool, typer.Option("--now", help="Run one sweep now, then exit.")] = False,
) -> None:
    """Fire the escalation steps and reminders now due (the scheduler runs this every minute)."""
    if not now:
        fail("nothing to do: pass --now to run one sweep", code=2)
    from core.services.alerts import sweep_escalations
    from core.services.approvals import plan_approval_waits, remind_due_approvals
    from core.services.countdowns import fire_due_reminders, plan_countdowns

    services = _services()
    try:
        planned = plan_countdowns(services.ctx)
        plan_approval_waits(services.ctx)
        reminders = fire_due_reminders(services.ctx, owner="escalate-now")
        approvals = remind_due_approvals(services.ctx, owner="escalate-now")
        result = sweep_escalations(services.ctx, owner="escalate-now")
    finally:
        services.close()
    typer.echo(
        f"escalation sweep: {result.fired} fired, {result.skipped} skipped; "
        f"reminders: {planned} planned, {reminders.reminded} sent, "
        f"{reminders.alerted} alerts opened; "
        f"approvals: {approvals.reminded} reminded, {approvals.alerted} overdue"
    )


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: turns every expected failure into one line on stderr and an exit code."""
    from core.domain.errors import DomainError
    from core.encryption import EncryptionKeyError

    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="hrbot", standalone_mode=False)
    except typer.Abort:
        typer.echo("hrbot: aborted", err=True)
        sys.exit(1)
    except typer.TyperException as error:  # click's errors; usage errors carry exit code 2
        context = getattr(error, "ctx", None)
        where = context.command_path if context is not None else "hrbot"
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
            typer.echo(context.get_help(), err=True)
        else:
            typer.echo(f"{where}: {' '.join(message.split())}", err=True)
        sys.exit(getattr(error, "exit_code", 2))
    except (DomainError, EncryptionKeyError) as error:  # a wrong key: say which setting
        typer.echo(f"hrbot: {error}", err=True)
        sys.exit(1)
    except OSError as error:
        typer.echo(f"hrbot: {error.strerror or error}", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
