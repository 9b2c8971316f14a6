"""Run the demo's sample partners over a corpus, in their own process, until SIGINT.

    python -m bench.partners --corpus DIR [--only oai,sru,csv,patents]

Prints one JSON line when ready: {"sources": [...configuration entries...], "pid": N}.
A separate process keeps the partners' work (pyoai, HTTP) off the measured process.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from fedsearch_app.demo.partners import SamplePartners


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.partners")
    p.add_argument("--corpus", required=True)
    p.add_argument("--only", default="oai,sru,csv,patents", help="partners to include in the printed sources")
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SamplePartners(corpus, corpus, say=lambda m: print(m, file=sys.stderr, flush=True)) as partners:
        wanted = set(args.only.split(","))
        keys = {p.source_id: p.key for p in partners.running()}
        sources = [s for s in partners.sources() if keys[s["id"]] in wanted]
        print(json.dumps({"sources": sources, "missing": partners.missing}, ensure_ascii=False), flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
