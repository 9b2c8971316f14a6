"""The cheaper search request path (issue 18): same answers, less work.

Highlights come out exactly as the word-by-word highlighter wrote them; facet counts
of queries without words are kept until the index changes; `fedsearch serve` runs
several worker processes, and only one of them runs the harvest scheduler.
"""

from __future__ import annotations

import html
import math
import os
import signal
import subprocess
import sys
import time

import httpx

from fedsearch import analysis
from fedsearch.config import validate_settings
from fedsearch.engines.base import highlight_text
from fedsearch.engines.embedded import EmbeddedEngine
from fedsearch.engines.query import SearchQuery
from fedsearch.engines.query_syntax import highlight_terms
from search_api import serving
from tests.corpus import CORPUS, rec
from tests.search_api.conftest import build_engine, free_port


def word_by_word(text: str, terms) -> str | None:
    """The highlighter as it was before the per-text token cache: the oracle for identical output."""
    stems, skels, prefixes = terms
    out, pos, matched = [], 0, False
    for m in analysis._WORD_RE.finditer(text):
        word = analysis._APOS_RE.sub("", m.group())
        if not word:
            continue
        if (
            not stems.isdisjoint(analysis.query_stems(word))
            or not skels.isdisjoint(analysis.query_keys(word))
            or any(analysis.fold(word).startswith(p) or analysis.key_prefix(word).startswith(p) for p in prefixes)
        ):
            out += [html.escape(text[pos : m.start()]), f"<mark>{html.escape(m.group())}</mark>"]
            pos, matched = m.end(), True
    out.append(html.escape(text[pos:]))
    return "".join(out) if matched else None


def test_highlights_are_the_same_as_word_by_word_for_every_corpus_text_and_query():
    texts = [t.value for r in CORPUS for t in r.title + r.title_alt + r.abstract]
    texts += [p.name for r in CORPUS for p in r.authors] + [s for r in CORPUS for s in r.subjects]
    texts += ["O'Brien's <b>climate</b> & Бишкек'те", "Айтматов — Aitmatov, Ысык-Көл"]
    queries = ["climate", "Бишкек", "Aitmatov", "айтм*", "климат OR water", '"Ысык-Көл"', "obrien", "көл*"]
    compared = marked = 0
    for q in queries:
        terms = highlight_terms(q)
        for text in texts:
            for _ in range(2):  # the second time from the token cache
                got = highlight_text(text, terms)
                assert got == word_by_word(text, terms), (q, text)
            compared += 1
            marked += got is not None
    assert compared == len(queries) * len(texts) and marked > 10  # the oracle did mark things


def test_facets_of_a_query_without_words_are_cached_until_the_index_changes(tmp_path):
    engine = EmbeddedEngine(tmp_path / "index", writer=True)
    engine.ensure_index()
    engine.upsert(CORPUS)
    engine.refresh()
    browse = SearchQuery(facets=["type", "source"], filters={"language": ["ru"]})
    first = engine.search(browse).facets
    again = engine.search(browse).facets
    assert again == first and engine._facet_cache.hits == 1

    extra = rec("newsrc", "n1", "Новая статья о воде", lang="ru", year=2020)
    engine.upsert([extra])
    engine.refresh()  # a commit: the cached counts are stale
    after = engine.search(browse).facets
    assert {"value": "newsrc", "count": 1} in [v.model_dump() for v in after["source"]]
    assert engine._facet_cache.hits == 1
    # Queries with words always count afresh.
    engine.search(SearchQuery(q="вода", facets=["type"]))
    engine.search(SearchQuery(q="вода", facets=["type"]))
    assert engine._facet_cache.hits == 1
    engine.close()


def test_worker_count_follows_the_configuration(tmp_path):
    config = tmp_path / "fedsearch.yaml"
    from_file = validate_settings({"data_dir": str(tmp_path), "server": {"workers": 3}}, config)
    assert serving.worker_count(from_file) == 3
    assert serving.worker_count(from_file, 1) == 1
    auto = validate_settings({"data_dir": str(tmp_path)}, config)
    assert serving.worker_count(auto) == min(os.cpu_count() or 1, serving.MAX_AUTO_WORKERS)
    in_memory = validate_settings({"data_dir": str(tmp_path), "server": {"workers": 3}})
    assert serving.worker_count(in_memory) == 1  # nothing for worker processes to re-read


def test_only_one_worker_process_runs_the_scheduler(tmp_path):
    settings = validate_settings({"data_dir": str(tmp_path)}, tmp_path / "fedsearch.yaml")
    probe = (
        "import sys; from fedsearch.config import validate_settings; from search_api.serving import may_run_scheduler;"
        f"s = validate_settings({{'data_dir': {str(tmp_path)!r}}}, 'x.yaml');"
        "print(may_run_scheduler(s)); sys.stdout.flush(); sys.stdin.readline()"
    )
    env = {**os.environ, serving.ENV_WORKER: "1"}
    first = subprocess.Popen(
        [sys.executable, "-c", probe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert first.stdout.readline().strip() == "True"
        second = subprocess.run(
            [sys.executable, "-c", probe], check=False, input="\n", capture_output=True, text=True, env=env, timeout=60
        )
        assert second.stdout.strip() == "False"
        assert serving.may_run_scheduler(settings)  # a single-process server (no worker role) always runs it
    finally:
        first.communicate("\n", timeout=60)
    third = subprocess.run(
        [sys.executable, "-c", probe], check=False, input="\n", capture_output=True, text=True, env=env, timeout=60
    )
    assert third.stdout.strip() == "True"  # the lock went with the process that held it


def test_fedsearch_serve_with_two_workers_answers_from_both_and_stops_on_sigterm(tmp_path):
    engine, _ = build_engine("embedded", tmp_path, None)
    engine.close()
    config = tmp_path / "fedsearch.yaml"
    config.write_text(
        f"engine: embedded\ndata_dir: {tmp_path}\nserver:\n  rate_limit_per_minute: 3\n", encoding="utf-8"
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fedsearch_app.cli",
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.2)
        totals, statuses = set(), []
        started = time.monotonic()
        for _ in range(10):  # fresh connections: the kernel spreads them over the workers
            with httpx.Client(base_url=base) as c:
                r = c.get("/api/v1/search", params={"q": "climate"})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    totals.add(r.json()["total"])
        refilled = math.ceil((time.monotonic() - started) / 20)  # 3 a minute: one token per 20 s
        assert totals == {2}
        # One limit for the server, not one per worker (which would let 3 per worker through).
        assert 3 <= statuses.count(200) <= 3 + refilled and set(statuses) == {200, 429}, statuses
        workers = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], check=False, capture_output=True, text=True
        ).stdout.split()
        assert len(workers) >= 2, workers
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0


def test_workers_share_one_rate_limit_table(tmp_path):
    from search_api.sharedlimit import SharedTokenBuckets, create

    path = create()
    try:
        clock = [100.0]
        a = SharedTokenBuckets(path, 3, clock=lambda: clock[0])  # two workers' views of one file
        b = SharedTokenBuckets(path, 3, clock=lambda: clock[0])
        assert [a.take("198.51.100.7"), b.take("198.51.100.7"), a.take("198.51.100.7")] == [0.0, 0.0, 0.0]
        assert b.take("198.51.100.7") == 20.0  # the 4th anywhere waits for a token (3 a minute: 20 s)
        assert b.take("198.51.100.8") == 0.0  # another client has its own bucket
        clock[0] += 20
        assert a.take("198.51.100.7") == 0.0
        a.close()
        b.close()
    finally:
        path.unlink()


def test_a_query_text_is_compiled_once_and_answers_the_same(tmp_path):
    from fedsearch.engines.query import _parsed

    engine = EmbeddedEngine(tmp_path / "index", writer=True)
    engine.ensure_index()
    engine.upsert(CORPUS)
    engine.refresh()
    query = SearchQuery(q="climate OR вода", facets=["type"])
    first = engine.search(query)
    compiled, hits = len(engine._queries), _parsed.cache_info().hits
    again = engine.search(query)
    assert [h.id for h in again.hits] == [h.id for h in first.hits] and again.total == first.total > 0
    assert len(engine._queries) == compiled and _parsed.cache_info().hits > hits
    engine.rebuild(CORPUS)  # a new generation: its own Query objects
    assert engine.search(query).total == first.total and len(engine._queries) > compiled
    engine.close()
