"""The fleet: two ``hrbot serve --no-worker`` web processes and two ``hrbot worker`` processes on
loopback ports over one PostgreSQL database (its own, created for the test), with fake Slack and
Telegram APIs, play the seed scenario.

张三 talks to the bot on Telegram (his Slack link is removed, so his notices go there too); HR
王芳, finance 孙丽 and 李四 use Slack. Every webhook request goes to the next web process in turn.
The workers run on the real clock: to make escalation timers and countdown reminders due, the
test moves the pending ones' due times back by days ("time passes") and waits until the workers
have fired them.

Asserted at the end: every notice in the outbox was sent once and its message reached the fake
Slack or Telegram exactly once (two workers, no duplicates); every escalation step and reminder
that fired has exactly one audit row; no process crashed, and each stopped cleanly on SIGTERM.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, update

from core.domain.claims import ClaimState
from core.persistence import tables as t
from core.persistence.engine import make_engine
from tests.conftest import PG_URL
from tests.factories import JPEG, PDF, PNG
from tests.fakes_slack import key_of
from tests.fleet_chat import (
    FleetChat,
    Recorder,
    telegram_message,
    telegram_press,
    telegram_request,
)
from tests.fleet_checks import delivered_exactly_once, settled, timers_fired_once
from tests.fleet_support import Fleet, fleet, is_postgresql

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not is_postgresql(PG_URL),
        reason="the fleet test needs PostgreSQL: set HRBOT_TEST_DATABASE_URL=postgresql+psycopg://…",
    ),
]

ZHANG, EMILY = 1001001, 1001003  # Telegram
LISI, HR, FINANCE = "U0LISI", "U0WANGFANG", "U0SUNLI"  # Slack
DIRECTOR, MANAGER = "U0CHENJING", "U0LIUQIANG"


# The fleet and what it received ----------------------------------------------------------------


class Crew:
    def __init__(self, running: Fleet, recorder: Recorder, first_alert: int) -> None:
        self.fleet = running
        self.db: Engine = make_engine(running.database_url)
        self.chat = FleetChat(running, recorder)
        self.seen = recorder
        self.first_alert = first_alert
        """Alerts before this id came with the demo history, not from this run."""


@pytest.fixture
def crew(tmp_path: Path) -> Iterator[Crew]:
    assert PG_URL is not None
    made: list[tuple[Recorder, int]] = []

    def prepare(running: Fleet) -> None:
        engine = make_engine(running.database_url)
        with engine.begin() as connection:
            employees = t.employees.c
            # 张三 is reached on Telegram only (Slack is everyone's first choice otherwise).
            connection.execute(
                update(t.employees)
                .where(employees.employee_no == "E1001")
                .values(slack_user_id=None)
            )
            last = connection.scalar(select(func.max(t.alerts.c.id))) or 0
        engine.dispose()
        made.append((Recorder(running.slack, running.telegram), last + 1))  # before any process

    with fleet(PG_URL, tmp_path / "fleet", prepare=prepare) as running:
        recorder, first_alert = made[0]
        team = Crew(running, recorder, first_alert)
        try:
            yield team
        finally:
            team.chat.close()
            team.db.dispose()


# Telegram, as 张三 and Emily use it --------------------------------------------------------------


def tg_send(crew: Crew, user: int, **content: Any) -> None:
    update_id = next(crew.chat.update_ids)
    crew.chat.post(telegram_request(telegram_message(user, update_id, **content)))
    handled(crew, update_id)


def tg_press(crew: Crew, user: int, token: str) -> None:
    """Press a button Telegram really showed ``user`` (on the message that carried it)."""
    shown = [s for s in crew.seen.telegram_chat(user) if token in s.tokens and s.message_id]
    assert shown, f"button {token} was never shown to {user} on Telegram"
    update_id = next(crew.chat.update_ids)
    press = telegram_press(user, update_id, token, int(shown[-1].message_id or 0))
    crew.chat.post(telegram_request(press))
    handled(crew, update_id)


def handled(crew: Crew, update_id: int) -> None:
    inbox = t.inbox.c
    query = select(inbox.processed).where(
        inbox.platform == "telegram", inbox.event_id == str(update_id)
    )

    def done() -> bool:
        with crew.db.connect() as connection:
            return bool(connection.scalar(query))

    crew.chat.until(f"Telegram update {update_id} handled", done)


def offered(crew: Crew, user: int, action: str, **payload: Any) -> str:
    """The token of the latest button ``action`` the conversation offered ``user``."""
    sessions = t.chat_sessions.c
    query = select(sessions.buttons).where(
        sessions.platform == "telegram", sessions.user_id == str(user)
    )
    with crew.db.connect() as connection:
        buttons: dict[str, Any] = connection.scalar(query) or {}
    tokens = [
        token
        for token, button in buttons.items()
        if button["action"] == action and payload.items() <= button["payload"].items()
    ]
    assert tokens, f"{action} not offered to {user}: {buttons}"
    return tokens[-1]


def notice_row(crew: Crew, user: int, key: str) -> Any:
    """The outbox row of ``key`` to the Telegram user ``user``, once a worker has sent it."""
    outbox, people = t.outbox.c, t.employees.c
    query = (
        select(outbox.id, outbox.external_id, outbox.buttons)
        .join(t.employees, people.id == outbox.recipient_id)
        .where(people.telegram_user_id == str(user), outbox.key == key, outbox.state == "sent")
    )

    def sent() -> Any:
        with crew.db.connect() as connection:
            return connection.execute(query).first()

    return crew.chat.until(f"{key} sent to {user}", sent)


# Time ------------------------------------------------------------------------------------------


def time_passes(crew: Crew, days: int = 15) -> None:
    """Days go by for every pending escalation step and countdown reminder: their due times move
    back, so the workers (on the real clock) find them due and fire them."""
    with crew.db.begin() as connection:
        for table in ("escalation_steps", "reminders"):
            connection.execute(
                text(
                    f"UPDATE {table} SET due_at = due_at - make_interval(days => :days) "  # noqa: S608
                    "WHERE state = 'pending'"
                ),
                {"days": days},
            )


def pending_steps(crew: Crew) -> int:
    steps = t.escalation_steps.c
    with crew.db.connect() as connection:
        return int(connection.scalar(select(func.count()).where(steps.state == "pending")) or 0)


# The scenario ----------------------------------------------------------------------------------


def claim_is_held(crew: Crew) -> None:
    """1-2. 张三 opens a hospitalization claim on Telegram and uploads three documents."""
    tg_send(crew, ZHANG, text="/claim")
    tg_press(crew, ZHANG, offered(crew, ZHANG, "wizard.type", claim_type="hospitalization"))
    tg_send(crew, ZHANG, document=tg_file(crew, "DOC-ADMISSION", PDF, file_name="住院证.pdf"))
    tg_send(crew, ZHANG, photo=[tg_file(crew, "PHOTO-BILL", JPEG, width=1280, height=960)])
    tg_send(crew, ZHANG, document=tg_file(crew, "DOC-ID", PNG, file_name="身份证.png"))
    tg_send(crew, ZHANG, text="¥8,650.00")
    tg_press(crew, ZHANG, offered(crew, ZHANG, "wizard.submit"))
    assert claim_state(crew) == ClaimState.ON_HOLD


def tg_file(crew: Crew, file_id: str, content: bytes, **fields: Any) -> dict[str, Any]:
    """A file the fake Bot API will serve, as a message describes it."""
    crew.fleet.telegram.add_file(file_id, content)
    return {"file_id": file_id, "file_unique_id": file_id[-6:], "file_size": len(content)} | fields


def claim_state(crew: Crew) -> str:
    claims, people = t.claims.c, t.employees.c
    query = (
        select(claims.state)
        .join(t.employees, people.id == claims.employee_id)
        .where(people.employee_no == "E1001")
    )
    with crew.db.connect() as connection:
        return str(connection.scalar(query))


def hr_gives_the_cause(crew: Crew) -> None:
    """3-4. HR gets the alert on Slack and gives the cause (finance approval) with buttons."""
    card = crew.chat.slack_latest(HR, "alert.level1")
    assert crew.chat.slack_presses(HR, card, "alert.acknowledge") == ["chat.ack_cause"]
    causes = crew.chat.slack_latest(HR, "chat.ack_cause")
    assert crew.chat.slack_presses(HR, causes, "ack.cause") == ["chat.ack_date"]
    dates = crew.chat.slack_latest(HR, "chat.ack_date")
    assert crew.chat.slack_presses(HR, dates, "ack.date", index=1) == ["chat.ack_done"]
    notice_row(crew, ZHANG, "alert.cause_found")  # 张三 hears the cause on Telegram


def nobody_else_acts_for_days(crew: Crew) -> None:
    """7. Time passes until every escalation has run its course; the workers fire each step."""
    for _ in range(4):
        time_passes(crew)
        crew.chat.until("the workers to fire what is due", lambda: settled(crew.db), timeout=30)
        if not pending_steps(crew):
            break
    assert not pending_steps(crew)
    assert crew.chat.slack_latest(MANAGER, "alert.batch.level2")
    assert crew.chat.slack_latest(DIRECTOR, "alert.batch.level3")
    assert crew.chat.slack_latest(MANAGER, "alert.level2"), "张三's alert reopened and escalated"


def finance_approves_and_pays(crew: Crew) -> None:
    """4-6. Finance approves and pays both batches; the claim resumes; finance pays it out."""
    chat = crew.chat
    assert chat.slack_says(FINANCE, "/approvals", expect=2) == ["chat.approval_batch"] * 2
    cards = [c for c in crew.seen.slack_dm(FINANCE) if key_of(c) == "chat.approval_batch"][-2:]
    for card in cards:
        assert chat.slack_presses(FINANCE, card, "batch.approve") == ["chat.batch_approved_done"]
        approved = chat.slack_latest(FINANCE, "chat.batch_approved_done")
        assert chat.slack_presses(FINANCE, approved, "batch.paid") == ["chat.batch_paid_done"]
    notice_row(crew, ZHANG, "claim.resumed")
    review = chat.slack_latest(FINANCE, "claim.review_requested")
    assert chat.slack_presses(FINANCE, review, "claim.approve") == ["chat.claim_approved_done"]
    approved = chat.slack_latest(FINANCE, "chat.claim_approved_done")
    assert chat.slack_presses(FINANCE, approved, "claim.pay") == ["chat.claim_paid_done"]


def zhang_downloads_the_voucher(crew: Crew) -> None:
    paid = notice_row(crew, ZHANG, "claim.paid")
    assert paid.buttons[0]["action"] == "claim.voucher"
    tg_press(crew, ZHANG, f"n{paid.id}.0")
    documents = [s for s in crew.seen.telegram_chat(ZHANG) if s.method == "sendDocument"]
    assert len(documents) == 1
    assert claim_state(crew) == ClaimState.PAID


def test_the_seed_scenario_on_two_web_processes_and_two_workers(crew: Crew) -> None:
    tg_send(crew, ZHANG, text="/status")
    assert crew.chat.slack_says(LISI, "/status")[0].startswith("chat.status")
    tg_send(crew, EMILY, text="how do I check my contribution status?")
    claim_is_held(crew)
    notice_row(crew, ZHANG, "claim.held")
    hr_gives_the_cause(crew)
    nobody_else_acts_for_days(crew)
    finance_approves_and_pays(crew)
    zhang_downloads_the_voucher(crew)
    crew.chat.until("the outbox to drain", lambda: settled(crew.db))

    assert set(crew.chat.sent_by) == set(crew.fleet.webs), "both web processes took requests"
    assert not crew.fleet.crashed(), crew.fleet.logs()
    crew.fleet.stop()
    assert not crew.fleet.unclean_exits(), crew.fleet.logs()
    assert delivered_exactly_once(crew.db, crew.seen) > 50, "the scenario's notices went out"
    assert not pending_steps(crew)
    steps, reminders = timers_fired_once(crew.db, crew.first_alert)
    assert steps >= 10 and reminders >= 6, "time passing made the timers fire"
