"""The Elasticsearch client's exceptions as ours, in words that name the hosts and the action."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from elasticsearch import ApiError, ConnectionTimeout
from elasticsearch import ConnectionError as EsConnectionError

from fedsearch.engines.base import EngineError, EngineUnavailable


@contextmanager
def calling(hosts: str, action: str) -> Iterator[None]:
    """Turn the client's exceptions into ours, naming the hosts and what we were doing."""
    try:
        yield
    except (EsConnectionError, ConnectionTimeout) as err:
        raise EngineUnavailable(
            f"Elasticsearch is not reachable at {hosts} ({action}): {err}. "
            "Start a node (scripts/es-node.sh start) or check `elasticsearch.hosts` in the configuration."
        ) from None
    except ApiError as err:
        if err.status_code in (429, 503):
            raise EngineUnavailable(
                f"Elasticsearch at {hosts} is too busy or not ready ({action}): {reason(err)}"
            ) from None
        raise EngineError(f"Elasticsearch at {hosts} refused {action}: {reason(err)}") from err


def reason(err: ApiError) -> str:
    body = err.body if isinstance(err.body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        causes = error.get("root_cause") or [error]
        return "; ".join(f"{c.get('type')}: {c.get('reason')}" for c in causes)
    return str(error or err.message or err)


def item_reason(result: dict[str, Any]) -> str:
    error = result.get("error")
    if not isinstance(error, dict):
        return f"status {result.get('status')}: {error or 'rejected'}"
    text = f"{error.get('type')}: {error.get('reason')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return text
