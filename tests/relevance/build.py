"""Build the relevance fixture: tests/relevance/corpus.jsonl and judgments.jsonl.

    .venv/bin/python -m tests.relevance.build

The corpus is GENERATED background (the first works of fedsearch_app.corpus's
stream, one Record each, as a partner would describe them) plus the
hand-written records of records.py. The judgments (queries.py) grade records
0-3 by what a reader typing the query wants:

    3  exactly what was asked for, in the query's language (or with a title in it)
    2  on the topic, but older, broader, or the same work in another language
    1  marginally relevant: the topic only in the abstract or subject headings,
       another-language record on the topic, a namesake of the wanted person
    0  a judged non-relevant hard distractor (kept so the file says it was looked at)

Generated records are graded by rules over what the generator says a work is
about (discipline, topic, place, authors, codes), never by what an engine
returns. Both files are written deterministically; commit them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fedsearch.record import (
    Access,
    Classification,
    Container,
    Identifiers,
    LangText,
    Person,
    Record,
    RecordType,
    make_record_id,
)
from fedsearch_app.corpus import SOURCE_IDS, vocab
from fedsearch_app.corpus.formats import isbn13, patent_number
from fedsearch_app.corpus.works import Work, works

HERE = Path(__file__).resolve().parent
CORPUS_FILE = HERE / "corpus.jsonl"
JUDGMENTS_FILE = HERE / "judgments.jsonl"
SEED = 20251
GENERATED = 900
STAMP = datetime(2025, 11, 1, tzinfo=UTC)
_OPEN_RU = "В работе рассматриваются проблемы "


# --- records -----------------------------------------------------------------------------


def make_record(spec: dict[str, Any]) -> Record:
    """A hand-written record (records.H)."""
    local = f"rel:{spec['key']}"
    lang = spec["lang"]
    classifications = []
    if spec.get("udc"):
        classifications.append(Classification(scheme="udc", code=spec["udc"]))
    if spec.get("ipc"):
        classifications.append(Classification(scheme="ipc", code=spec["ipc"]))
    ids = Identifiers(
        doi=[spec["doi"]] if spec.get("doi") else [],
        isbn=[spec["isbn"]] if spec.get("isbn") else [],
        patent=[spec["patent"]] if spec.get("patent") else [],
    )
    alt = spec.get("alt")
    return Record(
        id=make_record_id(spec["source"], local),
        source=spec["source"],
        source_record_id=local,
        type=RecordType(spec["type"]),
        title=[LangText(value=spec["title"], lang=lang)],
        title_alt=[LangText(value=alt[1], lang=alt[0])] if alt else [],
        abstract=[LangText(value=spec["abstract"], lang=lang)] if spec.get("abstract") else [],
        authors=[Person(name=a) for a in spec.get("authors", [])],
        subjects=list(spec.get("subjects", [])),
        classifications=classifications,
        identifiers=ids,
        year=spec["year"],
        languages=[lang],
        publisher=spec.get("publisher"),
        access=Access.open,
        harvested_at=STAMP,
    )


def work_record(work: Work, n: int) -> Record:
    """One Record for a generated work, held by its first partner."""
    partner = work.partners[0]
    source = SOURCE_IDS[partner]
    local = f"gen:{work.index}"
    lang = work.lang
    latin = lang == "en"
    li = vocab.LANGS.index(lang)
    title_alt = []
    if work.alt_lang:
        title_alt.append(LangText(value=work.title_text(work.alt_lang), lang=work.alt_lang))
    elif work.type == "patent" and lang != "ru":
        title_alt.append(LangText(value=work.title_text("ru"), lang="ru"))  # the register gives a Russian title
    abstract = [LangText(value=work.abstract[lang], lang=lang)]
    if work.alt_lang:
        abstract.append(LangText(value=work.abstract[work.alt_lang], lang=work.alt_lang))
    classes = [Classification(scheme="udc", code=work.udc), Classification(scheme="grnti", code=work.grnti)]
    classes += [Classification(scheme="ipc", code=c) for c in work.ipc]
    ids = Identifiers(
        doi=[work.doi.lower()] if work.doi else [],
        isbn=[isbn13(n).replace("-", "")] if work.type == "book" else [],
        patent=[patent_number(n)] if work.type == "patent" else [],
    )
    container = None
    if work.journal:
        container = Container(
            title=work.journal[0], volume=str(work.volume), issue=str(work.issue), pages=work.page_range
        )
    contributors = [Person(name=work.supervisor.full(), role="supervisor")] if work.supervisor else []
    return Record(
        id=make_record_id(source, local),
        source=source,
        source_record_id=local,
        type=RecordType(work.type),
        title=[LangText(value=work.title_text(lang), lang=lang)],
        title_alt=title_alt,
        abstract=abstract,
        authors=[Person(name=a.full(latin=latin)) for a in work.authors],
        contributors=contributors,
        subjects=[s[li] for s in work.subjects],
        classifications=classes,
        identifiers=ids,
        year=work.year,
        languages=[lang],
        publisher=work.publisher[0] if work.publisher else None,
        container=container,
        institution=work.institution[1],
        access=Access(work.access),
        harvested_at=STAMP,
    )


def generated_works() -> list[Work]:
    return [w for _, w in zip(range(GENERATED), works(SEED))]


# --- rules for grading generated works ----------------------------------------------------

Rule = Callable[[Work, str], int]


def _topic_index(work: Work) -> int | None:
    if work.type == "patent":
        return None
    d = work.discipline
    text = work.abstract["ru"]
    for i, topic in enumerate(d.topics):
        head = _OPEN_RU + topic[1]
        if text.startswith(head) and text[len(head) : len(head) + 1] in (".", " "):
            return i
    return None


def _patent_index(work: Work) -> int | None:
    if work.type != "patent":
        return None
    for i, p in enumerate(work.discipline.patents):
        if work.title["ru"][0].startswith(p[1]):
            return i
    return None


def _readable(work: Work, qlang: str) -> bool:
    """The record has a title in the query's language."""
    return qlang in (work.lang, work.alt_lang) or (work.type == "patent" and qlang == "ru")


def _index(disc: str, table: str, name: str) -> int:
    """Where the English `name` is in a discipline's topics, patents or subjects (a clear
    error if the generator's vocabulary no longer has it: the judgments need a look)."""
    rows = getattr(vocab.BY_KEY[disc], table)
    for i, row in enumerate(rows):
        if row[2] == name:
            return i
    raise KeyError(f"the generator's {disc} {table} have no {name!r}; judgments need updating")


def topic(disc: str, name: str, same: int = 3, other: int = 1) -> Rule:
    """Works on this topic (English name): `same` with a title in the query's language, else `other`."""
    i = _index(disc, "topics", name)

    def rule(w: Work, qlang: str) -> int:
        if w.discipline.key != disc or _topic_index(w) != i:
            return 0
        return same if _readable(w, qlang) else other

    return rule


def patent(disc: str, name: str, same: int = 3, other: int = 1) -> Rule:
    i = _index(disc, "patents", name)

    def rule(w: Work, qlang: str) -> int:
        if w.discipline.key != disc or _patent_index(w) != i:
            return 0
        return same if _readable(w, qlang) else other

    return rule


def subject(disc: str, name: str, grade: int, any_lang: bool = False) -> Rule:
    """Works with this subject heading, in the query's language (or any)."""
    j = _index(disc, "subjects", name)

    def rule(w: Work, qlang: str) -> int:
        d = w.discipline
        if d.key != disc or d.subjects[j] not in w.subjects:
            return 0
        return grade if any_lang or w.lang == qlang else 0

    return rule


def place(name: str, same: int, other: int = 0) -> Rule:
    """Works whose title names this place (English name)."""
    row = next((p for p in vocab.PLACES if p[2] == name), None)
    if row is None:
        raise KeyError(f"the generator has no place {name!r}; judgments need updating")

    def rule(w: Work, qlang: str) -> int:
        if w.type == "patent" or row[1] not in w.title["ru"][0]:
            return 0
        return same if _readable(w, qlang) else other

    return rule


def author(family: str, masculine: int = 3, feminine: int = 1, given: str | None = None, supervisor: int = 1) -> Rule:
    """Works by the person (a thesis they supervised counts `supervisor`)."""

    def rule(w: Work, qlang: str) -> int:
        best = 0
        people = [(p, 1.0) for p in w.authors] + ([(w.supervisor, 0.0)] if w.supervisor else [])
        for p, is_author in people:
            if given is not None and p.given != given:
                continue
            grade = 0
            if p.family == family:
                grade = masculine
            elif p.family == family + "а":
                grade = feminine
            best = max(best, grade if is_author else min(grade, supervisor))
        return best

    return rule


def code(scheme: str, value: str) -> Rule:
    def rule(w: Work, qlang: str) -> int:
        have = {"udc": [w.udc], "grnti": [w.grnti], "ipc": w.ipc}[scheme]
        return 3 if value in have else 0

    return rule


# --- output --------------------------------------------------------------------------------


def build() -> tuple[list[Record], list[dict[str, Any]]]:
    from tests.relevance.queries import QUERIES
    from tests.relevance.records import HAND

    gen = generated_works()
    # The rules read topics from the works' abstracts: make sure that still works.
    known = sum(1 for w in gen if (_patent_index(w) if w.type == "patent" else _topic_index(w)) is not None)
    if known < len(gen):
        raise RuntimeError(
            f"only {known} of {len(gen)} generated works have a recognisable topic: "
            "the generator changed; update _topic_index/_patent_index before judging"
        )
    gen_records = [work_record(w, n) for n, w in enumerate(gen)]
    by_key = {spec["key"]: make_record(spec) for spec in HAND}
    records = gen_records + list(by_key.values())
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)), "duplicate record ids"
    judgments = []
    for q in QUERIES:
        relevant: dict[str, int] = {}
        for key, grade in q["hand"].items():
            if key not in by_key:
                raise KeyError(f"{q['query']!r} grades unknown record {key!r}")
            relevant[by_key[key].id] = grade
        for w, r in zip(gen, gen_records, strict=True):
            grade = max((rule(w, q["lang"]) for rule in q.get("gen", ())), default=0)
            if grade:
                relevant[r.id] = grade
        if not any(g > 0 for g in relevant.values()):
            raise ValueError(f"{q['query']!r} has no relevant record")
        judgments.append(
            {
                "query": q["query"],
                "lang": q["lang"],
                "kind": q["kind"],
                **({"note": q["note"]} if q.get("note") else {}),
                "relevant": dict(sorted(relevant.items(), key=lambda kv: (-kv[1], kv[0]))),
            }
        )
    return records, judgments


def _write_lines(path: Path, rows: Iterable[str]) -> None:
    path.write_text("".join(row + "\n" for row in rows), encoding="utf-8")


def main() -> int:
    records, judgments = build()
    _write_lines(CORPUS_FILE, (r.model_dump_json(exclude_none=True) for r in records))
    _write_lines(JUDGMENTS_FILE, (json.dumps(j, ensure_ascii=False) for j in judgments))
    graded = sum(1 for j in judgments for g in j["relevant"].values() if g > 0)
    print(
        f"{len(records)} records -> {CORPUS_FILE.name}; {len(judgments)} queries, {graded} relevant grades -> {JUDGMENTS_FILE.name}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
