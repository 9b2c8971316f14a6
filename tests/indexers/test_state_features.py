"""The index state keeps each record's dedup features: read back they equal `features(record)`."""

from __future__ import annotations

import sys

from fedsearch.record import Identifiers, LangText, Person, Record, RecordType, make_record_id
from indexers.dedup import features, file_keys
from indexers.state import IndexState

F = sys.modules["indexers.dedup.features"]  # the module (the package exports the function under its name)


def rec(source: str, local: str, title: str, *, authors=("Айтматов, Чингиз",), year=2019, **extra) -> Record:
    return Record(
        id=make_record_id(source, local),
        source=source,
        source_record_id=local,
        type=extra.pop("type", RecordType.article),
        title=[LangText(value=title, lang="ru")],
        authors=[Person(name=a, family=a.split(",")[0], given=a.split(",")[-1].strip()) for a in authors],
        year=year,
        **extra,
    )


RECORDS = [
    rec(
        "knu",
        "1",
        "Экология озера Иссык-Куль : обзор. Ч. 2",
        title_alt=[LangText(value="Ecology of Issyk-Kul", lang="en")],
        identifiers=Identifiers(doi=["10.1234/x.1"], isbn=["9785000000001"]),
        type=RecordType.book,
        publisher="Илим",
    ),
    rec(
        "patents",
        "KG1234C1",
        "Способ очистки воды",
        identifiers=Identifiers(patent=["KG1234C1"]),
        type=RecordType.patent,
    ),
    rec("vak", "d2", "Экономика Чуйской долины : автореф. дис.", authors=(), year=None, type=RecordType.dissertation),
    rec("osh", "3", "Ысык-Көл көлүнүн экологиялык абалы", authors=("Бөкөнбеков, Өмүрбек", "Токтогулов, Н. З.")),
]


def _put(state: IndexState, records: list[Record], feats: dict | None = None) -> None:
    state.apply([(r, file_keys(features(r))) for r in records], [], {}, feats)


def test_packed_features_read_back_equal_and_of_the_same_types():
    for r in RECORDS:
        f = features(r)
        back = F.unpack(F.pack(f))
        assert back == f and hash(back) == hash(f)
        assert back.rtype is f.rtype and type(back.numbers) is frozenset and type(back.titles) is tuple
        assert back.title_key == f.title_key and back.ids("doi") == f.ids("doi")


def test_the_state_returns_stored_features_and_forgets_removed_records(tmp_path):
    state = IndexState(tmp_path / "state.sqlite")
    try:
        _put(state, RECORDS[:2], {r.id: features(r) for r in RECORDS[:2]})
        _put(state, RECORDS[2:])  # without features given: the state computes them
        ids = [r.id for r in RECORDS]
        got = state.features_of(ids)
        assert got == {r.id: features(r) for r in RECORDS}
        state.apply([], [RECORDS[0].id], {})
        assert RECORDS[0].id not in state.features_of(ids)
        assert (
            state.conn.execute("SELECT COUNT(*) FROM dedup_features WHERE record_id = ?", (RECORDS[0].id,)).fetchone()[
                0
            ]
            == 0
        )
        state.clear()
        assert state.conn.execute("SELECT COUNT(*) FROM dedup_features").fetchone()[0] == 0
    finally:
        state.close()


def test_features_of_another_code_version_or_missing_are_computed_from_the_record(tmp_path):
    state = IndexState(tmp_path / "state.sqlite")
    try:
        _put(state, RECORDS)
        # A state written by other code: a wrong stored value under an old version tag must not be used.
        wrong = F.pack(features(RECORDS[1]))
        state.conn.execute(
            "UPDATE dedup_features SET version = 'old', data = ? WHERE record_id = ?", (wrong, RECORDS[0].id)
        )
        state.conn.execute(
            "DELETE FROM dedup_features WHERE record_id = ?", (RECORDS[2].id,)
        )  # from before they were kept
        got = state.features_of(r.id for r in RECORDS)
        assert got == {r.id: features(r) for r in RECORDS}
    finally:
        state.close()


def test_pairs_skipped_before_reading_features_are_never_the_same_work():
    from indexers.dedup import Deduplicator

    doi = Identifiers(doi=["10.1234/x.1"])
    records = [
        rec("knu", "1", "Экология озера Иссык-Куль", identifiers=doi),
        rec("knu", "2", "Экология озера Иссык-Куль", identifiers=doi),  # one source, shared DOI: one work
        rec("knu", "3", "Экология озера Иссык-Куль"),
        rec("knu", "4", "Экология озера Иссык-Куль"),  # one source, no identifier: two items ...
        rec("knu", "5", "Экология озера Иссык-Куль"),  # ... unless a librarian joined them
        rec("nlkr", "6", "Экология озера Иссык-Куль"),
    ]
    ids = [r.id for r in records]
    dedup = Deduplicator(decisions=[(ids[2], ids[4], "join", "librarian", "2026-01-01")])
    feats = {r.id: features(r) for r in records}
    skipped = kept_same = 0
    for a in records:
        for b in records:
            if a is b:
                continue
            same = dedup.decide_features(feats[a.id], feats[b.id]).same
            if dedup.worth_deciding(feats[a.id], b.id, b.source):
                kept_same += same
            else:
                skipped += 1
                assert not same, (a.id, b.id)
    assert skipped >= 4 and kept_same >= 6  # knu-3/knu-4 skipped both ways; the DOI, join and cross-source pairs kept
