"""detect-secrets filter for the test suite (in ``.secrets.baseline``, run by ``make lint``).

The suite talks only to loopback fakes, so its signing secrets, session keys and passwords are
made up on purpose (``"tests-secret-key"``, Slack's documented example signing secret); its ids
and checksums look random. detect-secrets' generic heuristics flag all of them: a value assigned
to a name like ``secret`` (KeywordDetector), a long random-looking string (the two entropy
detectors), ``user:pass@`` in a URL. Under ``tests/`` only those heuristics are silenced; every
detector that recognises a real credential's format (AWS, Slack, GitHub, private keys, JWTs,
Stripe, Twilio...) still fails the scan there, as everywhere else.

Elsewhere, the baseline's other settings decide (see the ``lint`` target in the Makefile).
"""

from __future__ import annotations

from typing import Any

GENERIC = frozenset(
    {
        "Secret Keyword",
        "Base64 High Entropy String",
        "Hex High Entropy String",
        "Basic Auth Credentials",
    }
)
"""``secret_type`` of the heuristic detectors (format-less guesses)."""


def is_generic_hit_in_tests(filename: str, secret: str, plugin: Any) -> bool:
    """True (drop the finding) for a heuristic detector's hit in a file under ``tests/``.

    ``secret`` is unused but must be named: detect-secrets runs a filter at the stage whose
    values its parameters name, and this one needs the finding, not only the line."""
    del secret
    in_tests = filename.replace("\\", "/").removeprefix("./").startswith("tests/")
    return in_tests and getattr(plugin, "secret_type", None) in GENERIC
