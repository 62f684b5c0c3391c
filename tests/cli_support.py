"""Running ``hrbot`` as an operator does: a real process over a real database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def hrbot(*args: str, env: dict[str, str], input: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        input=input,
        check=False,
    )


def demo_env(root: Path, seed: bool = True) -> dict[str, str]:
    """An environment without the caller's HRBOT_ settings, over a migrated SQLite file in
    ``root`` holding the demo organisation (unless ``seed`` is False)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HRBOT_")} | {
        "HRBOT_DATABASE_URL": f"sqlite:///{root / 'hrbot.db'}",
        "HRBOT_DOCUMENTS_DIR": str(root / "documents"),
    }
    assert hrbot("db", "upgrade", env=environment).returncode == 0
    if seed:
        seeded = hrbot("db", "seed-demo", env=environment)
        assert seeded.returncode == 0, seeded.stderr
    return environment
