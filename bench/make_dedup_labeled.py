"""Build tests/indexers/data/dedup_labeled.jsonl: labeled records for measuring deduplication.

    python bench/make_dedup_labeled.py          # rewrites the file (deterministic)

Each base work below is written by hand (ky/ru/en, as Kyrgyz partners catalogue
them). Around it, a group holds copies of the SAME work as other catalogues
write it (upper case, transliterated, subtitle dropped, Kyrgyz letters typed
on a Russian keyboard, ISBN-10 vs ISBN-13, online-first year, no authors, ...)
and DIFFERENT works that look alike (new edition, Part 1/Part 2, same author
with another title, translation, same generic title by others, dataset vs
article, dissertation vs its author's abstract, conference paper vs the later
article). Every line is one record with its group, its true work and the case.
The labels come from how each record was made, never from the matcher.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from search_api.alternatives import CYR_TO_LAT

OUT = Path(__file__).resolve().parent.parent / "tests" / "indexers" / "data" / "dedup_labeled.jsonl"

# (lang, title, subtitle, authors [(family, given)], year, type, english title, doi, isbn)
BASE = [
    (
        "ru",
        "Экология озера Иссык-Куль",
        "современное состояние и прогноз",
        [("Айтматова", "Асель Чингизовна")],
        2019,
        "article",
        "Ecology of Lake Issyk-Kul",
        "10.24412/1694-5220-2019-3-15",
        None,
    ),
    (
        "ky",
        "Ысык-Көл көлүнүн экологиялык абалы",
        None,
        [("Осмонова", "Айгүл Төлөновна")],
        2020,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Ледники Тянь-Шаня и изменение климата",
        None,
        [("Усубалиев", "Рысбек Абдыкалыкович"), ("Эрменбаев", "Бакыт Осмонович")],
        2018,
        "article",
        "Tien Shan glaciers and climate change",
        None,
        None,
    ),
    (
        "en",
        "Glacier retreat in the Ala-Archa valley, Kyrgyzstan",
        "a remote sensing assessment",
        [("Petrakov", "Dmitry"), ("Shpuntova", "Alexandra")],
        2021,
        "article",
        None,
        "10.3390/rs13040712",
        None,
    ),
    (
        "ru",
        "История Кыргызстана",
        "с древнейших времен до наших дней",
        [("Осмонов", "Осмон Джусупбекович")],
        2012,
        "book",
        None,
        None,
        "9789967262415",
    ),
    (
        "ky",
        "Кыргыз тилинин грамматикасы",
        None,
        [("Кудайбергенов", "Сапар")],
        2015,
        "book",
        None,
        None,
        "9789967030458",
    ),
    (
        "ru",
        "Экономика сельского хозяйства Чуйской долины",
        None,
        [("Токтогулов", "Бакыт Жумабекович")],
        2015,
        "dissertation",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Водные ресурсы Кыргызской Республики",
        "использование и охрана",
        [("Мамбетов", "Канатбек Бейшеевич")],
        2016,
        "book",
        "Water resources of the Kyrgyz Republic",
        None,
        "9789967118521",
    ),
    (
        "en",
        "Remittances and household welfare in Kyrgyzstan",
        None,
        [("Kroeger", "Antje"), ("Anderson", "Kathryn H.")],
        2014,
        "article",
        None,
        "10.1016/j.jce.2013.07.007",
        None,
    ),
    (
        "ru",
        "Эпос «Манас» как источник по истории кыргызов",
        None,
        [("Жирмунский", "Виктор Максимович")],
        1995,
        "book",
        None,
        None,
        None,
    ),
    ("ky", "Манас эпосундагы тарыхый инсандар", None, [("Мусаев", "Самар")], 2011, "article", None, None, None),
    (
        "ru",
        "Сейсмическая опасность территории Бишкека",
        None,
        [("Абдрахматов", "Канатбек Ермекович"), ("Джанузаков", "Калий Джанузакович")],
        2017,
        "article",
        "Seismic hazard of the Bishkek area",
        "10.1134/S0742046317050025",
        None,
    ),
    (
        "en",
        "Microfinance and poverty reduction in Central Asia",
        "evidence from Kyrgyzstan and Tajikistan",
        [("Brown", "Alice M."), ("Jumabaeva", "Gulnara")],
        2016,
        "report",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Особенности лечения эхинококкоза печени у детей",
        None,
        [("Омурбеков", "Талант Омурбекович"), ("Кудайбердиев", "Таалайбек Зарлыкович")],
        2013,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Правовое регулирование земельных отношений в Кыргызской Республике",
        None,
        [("Сыдыкова", "Лейла Чыныбаевна")],
        2010,
        "dissertation",
        None,
        None,
        None,
    ),
    (
        "en",
        "Language policy and the status of Kyrgyz",
        None,
        [("Orusbaev", "Abdykadyr"), ("Mustajoki", "Arto"), ("Protassova", "Ekaterina")],
        2008,
        "article",
        None,
        "10.1080/14664200802354435",
        None,
    ),
    ("ky", "Жамийла", None, [("Айтматов", "Чыңгыз")], 1958, "book", None, None, None),
    (
        "ru",
        "Минеральные ресурсы Кыргызстана",
        "золото, уран, редкие земли",
        [("Джеенбаев", "Бакыт Мамбеталиевич")],
        2009,
        "book",
        None,
        None,
        "5655033224",
    ),
    (
        "ru",
        "Методика преподавания кыргызского языка в русскоязычной школе",
        None,
        [("Абдувалиев", "Ильяс")],
        2014,
        "book",
        None,
        None,
        None,
    ),
    (
        "en",
        "Pastureland degradation in the Naryn region",
        None,
        [("Kerven", "Carol"), ("Steimann", "Bernd"), ("Ashley", "Laurie")],
        2011,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Гидрохимический режим реки Чу",
        None,
        [("Кулов", "Кубанычбек Асанович")],
        2005,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Биоразнообразие орехово-плодовых лесов юга Кыргызстана",
        None,
        [("Ган", "Петр Андреевич"), ("Шамшиев", "Болот Нематжанович")],
        2019,
        "article",
        "Biodiversity of walnut-fruit forests of southern Kyrgyzstan",
        None,
        None,
    ),
    (
        "ky",
        "Кыргыз элинин салттуу маданияты",
        None,
        [("Баялиева", "Тынар Жумагазиевна")],
        2007,
        "book",
        None,
        None,
        None,
    ),
    (
        "en",
        "Trace elements in drinking water of Osh oblast",
        None,
        [("Tashmatova", "Nurzat"), ("Karimov", "Ulan")],
        2020,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Радиоэкологическая обстановка в районе хвостохранилищ Майлуу-Суу",
        None,
        [("Торгоев", "Исакбек Асангалиевич"), ("Алешин", "Юрий Григорьевич")],
        2008,
        "article",
        "Radioecological situation at the Mailuu-Suu tailings",
        None,
        None,
    ),
    (
        "en",
        "Household survey of energy use in Bishkek",
        None,
        [("Sagynbekova", "Lira")],
        2017,
        "dataset",
        None,
        "10.5281/zenodo.1048125",
        None,
    ),
    (
        "ru",
        "Традиционное природопользование кыргызов",
        None,
        [("Абрамзон", "Саул Матвеевич")],
        1990,
        "book",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Диагностика туберкулеза у мигрантов",
        None,
        [("Кадыров", "Абдуллаат Саматович"), ("Чубаков", "Тулеген Чубакович")],
        2016,
        "article",
        None,
        None,
        None,
    ),
    (
        "en",
        "Corruption and state capacity in post-Soviet Kyrgyzstan",
        None,
        [("Engvall", "Johan")],
        2016,
        "book",
        None,
        None,
        "9781137567543",
    ),
    (
        "ky",
        "Кыргызстандагы жайыттарды башкаруу",
        "көйгөйлөр жана чечүү жолдору",
        [("Жунушалиев", "Алмаз")],
        2018,
        "report",
        None,
        None,
        None,
    ),
    ("ru", "Кыргызско-русский словарь", None, [("Юдахин", "Константин Кузьмич")], 1965, "book", None, None, None),
    (
        "ru",
        "Способ очистки сточных вод от тяжелых металлов",
        None,
        [("Садыков", "Нурлан Бакирович")],
        2016,
        "patent",
        None,
        None,
        None,
    ),
    (
        "en",
        "Mudflow hazard assessment in the Kyrgyz Range",
        None,
        [("Erokhin", "Sergey"), ("Zaginaev", "Vitaly")],
        2018,
        "article",
        None,
        "10.1007/s11069-018-3392-0",
        None,
    ),
    (
        "ru",
        "Социально-экономическое развитие регионов Кыргызстана",
        None,
        [("Койчуев", "Турар Койчуевич")],
        2004,
        "book",
        None,
        None,
        "9967220538",
    ),
    (
        "ky",
        "Айыл чарба өсүмдүктөрүнүн зыянкечтери",
        None,
        [("Токторалиев", "Биймырза")],
        2012,
        "book",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Особенности формирования лексики кыргызского языка",
        None,
        [("Карасаев", "Хусейн Карасаевич")],
        1986,
        "book",
        None,
        None,
        None,
    ),
    (
        "en",
        "Female labour migration from Kyrgyzstan to Russia",
        "gender, family and remittances",
        [("Thieme", "Susan"), ("Ismailbekova", "Aksana")],
        2019,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Оценка качества атмосферного воздуха города Бишкек",
        None,
        [("Исаев", "Эркин Кубатбекович")],
        2021,
        "article",
        "Assessment of air quality in Bishkek",
        None,
        None,
    ),
    (
        "ru",
        "Государственный язык и языковая политика",
        None,
        [("Орусбаев", "Абдыкадыр Орусбаевич")],
        2002,
        "book",
        None,
        None,
        None,
    ),
    (
        "en",
        "Land reform and farm productivity in Kyrgyzstan",
        None,
        [("Lerman", "Zvi"), ("Sedik", "David")],
        2009,
        "report",
        None,
        None,
        None,
    ),
    ("ru", "Этнография кыргызов Памира", None, [("Дор", "Реми")], 1975, "book", None, None, None),
    (
        "ru",
        "Формирование правовой культуры студентов",
        None,
        [("Бекбоева", "Айнура Сагынбековна")],
        2018,
        "dissertation",
        None,
        None,
        None,
    ),
    ("ky", "Кыргыз адабиятынын тарыхы", None, [("Абдыкеримов", "Абдыкадыр")], 2016, "book", None, None, None),
    (
        "en",
        "Snow cover dynamics of the Chon-Kemin basin",
        None,
        [("Aizen", "Vladimir B."), ("Kuzmichenok", "Vasiliy")],
        2015,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Инвестиционный климат Кыргызской Республики",
        None,
        [("Джумабаев", "Марат Джумабаевич")],
        2011,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Флора хребта Киргизский Ала-Тоо",
        None,
        [("Лазьков", "Георгий Анатольевич")],
        2006,
        "book",
        None,
        None,
        None,
    ),
    (
        "en",
        "Mercury contamination near the Khaidarkan mine",
        None,
        [("Gustin", "Mae"), ("Kasymova", "Aida")],
        2013,
        "article",
        None,
        None,
        None,
    ),
    ("ky", "Балдардын тамактануусу жана ден соолугу", None, [("Муратова", "Жаңыл")], 2019, "article", None, None, None),
    (
        "ru",
        "Эффективность капельного орошения в условиях Иссык-Кульской котловины",
        None,
        [("Бейшекеев", "Кубаныч Кемелович")],
        2014,
        "article",
        None,
        None,
        None,
    ),
    ("en", "Cross-border trade at the Dordoi bazaar", None, [("Alff", "Henryk")], 2016, "chapter", None, None, None),
    (
        "ru",
        "Демографические процессы в Кыргызстане в 1990-е годы",
        None,
        [("Аттокуров", "Сабыр")],
        2001,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Уголовная ответственность за коррупционные преступления",
        None,
        [("Арзыбаев", "Улан Асанович")],
        2012,
        "dissertation",
        None,
        None,
        None,
    ),
    (
        "en",
        "Seismotectonics of the northern Tien Shan",
        None,
        [("Kalmetieva", "Zarina"), ("Mikolaichuk", "Alexander")],
        2009,
        "book",
        None,
        None,
        "9789967250214",
    ),
    (
        "ru",
        "Лекарственные растения Кыргызстана",
        None,
        [("Алтымышев", "Акбар Алтымышевич")],
        1976,
        "book",
        None,
        None,
        None,
    ),
    ("ky", "Кыргыз тилиндеги фразеологизмдер", None, [("Осмонова", "Жылдыз")], 2013, "article", None, None, None),
    (
        "ru",
        "Развитие туризма на Иссык-Куле",
        "проблемы и перспективы",
        [("Асанбаев", "Мирлан Асанбаевич")],
        2017,
        "article",
        "Tourism development on Issyk-Kul",
        None,
        None,
    ),
    (
        "en",
        "Education reform in Kyrgyzstan after independence",
        None,
        [("DeYoung", "Alan J.")],
        2011,
        "book",
        None,
        None,
        "9781617354618",
    ),
    (
        "ru",
        "Геология и полезные ископаемые Таласского хребта",
        None,
        [("Христов", "Евгений Владимирович")],
        1983,
        "book",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Распространенность артериальной гипертензии в горных районах",
        None,
        [("Сооронбаев", "Талантбек Маратбекович"), ("Миррахимов", "Эркин Мирсаидович")],
        2015,
        "article",
        "Prevalence of arterial hypertension in mountain regions",
        "10.1186/s12889-015-2157-4",
        None,
    ),
    ("ky", "Нарын облусунун топонимдери", None, [("Жапаров", "Шакир")], 2004, "book", None, None, None),
]

# Held out: written after the matcher was tuned on BASE, with copy kinds it was not tuned on.
HOLDOUT = [
    (
        "ru",
        "Оползневые процессы в Майлуу-Суйском районе",
        None,
        [("Ибатулин", "Хаким Валиевич")],
        2011,
        "article",
        None,
        None,
        None,
    ),
    (
        "ky",
        "Кыргыз Республикасынын салык системасы",
        None,
        [("Дүйшөнбаева", "Гүлмира")],
        2018,
        "article",
        None,
        None,
        None,
    ),
    (
        "en",
        "Water user associations in southern Kyrgyzstan",
        "performance and problems",
        [("Sehring", "Jenniver")],
        2009,
        "chapter",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Кардиоваскулярные факторы риска у жителей высокогорья",
        None,
        [("Сарыбаев", "Акпай Шогаибович"), ("Алдашев", "Алмаз Абдулхаевич")],
        2019,
        "article",
        None,
        "10.1089/ham.2018.0103",
        None,
    ),
    (
        "ru",
        "Песчаные бури Приаралья",
        None,
        [("Орловский", "Николай Сергеевич")],
        2003,
        "book",
        None,
        None,
        "9965121301",
    ),
    (
        "en",
        "Hydropower development on the Naryn river",
        None,
        [("Jalilov", "Shokhrukh"), ("Keitsch", "Martina")],
        2016,
        "article",
        None,
        None,
        None,
    ),
    ("ky", "Жаштардын саясий маданияты", None, [("Абдыраева", "Чолпон")], 2014, "dissertation", None, None, None),
    ("ru", "Почвы Центрального Тянь-Шаня", None, [("Мамытов", "Асанбек Мамытович")], 1996, "book", None, None, None),
    (
        "en",
        "Informal institutions and governance in rural Kyrgyzstan",
        None,
        [("Beyer", "Judith")],
        2013,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Внешнеторговая политика Кыргызской Республики в условиях ЕАЭС",
        None,
        [("Сыдыков", "Мелис Бакытбекович")],
        2020,
        "article",
        None,
        None,
        None,
    ),
    ("ru", "Сборник научных трудов Кыргызского национального университета", None, [], 2012, "book", None, None, None),
    (
        "en",
        "Glacial lake outburst floods in the Tien Shan",
        None,
        [("Narama", "Chiyuki"), ("Daiyrov", "Mirlan")],
        2018,
        "article",
        None,
        "10.5194/nhess-18-983-2018",
        None,
    ),
]

# Second hold-out, written after the first hold-out had been used for fixes: reported as is.
HOLDOUT2 = [
    (
        "ru",
        "Агроклиматические ресурсы Таласской долины",
        "оценка и использование",
        [("Подрезов", "Олег Александрович")],
        2008,
        "book",
        None,
        None,
        None,
    ),
    (
        "ky",
        "Ала-Тоо тоо кыркаларынын өсүмдүктөрү",
        None,
        [("Шалпыков", "Кайыркул Тыныбекович")],
        2017,
        "article",
        None,
        None,
        None,
    ),
    (
        "en",
        "Nomadic pastoralism and land use change in the Alay valley",
        None,
        [("Kraudzun", "Tobias")],
        2014,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Социальная защита пожилых граждан в Кыргызской Республике",
        None,
        [("Мусакожоев", "Шайлообек Мусакожоевич")],
        2012,
        "article",
        None,
        None,
        None,
    ),
    (
        "ru",
        "Геоэкологические проблемы освоения месторождения Кумтор",
        None,
        [("Кожогулов", "Камчыбек Чонмурунович"), ("Никольская", "Ольга Викторовна")],
        2015,
        "article",
        None,
        None,
        None,
    ),
    (
        "en",
        "Antibiotic resistance of Escherichia coli isolates in Bishkek hospitals",
        None,
        [("Kalilov", "Nurlan"), ("Brunner", "Martin")],
        2021,
        "article",
        None,
        "10.3390/antibiotics10030291",
        None,
    ),
    ("ky", "Кыргыз элдик оозеки чыгармачылыгы", None, [("Байгазиев", "Советбек")], 2001, "book", None, None, None),
    (
        "ru",
        "Методы очистки шахтных вод на предприятиях Кыргызстана",
        None,
        [("Бекботоева", "Бурул Сагынбековна")],
        2019,
        "dissertation",
        None,
        None,
        None,
    ),
]

# Generic titles different people publish under (hard negatives: same title, other author).
GENERIC = [
    ("ru", "Введение в экономическую теорию", "book"),
    ("ru", "Отчет о научно-исследовательской работе", "report"),
    ("ru", "Актуальные проблемы экологии Кыргызстана", "article"),
    ("en", "Introduction to econometrics", "book"),
    ("ky", "Кыргыз тили", "book"),
    ("ru", "Информатика", "book"),
    ("ru", "Материалы научно-практической конференции", "conference_paper"),
    ("en", "Climate change adaptation in Central Asia", "article"),
]
GENERIC_AUTHORS = [
    ("Иванов", "Петр"),
    ("Asanov", "Bolot"),
    ("Маматов", "Нурбек"),
    ("Smith", "John"),
    ("Токтосунова", "Айгерим"),
    ("Ли", "Виктор"),
]

# ----------------------------------------------------------------- transliteration (as catalogues do it)
_BGN = CYR_TO_LAT  # BGN/PCGN-like, as the search's own "other script" rewrites spell it
_ALA = dict(_BGN, й="ĭ", ю="iu", я="ia", ё="ë", ь="ʹ", э="ė", ө="ȯ", ү="u", ң="n")
_GOST = dict(_BGN, х="x", ц="cz", щ="shh", й="j", ы="y'", ё="yo", ө="o", ү="u", ң="n")
SYSTEMS = {"bgn": _BGN, "ala": _ALA, "gost": _GOST}


def translit(text: str, system: str) -> str:
    table = SYSTEMS[system]
    out = []
    for ch in text:
        low = ch.lower()
        if low in table:
            t = table[low]
            out.append(t.capitalize() if ch != low and t else t)
        else:
            out.append(ch)
    return "".join(out)


def initials(given: str) -> str:
    return "".join(f"{part[0]}." for part in given.split())


# ----------------------------------------------------------------- records


def make(
    base: tuple,
    *,
    source: str,
    local: str,
    title: str | None = None,
    lang: str | None = None,
    authors: list[str] | None = None,
    year: int | None | str = "base",
    type: str | None = None,
    doi: str | None | bool = True,
    isbn: str | None | bool = True,
    title_alt: list[tuple[str, str]] | None = None,
    subtitle: str | None | bool = True,
) -> dict:
    blang, btitle, bsub, bauthors, byear, btype, _en, bdoi, bisbn = base
    bisbn = with_check_digit(bisbn) if bisbn else None
    main = title if title is not None else btitle
    sub = bsub if subtitle is True else (subtitle or None)
    if title is None and sub:
        main = f"{main}: {sub}"
    rec = {
        "source": source,
        "local_id": local,
        "title": main,
        "lang": lang or blang,
        "authors": authors if authors is not None else [f"{f}, {g}" for f, g in bauthors],
        "year": byear if year == "base" else year,
        "type": type or btype,
    }
    ids = {}
    if doi is True and bdoi:
        ids["doi"] = [bdoi]
    elif isinstance(doi, str):
        ids["doi"] = [doi]
    if isbn is True and bisbn:
        ids["isbn"] = [bisbn]
    elif isinstance(isbn, str):
        ids["isbn"] = [isbn]
    if ids:
        rec["identifiers"] = ids
    if title_alt:
        rec["title_alt"] = [{"value": v, "lang": lg} for v, lg in title_alt]
    return rec


def with_check_digit(isbn: str) -> str:
    """The base data's ISBNs are invented: give them correct check digits."""
    d = isbn.replace("-", "")
    if len(d) == 13:
        check = (10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(d[:12])) % 10) % 10
        return d[:12] + str(check)
    check = (11 - sum((10 - i) * int(c) for i, c in enumerate(d[:9])) % 11) % 11
    return d[:9] + ("X" if check == 10 else str(check))


def _swap(text: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped in the longest word."""
    words = text.split()
    idx = max(range(len(words)), key=lambda i: len(words[i]))
    w = words[idx]
    pos = rng.randrange(1, len(w) - 2)
    words[idx] = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2 :]
    return " ".join(words)


def fold_kyrgyz(text: str) -> str:
    return text.translate(str.maketrans("өүңӨҮҢ", "оунОУН"))


def typo(text: str, rng: random.Random) -> str:
    words = text.split()
    idx = max(range(len(words)), key=lambda i: (len(words[i]), -i))
    w = words[idx]
    pos = rng.randrange(1, len(w) - 1)
    words[idx] = w[:pos] + w[pos + 1 :]  # one letter dropped
    return " ".join(words)


def isbn10(isbn13: str) -> str | None:
    if not isbn13.startswith("978"):
        return None
    core = isbn13[3:12]
    check = (11 - sum((10 - i) * int(c) for i, c in enumerate(core)) % 11) % 11
    return core[:1] + "-" + core[1:5] + "-" + core[5:] + "-" + ("X" if check == 10 else str(check))


def build() -> list[dict]:
    rng = random.Random(20261125)
    lines: list[dict] = []
    sources = ["knu", "nlkr", "auca", "cyberleninka", "elibrary", "osh-su", "vak", "zenodo"]

    def add(group: str, work: str, case: str, rec: dict) -> None:
        lines.append({"group": group, "work": work, "case": case, "record": rec})

    for n, base in enumerate(BASE, start=1):
        g = f"g{n:02d}"
        blang, btitle, bsub, bauthors, byear, btype, en, bdoi, bisbn = base
        bisbn = with_check_digit(bisbn) if bisbn else None
        src = rng.sample(sources, 6)
        w0 = f"{g}.w0"
        # Bilingual journals print an English title too; half the base records carry it.
        base_alt = [(en, "en")] if en and n % 2 else None
        add(g, w0, "base", make(base, source=src[0], local=f"{g}-a", title_alt=base_alt))
        cyr = blang in ("ru", "ky")
        # --- same work, other catalogues
        positives: list[tuple[str, dict]] = []
        if cyr:
            positives.append(
                (
                    "upper case, initials (CyberLeninka style)",
                    make(
                        base,
                        source=src[1],
                        local=f"{g}-b",
                        title=(btitle + (f": {bsub}" if bsub else "")).upper(),
                        authors=[f"{f.upper()} {initials(gv).upper()}" for f, gv in bauthors],
                        doi=False,
                    ),
                )
            )
            system = ["bgn", "ala", "gost"][n % 3]
            positives.append(
                (
                    f"transliterated ({system})",
                    make(
                        base,
                        source=src[2],
                        local=f"{g}-c",
                        title=translit(btitle, system),
                        subtitle=None,
                        authors=[f"{translit(f, system)}, {translit(initials(gv), system)}" for f, gv in bauthors],
                        isbn=False,
                    ),
                )
            )
        else:
            positives.append(
                (
                    "title case changed, initials only",
                    make(
                        base,
                        source=src[1],
                        local=f"{g}-b",
                        title=btitle.lower().capitalize(),
                        subtitle=bsub,
                        authors=[f"{f}, {initials(gv)}" for f, gv in bauthors],
                        doi=False,
                    ),
                )
            )
        if bsub:
            positives.append(("subtitle dropped", make(base, source=src[3], local=f"{g}-d", subtitle=None, doi=False)))
        if blang == "ky" and any(ch in btitle for ch in "өүң"):
            positives.append(
                (
                    "Kyrgyz letters typed as о у н",
                    make(
                        base,
                        source=src[3],
                        local=f"{g}-e",
                        title=fold_kyrgyz(btitle),
                        authors=[fold_kyrgyz(f"{f} {gv}") for f, gv in bauthors],
                    ),
                )
            )
        if len(btitle.split()) >= 4:
            positives.append(
                (
                    "one letter dropped",
                    make(base, source=src[4], local=f"{g}-f", title=typo(btitle, rng), subtitle=None),
                )
            )
        if btype == "article" and not bdoi and n % 2 == 0:
            positives.append(("online-first year", make(base, source=src[4], local=f"{g}-g", year=byear + 1)))
        if btype in ("book", "report") and n % 3 == 0:
            positives.append(("no authors in the catalogue", make(base, source=src[5], local=f"{g}-h", authors=[])))
        if bisbn and len(bisbn) == 13:
            ten = isbn10(bisbn)
            positives.append(
                (
                    "ISBN-10 in one copy, ISBN-13 in the other, GMD in title",
                    make(base, source=src[5], local=f"{g}-i", title=f"{btitle} [Текст]", subtitle=None, isbn=ten),
                )
            )
        if bdoi:
            positives.append(
                (
                    "same DOI, truncated title",
                    make(
                        base,
                        source=src[5],
                        local=f"{g}-j",
                        title=" ".join(btitle.split()[:3]),
                        subtitle=None,
                        doi="https://doi.org/" + bdoi.upper(),
                        authors=[],
                    ),
                )
            )
        if en:
            fam, gv = bauthors[0]
            positives.append(
                (
                    "English title of a bilingual record",
                    make(
                        base,
                        source=src[2],
                        local=f"{g}-k",
                        title=en,
                        lang="en",
                        subtitle=None,
                        authors=[f"{translit(f, 'bgn')}, {translit(initials(g2), 'bgn')}" for f, g2 in bauthors],
                        isbn=False,
                        title_alt=None if base_alt else [(btitle, blang)],
                    ),
                )
            )
        if n % 4 == 1:
            positives.append(
                (
                    "quotes, dashes and a trailing period",
                    make(
                        base,
                        source=src[3],
                        local=f"{g}-l",
                        title=btitle.replace("«", '"').replace("»", '"').replace("-", " - ") + ".",
                        subtitle=None,
                    ),
                )
            )
        for case, rec in positives:
            add(g, w0, case, rec)
        # --- different works that look alike
        if btype in ("book", "report"):
            add(
                g,
                f"{g}.w1",
                "new edition, years apart",
                make(base, source=src[1], local=f"{g}-n1", year=byear + rng.choice([3, 5, 8]), isbn=False),
            )
            add(
                g,
                f"{g}.w2",
                "second edition stated in the title, next year",
                make(
                    base,
                    source=src[3],
                    local=f"{g}-n2",
                    title=f"{btitle}. 2-е изд., перераб. и доп." if cyr else f"{btitle}. 2nd ed.",
                    subtitle=None,
                    year=byear + 1,
                    isbn=False,
                ),
            )
            add(
                g,
                f"{g}.w3",
                "volume 1 vs volume 2",
                make(
                    base,
                    source=src[4],
                    local=f"{g}-n3",
                    title=f"{btitle}. Т. 2" if cyr else f"{btitle}. Vol. 2",
                    subtitle=None,
                    isbn=False,
                ),
            )
        if btype in ("article", "dataset"):
            other = BASE[(n * 7) % len(BASE)]
            add(
                g,
                f"{g}.w4",
                "same author, another title",
                make(base, source=src[1], local=f"{g}-n4", title=other[1], subtitle=None, doi=False),
            )
        if btype == "article" and n % 3 == 0:
            add(
                g,
                f"{g}.w5",
                "conference paper a year before the article",
                make(base, source=src[5], local=f"{g}-n5", type="conference_paper", year=byear - 1, doi=False),
            )
        if btype == "article" and n % 3 == 1:
            add(
                g,
                f"{g}.w6",
                "dataset with the article's title",
                make(base, source="zenodo", local=f"{g}-n6", type="dataset", doi=f"10.5281/zenodo.{7000000 + n}"),
            )
        if btype == "dissertation":
            add(
                g,
                f"{g}.w7",
                "author's abstract of the dissertation",
                make(
                    base, source=src[2], local=f"{g}-n7", title=f"{btitle}: автореф. дис. ... канд. наук", subtitle=None
                ),
            )
            add(
                g,
                f"{g}.w8",
                "same title, doctoral dissertation years later",
                make(base, source=src[3], local=f"{g}-n8", year=byear + 7, subtitle=None),
            )
        if blang == "ky" and btype == "book":
            add(
                g,
                f"{g}.w9",
                "Russian translation of the Kyrgyz book",
                make(
                    base,
                    source=src[4],
                    local=f"{g}-n9",
                    title=TRANSLATIONS.get(btitle, f"Перевод: {btitle}"),
                    lang="ru",
                    year=byear + rng.choice([0, 2, 6]),
                    subtitle=None,
                    isbn=False,
                ),
            )
        if "Иссык-Куль" in btitle or "Бишкек" in btitle:
            add(
                g,
                f"{g}.w10",
                "same pattern, another place",
                make(
                    base,
                    source=src[5],
                    local=f"{g}-n10",
                    title=btitle.replace("Иссык-Куль", "Сон-Куль")
                    .replace("Бишкек", "Ош")
                    .replace("Иссык-Куле", "Сон-Куле"),
                    subtitle=None,
                    doi=False,
                ),
            )
        if bdoi and btype == "article":
            add(
                g,
                f"{g}.w11",
                "correction notice with its own DOI",
                make(
                    base,
                    source=src[4],
                    local=f"{g}-n11",
                    title=f"Correction to: {en or btitle}",
                    doi=bdoi + ".corr",
                    subtitle=None,
                ),
            )
        if n % 5 == 0 and btype == "article":
            add(
                g,
                f"{g}.w12",
                "part 1 and part 2 of a serial article",
                make(
                    base,
                    source=src[0],
                    local=f"{g}-n12",
                    title=f"{btitle}. Часть 2" if cyr else f"{btitle}. Part 2",
                    subtitle=None,
                    doi=False,
                ),
            )
            lines_part1 = make(
                base,
                source=src[1],
                local=f"{g}-n13",
                title=f"{btitle}. Часть 1" if cyr else f"{btitle}. Part 1",
                subtitle=None,
                doi=False,
            )
            add(g, f"{g}.w13", "part 1 and part 2 of a serial article", lines_part1)

    for n, base in enumerate(HOLDOUT, start=1):
        g = f"h{n:02d}"
        blang, btitle, bsub, bauthors, byear, btype, en, bdoi, bisbn = base
        bisbn = with_check_digit(bisbn) if bisbn else None
        src = rng.sample(sources, 6)
        cyr = blang in ("ru", "ky")
        w0 = f"{g}.w0"
        add(g, w0, "base", make(base, source=src[0], local=f"{g}-a"))
        add(
            g,
            w0,
            "given name first, no comma",
            make(base, source=src[1], local=f"{g}-b", authors=[f"{gv} {f}" for f, gv in bauthors], doi=False),
        )
        add(
            g,
            w0,
            "title with GMD and statement of responsibility",
            make(
                base,
                source=src[2],
                local=f"{g}-c",
                title=f"{btitle} [Электронный ресурс] / " + ", ".join(f"{initials(gv)} {f}" for f, gv in bauthors),
                doi=False,
                isbn=False,
            ),
        )
        add(g, w0, "no year in one copy", make(base, source=src[3], local=f"{g}-d", year=None, doi=False))
        if cyr:
            add(
                g,
                w0,
                "transliterated, given name first",
                make(
                    base,
                    source=src[4],
                    local=f"{g}-e",
                    title=translit(btitle, "bgn"),
                    authors=[f"{translit(gv, 'bgn')} {translit(f, 'bgn')}" for f, gv in bauthors],
                    doi=False,
                ),
            )
        if "Кыргызской Республики" in btitle:
            add(
                g,
                w0,
                "'Кыргызской Республики' abbreviated to 'КР'",
                make(base, source=src[5], local=f"{g}-f", title=btitle.replace("Кыргызской Республики", "КР")),
            )
        add(
            g,
            f"{g}.w1",
            "same title and author, a book years after the article"
            if btype == "article"
            else "same title and author, an article years later",
            make(
                base,
                source=src[5],
                local=f"{g}-n1",
                type="book" if btype != "book" else "article",
                year=(byear or 2000) + 4,
                doi=False,
                isbn=False,
            ),
        )
        add(
            g,
            f"{g}.w2",
            "issue 5 vs issue 6",
            make(
                base,
                source=src[1],
                local=f"{g}-n2",
                title=f"{btitle}. Вып. 6" if cyr else f"{btitle}. Issue 6",
                doi=False,
                isbn=False,
            ),
        )
        add(
            g,
            f"{g}.w3",
            "issue 5 vs issue 6",
            make(
                base,
                source=src[2],
                local=f"{g}-n3",
                title=f"{btitle}. Вып. 5" if cyr else f"{btitle}. Issue 5",
                doi=False,
                isbn=False,
            ),
        )
    for line in lines:
        line.setdefault("split", "holdout" if line["group"].startswith("h") else "tuning")

    for n, base in enumerate(HOLDOUT2, start=1):
        g = f"k{n:02d}"
        blang, btitle, bsub, bauthors, byear, btype, en, bdoi, bisbn = base
        src = rng.sample(sources, 6)
        cyr = blang in ("ru", "ky")
        w0 = f"{g}.w0"
        add(g, w0, "base", make(base, source=src[0], local=f"{g}-a"))
        add(
            g,
            w0,
            "subtitle after a dash",
            make(base, source=src[1], local=f"{g}-b", title=f"{btitle} - {bsub}" if bsub else btitle, subtitle=None),
        )
        add(
            g,
            w0,
            "patronymic dropped, two letters swapped",
            make(
                base,
                source=src[2],
                local=f"{g}-c",
                title=_swap(btitle, rng),
                subtitle=None,
                authors=[f"{f}, {gv.split()[0]}" for f, gv in bauthors],
                doi=False,
            ),
        )
        add(
            g,
            w0,
            "catalogue year one off (book or dissertation too)",
            make(base, source=src[3], local=f"{g}-d", year=byear + 1, doi=False),
        )
        if cyr:
            add(
                g,
                w0,
                "romanized with ö ü for Kyrgyz letters",
                make(
                    base,
                    source=src[4],
                    local=f"{g}-e",
                    title=translit(btitle, "bgn"),
                    subtitle=None,
                    authors=[f"{translit(f, 'bgn')}, {translit(gv, 'bgn')}" for f, gv in bauthors],
                ),
            )
        add(
            g,
            w0,
            "HTML entity and Title Case",
            make(base, source=src[5], local=f"{g}-f", title=btitle.title().replace(" И ", " &amp; "), subtitle=None),
        )
        add(
            g,
            f"{g}.w1",
            "review of the work",
            make(
                base,
                source=src[1],
                local=f"{g}-n1",
                title=(f"Рецензия на: {btitle}" if cyr else f"Review of: {btitle}"),
                authors=["Рахимова, Гульнара"],
                year=byear + 1,
                type="article",
                doi=False,
                isbn=False,
            ),
        )
        words = btitle.split()
        swapped = " ".join(words[:-1] + ["Иссык-Куля" if cyr else "Issyk-Kul"])
        add(
            g,
            f"{g}.w2",
            "same author and year, last word replaced",
            make(base, source=src[2], local=f"{g}-n2", title=swapped, subtitle=None, doi=False),
        )
        add(
            g,
            f"{g}.w3",
            "translated version, same year, no parallel title",
            make(
                base,
                source=src[3],
                local=f"{g}-n3",
                title=f"[translation] {translit(btitle, 'bgn')} (English version)",
                lang="en",
                doi=False,
            ),
        )
    for line in lines:
        line.setdefault("split", "holdout2" if line["group"].startswith("k") else "tuning")

    for k, (lang, title, rtype) in enumerate(GENERIC, start=1):
        g = f"x{k:02d}"
        for j, (fam, gv) in enumerate(rng.sample(GENERIC_AUTHORS, 3)):
            rec = {
                "source": sources[j],
                "local_id": f"{g}-{j}",
                "title": title,
                "lang": lang,
                "authors": [f"{fam}, {gv}"],
                "year": 2015 + (k % 3),
                "type": rtype,
            }
            add(g, f"{g}.w{j}", "same generic title, another author", rec)
        # and one true copy of the first, catalogued without authors in another library
        rec = dict(lines[-3]["record"], source="nlkr", local_id=f"{g}-copy", authors=[])
        add(g, f"{g}.w0", "generic title, copy without authors", rec)
    for line in lines:
        line.setdefault("split", "tuning")
    _distinct_sources(lines)
    from bench.dedup_families import build as adversarial

    return lines + adversarial(translit)


# More catalogues than any work has copies: a source holds one record of a work.
EXTRA_SOURCES = ["ksucta", "krsu", "manas", "iuk", "kstu", "kgma", "ion-nas", "bhu", "jasu", "talas-su"]


def _distinct_sources(lines: list[dict]) -> None:
    """Give the copies of one work distinct sources (a catalogue's two records are two items)."""
    used: dict[str, set[str]] = {}
    for line in lines:
        taken = used.setdefault(line["work"], set())
        rec = line["record"]
        if rec["source"] in taken:
            rec["source"] = next(s for s in EXTRA_SOURCES if s not in taken)
        taken.add(rec["source"])


TRANSLATIONS = {
    "Жамийла": "Джамиля",
    "Кыргыз тилинин грамматикасы": "Грамматика кыргызского языка",
    "Кыргыз элинин салттуу маданияты": "Традиционная культура кыргызского народа",
    "Айыл чарба өсүмдүктөрүнүн зыянкечтери": "Вредители сельскохозяйственных растений",
    "Кыргыз адабиятынын тарыхы": "История кыргызской литературы",
    "Нарын облусунун топонимдери": "Топонимы Нарынской области",
}


def main() -> None:
    lines = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    groups = {ln["group"] for ln in lines}
    print(f"wrote {len(lines)} records in {len(groups)} groups to {OUT}")


if __name__ == "__main__":
    main()
