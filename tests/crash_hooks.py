"""Crash points inside a worker process, for tests/integration/test_crash_points.py.

``install("outbox:after_claim", halt)`` makes the worker call ``halt`` at that moment of its
work, in the real code path (``Worker.tick`` → ``sweep_escalations`` / ``deliver_due``); the
caller's ``halt`` says so on stdout and waits there to be SIGKILLed. The hooks wrap the functions
by name, so a rename in the core fails the crash tests loudly instead of silently testing nothing.

Subjects: ``step`` (an escalation step fired by the sweep) and ``outbox`` (a notice delivered).
Moments, in the order a worker passes them:

- ``before_claim``: nothing leased yet (the claim statement has not run);
- ``after_claim``: the claim is committed: the rows are leased to this worker, nothing done;
- ``after_send_before_commit``: the effect is out, its record not committed: for a notice, the
  channel's ``send`` returned (the message left); for a step, its notices are queued in the
  outbox inside the step's own transaction, which is not committed;
- ``after_commit``: the first item's record is committed (the others are still leased).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.persistence.repositories import AlertRepository, OutboxRepository
from core.services import alerts, delivery

SUBJECTS = ("step", "outbox")
MOMENTS = ("before_claim", "after_claim", "after_send_before_commit", "after_commit")
POINTS = tuple(f"{subject}:{moment}" for subject in SUBJECTS for moment in MOMENTS)
_HALT_AFTER_COMMIT = "hrbot.crash.after_commit"

Halt = Callable[[str, dict[str, Any]], None]


def install(point: str, halt: Halt) -> Callable[[], None] | None:
    """Arm ``point``; for ``outbox:after_send_before_commit`` returns the function the sending
    channel must call once a message has left (the channel is the caller's)."""
    if point not in POINTS:
        raise ValueError(f"unknown crash point {point!r}; known: {', '.join(POINTS)}")
    subject, moment = point.split(":")
    outbox = subject == "outbox"
    repository = OutboxRepository if outbox else AlertRepository
    claim = "claim_due" if outbox else "claim_due_steps"
    module, work = (delivery, "_record") if outbox else (alerts, "_fire")
    event.listen(Session, "after_commit", _after_commit(point, halt))
    if moment == "before_claim":
        _wrap(repository, claim, before=lambda *_: halt(point, {}))
    elif moment == "after_claim":
        _wrap(repository, claim, after=_mark_if_claimed)
    elif moment == "after_commit":
        _wrap(module, work, after=_mark_unit_of_work)
    elif subject == "step":  # after_send_before_commit: the step's notices queued, not committed
        _wrap(module, work, after=lambda args, _: halt(point, {"item": _item(args)}))
    else:
        return lambda: halt(point, {})
    return None


def _wrap(
    owner: Any,
    name: str,
    before: Callable[[tuple[Any, ...]], None] | None = None,
    after: Callable[[tuple[Any, ...], Any], None] | None = None,
) -> None:
    original = getattr(owner, name)  # AttributeError if the core renamed it: the test fails

    def hooked(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before(args)
        result = original(*args, **kwargs)
        if after is not None:
            after(args, result)
        return result

    setattr(owner, name, hooked)


def _mark_if_claimed(args: tuple[Any, ...], claimed: list[int]) -> None:
    """On a repository method: halt after this transaction commits, if it leased anything."""
    if claimed:
        args[0].session.info[_HALT_AFTER_COMMIT] = {"claimed": len(claimed)}


def _mark_unit_of_work(args: tuple[Any, ...], _: Any) -> None:
    """On ``_record`` or ``_fire``: halt once their unit of work commits."""
    args[1].session.info[_HALT_AFTER_COMMIT] = {"item": _item(args)}


def _item(args: tuple[Any, ...]) -> int:
    """The id worked on: ``_record(ctx, uow, notification, …)``, ``_fire(ctx, uow, alert, step,
    …)``."""
    return int(args[3].id if len(args) > 4 else args[2].id)


def _after_commit(point: str, halt: Halt) -> Callable[[Session], None]:
    def listener(session: Session) -> None:
        detail = session.info.pop(_HALT_AFTER_COMMIT, None)
        if detail is not None:
            halt(point, detail)

    return listener
