"""Calling a user function the way the Python worker does."""

import asyncio
import functools
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devhost.functions import FunctionSpec

log = logging.getLogger("devhost.invoke")


class Invoker:
    """Runs async functions on the event loop and sync ones in a thread pool, within a timeout."""

    def __init__(self, timeout: float | None, executor: ThreadPoolExecutor | None = None) -> None:
        self._timeout = timeout
        self._executor = executor or ThreadPoolExecutor(thread_name_prefix="devhost-fn")

    async def __call__(self, spec: FunctionSpec, value: Any) -> Any:
        """Invoke ``spec`` with its trigger value; ``TimeoutError`` past ``functionTimeout``."""
        kwargs = {spec.arg_name: value}
        if spec.is_async:
            work = spec.user_function(**kwargs)
        else:
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(
                self._executor, functools.partial(spec.user_function, **kwargs)
            )
        invocation = uuid.uuid4()
        started = time.perf_counter()
        outcome = "Failed"
        try:
            result = await asyncio.wait_for(work, self._timeout)
            outcome = "Succeeded"
            return result
        finally:
            log.info(
                "Executed 'Functions.%s' (%s, Id=%s, Duration=%.0fms)",
                spec.name,
                outcome,
                invocation,
                (time.perf_counter() - started) * 1000,
            )

    def shutdown(self) -> None:
        """Stop the thread pool once running calls end."""
        self._executor.shutdown(wait=False, cancel_futures=True)
