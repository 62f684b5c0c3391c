"""``/away`` played as transcripts on the demo organisation: set an absence with a substitute,
list it, the refusals (each saying why, nothing stored), cancel it; in Chinese and English."""

from __future__ import annotations

import pytest

from bot.conversation import Conversation, parse_command
from bot.demo.org import load_demo_org
from core.services.context import Context
from tests.factories import notices, row_counts
from tests.transcripts import Chatter


@pytest.fixture
def convo(ctx: Context) -> Conversation:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    return Conversation(ctx)


def absences_of(ctx: Context, employee_no: str) -> list[tuple[str, str, int | None]]:
    with ctx.uow() as uow:
        person = uow.directory.employee_by_no(employee_no)
        assert person is not None
        return [
            (a.starts_on.isoformat(), a.ends_on.isoformat(), a.substitute_id)
            for a in uow.absences.of(person.id)
        ]


def test_away_parses_as_a_command() -> None:
    assert parse_command("/away 2026-12-01 2026-12-07 @H2002") == (
        "away",
        "2026-12-01 2026-12-07 @H2002",
    )
    assert parse_command("/away") == ("away", "")


def test_hr_sets_lists_and_cancels_an_absence(ctx: Context, convo: Conversation) -> None:
    wang = Chatter(convo, "U0WANGFANG")  # 王芳, HR H2001
    assert wang.says("/away") == ["chat.away_none"]

    assert wang.says("/away 2026-12-01 2026-12-07 @H2002") == ["chat.away_set"]
    assert "赵敏" in wang.text and "2026-12-07" in wang.text
    (told,) = notices(ctx, "delegation.you_substitute")
    assert told.to == "H2002" and told.params["employee"] == "王芳"

    assert wang.says("/away") == ["chat.away_line"]
    assert "赵敏" in wang.text
    number = wang.last[0].params["absence_id"]

    assert wang.says("/away cancel 999") == ["chat.away_not_found"]
    assert wang.says(f"/away cancel {number}") == ["chat.away_cancelled"]
    assert wang.says("/away") == ["chat.away_none"]
    assert [n.to for n in notices(ctx, "delegation.cancelled")] == ["H2002"]


def test_a_single_day_and_a_slack_mention(ctx: Context, convo: Conversation) -> None:
    wang = Chatter(convo, "U0WANGFANG")
    assert wang.says("/away 2026-12-24 <@U0ZHAOMIN>") == ["chat.away_set"]
    assert "赵敏" in wang.text
    with ctx.uow() as uow:
        zhao = uow.directory.employee_by_no("H2002")
        assert zhao is not None
    assert absences_of(ctx, "H2001") == [("2026-12-24", "2026-12-24", zhao.id)]


def test_without_substitute_the_reply_says_what_happens(ctx: Context, convo: Conversation) -> None:
    sun = Chatter(convo, "U0SUNLI")  # 孙丽, finance
    assert sun.says("/away 2026-11-02 2026-11-03") == ["chat.away_set_alone"]
    assert "下一级" in sun.text


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("/away 2026-12-07 2026-12-01 @H2002", "chat.away_bad_dates"),
        ("/away 2026-13-01 2026-12-07", "chat.away_bad_dates"),
        ("/away 2026-12-01 2026-12-32 @H2002", "chat.away_bad_dates"),
        ("/away 2026-09-01 2026-09-07", "chat.away_bad_dates"),
        ("/away next week", "chat.away_usage"),
        ("/away 2026-12-01 2026-12-07 @H2002 @M3001", "chat.away_usage"),
        ("/away 2026-12-01 2026-12-07 @X9999", "chat.away_unknown_substitute"),
        ("/away 2026-12-01 2026-12-07 @F5001", "chat.away_bad_substitute"),
        ("/away 2026-12-01 2026-12-07 @H2001", "chat.away_bad_substitute"),
        ("/away cancel", "chat.away_usage"),
    ],
)
def test_refusals_say_why_and_store_nothing(
    ctx: Context, convo: Conversation, text: str, reply: str
) -> None:
    wang = Chatter(convo, "U0WANGFANG")
    before = row_counts(ctx)["absences"]
    assert wang.says(text) == [reply]
    assert row_counts(ctx)["absences"] == before


def test_a_loop_of_substitutes_is_refused(ctx: Context, convo: Conversation) -> None:
    wang, zhao = Chatter(convo, "U0WANGFANG"), Chatter(convo, "U0ZHAOMIN")
    assert wang.says("/away 2026-12-01 2026-12-07 @H2002") == ["chat.away_set"]
    assert zhao.says("/away 2026-12-05 2026-12-09 @H2001") == ["chat.away_cycle"]
    assert "赵敏 → 王芳 → 赵敏" in zhao.text
    assert absences_of(ctx, "H2002") == []
    assert wang.says("/away 2026-12-06 2026-12-08") == ["chat.away_overlap"]
    assert zhao.says("/away 2026-12-08 2026-12-09 @H2001") == ["chat.away_set"]


def test_only_hr_and_finance_set_absences_and_english_is_answered_in_english(
    convo: Conversation,
) -> None:
    emily = Chatter(convo, "U0EMILY")  # an employee who reads English
    assert emily.says("/away 2026-12-01 2026-12-07 @H2001") == ["chat.away_not_allowed"]
    assert "HR and finance approvers" in emily.text
    zhang = Chatter(convo, "U0ZHANGSAN")
    assert zhang.says("/away") == ["chat.away_not_allowed"]
    assert "财务审批人" in zhang.text
