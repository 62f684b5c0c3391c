"""Chat sessions, hand-offs to HR and linking a chat account to an employee record.

The conversation keeps its state here (never in process memory), so a restart or a second web
process picks up exactly where the user stopped.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.domain.conversations import ChatSession, Handoff, HandoffState, LinkCode
from core.domain.directory import HR_ROLES, Employee, Role
from core.domain.errors import InvalidValue, PermissionDenied
from core.domain.masking import mask_free_text
from core.domain.notifications import Button, ChannelKind
from core.services.absences import behalf_params, delegates
from core.services.cards import close_cards
from core.services.common import audit, notify
from core.services.context import Context
from core.services.scope import require_scope

LINK_CODE_TTL = timedelta(minutes=15)
LINK_CODE_ATTEMPTS = 5
LINKABLE = {"slack": "slack_user_id", "telegram": "telegram_user_id"}


def load_session(ctx: Context, platform: str, user_id: str) -> ChatSession:
    """The session of this platform user, created on first contact; identity resolved by chat id."""
    with ctx.uow() as uow:
        session = uow.chats.session_for(platform, user_id)
        if session is None:
            session = ChatSession(platform=platform, user_id=user_id, updated_at=ctx.now())
            uow.chats.add(session)
        if session.employee_id is None:
            employee = uow.directory.employee_by_chat(platform, user_id)
            if employee is not None:
                session.employee_id = employee.id
        uow.commit()
        return session


def chosen_locale(ctx: Context, platform: str, user_id: str) -> str | None:
    """The language this platform user chose (their session's, else their profile's), read
    without creating anything: for answers outside a turn, to people who may be strangers."""
    with ctx.uow() as uow:
        session = uow.chats.session_for(platform, user_id)
        if session is not None and session.locale:
            return str(session.locale)
        person = uow.directory.employee_by_chat(platform, user_id)
        return str(person.locale) if person is not None and person.locale else None


def save_session(ctx: Context, session: ChatSession) -> None:
    with ctx.uow() as uow:
        session.updated_at = ctx.now()
        uow.chats.save(session)
        uow.commit()


def employee(ctx: Context, employee_id: int) -> Employee:
    with ctx.uow() as uow:
        return uow.directory.employee(employee_id)


def record_handoff(
    ctx: Context,
    employee_id: int,
    question: str,
    lang: str,
    guesses: list[dict[str, Any]],
    context: dict[str, Any],
) -> Handoff:
    """Pass a question the FAQ could not answer to the asker's HR, with their context."""
    with ctx.uow() as uow:
        asker = uow.directory.employee(employee_id)
        handoff = Handoff(
            employee_id=asker.id,
            question=mask_free_text(question)[:2000],  # no card or ID number passed on
            lang=lang,
            created_at=ctx.now(),
            guesses=guesses,
        )
        uow.chats.add(handoff)
        uow.flush()
        params = {
            "handoff_id": handoff.id,
            "employee": asker.name,
            "employee_no": asker.employee_no,
            "question": handoff.question,
        } | context
        buttons = [Button("handoff.reply", "button.reply", {"handoff_id": handoff.id}, "primary")]
        hr = uow.directory.responsible(asker.branch_id, Role.HR)
        for person, absent in delegates(ctx, uow, hr):  # a stand-in for HR away
            notify(
                ctx,
                uow,
                person,
                "handoff.new",
                params | behalf_params(person, absent),
                f"handoff:{handoff.id}",
                buttons=buttons,
                subject=("handoff", handoff.id),
            )
        audit(uow, ctx.now(), "handoff.open", ("handoff", handoff.id), asker, lang=lang)
        uow.commit()
        return handoff


def answer_handoff(ctx: Context, handoff_id: int, actor_id: int, answer: str) -> Handoff:
    text = answer.strip()
    if not text:
        raise InvalidValue("the answer is empty", field="answer")
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        handoff = uow.chats.handoff(handoff_id)
        asker = uow.directory.employee(handoff.employee_id)
        require_scope(uow, actor, asker.branch_id, *HR_ROLES, day=ctx.today())
        if handoff.state is HandoffState.ANSWERED:
            raise InvalidValue("this question has been answered already", field="handoff")
        handoff.state, handoff.answer = HandoffState.ANSWERED, text[:4000]
        handoff.answered_by, handoff.answered_at = actor.id, ctx.now()
        notify(
            ctx,
            uow,
            asker,
            "handoff.answered",
            {"question": handoff.question, "answer": handoff.answer, "hr": actor.name},
            f"handoff:{handoff.id}:answered",
        )
        audit(uow, ctx.now(), "handoff.answer", ("handoff", handoff.id), actor)
        close_cards(ctx, uow, ("handoff", handoff.id), "answered", actor)
        uow.commit()
        return handoff


@dataclass(frozen=True)
class LinkStarted:
    sent: bool


def start_link(ctx: Context, platform: str, user_id: str, email: str) -> LinkStarted:
    """E-mail a one-time code to the employee with this address; the reply never says whether
    the address exists, so the bot cannot be used to probe the directory."""
    if platform not in LINKABLE:
        raise InvalidValue("this chat platform is linked automatically", field="platform")
    if ChannelKind.EMAIL not in ctx.rules.channels:
        raise InvalidValue("e-mail is not configured: ask HR to link your account", field="email")
    code = f"{secrets.randbelow(1_000_000):06d}"
    with ctx.uow() as uow:
        person = uow.directory.employee_by_email(email)
        if person is None:
            return LinkStarted(sent=False)
        uow.chats.add(
            LinkCode(
                platform=platform,
                user_id=user_id,
                employee_id=person.id,
                code_hash=_digest(code),
                expires_at=ctx.now() + LINK_CODE_TTL,
            )
        )
        notify(
            ctx,
            uow,
            person,
            "link.code",
            {"code": code, "platform": platform},
            f"link:{platform}:{user_id}:{ctx.now().isoformat()}",
            channels=(ChannelKind.EMAIL,),
        )
        audit(uow, ctx.now(), "link.start", ("employee", person.id), channel=platform)
        uow.commit()
        return LinkStarted(sent=True)


def confirm_link(ctx: Context, platform: str, user_id: str, code: str) -> Employee:
    with ctx.uow() as uow:
        pending = uow.chats.latest_link_code(platform, user_id)
        if pending is None or pending.used or pending.expires_at < ctx.now():
            raise InvalidValue("no valid code: send /link with your e-mail first", field="code")
        pending.attempts += 1
        if pending.attempts > LINK_CODE_ATTEMPTS:
            uow.commit()
            raise PermissionDenied("too many wrong codes: request a new one", rule="link")
        if not hmac.compare_digest(pending.code_hash, _digest(code.strip())):
            uow.commit()
            raise InvalidValue("the code does not match", field="code")
        person = uow.directory.employee(pending.employee_id)
        if uow.directory.employee_by_chat(platform, user_id) is not None:
            raise InvalidValue("this chat account is linked already", field="user")
        setattr(person, LINKABLE[platform], user_id)
        pending.used = True
        session = uow.chats.session_for(platform, user_id)
        if session is not None:
            session.employee_id = person.id
        audit(uow, ctx.now(), "link.confirm", ("employee", person.id), person, channel=platform)
        uow.commit()
        return person


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
