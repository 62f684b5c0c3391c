"""The load test's people, as locust users (run by benchmarks/bench_load.py, headless).

- ``Employee`` (Telegram webhook): asks an FAQ question, checks their status, uploads a claim
  document (opens a claim, sends one file, cancels), now and then files a whole claim (three
  documents, the amount, submit; held in Shanghai, sent to finance's review in Beijing).
- ``Hr`` (Slack): lists open alerts and acknowledges one with buttons (cause, fix date).
- ``Finance`` (Slack): lists what waits for approval and approves one claim or batch, then marks
  it paid, with buttons.
- ``Probe``: one user reading ``GET /healthz``, the fleet's HTTP cost without any bot work: the
  baseline the webhook latencies are compared with.

Each request goes to the next web process in turn. Besides the HTTP request (the webhook's
answer: Slack and Telegram only need the ack), each turn records an ``ANSWER`` entry: the time
until the person's first reply reached the fake Slack or Telegram API (in this process). Buttons
are pressed as people press them: the token is read from the message the fake received.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geventhttpclient.response import HTTPConnectionClosed
from locust import FastHttpUser, between, constant, task

from tests.fakes_slack import Call, buttons_of
from tests.fleet_chat import (
    Recorder,
    Request,
    TelegramSent,
    button_named,
    slack_click,
    slack_message,
    telegram_message,
    telegram_press,
    telegram_request,
)

RESENT = "resent: kept-alive connection closed by the server"
CLOSED = (HTTPConnectionClosed, ConnectionResetError, BrokenPipeError)
ANSWER_TIMEOUT = 20.0
QUIET = 0.15
"""A turn's replies have all arrived once nothing new came for this long."""
QUESTIONS = (
    "社保断缴会影响医疗报销吗",
    "怎么报销住院费用",
    "我的社保缴费基数是多少",
    "公司每个月什么时候缴社保",
    "报销多久能到账",
    "how do I check my contribution status?",
    "what documents do I need for a hospital claim?",
    "my claim was rejected, what can I do?",
    "how long does a payout take?",
    "医保个人账户余额怎么查",
)


@dataclass
class Context:
    """What bench_load.py hands the users before the run starts."""

    webs: list[str]
    seen: Recorder
    employees: list[int]
    hr: list[str]
    finance: list[str]
    documents: dict[str, tuple[str, bytes]]
    """Telegram file id -> (file name, content), served by the fake Bot API."""
    turns: itertools.count[int] = field(default_factory=itertools.count)
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))
    taken: dict[str, itertools.count[int]] = field(default_factory=dict)
    generator_cpu: float = 0.0
    """The share of one CPU this process (users and fake APIs) used during the run."""

    def web(self) -> str:
        return self.webs[next(self.turns) % len(self.webs)]

    def identity(self, pool: str) -> Any:
        """A person of ``pool`` no other user plays."""
        people = getattr(self, pool)
        index = next(self.taken.setdefault(pool, itertools.count()))
        return people[index % len(people)]


CONTEXT: Context | None = None


def context() -> Context:
    assert CONTEXT is not None, "bench_load.py sets locustfile.CONTEXT before the run"
    return CONTEXT


class Speaker(FastHttpUser):
    """Posts webhook requests, round robin, and waits for what the bot answers."""

    abstract = True
    wait_time = between(0.5, 1.5)

    def post(self, kind: str, request: Request) -> bool:
        """Send one webhook request; a kept-alive connection the server closed as it was reused
        is resent once on a new one, as Slack and Telegram redeliver (the inbox takes a delivery
        once), and counted apart, under ``RESENT``."""
        path, body, headers = request
        url, name = context().web() + path, f"POST {path} ({kind})"
        for attempt in (1, 2):
            # Webhook bodies are ASCII (JSON with escapes, or URL-encoded): the signed bytes go.
            with self.client.post(
                url, data=body.decode("ascii"), headers=headers, name=name, catch_response=True
            ) as response:
                if response.status_code == 200:
                    return True
                error = response.error
                if attempt == 1 and isinstance(error, CLOSED):
                    response.request_meta["name"] = RESENT
                    response.failure(f"{type(error).__name__}: {error}")
                    continue
                response.failure(
                    f"{type(error).__name__}: {error}" if error else f"HTTP {response.status_code}"
                )
        return False

    def answered(
        self, kind: str, since: float, replies: Callable[[], Sequence[Any]], before: int
    ) -> list[Any]:
        """Wait for the turn's replies (new items of ``replies()``); record the first's delay."""
        deadline = since + ANSWER_TIMEOUT
        while len(replies()) <= before:
            if time.monotonic() > deadline:
                self.record(kind, since, TimeoutError(f"no answer in {ANSWER_TIMEOUT:.0f} s"))
                return []
            time.sleep(0.02)
        self.record(kind, since)
        count, quiet_from = len(replies()), time.monotonic()
        while time.monotonic() - quiet_from < QUIET and time.monotonic() < deadline:
            time.sleep(0.03)
            if len(replies()) != count:
                count, quiet_from = len(replies()), time.monotonic()
        return list(replies()[before:])

    def record(self, kind: str, since: float, error: Exception | None = None) -> None:
        self.environment.events.request.fire(
            request_type="ANSWER",
            name=kind,
            response_time=(time.monotonic() - since) * 1000,
            response_length=0,
            exception=error,
            context={},
        )


class Employee(Speaker):
    weight = 8

    def on_start(self) -> None:
        self.me: int = context().identity("employees")

    def messages(self) -> list[TelegramSent]:
        return context().seen.telegram_chat(self.me)

    def turn(self, kind: str, update: dict[str, Any]) -> list[TelegramSent]:
        before, since = len(self.messages()), time.monotonic()
        if not self.post(kind, telegram_request(update)):
            return []
        return self.answered(f"telegram: {kind}", since, self.messages, before)

    def says(self, kind: str, **content: Any) -> list[TelegramSent]:
        update_id = next(context().update_ids)
        return self.turn(kind, telegram_message(self.me, update_id, **content))

    def presses_first(self, replies: list[TelegramSent]) -> list[TelegramSent]:
        """Press the first button of the last reply that has the conversation's buttons."""
        cards = [s for s in replies if any(t.startswith("s") for t in s.tokens)]
        if not cards or cards[-1].message_id is None:
            return []
        update_id = next(context().update_ids)
        press = telegram_press(self.me, update_id, cards[-1].tokens[0], cards[-1].message_id)
        return self.turn("press", press)

    def sends_document(self, file_id: str) -> list[TelegramSent]:
        name, content = context().documents[file_id]
        document = {"file_id": file_id, "file_unique_id": file_id[-6:], "file_name": name}
        return self.says("document", document=document | {"file_size": len(content)})

    def opens_claim(self) -> bool:
        opened = self.presses_first(self.says("claim", text="/claim"))
        if not opened:  # a claim left open by an earlier turn: start again next time
            self.says("cancel", text="/cancel")
        return bool(opened)

    @task(4)
    def asks_a_question(self) -> None:
        self.says("question", text=random.choice(QUESTIONS))

    @task(3)
    def checks_status(self) -> None:
        self.says("status", text="/status")

    @task(2)
    def uploads_a_document(self) -> None:
        if self.opens_claim():
            self.sends_document(random.choice(list(context().documents)))
            self.says("cancel", text="/cancel")

    @task(1)
    def files_a_claim(self) -> None:
        if not self.opens_claim():
            return
        for file_id in context().documents:
            self.sends_document(file_id)
        self.presses_first(self.says("amount", text=f"¥{random.randint(500, 20000)}.00"))


class Staff(Speaker):
    """Someone on Slack: a message, then buttons of the cards it brought."""

    abstract = True
    pool = ""

    def on_start(self) -> None:
        self.me: str = context().identity(self.pool)

    def replies(self) -> list[Call]:
        return context().seen.slack_answers(self.me)

    def turn(self, kind: str, request: Request) -> list[Call]:
        before, since = len(self.replies()), time.monotonic()
        if not self.post(kind, request):
            return []
        return self.answered(f"slack: {kind}", since, self.replies, before)

    def says(self, text: str) -> list[Call]:
        return self.turn("message", slack_message(self.me, text))

    def presses(self, cards: list[Call], *actions: str) -> list[Call]:
        """Press the first of ``actions`` that ``cards`` offer, on one of the cards offering it
        (chosen at random, so colleagues do not all take the same item); the replies."""
        for action in actions:
            offering = [c for c in cards if action in _actions(c)]
            if offering:
                card = random.choice(offering)
                return self.turn("click", slack_click(self.me, card, button_named(card, action)))
        return []


def _actions(card: Call) -> set[str]:
    return {b["action_id"].split("~")[0] for b in buttons_of(card)}


class Hr(Staff):
    weight = 1
    pool = "hr"

    @task
    def acknowledges_an_alert(self) -> None:
        listed = self.says("/alerts")
        causes = self.presses(listed, "alert.acknowledge")
        dates = self.presses(causes, "ack.cause")
        self.presses(dates, "ack.date")


class Finance(Staff):
    weight = 1
    pool = "finance"

    @task
    def approves_and_pays(self) -> None:
        waiting = self.says("/approvals")
        approved = self.presses(waiting, "claim.approve", "batch.approve")
        self.presses(approved, "claim.pay", "batch.paid")


class Probe(FastHttpUser):
    fixed_count = 1
    wait_time = constant(0.5)

    @task
    def healthz(self) -> None:
        self.client.get(context().web() + "/healthz", name="GET /healthz (baseline)")
