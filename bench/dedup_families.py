"""Adversarial families for the labeled dedup set: records that look like one work and are not.

Each family is drawn from pools below with a seeded generator (deterministic),
so instances vary in language, topic, people and years rather than repeating
one example. Families:
  series      templated titles "X: обзор" / "X: новые данные" by one team in
              consecutive years, sharing a translated and a generic alternative title
  translated  two different works whose English alternative titles are the same
  generic     a title many people use ("Отчёт", "Жылдык отчет", "Working paper", ...)
  patents     inventions with near-identical titles, different numbers, shared inventors
  theses      dissertations with near-identical titles, different register numbers
  editions    a book, its revised edition (other ISBN) and its translation
  in-source   near-duplicates inside one source (a yearly report, a reworded abstract)
Every family also holds true copies in other catalogues (case, script, initials,
kind code), so recall is measured on the same ground. `split` is fixed by a hash
of the group id: about a third is "heldout", never looked at while tuning.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

SOURCES = [
    "knu",
    "nlkr",
    "auca",
    "cyberleninka",
    "elibrary",
    "osh-su",
    "ksucta",
    "krsu",
    "manas",
    "iuk",
    "kstu",
    "kgma",
    "ion-nas",
    "bhu",
]
PEOPLE = [
    ("Асанов", "Бакыт Асанович"),
    ("Сыдыкова", "Айгүл Бейшеновна"),
    ("Токтогулов", "Нурлан"),
    ("Жумабаева", "Гүлнара Сатыбалдиевна"),
    ("Мамытов", "Эрлан Кубатович"),
    ("Ким", "Ольга Викторовна"),
    ("Петрова", "Наталья Игоревна"),
    ("Осмонов", "Таалай Жапарович"),
    ("Бекова", "Чолпон"),
    ("Абдыкадыров", "Мирлан Сагынбекович"),
    ("Орозбаев", "Руслан"),
    ("Исаева", "Динара Мухтаровна"),
    ("Кадыров", "Улан Бакирович"),
    ("Смирнов", "Алексей Петрович"),
    ("Турдубаева", "Жылдыз"),
    ("Эсенкулов", "Азамат Төлөнович"),
    ("Байтикова", "Назира"),
    ("Шарипов", "Фарух Рахимович"),
]
# (lang, topic, subtitles, english topic)
SERIES = [
    (
        "ru",
        "Баланс массы ледников Тянь-Шаня",
        ["обзор", "новые данные", "результаты наблюдений"],
        "Mass balance of Tien Shan glaciers",
    ),
    (
        "ru",
        "Качество питьевой воды в Ошской области",
        ["состояние проблемы", "итоги мониторинга", "рекомендации"],
        "Drinking water quality in Osh oblast",
    ),
    (
        "ky",
        "Кыргыз тилинин диалектилери",
        ["сереп", "жаңы маалыматтар", "түштүк говорлору"],
        "Dialects of the Kyrgyz language",
    ),
    ("en", "Seismicity of the Fergana valley", ["a review", "new data", "results of 2015-2020 observations"], None),
    (
        "ru",
        "Экономика горных районов Кыргызстана",
        ["теоретические аспекты", "практика", "перспективы развития"],
        "Economy of mountain regions of Kyrgyzstan",
    ),
    ("ky", "Ысык-Көл аймагындагы туризм", ["абалы", "көйгөйлөр", "келечеги"], "Tourism in the Issyk-Kul region"),
    ("en", "Pasture management in Naryn", ["baseline survey", "midterm assessment", "lessons learned"], None),
    (
        "ru",
        "Эпидемиология бруцеллеза в Кыргызстане",
        ["обзор литературы", "новые данные", "анализ вспышек"],
        "Epidemiology of brucellosis in Kyrgyzstan",
    ),
]
GENERIC_ALT = ["Untitled draft — без названия", "Без названия", "Untitled", "Аталышсыз"]
# Pairs of different works that translate to one English title.
TRANSLATED = [
    (
        "Оценка водных ресурсов бассейна реки Нарын",
        "Водные ресурсы бассейна Нарына: оценка и прогноз",
        "Water resources of the Naryn basin",
    ),
    ("Мектептеги билим берүүнүн сапаты", "Качество школьного образования в регионах", "Quality of school education"),
    ("Миграция молодежи из сельских районов", "Молодежная миграция: причины и последствия", "Youth migration"),
    (
        "Эл аралык укук жана Кыргызстан",
        "Международное право в практике Кыргызской Республики",
        "International law and Kyrgyzstan",
    ),
    ("Зерновые культуры Чуйской долины", "Урожайность зерновых в Чуйской долине", "Grain crops of the Chui valley"),
]
# Titles many people publish under; the later ones are in no fixed list, only frequency finds them.
GENERIC = [
    "Отчёт",
    "Аннотация",
    "Сборник статей",
    "Untitled",
    "Аталышсыз",
    "Жылдык отчет",
    "Working paper",
    "Научные труды",
    "Тезисы докладов",
    "Лекции",
    "Методические указания",
    "Course notes",
]
PATENT_TITLES = [
    ("ru", "Способ очистки сточных вод", "от тяжелых металлов"),
    ("ru", "Улей для горного пчеловодства", None),
    ("ru", "Способ получения сульфата алюминия", None),
    ("ky", "Катуу тиричилик калдыктарын утилдештирүү ыкмасы", None),
    ("ru", "Устройство для капельного орошения", "на склонах"),
    ("ru", "Состав для защиты растений", None),
    ("ky", "Сүттү кайра иштетүүчү түзүлүш", None),
]
THESIS_TOPICS = [
    ("ru", "Экономика сельского хозяйства {region}"),
    ("ru", "Правовое регулирование земельных отношений в {region}"),
    ("ky", "{region} топонимикасы"),
    ("ru", "Эколого-экономическая оценка природных ресурсов {region}"),
    ("ru", "Формирование рынка труда {region}"),
]
REGIONS = {
    "ru": ["Чуйской области", "Таласской области", "Нарынской области", "Ошской области", "Баткенской области"],
    "ky": ["Чүй облусунун", "Талас облусунун", "Нарын облусунун", "Ош облусунун"],
}
IN_SOURCE = [
    ("ru", "Грунтовые воды Чуйской впадины", "режим и качество"),
    ("ky", "Нарын дарыясынын гидрологиясы", "жаңы маалыматтар"),
    ("en", "Air pollution in Bishkek in winter", "sources and health effects"),
    ("ru", "Кадастровая оценка земель Иссык-Кульской области", "методика"),
    ("ky", "Ош шаарынын тарыхый эстеликтери", "сереп"),
    ("ru", "Лечение бруцеллеза у детей", "опыт клиники"),
]
BOOKS = [
    ("ky", "Кыргыз элинин тарыхы", "История кыргызского народа"),
    ("ru", "Основы экологии", "Экологиянын негиздери"),
    ("ru", "Физическая география Кыргызстана", "Кыргызстандын физикалык географиясы"),
    ("en", "Introduction to Central Asian politics", "Введение в политику Центральной Азии"),
    ("ky", "Манас таануу", "Манасоведение"),
]


class Families:
    def __init__(self, seed: int = 1014):
        self.rng = random.Random(seed)
        self.lines: list[dict] = []
        self.n = 0

    # ---- helpers
    def add(self, group: str, work: str, case: str, **record) -> None:
        self.n += 1
        record.setdefault("local_id", f"{group}-{self.n}")
        record.setdefault("type", "article")
        self.lines.append({"group": group, "work": work, "case": case, "record": record, "split": split_of(group)})

    def people(self, k: int) -> list[tuple[str, str]]:
        return self.rng.sample(PEOPLE, k)

    def sources(self, k: int) -> list[str]:
        return self.rng.sample(SOURCES, k)

    # ---- families
    def series(self) -> None:
        for i, (lang, topic, subs, en) in enumerate(SERIES):
            g = f"as{i:02d}"
            team = self.people(self.rng.choice((2, 3)))
            year = self.rng.randint(2012, 2021)
            repo = self.rng.choice(SOURCES)
            others = [s for s in SOURCES if s != repo]
            generic_alt = self.rng.choice(GENERIC_ALT)
            for j, sub in enumerate(subs):
                work = f"{g}.w{j}"
                # The second co-author changes between parts: one shared co-author, year ±1.
                authors = [team[0], team[1 + (j % (len(team) - 1))]] if len(team) > 2 else team
                names = [f"{f}, {gv}" for f, gv in authors]
                alts = [{"value": generic_alt, "lang": "en"}] + ([{"value": en, "lang": "en"}] if en else [])
                y = year + (j + 1) // 2
                self.add(
                    g,
                    work,
                    "series part in the repository",
                    source=repo,
                    title=f"{topic}: {sub}",
                    lang=lang,
                    authors=names,
                    year=y,
                    title_alt=alts,
                )
                copy_src = self.rng.choice(others)
                self.add(
                    g,
                    work,
                    "series part, upper case with initials",
                    source=copy_src,
                    title=f"{topic}: {sub}".upper(),
                    lang=lang,
                    year=y,
                    authors=[f"{f.upper()} {gv[0]}." for f, gv in authors],
                )
                if lang != "en" and j == 0:
                    self.add(
                        g,
                        work,
                        "series part, romanized",
                        source=self.rng.choice([s for s in others if s != copy_src]),
                        title=translit(f"{topic}: {sub}", "bgn"),
                        lang=lang,
                        year=y,
                        authors=[f"{translit(f, 'bgn')}, {translit(gv, 'bgn')}" for f, gv in authors],
                    )

    def translated(self) -> None:
        for i, (t1, t2, en) in enumerate(TRANSLATED):
            g = f"at{i:02d}"
            a, b = self.people(2)
            year = self.rng.randint(2010, 2022)
            s1, s2, s3, s4 = self.sources(4)
            lang1 = "ky" if any(ch in t1 for ch in "өүң") else "ru"
            self.add(
                g,
                f"{g}.w1",
                "translated title shared with another work",
                source=s1,
                title=t1,
                lang=lang1,
                authors=[f"{a[0]}, {a[1]}"],
                year=year,
                title_alt=[{"value": en, "lang": "en"}],
            )
            self.add(
                g,
                f"{g}.w2",
                "translated title shared with another work",
                source=s2,
                title=t2,
                lang="ru",
                authors=[f"{b[0]}, {b[1]}"],
                year=year + self.rng.choice((0, 1)),
                title_alt=[{"value": en, "lang": "en"}],
            )
            self.add(
                g,
                f"{g}.w1",
                "copy with initials",
                source=s3,
                title=t1,
                lang=lang1,
                authors=[f"{a[0]} {a[1][0]}."],
                year=year,
            )
            # The second work catalogued under its English title only: it shares nothing but that.
            self.add(
                g,
                f"{g}.w3",
                "a third work catalogued under the shared English title",
                source=s4,
                title=en,
                lang="en",
                authors=[f"{translit(b[0], 'bgn')}, {translit(b[1], 'bgn')}"],
                year=year + 2,
            )

    def generic(self) -> None:
        for i, title in enumerate(GENERIC):
            g = f"ag{i:02d}"
            year = self.rng.randint(2014, 2022)
            lang = (
                "en"
                if title.isascii()
                else ("ky" if any(ch in title for ch in "өүң") or title.startswith(("Жыл", "Ата")) else "ru")
            )
            people = self.people(5)
            for j, (f, gv) in enumerate(people):
                src = self.rng.choice(SOURCES)
                authors = [] if j == 4 else [f"{f}, {gv}"]
                self.add(
                    g,
                    f"{g}.w{j}",
                    "generic title, another author" if authors else "generic title, no authors",
                    source=src,
                    title=title,
                    lang=lang,
                    authors=authors,
                    year=year + (j % 2),
                    type="report",
                )
            # One true pair under the generic title: the same handle in two catalogues.
            f, gv = people[0]
            hdl = f"123456789/{self.rng.randint(1000, 9999)}"
            self.add(
                g,
                f"{g}.w5",
                "generic title, same handle",
                source="knu",
                title=title,
                lang=lang,
                authors=[f"{f}, {gv}"],
                year=year,
                type="report",
                identifiers={"handle": [hdl]},
            )
            self.add(
                g,
                f"{g}.w5",
                "generic title, same handle",
                source="elibrary",
                title=title.upper(),
                lang=lang,
                authors=[f"{f} {gv[0]}."],
                year=year,
                type="report",
                identifiers={"handle": [f"hdl:{hdl}"]},
            )

    def patents(self) -> None:
        for i, (lang, title, tail) in enumerate(PATENT_TITLES):
            g = f"ap{i:02d}"
            year = self.rng.randint(2005, 2024)
            team = self.people(4)
            base = 1000 + 150 * i + self.rng.randint(0, 40)  # numbers unique across families
            for j in range(3):
                inventors = [team[0], team[1 + j]] if j < 2 else [team[3], team[0]]
                number = f"KG{base + 37 * j}"
                full = f"{title} {tail}" if tail and j == 1 else title
                self.add(
                    g,
                    f"{g}.w{j}",
                    "patent with a near-identical title",
                    source="kyrgyzpatent",
                    title=full,
                    lang=lang,
                    authors=[f"{f} {gv}" for f, gv in inventors],
                    year=year,
                    type="patent",
                    identifiers={"patent": [number]},
                    title_alt=[{"value": "Способ", "lang": "ru"}],
                )
                if j < 2:
                    self.add(
                        g,
                        f"{g}.w{j}",
                        "the patent in a library catalogue, kind code added",
                        source=self.rng.choice(SOURCES),
                        title=full.upper(),
                        lang=lang,
                        authors=[f"{inventors[0][0]}, {inventors[0][1][0]}."],
                        year=year,
                        type="patent",
                        identifiers={"patent": [f"KG {base + 37 * j} C1"]},
                    )

    def theses(self) -> None:
        for i, (lang, pattern) in enumerate(THESIS_TOPICS):
            g = f"ad{i:02d}"
            year = self.rng.randint(2000, 2023)
            regions = self.rng.sample(REGIONS[lang], 3)
            people = self.people(3)
            for j, region in enumerate(regions):
                title = pattern.format(region=region)
                f, gv = people[0] if j < 2 else people[2]  # one author wrote on two regions
                reg = f"Д-{year}-{self.rng.randint(1, 999999):06d}"
                self.add(
                    g,
                    f"{g}.w{j}",
                    "dissertation with a near-identical title",
                    source="vak-register",
                    title=title,
                    lang=lang,
                    authors=[f"{f} {gv}"],
                    year=year,
                    type="dissertation",
                    identifiers={"register_number": [reg]},
                )
                self.add(
                    g,
                    f"{g}.w{j}",
                    "the dissertation in a library catalogue",
                    source=self.rng.choice(SOURCES),
                    title=title.upper() + " : дис. ... канд. наук",
                    lang=lang,
                    authors=[f"{f}, {gv}"],
                    year=year,
                    type="dissertation",
                )
            f, gv = people[1]
            self.add(
                g,
                f"{g}.w9",
                "same title, another candidate, same year",
                source="vak-register",
                title=pattern.format(region=regions[0]),
                lang=lang,
                authors=[f"{f} {gv}"],
                year=year,
                type="dissertation",
                identifiers={"register_number": [f"Д-{year}-{self.rng.randint(1, 999999):06d}"]},
            )

    def editions(self) -> None:
        for i, (lang, title, translation) in enumerate(BOOKS):
            g = f"ae{i:02d}"
            ((f, gv),) = self.people(1)
            year = self.rng.randint(1995, 2015)
            isbn1 = isbn13(f"9789967{self.rng.randint(10000, 99999)}")
            isbn2 = isbn13(f"9789968{self.rng.randint(10000, 99999)}")
            s = self.sources(5)
            self.add(
                g,
                f"{g}.w0",
                "first edition",
                source=s[0],
                title=title,
                lang=lang,
                authors=[f"{f}, {gv}"],
                year=year,
                type="book",
                identifiers={"isbn": [isbn1]},
            )
            self.add(
                g,
                f"{g}.w0",
                "first edition, other catalogue",
                source=s[1],
                title=title.upper(),
                lang=lang,
                authors=[f"{f} {gv[0]}."],
                year=year,
                type="book",
                identifiers={"isbn": [isbn1]},
            )
            self.add(
                g,
                f"{g}.w0",
                "first edition, no ISBN, romanized",
                source=s[4],
                title=translit(title, "bgn") if lang != "en" else title,
                lang=lang,
                authors=[f"{translit(f, 'bgn')}, {translit(gv, 'bgn')}"],
                year=year,
                type="book",
            )
            ed = "2-е изд., испр. и доп." if lang == "ru" else ("2-басылышы" if lang == "ky" else "2nd ed.")
            self.add(
                g,
                f"{g}.w1",
                "revised edition, other ISBN, a year later",
                source=s[2],
                title=f"{title}. {ed}",
                lang=lang,
                authors=[f"{f}, {gv}"],
                year=year + 1,
                type="book",
                identifiers={"isbn": [isbn2]},
            )
            self.add(
                g,
                f"{g}.w2",
                "reprint without an edition statement, other ISBN, years later",
                source=s[3],
                title=title,
                lang=lang,
                authors=[f"{f}, {gv}"],
                year=year + 3,
                type="book",
                identifiers={"isbn": [isbn13(f"9785906{self.rng.randint(10000, 99999)}")]},
            )
            self.add(
                g,
                f"{g}.w3",
                "translation, same year",
                source=s[1],
                title=translation,
                lang="ru" if lang != "ru" else "ky",
                authors=[f"{f}, {gv}"],
                year=year,
                type="book",
                title_alt=[{"value": title, "lang": lang}],
            )

    def in_source(self) -> None:
        for i in range(6):
            g = f"ai{i:02d}"
            src = self.rng.choice(SOURCES)
            (f, gv), (f2, gv2) = self.people(2)
            year = self.rng.randint(2010, 2022)
            lang, topic, sub = IN_SOURCE[i]
            title = f"{topic}: {sub}"
            self.add(
                g,
                f"{g}.w0",
                "record in one source",
                source=src,
                title=title,
                lang=lang,
                authors=[f"{f}, {gv}"],
                year=year,
            )
            self.add(
                g,
                f"{g}.w1",
                "the talk's abstract a year later in the same source",
                source=src,
                title=title.replace(":", ".") + ".",
                lang=lang,
                authors=[f"{f}, {gv[0]}."],
                year=year + 1,
                type="conference_paper",
            )
            report = (
                f"Отчет о научно-исследовательской работе «{topic}» за {{}} год"
                if lang != "en"
                else f"{topic}: research report for {{}}"
            )
            self.add(
                g,
                f"{g}.w2",
                "yearly report in the same source",
                source=src,
                title=report.format(year),
                lang=lang,
                authors=[f"{f2}, {gv2}"],
                year=year,
                type="report",
            )
            self.add(
                g,
                f"{g}.w3",
                "next year's report in the same source",
                source=src,
                title=report.format(year + 1),
                lang=lang,
                authors=[f"{f2}, {gv2}"],
                year=year + 1,
                type="report",
            )
            other = self.rng.choice([s for s in SOURCES if s != src])
            self.add(
                g,
                f"{g}.w0",
                "the record in another catalogue",
                source=other,
                title=title.upper(),
                lang=lang,
                authors=[f"{f.upper()} {gv[0]}."],
                year=year,
            )


def isbn13(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


# The base set's romanization (bench/make_dedup_labeled.py), given to build().
translit: Callable[[str, str], str]


def split_of(group: str) -> str:
    """Fixed by the group id: about a third of the families is held out."""
    return "heldout" if int(hashlib.sha1(group.encode()).hexdigest(), 16) % 3 == 0 else "adversarial"


def build(romanize: Callable[[str, str], str], seed: int = 1014) -> list[dict]:
    """The families' labeled lines; `romanize(text, system)` is the base set's romanization."""
    global translit
    translit = romanize
    fam = Families(seed)
    for make in (fam.series, fam.translated, fam.generic, fam.patents, fam.theses, fam.editions, fam.in_source):
        make()
    return fam.lines
