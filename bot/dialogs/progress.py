"""Progress: a card per claim saying where it is, why, and what happens next."""

from __future__ import annotations

from typing import Any

from bot.dialogs.talk import Talk
from core.chat import OutgoingButton
from core.domain.claims import ClaimState
from core.services import queries
from core.services.status import check_status

FINAL = {ClaimState.PAID, ClaimState.REJECTED, ClaimState.WITHDRAWN}


def show_progress(talk: Talk) -> None:
    cards = queries.my_claims(talk.ctx, talk.employee.id)
    if not cards:
        talk.say("chat.progress_none")
        return
    live = [c for c in cards if c.claim.state not in FINAL] or cards[-1:]
    for card in live[-5:]:
        show_card(talk, card)


def show_card(talk: Talk, card: queries.ClaimProgress) -> None:
    claim = card.claim
    params: dict[str, Any] = {
        "claim": claim.reference,
        "claim_type": str(claim.claim_type),
        "state_text": talk.t.word("claim_state", claim.state),
    }
    if claim.state is ClaimState.ON_HOLD:
        report = check_status(
            talk.ctx, talk.employee.employee_no, talk.ctx.rules.claim_check_months
        )
        hours = None
        if card.hr_time_left is not None:
            hours = int(card.hr_time_left.total_seconds() // 3600)
        talk.say(
            "chat.progress_held",
            months=[str(m.period) for m in report.problem_months],
            cause=str(card.cause) if card.cause else None,
            hours_left=hours if hours is not None else "—",
            hours_unit=talk.t("unit.working_hours" if card.hr_working_time else "unit.hours"),
            **params,
        )
        return
    buttons: tuple[OutgoingButton, ...] = ()
    if card.voucher is not None:
        buttons = (talk.button("button.download_voucher", "claim.voucher", claim_id=claim.id),)
    talk.say(
        f"chat.progress.{claim.state}",
        buttons=buttons,
        amount=str(claim.amount or "—"),
        reason=claim.decision_reason,
        **params,
    )
