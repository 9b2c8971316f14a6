"""Synthetic works: what a record is about, before any partner writes it down.

A `Work` is one bibliographic entity. `works(seed)` yields them forever, each
from its own `random.Random` seeded with (seed, index), so a corpus of any
size is the prefix of the same endless stream: 300 records are the first 300
of a 1M corpus, and generation can stream in constant memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from fedsearch_app.corpus import vocab
from fedsearch_app.corpus.vocab import Discipline, transliterate

AS_OF_YEAR = 2025
# The day the synthetic partners "last changed"; every datestamp is before it.
AS_OF = "2025-10-31"

# Partner keys (the config's source ids are chosen by the caller; see corpus.SOURCE_IDS).
OAI, SRU, CSV, PATENTS = "oai", "sru", "csv", "patents"
PARTNERS = (OAI, SRU, CSV, PATENTS)

# How works are shared out when they are not duplicates.
PARTNER_WEIGHTS = {OAI: 0.47, SRU: 0.28, CSV: 0.14, PATENTS: 0.11}
TYPES = {
    OAI: {"article": 50, "conference_paper": 15, "thesis": 10, "report": 7, "dataset": 7, "project": 5, "book": 6},
    SRU: {"book": 55, "article": 15, "report": 10, "thesis": 10, "conference_paper": 5, "dissertation": 5},
    CSV: {"dissertation": 1},
    PATENTS: {"patent": 1},
}
# Types a work held by both the repository and the catalogue may have.
SHARED_TYPES = {"article": 35, "book": 25, "conference_paper": 15, "report": 10, "thesis": 15}
LANGUAGE_MIX = {
    OAI: {"ru": 0.45, "en": 0.33, "ky": 0.22},
    SRU: {"ru": 0.60, "ky": 0.30, "en": 0.10},
    CSV: {"ru": 0.72, "ky": 0.28},
    PATENTS: {"ru": 0.85, "ky": 0.15},
}
AUTHOR_COUNTS = {
    "article": (1, 2, 3, 4),
    "book": (1, 1, 2, 3),
    "dissertation": (1,),
    "thesis": (1,),
    "patent": (1, 2, 3, 4),
    "dataset": (1, 2, 3),
    "project": (1, 2),
    "report": (1, 2, 3, 5),
    "conference_paper": (1, 2, 3),
}
DEGREE_ABBR = {
    "биологических наук": "биол.",
    "географических наук": "геогр.",
    "геолого-минералогических наук": "геол.-минер.",
    "сельскохозяйственных наук": "с.-х.",
    "экономических наук": "экон.",
    "исторических наук": "ист.",
    "филологических наук": "филол.",
    "медицинских наук": "мед.",
    "педагогических наук": "пед.",
    "технических наук": "техн.",
    "юридических наук": "юрид.",
    "химических наук": "хим.",
}
MIN_YEAR = {"patent": 1996, "dissertation": 1995, "dataset": 2010, "project": 2008}


@dataclass
class Person:
    family: str
    given: str
    patronymic: str | None = None
    origin: str = "ky"  # ky | ru | foreign: whose naming customs apply
    degree: str | None = None  # for supervisors: "д-р экон. наук, профессор"

    def full(self, latin: bool = False) -> str:
        """'Токтогулов, Бакыт Асанович' (or its Latin transliteration)."""
        rest = " ".join(p for p in (self.given, self.patronymic) if p)
        name = f"{self.family}, {rest}"
        return transliterate(name) if latin and self.origin != "foreign" else name

    def initials(self, latin: bool = False) -> str:
        """'Токтогулов, Б. А.': how catalogues write a heading."""
        parts = [self.given] + ([self.patronymic] if self.patronymic else [])
        name = f"{self.family}, " + " ".join(p[0] + "." for p in parts)
        return transliterate(name) if latin and self.origin != "foreign" else name

    def natural(self) -> str:
        """'Токтогулов Бакыт Асанович': registers' ФИО without a comma."""
        if self.family.endswith((" уулу", " кызы")):
            return f"{self.given} {self.family}"  # "Бакыт Асан уулу"
        return " ".join(p for p in (self.family, self.given, self.patronymic) if p)

    def initials_first(self) -> str:
        """'Б. А. Токтогулов': the statement of responsibility (245 $c)."""
        parts = [self.given] + ([self.patronymic] if self.patronymic else [])
        return " ".join(p[0] + "." for p in parts) + " " + self.family


@dataclass
class Work:
    index: int
    type: str
    discipline: Discipline
    lang: str
    partners: tuple[str, ...]  # one partner, or (OAI, SRU) for a duplicate
    title: dict[str, tuple[str, str | None]]  # lang -> (main title, subtitle)
    alt_lang: str | None  # a second language the title is also given in
    authors: list[Person]
    supervisor: Person | None
    subjects: list[vocab.Tri]
    udc: str
    grnti: str
    vak: tuple[str, str]
    ipc: list[str]
    year: int
    month: int
    day: int
    institution: vocab.Tri
    abstract: dict[str, str]
    pages: int
    journal: tuple[str, str, str] | None = None
    volume: int | None = None
    issue: int | None = None
    page_range: str | None = None
    publisher: tuple[str, str] | None = None
    doi: str | None = None
    degree: str | None = None  # "кандидат экономических наук"
    access: str = "open"
    datestamp: str = ""
    # How the catalogue's copy of a duplicate differs from the repository's.
    variations: list[str] = field(default_factory=list)
    rng_state: int = 0

    def title_text(self, lang: str | None = None, sep: str = ": ") -> str:
        main, sub = self.title[lang or self.lang]
        return f"{main}{sep}{sub}" if sub else main


def _weighted(r: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return r.choices(keys, weights=[table[k] for k in keys])[0]


def _year(r: random.Random, work_type: str) -> int:
    low = MIN_YEAR.get(work_type, 1965)
    # Recent years are more frequent: an exponential spread back from AS_OF_YEAR.
    for _ in range(8):
        year = AS_OF_YEAR - int(r.expovariate(1 / 8.0))
        if year >= low:
            return year
    return r.randint(low, AS_OF_YEAR)


def _person(r: random.Random, origin: str) -> Person:
    female = r.random() < 0.5
    if origin == "foreign":
        family, given = r.choice(vocab.FOREIGN)
        return Person(family, given, None, "foreign")
    if origin == "ru":
        family = r.choice(vocab.RU_FAMILY)
        given = r.choice(vocab.RU_FEMALE if female else vocab.RU_MALE)
        father = r.choice(vocab.RU_FATHER)
        return Person(family + ("а" if female else ""), given, _patronymic(father, female), "ru")
    given = r.choice(vocab.KY_FEMALE if female else vocab.KY_MALE)
    father = r.choice(vocab.KY_FATHER)
    if r.random() < 0.12:  # the Kyrgyz form: "Асан уулу Бакыт"
        return Person(f"{father} {'кызы' if female else 'уулу'}", given, None, "ky")
    family = r.choice(vocab.KY_FAMILY)
    return Person(family + ("а" if female else ""), given, _patronymic(father, female), "ky")


def _patronymic(father: str, female: bool) -> str:
    if father.endswith("ий"):  # Анатолий -> Анатольевич
        return father[:-2] + ("ьевна" if female else "ьевич")
    if father.endswith("й"):  # Сергей -> Сергеевич, Таалай -> Таалаевич
        return father[:-1] + ("евна" if female else "евич")
    if father.endswith(("ж", "ш", "ч", "щ", "ц")):
        return father + ("евна" if female else "евич")
    if father == "Пётр":
        return "Петровна" if female else "Петрович"
    return father + ("овна" if female else "ович")


def _title(r: random.Random, d: Discipline, work_type: str) -> tuple[dict[str, tuple[str, str | None]], int, int]:
    topic_i = r.randrange(len(d.topics))
    topic = d.topics[topic_i]
    place = r.choice(vocab.PLACES) if r.random() < 0.45 else None
    if work_type == "patent":
        patent_i = r.randrange(len(d.patents))
        base = d.patents[patent_i]
        out = {lang: (base[i], None) for i, lang in enumerate(vocab.LANGS)}
        if r.random() < 0.15:
            out = {
                "ky": (out["ky"][0] + " (варианттар)", None),
                "ru": (out["ru"][0] + " (варианты)", None),
                "en": (out["en"][0] + " (variants)", None),
            }
        return out, patent_i, -1
    if work_type in ("article", "conference_paper", "thesis", "dissertation") and r.random() < 0.35:
        return _topic_first_title(r, topic, place), topic_i, vocab.PLACES.index(place) if place else -1
    if work_type == "dataset":
        head = vocab.DATASET_HEADS
    elif work_type == "project":
        head = vocab.PROJECT_HEADS
    else:
        head = r.choice(vocab.HEADS)
    sub: vocab.Tri | None = None
    if work_type == "book":
        sub = r.choice(vocab.BOOK_SUBTITLES) if r.random() < 0.7 else None
    elif work_type == "report":
        sub = vocab.REPORT_SUBTITLE
    elif work_type not in ("dataset", "project") and r.random() < 0.25:
        sub = r.choice(vocab.SUBTITLES)
    out = {}
    for i, lang in enumerate(vocab.LANGS):
        t = topic[i]
        text = head[i].replace("{t}", t)
        if place:
            text = f"{place[0]} {text}" if lang == "ky" else f"{text} {place[i]}"
        text = text[0].upper() + text[1:]
        out[lang] = (text, sub[i] if sub else None)
    return out, topic_i, vocab.PLACES.index(place) if place else -1


def _topic_first_title(
    r: random.Random, topic: vocab.Tri, place: vocab.Tri | None
) -> dict[str, tuple[str, str | None]]:
    """ "Водные ресурсы в Нарынской области: состояние и перспективы" (Kyrgyz: topic, then a possessive tail)."""
    tail = r.choice(vocab.TAILS)
    ky = f"{place[0]} {topic[0]} {tail[0]}" if place else f"{topic[0]} {tail[0]}"
    ru = vocab.RU_NOMINATIVE[topic[1]] + (f" {place[1]}" if place else "")
    en = topic[2].removeprefix("the ") + (f" {place[2]}" if place else "")
    return {
        "ky": (ky[0].upper() + ky[1:], None),
        "ru": (ru[0].upper() + ru[1:], tail[1]),
        "en": (en[0].upper() + en[1:], tail[2]),
    }


def _ipc(r: random.Random, d: Discipline, patent_i: int) -> list[str]:
    """The patent's main IPC class, and sometimes a second one from the same field."""
    main = d.patents[patent_i][3]
    others = sorted({p[3] for p in d.patents} - {main})
    return [main, r.choice(others)] if others and r.random() < 0.25 else [main]


def _abstract(r: random.Random, d: Discipline, topic_i: int, place_i: int, work_type: str) -> dict[str, str]:
    if work_type == "patent":
        effect = r.choice(vocab.PATENT_EFFECTS)
        return {
            lang: vocab.PATENT_ABSTRACT[i].format(field=d.name[i].lower(), effect=effect[i])
            for i, lang in enumerate(vocab.LANGS)
        }
    method, finding, use = (
        r.choice(vocab.ABSTRACT_METHOD),
        r.choice(vocab.ABSTRACT_FINDING),
        r.choice(vocab.ABSTRACT_USE),
    )
    out = {}
    for i, lang in enumerate(vocab.LANGS):
        t = d.topics[topic_i][i] if topic_i >= 0 else d.topics[0][i]
        place = vocab.PLACES[place_i][i] if place_i >= 0 else ""
        opening = vocab.ABSTRACT_OPEN[i]
        if lang == "ky":
            opening = opening.replace("{place}", place + " " if place else "")
        else:
            opening = opening.replace("{place}", " " + place if place else "")
        out[lang] = " ".join((opening.replace("{t}", t), method[i], finding[i], use[i]))
    return out


def make_work(seed: int, index: int, dup_rate: float) -> Work:
    r = random.Random((seed << 40) ^ index)
    if r.random() < dup_rate:
        partners: tuple[str, ...] = (OAI, SRU)
        work_type = _weighted(r, SHARED_TYPES)
        lang = _weighted(r, LANGUAGE_MIX[OAI])
    else:
        partner = _weighted(r, PARTNER_WEIGHTS)
        partners = (partner,)
        work_type = _weighted(r, TYPES[partner])
        lang = _weighted(r, LANGUAGE_MIX[partner])
    pool = vocab.DISCIPLINES if work_type != "patent" else tuple(d for d in vocab.DISCIPLINES if d.patents)
    d = r.choices(pool, weights=[x.weight for x in pool])[0]
    title, topic_i, place_i = _title(r, d, work_type)
    alt_lang = None
    if OAI in partners and r.random() < 0.4:
        alt_lang = "en" if lang != "en" else "ru"
    elif work_type == "dissertation" and lang == "ky" and r.random() < 0.5:
        alt_lang = "ru"

    n_authors = r.choice(AUTHOR_COUNTS[work_type])
    foreign_ok = lang == "en" and OAI in partners
    authors = []
    for _ in range(n_authors):
        u = r.random()
        origin = "foreign" if foreign_ok and u < 0.2 else ("ky" if u < 0.68 else "ru")
        authors.append(_person(r, origin))
    supervisor = None
    degree = None
    if work_type in ("dissertation", "thesis"):
        supervisor = _person(r, "ky" if r.random() < 0.7 else "ru")
        supervisor.degree = f"д-р {DEGREE_ABBR[d.degree]} наук, профессор"
        if work_type == "dissertation":
            degree = f"{'кандидат' if r.random() < 0.85 else 'доктор'} {d.degree}"

    year = _year(r, work_type)
    month, day = r.randint(1, 12), r.randint(1, 28)
    subj_n = min(len(d.subjects), r.randint(2, 4))
    subjects = r.sample(d.subjects, subj_n)
    inst = r.choices(vocab.INSTITUTIONS, weights=vocab.INSTITUTION_WEIGHTS)[0]
    work = Work(
        index=index,
        type=work_type,
        discipline=d,
        lang=lang,
        partners=partners,
        title=title,
        alt_lang=alt_lang,
        authors=authors,
        supervisor=supervisor,
        subjects=subjects,
        udc=r.choice(d.udc),
        grnti=r.choice(d.grnti),
        vak=r.choice(d.vak),
        ipc=_ipc(r, d, topic_i) if work_type == "patent" else [],
        year=year,
        month=month,
        day=day,
        institution=inst,
        abstract=_abstract(r, d, topic_i, place_i, work_type),
        pages=r.randint(80, 420) if work_type in ("book", "dissertation", "report") else r.randint(4, 18),
        degree=degree,
    )
    if work_type in ("article", "conference_paper"):
        work.journal = r.choice(vocab.JOURNALS) if work_type == "article" else None
        work.volume = max(1, year - 1995)
        work.issue = r.randint(1, 4)
        start = r.randint(3, 180)
        work.page_range = f"{start}-{start + work.pages}"
        if work.journal and r.random() < 0.6 and year >= 2012:
            work.doi = f"{work.journal[2]}/{work.journal[1][-4:]}.{year}.{work.issue}.{index}"
    if work_type in ("book", "report", "thesis", "dissertation", "conference_paper"):
        work.publisher = r.choice(vocab.PUBLISHERS)
    work.access = r.choices(("open", "free", "restricted"), weights=(70, 20, 10))[0]
    # The partner's last change: some time after publication, before AS_OF.
    first = max(year, 2010)
    dy = r.randint(first, AS_OF_YEAR)
    dm = r.randint(1, 10 if dy == AS_OF_YEAR else 12)
    work.datestamp = f"{dy:04d}-{dm:02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z"
    if len(partners) == 2:
        work.variations = _variations(r, work)
    work.rng_state = r.getrandbits(32)
    return work


def _variations(r: random.Random, work: Work) -> list[str]:
    """How the catalogue's copy will differ (beyond its ISBD punctuation and initials)."""
    out = ["isbd", "initials"]
    u = r.random()
    if u < 0.25:
        out.append("upper")  # a retro-converted card: the title in capitals
    elif u < 0.5:
        out.append("punct")  # different punctuation: quotes, colon, dashes
    if "ё" in work.title_text() and r.random() < 0.7:
        out.append("yo")
    if r.random() < 0.3:
        out.append("translit")  # the first author in the other script
    if (work.doi or work.type == "book") and r.random() < 0.5:
        out.append("shared_id")  # DOI (articles) or ISBN (books) in both
    return out


def works(seed: int, dup_rate: float = 0.08, start: int = 0) -> Iterator[Work]:
    index = start
    while True:
        yield make_work(seed, index, dup_rate)
        index += 1
