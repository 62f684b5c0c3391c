"""The keyring: what it writes reveals nothing, reads back exactly, and refuses loudly.

A wrong key, an altered byte or a rotated-away key must end in an error naming the setting to
fix, never in text that merely looks decrypted.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.encryption import (
    FILE_MAGIC,
    TEXT_PREFIX,
    EncryptionKeyError,
    Keyring,
    is_encrypted_file,
    parse_secrets,
)
from core.encryption_keys import key_file_secret, keyring_from

OLD = "old-key-for-tests-0123456789abcdefghij"  # pragma: allowlist secret
NEW = "new-key-for-tests-0123456789abcdefghij"  # pragma: allowlist secret
ID_NUMBER = "110105199005170012"


def test_a_value_is_stored_as_ciphertext_naming_its_key() -> None:
    ring = Keyring([NEW])
    stored = ring.encrypt_text(ID_NUMBER)
    assert stored.startswith(f"{TEXT_PREFIX}{ring.primary.name}:")
    assert ID_NUMBER not in stored
    assert ring.decrypt_text(stored) == ID_NUMBER


def test_equal_values_never_look_equal_but_their_blind_index_does() -> None:
    ring = Keyring([NEW])
    assert ring.encrypt_text(ID_NUMBER) != ring.encrypt_text(ID_NUMBER)  # a fresh nonce each
    assert ring.blind_index(ID_NUMBER) == Keyring([NEW]).blind_index(ID_NUMBER)
    assert ring.blind_index(ID_NUMBER) != ring.blind_index(ID_NUMBER[:-1] + "X")
    assert ring.blind_index(ID_NUMBER) != Keyring([OLD]).blind_index(ID_NUMBER)  # keyed


@given(st.text())
def test_any_text_reads_back_exactly(text: str) -> None:
    ring = Keyring([NEW])
    assert ring.decrypt_text(ring.encrypt_text(text)) == text


def test_the_wrong_key_is_an_error_naming_the_setting_never_garbage() -> None:
    stored = Keyring([OLD]).encrypt_text(ID_NUMBER)
    with pytest.raises(EncryptionKeyError, match="HRBOT_ENCRYPTION_KEY") as raised:
        Keyring([NEW]).decrypt_text(stored)
    assert Keyring([OLD]).primary.name in str(raised.value)
    document = Keyring([OLD]).encrypt_bytes(b"%PDF-1.4 diagnosis")
    with pytest.raises(EncryptionKeyError, match="HRBOT_ENCRYPTION_KEY"):
        Keyring([NEW]).decrypt_bytes(document)


def test_an_altered_value_is_refused() -> None:
    ring = Keyring([NEW])
    stored = ring.encrypt_text(ID_NUMBER)
    last = "A" if stored[-2] != "A" else "B"
    with pytest.raises(EncryptionKeyError, match="damaged or altered"):
        ring.decrypt_text(stored[:-2] + last + stored[-1])
    sealed = bytearray(ring.encrypt_bytes(b"content"))
    sealed[-1] ^= 1
    with pytest.raises(EncryptionKeyError, match="damaged or altered"):
        ring.decrypt_bytes(bytes(sealed))
    with pytest.raises(EncryptionKeyError, match="malformed"):
        ring.decrypt_text(f"{TEXT_PREFIX}zz:???")


def test_after_a_rotation_old_values_still_open_and_new_ones_use_the_new_key() -> None:
    before = Keyring([OLD]).encrypt_text(ID_NUMBER)
    old_file = Keyring([OLD]).encrypt_bytes(b"scan")
    rotated = keyring_from(f"{NEW}, {OLD}")
    assert rotated.key_ids == [Keyring([NEW]).primary.name, Keyring([OLD]).primary.name]
    assert rotated.decrypt_text(before) == ID_NUMBER
    assert rotated.decrypt_bytes(old_file) == b"scan"
    after = rotated.encrypt_text(ID_NUMBER)
    assert after.startswith(f"{TEXT_PREFIX}{rotated.primary.name}:")
    with pytest.raises(EncryptionKeyError):
        Keyring([OLD]).decrypt_text(after)
    assert rotated.blind_indexes(ID_NUMBER) == [
        Keyring([NEW]).blind_index(ID_NUMBER),
        Keyring([OLD]).blind_index(ID_NUMBER),
    ]


def test_files_carry_a_magic_header_and_old_plain_files_still_open() -> None:
    ring = Keyring([NEW])
    content = b"%PDF-1.4\n(Diagnosis: acute appendicitis)"
    sealed = ring.encrypt_bytes(content)
    assert sealed.startswith(FILE_MAGIC) and is_encrypted_file(sealed)
    assert b"appendicitis" not in sealed
    assert ring.decrypt_bytes(sealed) == content
    assert ring.decrypt_bytes(content) == content  # stored before encryption
    assert ring.decrypt_text(ID_NUMBER) == ID_NUMBER  # likewise a column value


@pytest.mark.parametrize(
    ("setting", "problem"),
    [("", "empty"), (" , ", "empty"), ("short", "at least 32"), (f"{NEW},tiny", "at least 32")],
)
def test_weak_or_empty_keys_are_refused(setting: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_secrets(setting)
    assert parse_secrets(f" {NEW} ,{OLD},{NEW}") == [NEW, OLD]


def test_the_key_file_is_made_once_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = keyring_from(None, tmp_path / "var")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keyring_from(None, tmp_path / "var").key_ids == first.key_ids
    assert key_file_secret(path) == path.read_text().strip()
    assert "secret_key" in first.source and "HRBOT_ENCRYPTION_KEY" in first.source
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_an_empty_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("\n")
    path.chmod(0o600)
    with pytest.raises(EncryptionKeyError, match="HRBOT_ENCRYPTION_KEY"):
        key_file_secret(path)


def test_the_setting_wins_over_the_key_file(tmp_path: Path) -> None:
    ring = keyring_from(NEW, tmp_path)
    assert ring.key_ids == Keyring([NEW]).key_ids
    assert not (tmp_path / "secret_key").exists()
    assert repr(ring.primary) == f"MasterKey({ring.primary.name})"  # never the secret
