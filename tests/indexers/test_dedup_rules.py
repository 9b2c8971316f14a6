"""Deduplication you can trust: vetoes, main titles only, generic titles, provenance, the demo's patents."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedsearch.record import Container, Identifiers, LangText, Person, Record, RecordType, make_record_id
from indexers.dedup import Deduplicator, compare, features, hard_conflict, merge
from indexers.dedup.rules import strong_conflict


def rec(
    source: str,
    local: str,
    title: str,
    *,
    authors=("Асанов, Бакыт",),
    year=2019,
    type=RecordType.article,
    lang="ru",
    alt=(),
    **extra,
) -> Record:
    return Record(
        id=make_record_id(source, local),
        source=source,
        source_record_id=local,
        type=type,
        title=[LangText(value=title, lang=lang)],
        title_alt=[LangText(value=v, lang="en") for v in alt],
        authors=[Person(name=a, family=a.split(",")[0]) for a in authors],
        year=year,
        languages=[lang],
        **extra,
    )


def same(a: Record, b: Record) -> bool:
    return compare(features(a), features(b)).same


# ------------------------------------------------------------------ strong identifiers


def test_different_patent_numbers_veto_whatever_the_titles_say():
    a = rec(
        "kyrgyzpatent",
        "KG1202",
        "Способ очистки сточных вод",
        type=RecordType.patent,
        identifiers=Identifiers(patent=["KG1202"]),
    )
    b = rec(
        "library",
        "77",
        "Способ очистки сточных вод",
        type=RecordType.patent,
        identifiers=Identifiers(patent=["KG1265"]),
    )
    d = compare(features(a), features(b))
    assert not d.same and d.reason == "different patent numbers"
    # The same number with a kind code is the same patent, even in upper case from a library.
    c = rec(
        "library",
        "78",
        "СПОСОБ ОЧИСТКИ СТОЧНЫХ ВОД",
        type=RecordType.patent,
        authors=("Сыдыкбаев, К.",),
        identifiers=Identifiers(patent=["KG1202C1"]),
    )
    d = compare(features(a), features(c))
    assert d.same and d.rule == "patent" and d.evidence == "KG1202"


def test_different_register_numbers_veto_and_a_shared_one_merges():
    kw = dict(type=RecordType.dissertation, year=2015)
    a = rec(
        "vak",
        "1",
        "Экономика сельского хозяйства Чуйской области",
        identifiers=Identifiers(register_number=["Д-2015-000001"]),
        **kw,
    )
    b = rec(
        "library",
        "2",
        "Экономика сельского хозяйства Чуйской области",
        identifiers=Identifiers(register_number=["Д-2015-000002"]),
        **kw,
    )
    assert not same(a, b)
    c = rec(
        "library",
        "3",
        "ЭКОНОМИКА СЕЛЬСКОГО ХОЗЯЙСТВА",
        identifiers=Identifiers(register_number=["Д-2015-000001"]),
        **kw,
    )
    assert compare(features(a), features(c)).rule == "register"


def test_a_veto_holds_through_a_third_record():
    """A copy without a number matches both patents; the cluster takes only one of them."""
    kw = dict(type=RecordType.patent, year=2023, authors=("Медведев, Вадим",))
    p1 = rec("kyrgyzpatent", "KG1", "Улей для горного пчеловодства", identifiers=Identifiers(patent=["KG1"]), **kw)
    p2 = rec("kyrgyzpatent", "KG2", "Улей для горного пчеловодства", identifiers=Identifiers(patent=["KG2"]), **kw)
    copy = rec("library", "x", "УЛЕЙ ДЛЯ ГОРНОГО ПЧЕЛОВОДСТВА", **kw)
    for order in itertools.permutations([p1, p2, copy]):
        dedup = Deduplicator()
        for r in order:
            dedup.assign(r)
        assert dedup.cluster_key(p1.id) != dedup.cluster_key(p2.id)


def test_one_source_merges_only_on_a_shared_identifier():
    a = rec("repo", "1", "Баланс массы ледников Тянь-Шаня")
    b = rec("repo", "2", "Баланс массы ледников Тянь-Шаня.")
    assert compare(features(a), features(b)).reason == "same source and no shared identifier"
    doi = Identifiers(doi=["10.1/x"])
    assert same(a.model_copy(update={"identifiers": doi}), b.model_copy(update={"identifiers": doi}))


# ------------------------------------------------------------------ titles


def test_an_alternative_or_translated_title_alone_never_merges():
    shared = ("Untitled draft — без названия", "Mass balance of Tien Shan glaciers")
    a = rec("repo", "1", "Баланс массы ледников Тянь-Шаня: обзор", alt=shared)
    b = rec("elib", "2", "Ледники Тянь-Шаня: баланс массы по новым данным", alt=shared)
    assert not same(a, b)
    english = rec("auca", "3", "Mass balance of Tien Shan glaciers", lang="en")
    assert not same(a, english)  # its main title is another record's alternative title


def test_templated_titles_with_different_subtitles_are_different_works():
    a = rec("repo", "1", "Баланс массы ледников Тянь-Шаня: обзор", authors=("Усубалиев, Р.", "Ким, О."))
    b = rec("elib", "2", "Баланс массы ледников Тянь-Шаня: новые данные", authors=("Усубалиев, Р.", "Ким, О."))
    assert compare(features(a), features(b)).reason == "subtitles differ"
    dropped = rec("knu", "3", "Баланс массы ледников Тянь-Шаня", authors=("Усубалиев, Р.",))
    clusters = Deduplicator().clusters([a, b, dropped])
    assert not any({a.id, b.id} <= {r.id for r in c} for c in clusters)


def test_a_year_apart_needs_corroboration():
    a = rec(
        "repo", "1", "Оценка качества атмосферного воздуха города Бишкек", authors=("Исаев, Э.", "Ли, В."), year=2020
    )
    one_coauthor = rec(
        "elib", "2", "Оценка качества атмосферного воздуха города Бишкек", authors=("Исаев, Э.", "Смит, Дж."), year=2021
    )
    assert not same(a, one_coauthor)
    same_team = rec(
        "elib", "3", "Оценка качества атмосферного воздуха города Бишкек", authors=("Исаев, Э.", "Ли, В."), year=2021
    )
    assert same(a, same_team)
    journal = Container(title="Вестник КРСУ")
    assert same(a.model_copy(update={"container": journal}), one_coauthor.model_copy(update={"container": journal}))


def test_first_authors_must_agree_across_scripts():
    a = rec("repo", "1", "Көп тилдүү билим берүүнүн тарыхы", authors=("Бөкөналиева, Бактыгүл",), lang="ky")
    b = rec("lib", "2", "КӨП ТИЛДҮҮ БИЛИМ БЕРҮҮНҮН ТАРЫХЫ", authors=("Bokonalieva, B. K.",), lang="ky")
    assert same(a, b)
    c = rec("lib", "3", "Көп тилдүү билим берүүнүн тарыхы", authors=("Бөкөнбаев, Т.",), lang="ky")
    assert compare(features(a), features(c)).reason == "first authors differ"
    # One family name, another person: the given names' initials disagree.
    d = Record(
        id=make_record_id("vak", "d"),
        source="vak",
        source_record_id="d",
        title=[LangText(value="Водные ресурсы: история и современность")],
        authors=[Person(name="Токтокулова Мээрим", family="Токтокулова", given="Мээрим")],
        year=2018,
    )
    e = Record(
        id=make_record_id("lib", "e"),
        source="lib",
        source_record_id="e",
        title=[LangText(value="ВОДНЫЕ РЕСУРСЫ : ИСТОРИЯ И СОВРЕМЕННОСТЬ")],
        authors=[Person(name="Токтогулов, Н. З.", family="Токтогулов", given="Н. З.")],
        year=2018,
    )
    assert compare(features(d), features(e)).reason == "first authors differ"
    f = e.model_copy(update={"authors": [Person(name="Toktokulova, M.", family="Toktokulova", given="M.")]})
    assert same(d, f)


def test_a_title_many_authors_use_is_generic():
    people = ["Асанов", "Сыдыкова", "Петров", "Турдубаева"]
    short = [
        rec(f"src{i}", str(i), "Жылдык отчет", authors=(f"{name}, А.",), lang="ky") for i, name in enumerate(people)
    ]
    copy = rec("other", "c", "ЖЫЛДЫК ОТЧЕТ", authors=("Асанов, А.",), lang="ky")
    assert same(short[0], copy)  # alone, the title would do
    clusters = Deduplicator().clusters([*short, copy])
    assert all(len(c) == 1 for c in clusters)  # four people use it: only an identifier joins records under it
    assert not same(rec("a", "1", "Аннотация"), rec("b", "2", "Аннотация"))  # and some titles are generic anyway

    # A descriptive title many use still joins the same authors' copies of one year, and nothing else.
    title = "Энергетическая безопасность: состояние и перспективы"
    works = [rec(f"src{i}", str(i), title, authors=(f"{name}, А.", "Ким, О.")) for i, name in enumerate(people)]
    same_team = rec("other", "c", title.upper(), authors=("Асанов, А.", "Ким, О."))
    one_coauthor = rec("other2", "d", title, authors=("Асанов, А.", "Ли, В."))
    clusters = {frozenset(r.id for r in c) for c in Deduplicator().clusters([*works, same_team, one_coauthor])}
    assert frozenset({works[0].id, same_team.id}) in clusters
    assert frozenset({one_coauthor.id}) in clusters


def test_different_edition_statements_keep_records_apart():
    a = rec("lib", "1", "Физическая география Кыргызстана", type=RecordType.book, year=2010)
    b = rec("knu", "2", "Физическая география Кыргызстана. 2-е изд., испр. и доп.", type=RecordType.book, year=2010)
    assert not same(a, b)


# ------------------------------------------------------------------ provenance


def test_a_merge_says_which_records_and_why():
    doi = Identifiers(doi=["10.24412/1694-5220-2019-3-15"])
    a = rec("knu", "1", "Экология озера Иссык-Куль", identifiers=doi)
    b = rec("auca", "2", "ЭКОЛОГИЯ ОЗЕРА ИССЫК-КУЛЬ", identifiers=doi)
    c = rec("nlkr", "3", "Экология озера Иссык-Куль.")
    dedup = Deduplicator()
    for r in (a, b, c):
        dedup.assign(r)
    (key,) = dedup.cluster_keys()
    merged = dedup.merged(key)
    assert merged.match is not None
    assert merged.match.members == sorted([a.id, b.id, c.id])
    assert merged.match.rule == "doi" and merged.match.evidence == "10.24412/1694-5220-2019-3-15"
    assert {lk.rule for lk in merged.match.links} >= {"doi", "title"}
    # Without the clusterer's decisions (a rebuild), merge() works the reasons out again.
    again = merge([c, b, a])
    assert again.match.rule == "doi" and again.match.members == merged.match.members
    assert merge([a]).match is None
    assert Record.model_validate_json(merged.model_dump_json()).match == merged.match


# ------------------------------------------------------------------ property: clusters never join what must stay apart

TOPICS = [
    "Баланс массы ледников Тянь-Шаня",
    "Ысык-Көл көлүнүн экологиясы",
    "Seismicity of the Fergana valley",
    "Качество питьевой воды в Ошской области",
    "Способ очистки сточных вод",
]
SUBTITLES = [None, "обзор", "новые данные", "results of observations"]
PEOPLE = ["Асанов, Бакыт", "Asanov, B.", "Сыдыкова, Айгүл", "Petrova, N.", "Ким, Ольга"]
SOURCES = ["repo", "lib", "elib", "kyrgyzpatent"]


@st.composite
def records(draw) -> list[Record]:
    out = []
    for i in range(draw(st.integers(2, 9))):
        topic = draw(st.integers(0, len(TOPICS) - 1))
        sub = draw(st.integers(0, len(SUBTITLES) - 1))
        title = TOPICS[topic] + (f": {SUBTITLES[sub]}" if SUBTITLES[sub] else "")
        title = draw(st.sampled_from([title, title.upper(), title + "."]))
        ids = Identifiers(
            patent=draw(st.sampled_from([[], ["KG1"], ["KG2"], ["KG2C1"]])),
            doi=draw(st.sampled_from([[], ["10.1/a"], ["10.1/b"]])),
        )
        out.append(
            Record(
                id=make_record_id(draw(st.sampled_from(SOURCES)), f"r{i}"),
                source=draw(st.sampled_from(SOURCES)),
                source_record_id=f"r{i}",
                type=draw(st.sampled_from([RecordType.article, RecordType.patent])),
                title=[LangText(value=title, lang="ru")],
                title_alt=[
                    LangText(value=draw(st.sampled_from(TOPICS + ["Untitled draft — без названия"])), lang="en")
                ],
                authors=[Person(name=p) for p in draw(st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True))],
                year=draw(st.sampled_from([None, 2019, 2020])),
                identifiers=ids,
            )
        )
    return [r for r in {r.id: r for r in out}.values()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_no_cluster_joins_different_main_titles_or_conflicting_identifiers(collection):
    for cluster in Deduplicator().clusters(collection):
        feats = [features(r) for r in cluster]
        for fa, fb in itertools.combinations(feats, 2):
            assert strong_conflict(fa, fb) is None, (fa.id, fb.id)
            assert hard_conflict(fa, fb) is None, (fa.id, fb.id)
        # Without an identifier in common, members have one title proper and at most one subtitle.
        if len(cluster) > 1 and not _linked_by_identifiers(feats):
            assert len({f.proper for f in feats}) == 1, [r.main_title for r in cluster]
            assert len({f.subtitle for f in feats} - {None}) <= 1, [r.main_title for r in cluster]


def _linked_by_identifiers(feats) -> bool:
    return any(fa.ids(s) & fb.ids(s) for fa, fb in itertools.combinations(feats, 2) for s in ("patent", "doi"))


# ------------------------------------------------------------------ the demo's patents


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory) -> list[Record]:
    from bench.dedup_corpus import corpus_records
    from fedsearch_app.corpus import generate
    from fedsearch_app.demo import DEFAULT_SIZE, SEED

    out = tmp_path_factory.mktemp("demo-corpus")
    generate(out, DEFAULT_SIZE, seed=SEED)
    return corpus_records(out)


def test_the_demo_patents_stay_separate_works(demo_records):
    patents = [r for r in demo_records if r.source == "demo-patents"]
    assert len(patents) > 200
    number = {r.id: r.identifiers.patent[0] for r in patents}
    clusters = Deduplicator().clusters(demo_records)
    cluster_of = {r.id: i for i, members in enumerate(clusters) for r in members}
    by_number = {v: k for k, v in number.items()}
    # The five pairs that once merged: near-identical or translated titles, different inventors.
    for a, b in [
        ("KG1202", "KG1265"),
        ("KG1107", "KG1248"),
        ("KG1255", "KG1117"),
        ("KG1045", "KG1084"),
        ("KG1261", "KG1087"),
    ]:
        assert cluster_of[by_number[a]] != cluster_of[by_number[b]], (a, b)
    for members in clusters:
        numbers = {n for r in members for n in r.identifiers.patent}
        assert len(numbers) <= 1, numbers
    # The second patent's inventors stay on a work of their own.
    medvedev = next(r for r in patents if number[r.id] == "KG1265")
    work = merge([r for r in clusters[cluster_of[medvedev.id]]])
    assert any(p.name.startswith("Медведев Вадим") for p in work.authors)


# ------------------------------------------------------------------ librarians' decisions


def test_a_librarian_splits_and_joins_and_identifiers_still_veto():
    a = rec("knu", "1", "Экология озера Иссык-Куль")
    b = rec("nlkr", "2", "ЭКОЛОГИЯ ОЗЕРА ИССЫК-КУЛЬ")
    c = rec("auca", "3", "Ысык-Көл: экология жана келечек", authors=("Asanov, B.",), lang="ky")
    assert len(Deduplicator().clusters([a, b, c])) == 2
    split = Deduplicator(decisions=[(a.id, b.id, "split", "librarian")])
    assert len(split.clusters([a, b, c])) == 3
    joined = Deduplicator(decisions=[(a.id, c.id, "join", "librarian")])
    (work,) = [ms for ms in joined.clusters([a, b, c])]
    assert {r.id for r in work} == {a.id, b.id, c.id}
    dedup = Deduplicator(decisions=[(a.id, c.id, "join", "librarian")])
    for r in (a, b, c):
        dedup.assign(r)
    merged = dedup.merged(dedup.cluster_key(c.id))
    assert merged.match.rule == "manual" and merged.match.evidence == "joined by librarian"
    p1 = rec("kyrgyzpatent", "KG1", "Улей", type=RecordType.patent, identifiers=Identifiers(patent=["KG1"]))
    p2 = rec("kyrgyzpatent", "KG2", "Улей", type=RecordType.patent, identifiers=Identifiers(patent=["KG2"]))
    assert len(Deduplicator(decisions=[(p1.id, p2.id, "join", "librarian")]).clusters([p1, p2])) == 2
