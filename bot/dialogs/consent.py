"""The separate consent (PIPL) asked before an employee's first medical document.

The notice is the catalog message ``consent.notice.<version>`` for the version in force
(``Rules.medical_notice``); the buttons carry that version, so the answer recorded is to the
text the person was shown. The question leaves the current dialog alone: the claim wizard picks
up where it was once the answer is in (claim_wizard.consent_answered).
"""

from __future__ import annotations

from bot.dialogs.talk import Talk
from core.domain.directory import Role
from core.domain.errors import InvalidValue
from core.services import consents
from core.services.queries import responsible_staff


def needed(talk: Talk) -> bool:
    return consents.consent_needed(talk.ctx, talk.employee.id)


def ask(talk: Talk) -> None:
    version = talk.ctx.rules.medical_notice
    talk.say(
        "chat.consent_ask",
        notice=talk.t(f"consent.notice.{version}", days=talk.ctx.rules.retention.documents_days),
        version=version,
        buttons=(
            talk.button("button.consent_grant", "consent.grant", "primary", version=version),
            talk.button("button.consent_refuse", "consent.refuse", version=version),
        ),
    )


def answer(talk: Talk, granted: bool, version: str) -> bool:
    """Record the answer; True when consent is now given. A button from a notice that has
    since been replaced records nothing and asks again with the new one."""
    try:
        consents.record_consent(
            talk.ctx, talk.employee.id, granted, version, channel=talk.session.platform
        )
    except InvalidValue:
        talk.say("chat.consent_replaced")
        ask(talk)
        return False
    if granted:
        talk.say("chat.consent_granted", version=version)
        return True
    hr = [p.name for p in responsible_staff(talk.ctx, talk.employee.branch_id, Role.HR)]
    talk.say("chat.consent_refused", hr=hr or ["—"])
    return False


def show(talk: Talk) -> None:
    """/consent: what the person agreed to, when, and a button to withdraw it."""
    given = consents.current_consent(talk.ctx, talk.employee.id)
    if given is None:
        talk.say("chat.consent_none")
        return
    talk.say(
        "chat.consent_given",
        version=given.notice_version,
        given_at=talk.t.when(given.at),
        channel=given.channel or "—",
        buttons=(talk.button("button.consent_withdraw", "consent.withdraw", "danger"),),
    )


def withdraw(talk: Talk) -> None:
    withdrawn = consents.withdraw_consent(talk.ctx, talk.employee.id, talk.session.platform)
    if withdrawn is None:
        talk.say("chat.consent_none")
        return
    days = talk.ctx.rules.retention.documents_days
    talk.say("chat.consent_withdrawn", version=withdrawn.notice_version, days=days)
