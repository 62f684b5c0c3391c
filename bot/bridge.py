"""The one bridge from async code (web app, chat adapters, worker) to the synchronous core.

Every call into ``core`` from a coroutine goes through ``call``, on one bounded thread pool, so
the event loop never blocks on the database and the pool size caps concurrent transactions.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hrbot-core")
    return _pool


async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    loop = asyncio.get_running_loop()
    # The caller's context goes along (as ``asyncio.to_thread`` does): log lines from the core
    # carry the request id and actor of the request that called it (``bot/log_context.py``).
    context = contextvars.copy_context()
    work = functools.partial(fn, *args, **kwargs)
    return await loop.run_in_executor(_executor(), context.run, work)


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
