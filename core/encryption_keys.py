"""Where the encryption keys come from, and the one keyring a process uses.

``HRBOT_ENCRYPTION_KEY`` when set (comma-separated, current key first); otherwise the secret key
file ``./var/secret_key``, the same file the app generates for signing when ``HRBOT_SECRET_KEY``
is not set (HKDF keeps the two uses apart). The file, not ``HRBOT_SECRET_KEY``: rotating the
signing secret must never make the stored data unreadable.

The keyring is process-wide because column types cannot be handed one per engine:
``make_engine(url, keyring=...)`` installs it (``bot.bootstrap`` passes the one from settings);
an engine made without one (tests, one-off tools) resolves it here on first use, the same way.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from pathlib import Path

from core.encryption import KEY_SETTING, EncryptionKeyError, Keyring, parse_secrets

VAR_DIR = Path("./var")
KEY_FILE = "secret_key"

_lock = threading.Lock()
_current: Keyring | None = None


def keyring_from(encryption_key: str | None, var_dir: Path = VAR_DIR) -> Keyring:
    """The keyring for a configured ``HRBOT_ENCRYPTION_KEY``, else for the key file."""
    if encryption_key and encryption_key.strip():
        return Keyring(parse_secrets(encryption_key), source=KEY_SETTING)
    path = var_dir / KEY_FILE
    return Keyring([key_file_secret(path)], source=f"{path} ({KEY_SETTING} is not set)")


def key_file_secret(path: Path) -> str:
    """The secret in ``path``, created once if missing (0600, atomically: two processes starting
    together must not each write a different key)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(temporary, path)  # fails if another process got there first: theirs wins
        except FileExistsError:
            pass
        finally:
            Path(temporary).unlink(missing_ok=True)
    secret = path.read_text().strip()
    if not secret:
        raise EncryptionKeyError(f"{path} is empty: restore it or set {KEY_SETTING}")
    return secret


def install_keyring(keyring: Keyring | None) -> Keyring | None:
    """Make ``keyring`` the process's keyring (None: resolve again on next use); returns the
    one it replaces, so tests that switch keys can put it back."""
    global _current
    with _lock:
        previous, _current = _current, keyring
    return previous


def current_keyring() -> Keyring:
    """The installed keyring, resolved from the environment on first use if none was."""
    global _current
    installed = _current  # every encrypted value read or written asks: no lock once set
    if installed is not None:
        return installed
    with _lock:
        if _current is None:
            # The environment, not the .env file settings also read: processes that hold
            # settings install their keyring through make_engine before anything is read.
            _current = keyring_from(os.environ.get(KEY_SETTING))
        return _current
