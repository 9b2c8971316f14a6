"""Local sockets for tests: a free port to start a server on, and whether one listens."""

from __future__ import annotations

import socket
import threading


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, timeout: float = 0.3) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as s:
        s.settimeout(timeout)
        return s.connect_ex(("127.0.0.1", port)) == 0


class AcceptLoop:
    """A TCP listener on a free local port that hands each connection to `on_connect`.

    For servers that misbehave on purpose (never answer, hang mid-response), which an
    HTTP server library would not let us write. `start()` runs the loop in a thread;
    `stop()` ends it and closes the listening socket.
    """

    def __init__(self, backlog: int = 8) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port: int = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def on_connect(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        self.sock.settimeout(0.05)  # so the loop sees `done` soon after stop()
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.on_connect(conn)
