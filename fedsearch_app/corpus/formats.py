"""Write a `Work` the way each partner would: oai_dc, MARCXML, a CSV row, a JSON line.

The same work comes out differently at each partner, as it does in life: the
repository gives full names and "Title: subtitle"; the catalogue gives
initials, ISBD punctuation ("Title : subtitle / И. О. Фамилия") and sometimes
capitals or another script; the dissertation register writes ФИО without a
comma; the patent office lists applicants and IPC classes.
"""

from __future__ import annotations

import json
import random
from xml.sax.saxutils import escape

from fedsearch_app.corpus.vocab import LANGS, transliterate
from fedsearch_app.corpus.works import Person, Work

MARC_LANG = {"ky": "kir", "ru": "rus", "en": "eng"}
TYPE_EU_REPO = {
    "article": "info:eu-repo/semantics/article",
    "conference_paper": "info:eu-repo/semantics/conferenceObject",
    "thesis": "info:eu-repo/semantics/masterThesis",
    "report": "info:eu-repo/semantics/report",
    "book": "info:eu-repo/semantics/book",
    "dataset": "Dataset",
    "project": "Project",
}
ACCESS_EU_REPO = {
    "open": "info:eu-repo/semantics/openAccess",
    "free": "info:eu-repo/semantics/closedAccess",
    "restricted": "info:eu-repo/semantics/restrictedAccess",
}
GENRE_RU = {
    "book": "Монография",
    "report": "Отчёт о НИР",
    "thesis": "Магистерская диссертация",
    "dissertation": "Автореферат диссертации",
    "article": "Статья",
    "conference_paper": "Доклад",
}

OAI_HOST = "repository.demo.kg"
OAI_HANDLE_PREFIX = "123456789"
CATALOGUE_ORG = "KG-BiNL"


def oai_identifier(n: int) -> str:
    return f"oai:{OAI_HOST}:{OAI_HANDLE_PREFIX}/{n}"


def isbn13(n: int) -> str:
    """A valid ISBN-13 for the n-th book: Kyrgyz group 9967 first, then Russian group 5."""
    body = f"9789967{n:05d}" if n < 100_000 else f"9785{n % 100_000_000:08d}"
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
    check = (10 - total % 10) % 10
    digits = body + str(check)
    if n < 100_000:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:9]}-{digits[9:12]}-{digits[12]}"
    return f"{digits[:3]}-{digits[3]}-{digits[4:8]}-{digits[8:12]}-{digits[12]}"


def issn(seven: str) -> str:
    total = sum(int(c) * w for c, w in zip(seven, range(8, 1, -1)))
    check = (11 - total % 11) % 11
    return f"{seven[:4]}-{seven[4:]}{'X' if check == 10 else check}"


def _e(text: str) -> str:
    return escape(text)


def _el(name: str, text: str, lang: str | None = None) -> str:
    attr = f' xml:lang="{lang}"' if lang else ""
    return f"<{name}{attr}>{_e(text)}</{name}>"


# --- the repository (OAI-PMH, oai_dc) ---------------------------------------------------


def oai_record(work: Work, n: int, isbn: str | None) -> str:
    """One OAI <record> (header + oai_dc metadata) on one line, namespaces declared on it."""
    latin = work.lang == "en"
    lang = work.lang
    title_sep = ": "
    if "punct" in work.variations:
        title_sep = ". "  # the catalogue's ISBD colon then differs more
    parts = [_el("dc:title", work.title_text(lang, title_sep), lang)]
    if work.alt_lang:
        parts.append(_el("dc:title", work.title_text(work.alt_lang), work.alt_lang))
    for p in work.authors:
        parts.append(_el("dc:creator", p.full(latin=latin)))
    if work.supervisor is not None:
        parts.append(_el("dc:contributor", work.supervisor.full(latin=latin)))
    for s in work.subjects:
        parts.append(_el("dc:subject", s[LANGS.index(lang)], lang))
    parts.append(_el("dc:subject", f"УДК {work.udc}"))
    parts.append(_el("dc:subject", f"ГРНТИ {work.grnti}"))
    if work.rng_state % 100 < 85:
        parts.append(_el("dc:description", work.abstract[lang], lang))
    parts.append(_el("dc:publisher", work.institution[1] if lang != "en" else work.institution[2]))
    parts.append(
        _el("dc:date", f"{work.year}-{work.month:02d}-{work.day:02d}" if work.rng_state % 3 else str(work.year))
    )
    parts.append(_el("dc:type", TYPE_EU_REPO[work.type]))
    parts.append(_el("dc:identifier", f"https://{OAI_HOST}/handle/{OAI_HANDLE_PREFIX}/{n}"))
    if work.doi:
        parts.append(_el("dc:identifier", f"https://doi.org/{work.doi}"))
    if isbn:
        parts.append(_el("dc:identifier", f"ISBN {isbn}"))
    if work.journal:
        parts.append(
            _el("dc:source", f"{work.journal[0]}; Т. {work.volume}, № {work.issue} ({work.year}); {work.page_range}")
        )
        parts.append(_el("dc:source", issn(work.journal[1])))
    parts.append(_el("dc:language", lang))
    parts.append(_el("dc:rights", ACCESS_EU_REPO[work.access]))
    if work.access == "open":
        parts.append(_el("dc:format", "application/pdf"))
    dc = (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">' + "".join(parts) + "</oai_dc:dc>"
    )
    header = (
        f"<header><identifier>{oai_identifier(n)}</identifier><datestamp>{work.datestamp}</datestamp>"
        f"<setSpec>col_{work.discipline.key}</setSpec></header>"
    )
    return f'<record xmlns="http://www.openarchives.org/OAI/2.0/">{header}<metadata>{dc}</metadata></record>'


# --- the library catalogue (SRU, MARCXML) -----------------------------------------------


def _sf(code: str, value: str) -> str:
    return f'<subfield code="{code}">{_e(value)}</subfield>'


def _df(tag: str, ind1: str, ind2: str, *subfields: tuple[str, str]) -> str:
    return (
        f'<datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">'
        + "".join(_sf(c, v) for c, v in subfields)
        + "</datafield>"
    )


def _cf(tag: str, value: str) -> str:
    return f'<controlfield tag="{tag}">{_e(value)}</controlfield>'


def _catalogue_title(work: Work) -> tuple[str, str | None]:
    main, sub = work.title[work.lang]
    if "upper" in work.variations:
        main, sub = main.upper(), sub.upper() if sub else None
    if "punct" in work.variations:
        main = main.replace("«", '"').replace("»", '"').replace("-", " - ")
    if "yo" in work.variations:
        main = main.replace("ё", "е").replace("Ё", "Е")
        sub = sub.replace("ё", "е") if sub else None
    return main, sub


def marc_record(work: Work, control: int, isbn: str | None) -> str:
    """One MARCXML <record> on one line (its namespace comes from the <collection>)."""
    latin = work.lang == "en"
    leader_type = {"article": "nab", "conference_paper": "naa"}.get(work.type, "nam")
    leader = f"00000{leader_type} a2200000 i 4500"
    stamp = work.datestamp.replace("-", "").replace("T", "").replace(":", "").rstrip("Z") + ".0"
    created = f"{work.datestamp[2:4]}{work.datestamp[5:7]}{work.datestamp[8:10]}"
    f008 = f"{created}s{work.year}    kg            000 0 {MARC_LANG[work.lang]} d"
    fields = [_cf("001", str(control)), _cf("003", CATALOGUE_ORG), _cf("005", stamp), _cf("008", f008)]
    if isbn:
        fields.append(_df("020", " ", " ", ("a", isbn)))
    if work.doi and (not work.variations or "shared_id" in work.variations):
        fields.append(_df("024", "7", " ", ("a", work.doi), ("2", "doi")))
    fields.append(_df("040", " ", " ", ("a", CATALOGUE_ORG), ("b", "rus"), ("e", "rcr")))
    fields.append(_df("041", "0", " ", ("a", MARC_LANG[work.lang])))
    fields.append(_df("080", " ", " ", ("a", work.udc)))
    fields.append(_df("084", " ", " ", ("a", work.grnti), ("2", "rugasnti")))
    flip = "translit" in work.variations

    def heading(p: Person, first: bool) -> str:
        return p.initials(latin=(not latin) if (first and flip) else latin)

    main, sub = _catalogue_title(work)
    resp = ", ".join(p.initials_first() if not latin else transliterate(p.initials_first()) for p in work.authors[:3])
    if work.authors:
        fields.append(_df("100", "1", " ", ("a", heading(work.authors[0], True)), ("4", "aut")))
    title_sf = [("a", main + (" :" if sub else " /" if resp else ""))]
    if sub:
        title_sf.append(("b", sub + (" /" if resp else "")))
    if resp:
        title_sf.append(("c", resp))
    fields.append(_df("245", "1" if work.authors else "0", "0", *title_sf))
    if work.alt_lang:
        fields.append(_df("246", "3", "1", ("a", work.title_text(work.alt_lang))))
    if work.type == "article" and work.journal:
        pass  # an analytic record: the host item goes in 773
    else:
        pub, place = work.publisher or ("Илим", "Бишкек")
        fields.append(_df("264", " ", "1", ("a", place + " :"), ("b", pub + ","), ("c", f"{work.year}.")))
        fields.append(_df("300", " ", " ", ("a", f"{work.pages} с.")))
    if work.type in ("dissertation", "thesis"):
        note = (
            f"Автореферат диссертации на соискание ученой степени {work.degree or 'магистра'}"
            if work.type == "dissertation"
            else "Магистерская диссертация"
        )
        fields.append(_df("502", " ", " ", ("a", note)))
    if work.rng_state % 10 < 3:
        fields.append(_df("520", " ", " ", ("a", work.abstract[work.lang])))
    for s in work.subjects:
        # Catalogues give subject headings in Russian whatever the book's language.
        fields.append(_df("650", " ", "4", ("a", s[1] if work.lang != "en" else s[2])))
    genre = GENRE_RU.get(work.type)
    if genre:
        fields.append(_df("655", " ", "4", ("a", genre)))
    for p in work.authors[1:]:
        fields.append(_df("700", "1", " ", ("a", heading(p, False)), ("4", "aut")))
    if work.type == "article" and work.journal:
        fields.append(
            _df(
                "773",
                "0",
                " ",
                ("t", work.journal[0]),
                ("g", f"{work.year}. - Т. {work.volume}, № {work.issue}. - С. {work.page_range}"),
                ("x", issn(work.journal[1])),
            )
        )
    if work.access == "open" and work.rng_state % 4 == 0:
        fields.append(_df("856", "4", "0", ("u", f"https://elib.demo.kg/record/{control}")))
    return f"<record><leader>{leader}</leader>" + "".join(fields) + "</record>"


# --- the dissertation register (CSV) ----------------------------------------------------

CSV_COLUMNS = (
    "Рег. номер",
    "Тема диссертации",
    "ФИО соискателя",
    "Ученая степень",
    "Шифр специальности",
    "Специальность",
    "Год защиты",
    "Дата защиты",
    "Организация",
    "Научный руководитель",
    "Язык",
    "Аннотация",
)


def csv_row(work: Work, n: int) -> list[str]:
    author = work.authors[0]
    sup = work.supervisor
    r = random.Random(work.rng_state)
    return [
        csv_reg_number(work, n),
        work.title_text(),
        author.natural(),
        work.degree or "",
        work.vak[0],
        work.vak[1],
        str(work.year),
        f"{work.day:02d}.{work.month:02d}.{work.year}",
        work.institution[1],
        sup.natural() if sup else "",
        {"ky": "кыргызский", "ru": "русский", "en": "английский"}[work.lang],
        work.abstract[work.lang] if r.random() < 0.6 else "",
    ]


def csv_reg_number(work: Work, n: int) -> str:
    return f"Д-{work.year}-{n:06d}"


# --- the patent register (JSON Lines) ---------------------------------------------------

APPLICANT_ORGS = (
    "Кыргызский государственный технический университет им. И. Раззакова",
    "Институт химии и фитотехнологий НАН КР",
    "Институт геологии им. М. М. Адышева НАН КР",
    "ОсОО «Тоо-Кен Инжиниринг»",
    "Кыргызский национальный аграрный университет им. К. И. Скрябина",
    "Институт водных проблем и гидроэнергетики НАН КР",
    "ОАО «Электрические станции»",
)


def patent_number(n: int) -> str:
    return f"KG{1000 + n}"


def patent_json(work: Work, n: int) -> str:
    r = random.Random(work.rng_state)
    kind = r.choices(("C1", "C2", "U"), weights=(70, 10, 20))[0]
    inventors = [p.natural() for p in work.authors]
    applicants = list(inventors) if r.random() < 0.45 else [r.choice(APPLICANT_ORGS)]
    filed_year = max(1995, work.year - r.randint(1, 2))
    doc = {
        "patent_number": patent_number(n),
        "kind": kind,
        "title": work.title_text(),
        "title_lang": work.lang,
        "ipc": work.ipc,
        "applicants": applicants,
        "inventors": inventors,
        "year": work.year,
        "application_number": f"{filed_year}{r.randint(1, 120):04d}.1",
        "filing_date": f"{filed_year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
        "publication_date": f"{work.year}-{work.month:02d}-{work.day:02d}",
        "abstract": work.abstract[work.lang] if r.random() < 0.9 else None,
        "url": f"https://patent.demo.kg/{patent_number(n)}",
        "updated": work.datestamp,
    }
    if work.lang != "ru":
        doc["title_ru"] = work.title_text("ru")
    return json.dumps(doc, ensure_ascii=False)
