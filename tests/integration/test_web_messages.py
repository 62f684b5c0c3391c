"""The web chat's mailbox in the core, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from bot.demo.org import load_demo_org
from core.domain.errors import NotFound
from core.services import webchat
from core.services.context import Context


@pytest.fixture
def org(ctx: Context) -> dict[str, webchat.Person]:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    return {p.employee_no: p for p in webchat.people(ctx)}


def test_messages_are_kept_per_person_in_order(
    ctx: Context, org: dict[str, webchat.Person]
) -> None:
    zhang, sun = org["E1001"].employee_id, org["F5001"].employee_id
    first = webchat.post(ctx, zhang, [{"text": "一"}, {"text": "二"}])
    webchat.post(ctx, sun, [{"text": "finance"}])
    third = webchat.post_to_number(ctx, "E1001", {"text": "三"})
    assert [m.payload["text"] for m in webchat.history(ctx, zhang)] == ["一", "二", "三"]
    after = webchat.messages_after(ctx, zhang, first[0].id)
    assert [m.id for m in after] == [first[1].id, third]
    assert webchat.messages_after(ctx, zhang, third) == []
    assert [m.payload["text"] for m in webchat.history(ctx, zhang, limit=2)] == ["二", "三"]


def test_a_card_update_replaces_only_its_own_persons_message(
    ctx: Context, org: dict[str, webchat.Person]
) -> None:
    card = webchat.post_to_number(ctx, "H2001", {"text": "card"})
    update = webchat.post_to_number(ctx, "H2001", {"text": "closed"}, replaces_id=card)
    stranger = webchat.post_to_number(ctx, "E1001", {"text": "x"}, replaces_id=card)
    wang, zhang = org["H2001"].employee_id, org["E1001"].employee_id
    assert webchat.messages_after(ctx, wang, card)[0].replaces_id == card
    assert webchat.messages_after(ctx, wang, card)[0].id == update
    assert webchat.messages_after(ctx, zhang, stranger - 1)[0].replaces_id is None
    with pytest.raises(NotFound):
        webchat.post_to_number(ctx, "X0000", {"text": "nobody"})


def test_people_are_the_current_staff_employees_first(
    ctx: Context, org: dict[str, webchat.Person]
) -> None:
    roles = [p.role for p in org.values()]
    assert roles[0] == "employee" and roles[-1] == "finance"
    assert "E1202" not in org  # 冯雪 has left
    assert org["E1003"].locale == "en" and org["E1001"].branch == "上海分公司"
    assert webchat.person(ctx, "E1202") is None and webchat.person(ctx, "E1001") is not None
    assert webchat.document_for(ctx, org["E1001"].employee_id, b"%PDF-none") is None
