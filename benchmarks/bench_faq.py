"""Benchmark: the FAQ engine's questions per second, memory, start-up and accuracy.

Throughput is compared, in the same run, with a bare ``rapidfuzz.process.extractOne`` over the
same example strings with no normalisation (goal: the engine reaches at least 0.3 of it), and
with ``difflib.get_close_matches`` (the standard library's ratio). Two sizes: the real knowledge
base (24 intents + the out-of-scope class) and 2,000 synthetic entries added to it. Peak memory
of building the index comes from tracemalloc. The accuracy table uses the labelled questions of
tests/unit/faq. Run: ``.venv/bin/python benchmarks/bench_faq.py`` (``make bench``); ~30 s.
"""

from __future__ import annotations

import difflib
import json
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from benchmarks.results_io import Row, ratio, write_results  # noqa: E402
from faq.engine import FaqEngine  # noqa: E402
from faq.loader import Entry, KnowledgeBase, load_knowledge_base  # noqa: E402
from faq.normalize import Lang, normalize  # noqa: E402

LABELLED = ROOT / "tests" / "unit" / "faq" / "labelled_questions.json"
SYNTHETIC = 2_000
GOAL = 0.3
DIFFLIB_QUESTIONS = 40  # difflib is slow: a sample is enough for its rate
PASSES = 3


def labelled() -> tuple[list[tuple[str | None, str]], list[str]]:
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    pairs: list[tuple[str | None, str]] = [
        (intent, q) for intent, qs in data["in_scope"].items() for q in qs
    ]
    pairs += [(None, q) for q in data["out_of_scope"]]
    return pairs, [q for _, q in pairs]


def synthetic_entries(kb: KnowledgeBase, count: int, seed: int = 7) -> list[Entry]:
    """Entries built from shuffled pieces of the real examples: realistic words and lengths,
    but no two alike, so the index really holds ``count`` more intents."""
    rng = random.Random(seed)
    zh_chars = [c for e in kb.entries for q in e.examples["zh"] for c in q if c >= "\u4e00"]
    en_words = [w for e in kb.entries for q in e.examples["en"] for w in q.split()]
    entries = []
    for number in range(count):
        zh = tuple("".join(rng.sample(zh_chars, rng.randint(6, 14))) for _ in range(2))
        en = tuple(" ".join(rng.sample(en_words, rng.randint(4, 9))) for _ in range(2))
        text: dict[Lang, str] = {"zh": f"合成条目 {number}", "en": f"synthetic entry {number}"}
        entries.append(Entry(f"synthetic_{number}", (), text, text, {"zh": zh, "en": en}))
    return entries


def build(entries: Sequence[Entry], kb: KnowledgeBase) -> tuple[FaqEngine, float, int]:
    """A fresh engine (no cache), the seconds it took and its peak traced memory."""
    normalize.cache_clear()
    tracemalloc.start()
    started = time.perf_counter()
    engine = FaqEngine(KnowledgeBase(tuple(entries), kb.small_talk, kb.out_of_scope))
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return engine, seconds, peak


def rate(run: Callable[[str], object], questions: Sequence[str], passes: int = PASSES) -> float:
    """Questions per second, median of ``passes``; the normalisation cache is emptied before
    each pass so that no question is answered from it."""
    rates = []
    for _ in range(passes):
        normalize.cache_clear()
        started = time.perf_counter()
        for question in questions:
            run(question)
        rates.append(len(questions) / (time.perf_counter() - started))
    return statistics.median(rates)


def strings_of(engine: FaqEngine) -> list[str]:
    entries = list(engine.kb.entries) + ([engine.kb.out_of_scope] if engine.kb.out_of_scope else [])
    return [q for e in entries for lang in ("zh", "en") for q in e.examples[lang]]


def throughput(label: str, engine: FaqEngine, questions: Sequence[str]) -> dict[str, float]:
    """Print the rates (q/s) and return them: engine, bare WRatio, bare ratio, difflib."""
    strings = strings_of(engine)
    # Warm the normalisation cache of the examples out of the way, then time the questions.
    ours = rate(engine.ask, questions)
    bare = rate(lambda q: process.extractOne(q, strings), questions)
    plain = rate(lambda q: process.extractOne(q, strings, scorer=fuzz.ratio), questions)
    sample = questions[:DIFFLIB_QUESTIONS]
    slow = rate(lambda q: difflib.get_close_matches(q, strings, n=1), sample, passes=1)
    verdict = "ok" if ours / bare >= GOAL else "BELOW GOAL"
    print(f"{label}: {len(strings):,} example strings")
    print(f"  engine (normalise + rank + decide)   {ours:10,.0f} q/s")
    print(f"  bare rapidfuzz extractOne (WRatio)   {bare:10,.0f} q/s   (the baseline)")
    print(
        f"  bare extractOne, scorer=fuzz.ratio   {plain:10,.0f} q/s   (engine / it = "
        f"{ours / plain:.2f})"
    )
    print(f"  difflib.get_close_matches (ratio)    {slow:10,.1f} q/s")
    print(f"  engine / bare = {ours / bare:.2f} (goal >= {GOAL}: {verdict}); ", end="")
    print(f"engine / difflib = {ours / slow:.0f}x")
    return {"engine": ours, "bare": bare, "plain": plain, "difflib": slow, "strings": len(strings)}


def cli_start() -> float:
    """Median wall time of one ``faq ask --json`` in a new process (import + load + answer)."""
    command = [sys.executable, "-c", "from bot.faq_cli import faq_app; faq_app()"]
    command += ["ask", "--json", "住院报销需要哪些材料"]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def accuracy_table(
    engine: FaqEngine, pairs: Sequence[tuple[str | None, str]]
) -> tuple[float, float, float]:
    """Print the table; return top-1 accuracy in scope, answered outright, handed off."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    outright = 0
    for intent, question in pairs:
        answer = engine.ask(question)
        outright += int(
            intent is not None and answer.intent == intent and answer.answer is not None
        )
        detected = normalize(question).detected
        ok = answer.handoff if intent is None else (answer.intent == intent and not answer.handoff)
        cell = cells[(intent or "(out of scope: handed off)", detected)]
        cell[0] += int(ok)
        cell[1] += 1
    langs = ("zh", "en", "mixed")
    print(f"\n{'intent':36} " + " ".join(f"{lang:>7}" for lang in langs) + "    total")
    rows = sorted({row for row, _ in cells}, key=lambda r: (r.startswith("("), r))
    for row in rows:
        parts = []
        for lang in langs:
            right, total = cells.get((row, lang), [0, 0])
            parts.append(f"{right:>3}/{total:<3}" if total else f"{'-':>7}")
        right = sum(cells[(row, lang)][0] for lang in langs if (row, lang) in cells)
        total = sum(cells[(row, lang)][1] for lang in langs if (row, lang) in cells)
        print(f"{row:36} " + " ".join(parts) + f"  {right / total:7.1%}")
    in_scope = [c for (row, _), c in cells.items() if not row.startswith("(")]
    out = [c for (row, _), c in cells.items() if row.startswith("(")]
    top1 = sum(c[0] for c in in_scope) / sum(c[1] for c in in_scope)
    handed = sum(c[0] for c in out) / sum(c[1] for c in out)
    print(
        f"top-1 accuracy in scope {top1:.1%} (test asserts >= 95%), of which answered "
        f"outright {outright / sum(c[1] for c in in_scope):.1%} (the rest: 'did you mean' "
        f"with the right intent first); out of scope handed off {handed:.1%} (test asserts "
        ">= 90%)"
    )
    return top1, outright / sum(c[1] for c in in_scope), handed


def main() -> None:
    started = time.perf_counter()
    pairs, questions = labelled()
    kb = load_knowledge_base()
    real, real_seconds, real_peak = build(kb.entries, kb)
    print(f"FAQ benchmark: {len(questions)} labelled questions per pass, median of {PASSES}")
    print(
        f"index build: {len(kb.entries)} intents in {real_seconds * 1000:.0f} ms, "
        f"peak traced memory {real_peak / 1e6:.1f} MB"
    )
    small = throughput(f"{len(kb.entries)} intents + out-of-scope class", real, questions)
    big, big_seconds, big_peak = build(list(kb.entries) + synthetic_entries(kb, SYNTHETIC), kb)
    print(
        f"\nindex build: {len(big.kb.entries):,} entries in {big_seconds:.2f} s, "
        f"peak traced memory {big_peak / 1e6:.1f} MB"
    )
    large = throughput(f"{SYNTHETIC:,} synthetic entries + the real ones", big, questions)
    cli = cli_start()
    print(
        f"\nCLI: one `faq ask --json` in a new process takes {cli * 1000:.0f} ms "
        "(interpreter, imports, knowledge base load, answer)"
    )
    accuracy = accuracy_table(real, pairs)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    builds = (
        (len(kb.entries), real_seconds, real_peak),
        (len(big.kb.entries), big_seconds, big_peak),
    )
    save(len(questions), small, large, builds, cli, accuracy)


def save(
    questions: int,
    small: dict[str, float],
    large: dict[str, float],
    builds: tuple[tuple[int, float, int], ...],
    cli: float,
    accuracy: tuple[float, float, float],
) -> None:
    """benchmarks/results/faq.json: the two throughput goals, then the figures without one."""
    rows = []
    for label, rates in (("real knowledge base", small), (f"+ {SYNTHETIC:,} synthetic", large)):
        share = ratio(rates["engine"], rates["bare"])
        rows.append(
            Row(
                f"engine, {label} ({rates['strings']:,.0f} strings)",
                rates["engine"],
                rates["bare"],
                share,
                f">= {GOAL} × bare rapidfuzz extractOne (WRatio)",
                share >= GOAL,
                f"fuzz.ratio extractOne {rates['plain']:,.0f} q/s; difflib "
                f"{rates['difflib']:,.1f} q/s (engine {rates['engine'] / rates['difflib']:,.0f}x)",
            )
        )
    for entries, seconds, peak in builds:
        rows.append(
            Row(
                f"index build, {entries:,} entries",
                seconds * 1000,
                unit="ms",
                note=f"peak traced memory {peak / 1e6:.1f} MB",
            )
        )
    rows.append(Row("`faq ask --json` in a new process", cli * 1000, unit="ms", note="median of 3"))
    top1, outright, handed = accuracy
    rows += [
        Row(
            "top-1 accuracy in scope",
            100 * top1,
            goal=">= 95 % (asserted by the tests)",
            met=top1 >= 0.95,
            unit="%",
            note=f"answered outright {outright:.1%}, the rest as 'did you mean'",
        ),
        Row(
            "out of scope handed off",
            100 * handed,
            goal=">= 90 % (asserted by the tests)",
            met=handed >= 0.90,
            unit="%",
        ),
    ]
    write_results(
        "faq",
        f"FAQ engine: questions per second ({questions} labelled questions, median of {PASSES}), "
        "build, start-up, accuracy",
        "q/s",
        rows,
    )


if __name__ == "__main__":
    main()
