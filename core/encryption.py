"""Encryption at rest: AES-256-GCM for columns and files, HMAC blind indexes for lookups.

A ``Keyring`` holds one or more master secrets: the first encrypts, every one decrypts, so keys
can rotate (new secret first, old ones after it). Nothing uses a master secret directly: HKDF
derives a separate sub-key per purpose (columns, documents, blind indexes), so the secret file
that also signs sessions never signs and encrypts with the same key.

Every ciphertext names the key that wrote it (a short id derived from that key), so decrypting
with the wrong key fails with a message naming ``HRBOT_ENCRYPTION_KEY`` instead of returning
garbage, and AES-GCM's tag refuses anything altered. Values written before encryption existed
carry no prefix (text) or magic header (files) and are returned as they are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SETTING = "HRBOT_ENCRYPTION_KEY"
MIN_SECRET_LENGTH = 32
"""Characters per master secret: ``secrets.token_urlsafe(32)`` gives 43."""

TEXT_PREFIX = "enc1:"
"""Encrypted column values read ``enc1:<key id>:<base64url(nonce + ciphertext + tag)>``."""
FILE_MAGIC = b"HRBOTENC\x01"
"""Encrypted files start with this, then the 4-byte key id, the nonce and the ciphertext."""
NONCE_BYTES = 12
KEY_ID_BYTES = 4

_FIELDS = b"hrbot/v1/fields/aes-256-gcm"
_DOCUMENTS = b"hrbot/v1/documents/aes-256-gcm"
_BLIND_INDEX = b"hrbot/v1/blind-index/hmac-sha256"
_KEY_ID = b"hrbot/v1/key-id"


class EncryptionKeyError(RuntimeError):
    """Encrypted data that the configured keys cannot open, or a key that cannot be used."""


def _derive(secret: bytes, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(secret)


class MasterKey:
    """One master secret and the sub-keys derived from it (once: HKDF is not free)."""

    def __init__(self, secret: bytes) -> None:
        self.key_id = _derive(secret, _KEY_ID, KEY_ID_BYTES)
        self.fields = AESGCM(_derive(secret, _FIELDS))
        self.documents = AESGCM(_derive(secret, _DOCUMENTS))
        self.index_key = _derive(secret, _BLIND_INDEX)

    @property
    def name(self) -> str:
        return self.key_id.hex()

    def __repr__(self) -> str:
        return f"MasterKey({self.name})"  # never the secret or a sub-key


def parse_secrets(text: str) -> list[str]:
    """``HRBOT_ENCRYPTION_KEY``: comma-separated secrets, the current one first."""
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found:
        raise ValueError(f"{KEY_SETTING} is empty")
    for secret in found:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"{KEY_SETTING}: each key needs at least {MIN_SECRET_LENGTH} characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    return list(dict.fromkeys(found))


class Keyring:
    """The master keys in use: ``keys[0]`` encrypts and indexes, all of them decrypt."""

    def __init__(self, secrets: Sequence[str], source: str = KEY_SETTING) -> None:
        if not secrets:
            raise EncryptionKeyError(f"no encryption key: set {KEY_SETTING}")
        self.source = source
        """Where the keys came from, for error messages (the setting or the key file)."""
        self.keys = tuple(MasterKey(secret.encode()) for secret in secrets)
        self._by_id = {key.key_id: key for key in self.keys}

    @property
    def primary(self) -> MasterKey:
        return self.keys[0]

    @property
    def key_ids(self) -> list[str]:
        return [key.name for key in self.keys]

    # -- columns ---------------------------------------------------------------------------

    def encrypt_text(self, plain: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.primary.fields.encrypt(nonce, plain.encode(), None)
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{TEXT_PREFIX}{self.primary.name}:{body}"

    def decrypt_text(self, stored: str) -> str:
        if not stored.startswith(TEXT_PREFIX):
            return stored  # written before encryption (or by a raw bulk loader): plain already
        try:
            name, body = stored[len(TEXT_PREFIX) :].split(":", 1)
            key_id = bytes.fromhex(name)
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, binascii.Error):
            raise EncryptionKeyError("cannot decrypt: a stored value is malformed") from None
        key = self._key(key_id)
        return self._open(key.fields, key, raw[:NONCE_BYTES], raw[NONCE_BYTES:]).decode()

    # -- files -----------------------------------------------------------------------------

    def encrypt_bytes(self, plain: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.primary.documents.encrypt(nonce, plain, FILE_MAGIC)
        return FILE_MAGIC + self.primary.key_id + nonce + sealed

    def decrypt_bytes(self, stored: bytes) -> bytes:
        if not is_encrypted_file(stored):
            return stored  # a document stored before encryption: still opens
        start = len(FILE_MAGIC)
        key = self._key(stored[start : start + KEY_ID_BYTES])
        nonce_at = start + KEY_ID_BYTES
        nonce, sealed = stored[nonce_at : nonce_at + NONCE_BYTES], stored[nonce_at + NONCE_BYTES :]
        return self._open(key.documents, key, nonce, sealed, FILE_MAGIC)

    # -- rotation ---------------------------------------------------------------------------

    def text_is_current(self, stored: str) -> bool:
        """Whether a stored value is sealed with the current key (plain text is not)."""
        return stored.startswith(f"{TEXT_PREFIX}{self.primary.name}:")

    def bytes_are_current(self, stored: bytes) -> bool:
        """Whether a stored file is sealed with the current key (a plain one is not)."""
        return stored.startswith(FILE_MAGIC + self.primary.key_id)

    # -- blind indexes ---------------------------------------------------------------------

    def blind_index(self, value: str) -> str:
        """The keyed hash stored beside an encrypted value: equal values, equal hashes."""
        return _index(self.primary, value)

    def blind_indexes(self, value: str) -> list[str]:
        """The value's hash under every key: rows indexed before a rotation are found too."""
        return [_index(key, value) for key in self.keys]

    # -- helpers ---------------------------------------------------------------------------

    def _key(self, key_id: bytes) -> MasterKey:
        found = self._by_id.get(key_id)
        if found is None:
            raise EncryptionKeyError(
                f"cannot decrypt: the data was encrypted with key {key_id.hex()}, which is not "
                f"among the keys in use ({', '.join(self.key_ids)}, from {self.source}); set "
                f"{KEY_SETTING} to the key that wrote it (current key first, older keys after "
                "it, comma-separated)"
            )
        return found

    def _open(
        self, cipher: AESGCM, key: MasterKey, nonce: bytes, sealed: bytes, aad: bytes | None = None
    ) -> bytes:
        try:
            return cipher.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise EncryptionKeyError(
                f"cannot decrypt: the data does not match key {key.name} (damaged or altered); "
                f"check {KEY_SETTING}"
            ) from None


def is_encrypted_file(content: bytes) -> bool:
    return content.startswith(FILE_MAGIC)


def _index(key: MasterKey, value: str) -> str:
    return hmac.new(key.index_key, value.encode(), hashlib.sha256).hexdigest()
