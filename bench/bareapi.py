"""The bare endpoint: tantivy behind the thinnest HTTP server on our stack, the search bench's embedded reference.

    python -m bench.bareapi --config CFG --port PORT --queries N [--workers W]

A pure ASGI app under uvicorn (same server, same worker count and the same thread
pool for the blocking engine call as FastAPI's sync routes). `GET /search?i=K`
answers benchmark query K (bench/queries.py), prepared at start the way
bench/rawengine.py prepares it from the Query objects EmbeddedEngine builds: top hits
by score, their stored records, the facet aggregations, in one JSON body
{"total", "hits": [stored record JSON], "facets": {name: [{"value", "count"}]}}.
What it leaves out next to /api/v1/search is listed in bench/search.py (WORK_DIFFERENCES).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from anyio import to_thread

ENV_CONFIG = "FEDSEARCH_BARE_CONFIG"
ENV_QUERIES = "FEDSEARCH_BARE_QUERIES"


class BareSearch:
    """The prepared benchmark queries over one opened index."""

    def __init__(self, config: str, n_queries: int):
        from bench.queries import bench_queries
        from bench.rawengine import RawTantivy
        from fedsearch.config import load_config

        self.raw = RawTantivy(load_config(config))
        self.queries = bench_queries(n_queries)
        self.prepared = [self.raw.prepare(q.search_query()) for q in self.queries]
        self.facets = [(q.search_query().facets, q.search_query().facet_size) for q in self.queries]

    def body(self, i: int) -> bytes:
        main, per_page, aggs = self.prepared[i]
        searcher = self.raw.searcher
        res = searcher.search(main, per_page, count=True)
        hits = [orjson.Fragment(searcher.doc(addr).get_first("record")) for _, addr in res.hits]
        counted: dict[str, list[dict[str, Any]]] = {}
        names, size = self.facets[i]
        for scope, spec in aggs:
            for name, agg in searcher.aggregate(scope, spec).items():
                counted[name] = [{"value": _value(b["key"]), "count": b["doc_count"]} for b in agg["buckets"][:size]]
        facets = {name: counted.get(name, []) for name in names}  # in the order asked, as the API answers
        return orjson.dumps({"total": res.count, "hits": hits, "facets": facets})


def _value(key: Any) -> str:
    """A bucket key as the API writes it: years are numbers in tantivy (2019.0), text in the response."""
    return str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)


def make_app(search: BareSearch):
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        try:
            i = int(parse_qs(scope["query_string"].decode()).get("i", ["x"])[0])
            search.prepared[i]
        except (ValueError, IndexError):
            await _send(send, 400, b'{"error":"i must be the index of a benchmark query"}')
            return
        body = await to_thread.run_sync(search.body, i)  # the engine call blocks: off the event loop, like FastAPI
        await _send(send, 200, body)

    return app


async def _send(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def app_factory():
    """For uvicorn's worker processes: the configuration comes through the environment."""
    return make_app(BareSearch(os.environ[ENV_CONFIG], int(os.environ[ENV_QUERIES])))


def _announce(port: int) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
                return
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    p = argparse.ArgumentParser(prog="python -m bench.bareapi")
    p.add_argument("--config", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--queries", type=int, default=120)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    os.environ[ENV_CONFIG], os.environ[ENV_QUERIES] = args.config, str(args.queries)
    logging.getLogger("uvicorn.access").disabled = True
    threading.Thread(target=_announce, args=(args.port,), daemon=True).start()
    try:
        if args.workers > 1:
            uvicorn.run(
                "bench.bareapi:app_factory",
                factory=True,
                host="127.0.0.1",
                port=args.port,
                workers=args.workers,
                access_log=False,
                log_level="warning",
            )
        else:
            uvicorn.run(app_factory(), host="127.0.0.1", port=args.port, access_log=False, log_level="warning")
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
