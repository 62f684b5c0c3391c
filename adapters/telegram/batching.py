"""Group commit: many concurrent requests share one transaction, one hop into the core's pool.

Under load, webhook requests arrive faster than one transaction each can commit (SQLite has one
writer; every hop into the bridge waits its turn). Items that arrive while a batch is being
recorded wait for the next batch, so a lone request is recorded at once and a burst of N costs a
handful of transactions, not N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_BATCH = 256


class GroupCommit(Generic[T]):
    def __init__(self, record: Callable[[list[str]], Awaitable[Sequence[T]]]) -> None:
        """``record`` takes a batch of keys and returns one result per key, in order."""
        self.record = record
        self._pending: list[tuple[str, asyncio.Future[T]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def __call__(self, key: str) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((key, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    results = await self.record([key for key, _ in batch])
                except Exception as error:  # each waiting request sees the failure itself
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._flushing = None


class InboxGate:
    """The inbox as the adapter uses it: "first time?" and "done", each group-committed."""

    def __init__(
        self,
        record: Callable[[list[str]], Awaitable[list[bool]]],
        mark_processed: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.first: GroupCommit[bool] = GroupCommit(record)
        self._mark = mark_processed
        self._done: GroupCommit[None] = GroupCommit(self._mark_each)

    async def done(self, key: str) -> None:
        if self._mark is not None:
            await self._done(key)

    async def _mark_each(self, keys: list[str]) -> list[None]:
        assert self._mark is not None
        await self._mark(keys)
        return [None] * len(keys)
