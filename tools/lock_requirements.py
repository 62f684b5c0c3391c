"""Write ``requirements.lock``: every distribution ``pip install -e ".[test]"`` pulls, pinned to
the version installed in the running environment (``make lock`` runs it with ``.venv/bin/python``).

``make lint`` audits this file with pip-audit. It is not ``pip freeze``: the virtualenv may also
hold the ``bench`` extra (locust and its dependencies) or anything installed by hand, and those
are not what hrbot ships or tests with. The roots are read from ``pyproject.toml`` itself, not
from hrbot's installed metadata, which goes stale when pyproject changes without a reinstall.

Run: ``.venv/bin/python tools/lock_requirements.py [--extra test] [--output requirements.lock]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

HEADER = """\
# Every distribution `pip install -e ".[{extras}]"` installs, pinned to the versions in .venv.
# Audited by `make lint` (pip-audit). Regenerate after changing dependencies or upgrading:
#   make lock        (= .venv/bin/python tools/lock_requirements.py)
"""


def project_roots(pyproject: Path, extras: set[str]) -> tuple[str, list[Requirement]]:
    """The project's name and its direct requirements with ``extras``, self-references
    (``hrbot[postgres]``) expanded into the extras they name."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    name = canonicalize_name(project["name"])
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    roots = [Requirement(text) for text in project["dependencies"]]
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional.get(extra, []):
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == name:
                pending.extend(requirement.extras)
            else:
                roots.append(requirement)
    return name, roots


def applies(requirement: Requirement, extras: set[str]) -> bool:
    """Whether the requirement's marker holds here for one of the extras asked (or none)."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras | {""})


def closure(roots: list[Requirement]) -> dict[str, str]:
    """Installed name -> ``name==version`` of the roots and all they require, transitively."""
    pinned: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [(root, frozenset(root.extras)) for root in roots if applies(root, set())]
    while pending:
        requirement, extras = pending.pop()
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{requirement.name} is required but not installed: `make test` installs it")
        key = canonicalize_name(dist.metadata["Name"])
        if (key, extras) in seen:  # dependency cycles and packages reached by many paths
            continue
        seen.add((key, extras))
        pinned[key] = f"{dist.metadata['Name']}=={dist.version}"
        for text in dist.requires or []:
            child = Requirement(text)
            if applies(child, set(extras)):
                pending.append((child, frozenset(child.extras)))
    return pinned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", action="append", default=None, help="default: test")
    parser.add_argument("--output", type=Path, default=ROOT / "requirements.lock")
    args = parser.parse_args()
    extras = set(args.extra or ["test"])
    name, roots = project_roots(ROOT / "pyproject.toml", extras)
    pinned = closure(roots)
    pinned.pop(name, None)
    lines = [pinned[key] for key in sorted(pinned)]
    text = HEADER.format(extras=",".join(sorted(extras))) + "\n".join(lines) + "\n"
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output.name}: {len(lines)} pinned distributions")


if __name__ == "__main__":
    main()
