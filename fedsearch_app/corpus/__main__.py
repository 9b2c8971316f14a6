"""python -m fedsearch_app.corpus --size 100000 --out DIR [--seed N] [--dup-rate 0.08]"""

from __future__ import annotations

import argparse
import json
import sys
import time

from fedsearch_app.corpus import DEFAULT_DUP_RATE, DEFAULT_SEED, generate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fedsearch_app.corpus", description="Write a synthetic partner corpus.")
    p.add_argument("--size", type=int, required=True, help="number of records (all partners together)")
    p.add_argument("--out", required=True, help="directory to write into")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--dup-rate",
        type=float,
        default=DEFAULT_DUP_RATE,
        help="share of works held by both the repository and the catalogue",
    )
    args = p.parse_args(argv)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"\r  {done:,}/{total:,} records ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)

    manifest = generate(args.out, args.size, seed=args.seed, dup_rate=args.dup_rate, progress=progress)
    print(file=sys.stderr)
    print(json.dumps(manifest, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
