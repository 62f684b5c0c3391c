"""Password hashing with argon2id (argon2-cffi, maintained by the argon2 reference authors).

The parameters are the library's RFC 9106 "low memory" profile; ``needs_rehash`` lets a login
upgrade an old hash when they change. ``fast()`` exists for tests only: the same algorithm with
minimal cost, so a suite that logs in hundreds of times stays quick.
"""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2 import profiles
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    def __init__(self, hasher: _Argon2 | None = None) -> None:
        self._hasher = hasher or _Argon2.from_parameters(profiles.RFC_9106_LOW_MEMORY)

    @classmethod
    def fast(cls) -> Argon2Hasher:
        return cls(_Argon2(time_cost=1, memory_cost=8, parallelism=1))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
