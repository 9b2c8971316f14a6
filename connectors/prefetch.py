"""Fetching the next page while the current one is stored: one page ahead, one worker thread.

A partner that allows unlimited requests (`delay_seconds: 0`) is otherwise idle while we
store a page, and we are idle while it answers. `PagePrefetch` overlaps the two without
ever having two requests in flight: the next page (fetched, parsed, its payloads cut out)
is prepared in one worker thread, and `get` hands it over only when the caller asks for
exactly that request; any other request first waits for the guess to finish, then runs
on its own. So retries, re-asked pages and restarts behave as without prefetching (at
worst one request is wasted), and an error of the prefetched request (timeout, HTTP
error, OAI error, stop) is raised where the caller asks for it, as if it had been made then.

lxml and the socket reads release the GIL, so on two cores the worker's parsing runs
beside the main thread's SQLite commit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class PagePrefetch(Generic[T]):
    """At most one request prepared ahead, identified by a key. Close it before the HTTP client."""

    def __init__(self) -> None:
        self._pending: tuple[Hashable, Future[T]] | None = None
        self.hits = 0  # answers handed over from a prefetch (for tests and logs)

    def ahead(self, key: Hashable, call: Callable[[], T]) -> None:
        """Start `call` in the worker, unless a prefetch is already under way."""
        if self._pending is None:
            future: Future[T] = Future()

            def run() -> None:
                try:
                    future.set_result(call())
                except BaseException as err:  # noqa: BLE001 - handed to whoever asks for the page
                    future.set_exception(err)

            # A daemon thread: a request hanging at a partner never keeps the process from exiting.
            threading.Thread(target=run, name="fedsearch-prefetch", daemon=True).start()
            self._pending = (key, future)

    def get(self, key: Hashable, call: Callable[[], T]) -> T:
        """The answer for `key`: the prefetched one if it was this request, else `call()` now."""
        pending, self._pending = self._pending, None
        if pending is not None:
            wanted, future = pending
            if wanted == key:
                self.hits += 1
                return future.result()
            _settle(future)  # never two requests at once: the unused guess finishes first
        return call()

    def close(self, *, wait: bool = True) -> None:
        """Wait for an unused prefetch to finish, or (`wait=False`, the harvest is ending on an error or
        a stop) leave it behind: closing the HTTP client next breaks its connection."""
        pending, self._pending = self._pending, None
        if pending is not None and wait:
            _settle(pending[1])


def _settle(future: Future) -> None:
    """Wait for an answer nobody will use; its error does not matter any more."""
    # HarvestStopped, HTTP errors: the caller's own request, made next, will meet them if they last.
    with contextlib.suppress(Exception):
        future.result()
