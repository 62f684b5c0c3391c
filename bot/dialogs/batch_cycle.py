"""The monthly contribution cycle in chat: ``/roster`` for HR, HR's check (verify or return),
finance's approval (a second tap above the configured amount), marking a batch paid, filing the
bureau's receipt (缴费凭证), and retrying a failed batch.

Every step is authorised again by the core; the buttons only say what was offered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dialogs.talk import Talk, printable
from core.chat import Attachment
from core.domain.errors import ConfirmationRequired, DocumentRejected
from core.domain.periods import Period
from core.services import batches, queries, review, roster

RECEIPT = "batch_receipt"
"""The dialog that waits for the receipt file of a paid batch."""


def actions(talk: Talk, p: dict[str, Any]) -> dict[str, Callable[[], None]]:
    """The buttons of the cycle, for the conversation's router."""
    return {
        "batch.verify": lambda: verify(talk, p["batch_id"]),
        "batch.approve": lambda: approve(talk, p["batch_id"]),
        "batch.approve_confirm": lambda: approve(talk, p["batch_id"], confirmed=True),
        "batch.paid": lambda: paid(talk, p["batch_id"]),
        "batch.receipt": lambda: start_receipt(talk, p["batch_id"], p.get("period", "")),
        "batch.retry": lambda: retry(talk, p["batch_id"]),
    }


def build_roster(talk: Talk) -> None:
    """This month's roster for the branches the HR person answers for, one line per branch."""
    codes = queries.branch_codes_for(talk.ctx, talk.employee.id)
    if not codes:
        talk.say("chat.roster_none")
        return
    period = Period.of(talk.ctx.today())
    outcomes = roster.build_roster(
        talk.ctx, period, codes, actor_id=talk.employee.id, channel=talk.session.platform
    )
    for outcome in outcomes:
        talk.say(
            "chat.roster_line",
            branch_code=outcome.branch_code,
            period=str(period),
            action=outcome.action,
            action_text=talk.t.word("roster_action", outcome.action),
            headcount=outcome.headcount,
            total=str(outcome.total),
            joiners=outcome.joiners,
            leavers=outcome.leavers,
            transfers_in=outcome.transfers_in,
            transfers_out=outcome.transfers_out,
            differences=outcome.differences,
        )
    # The core pushes the check card (Verify / Return) for every batch still waiting for HR:
    # new versions to the branch's HR, an unchanged one again to whoever asked.
    if any(o.action in ("created", "replaced", "unchanged") for o in outcomes):
        talk.say("chat.roster_sent")


def verify(talk: Talk, batch_id: int) -> None:
    """HR has checked the roster: it goes on to finance with the budget card."""
    batch = review.verify_batch(talk.ctx, batch_id, talk.employee.id, channel=talk.session.platform)
    talk.say("chat.batch_verified_done", period=str(batch.period), batch_id=batch.id)


def approve(talk: Talk, batch_id: int, confirmed: bool = False) -> None:
    """Approve; above the configured amount the core asks for a second tap, offered here."""
    try:
        batch = batches.approve_batch(
            talk.ctx, batch_id, talk.employee.id, channel=talk.session.platform, confirmed=confirmed
        )
    except ConfirmationRequired as needed:
        talk.say(
            "chat.batch_confirm_needed",
            total=needed.params.get("total"),
            threshold=needed.params.get("threshold"),
            buttons=(
                talk.button(
                    "button.confirm_approve", "batch.approve_confirm", "primary", batch_id=batch_id
                ),
                talk.button("button.return", "batch.return", "danger", batch_id=batch_id),
            ),
        )
        return
    if talk.ctx.rules.settlement == "gateway":
        talk.say("chat.batch_approved_gateway", period=str(batch.period))
        return
    talk.say(
        "chat.batch_approved_done",
        period=str(batch.period),
        buttons=(talk.button("button.mark_paid", "batch.paid", "primary", batch_id=batch.id),),
    )


def paid(talk: Talk, batch_id: int) -> None:
    """Manual settlement: finance or HR says it is paid, then may upload the receipt."""
    batch = batches.confirm_batch_paid(
        talk.ctx,
        batch_id,
        talk.employee.id,
        reference=f"CHAT-BATCH-{batch_id}",
        channel=talk.session.platform,
    )
    talk.say(
        "chat.batch_paid_done",
        period=str(batch.period),
        buttons=(
            talk.button(
                "button.upload_receipt",
                "batch.receipt",
                batch_id=batch.id,
                period=str(batch.period),
            ),
        ),
    )


def start_receipt(talk: Talk, batch_id: int, period: str) -> None:
    talk.enter(RECEIPT, batch_id=batch_id, period=period)
    talk.say("chat.receipt_prompt", period=period)


def receive_receipt(talk: Talk, files: tuple[Attachment, ...]) -> None:
    """File each file sent as the batch's receipt; a refused file is explained, the rest kept."""
    batch_id = talk.session.data["batch_id"]
    filed_any = False
    for attachment in files:
        try:
            filed = batches.attach_batch_receipt(
                talk.ctx,
                batch_id,
                talk.employee.id,
                attachment.filename,
                attachment.content or b"",
                channel=talk.session.platform,
            )
        except DocumentRejected as refused:
            reason = str(refused.params.get("reason", "refused"))
            shown = "" if reason == "bad_name" else printable(attachment.filename)
            talk.say(f"upload.{reason}", filename=shown)
            continue
        filed_any = True
        talk.say("chat.receipt_filed", filed=filed, filename=printable(attachment.filename))
    if filed_any:
        talk.leave()


def receipt_text(talk: Talk, text: str) -> bool:
    """Words instead of a file: ask again (``/cancel`` leaves, as everywhere)."""
    talk.say("chat.receipt_prompt", period=talk.session.data.get("period", ""))
    return True


def retry(talk: Talk, batch_id: int) -> None:
    batch = batches.retry_batch(talk.ctx, batch_id, talk.employee.id, channel=talk.session.platform)
    talk.say("chat.batch_retried", period=str(batch.period))
