"""A small fixture corpus in ky, ru and en, the same for every engine.

Built in code so each record shows the case it is there for. Several records
share years and titles on purpose: ties must be broken the same way everywhere.
"""

from __future__ import annotations

from datetime import datetime, timezone

from fedsearch.record import Access, Classification, Identifiers, LangText, Person, Record, RecordType, make_record_id

STAMP = datetime(2026, 11, 1, tzinfo=timezone.utc)


def rec(
    source: str,
    local_id: str,
    title: str,
    *,
    lang: str = "ru",
    year: int | None = None,
    type: RecordType = RecordType.article,
    authors: tuple[str, ...] = (),
    subjects: tuple[str, ...] = (),
    abstract: str | None = None,
    access: Access = Access.unknown,
    institution: str | None = None,
    classifications: tuple[tuple[str, str], ...] = (),
    identifiers: dict[str, list[str]] | None = None,
    title_alt: tuple[tuple[str, str], ...] = (),
) -> Record:
    return Record(
        id=make_record_id(source, local_id),
        source=source,
        source_record_id=local_id,
        type=type,
        title=[LangText(value=title, lang=lang)],
        title_alt=[LangText(value=v, lang=lg) for v, lg in title_alt],
        abstract=[LangText(value=abstract, lang=lang)] if abstract else [],
        authors=[Person(name=a) for a in authors],
        subjects=list(subjects),
        classifications=[Classification(scheme=s, code=c) for s, c in classifications],
        identifiers=Identifiers(**(identifiers or {})),
        year=year,
        languages=[lang],
        access=access,
        institution=institution,
        harvested_at=STAMP,
    )


A = RecordType.article
CORPUS: list[Record] = [
    rec("knu", "oai:knu:1", "Экология озера Иссык-Куль", year=2019, authors=("Айтматов, Чингиз",),
        subjects=("экология", "озёра"), access=Access.open, institution="КНУ им. Ж. Баласагына",
        classifications=(("udc", "551.5"), ("grnti", "87.15.00")),
        abstract="Исследование экологического состояния озера Иссык-Куль и его бассейна."),
    rec("knu", "oai:knu:2", "Ысык-Көл көлүнүн экологиясы", lang="ky", year=2020, authors=("Осмонова, Айгүл",),
        subjects=("экология",), access=Access.open, institution="КНУ им. Ж. Баласагына"),
    rec("knu", "oai:knu:3", "Экологические проблемы Бишкека", year=2019, authors=("Иванов, Пётр",),
        subjects=("экология", "города"), access=Access.free, institution="КНУ им. Ж. Баласагына"),
    rec("auca", "oai:auca:10", "Climate change in Central Asia", lang="en", year=2021,
        authors=("Smith, John", "Aitmatova, Asel"), subjects=("climate", "Central Asia"), access=Access.open,
        institution="American University of Central Asia",
        abstract="We study climate change and glacier retreat in the Tien Shan mountains.",
        identifiers={"doi": ["10.1234/ca.2021.7"]}),
    rec("auca", "oai:auca:11", "Glacier retreat and climate in the Tien Shan", lang="en", year=2018,
        authors=("Smith, John",), subjects=("glaciers", "climate"), access=Access.open,
        institution="American University of Central Asia"),
    rec("auca", "oai:auca:12", "Change management in universities", lang="en", year=2021,
        authors=("Brown, Alice",), subjects=("management",), access=Access.restricted,
        institution="American University of Central Asia"),
    rec("nlkr", "marc:100", "Бишкек: история города", year=2005, type=RecordType.book,
        authors=("Арсеньев, Владимир",), subjects=("история", "Бишкек"), access=Access.unknown,
        institution="Национальная библиотека КР", identifiers={"isbn": ["9789967000001"]}),
    rec("nlkr", "marc:101", "История Кыргызстана", year=2005, type=RecordType.book,
        authors=("Абдрахманов, Т.",), subjects=("история",), institution="Национальная библиотека КР"),
    rec("nlkr", "marc:102", "Кыргызстандын тарыхы", lang="ky", year=2010, type=RecordType.book,
        authors=("Абдрахманов, Т.",), subjects=("тарых",), institution="Национальная библиотека КР"),
    rec("nlkr", "marc:103", "Манас эпосу", lang="ky", year=None, type=RecordType.book,
        subjects=("эпос", "фольклор"), institution="Национальная библиотека КР"),
    rec("nlkr", "marc:104", "Эпос Манас: исследования", year=1995, type=RecordType.book,
        authors=("Жирмунский, Виктор",), subjects=("эпос",), institution="Национальная библиотека КР"),
    rec("vak", "diss:1", "Экономика сельского хозяйства Чуйской долины", year=2015, type=RecordType.dissertation,
        authors=("Токтогулов, Бакыт",), subjects=("экономика", "сельское хозяйство"), access=Access.free,
        classifications=(("vak", "08.00.05"),), institution="НАН КР"),
    rec("vak", "diss:2", "Экономика малого бизнеса в Оше", year=2015, type=RecordType.dissertation,
        authors=("Токтогулова, Жылдыз",), subjects=("экономика",), access=Access.free,
        classifications=(("vak", "08.00.05"),), institution="ОшГУ"),
    rec("vak", "diss:3", "Водные ресурсы и орошение", year=2012, type=RecordType.dissertation,
        authors=("Иванов, Пётр",), subjects=("водные ресурсы",), access=Access.free, institution="НАН КР"),
    rec("patent", "KG1234", "Способ очистки воды", year=2016, type=RecordType.patent,
        authors=("Садыков, Нурлан",), subjects=("очистка воды",), classifications=(("ipc", "C02F 1/00"),),
        identifiers={"patent": ["KG1234C1"]}, institution="Кыргызпатент"),
    rec("patent", "KG1300", "Плуг для горных склонов", year=2017, type=RecordType.patent,
        authors=("Садыков, Нурлан",), subjects=("сельское хозяйство",), classifications=(("ipc", "A01B 1/00"),),
        identifiers={"patent": ["KG1300C1"]}, institution="Кыргызпатент"),
    rec("auca", "oai:auca:13", "Water resources of Kyrgyzstan", lang="en", year=2012,
        authors=("Petrov, Ivan",), subjects=("water resources",), access=Access.open,
        institution="American University of Central Asia"),
    rec("auca", "oai:auca:14", "Water resources of Kyrgyzstan", lang="en", year=2012,
        authors=("Petrov, Ivan",), subjects=("water resources",), access=Access.open,
        institution="American University of Central Asia", title_alt=(("Водные ресурсы Кыргызстана", "ru"),)),
    rec("knu", "oai:knu:4", "Running experiments on ecological data", lang="en", year=2022,
        authors=("Lee, Kim",), subjects=("ecology", "statistics"), access=Access.open,
        institution="КНУ им. Ж. Баласагына"),
    rec("knu", "oai:knu:5", "Ecology of mountain lakes", lang="en", year=2020,
        authors=("Lee, Kim",), subjects=("ecology",), access=Access.open, institution="КНУ им. Ж. Баласагына"),
]
# Twenty more with the same year and title stem, to test ties and deep paging.
CORPUS += [
    rec("bulk", f"b{i:03d}", f"Сборник трудов том {i}", year=2000 + (i % 3), type=RecordType.report,
        subjects=("сборник",), institution="НАН КР")
    for i in range(1, 21)
]
# Untrusted metadata: must come back as text, never as markup.
CORPUS.append(rec("knu", "oai:knu:xss", "<script>alert(1)</script> Экология", year=2023, subjects=("экология",)))

BY_LOCAL = {r.source_record_id: r for r in CORPUS}


def rid(local_id: str) -> str:
    return BY_LOCAL[local_id].id
