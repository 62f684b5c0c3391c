"""``hrbot faq``: ask the FAQ engine, check the knowledge base, list unanswered questions.

The contract of ``ask`` is shared/faq-intents.md. ``faq`` is imported inside each command, so
``hrbot --help`` does not pay for loading the engine. Errors are one line on stderr: exit 2 for
bad usage (an empty question), 1 for bad data (a broken knowledge base).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

if TYPE_CHECKING:
    from faq.engine import FaqAnswer, FaqEngine
    from faq.misses import Handoff

faq_app = typer.Typer(
    name="faq",
    help="Answer social-insurance questions from the FAQ knowledge base.",
    no_args_is_help=True,
    add_completion=False,
)

EMPTY = "empty question"


class Language(StrEnum):
    zh = "zh"
    en = "en"
    auto = "auto"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _engine(kb_dir: Path | None = None) -> FaqEngine:
    from faq.engine import FaqEngine
    from faq.loader import KnowledgeBaseError

    try:
        return FaqEngine.load(kb_dir)
    except KnowledgeBaseError as exc:
        raise _fail(str(exc), 1) from None


def _dumps(obj: object) -> str:
    # Keep Chinese readable, unless stdout cannot encode it (then JSON's \u escapes).
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return json.dumps(obj, ensure_ascii=not encoding.startswith("utf"))


def _text(question: str, answer: FaqAnswer) -> str:
    status = answer.status
    if status in ("answer", "small_talk"):
        head = f"[{answer.intent or 'small talk'}] score {answer.score}"
        tail = f"\n→ {answer.follow_up_command}" if answer.follow_up_command else ""
        return f"{head}\n{answer.answer}{tail}"
    guesses = ", ".join(f"{s.title} ({s.intent}, {s.score})" for s in answer.suggestions)
    if status == "did_you_mean":
        return f"[did you mean] score {answer.score}: {guesses}"
    return (
        f"[hand-off] no confident answer (best score {answer.score}); "
        f"the question goes to HR. Best guesses: {guesses or 'none'}"
    )


def _record(handoffs: list[Handoff]) -> None:
    from faq.misses import misses_path, record

    try:
        record(handoffs)
    except OSError as exc:  # the answer matters more than the log: warn, do not fail
        typer.echo(f"warning: could not record hand-offs in {misses_path()}: {exc}", err=True)


def _ask_stream(engine: FaqEngine, stream: TextIO, lang: str, as_json: bool) -> None:
    from faq.misses import Handoff

    handoffs: list[Handoff] = []
    try:
        for raw in stream:
            question = raw.rstrip("\r\n")
            if not question.strip():
                line = _dumps({"error": EMPTY}) if as_json else f"[error] {EMPTY}"
            else:
                answer = engine.ask(question, lang)
                if answer.handoff:
                    handoffs.append(Handoff.from_answer(question, answer))
                line = _dumps(answer.contract_json()) if as_json else _text(question, answer)
            # Flushed line by line: a caller may write a question and wait for its answer.
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    finally:
        _record(handoffs)


@faq_app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read one per line.")],
    lang: Annotated[
        Language, typer.Option("--lang", help="Reply language; auto follows the question.")
    ] = Language.auto,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
) -> None:
    """Answer a question (or, with -, one question per line of standard input)."""
    if question == "-":
        engine = _engine()
        stdin = sys.stdin
        if hasattr(stdin, "buffer"):  # decode as UTF-8 whatever the locale says
            import io

            stdin = io.TextIOWrapper(stdin.buffer, encoding="utf-8", errors="replace")
        _ask_stream(engine, stdin, lang.value, as_json)
        return
    if not question.strip():
        raise _fail(EMPTY, 2)
    from faq.misses import Handoff

    answer = _engine().ask(question, lang.value)
    typer.echo(_dumps(answer.contract_json()) if as_json else _text(question, answer))
    if answer.handoff:
        _record([Handoff.from_answer(question, answer)])


@faq_app.command()
def check(
    kb: Annotated[
        Path | None, typer.Option("--kb", help="Knowledge base directory to check instead.")
    ] = None,
) -> None:
    """Validate the knowledge base and print its coverage per intent and language."""
    engine = _engine(kb)
    entries = engine.kb.entries
    typer.echo(f"{'intent':36} {'zh':>4} {'en':>4}  follow-up")
    for entry in entries:
        zh, en = len(entry.examples["zh"]), len(entry.examples["en"])
        typer.echo(f"{entry.id:36} {zh:>4} {en:>4}  {entry.follow_up_command or '-'}")
    zh_total = sum(len(e.examples["zh"]) for e in entries)
    en_total = sum(len(e.examples["en"]) for e in entries)
    outside = engine.kb.out_of_scope
    extra = sum(len(v) for v in outside.examples.values()) if outside else 0
    typer.echo(
        f"ok: {len(entries)} intents with answers in zh and en, {zh_total} zh and {en_total} en "
        f"example questions, {extra} out-of-scope examples; every contract intent is covered."
    )


@faq_app.command()
def misses(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List unanswered (handed-off) questions, most frequent first."""
    from faq.misses import misses_path, summarize

    items = summarize()[:limit]
    if not items and not as_json:
        typer.echo(f"No unanswered questions recorded in {misses_path()}.")
    for miss in items:
        if as_json:
            typer.echo(
                _dumps(
                    {
                        "question": miss.question,
                        "count": miss.count,
                        "last_at": miss.last_at,
                        "lang": miss.lang,
                        "best_guess": miss.best_guess,
                    }
                )
            )
        else:
            guess = f"  (best guess: {miss.best_guess})" if miss.best_guess else ""
            typer.echo(f"{miss.count:>5}  {miss.last_at:25}  {miss.lang:2}  {miss.question}{guess}")
