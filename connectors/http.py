"""Polite HTTP to partners: the one client every network connector uses.

Every request has timeouts (connect, read, and an overall deadline for a
partner that trickles bytes), waits `delay_seconds` after the previous one,
retries connection errors, 5xx and 429 with exponential backoff, honours
Retry-After, and says who we are. Errors name the source, the request and the
URL in words a librarian can act on.
"""

from __future__ import annotations

import email.utils
import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

from connectors import reach
from connectors.base import HarvestStopped
from fedsearch.config import HarvestPolicy
from fedsearch.errors import FedsearchError

log = logging.getLogger("fedsearch.harvest.http")

RETRY_AFTER_CAP_SECONDS = 300.0  # a partner asking for longer is asked again later, not waited for
BACKOFF_CAP_SECONDS = 60.0
DEADLINE_FACTOR = 5  # overall per-request deadline = timeout_seconds * this
ERROR_BODY_BYTES = 64 * 1024  # of an error answer, kept for parsing (OAI errors served with 4xx)

_STATUS_WORDS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class PartnerError(FedsearchError):
    """A partner's server could not give us an answer we can use."""

    error_code = "partner.http.failed"

    def __init__(self, source: str, url: str, message: str):
        self.source = source
        self.url = url
        self.message = message
        super().__init__(f"{source}: {message} (URL: {url})")


class PartnerHTTPError(PartnerError):
    """The server answered with an error status."""

    error_code = "partner.http.status"

    def __init__(
        self, source: str, url: str, message: str, *, status: int, body: bytes = b"", retry_after: float | None = None
    ):
        super().__init__(source, url, message)
        self.status = status
        self.body = body
        self.retry_after = retry_after


class PartnerTimeout(PartnerError):
    """The server did not answer, or did not finish answering, in time."""

    error_code = "partner.http.timeout"


class PartnerUnreachable(PartnerError):
    """No connection could be made (DNS, refused, reset, TLS)."""

    error_code = "partner.http.unreachable"


class PartnerConnectionBroken(PartnerUnreachable):
    """The connection was made, then broke (reset, cut) before the answer was complete."""

    error_code = "partner.http.connection_broken"


class PartnerRefused(PartnerError):
    """The URL is not one this source may reach (connectors/reach.py); never retried."""

    error_code = "partner.reach_refused"


class PartnerResponseTooLarge(PartnerError):
    """The answer was larger than we accept for one request."""

    error_code = "partner.http.too_large"


@dataclass
class PartnerResponse:
    url: str
    status: int
    headers: httpx.Headers
    content: bytes


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _status_message(status: int, what: str, retries: int) -> str:
    words = _STATUS_WORDS.get(status, "")
    answered = f"the server answered {status}{f' ({words})' if words else ''} for {what}"
    if status in (404, 410):
        return f"{answered}; check the base URL"
    if status in (401, 403):
        return f"{answered}; the partner may need to allow our harvester (User-Agent) or give credentials"
    if status == 429:
        return f"{answered}, still after {retries} retries; raise delay_seconds for this source"
    if status >= 500:
        tail = f", still after {retries} retries" if retries else ""
        return f"{answered}{tail}; the partner's server has a problem, try again later or tell the partner"
    return f"{answered}; check the source's options (URL, format, query)"


class PoliteClient:
    """One partner's HTTP client. Use as a context manager; `get` returns the whole body."""

    backoff_base_seconds = 1.0

    def __init__(
        self,
        source: str,
        policy: HarvestPolicy,
        *,
        stop: threading.Event | None = None,
        max_response_bytes: int | None = None,
        deadline_seconds: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.source = source
        self.policy = policy
        self.stop = stop
        # A page holds many records; one record may reach max_record_bytes and still be quarantined.
        self.max_response_bytes = max_response_bytes or max(policy.max_record_bytes * 8, 64 * 1024 * 1024)
        self.deadline_seconds = deadline_seconds or policy.timeout_seconds * DEADLINE_FACTOR
        # Every request and redirect is checked against the source's reach (connectors/reach.py): its scheme
        # here, and the address dialled by the guarded transport (DNS rebinding). Through a proxy we dial
        # the proxy, so the host's addresses are checked here instead.
        resolve = reach.through_proxy()
        self._client = httpx.Client(
            timeout=httpx.Timeout(policy.timeout_seconds),
            headers={"User-Agent": policy.user_agent},
            follow_redirects=True,
            transport=transport or reach.guarded_transport(policy.reach),
            event_hooks={"request": [lambda request: reach.check_url(request.url, policy.reach, resolve=resolve)]},
        )
        self._last_request: float | None = None
        self.requests = 0

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- waiting -------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            if self.stop is not None and self.stop.is_set():
                raise HarvestStopped(f"{self.source}: stop requested")
            return
        if self.stop is not None:
            if self.stop.wait(seconds):
                raise HarvestStopped(f"{self.source}: stop requested")
        else:
            time.sleep(seconds)

    def _wait_turn(self, at_least: float = 0.0) -> None:
        wait = at_least
        if self._last_request is not None:
            wait = max(wait, self.policy.delay_seconds - (time.monotonic() - self._last_request))
        self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return float(min(BACKOFF_CAP_SECONDS, self.backoff_base_seconds * (2**attempt)))

    # -- requests ------------------------------------------------------------

    def get(self, url: str, params: dict[str, Any] | None = None, *, what: str) -> PartnerResponse:
        """GET with politeness and retries. `what` names the request for people ("ListRecords page 3")."""
        return self._request(url, params, what=what, sink=None)

    def download(self, url: str, *, what: str, suffix: str = "") -> Path:
        """Stream a file to a temporary path (the caller deletes it); no size limit, read timeouts apply."""
        tmp = tempfile.NamedTemporaryFile(prefix="fedsearch-", suffix=suffix, delete=False)
        try:
            with tmp:
                self._request(url, None, what=what, sink=tmp)
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
        return Path(tmp.name)

    def _request(
        self, url: str, params: dict[str, Any] | None, *, what: str, sink: IO[bytes] | None
    ) -> PartnerResponse:
        retries = self.policy.max_retries
        attempt = 0
        pause = 0.0
        while True:
            self._wait_turn(pause)
            shown = str(httpx.URL(url, params=params)) if params else url
            try:
                return self._once(url, params, what=what, shown=shown, sink=sink)
            except PartnerHTTPError as err:
                retryable = err.status >= 500 or err.status == 429
                if not retryable or attempt >= retries:
                    if retryable:
                        err.message = _status_message(err.status, what, attempt)
                        err.args = (f"{self.source}: {err.message} (URL: {err.url})",)
                    raise
                pause = err.retry_after if err.retry_after is not None else self._backoff(attempt)
                log.warning(
                    "%s answered %s for %s; retrying in %.1f s",
                    self.source,
                    err.status,
                    what,
                    pause,
                    extra={"source": self.source, "url": shown},
                )
            except (PartnerUnreachable, PartnerTimeout) as err:
                if attempt >= retries:
                    if attempt:
                        err.message += f" (after {attempt} retries)"
                        err.args = (f"{self.source}: {err.message} (URL: {err.url})",)
                    raise
                pause = self._backoff(attempt)
                log.warning("%s; retrying in %.1f s", err.message, pause, extra={"source": self.source, "url": shown})
            attempt += 1
            if sink is not None:
                sink.seek(0)
                sink.truncate()

    def _once(
        self, url: str, params: dict[str, Any] | None, *, what: str, shown: str, sink: IO[bytes] | None
    ) -> PartnerResponse:
        started = time.monotonic()
        deadline = started + self.deadline_seconds if sink is None else None
        self.requests += 1
        try:
            with self._client.stream("GET", url, params=params) as resp:
                shown = str(resp.url)
                if resp.status_code >= 400:
                    body = self._read(resp, what, shown, deadline, limit=ERROR_BODY_BYTES, truncate=True)
                    raise PartnerHTTPError(
                        self.source,
                        shown,
                        _status_message(resp.status_code, what, 0),
                        status=resp.status_code,
                        body=body,
                        retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                    )
                if sink is not None:
                    for chunk in resp.iter_bytes():
                        sink.write(chunk)
                        if self.stop is not None and self.stop.is_set():
                            raise HarvestStopped(f"{self.source}: stop requested")
                    content = b""
                else:
                    content = self._read(resp, what, shown, deadline, limit=self.max_response_bytes)
                return PartnerResponse(url=shown, status=resp.status_code, headers=resp.headers, content=content)
        except reach.ReachRefused as err:
            raise PartnerRefused(self.source, shown, f"we may not fetch this URL for {what}: {err}") from None
        except httpx.TimeoutException as err:
            kind = {
                httpx.ConnectTimeout: "could not connect within",
                httpx.ReadTimeout: "stopped sending data for",
                httpx.WriteTimeout: "did not accept our request within",
                httpx.PoolTimeout: "was not reached within",
            }.get(type(err), "did not answer within")
            raise PartnerTimeout(
                self.source,
                shown,
                f"the server {kind} {self.policy.timeout_seconds:g} s while we asked for {what}; "
                "it may be overloaded or down",
            ) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
            host = httpx.URL(url).host
            detail = str(err) or type(err).__name__
            if isinstance(err, httpx.ConnectError):
                message = f"could not connect to {host} for {what}: {detail}; check the URL and that the server is up"
                raise PartnerUnreachable(self.source, shown, message) from None
            message = f"the connection to {host} broke while we asked for {what}: {detail}"
            raise PartnerConnectionBroken(self.source, shown, message) from None
        except httpx.HTTPError as err:
            raise PartnerUnreachable(self.source, shown, f"the request for {what} failed: {err}") from None
        finally:
            self._last_request = time.monotonic()

    def _read(
        self, resp: httpx.Response, what: str, shown: str, deadline: float | None, *, limit: int, truncate: bool = False
    ) -> bytes:
        parts: list[bytes] = []
        size = 0
        for chunk in resp.iter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                if truncate:
                    break
                raise PartnerResponseTooLarge(
                    self.source,
                    shown,
                    f"the answer to {what} is larger than {_size(limit)}; we stopped reading it",
                )
            if deadline is not None and time.monotonic() > deadline:
                raise PartnerTimeout(
                    self.source,
                    shown,
                    f"the answer to {what} took longer than {self.deadline_seconds:g} s in total; "
                    "we stopped waiting (the server sends data too slowly)",
                )
            if self.stop is not None and self.stop.is_set():
                raise HarvestStopped(f"{self.source}: stop requested")
        return b"".join(parts)[: limit if truncate else None]
