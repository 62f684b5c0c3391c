"""Documents on the local disk, outside any served folder, written atomically and encrypted.

Each file is AES-GCM encrypted with the process's keyring (core/encryption.py, the documents
sub-key): a copied folder or backup shows nothing. Files stored before encryption have no magic
header and are returned as they are, so old claims still open. Sizes and SHA-256 digests in the
database are of the plaintext, computed by the services before ``put``, so they keep matching.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.encryption import Keyring
from core.encryption_keys import current_keyring


class FilesystemDocumentStore:
    """``DocumentStore`` over a directory; keys are relative paths the core generates."""

    def __init__(self, root: Path, keyring: Keyring | None = None) -> None:
        self.root = root.resolve()
        self._keyring = keyring
        """None: the process's keyring, looked up at each use (installed with the engine)."""

    @property
    def keyring(self) -> Keyring:
        return self._keyring or current_keyring()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("document key escapes the store")
        return path

    def put(self, key: str, content: bytes) -> None:
        path = self._path(key)
        sealed = self.keyring.encrypt_bytes(content)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write to a temporary file and rename, so a crash never leaves half a document.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(sealed)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).chmod(0o600)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self.keyring.decrypt_bytes(self._path(key).read_bytes())

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def reseal(self, key: str) -> bool:
        stored = self._path(key).read_bytes()
        if self.keyring.bytes_are_current(stored):
            return False
        self.put(key, self.keyring.decrypt_bytes(stored))  # atomically, as every write
        return True

    def delete(self, key: str) -> None:
        """Remove the file (``hrbot purge``); a key already gone is no error."""
        self._path(key).unlink(missing_ok=True)
