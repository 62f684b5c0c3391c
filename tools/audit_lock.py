"""``pip-audit`` over ``requirements.lock`` (``make lint``), working with the PyPI this project's
machines reach.

pip-audit's PyPI service asks for each pin's release document (``/pypi/NAME/VERSION/json``) and
reads its ``vulnerabilities``. The PyPI that the developers' machines and CI reach serves the
project documents (``/pypi/NAME/json``) but answers 404 for release documents, and OSV is not
reachable at all, so plain ``pip-audit --strict`` fails on the first pin. This runs pip-audit's
own command line with one change: when a release document is missing, the project document is
used instead. Its ``vulnerabilities`` are those of the latest release: exactly the pin's when the
pin is the latest release, and when it is older (held back by another package's cap) the best
this machine can see, said on stderr so that nobody mistakes it for a full audit. Where release
documents exist (pypi.org itself) nothing changes.

Arguments are pip-audit's, added after the defaults below (``--desc`` for the descriptions).
Run: ``.venv/bin/python tools/audit_lock.py [PIP_AUDIT_ARGS...]``.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import requests
from packaging.version import InvalidVersion, Version
from pip_audit._cli import audit
from pip_audit._service.pypi import PyPIService

DEFAULTS = [
    "--requirement=requirements.lock",
    "--strict",  # a pin that cannot be audited fails the check
    "--no-deps",  # the lock is the whole closure, pinned: nothing to resolve
    "--disable-pip",  # so no temporary virtualenv and no downloads
    "--vulnerability-service=pypi",
    "--progress-spinner=off",
]
_RELEASE = re.compile(r"https://pypi\.org/pypi/(?P<name>[^/]+)/(?P<version>[^/]+)/json")


class ProjectDocumentFallback:
    """pip-audit's HTTP session, falling back from a missing release document to the project's."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        response = self.session.get(url, **kwargs)
        match = _RELEASE.fullmatch(url)
        if response.status_code != 404 or match is None:
            return response
        project = self.session.get(f"https://pypi.org/pypi/{match['name']}/json", **kwargs)
        if project.status_code != 200:
            return response  # not on PyPI at all: pip-audit skips it, and --strict fails
        latest = project.json().get("info", {}).get("version", "")
        if not _same(latest, match["version"]):
            print(
                f"pip-audit: {match['name']} {match['version']} is not the latest release "
                f"({latest}) and this PyPI serves no per-release advisories: it was checked "
                f"against {latest}'s only, so one fixed in between would go unseen",
                file=sys.stderr,
            )
        return project


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


class _NoHashAdvice(logging.Filter):
    """Drops pip-audit's advice to hash the pins: the lock pins versions of what is installed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not message.startswith(("--no-deps is supported", "Consider using a tool"))


def main() -> None:
    logging.getLogger("pip_audit._cli").addFilter(_NoHashAdvice())
    original = PyPIService.__init__

    def init(self: PyPIService, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.session = ProjectDocumentFallback(self.session)

    PyPIService.__init__ = init
    sys.argv = ["pip-audit", *DEFAULTS, *sys.argv[1:]]
    audit()


if __name__ == "__main__":
    main()
