"""The embedded (tantivy) engine: what the conformance suite can't see.

Several processes on one index, the rebuild switch, bulk error reports, sort keys
and tie-breaking on an index of many segments with many equal years, titles and
scores. Everything runs against real tantivy indexes in tmp_path.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from fedsearch.engines import SearchQuery, embedded
from fedsearch.engines.base import EngineError, InvalidCursor, decode_cursor, encode_cursor
from fedsearch.engines.document import title_sort_key
from fedsearch.engines.embedded import EmbeddedEngine, encode_key, id_key, sort_keys
from fedsearch.record import LangText, Record, RecordType, make_record_id
from tests.conftest import ROOT
from tests.corpus import CORPUS, rec


def run_python(code: str, *args: str, timeout: float = 60) -> str:
    """Run `code` in a separate Python process (the other side of the index)."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"the other process failed:\n{proc.stderr}"
    return proc.stdout


def total(engine: EmbeddedEngine, q: str = "") -> int:
    return engine.search(SearchQuery(q=q, per_page=1)).total


# --- keys ------------------------------------------------------------------------------


def test_encoded_keys_keep_byte_order():
    rng = random.Random(1)
    values = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 10))) for _ in range(3000)]
    values += [b"", b"\x00", b"\x00\x00", b"a", b"a\x00", b"ab", b"\xff"]
    assert sorted(values) == sorted(values, key=encode_key)
    assert len({encode_key(v) for v in values}) == len(set(values))


def test_id_keys_keep_string_order_up_to_80_characters():
    rng = random.Random(2)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-"
    ids = []
    for _ in range(3000):
        source = rng.choice("abc") + "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 63)))
        ids.append(f"{source}-{rng.getrandbits(64):016x}")
    ids += ["a-0000000000000000", "a-b-0000000000000000", "a_-0000000000000000", "ab-0000000000000000"]
    assert all(len(i) <= 80 for i in ids)
    assert sorted(ids) == sorted(ids, key=id_key)


def test_sort_keys_order_like_the_sorts():
    docs = [
        ("b-0000000000000001", 2001, "x"),
        ("a-0000000000000001", 2001, "x y"),
        ("c-0000000000000001", None, ""),
        ("a-0000000000000002", 1999, "x"),
        ("b-0000000000000002", None, "x"),
    ]
    by = {
        k: sorted(docs, key=lambda d: sort_keys(d[0], d[1], d[2])[k])
        for k in ("sort_newest", "sort_oldest", "sort_title")
    }
    assert [d[0] for d in by["sort_newest"]] == [
        "a-0000000000000001",
        "b-0000000000000001",
        "a-0000000000000002",
        "b-0000000000000002",
        "c-0000000000000001",
    ]
    assert [d[0] for d in by["sort_oldest"]] == [
        "a-0000000000000002",
        "a-0000000000000001",
        "b-0000000000000001",
        "b-0000000000000002",
        "c-0000000000000001",
    ]
    assert [d[0] for d in by["sort_title"]] == [
        "c-0000000000000001",
        "a-0000000000000002",
        "b-0000000000000001",
        "b-0000000000000002",
        "a-0000000000000001",
    ]


# --- ties, many segments, paging ---------------------------------------------------------

LONG_SOURCE = "national-library-of-the-kyrgyz-republic-electronic-catalogue-x"  # 62 characters: 79-character ids


def tie_records() -> list[Record]:
    """150 records with 2 years (and none), 3 titles, 4 sources (one very long): ties everywhere."""
    out = []
    titles = ["Сборник трудов", "Сборник трудов института", "Alpha сборник beta gamma"]
    for n in range(150):
        source = ["aa", "aa-b", "knu-repository", LONG_SOURCE][n % 4]
        out.append(
            rec(
                source,
                f"item:{n}",
                titles[n % 3],
                year=[2001, 2002, None][n % 5 % 3],
                subjects=(f"s{n % 7}", "shared"),
                lang=["ru", "en"][n % 2],
            )
        )
    return out


@pytest.fixture(scope="module")
def tie_engine(tmp_path_factory: pytest.TempPathFactory):
    engine = EmbeddedEngine(tmp_path_factory.mktemp("ties") / "index", writer=True)
    records = tie_records()
    for start in range(0, len(records), 40):  # four commits: four segments at least
        assert engine.upsert(records[start : start + 40]).errors == []
        engine.refresh()
    yield engine, records
    engine.close()


def walk(engine: EmbeddedEngine, **kw) -> list[str]:
    out, cursor = [], None
    for _ in range(200):
        page = engine.search(SearchQuery(per_page=7, cursor=cursor, highlight=False, **kw))
        out += [h.id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            return out
    raise AssertionError("the cursor never ends")


def pages(engine: EmbeddedEngine, per_page: int = 9, **kw) -> list[str]:
    out = []
    for page in range(1, 100):
        result = engine.search(SearchQuery(per_page=per_page, page=page, highlight=False, **kw))
        out += [h.id for h in result.hits]
        if not result.hits:
            return out
    raise AssertionError("too many pages")


def test_index_has_several_segments(tie_engine):
    engine, _ = tie_engine
    assert int(engine.health().detail.split("(")[1].split()[0]) > 1


@pytest.mark.parametrize("skip_ahead", [False, True], ids=["direct", "skip-ahead"])
@pytest.mark.parametrize("sort", ["newest", "oldest", "title"])
def test_field_sorts_break_ties_by_id_across_segments(tie_engine, sort, skip_ahead, monkeypatch):
    engine, records = tie_engine
    if skip_ahead:  # deep pages skip ahead on numeric columns: make every page deep
        monkeypatch.setattr(embedded.ordering, "DIRECT_OFFSET", 0)
    key = {
        "newest": lambda r: (r.year is None, -(r.year or 0), r.id),
        "oldest": lambda r: (r.year is None, r.year or 0, r.id),
        "title": lambda r: (title_sort_key(r), r.id),
    }[sort]
    expected = [r.id for r in sorted(records, key=key)]
    assert pages(engine, sort=sort) == expected
    assert walk(engine, sort=sort) == expected


@pytest.mark.parametrize("skip_ahead", [False, True], ids=["direct", "skip-ahead"])
@pytest.mark.parametrize("q", ["сборник", "сборник OR gamma", "сбор*", "", "NOT gamma"])
def test_relevance_breaks_equal_scores_by_id(tie_engine, q, skip_ahead, monkeypatch):
    engine, records = tie_engine
    if skip_ahead:
        monkeypatch.setattr(embedded.ordering, "DIRECT_OFFSET", 0)
    full = []
    for page in range(1, 10):
        result = engine.search(SearchQuery(q=q, per_page=20, page=page, highlight=False))
        full += [(h.score, h.id) for h in result.hits]
        if result.next_cursor is None:
            break
    assert len(full) == result.total and len({i for _, i in full}) == len(full)
    assert full == sorted(full, key=lambda si: (-si[0], si[1])), "score descending, then id ascending"
    if q in ("сборник", "сбор*", ""):
        assert len(full) == len(records)
    assert len({s for s, _ in full}) < len(full) / 10, "the test needs big groups of equal scores"
    ids = [i for _, i in full]
    assert walk(engine, q=q) == ids
    assert pages(engine, q=q, per_page=4) == ids  # offsets well past the first group


@pytest.mark.parametrize("skip_ahead", [False, True], ids=["direct", "skip-ahead"])
def test_ids_longer_than_the_id_keys_still_order_exactly(tmp_path: Path, skip_ahead, monkeypatch):
    if skip_ahead:
        monkeypatch.setattr(embedded.ordering, "DIRECT_OFFSET", 0)
    engine = EmbeddedEngine(tmp_path / "index", writer=True)
    base = rec("x", "1", "Одинаковое заглавие", year=2000)
    rng = random.Random(3)
    records = [base.model_copy(update={"id": "x" * 85 + f"-{rng.getrandbits(64):016x}"}) for _ in range(12)]
    records += [base.model_copy(update={"id": "x" * 84 + f"y-{rng.getrandbits(64):016x}"}) for _ in range(3)]
    for start in range(0, len(records), 5):
        engine.upsert(records[start : start + 5])
        engine.refresh()
    expected = sorted(r.id for r in records)
    for q in ("заглавие", ""):
        assert walk(engine, q=q) == expected
        assert pages(engine, q=q, per_page=4) == expected
    assert pages(engine, sort="newest", per_page=4) == expected
    engine.close()


@pytest.mark.parametrize(
    "sort, values",
    [
        ("title", ["k TO *} OR id:{a"]),
        ("title", [None]),
        ("newest", [2020, "knu-0000000000000000"]),
        ("relevance", [1.0, "Not an id", 0]),
        ("relevance", [1.0, "knu-0000000000000000"]),
        ("relevance", ["1", "a", 0]),
    ],
)
def test_forged_cursors_are_refused(tie_engine, sort, values):
    engine, _ = tie_engine
    with pytest.raises(InvalidCursor):
        engine.search(SearchQuery(q="сборник", sort=sort, cursor=encode_cursor(sort, values)))


def test_a_cursor_position_past_the_end_is_only_a_hint(tie_engine):
    engine, records = tie_engine
    first = engine.search(SearchQuery(q="сборник", per_page=5))
    score, record_id, _ = decode_cursor(first.next_cursor, "relevance")
    forged = encode_cursor("relevance", [score, record_id, 10**15])
    second = engine.search(SearchQuery(q="сборник", per_page=5, cursor=forged))
    again = engine.search(SearchQuery(q="сборник", per_page=5, cursor=first.next_cursor))
    assert [h.id for h in second.hits] == [h.id for h in again.hits] and len(again.hits) == 5


def test_facets_order_ties_by_value_across_segments(tie_engine):
    engine, records = tie_engine
    result = engine.search(SearchQuery(q="сборник", facets=["subject", "source", "year"], facet_size=3, per_page=1))
    counts = Counter(s for r in records for s in set(r.subjects))
    assert [(f.value, f.count) for f in result.facets["subject"]] == sorted(
        counts.items(), key=lambda kv: (-kv[1], kv[0])
    )[:3]
    sources = Counter(r.source for r in records)
    assert [(f.value, f.count) for f in result.facets["source"]] == sorted(
        sources.items(), key=lambda kv: (-kv[1], kv[0])
    )[:3]
    years = Counter(str(r.year) for r in records if r.year)
    assert [(f.value, f.count) for f in result.facets["year"]] == sorted(years.items(), key=lambda kv: (-kv[1], kv[0]))


def test_facet_counts_are_exact_when_a_value_is_below_each_segments_top(tmp_path: Path):
    # In each of ten segments "y" (2 records) ranks below a_k and b_k, yet overall it is first.
    engine = EmbeddedEngine(tmp_path / "index", writer=True)
    for k in range(1, 11):
        batch = [rec("seg", f"{k}:y{n}", "x", subjects=("y",)) for n in range(2)]
        batch += [rec("seg", f"{k}:a{n}", "x", subjects=(f"a{k}",)) for n in range(3 + k)]
        batch += [rec("seg", f"{k}:b{n}", "x", subjects=(f"b{k}",)) for n in range(2 + k)]
        engine.upsert(batch)
        engine.refresh()
    assert int(engine.health().detail.split("(")[1].split()[0]) > 1
    for size, top in ((1, [("y", 20)]), (2, [("y", 20), ("a10", 13)])):
        result = engine.search(SearchQuery(facets=["subject"], facet_size=size, per_page=1))
        assert [(f.value, f.count) for f in result.facets["subject"]] == top
    engine.close()


def test_year_filter_and_range_both_belong_to_the_year_facet(tie_engine):
    engine, records = tie_engine
    result = engine.search(
        SearchQuery(
            filters={"year": ["2001"], "language": ["en"]}, year_from=2002, facets=["year", "language"], per_page=1
        )
    )
    assert result.total == 0  # 2001 and >= 2002: nothing
    en = Counter(str(r.year) for r in records if r.year and "en" in r.languages)
    assert {f.value: f.count for f in result.facets["year"]} == dict(en)
    assert result.facets["language"] == []


# --- processes ---------------------------------------------------------------------------


def test_reader_already_open_sees_commits_of_another_process(tmp_path: Path):
    path = tmp_path / "index"
    reader = EmbeddedEngine(path)  # a server started before anything was harvested
    assert total(reader) == 0
    run_python(
        """
        import sys
        from pathlib import Path
        from fedsearch.engines.embedded import EmbeddedEngine
        from tests.corpus import CORPUS
        engine = EmbeddedEngine(Path(sys.argv[1]), writer=True)
        assert engine.upsert(CORPUS[:3]).errors == []
        engine.refresh()
        engine.close()
        """,
        str(path),
    )
    assert total(reader) == 3
    assert reader.get(CORPUS[0].id) == CORPUS[0]


def test_writer_commits_reach_a_reader_process_that_stays_open(tmp_path: Path):
    path = tmp_path / "index"
    writer = EmbeddedEngine(path, writer=True)
    writer.ensure_index()
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
            import sys
            from pathlib import Path
            from fedsearch.engines import SearchQuery
            from fedsearch.engines.embedded import EmbeddedEngine
            engine = EmbeddedEngine(Path(sys.argv[1]))
            for line in sys.stdin:
                print(engine.search(SearchQuery(q=line.strip())).total, flush=True)
            """
            ),
            str(path),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:

        def ask(q: str) -> int:
            reader.stdin.write(q + "\n")
            reader.stdin.flush()
            return int(reader.stdout.readline())

        assert ask("") == 0
        writer.upsert(CORPUS)
        assert ask("") == 0, "not committed yet"
        writer.refresh()
        assert ask("") == len(CORPUS)
        assert writer.delete([CORPUS[3].id]) == 1
        writer.refresh()
        assert ask("climate") == 1
        writer.rebuild(CORPUS[:2])
        assert ask("") == 2
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
        writer.close()
    assert reader.returncode == 0


def test_rebuild_in_another_process_switches_readers_and_removes_the_old_index(tmp_path: Path):
    path = tmp_path / "index"
    reader = EmbeddedEngine(path)
    reader.ensure_index()
    writer_code = """
        import sys
        from pathlib import Path
        from fedsearch.engines.embedded import EmbeddedEngine
        from tests.corpus import CORPUS
        engine = EmbeddedEngine(Path(sys.argv[1]), writer=True)
        start, stop = int(sys.argv[2]), int(sys.argv[3])
        report = engine.rebuild(CORPUS[start:stop])
        assert report.indexed == stop - start and report.errors == []
        engine.close()
    """
    run_python(writer_code, str(path), "0", "10")
    assert total(reader) == 10
    first = (path / "CURRENT").read_text().strip()
    run_python(writer_code, str(path), "10", "13")
    assert total(reader) == 3
    assert reader.get(CORPUS[0].id) is None and reader.get(CORPUS[11].id) == CORPUS[11]
    generations = sorted(p.name for p in path.iterdir() if p.is_dir())
    assert generations == [(path / "CURRENT").read_text().strip()] and first not in generations


def test_one_writer_at_a_time(tmp_path: Path):
    first = EmbeddedEngine(tmp_path / "index", writer=True)
    first.upsert(CORPUS[:1])
    second = EmbeddedEngine(tmp_path / "index", writer=True)
    with pytest.raises(EngineError, match="only one writer"):
        second.upsert(CORPUS[1:2])
    first.close()
    assert second.upsert(CORPUS[1:2]).indexed == 1  # free once the first one closed
    second.refresh()
    assert total(second) == 2
    second.close()


def test_read_only_engine_refuses_writes(tmp_path: Path):
    reader = EmbeddedEngine(tmp_path / "index")
    for write in (lambda: reader.upsert(CORPUS[:1]), lambda: reader.delete(["x"]), lambda: reader.rebuild(CORPUS[:1])):
        with pytest.raises(EngineError, match="read-only"):
            write()


# --- writes ------------------------------------------------------------------------------


def test_bulk_report_names_every_rejected_record(tmp_path: Path):
    engine = EmbeddedEngine(tmp_path / "index", writer=True)
    good = CORPUS[:3]
    long_id = Record(id="a" * 600 + "-0123456789abcdef", source="a", source_record_id="1", title=[LangText(value="x")])
    no_title = Record.model_construct(**{**CORPUS[4].__dict__, "id": make_record_id("knu", "broken"), "title": []})
    invalid = {**CORPUS[5].model_dump(), "id": "Not An Id", "year": 99999}
    report = engine.upsert([good[0], long_id, good[1], no_title, invalid, "not a record", good[2]])
    assert report.indexed == 3
    reasons = {e.id: e.reason for e in report.errors}
    assert set(reasons) == {long_id.id, no_title.id, "Not An Id", "?"}
    assert "512 bytes" in reasons[long_id.id]
    assert "could not build its index document" in reasons[no_title.id]
    assert "not a valid record" in reasons["Not An Id"] and "year" in reasons["Not An Id"]
    assert "not a record" in reasons["?"]
    engine.refresh()
    assert {h.id for h in engine.search(SearchQuery(per_page=50)).hits} == {r.id for r in good}
    engine.close()


def test_upsert_and_delete_before_a_commit(tmp_path: Path):
    engine = EmbeddedEngine(tmp_path / "index", writer=True)
    first = CORPUS[0]
    second = first.model_copy(update={"title": [LangText(value="Второе заглавие", lang="ru")]})
    assert engine.upsert([first, CORPUS[1], second]).indexed == 3  # the same id twice: the last one stays
    assert engine.delete([CORPUS[1].id, CORPUS[1].id, "knu-0000000000000000"]) == 1  # pending writes count
    engine.refresh()
    assert total(engine) == 1
    assert engine.get(first.id).main_title == "Второе заглавие"
    assert engine.delete([CORPUS[1].id]) == 0
    engine.upsert([CORPUS[2]])
    engine.close()  # closing commits what is pending
    reopened = EmbeddedEngine(tmp_path / "index")
    assert total(reopened) == 2


def test_keyword_values_too_long_for_elasticsearch_stay_out_of_facets(tmp_path: Path):
    engine = EmbeddedEngine(tmp_path / "index", writer=True)
    long_subject = "ж" * (embedded.KEYWORD_MAX_CHARS + 1)
    record = rec("knu", "long", "Длинная тема", subjects=(long_subject, "короткая"), type=RecordType.book)
    assert engine.upsert([record]).indexed == 1
    engine.refresh()
    result = engine.search(SearchQuery(facets=["subject"]))
    assert [(f.value, f.count) for f in result.facets["subject"]] == [("короткая", 1)]
    assert engine.get(record.id).subjects[0] == long_subject
    engine.close()


def test_health_of_an_empty_index(tmp_path: Path):
    engine = EmbeddedEngine(tmp_path / "index")
    health = engine.health()
    assert health.reachable and health.documents == 0 and health.last_update is None
    assert engine.count_by_source() == {}
