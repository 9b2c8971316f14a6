"""Clean stops for long-running commands: SIGINT or SIGTERM to the main process.

`docker stop` and systemd send SIGTERM to the main process only; Ctrl-C sends SIGINT to the
whole group. Either one sets a stop event that harvests watch (they store the page in hand,
keep their checkpoint and end 'stopped'); if the work has not stopped within `grace` seconds
(a partner that does not answer, an index being written), it is interrupted there. A second
signal interrupts at once. Interrupting raises KeyboardInterrupt, which every layer already
treats as Ctrl-C: what was stored stays stored.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

log = logging.getLogger("fedsearch")

GRACE_SECONDS = 7.0  # well inside the 10 s that docker stop and systemd wait before SIGKILL


class GracefulStop:
    """`with GracefulStop() as stop:` ... `stop.is_set()`; handlers are restored on exit.

    Only the main thread can install handlers; elsewhere it is an event nobody sets.
    """

    def __init__(self, grace: float = GRACE_SECONDS):
        self.grace = grace
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def is_set(self) -> bool:
        return self.event.is_set()

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
            self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGALRM:
            log.warning("still busy %.0f s after %s: stopping here", self.grace, self.signal_name)
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        if self.event.is_set():
            log.warning("%s again: stopping at once", name)
            raise KeyboardInterrupt
        self.signal_name = name
        self.event.set()
        log.warning("%s: stopping after the current page (send it again to stop at once)", name)
        signal.setitimer(signal.ITIMER_REAL, self.grace)
