"""What must hold in a fleet after any run (tests/integration/test_fleet.py, the load test).

- Every notice in the outbox was sent once, and its message reached the fake Slack or Telegram
  API exactly once: a second worker sending it again would show up as a second message with the
  same key (Slack) or text (Telegram), which no notice accounts for.
- Every escalation step and countdown reminder that fired did so once: one audit row each, and
  each fired step queued its notice.

Each check raises ``AssertionError`` saying what is wrong, and returns what it counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from core.persistence import tables as t
from tests.fakes_slack import key_of
from tests.fleet_chat import Recorder, TelegramSent


def settled(db: Engine) -> bool:
    """Nothing due is left: no timer pending past its due time, no notice waiting to go."""
    now = datetime.now(UTC)
    steps, reminders, outbox = t.escalation_steps.c, t.reminders.c, t.outbox.c
    with db.connect() as connection:
        due = [
            connection.scalar(
                select(func.count()).where(table.state == "pending", table.due_at <= now)
            )
            for table in (steps, reminders)
        ]
        waiting = connection.scalar(select(func.count()).where(outbox.state == "pending"))
    return not any(due) and not waiting


def delivered_exactly_once(db: Engine, seen: Recorder) -> int:
    """Checks every notice; returns how many were sent."""
    outbox, people = t.outbox.c, t.employees.c
    query = select(
        outbox.id,
        outbox.key,
        outbox.state,
        outbox.attempts,
        outbox.channel,
        outbox.external_id,
        outbox.replaces_id,
        people.slack_user_id,
        people.telegram_user_id,
    ).join(t.employees, people.id == outbox.recipient_id)
    with db.connect() as connection:
        rows = connection.execute(query).all()
    unsent = [
        (r.id, r.key, r.state, r.attempts) for r in rows if (r.state, r.attempts) != ("sent", 1)
    ]
    assert not unsent, f"not sent exactly once: {unsent}"
    assert {r.channel for r in rows} <= {"chat"}, "only chat is configured"
    # A card's update edits the card in place (same external id), unless the card had not gone
    # out yet when its update did: then the update went as a message of its own.
    external = {r.id: r.external_id for r in rows}
    edits = {r.id for r in rows if r.replaces_id and external.get(r.replaces_id) == r.external_id}
    slack_exactly_once(seen, [r for r in rows if r.slack_user_id], edits)
    telegram_exactly_once(seen, [r for r in rows if not r.slack_user_id], edits)
    return len(rows)


def slack_exactly_once(seen: Recorder, rows: list[Any], edits: set[int]) -> None:
    """Each notice is one ``chat.postMessage`` (an edit of its card: one ``chat.update``) with its
    key; any other message with a notice's key would be a second delivery."""
    expected: Counter[tuple[str, str, str, str]] = Counter()
    for row in rows:
        channel, _, ts = str(row.external_id).partition(":")
        method = "chat.update" if row.id in edits else "chat.postMessage"
        expected[(method, channel, ts, row.key)] += 1
    posted = Counter(
        (call.method, str(call.params.get("channel")), call.ts, key_of(call))
        for calls in seen.by_channel.values()
        for call in calls
        if call.method != "chat.postEphemeral" and not key_of(call).startswith("chat.")
    )
    assert posted == expected, f"Slack: missing {expected - posted}, extra {posted - expected}"


def telegram_exactly_once(seen: Recorder, rows: list[Any], edits: set[int]) -> None:
    """Each notice is the message Telegram numbered as its external id; no other message to the
    same chat has the same text (a second delivery would)."""
    sent = [s for calls in seen.by_chat.values() for s in calls]
    by_message: dict[tuple[str, int | None, bool], list[TelegramSent]] = defaultdict(list)
    for s in sent:
        by_message[(s.chat_id, _number(s), s.method != "sendMessage")].append(s)
    matched: list[TelegramSent] = []
    for row in rows:
        chat_id, _, message_id = str(row.external_id).rpartition(":")
        found = by_message[(chat_id, int(message_id), row.id in edits)]
        assert len(found) == 1, f"notice {row.id} ({row.key}) on Telegram: {found}"
        matched += found
    texts = {(s.chat_id, s.params.get("text")) for s in matched}
    again = [s for s in sent if (s.chat_id, s.params.get("text")) in texts]
    twice = Counter(_seen(s) for s in again) - Counter(_seen(s) for s in matched)
    assert not twice, f"Telegram: notices delivered more than once: {twice}"


def _number(sent: TelegramSent) -> int | None:
    """The message a call made or edited."""
    if sent.method == "sendMessage":
        return sent.message_id
    return int(sent.params.get("message_id") or 0)


def _seen(sent: TelegramSent) -> tuple[str, str, str]:
    return sent.method, sent.chat_id, str(sent.params.get("text"))


def timers_fired_once(db: Engine, first_alert: int) -> tuple[int, int]:
    """Checks the steps of alerts from ``first_alert`` on, and every reminder; returns how many
    steps and reminders fired."""
    steps, audit, reminders, outbox = (
        t.escalation_steps.c,
        t.audit_log.c,
        t.reminders.c,
        t.outbox.c,
    )
    with db.connect() as connection:
        run = connection.execute(
            select(steps.id, steps.alert_id, steps.kind, steps.state, steps.fired_at).where(
                steps.alert_id >= first_alert
            )
        ).all()
        audits = connection.execute(
            select(audit.action, audit.subject_kind, audit.subject_id)
        ).all()
        timers = connection.execute(
            select(reminders.id, reminders.batch_id, reminders.kind, reminders.state)
        ).all()
        keys = set(connection.scalars(select(outbox.idempotency_key)))
    fired = [s for s in run if s.state == "fired"]
    unstamped = [s.id for s in run if s.state in ("fired", "skipped") and s.fired_at is None]
    assert not unstamped, f"steps fired without a time: {unstamped}"

    def tally(action: str, kind: str = "alert") -> Counter[int]:
        return Counter(a.subject_id for a in audits if (a.action, a.subject_kind) == (action, kind))

    _same("fired steps per alert", Counter(s.alert_id for s in fired), tally("alert.escalate"))
    skipped = Counter(s.alert_id for s in run if s.state == "skipped")
    _same("skipped steps per alert", skipped, tally("alert.level_skipped"))
    reopened = Counter(
        s.alert_id for s in run if s.kind == "reopen" and s.state in ("fired", "skipped")
    )
    _same("reopenings per alert", reopened, tally("alert.reopen"))
    silent = [  # each fired step queued its notice (once: the idempotency key is unique)
        s.id
        for s in fired
        if not any(k.startswith(f"alert:{s.alert_id}:step:{s.id}:") for k in keys)
    ]
    assert not silent, f"steps fired without a notice: {silent}"

    done = [r for r in timers if r.state == "fired"]
    soon = Counter(r.batch_id for r in done if r.kind == "deadline_soon")
    _same("reminders per batch", soon, tally("batch.reminder", "batch"))
    passed = Counter(r.batch_id for r in done if r.kind == "deadline_passed")
    _same("deadline alarms per batch", passed, tally("batch.overdue", "batch"))
    return len(fired), len(done)


def _same(what: str, timers: Counter[int], audited: Counter[int]) -> None:
    """One audit row per timer that fired: a timer fired twice would have two."""
    assert timers == audited, (
        f"{what}: timers without their audit row {dict(timers - audited)}, "
        f"audit rows without a timer {dict(audited - timers)}"
    )
