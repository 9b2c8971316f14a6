"""A fast OAI-PMH page server for the harvester benchmark, in its own process, until SIGINT.

    python -m bench.oai_pages --records 20000 [--page-size 100]

Builds `records` oai_dc records from the corpus generator (the demo repository's shape),
cuts them into ListRecords pages once, and serves those same bytes to every client over
HTTP/1.1 keep-alive (asyncio, no framework): the first page for
`verb=ListRecords&metadataPrefix=oai_dc`, page n for `resumptionToken=p<n>`. The server
does no per-request work beyond a dict lookup, so clients are measured, not the server.

Prints one JSON line when ready: {"url": ..., "records": N, "pages": P, "bytes": B, "pid": N}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import urllib.parse

from fedsearch_app.corpus.formats import oai_record
from fedsearch_app.corpus.works import works

SEED = 20251
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
    "<responseDate>2026-01-01T00:00:00Z</responseDate>\n"
    '<request verb="ListRecords" metadataPrefix="oai_dc">http://127.0.0.1/oai</request>\n<ListRecords>\n'
)


def build_pages(records: int, page_size: int) -> list[bytes]:
    """The ListRecords pages, each with its resumption token (empty on the last one)."""
    stream = (w for w in works(SEED) if "oai" in w.partners)
    lines = [oai_record(work, n, None) for n, work in zip(range(records), stream)]
    count = (len(lines) + page_size - 1) // page_size
    pages = []
    for p in range(count):
        body = "\n".join(lines[p * page_size : (p + 1) * page_size])
        token = f"p{p + 1}" if p + 1 < count else ""
        pages.append(
            (
                HEAD + body + f'\n<resumptionToken completeListSize="{len(lines)}" cursor="{p * page_size}">'
                f"{token}</resumptionToken>\n</ListRecords>\n</OAI-PMH>\n"
            ).encode("utf-8")
        )
    return pages


def _answer(pages: list[bytes], target: str) -> tuple[int, bytes]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    token = query.get("resumptionToken", [None])[0]
    if token is None:
        return (200, pages[0]) if query.get("verb") == ["ListRecords"] else (400, b"bad request")
    if token.startswith("p") and token[1:].isdigit() and int(token[1:]) < len(pages):
        return 200, pages[int(token[1:])]
    return 404, b"unknown token"


async def _serve_client(pages: list[bytes], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            status, body = _answer(pages, parts[1] if len(parts) > 1 else "/")
            close = b"connection: close" in head.lower()
            writer.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: %d\r\n%s\r\n"
                % (status, b"OK" if status == 200 else b"Error", len(body), b"Connection: close\r\n" if close else b"")
            )
            writer.write(body)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _main(pages: list[bytes], records: int) -> None:
    server = await asyncio.start_server(lambda r, w: _serve_client(pages, r, w), "127.0.0.1", 0, backlog=256)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        json.dumps(
            {
                "url": f"http://127.0.0.1:{port}/oai",
                "records": records,
                "pages": len(pages),
                "bytes": sum(map(len, pages)),
                "pid": os.getpid(),
            }
        ),
        flush=True,
    )
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.oai_pages")
    p.add_argument("--records", type=int, default=20_000)
    p.add_argument("--page-size", type=int, default=100)
    args = p.parse_args(argv)
    pages = build_pages(args.records, args.page_size)
    asyncio.run(_main(pages, args.records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
