"""The claim wizard: type → documents (live checklist) → amount → confirm → submit.

Its state is the session's ``dialog``/``data`` in the database, so it survives restarts, can be
cancelled, and picks up where the employee stopped.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.dialogs import consent
from bot.dialogs.talk import Talk, printable
from core.chat import Attachment
from core.domain.claims import (
    OPTIONAL_DOCUMENTS,
    REQUIRED_DOCUMENTS,
    ClaimState,
    ClaimType,
    DocumentKind,
    checklist,
)
from core.domain.consents import ConsentRequired
from core.domain.errors import DocumentRejected, InvalidValue
from core.services import claims, queries

DIALOG = "claim"
_AMOUNT = re.compile(r"^[¥￥]?\s*([0-9][0-9,]*(?:\.[0-9]{1,2})?)\s*(元|yuan|rmb|cny)?$", re.I)


def start(talk: Talk) -> None:
    if consent.needed(talk):  # PIPL: the separate consent comes before any document
        consent.ask(talk)
        return
    draft = queries.draft_claim(talk.ctx, talk.employee.id)
    if draft is not None:
        talk.enter(DIALOG, claim_id=draft.id)
        talk.say("chat.claim_resumed", claim=draft.reference)
        _next_step(talk)
        return
    talk.enter(DIALOG, step="type")
    talk.say(
        "chat.claim_choose_type",
        buttons=(
            talk.button(
                "claim_type.hospitalization", "wizard.type", "primary", claim_type="hospitalization"
            ),
            talk.button("claim_type.outpatient", "wizard.type", claim_type="outpatient"),
        ),
    )


def choose_type(talk: Talk, claim_type: str) -> None:
    if talk.session.data.get("claim_id") is not None:  # a second tap opens no second claim
        _next_step(talk)
        return
    claim = claims.open_claim(
        talk.ctx, talk.employee.id, ClaimType(claim_type), channel=talk.session.platform
    )
    talk.enter(DIALOG, claim_id=claim.id)
    talk.say("chat.claim_opened", claim=claim.reference, claim_type=claim_type)
    _next_step(talk)


def receive_files(talk: Talk, files: tuple[Attachment, ...]) -> None:
    claim_id = talk.session.data.get("claim_id")
    if claim_id is None:
        talk.say("chat.claim_choose_type_first")
        return
    for attachment in files:
        view = claims.claim_view(talk.ctx, claim_id)
        kind = _next_kind(view.claim.claim_type, view.received)
        if kind is None:
            talk.say("chat.claim_all_documents_in")
            break
        try:
            claims.attach_document(
                talk.ctx,
                claim_id,
                talk.employee.id,
                kind,
                attachment.filename,
                attachment.content or b"",
                channel=talk.session.platform,
            )
        except ConsentRequired:  # a new notice came into force since the claim was opened
            talk.say("chat.consent_needed_first")
            consent.ask(talk)
            return
        except DocumentRejected as refused:
            reason = str(refused.params.get("reason", "refused"))
            # A refused name is never echoed: it may carry control or bidi characters.
            shown = "" if reason == "bad_name" else printable(attachment.filename)
            talk.say(f"upload.{reason}", filename=shown)
    _next_step(talk)


def consent_answered(talk: Talk, granted: bool, version: str) -> None:
    """After the consent question: go on with the claim, or leave the wizard on a refusal."""
    if not consent.answer(talk, granted, version):
        if not granted and talk.session.dialog == DIALOG:
            talk.leave()
        return
    if talk.session.dialog == DIALOG and talk.session.data.get("claim_id") is not None:
        _next_step(talk)
    else:
        start(talk)


def receive_text(talk: Talk, text: str) -> bool:
    """Text inside the wizard: the amount when asked for; False when it is not for the wizard."""
    if talk.session.data.get("step") != "amount":
        return False
    match = _AMOUNT.match(text.strip().replace(" ", ""))
    try:
        amount = Decimal(match.group(1).replace(",", "")) if match else None
    except InvalidOperation:
        amount = None
    if amount is None:
        talk.say("chat.claim_amount_invalid")
        return True
    try:
        claims.set_claimed_amount(talk.ctx, talk.session.data["claim_id"], talk.employee.id, amount)
    except InvalidValue:
        talk.say("chat.claim_amount_invalid")
        return True
    _next_step(talk)
    return True


def submit(talk: Talk, claim_id: int) -> None:
    claim = claims.submit_claim(talk.ctx, claim_id, talk.employee.id, channel=talk.session.platform)
    talk.leave()
    if claim.state is ClaimState.ON_HOLD:
        talk.say("chat.claim_submitted_held", claim=claim.reference)
    else:
        talk.say("chat.claim_submitted_review", claim=claim.reference)


def cancel(talk: Talk) -> None:
    claim_id = talk.session.data.get("claim_id")
    if claim_id is not None:
        claims.withdraw_claim(talk.ctx, claim_id, talk.employee.id, channel=talk.session.platform)
    talk.leave()
    talk.say("chat.claim_cancelled")


def _next_step(talk: Talk) -> None:
    view = claims.claim_view(talk.ctx, talk.session.data["claim_id"])
    items = checklist(view.claim.claim_type, view.received)
    lines = "\n".join(
        ("✅ " if item.received else ("❌ " if item.required else "➕ "))
        + talk.t.word("document", item.kind)
        + ("" if item.required else talk.t("chat.optional"))
        for item in items
    )
    missing = [i.kind for i in items if i.required and not i.received]
    if missing:
        talk.session.data = {"claim_id": view.claim.id, "step": "documents"}
        talk.say("chat.claim_checklist", checklist=lines, next=talk.t.word("document", missing[0]))
        return
    if view.claim.amount is None:
        talk.session.data = {"claim_id": view.claim.id, "step": "amount"}
        talk.say("chat.claim_checklist_done", checklist=lines)
        talk.say("chat.claim_ask_amount")
        return
    talk.session.data = {"claim_id": view.claim.id, "step": "confirm"}
    talk.say(
        "chat.claim_confirm",
        claim=view.claim.reference,
        checklist=lines,
        amount=str(view.claim.amount),
        claim_type=str(view.claim.claim_type),
        buttons=(
            talk.button("button.submit", "wizard.submit", "primary", claim_id=view.claim.id),
            talk.button("button.cancel", "wizard.cancel", "danger", claim_id=view.claim.id),
        ),
    )


def _next_kind(claim_type: ClaimType, received: set[DocumentKind]) -> DocumentKind | None:
    for kind in REQUIRED_DOCUMENTS[claim_type] + OPTIONAL_DOCUMENTS[claim_type]:
        if kind not in received:
            return kind
    return None
