"""The benchmark runner; results go to bench/results/*.json and docs/benchmarks.md.

    python -m bench.run corpus    --size 100000
    python -m bench.run ingest    --size 1000000 [--engines embedded,elasticsearch] [--with-reindex] [--with-harvest]
                                  (issue 10: raw store -> searchable per engine, stage times, peak RSS)
    python -m bench.run changes   --size 1000000 [--changed 1000] [--engine embedded]   (after ingest at that size)
    python -m bench.run search    --sizes 100000,1000000 [--engines ...] [--rounds 3] [--budget 600] [--workers 2]
                                  (issue 18: the API beside the same engine over HTTP: bare endpoint / raw _search)
    python -m bench.run reharvest [--records 100000]
    python -m bench.run harvest-speed [--records 20000] [--rounds 5] [--baseline DIR]  (needs .[bench]: Sickle)
                                  (issue 18: our OAI-PMH harvester, Sickle and raw transport on the same pages)
    python -m bench.run dedup-truth [--size 100000]  (the ingest run's clusters against truth/duplicates.csv)
    python -m bench.run dedup [--fresh-seed 4242]  (the labeled set per split: pairwise and whole-cluster P/R)
    python -m bench.run dedup-corpus --size 3000  (all of a generated corpus clustered, scored against its truth)
    python -m bench.run report    (rewrite our sections of docs/benchmarks.md from bench/results/)
    python -m bench.run all       (ingest 100k, reharvest 100k, search 100k/300k/1M, report)
    python -m bench.run clean     (drop the fsbench-* indices and $FEDSEARCH_BENCH_DIR)

Every step shows progress on stderr and has a time budget (--timeout for one
child process, --budget for the timed passes of a search measurement).
Big files live in $FEDSEARCH_BENCH_DIR (default /tmp/fedsearch-bench).
Never run from tests.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import report
from bench.common import ENGINES, ensure_corpus, progress, save_result


def _engines(text: str) -> list[str]:
    names = [e.strip() for e in text.split(",") if e.strip()]
    for e in names:
        if e not in ENGINES:
            raise SystemExit(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    return names


def cmd_corpus(args: argparse.Namespace) -> None:
    _, manifest = ensure_corpus(args.size)
    progress(f"corpus of {manifest['records']:,} records: {manifest['records_by_partner']}")
    report.write_all(["machine", "corpus"])


def cmd_ingest(args: argparse.Namespace) -> None:
    from bench import ingest

    result = ingest.measure(
        args.size,
        _engines(args.engines),
        timeout=args.timeout,
        with_reindex=args.with_reindex,
        with_harvest=args.with_harvest,
        skip_raw=args.skip_raw,
    )
    cmd = (
        f"python -m bench.run ingest --size {args.size} --engines {args.engines}"
        + (" --with-reindex" if args.with_reindex else "")
        + (" --with-harvest" if args.with_harvest else "")
        + (" --skip-raw" if args.skip_raw else "")
    )
    engines = _engines(args.engines)
    suffix = "" if set(engines) == set(ENGINES) else "-" + "-".join(engines)  # one engine's run keeps the other's
    save_result(f"ingest-{args.size}{suffix}", {"command": cmd, **result})
    report.write_all(["machine", "ingest", "memory"])


def cmd_changes(args: argparse.Namespace) -> None:
    from bench import changes

    result = changes.measure(args.size, args.engine, args.changed)
    cmd = f"python -m bench.run changes --size {args.size} --changed {args.changed} --engine {args.engine}"
    save_result(f"changes-{args.engine}-{args.size}", {"command": cmd, **result})


def cmd_search(args: argparse.Namespace) -> None:
    from bench import search

    for size in [int(s) for s in args.sizes.split(",")]:
        for engine in _engines(args.engines):
            progress(f"=== search: {engine}, {size:,} records ===")
            try:
                result = search.measure(
                    size,
                    engine,
                    rounds=args.rounds,
                    budget=args.budget,
                    build_timeout=args.timeout,
                    n_queries=args.queries,
                    workers=args.workers,
                )
            except (TimeoutError, RuntimeError) as err:
                progress(f"  skipped: {err}")
                continue
            cmd = (
                f"python -m bench.run search --sizes {args.sizes} --engines {args.engines} --rounds {args.rounds} "
                f"--budget {args.budget:.0f} --queries {args.queries} --workers {args.workers}"
            )
            save_result(f"search-{engine}-{size}", {"command": cmd, **result})
            report.write_all(["machine", "search", "memory"])


def cmd_reharvest(args: argparse.Namespace) -> None:
    from bench import reharvest

    result = reharvest.measure(args.records, engine=args.engine, repeat=args.repeat, timeout=args.timeout)
    save_result(
        f"reharvest-{args.engine}",
        {"command": f"python -m bench.run reharvest --records {args.records} --engine {args.engine}", **result},
    )
    report.write_all(["machine", "reharvest"])


def cmd_harvest_speed(args: argparse.Namespace) -> None:
    from pathlib import Path

    from bench import harvest_speed

    baseline = Path(args.baseline).resolve() if args.baseline else None
    result = harvest_speed.measure(args.records, rounds=args.rounds, baseline=baseline)
    cmd = f"python -m bench.run harvest-speed --records {args.records} --rounds {args.rounds}" + (
        f" --baseline {args.baseline}" if args.baseline else ""
    )
    save_result("harvest-speed", {"command": cmd, "baseline": args.baseline_label, **result})
    report.write_all(["harvest-speed"])


def cmd_dedup_truth(args: argparse.Namespace) -> None:
    from bench.common import WORK, corpus_dir
    from bench.truth import score

    state = WORK / f"ingest-{args.size}-embedded-full" / "index-state.sqlite"
    if not state.exists():
        raise SystemExit(
            f"no pipeline run to score: {state} is missing; run `python -m bench.run ingest --size {args.size}` first"
        )
    result = score(state, corpus_dir(args.size) / "truth" / "duplicates.csv")
    progress(f"precision {result['precision']:.1%}, recall {result['recall']:.1%}")
    save_result(
        f"dedup-truth-{args.size}",
        {"command": f"python -m bench.run dedup-truth --size {args.size}", "size": args.size, **result},
    )
    report.write_all(["dedup-truth"])


def cmd_dedup(args: argparse.Namespace) -> None:
    from bench import dedup_eval

    result = dedup_eval.measure(fresh_seed=args.fresh_seed)
    for split, scores in result.items():
        d, c, w = scores["pair_decisions"], scores["clustered_pairs"], scores["clusters"]
        progress(
            f"{split:11} pairs decided P {d['precision']:.3f} R {d['recall']:.3f} | pairs clustered "
            f"P {c['precision']:.3f} R {c['recall']:.3f} | whole clusters P {w['precision']:.3f} R {w['recall']:.3f}"
        )
    cmd = "python -m bench.run dedup" + (f" --fresh-seed {args.fresh_seed}" if args.fresh_seed is not None else "")
    save_result("dedup-labeled", {"command": cmd, "splits": result})


def cmd_dedup_corpus(args: argparse.Namespace) -> None:
    from bench import dedup_corpus
    from bench.common import WORK
    from fedsearch_app.corpus import generate, is_current, load_manifest

    out = WORK / f"dedup-corpus-{args.size}"
    if not is_current(load_manifest(out), args.size, args.seed):
        progress(f"writing a {args.size:,}-record corpus (seed {args.seed}) into {out}")
        generate(out, args.size, seed=args.seed)
    result = dedup_corpus.score(out)
    progress(
        f"{result['records']:,} records -> {result['works']:,} works; false merges {result['false_merges']}; "
        f"pairwise P {result['pairwise_precision']:.4f} R {result['pairwise_recall']:.4f}; "
        f"clusters P {result['cluster_precision']:.4f} R {result['cluster_recall']:.4f}"
    )
    save_result(
        f"dedup-corpus-{args.size}",
        {
            "command": f"python -m bench.run dedup-corpus --size {args.size} --seed {args.seed}",
            "size": args.size,
            "seed": args.seed,
            **result,
        },
    )


def cmd_report(args: argparse.Namespace) -> None:
    report.write_all()
    progress(f"wrote {report.DOC}")


def cmd_clean(args: argparse.Namespace) -> None:
    """Drop the benchmarks' Elasticsearch indices and work files (results and docs stay)."""
    import shutil

    from bench.common import WORK, drop_es_indices

    dropped = drop_es_indices("fsbench")
    progress(f"dropped {len(dropped)} Elasticsearch indices: {', '.join(dropped) or 'none'}")
    if not args.keep_files:
        shutil.rmtree(WORK, ignore_errors=True)
        progress(f"removed {WORK}")


def cmd_all(args: argparse.Namespace) -> None:
    for step in (
        ["ingest", "--size", "100000"],
        ["reharvest", "--records", "100000"],
        ["search", "--sizes", "100000,300000,1000000"],
    ):
        main(step)
    report.write_all()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("corpus")
    sp.add_argument("--size", type=int, required=True)
    sp.set_defaults(func=cmd_corpus)
    sp = sub.add_parser("ingest")
    sp.add_argument("--size", type=int, default=100_000)
    sp.add_argument("--engines", default=",".join(ENGINES))
    sp.add_argument("--timeout", type=float, default=3600)
    sp.add_argument(
        "--with-reindex", action="store_true", help="also time indexers.pipeline.reindex (raw store -> searchable)"
    )
    sp.add_argument(
        "--with-harvest", action="store_true", help="also time a full harvest in one process (partners -> searchable)"
    )
    sp.add_argument(
        "--skip-raw", action="store_true", help="leave out the engine's own bulk load of the same documents"
    )
    sp.set_defaults(func=cmd_ingest)
    sp = sub.add_parser("changes", help="re-index N changed records into the ingest run's collection (O(changes))")
    sp.add_argument("--size", type=int, default=1_000_000)
    sp.add_argument("--changed", type=int, default=1000)
    sp.add_argument("--engine", choices=ENGINES, default="embedded")
    sp.set_defaults(func=cmd_changes)
    sp = sub.add_parser("search")
    sp.add_argument("--sizes", default="100000,300000,1000000")
    sp.add_argument("--engines", default=",".join(ENGINES))
    sp.add_argument("--rounds", type=int, default=10)
    sp.add_argument("--budget", type=float, default=480, help="seconds for the timed passes of one engine and size")
    sp.add_argument("--queries", type=int, default=120)
    sp.add_argument("--timeout", type=float, default=7200, help="seconds for building one index")
    sp.add_argument(
        "--workers", type=int, default=2, help="server processes, the same for the API and the bare endpoint"
    )
    sp.set_defaults(func=cmd_search)
    sp = sub.add_parser("reharvest")
    sp.add_argument("--records", type=int, default=100_000)
    sp.add_argument("--engine", choices=ENGINES, default="embedded")
    sp.add_argument("--repeat", type=int, default=3)
    sp.add_argument("--timeout", type=float, default=3600)
    sp.set_defaults(func=cmd_reharvest)
    sp = sub.add_parser("harvest-speed", help="OAI-PMH fetch: ours, Sickle and raw transport on the same pages")
    sp.add_argument("--records", type=int, default=20_000)
    sp.add_argument("--rounds", type=int, default=5)
    sp.add_argument("--baseline", help="a source tree (e.g. `git archive <commit>` unpacked) to time as 'before'")
    sp.add_argument("--baseline-label", default=None, help="what the baseline tree is, for the report")
    sp.set_defaults(func=cmd_harvest_speed)
    sp = sub.add_parser("dedup-truth", help="score the ingest run's dedup against the corpus's truth file")
    sp.add_argument("--size", type=int, default=100_000)
    sp.set_defaults(func=cmd_dedup_truth)
    sp = sub.add_parser("dedup", help="the labeled dedup set: precision and recall per split")
    sp.add_argument("--fresh-seed", type=int, help="also score the adversarial families drawn anew with this seed")
    sp.set_defaults(func=cmd_dedup)
    sp = sub.add_parser("dedup-corpus", help="cluster a generated corpus in memory and score it against its truth")
    sp.add_argument("--size", type=int, default=3000)
    sp.add_argument("--seed", type=int, default=20251, help="20251 is the demo's (and the benches') seed")
    sp.set_defaults(func=cmd_dedup_corpus)
    sp = sub.add_parser("report")
    sp.set_defaults(func=cmd_report)
    sp = sub.add_parser("clean")
    sp.add_argument("--keep-files", action="store_true", help="keep corpora and indexes under $FEDSEARCH_BENCH_DIR")
    sp.set_defaults(func=cmd_clean)
    sp = sub.add_parser("all")
    sp.set_defaults(func=cmd_all)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    args.func(args)
    progress(f"done in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
