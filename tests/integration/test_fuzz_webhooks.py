"""Fuzzing the chat webhooks: generated Slack and Telegram requests, correctly signed, with random
structure (unknown keys, wrong types, nesting, huge and odd strings, missing fields), posted to
the real adapters mounted as ``hrbot serve`` mounts them, with the demo organisation loaded.

Seeds are the real payloads in ``tests/fixtures/`` (copies of the shared platform fixtures), and
mutations of them; Slack also gets slash-command forms and bodies that are not what their
content type says. For every request:

- no 5xx: a request that reaches the adapter is answered 200, or 4xx when it is malformed;
- no ERROR log line, so no unhandled exception, in the request or in the work after the ack,
  except one: a Telegram update the intake cannot read (PTB cannot parse it, or its fields do not
  have the documented types: ``adapters/telegram/shapes.py``) is set aside as a dead letter,
  logged at ERROR and audited by design (``record_dead_letter``): one line and one audit row, and
  every update PTB cannot parse must end so. A dead letter from a handler, i.e. code failing on
  an update it was given, fails the test;
- nothing written for input the bot does not take up. The bot "takes up" a request when it says
  something on the platform (a reply, an ephemeral refusal, an answered button press). When it
  says nothing, the only rows allowed are the delivery's record in ``inbox`` (de-duplication
  happens before anything else, so a retry is never handled twice) and audit rows of the two
  kinds that exist to record rejected input: ``action.refused`` (a click from another workspace)
  and ``inbox.dead_letter``. Every other table keeps its row count.

Bounded: 60 examples per platform, a few seconds each test; CI's ``HYPOTHESIS_PROFILE=ci`` runs
the same examples every time.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
import operator
import os
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from telegram import Update

from adapters.slack.app import SlackBot
from adapters.telegram.config import SECRET_HEADER
from bot.bootstrap import Services
from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from bot.platforms.slack import mount_slack
from bot.settings import Settings
from core.persistence import tables
from core.persistence.uow import Database
from core.services.context import Context
from tests.factories import row_counts
from tests.fakes_slack import APP, TEAM, TOKEN, FakeSlack, fake_slack_server
from tests.integration.slack.conftest import SECRET as SLACK_SECRET
from tests.integration.telegram.conftest import SECRET as TELEGRAM_SECRET
from tests.integration.telegram.conftest import (
    Harness,
    loopback_only,  # noqa: F401 (a fixture: any connection off 127.0.0.1 fails the test)
    start_harness,
    stop_harness,
)
from tests.integration.telegram.fake_bot_api import FakeBotApi, fake_bot_api

pytestmark = pytest.mark.usefixtures("loopback_only")

T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXAMPLES = int(os.environ.get("HRBOT_FUZZ_EXAMPLES", "60"))
"""Per platform; raise it locally to search longer (``HRBOT_FUZZ_EXAMPLES=2000``)."""
REJECTION_AUDITS = frozenset({"action.refused", "inbox.dead_letter"})
"""Audit rows that record rejected input; any other audit row means the input was acted on."""
DELIVERY_TABLES = frozenset({"inbox", "audit_log", "audit_chain_head"})
"""Tables a rejected request may add to (audit rows only of ``REJECTION_AUDITS``)."""
SLACK_SPEECH = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "files.completeUploadExternal"}
)
TELEGRAM_SPEECH = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
    }
)
DEMO_SLACK_USERS = ("U0ZHANGSAN", "U0CHENJING", "U0WANGFANG")
DEMO_TELEGRAM_USERS = (1001001, 2002001, 5005001)


def _seeds(platform: str) -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((FIXTURES / platform).glob("*.json"))
    }


SLACK_SEEDS = _seeds("slack")
TELEGRAM_SEEDS = _seeds("telegram")
SLACK_EVENTS = [s for s in SLACK_SEEDS.values() if s.get("type") == "event_callback"]
SLACK_CLICKS = [s for s in SLACK_SEEDS.values() if s.get("type") == "block_actions"]


# -- strategies ------------------------------------------------------------------------------

ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "/status", "/mydata", "null", "0", "-1", "D0ZHANGSAN", "U0ZHANGSAN", "1001001"]
    ),
    # Huge strings: repeated wide, right-to-left, NUL and mention characters.
    st.builds(
        operator.mul,
        st.sampled_from(["a", "张", "🙂", "\u202e", "\x00", "<@U0HRBOT>", "/status "]),
        st.integers(1_000, 40_000),
    ),
)
KEYS = st.sampled_from(
    [
        *("type", "user", "id", "event", "text", "files", "actions", "value", "channel"),
        *("message", "from", "chat", "data", "callback_query", "document", "update_id", "team"),
    ]
) | st.text(max_size=8)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    ODD_TEXT,
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def _mutate(draw: Callable[[st.SearchStrategy[Any]], Any], value: Any) -> Any:
    """``value`` with a few random changes; the rolls shrink towards "unchanged"."""
    roll = draw(st.integers(0, 15))
    if roll == 15:
        return draw(JSON)  # a wrong type, or a new structure
    if roll == 14 and isinstance(value, str):
        return draw(ODD_TEXT)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if draw(st.integers(0, 11)) == 11:
                continue  # a missing field
            out[key] = _mutate(draw, item)
        if draw(st.integers(0, 7)) == 7:
            out.update(draw(st.dictionaries(KEYS, JSON, max_size=3)))  # unknown fields
        return out
    if isinstance(value, list):
        items = [_mutate(draw, item) for item in value]
        if draw(st.integers(0, 7)) == 7:
            items += draw(st.lists(JSON, max_size=3))
        return items
    return value


MISSING = object()
"""A targeted mutation's "remove this field"."""


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value: dict keys and list indexes, depth first."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the field at ``path`` set to ``new`` (or removed: MISSING)."""
    head, rest = path[0], path[1:]
    out: Any = dict(value) if isinstance(value, dict) else list(value)
    if rest:
        out[head] = _replaced(out[head], rest, new)
    elif new is MISSING:
        del out[head]
    else:
        out[head] = new
    return out


def _mutated(draw: Callable[[st.SearchStrategy[Any]], Any], seed: Any) -> Any:
    """Scattered random changes, then (usually) one at a place chosen evenly among all of the
    seed's fields, so that deep ids and sub-objects get wrong types as often as top-level ones."""
    value = _mutate(draw, seed)
    paths = _paths(value)
    if paths and draw(st.integers(0, 3)) > 0:
        path = draw(st.sampled_from(paths))
        value = _replaced(value, path, draw(st.just(MISSING) | JSON))
    return value


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    what: str

    def __repr__(self) -> str:  # hypothesis prints the falsifying example: keep it readable
        return f"Request({self.what}, {self.content_type}, {self.body[:600]!r}...)"


def _ours_event(body: Any, user: str | None) -> Any:
    """A seed envelope addressed to this installation, often from a demo employee."""
    if not isinstance(body, dict):
        return body
    body = dict(body, team_id=TEAM, api_app_id=APP)
    event = body.get("event")
    if user and isinstance(event, dict):
        body["event"] = dict(event, user=user, channel=f"D{user[1:]}", channel_type="im")
    return body


def _ours_click(body: Any, user: str | None, token: str) -> Any:
    if not isinstance(body, dict):
        return body
    body = dict(body, api_app_id=APP, team={"id": TEAM, "domain": "hrbot"})
    body["user"] = {"id": user or "U0STRANGER", "team_id": TEAM}
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        body["actions"] = [dict(actions[0], value=token, type="button"), *actions[1:]]
    return body


@st.composite
def slack_requests(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Request:
    kind = draw(st.sampled_from(["event", "click", "command", "garbage"]))
    user = draw(st.sampled_from([None, *DEMO_SLACK_USERS]))
    if kind == "event":
        seed = _ours_event(draw(st.sampled_from(SLACK_EVENTS)), user)
        body = _mutated(draw, seed)
        return Request(json.dumps(body, ensure_ascii=False).encode(), "application/json", kind)
    if kind == "click":
        token = draw(st.sampled_from(["", "x", "t" * 64]) | st.text(max_size=80))
        seed = _ours_click(draw(st.sampled_from(SLACK_CLICKS)), user, token)
        payload = json.dumps(_mutated(draw, seed), ensure_ascii=False)
        if draw(st.integers(0, 9)) == 9:
            payload = payload[: draw(st.integers(0, len(payload)))]  # cut short: not JSON
        form = urlencode({"payload": payload}).encode()
        return Request(form, "application/x-www-form-urlencoded", kind)
    if kind == "command":
        fields = {
            "command": draw(st.sampled_from(["/status", "/mydata", "/hrbot"]) | ODD_TEXT),
            "text": draw(ODD_TEXT),
            "user_id": user or draw(ODD_TEXT),
            "team_id": TEAM,
            "api_app_id": APP,
            "channel_id": draw(ODD_TEXT),
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "response_url": "http://127.0.0.1:9/unused",
        }
        kept = {k: v for k, v in fields.items() if draw(st.integers(0, 5)) != 5}
        return Request(urlencode(kept).encode(), "application/x-www-form-urlencoded", kind)
    body = draw(st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode())))
    content_type = draw(
        st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"])
    )
    return Request(body, content_type, kind)


@st.composite
def telegram_updates(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Request:
    seed = draw(st.sampled_from(list(TELEGRAM_SEEDS.values())))
    user = draw(st.sampled_from([None, *DEMO_TELEGRAM_USERS]))
    if user is not None:
        seed = _from_user(seed, user)
    if draw(st.integers(0, 9)) == 9:
        body = json.dumps(draw(JSON)).encode()  # not an update at all
    else:
        body = json.dumps(_mutated(draw, seed), ensure_ascii=False).encode()
    return Request(body, "application/json", "update")


def _from_user(update: dict[str, Any], user: int) -> dict[str, Any]:
    sender = {"id": user, "is_bot": False, "first_name": "u", "language_code": "zh-hans"}
    out = dict(update)
    for key in ("message", "callback_query"):
        part = out.get(key)
        if isinstance(part, dict):
            part = dict(part, **{"from": sender})
            if isinstance(part.get("chat"), dict):
                part["chat"] = dict(part["chat"], id=user, type="private")
            out[key] = part
    return out


# -- run first every time: what fuzzing once found, and the limits ------------------------

_FORM = "application/x-www-form-urlencoded"
_CLICK = {"type": "block_actions", "team": {"id": TEAM}, "api_app_id": APP}
_ACTION = {"action_id": "claim.approve", "type": "button", "value": "t"}
SLACK_ALWAYS = [
    # bolt read ``body["event"]`` as an object: a 500
    Request(
        json.dumps({"type": "event_callback", "event": [None]}).encode(),
        "application/json",
        "event",
    ),
    # bolt parsed these before checking anything: 500s
    Request(b"{not json", "application/json", "garbage"),
    Request(b"\x80\x81", "application/json", "garbage"),
    Request(urlencode({"payload": '{"type": "block_'}).encode(), _FORM, "click"),
    # the adapter read ``user`` and ``channel`` as objects: an ERROR after the ack
    Request(
        urlencode(
            {
                "payload": json.dumps(
                    _CLICK | {"user": "U0ZHANGSAN", "channel": "D0ZHANGSAN", "actions": [_ACTION]}
                )
            }
        ).encode(),
        _FORM,
        "click",
    ),
    # admitted by the guard, then bolt failed to match it (a 500) and the work after the ack
    # was never counted down: shutdown would wait for it
    Request(
        urlencode(
            {
                "payload": json.dumps(
                    _CLICK | {"user": {"id": "U0ZHANGSAN"}, "actions": [{"type": "button"}]}
                )
            }
        ).encode(),
        _FORM,
        "click",
    ),
]
_STRANGER = {"id": 1111111, "is_bot": False, "first_name": "x"}
_CHAT = {"id": 1111111, "type": "private"}
TELEGRAM_ALWAYS = [
    # over the webhook's 1 MiB limit: 413, before anything is parsed or written
    Request(
        b'{"update_id": 1, "message": "' + b"a" * (1 << 20) + b'"}', "application/json", "update"
    ),
    # PTB parsed these, then a handler or a filter failed on them: dead letters from a handler
    Request(
        json.dumps(
            {"update_id": 1, "callback_query": {"id": "q", "data": "x", "chat_instance": "1"}}
        ).encode(),
        "application/json",
        "update",
    ),
    Request(
        json.dumps(
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": None,
                    "from": _STRANGER,
                    "text": "hi",
                },
            }
        ).encode(),
        "application/json",
        "update",
    ),
    Request(
        json.dumps(
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": _CHAT,
                    "from": _STRANGER,
                    "text": 5,
                },
            }
        ).encode(),
        "application/json",
        "update",
    ),
    # a file Telegram will not hand over (getFile: 400): a dead letter, and no answer
    Request(
        json.dumps(
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": _CHAT,
                    "from": _STRANGER,
                    "document": {
                        "file_id": "F-unknown",
                        "file_unique_id": "u",
                        "file_name": "a.pdf",
                    },
                },
            }
        ).encode(),
        "application/json",
        "update",
    ),
]


def _examples(requests: list[Request]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def add(test: Callable[..., None]) -> Callable[..., None]:
        for request in reversed(requests):
            test = example(request=request)(test)
        return test

    return add


# -- running ---------------------------------------------------------------------------------


class Loop:
    """One event loop for a whole hypothesis run: the adapters' clients belong to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[Loop]:
    runner = Loop()
    yield runner
    runner.close()


@pytest.fixture
def demo(ctx: Context) -> Context:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    return ctx


@dataclass
class Outcome:
    status: int
    spoke: bool
    changed: dict[str, int]
    audits: list[str]
    errors: list[logging.LogRecord]


class Observer:
    """Row counts, new audit actions and ERROR lines around one request."""

    def __init__(self, ctx: Context, caplog: pytest.LogCaptureFixture) -> None:
        self.ctx = ctx
        self.caplog = caplog

    def snapshot(self) -> tuple[dict[str, int], int]:
        self.caplog.clear()
        with self.ctx.uow() as uow:
            last = uow.session.scalar(select(func.max(tables.audit_log.c.id))) or 0
        return row_counts(self.ctx), int(last)

    def outcome(self, before: tuple[dict[str, int], int], status: int, spoke: bool) -> Outcome:
        counts, last = before
        after = row_counts(self.ctx)
        with self.ctx.uow() as uow:
            audits = list(
                uow.session.scalars(
                    select(tables.audit_log.c.action).where(tables.audit_log.c.id > last)
                )
            )
        changed = {t: after[t] - counts[t] for t in after if after[t] != counts[t]}
        errors = [r for r in self.caplog.records if r.levelno >= logging.ERROR]
        return Outcome(status, spoke, changed, audits, errors)


def assert_nothing_written_unless_taken_up(outcome: Outcome) -> None:
    if outcome.spoke:
        return  # the bot took it as a person's message or click: its writes are the dialog's
    assert set(outcome.changed) <= DELIVERY_TABLES, f"rejected input wrote {outcome.changed}"
    assert set(outcome.audits) <= REJECTION_AUDITS, f"rejected input audited {outcome.audits}"


def _describe(errors: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()} {r.exc_info[1] if r.exc_info else ''}" for r in errors]


# -- Slack -----------------------------------------------------------------------------------


@asynccontextmanager
async def slack_app(ctx: Context, db: Database, fake: FakeSlack) -> AsyncIterator[SlackApp]:
    settings_ = Settings(
        _env_file=None,
        slack_bot_token=TOKEN,
        slack_signing_secret=SLACK_SECRET,
        slack_api_url=fake.url,
    )
    services = Services(settings_, db, ctx)
    app = FastAPI()
    bot = mount_slack(app, services, Conversation(ctx, settings_.default_locale))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hrbot.test") as http:
        yield SlackApp(http, bot)
        await bot.close()


@dataclass
class SlackApp:
    http: httpx.AsyncClient
    bot: SlackBot

    async def post(self, request: Request) -> int:
        headers = {"Content-Type": request.content_type, **sign_bytes(request.body)}
        response = await self.http.post("/slack/events", content=request.body, headers=headers)
        assert await self.bot.drain(timeout=15), "the work after the ack did not finish"
        return response.status_code


def sign_bytes(body: bytes) -> dict[str, str]:
    """Slack's signature over the exact bytes (``sign`` decodes them, so needs UTF-8)."""
    stamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), b"v0:%s:%s" % (stamp.encode(), body), "sha256")
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def test_generated_slack_requests_never_fail_and_rejected_ones_write_nothing(
    demo: Context, db: Database, loop: Loop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seen: Counter[str] = Counter()
    with fake_slack_server() as fake:
        opened = slack_app(demo, db, fake)
        app = loop.run(opened.__aenter__())
        observer = Observer(demo, caplog)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=slack_requests())
        @_examples(SLACK_ALWAYS)
        def one(request: Request) -> None:
            note(repr(request))
            before = observer.snapshot()
            calls = len(fake.calls)
            status = loop.run(app.post(request))
            spoke = any(c.method in SLACK_SPEECH for c in fake.calls[calls:])
            outcome = observer.outcome(before, status, spoke)
            assert status < 500, f"{status} for {request!r}"
            assert status in (200, 400, 401, 404), status
            assert not outcome.errors, _describe(outcome.errors)
            assert_nothing_written_unless_taken_up(outcome)
            seen[f"{request.what}:{'taken' if spoke else 'rejected'}"] += 1

        try:
            one()
        finally:
            loop.run(opened.__aexit__(None, None, None))
    # The generator reaches both sides: input the bot answers, and input it turns away.
    assert sum(n for k, n in seen.items() if k.endswith(":taken")) > 0, seen
    assert sum(n for k, n in seen.items() if k.endswith(":rejected")) > 0, seen


# -- Telegram --------------------------------------------------------------------------------

_UPDATE_IDS = itertools.count(900_000)


def _ptb_refuses(body: bytes, harness: Harness) -> bool:
    """Whether python-telegram-bot itself cannot parse this update."""
    try:
        Update.de_json(json.loads(body), harness.runtime.application.bot)
    except Exception:
        return True
    return False


def _set_aside_on_intake(record: logging.LogRecord) -> bool:
    """A dead letter the intake wrote before any handler ran (the update could not be read),
    as opposed to a handler failing on an update it was given: that would be a bug."""
    error = record.exc_info[1] if record.exc_info else None
    if error is None or not record.getMessage().endswith("set aside (dead letter)"):
        return False
    files = [frame.filename for frame in traceback.extract_tb(error.__traceback__)]
    return any(f.endswith("adapters/telegram/intake.py") for f in files) and not any(
        f.endswith("adapters/telegram/handlers.py") for f in files
    )


def test_generated_telegram_updates_never_fail_and_rejected_ones_write_nothing(
    demo: Context, db: Database, loop: Loop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seen: Counter[str] = Counter()
    with fake_bot_api() as fake:
        _refuse_unknown_files(fake)
        harness = loop.run(start_harness(fake, demo, db))
        observer = Observer(demo, caplog)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=telegram_updates())
        @_examples(TELEGRAM_ALWAYS)
        def one(request: Request) -> None:
            body = _fresh_update_id(request.body)
            note(repr(body[:2000]))
            before = observer.snapshot()
            calls = len(fake.calls)
            status = loop.run(_deliver(harness, body))
            spoke = any(c.method in TELEGRAM_SPEECH for c in fake.calls[calls:])
            outcome = observer.outcome(before, status, spoke)
            assert status < 500, f"{status} for {request!r}"
            assert status in (200, 400, 413), status
            # An update the intake cannot read is set aside by design: one ERROR line and one
            # audit row, and nothing is said; any other ERROR line is a failure.
            dead = [r for r in outcome.errors if _set_aside_on_intake(r)]
            assert len(dead) == len(outcome.errors), _describe(outcome.errors)
            assert outcome.audits.count("inbox.dead_letter") == len(dead) <= 1
            assert not (dead and spoke)
            queued = status == 200 and outcome.changed.get("inbox") == 1
            if queued and _ptb_refuses(body, harness):
                assert dead, "an update PTB cannot parse is a dead letter"
            assert_nothing_written_unless_taken_up(outcome)
            seen["dead letter" if dead else "taken" if spoke else "rejected"] += 1

        try:
            one()
        finally:
            loop.run(stop_harness(harness))
    assert seen["taken"] > 0 and seen["rejected"] > 0, seen


def _refuse_unknown_files(fake: FakeBotApi) -> None:
    """``getFile`` for an id Telegram does not know answers 400, as Telegram does (the fake
    itself would drop the connection: it serves only the files a test gives it)."""
    handle = fake.handle

    def handle_like_telegram(
        method: str, params: dict[str, Any], files: dict[str, Any]
    ) -> tuple[int, Any]:
        if method == "getFile" and str(params.get("file_id")) not in fake._files:
            description = "Bad Request: wrong file_id or the file is temporarily unavailable"
            return 400, {"ok": False, "error_code": 400, "description": description}
        return handle(method, params, files)

    fake.handle = handle_like_telegram  # type: ignore[method-assign]


def _fresh_update_id(body: bytes) -> bytes:
    """A new ``update_id`` for every example whose id is still an integer, so each one is
    handled rather than dropped as a repeat (hypothesis replays examples while shrinking)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if isinstance(payload, dict) and type(payload.get("update_id")) is int:
        payload["update_id"] = next(_UPDATE_IDS)
        return json.dumps(payload, ensure_ascii=False).encode()
    return body


async def _deliver(harness: Harness, body: bytes) -> int:
    headers = {SECRET_HEADER: TELEGRAM_SECRET, "Content-Type": "application/json"}
    response = await harness.client.post("/telegram/webhook", content=body, headers=headers)
    await asyncio.wait_for(harness.runtime.join(), timeout=15)
    return response.status_code
