"""Questions: the FAQ answers what it knows; a close call offers the two best answers; anything
else goes to the asker's HR as a hand-off, with their context, and the asker is told so."""

from __future__ import annotations

from bot.dialogs.talk import Talk
from core.domain.claims import ClaimState
from core.services import chats, queries
from core.services.status import check_status
from faq.engine import FaqAnswer, FaqEngine


def _lang(talk: Talk) -> str:
    return "zh" if talk.t.locale == "zh-CN" else "en"


def answer(talk: Talk, question: str) -> None:
    result = FaqEngine.load().ask(question, lang=_lang(talk))
    if result.status in ("answer", "small_talk"):
        _say_answer(talk, result)
    elif result.status == "did_you_mean":
        buttons = tuple(
            talk.button("chat.faq_pick", "faq.pick", title=s.title, intent=s.intent)
            for s in result.suggestions[:2]
        )
        none = talk.button("button.ask_hr", "faq.handoff", question=question[:1000])
        talk.say("chat.faq_did_you_mean", buttons=(*buttons, none))
    else:
        hand_off(
            talk, question, [{"intent": s.intent, "score": s.score} for s in result.suggestions]
        )


def pick(talk: Talk, intent: str) -> None:
    _say_answer(talk, FaqEngine.load().answer_for(intent, "zh" if _lang(talk) == "zh" else "en"))


def hand_off(talk: Talk, question: str, guesses: list[dict[str, object]]) -> None:
    if talk.me is None:
        talk.say("chat.link_needed")
        return
    me = talk.employee
    report = check_status(talk.ctx, me.employee_no, talk.ctx.rules.claim_check_months)
    open_claims = [
        c.claim.reference
        for c in queries.my_claims(talk.ctx, me.id)
        if c.claim.state not in (ClaimState.PAID, ClaimState.REJECTED, ClaimState.WITHDRAWN)
    ]
    chats.record_handoff(
        talk.ctx,
        me.id,
        question,
        _lang(talk),
        guesses,
        {"status": str(report.status), "claims": open_claims or ["—"]},
    )
    talk.say("chat.handoff_sent")


def _say_answer(talk: Talk, result: FaqAnswer) -> None:
    talk.say("chat.faq_answer", answer=result.answer or "")
    if result.follow_up_command:
        talk.say("chat.faq_follow_up", command=result.follow_up_command)
