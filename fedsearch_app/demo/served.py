"""An HTTP server on 127.0.0.1, run from a daemon thread: what the Python-served partners share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalHTTPServer:
    def __init__(
        self,
        handler: Callable[..., BaseHTTPRequestHandler] | type[BaseHTTPRequestHandler],
        port: int = 0,
        name: str = "demo-http",
    ):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port: int = self.httpd.server_address[1]
        self.name = name
        self._thread: threading.Thread | None = None

    def start(self) -> Any:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
