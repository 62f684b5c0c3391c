"""The conversation, written once for every channel: commands and free text in, replies out.

Adapters translate platform payloads to ``core.chat`` types and call ``on_message`` or
``on_click`` (through the bridge: this is synchronous code over the core); pushes to other people
go through the outbox. Every click is authorised again by the core services, whatever the button
says; a refusal is explained to the clicker and audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.dialogs import (
    account,
    away,
    batch_cycle,
    claim_wizard,
    consent,
    finance,
    hr,
    mydata,
    progress,
    questions,
    status,
)
from bot.dialogs.talk import Talk
from bot.i18n import Translator, normalize_locale
from core.chat import (
    Address,
    Attachment,
    ButtonClick,
    IncomingMessage,
    OutgoingFile,
    OutgoingMessage,
)
from core.domain.directory import HR_ROLES, Role
from core.domain.errors import (
    ClaimIncomplete,
    ConfirmationRequired,
    DocumentRejected,
    IllegalTransition,
    InvalidValue,
    NotFound,
    PermissionDenied,
)
from core.services import chats, claims, queries
from core.services.audit_trail import record_click
from core.services.buttons import resolve_button
from core.services.context import Context

COMMANDS = {
    "status": {"/status", "状态", "我的社保", "社保状态", "缴费状态", "status", "my status"},
    "claim": {"/claim", "报销", "我要报销", "claim"},
    "progress": {"/progress", "进度", "报销进度", "progress"},
    "lang": {"/lang", "/language", "语言", "language"},
    "help": {"/help", "/start", "帮助", "help"},
    "cancel": {"/cancel", "取消", "cancel"},
    "alerts": {"/alerts", "告警"},
    "approvals": {"/approvals", "审批", "待审批"},
    "link": {"/link", "绑定"},
    "roster": {"/roster", "花名册", "社保花名册"},
    "away": {"/away", "休假代理"},
    "mydata": {"/mydata", "我的数据", "导出我的数据", "mydata", "my data"},
    "consent": {"/consent", "我的同意", "撤回同意", "consent"},
}
_WORD_TO_COMMAND = {word: name for name, words in COMMANDS.items() for word in words}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")


def parse_command(text: str) -> tuple[str | None, str]:
    """``("status", "")`` for ``/status@hrbot`` or 我的社保; ``(None, text)`` for anything else."""
    stripped = text.strip()
    head, _, rest = stripped.partition(" ")
    head = head.split("@", 1)[0].lower()
    if head in _WORD_TO_COMMAND:
        return _WORD_TO_COMMAND[head], rest.strip()
    if stripped.lower() in _WORD_TO_COMMAND:
        return _WORD_TO_COMMAND[stripped.lower()], ""
    return None, stripped


def detect_locale(text: str) -> str | None:
    """The language a message is written in, if it says; slash commands say nothing."""
    if text.strip().startswith("/"):
        return None
    if _CJK.search(text):
        return "zh-CN"
    return "en" if _LATIN.search(text) else None


class Conversation:
    def __init__(self, ctx: Context, default_locale: str = "zh-CN") -> None:
        self.ctx = ctx
        self.default_locale = default_locale

    def on_message(
        self, message: IncomingMessage, employee_id: int | None = None
    ) -> list[OutgoingMessage]:
        talk = self._begin(message.sender, message.text, message.locale_hint, employee_id)
        self._guarded(talk, lambda: self._route_message(talk, message), "message")
        return self._finish(talk)

    def on_click(self, click: ButtonClick, employee_id: int | None = None) -> list[OutgoingMessage]:
        talk = self._begin(click.sender, "", None, employee_id)
        self._guarded(talk, lambda: self._route_click(talk, click), click.action)
        return self._finish(talk)

    def _begin(self, sender: Address, text: str, hint: str | None, employee_id: int | None) -> Talk:
        session = chats.load_session(self.ctx, str(sender.platform), sender.target)
        if employee_id is not None:
            session.employee_id = employee_id  # the adapter authenticated this user itself
        me = chats.employee(self.ctx, session.employee_id) if session.employee_id else None
        chosen = session.locale or (str(me.locale) if me and me.locale else None)
        locale = chosen or detect_locale(text) or normalize_locale(hint, self.default_locale)
        return Talk(self.ctx, session, me, Translator(locale, self.ctx.rules.timezone))

    def _finish(self, talk: Talk) -> list[OutgoingMessage]:
        chats.save_session(self.ctx, talk.session)
        return talk.replies

    def _guarded(self, talk: Talk, work: Callable[[], None], action: str) -> None:
        try:
            work()
        except PermissionDenied as refused:
            queries.record_refusal(self.ctx, talk.me.id if talk.me else None, action, str(refused))
            sod = refused.params.get("rule") == "sod"  # the verifier tried to approve
            talk.say("chat.not_allowed_sod" if sod else "chat.not_allowed")
        except ConfirmationRequired as needed:  # dialogs offer the second tap; never crash
            params = needed.params
            talk.say(
                "chat.batch_confirm_needed",
                total=params.get("total"),
                threshold=params.get("threshold"),
            )
        except IllegalTransition as late:
            self._already_decided(talk, late)
        except NotFound:
            talk.say("chat.button_expired")
        except ClaimIncomplete as incomplete:
            kinds: list[str] = list(incomplete.params.get("missing", []))  # type: ignore[call-overload]
            missing = [talk.t.word("document", k) for k in kinds]
            talk.say("chat.claim_incomplete", missing=missing)
        except DocumentRejected as refused:
            talk.say(f"upload.{refused.params.get('reason', 'refused')}", filename="")
        except InvalidValue:
            talk.say("chat.invalid")

    def _already_decided(self, talk: Talk, late: IllegalTransition) -> None:
        machine, state = late.params.get("machine"), late.params.get("state")
        talk.say("chat.already_decided", state_text=talk.t.word(f"{machine}_state", str(state)))

    def _route_message(self, talk: Talk, message: IncomingMessage) -> None:
        command, argument = parse_command(message.text)
        if command == "link":
            account.link(talk, argument)
        elif command in ("help", "lang"):
            (account.show_help if command == "help" else account.choose_language)(talk)
        elif talk.me is None:
            if command or message.attachments:
                talk.say("chat.link_needed")
            elif message.text.strip():
                questions.answer(talk, message.text)
        elif command == "away":
            away.handle(talk, argument)
        elif command:
            self._command(talk, command)
        elif message.attachments:
            self._files(talk, message.attachments)
        elif message.text.strip() and not self._dialog_text(talk, message.text):
            questions.answer(talk, message.text)

    def _files(self, talk: Talk, files: tuple[Attachment, ...]) -> None:
        if talk.session.dialog == claim_wizard.DIALOG:
            claim_wizard.receive_files(talk, files)
        elif talk.session.dialog == batch_cycle.RECEIPT:
            batch_cycle.receive_receipt(talk, files)
        else:
            talk.say("chat.files_without_claim")

    def _command(self, talk: Talk, command: str) -> None:
        role = talk.employee.role
        if command in ("alerts", "roster") and role not in HR_ROLES:
            raise PermissionDenied("HR only")
        if command == "approvals" and role is not Role.FINANCE:
            raise PermissionDenied("finance only")
        {
            "status": status.show_status,
            "claim": claim_wizard.start,
            "progress": progress.show_progress,
            "cancel": self._cancel,
            "alerts": hr.list_alerts,
            "approvals": finance.list_approvals,
            "roster": batch_cycle.build_roster,
            "mydata": mydata.export,
            "consent": consent.show,
        }[command](talk)

    def _cancel(self, talk: Talk) -> None:
        if talk.session.dialog == claim_wizard.DIALOG:
            claim_wizard.cancel(talk)
            return
        talk.leave()
        talk.say("chat.cancelled")

    def _dialog_text(self, talk: Talk, text: str) -> bool:
        handlers: dict[str, Callable[[Talk, str], bool]] = {
            claim_wizard.DIALOG: claim_wizard.receive_text,
            hr.ACK: hr.ack_text,
            hr.REPLY: hr.reply_text,
            finance.REASON: finance.reason_text,
            batch_cycle.RECEIPT: batch_cycle.receipt_text,
        }
        handler = handlers.get(talk.session.dialog or "")
        return handler(talk, text) if handler else False

    def _route_click(self, talk: Talk, click: ButtonClick) -> None:
        offered = talk.session.buttons.get(click.token)
        if offered is not None:
            action, payload = offered["action"], dict(offered["payload"])
        elif talk.me is not None and click.token.startswith("n"):
            resolved = resolve_button(self.ctx, click.token, talk.me.id)
            action, payload = resolved.action, resolved.payload
        else:
            talk.say("chat.button_expired")
            return
        me = talk.me.id if talk.me else None
        record_click(self.ctx, me, talk.session.platform, talk.session.id, action, payload)
        if talk.me is None and action != "lang.set":
            talk.say("chat.link_needed")
            return
        self._act(talk, action, payload)

    def _act(self, talk: Talk, action: str, p: dict[str, Any]) -> None:
        if action in ("claim.reject", "claim.return", "batch.return"):
            _require_decider(talk, action)
            finance.ask_reason(talk, action, p.get("claim_id") or p["batch_id"])
            return
        handlers: dict[str, Callable[[], None]] = {
            "wizard.type": lambda: claim_wizard.choose_type(talk, p["claim_type"]),
            "wizard.submit": lambda: claim_wizard.submit(talk, p["claim_id"]),
            "wizard.cancel": lambda: claim_wizard.cancel(talk),
            "faq.pick": lambda: questions.pick(talk, p["intent"]),
            "faq.handoff": lambda: questions.hand_off(talk, p["question"], []),
            "lang.set": lambda: account.set_language(talk, p["locale"]),
            "alert.acknowledge": lambda: _hr_only(talk, lambda: hr.start_ack(talk, p["alert_id"])),
            "ack.cause": lambda: hr.ack_cause(talk, p["alert_id"], p["cause"]),
            "ack.date": lambda: hr.ack_done(talk, p["alert_id"], p["cause"], p["date"]),
            "alert.resolve": lambda: hr.resolve(talk, p["alert_id"]),
            "handoff.reply": lambda: _hr_only(talk, lambda: hr.start_reply(talk, p["handoff_id"])),
            "claim.approve": lambda: finance.approve_claim(talk, p["claim_id"]),
            "claim.pay": lambda: finance.pay_claim(talk, p["claim_id"]),
            "claim.retry_payout": lambda: finance.retry_payout(talk, p["claim_id"]),
            "claim.voucher": lambda: _voucher(talk, p["claim_id"]),
            "consent.grant": lambda: claim_wizard.consent_answered(talk, True, p["version"]),
            "consent.refuse": lambda: claim_wizard.consent_answered(talk, False, p["version"]),
            "consent.withdraw": lambda: consent.withdraw(talk),
        } | batch_cycle.actions(talk, p)
        handler = handlers.get(action)
        if handler is None:
            talk.say("chat.button_expired")
            return
        handler()


def _hr_only(talk: Talk, then: Callable[[], None]) -> None:
    if talk.employee.role not in HR_ROLES:
        raise PermissionDenied("HR only")
    then()


def _require_decider(talk: Talk, action: str) -> None:
    allowed = {Role.FINANCE} | (set(HR_ROLES) if action == "batch.return" else set())
    if talk.employee.role not in allowed:
        raise PermissionDenied("not yours to decide")


def _voucher(talk: Talk, claim_id: int) -> None:
    voucher = queries.claim_progress(talk.ctx, claim_id).voucher
    if voucher is None:
        talk.say("chat.voucher_missing")
        return
    document, content = claims.read_document(
        talk.ctx, voucher.id, talk.employee.id, channel=talk.session.platform
    )
    talk.send_file(
        "chat.voucher",
        OutgoingFile(document.filename, document.content_type, content),
        filename=document.filename,
    )
