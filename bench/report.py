"""docs/benchmarks.md: each benchmark owns a section between marker comments and rewrites only that.

    <!-- ingest:start --> ... <!-- ingest:end -->

Other people's sections (page weight, dedup, relevance) are left as they are.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench.common import ROOT, load_results

DOC = ROOT / "docs" / "benchmarks.md"
TITLE = (
    "# Benchmarks\n\nMeasured on the project's shared 2-core machine; numbers are medians of runs made side by side.\n"
)

TARGETS = {
    "search": "issue 18, at 1M: embedded p50 <= 2x the bare endpoint (1 client), >= 0.6x its req/s (8); ES p50 <= 1.3x `_search`",
    "ingest": (
        "issue 10: 1,000,000 records from the raw store to searchable in <= 5 minutes on the embedded engine "
        "(>= 3,300 records/s: normalize, dedup, analyse, commit); Elasticsearch >= 80% of that rate; "
        "indexer peak RSS <= 1.5 GiB"
    ),
    "reharvest": "incremental re-harvest of an unchanged source <= 5% of a full one",
    "page": "results page <= 60 KB compressed",
    "harvest-speed": "issue 18: harvest fetch >= 3x Sickle on the same pages",
}


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = doc.read_text(encoding="utf-8") if doc.exists() else TITLE
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def _f(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}"


def machine_section() -> str:
    results = [r for prefix in ("corpus", "ingest", "search", "reharvest") for r in load_results(prefix)]
    if not results:
        return "## Machine\n\n(no benchmark has run yet)"
    m = results[-1]["machine"]
    lines = [
        "## Machine",
        "",
        f"- CPU: {m['cpu']} ({m['cores']} cores), {m['memory_gib']} GiB RAM, {m['os']}, Python {m['python']}",
        "- Shared with other work: every table puts our number and the raw engine's side by side, "
        "measured in the same run, alternating, so both see the same noise.",
        "- Elasticsearch: the single local node at http://127.0.0.1:9200 (1 shard, 0 replicas).",
        "- Regenerate: `python -m bench.run all` (bounded: each step has a time budget; progress on stderr). "
        "Results as JSON: bench/results/.",
    ]
    return "\n".join(lines)


def corpus_section() -> str:
    results = load_results("corpus")
    if not results:
        return "## Corpus generation\n\n(not measured yet: `python -m bench.run corpus --size 1000000`)"
    lines = [
        "## Corpus generation (fedsearch_app/corpus)",
        "",
        "Streaming: one work at a time, written straight to the four partner files; memory does not grow with size.",
        "",
        "| records | time | records/s | peak RSS | repository / catalogue / dissertations / patents | duplicate pairs |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda x: x["size"]):
        p = r["records_by_partner"]
        lines.append(
            f"| {r['size']:,} | {r['seconds']:.0f}s | {r['size'] / r['seconds']:,.0f} | {r['peak_rss_mib']:.0f} MiB "
            f"| {p['oai']:,} / {p['sru']:,} / {p['csv']:,} / {p['patents']:,} | {r['duplicate_pairs']:,} |"
        )
    lines += [
        "",
        "Command: `python -m bench.run corpus --size N` (or `python -m fedsearch_app.corpus --size N --out DIR`).",
    ]
    return "\n".join(lines)


INGEST_RATE = 3300  # records/s (issue 10)
INGEST_ES_SHARE = 0.8
INGEST_RSS_MIB = 1536


def _stages(stages: dict[str, float]) -> str:
    names = ("normalize", "dedup", "analyse", "engine")
    total = sum(stages.get(k, 0.0) for k in names) or 1.0
    split = " / ".join(f"{stages.get(k, 0.0):,.0f}s ({stages.get(k, 0.0) / total:.0%})" for k in names)
    if stages.get("normalize_cpu"):
        split += f" (+ {stages['normalize_cpu']:,.0f}s normalizing in worker processes, alongside)"
    return split


def _ingest_rows(r: dict[str, Any]) -> list[str]:
    lines = [
        "| engine | records/s (raw store -> searchable) | works | raw engine bulk (same docs, pre-built) "
        "| works/s / raw | normalize / dedup / analyse / engine | indexer peak RSS | reindex |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rates = {}
    for engine, e in r["engines"].items():
        ix = e["index"]
        rates[engine] = e["records_per_s"]
        reindex = f"{e['reindex_per_s']:,.0f}/s" if e.get("reindex_per_s") else "-"
        cpu = f", {ix['cpu_seconds']:,.0f} CPU-s" if ix.get("cpu_seconds") else ""
        if e.get("raw"):
            raw = (
                f"{e['raw_per_s']:,.0f}/s ({e['raw']['documents']:,} in {e['raw']['seconds']:.1f}s) | {e['ratio']:.1%}"
            )
        else:
            raw = "not run at this size (see the notes) | -"
        lines.append(
            f"| {engine} | **{e['records_per_s']:,.0f}/s** ({ix['records']:,} in {ix['seconds']:.0f}s{cpu}) "
            f"| {ix['searchable']:,} | {raw} | {_stages(ix['stages'])} | {ix['peak_rss_mib']:.0f} MiB | {reindex} |"
        )
    verdict = []
    if "embedded" in rates:
        verdict.append(
            f"embedded {rates['embedded']:,.0f} records/s: {'met' if rates['embedded'] >= INGEST_RATE else 'missed'} "
            f"(target {INGEST_RATE:,}/s)"
        )
    if "embedded" in rates and "elasticsearch" in rates:
        share = rates["elasticsearch"] / rates["embedded"]
        verdict.append(
            f"Elasticsearch at {share:.0%} of embedded: {'met' if share >= INGEST_ES_SHARE else 'missed'} "
            f"(target {INGEST_ES_SHARE:.0%})"
        )
    worst = max(e["index"]["peak_rss_mib"] for e in r["engines"].values())
    verdict.append(
        f"peak RSS {worst:,.0f} MiB: {'met' if worst <= INGEST_RSS_MIB else 'missed'} (target {INGEST_RSS_MIB:,} MiB)"
    )
    return lines + ["", "Issue 10 at this size: " + "; ".join(verdict) + ".", ""]


def _legacy_ingest_rows(r: dict[str, Any]) -> list[str]:
    """Results from before issue 10 (full harvest through the partners, no stage times)."""
    lines = [
        "Before issue 10's measure: the full harvest through the partners, fetch included.",
        "",
        "| engine | ingest (partners -> searchable) | raw engine bulk (same docs, pre-built) | ingest / raw | reindex (raw store -> searchable) | indexer peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for engine, e in r["engines"].items():
        reindex = f"{e['reindex_per_s']:,.0f}/s ({e['reindex_ratio']:.1%} of raw)" if "reindex_per_s" in e else "-"
        lines.append(
            f"| {engine} | {e['ingest_per_s']:,.0f}/s ({e['full']['searchable']:,} in {e['full']['seconds']:.0f}s) "
            f"| {e['raw_per_s']:,.0f}/s ({e['raw']['documents']:,} in {e['raw']['seconds']:.1f}s) "
            f"| **{e['ratio']:.1%}** | {reindex} | {e['full']['peak_rss_mib']:.0f} MiB |"
        )
    return lines + [""]


def ingest_section() -> str:
    results = load_results("ingest")
    if not results:
        return "## Ingest\n\n(not measured yet: `python -m bench.run ingest --size 1000000`)"
    lines = [
        "## Ingest: raw partner formats to searchable records",
        "",
        f"Target: {TARGETS['ingest']}.",
        "",
        "Records/s counts raw records (before dedup merges copies into works); the stage columns say where the "
        "index step's time went (indexers/timings.py: dedup includes the index state and raw-store bookkeeping; "
        "analyse is building index documents; engine is the engine's own writes and commits).",
        "",
    ]
    for r in sorted(results, key=lambda x: x["size"]):
        load = r.get("machine", {}).get("load_avg")
        loaded = f" at load average {load[0]:.1f} on {r['machine'].get('cores')} cores" if load else ""
        lines += [
            f"Corpus: {r['corpus_records']:,} records ({', '.join(r['sources'])}), measured {r['measured_at']}{loaded}. "
            f"Command: `{r['command']}`",
            "",
        ]
        f = r["fetch"]
        current = r.get("kind") == "raw-store"
        lines += [
            f"Fetch (connectors into the raw store, all partners over their protocols"
            f"{'; not part of the rate below' if current else ''}): "
            f"{f['records']:,} records in {f['seconds']:.1f}s = {f['records'] / f['seconds']:,.0f}/s.",
            "",
        ]
        lines += _ingest_rows(r) if current else _legacy_ingest_rows(r)
    lines.append(_notes("ingest"))
    return "\n".join(lines)


# Issue 18's targets at 1M: (engine, clients) -> (measure, limit); p50 is ours/reference, req/s is ours/reference.
SEARCH_TARGETS = {
    ("embedded", 1): ("p50", 2.0),
    ("embedded", 8): ("req/s", 0.6),
    ("elasticsearch", 1): ("p50", 1.3),
    ("elasticsearch", 8): ("p50", 1.3),
}


def _verdict(engine: str, conc: int, ratio: dict[str, Any]) -> str:
    measure, limit = SEARCH_TARGETS[(engine, conc)]
    if measure == "p50":
        return f"p50 <= {limit}x: {'met' if ratio['p50'] <= limit else 'missed'}"
    share = ratio.get("throughput") or 0.0
    return f"req/s >= {limit}x: {'met' if share >= limit else 'missed'}"


def search_section() -> str:
    results = [r for r in load_results("search") if r.get("reference")]  # issue 18's side-by-side format
    if not results:
        return "## Search\n\n(not measured yet: `python -m bench.run search --sizes 100000,1000000`)"
    intro = (
        "Each request asks for 20 hits and the facets source, type, year, language, subject. The reference is the "
        "same engine answering the same query over HTTP: for Elasticsearch its REST `_search` with the JSON body "
        "our adapter sends; for tantivy the bare endpoint (bench/bareapi.py), a pure ASGI app under the same uvicorn "
        "with the same worker count, running the Query objects EmbeddedEngine builds, returning the stored records "
        "and facets as JSON. Latency is measured at the client; passes of both sides alternate in random order "
        "in one run, so they share the machine's noise. Targets (issue 18, at 1M): embedded p50 <= 2x the bare "
        "endpoint with 1 client and >= 0.6x its requests/s with 8; Elasticsearch p50 <= 1.3x raw `_search` with 1 and 8."
    )
    lines = ["## Search: /api/v1/search beside the same engine behind bare HTTP", "", intro, ""]
    for size in sorted({r["size"] for r in results}):
        rows = sorted((r for r in results if r["size"] == size), key=lambda x: x["engine"])
        header = (
            "| engine | clients | API p50 / p95 ms | reference p50 / p95 ms | API/ref p50 | API req/s | ref req/s "
            "| API/ref req/s | target |"
        )
        lines += [f"### {size:,}-record corpus", "", header, "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            res = r["results"]
            for conc in (1, 8):
                a, b, ratio = res.get(f"api-c{conc}"), res.get(f"ref-c{conc}"), res.get(f"ratio-c{conc}")
                if not a or not b:
                    continue
                lines.append(
                    f"| {r['engine']} ({r['searchable']:,}) | {conc} | {a['p50']:.1f} / {a['p95']:.1f} "
                    f"| {b['p50']:.1f} / {b['p95']:.1f} | **{ratio['p50']:.2f}x** | {a['throughput']:.0f} "
                    f"| {b['throughput']:.0f} | **{_f(ratio.get('throughput'), 2)}x** | {_verdict(r['engine'], conc, ratio)} |"
                )
        lines.append("")
        for r in rows:
            lines.append(
                f"- {r['engine']}: reference {r['reference']}; {r['workers']} server worker processes each side; "
                f"{r['rounds']} rounds x 2 concurrencies x 2 sides over {r['queries']} queries; "
                f"{r['count_mismatches']} of {r['queries']} queries counted differently; load average "
                f"{r['load_avg_before'][0]:.1f} before, {r['load_avg_after'][0]:.1f} after (2 cores, shared); "
                f"index: {_built(r.get('build') or {})}; peak RSS of the largest API worker "
                f"{_f(r.get('worker_peak_rss_mib'), 0)} MiB; measured {r['measured_at']}."
            )
        cmds = sorted({r["command"] for r in rows})
        lines += ["", "Command: " + "; ".join(f"`{c}`" for c in cmds), ""]
    lines += ["What the API does that its reference does not (both engines unless named):", ""]
    seen: list[str] = []
    for r in sorted(results, key=lambda x: x["engine"]):
        for d in r["work_differences"]:
            if d not in seen:
                seen.append(d)
                only = "" if all(d in x["work_differences"] for x in results) else f" ({r['engine']} only)"
                lines.append(f"- {d}{only}")
    lines += ["- neither side compresses (the clients send `Accept-Encoding: identity`) or writes an access log", ""]
    lines.append(_notes("search"))
    return "\n".join(lines)


def _built(b: dict[str, Any]) -> str:
    if b.get("reused"):
        if b.get("reused") == "ingest index step":
            return "the ingest benchmark's index step (`indexers.pipeline.index_changes` on the harvested raw store, with dedup)"
        return "the ingest benchmark's full harvest through the partners and `indexers.pipeline.harvest` (with dedup)"
    if b.get("copied_from"):
        return f"the {b['copied_from']} index's merged records written with `engine.rebuild`"
    if b.get("dedup") is False:
        return "records normalized by `indexers.normalize` in worker processes, written with `engine.rebuild` (no dedup step)"
    return "raw store filled from the corpus files, then `indexers.pipeline.reindex` (with dedup)"


def memory_section() -> str:
    ingest, search = load_results("ingest"), load_results("search")
    if not ingest and not search:
        return "## Memory\n\n(not measured yet)"
    lines = [
        "## Memory: peak resident set (VmHWM / ru_maxrss)",
        "",
        "| process | engine | records | peak RSS |",
        "|---|---|---|---|",
    ]
    for r in ingest:
        for engine, e in r["engines"].items():
            if "index" in e:
                lines.append(
                    f"| indexer: index step from the raw store (`indexers.pipeline.index_changes`) | {engine} "
                    f"| {e['index']['searchable']:,} | {e['index']['peak_rss_mib']:.0f} MiB |"
                )
            if "harvest" in e or "full" in e:
                full = e.get("harvest") or e["full"]
                lines.append(
                    f"| indexer: full harvest (`indexers.pipeline.harvest`) | {engine} | {full['searchable']:,} | {full['peak_rss_mib']:.0f} MiB |"
                )
            if e.get("reindex"):
                lines.append(
                    f"| indexer: reindex from the raw store | {engine} | {e['reindex']['searchable']:,} | {e['reindex']['peak_rss_mib']:.0f} MiB |"
                )
    for r in load_results("reharvest"):
        lines.append(
            f"| indexer: full harvest of one OAI-PMH source (reharvest benchmark) | {r['engine']} | {r['full']['searchable']:,} | {r['full']['peak_rss_mib']:.0f} MiB |"
        )
    for r in sorted(search, key=lambda x: (x["engine"], x["size"])):
        b = r.get("build") or {}
        if not b.get("reused") and not b.get("copied_from") and b.get("dedup") is not False and b.get("peak_rss_mib"):
            lines.append(
                f"| indexer: `indexers.pipeline.reindex` (search index build) | {r['engine']} | {b['searchable']:,} | {b['peak_rss_mib']:.0f} MiB |"
            )
        lines.append(
            f"| server (`fedsearch_app.app.serve`) after the search benchmark | {r['engine']} | {r['searchable']:,} | {_f(r.get('server_peak_rss_mib'), 0)} MiB |"
        )
    lines += [
        "",
        "Elasticsearch's own JVM is not counted (it runs as a separate service). Index builds done by "
        "benchmark helpers (copying one engine's records into the other, the parallel 1M build) are left out: "
        "they measure bench/ code, not fedsearch.",
        "",
        _notes("memory"),
    ]
    return "\n".join(lines)


def reharvest_section() -> str:
    results = load_results("reharvest")
    if not results:
        return "## Incremental re-harvest\n\n(not measured yet: `python -m bench.run reharvest`)"
    lines = [
        "## Incremental re-harvest of an unchanged source",
        "",
        f"Target: {TARGETS['reharvest']}.",
        "",
        "| source | engine | records | full harvest | incremental (median) | ratio | same count after |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| repository, OAI-PMH (pyoai) | {r['engine']} | {r['records']:,} | {r['full_seconds']:.1f}s "
            f"| {r['incremental_seconds']:.2f}s | **{r['ratio']:.3%}** | {'yes' if r['same_count'] else 'NO'} |"
        )
    lines += [
        "",
        "Commands: " + "; ".join(sorted({"`" + r["command"] + "`" for r in results})),
        "",
        _notes("reharvest"),
    ]
    return "\n".join(lines)


def dedup_truth_section() -> str:
    results = load_results("dedup-truth")
    if not results:
        return "## Dedup against the corpus's truth\n\n(not measured yet: `python -m bench.run dedup-truth`)"
    lines = [
        "## Dedup against the corpus's truth",
        "",
        "The ingest benchmark's clusters (full pipeline, embedded run) scored pairwise against "
        "truth/duplicates.csv, the works the generator put in both the repository and the catalogue. "
        "(bench/dedup_eval.py scores the hand-labeled set; this is the synthetic one.)",
        "",
        "| records | works | true pairs | predicted pairs | found | precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['records']:,} | {r['works']:,} | {r['true_pairs']:,} | {r['predicted_pairs']:,} | {r['found']:,} "
            f"| {r['precision']:.1%} | {r['recall']:.1%} |"
        )
    r = results[-1]
    lines += [
        "",
        f"Wrong merges by sources: {', '.join(f'{k}: {v:,}' for k, v in sorted(r['wrong_by_sources'].items(), key=lambda kv: -kv[1]))}.",
        f"Missed pairs by variation: {r['missed_by_variation'] or 'none'}.",
        "",
        "Examples of wrong merges:",
    ]
    for pair in r["wrong_examples"]:
        lines.append("- " + "  /  ".join(pair))
    lines += ["", f"Command: `{r['command']}`", "", _notes("dedup-truth")]
    return "\n".join(lines)


def page_section() -> str:
    return (
        "## Results page\n\nServer time and bytes of the HTML results page are measured by "
        "`bench/page_weight.py` (its own section of this file). Target: " + TARGETS["page"] + "."
    )


_CLIENT_ROWS = [
    ("transport", "raw transport: httpx keep-alive, bytes read, token found by a regular expression, no XML parsing"),
    ("sickle", "Sickle 0.7 `ListRecords` iterator (requests; parses each page, a Record with a metadata dict each)"),
    ("sickle-keepalive", "Sickle 0.7, its requests on one `requests.Session` (keep-alive, like ours)"),
    ("ours-parse", "ours, fetch+parse: the OAI-PMH connector's RawRecords (payload bytes cut out), nothing stored"),
    ("ours-store", "ours, fetch+parse+store: `harvest_source` into a fresh raw store, one transaction a page"),
    ("base-parse", "before (baseline tree), fetch+parse"),
    ("base-store", "before (baseline tree), fetch+parse+store"),
]


def harvest_speed_section() -> str:
    results = load_results("harvest-speed")
    if not results:
        return "## Harvest fetch speed\n\n(not measured yet: `python -m bench.run harvest-speed`)"
    r = results[-1]
    rows = r["clients"]
    sickle = rows.get("sickle", {}).get("records_per_s")
    keepalive = rows.get("sickle-keepalive", {}).get("records_per_s")
    lines = [
        "## Harvest fetch speed: ours against Sickle on the same pages",
        "",
        f"Target: {TARGETS['harvest-speed']}.",
        "",
        (
            f"One page server (bench/oai_pages.py, its own process, asyncio, HTTP/1.1 keep-alive) serves the same "
            f"{r['records']:,} oai_dc records in {r['pages']} ListRecords pages ({r['bytes'] / 1e6:.1f} MB) to every "
            f"client; each of {r['rounds']} rounds runs every client once, in turn; medians."
        ),
        "",
        "| client | records/s (median) | x Sickle | x Sickle keep-alive | records per CPU s (median) | runs (s) |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in _CLIENT_ROWS:
        if key not in rows:
            continue
        c = rows[key]
        ratio = f"**{c['records_per_s'] / sickle:.2f}x**" if sickle and key != "transport" else "-"
        ratio_ka = f"{c['records_per_s'] / keepalive:.2f}x" if keepalive and key != "transport" else "-"
        runs = ", ".join(f"{t:.2f}" for t in c["all_seconds"])
        per_cpu = f"{c['records_per_cpu_s']:,.0f}" if "records_per_cpu_s" in c else "-"
        lines.append(f"| {label} | {c['records_per_s']:,.0f} | {ratio} | {ratio_ka} | {per_cpu} | {runs} |")
    lines += [
        "",
        f"Measured {r['measured_at']} UTC. Command: `{r['command']}`"
        + (f" (baseline: {r['baseline']})" if r.get("baseline") else ""),
        "",
        _notes("harvest-speed"),
    ]
    return "\n".join(lines)


NOTES = ROOT / "bench" / "notes"


def _notes(name: str) -> str:
    """Hand-written analysis (why a target is missed, what would close it): bench/notes/<name>.md."""
    path = NOTES / f"{name}.md"
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


SECTIONS = {
    "machine": machine_section,
    "corpus": corpus_section,
    "ingest": ingest_section,
    "search": search_section,
    "memory": memory_section,
    "reharvest": reharvest_section,
    "dedup-truth": dedup_truth_section,
    "page": page_section,
    "harvest-speed": harvest_speed_section,
}


def write_all(names: list[str] | None = None) -> None:
    for name in names or list(SECTIONS):
        write_section(name, SECTIONS[name]())
