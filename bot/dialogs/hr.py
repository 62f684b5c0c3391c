"""HR's work in chat: open alerts with time left, acknowledge (cause, fix date), resolve, and
answer hand-offs."""

from __future__ import annotations

from datetime import date, timedelta

from bot.dialogs.talk import Talk
from core.chat import OutgoingButton
from core.domain.contributions import DelayReason
from core.domain.escalation import AlertState
from core.services import alerts, chats, queries

ACK = "ack"
REPLY = "handoff_reply"


SHOWN = 10
"""Alerts listed by /alerts (the dashboard lists them all)."""


def list_alerts(talk: Talk) -> None:
    found = queries.open_alerts_for(talk.ctx, talk.employee.id, limit=SHOWN)
    if not found:
        talk.say("chat.alerts_none")
        return
    for item in found:
        alert = item.alert
        hours = "—"
        if item.time_left is not None:
            hours = str(int(item.time_left.total_seconds() // 3600))
        buttons: tuple[OutgoingButton, ...] = (
            talk.button("button.resolve", "alert.resolve", alert_id=alert.id),
        )
        if alert.state is AlertState.OPEN:
            buttons = (
                talk.button(
                    "button.acknowledge", "alert.acknowledge", "primary", alert_id=alert.id
                ),
                *buttons,
            )
        talk.say(
            "chat.alert_line",
            buttons=buttons,
            alert_id=alert.id,
            branch=item.branch,
            about=item.about,
            level=alert.level,
            hours_left=hours,
            hours_unit=talk.t("unit.working_hours" if item.working_time else "unit.hours"),
            state_text=talk.t.word("alert_state", alert.state),
        )


def start_ack(talk: Talk, alert_id: int) -> None:
    talk.enter(ACK, alert_id=alert_id, step="cause")
    talk.say(
        "chat.ack_cause",
        alert_id=alert_id,
        buttons=tuple(
            talk.button(f"cause.{cause}", "ack.cause", alert_id=alert_id, cause=str(cause))
            for cause in DelayReason
        ),
    )


def ack_cause(talk: Talk, alert_id: int, cause: str) -> None:
    talk.enter(ACK, alert_id=alert_id, cause=cause, step="date")
    today = talk.ctx.today()
    talk.say(
        "chat.ack_date",
        buttons=tuple(
            talk.button(
                "chat.in_days",
                "ack.date",
                alert_id=alert_id,
                cause=cause,
                date=(today + timedelta(days=days)).isoformat(),
                days=days,
            )
            for days in (1, 3, 7)
        ),
    )


def ack_text(talk: Talk, text: str) -> bool:
    data = talk.session.data
    if data.get("step") != "date":
        return False
    try:
        fix_date = date.fromisoformat(text.strip())
    except ValueError:
        talk.say("chat.ack_date_invalid")
        return True
    ack_done(talk, data["alert_id"], data["cause"], fix_date.isoformat())
    return True


def ack_done(talk: Talk, alert_id: int, cause: str, fix_date: str) -> None:
    talk.leave()
    alerts.acknowledge_alert(
        talk.ctx,
        alert_id,
        talk.employee.id,
        DelayReason(cause),
        date.fromisoformat(fix_date),
        channel=talk.session.platform,
    )
    talk.say("chat.ack_done", alert_id=alert_id, cause=cause, fix_date=fix_date)


def resolve(talk: Talk, alert_id: int) -> None:
    alerts.resolve_alert(
        talk.ctx,
        alert_id,
        talk.employee.id,
        "resolved by HR in chat",
        channel=talk.session.platform,
    )
    talk.say("chat.resolved", alert_id=alert_id)


def start_reply(talk: Talk, handoff_id: int) -> None:
    talk.enter(REPLY, handoff_id=handoff_id)
    talk.say("chat.handoff_reply_prompt")


def reply_text(talk: Talk, text: str) -> bool:
    handoff_id = talk.session.data["handoff_id"]
    talk.leave()
    chats.answer_handoff(talk.ctx, handoff_id, talk.employee.id, text)
    talk.say("chat.handoff_replied")
    return True
