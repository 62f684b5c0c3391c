"""What the dashboard needs at run time, built by the composition root (``bot``).

This package never imports ``bot``: the core context, the bridge into the thread pool, the
password hasher and the import report's wording all arrive here as plain values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.web.runtime import CoreCall
from adapters.web.signing import Signer
from core.domain.accounts import LoginLimits
from core.ports import PasswordHasher
from core.services.context import Context

SESSION_COOKIE = "hrbot_dashboard"
LOGIN_COOKIE = "hrbot_login"
SESSION_MAX_AGE = 8 * 3600
"""A working day: a forgotten browser does not stay logged in overnight."""
DOCUMENT_LINK_MAX_AGE = 5 * 60
"""A document link works for five minutes, for the account it was signed for."""
IMPORT_MAX_AGE = 30 * 60
"""An uploaded file waits this long for its confirmation, then must be uploaded again."""


@dataclass(frozen=True)
class Dashboard:
    ctx: Context
    call: CoreCall
    secret_key: str
    hasher: PasswordHasher
    uploads_dir: Path
    """Where files wait between the import's dry run and its confirmation (never served)."""
    demo_mode: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    limits: LoginLimits = field(default_factory=LoginLimits)
    import_texts: Callable[[str], Any] | None = None
    """``import_texts(locale)`` gives ``t(key, **params)`` and ``t.reason(issue)`` for reports."""
    demo_accounts: tuple[tuple[str, str, str], ...] = ()
    """(e-mail, role, name) shown on the login page in demo mode."""
    demo_password: str = ""

    def signer(self, purpose: str) -> Signer:
        return Signer(self.secret_key, f"hrbot.dashboard.{purpose}")
