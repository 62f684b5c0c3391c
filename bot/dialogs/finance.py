"""Finance's work in chat: what waits for approval, approve / reject / return (with a reason),
and confirming or retrying payouts. Batch approval and payment live in ``batch_cycle``."""

from __future__ import annotations

from bot.dialogs.talk import Talk
from core.services import batches, claims, queries

REASON = "reason"


def list_approvals(talk: Talk) -> None:
    waiting = queries.pending_approvals(talk.ctx, talk.employee.id)
    if waiting.standing_in_for:
        talk.say("chat.approvals_standing_in", names=list(waiting.standing_in_for))
    if not waiting.claims and not waiting.batches:
        talk.say("chat.approvals_none")
    for claim, person in waiting.claims[:10]:
        talk.say(
            "chat.approval_claim",
            claim=claim.reference,
            employee=person.name,
            amount=str(claim.amount or "—"),
            claim_type=str(claim.claim_type),
            buttons=(
                talk.button("button.approve", "claim.approve", "primary", claim_id=claim.id),
                talk.button("button.return", "claim.return", claim_id=claim.id),
                talk.button("button.reject", "claim.reject", "danger", claim_id=claim.id),
            ),
        )
    for batch, branch in waiting.batches[:10]:
        talk.say(
            "chat.approval_batch",
            branch=branch,
            period=str(batch.period),
            headcount=batch.headcount,
            total=str(batch.total),
            buttons=(
                talk.button("button.approve", "batch.approve", "primary", batch_id=batch.id),
                talk.button("button.return", "batch.return", batch_id=batch.id),
            ),
        )


def approve_claim(talk: Talk, claim_id: int) -> None:
    claim = claims.approve_claim(
        talk.ctx, claim_id, talk.employee.id, channel=talk.session.platform
    )
    if talk.ctx.rules.settlement == "gateway":  # the payout is queued: nothing to mark by hand
        talk.say("chat.claim_approved_gateway", claim=claim.reference, amount=str(claim.amount))
        return
    talk.say(
        "chat.claim_approved_done",
        claim=claim.reference,
        amount=str(claim.amount),
        buttons=(talk.button("button.mark_paid", "claim.pay", "primary", claim_id=claim.id),),
    )


def pay_claim(talk: Talk, claim_id: int) -> None:
    reference = f"CHAT-{talk.ctx.today():%Y%m%d}-{claim_id:06d}"
    claim = claims.record_payout(
        talk.ctx, claim_id, talk.employee.id, reference, channel=talk.session.platform
    )
    talk.say("chat.claim_paid_done", claim=claim.reference, amount=str(claim.amount))


def retry_payout(talk: Talk, claim_id: int) -> None:
    claim = claims.retry_payout(talk.ctx, claim_id, talk.employee.id, channel=talk.session.platform)
    talk.say("chat.payout_retried", claim=claim.reference)


def ask_reason(talk: Talk, action: str, subject_id: int) -> None:
    talk.enter(REASON, action=action, subject_id=subject_id)
    talk.say("chat.reason_prompt")


def reason_text(talk: Talk, text: str) -> bool:
    action, subject_id = talk.session.data["action"], talk.session.data["subject_id"]
    talk.leave()
    me, platform = talk.employee.id, talk.session.platform
    if action == "claim.reject":
        claims.reject_claim(talk.ctx, subject_id, me, text, channel=platform)
    elif action == "claim.return":
        claims.return_claim(talk.ctx, subject_id, me, text, channel=platform)
    else:
        batches.return_batch(talk.ctx, subject_id, me, text, channel=platform)
    talk.say("chat.decision_recorded")
    return True
