"""The monthly cycle in the web chat demo, over HTTP: 王芳 builds the roster and verifies it,
孙丽 approves and marks it paid, and 张三 is told "社保缴费成功" on his event stream."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.e2e.test_web_chat import click, client, deliver, events, keys, play, say, settings

__all__ = ["client", "settings"]  # the fixtures, shared with the web chat tests


def test_the_cycle_runs_from_roster_to_paid_with_pushes(client: TestClient) -> None:
    play(client, "H2001")  # 王芳, HR for Shanghai and Beijing
    built = say(client, "/roster")
    assert keys(built).count("chat.roster_line") == 2
    deliver(client)
    cards = [m for m in events(client) if m["key"] == "batch.check_requested"]
    shanghai = next(c for c in cards if "上海" in c["text"])
    assert {b["action"] for b in shanghai["buttons"]} == {"batch.verify", "batch.return"}
    assert keys(click(client, [shanghai], "batch.verify")) == ["chat.batch_verified_done"]
    deliver(client)

    play(client, "F5001")  # 孙丽, finance
    asked = [m for m in events(client) if m["key"] == "batch.approval_requested"]
    card = asked[-1]
    approved = click(client, [card], "batch.approve")
    assert keys(approved) == ["chat.batch_approved_done"]
    assert keys(click(client, approved, "batch.paid")) == ["chat.batch_paid_done"]
    deliver(client)

    play(client, "E1001")  # 张三
    paid = [m for m in events(client) if m["key"] == "contribution.paid"]
    assert len(paid) == 1 and "社保缴费成功" in paid[0]["text"]
