"""The one mapping table from partners' words to our controlled values.

Record types, languages, access, contributor roles and classification schemes
all arrive as free text, codes or URIs (Dublin Core, COAR, info:eu-repo, MARC
leaders, UNIMARC codes, Russian and Kyrgyz catalogue words). Every normalizer
looks them up here, so a new spelling is added in one place (docs/normalization.md).
Mostly data (the tables), hence its length: each table sits beside its one small lookup.
"""

from __future__ import annotations

import re
from functools import lru_cache

from fedsearch.record import Access, RecordType

T = RecordType
# The lookups below are cached (lru_cache): the tables are fixed at import, and the same few
# values (language codes, type terms, rights statements, roles) arrive with every record.


@lru_cache(maxsize=20_000)
def _key(value: str) -> str:
    """Lower case, ё->е, punctuation and underscores to spaces, spaces collapsed."""
    value = value.lower().replace("ё", "е")
    value = re.sub(r"[\s_\-–—/.,;:()\[\]«»\"'!?]+", " ", value)
    return value.strip()


# ---------------------------------------------------------------- languages

# ISO 639-1 code (or 639-2 where no two-letter code exists) -> every spelling we have met.
_LANGUAGE_ALIASES: dict[str, tuple[str, ...]] = {
    "ky": (
        "kir",
        "kgz",
        "kyr",
        "kirghiz",
        "kirgiz",
        "kyrgyz",
        "kirgyz",
        "кыргызский",
        "киргизский",
        "кыргызча",
        "кыргыз тили",
        "кыргыз",
        "кирг",
        "кырг",
        "кыр",
        "кыргыз тилинде",
    ),
    "ru": (
        "rus",
        "russian",
        "русский",
        "русский язык",
        "рус",
        "russkii",
        "russkiy",
        "орусча",
        "орус тили",
        "орус",
        "russisch",
        "russe",
        "на русском языке",
        "русском",
    ),
    "en": ("eng", "english", "английский", "англ", "англисче", "англис тили", "englisch", "anglais"),
    "kk": ("kaz", "kazakh", "kazak", "казахский", "каз", "казакча", "казак тили", "қазақша", "қазақ тілі"),
    "uz": (
        "uzb",
        "uzbek",
        "узбекский",
        "узб",
        "өзбекче",
        "өзбек тили",
        "ozbek",
        "oʻzbekcha",
        "o'zbekcha",
        "ўзбекча",
        "ozbekcha",
    ),
    "tg": ("tgk", "taj", "tajik", "таджикский", "тадж", "тажикче", "тоҷикӣ", "tojiki"),
    "tr": ("tur", "turkish", "турецкий", "тур", "түркчө", "turkce", "türkçe"),
    "tk": ("tuk", "turkmen", "туркменский", "түркмөнчө"),
    "az": ("aze", "azerbaijani", "азербайджанский"),
    "tt": ("tat", "tatar", "татарский"),
    "ba": ("bak", "bashkir", "башкирский"),
    "uk": ("ukr", "ukrainian", "украинский", "укр", "українська"),
    "be": ("bel", "belarusian", "белорусский"),
    "de": ("ger", "deu", "german", "deutsch", "немецкий", "нем", "немисче"),
    "fr": ("fre", "fra", "french", "francais", "français", "французский", "фр", "франц", "французча"),
    "es": ("spa", "spanish", "espanol", "español", "испанский", "исп"),
    "it": ("ita", "italian", "italiano", "итальянский", "итал"),
    "pt": ("por", "portuguese", "португальский"),
    "nl": ("dut", "nld", "dutch", "nederlands", "голландский", "нидерландский"),
    "pl": ("pol", "polish", "polski", "польский"),
    "cs": ("cze", "ces", "czech", "чешский"),
    "sv": ("swe", "swedish", "шведский"),
    "no": ("nor", "norwegian", "норвежский"),
    "nb": ("nob", "bokmal", "bokmål"),
    "nn": ("nno", "nynorsk"),
    "da": ("dan", "danish", "датский"),
    "fi": ("fin", "finnish", "финский"),
    "hu": ("hun", "hungarian", "венгерский"),
    "el": ("gre", "ell", "greek", "греческий"),
    "la": ("lat", "latin", "латинский"),
    "zh": ("chi", "zho", "chinese", "китайский", "кыт", "кытайча"),
    "ja": ("jpn", "japanese", "японский"),
    "ko": ("kor", "korean", "корейский"),
    "ar": ("ara", "arabic", "арабский", "арабча"),
    "fa": ("per", "fas", "persian", "farsi", "персидский"),
    "hi": ("hin", "hindi", "хинди"),
    "he": ("heb", "hebrew", "иврит"),
    "mn": ("mon", "mongolian", "монгольский"),
    "ka": ("geo", "kat", "georgian", "грузинский"),
    "hy": ("arm", "hye", "armenian", "армянский"),
    "ug": ("uig", "uighur", "uyghur", "уйгурский"),
    "cu": ("chu", "church slavonic", "церковнославянский", "церковно славянский"),
}
# Values that say "no single language" or nothing at all.
_NO_LANGUAGE = {"", "und", "mul", "zxx", "mis", "other", "others", "n a", "none", "unknown", "multiple", "various"}

LANGUAGES: dict[str, str] = {}
for _code, _aliases in _LANGUAGE_ALIASES.items():
    LANGUAGES[_code] = _code
    for _alias in _aliases:
        LANGUAGES[_key(_alias)] = _code


@lru_cache(maxsize=20_000)
def language_code(value: str | None) -> str | None:
    """ISO 639-1 code (639-2 where there is none) for a code, locale or name; None if unknown.

    >>> language_code("kgz"), language_code("en_US"), language_code("русский")
    ('ky', 'en', 'ru')
    """
    if not value:
        return None
    raw = value.strip()
    key = _key(raw)
    if key in _NO_LANGUAGE:
        return None
    if key in LANGUAGES:
        return LANGUAGES[key]
    # Locales and tags: en_US, ru-RU, ky-Cyrl-KG, "en;q=0.8".
    m = re.match(r"^([a-z]{2,3})(?:[-_ ][a-z0-9]{2,8})+$", raw.lower().split(";")[0].strip())
    if m:
        return LANGUAGES.get(m.group(1))
    # "язык: русский", "Russian language", "на кыргызском языке"
    for word in key.split():
        stem = re.sub(r"(ом|ой|ая|ий|ый|ский)$", "", word)
        for cand in (word, stem):
            if len(cand) >= 3 and cand in LANGUAGES and cand not in _TOO_SHORT_WORDS:
                return LANGUAGES[cand]
    for code, aliases in _LANGUAGE_ALIASES.items():
        if any(len(a) >= 5 and a in key for a in aliases):
            return code
    return None


# Three-letter aliases that are also ordinary words or ambiguous inside text.
_TOO_SHORT_WORDS = {"тур", "кыр", "нем", "каз", "рус", "узб", "укр", "исп", "кыт", "per", "geo", "arm", "tur"}


@lru_cache(maxsize=20_000)
def says_no_language(value: str) -> bool:
    """'und', 'mul', 'other', '': a value that names no single language (not an unknown one)."""
    return _key(value) in _NO_LANGUAGE


def split_language_codes(value: str) -> list[str]:
    """MARC 041 sometimes concatenates codes ("engrus"); split those, keep others whole."""
    value = value.strip()
    if len(value) > 3 and len(value) % 3 == 0 and value.isalpha() and value.islower() and " " not in value:
        return [value[i : i + 3] for i in range(0, len(value), 3)]
    return [value]


# ------------------------------------------------------------------ types

# Words that describe a format or version, not a type: skipped without a warning.
TYPE_NOISE = {
    "text",
    "текст",
    "текстовый",
    "peerreviewed",
    "peer reviewed",
    "nonpeerreviewed",
    "published",
    "publishedversion",
    "acceptedversion",
    "submittedversion",
    "updatedversion",
    "draft",
    "draftversion",
    "electronic",
    "электронный ресурс",
    "электронный",
    "print",
    "info eu repo semantics publishedversion",
    "info eu repo semantics acceptedversion",
    "info eu repo semantics submittedversion",
    "info eu repo semantics updatedversion",
    "info eu repo semantics draft",
    "refereed",
    "рецензируемая",
    "печатный",
    "still image",
    "stillimage",
    "collection",
    "physical object",
}

# Exact terms (after _key) -> type.
TYPE_TERMS: dict[str, RecordType] = {
    # info:eu-repo/semantics/* (OpenAIRE) and DRIVER types, compared by their last segment.
    "article": T.article,
    "journalarticle": T.article,
    "journal article": T.article,
    "research article": T.article,
    "contributiontoperiodical": T.article,
    "review": T.article,
    "bookreview": T.article,
    "preprint": T.article,
    "annotation": T.article,
    "academicarticle": T.article,
    "letter": T.article,
    "editorial": T.article,
    "scholarly article": T.article,
    "paper": T.article,
    "datapaper": T.article,
    "data paper": T.article,
    "book": T.book,
    "monograph": T.book,
    "textbook": T.book,
    "edited book": T.book,
    "proceedings": T.conference_paper,
    "bookpart": T.chapter,
    "book part": T.chapter,
    "bookchapter": T.chapter,
    "book chapter": T.chapter,
    "chapter": T.chapter,
    "section": T.chapter,
    "inbook": T.chapter,
    "incollection": T.chapter,
    "thesis": T.thesis,
    "bachelorthesis": T.thesis,
    "masterthesis": T.thesis,
    "master thesis": T.thesis,
    "studentthesis": T.thesis,
    "diploma thesis": T.thesis,
    "doctoralthesis": T.dissertation,
    "doctoral thesis": T.dissertation,
    "phd thesis": T.dissertation,
    "phdthesis": T.dissertation,
    "dissertation": T.dissertation,
    "patent": T.patent,
    "dataset": T.dataset,
    "data set": T.dataset,
    "data": T.dataset,
    "report": T.report,
    "technical report": T.report,
    "workingpaper": T.report,
    "working paper": T.report,
    "researchreport": T.report,
    "reportpart": T.report,
    "techreport": T.report,
    "report part": T.report,
    "conferenceobject": T.conference_paper,
    "conference object": T.conference_paper,
    "conference paper": T.conference_paper,
    "conferencepaper": T.conference_paper,
    "conferenceproceeding": T.conference_paper,
    "conference proceedings": T.conference_paper,
    "conferenceposter": T.conference_paper,
    "conference poster": T.conference_paper,
    "inproceedings": T.conference_paper,
    "lecture": T.conference_paper,
    "poster": T.conference_paper,
    "presentation": T.conference_paper,
    "project": T.project,
    "research project": T.project,
    "software": T.other,
    "image": T.other,
    "video": T.other,
    "audiovisual": T.other,
    "sound": T.other,
    "other": T.other,
    "map": T.other,
    "model": T.other,
    "workflow": T.other,
    "standard": T.other,
    "interactiveresource": T.other,
    "event": T.other,
    "service": T.other,
    "periodical": T.other,
    "journal": T.other,
    # Russian catalogue words
    "статья": T.article,
    "научная статья": T.article,
    "статья в журнале": T.article,
    "журнальная статья": T.article,
    "статья из журнала": T.article,
    "рецензия": T.article,
    "препринт": T.article,
    "книга": T.book,
    "монография": T.book,
    "учебник": T.book,
    "учебное пособие": T.book,
    "сборник": T.book,
    "справочник": T.book,
    "словарь": T.book,
    "методическое пособие": T.book,
    "учебно методическое пособие": T.book,
    "глава": T.chapter,
    "глава книги": T.chapter,
    "раздел книги": T.chapter,
    "статья в сборнике": T.chapter,
    "статья из сборника": T.chapter,
    "часть книги": T.chapter,
    "диссертация": T.dissertation,
    "автореферат": T.dissertation,
    "автореферат диссертации": T.dissertation,
    "кандидатская диссертация": T.dissertation,
    "докторская диссертация": T.dissertation,
    "магистерская диссертация": T.thesis,
    "дипломная работа": T.thesis,
    "выпускная квалификационная работа": T.thesis,
    "вкр": T.thesis,
    "курсовая работа": T.thesis,
    "бакалаврская работа": T.thesis,
    "магистерская работа": T.thesis,
    "патент": T.patent,
    "авторское свидетельство": T.patent,
    "изобретение": T.patent,
    "полезная модель": T.patent,
    "патент на изобретение": T.patent,
    "промышленный образец": T.patent,
    "набор данных": T.dataset,
    "датасет": T.dataset,
    "база данных": T.dataset,
    "отчет": T.report,
    "отчет о нир": T.report,
    "научный отчет": T.report,
    "препринт отчета": T.report,
    "доклад": T.conference_paper,
    "тезисы": T.conference_paper,
    "тезисы доклада": T.conference_paper,
    "материалы конференции": T.conference_paper,
    "статья в материалах конференции": T.conference_paper,
    "проект": T.project,
    # Kyrgyz catalogue words
    "макала": T.article,
    "илимий макала": T.article,
    "китеп": T.book,
    "окуу китеби": T.book,
    "окуу куралы": T.book,
    "бап": T.chapter,
    "китептин бөлүмү": T.chapter,
    "диссертациянын авторефераты": T.dissertation,
    "маалыматтар топтому": T.dataset,
    "маалымат базасы": T.dataset,
    "баяндама": T.conference_paper,
    "конференциянын материалдары": T.conference_paper,
    "долбоор": T.project,
    # Kazakh / Uzbek words seen in regional repositories
    "мақала": T.article,
    "кітап": T.book,
    "maqola": T.article,
    "kitob": T.book,
}
TYPE_TERMS = {_key(k): v for k, v in TYPE_TERMS.items()}

# When no exact term matches: ordered keyword rules (first hit wins; specific before general).
TYPE_KEYWORDS: tuple[tuple[re.Pattern[str], RecordType], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (r"автореф|autoref", T.dissertation),
        (r"магистерск|master|bachelor|бакалавр|дипломн|diploma|выпускн", T.thesis),
        (r"диссертац|dissertat|doctoral|ph ?d|кандидатск|докторск|candidate of", T.dissertation),
        (r"thesis", T.thesis),
        (r"patent|патент|изобретен|полезн\w* модел|авторск\w* свидетельств", T.patent),
        (r"dataset|data set|набор данных|датасет|маалымат", T.dataset),
        (r"chapter|bookpart|book part|глава|раздел книг|бөлүм|статья (в|из) сборник", T.chapter),
        (
            r"conference|proceedings|конференц|симпозиум|тезисы|доклад|congress|конгресс|poster|семинар",
            T.conference_paper,
        ),
        (r"report|отч[её]т|working paper|записка", T.report),
        (r"article|статья|статьи|макала|мақала|journal|журнал", T.article),
        (r"book|monograph|книга|монограф|учебн|пособие|китеп|textbook|handbook|справочник|словарь", T.book),
        (r"project|проект|долбоор", T.project),
    )
)

# COAR resource type URIs (http://purl.org/coar/resource_type/c_xxxx).
COAR_TYPES: dict[str, RecordType] = {
    "c_6501": T.article,
    "c_2df8fbb1": T.article,
    "c_dcae04bc": T.article,
    "c_816b": T.article,
    "c_beb9": T.article,
    "c_3e5a": T.article,
    "c_545b": T.article,
    "c_efa0": T.article,
    "c_2f33": T.book,
    "c_3248": T.chapter,
    "c_86bc": T.book,
    "c_46ec": T.thesis,
    "c_7a1f": T.thesis,
    "c_bdcc": T.thesis,
    "c_db06": T.dissertation,
    "c_15cd": T.patent,
    "c_ddb1": T.dataset,
    "c_93fc": T.report,
    "c_8042": T.report,
    "c_18ws": T.report,
    "c_5794": T.conference_paper,
    "c_c94f": T.conference_paper,
    "c_f744": T.conference_paper,
    "c_6670": T.conference_paper,
    "c_c94f_": T.conference_paper,
    "c_18cp": T.conference_paper,
    "c_18gh": T.report,
    "c_1843": T.other,
    "c_5ce6": T.other,
    "c_18cf": T.other,
}

# DataCite resourceTypeGeneral.
DATACITE_TYPES: dict[str, RecordType] = {
    "book": T.book,
    "bookchapter": T.chapter,
    "conferencepaper": T.conference_paper,
    "conferenceproceeding": T.book,
    "datapaper": T.article,
    "dataset": T.dataset,
    "dissertation": T.dissertation,
    "journalarticle": T.article,
    "preprint": T.article,
    "report": T.report,
    "peerreview": T.article,
    "standard": T.other,
    "software": T.other,
    "computationalnotebook": T.other,
    "collection": T.other,
    "image": T.other,
    "audiovisual": T.other,
    "sound": T.other,
    "model": T.other,
    "workflow": T.other,
    "physicalobject": T.other,
    "interactiveresource": T.other,
    "event": T.other,
    "service": T.other,
    "journal": T.other,
    "outputmanagementplan": T.other,
    "instrument": T.other,
    "studyregistration": T.other,
    "text": T.other,
    "other": T.other,
    "project": T.project,
}


@lru_cache(maxsize=20_000)
def record_type(term: str | None) -> RecordType | None:
    """The type a free-text term, URI or code means; None if it says nothing we know.

    >>> record_type("info:eu-repo/semantics/article"), record_type("Диссертация")
    (<RecordType.article: 'article'>, <RecordType.dissertation: 'dissertation'>)
    """
    if not term:
        return None
    raw = term.strip()
    low = raw.lower()
    m = re.search(r"resource_type/(c_[0-9a-z]+)", low)
    if m and m.group(1) in COAR_TYPES:
        return COAR_TYPES[m.group(1)]
    if low.startswith(
        (
            "info:eu-repo/semantics/",
            "http://purl.org/ontology/bibo/",
            "bibo:",
            "http://purl.org/spar/fabio/",
            "http://schema.org/",
            "https://schema.org/",
        )
    ):
        tail = re.split(r"[/:#]", raw.rstrip("/"))[-1]
        k = _key(tail)
        if k in TYPE_TERMS:
            return TYPE_TERMS[k]
        low = tail.lower()
    key = _key(low)
    if key in TYPE_TERMS:
        return TYPE_TERMS[key]
    # camelCase terms: "conferenceObject" -> "conferenceobject" already; "Book chapter" handled above.
    compact = key.replace(" ", "")
    if compact in TYPE_TERMS:
        return TYPE_TERMS[compact]
    for pattern, rtype in TYPE_KEYWORDS:
        if pattern.search(key):
            return rtype
    return None


@lru_cache(maxsize=20_000)
def is_type_noise(term: str) -> bool:
    """A dc:type value that describes a format or version rather than a type ("Text", "PeerReviewed")."""
    return _key(term) in TYPE_NOISE or _key(term.rsplit("/", 1)[-1]) in TYPE_NOISE


# MARC 21 leader/06 (type of record) -> type for language material and others.
MARC21_RECORD_TYPES: dict[str, RecordType | None] = {
    "a": None,
    "t": None,  # language material: decided by leader/07 and 008
    "m": T.other,
    "e": T.other,
    "f": T.other,
    "g": T.other,
    "k": T.other,
    "i": T.other,
    "j": T.other,
    "c": T.other,
    "d": T.other,
    "o": T.other,
    "p": T.other,
    "r": T.other,
}
# MARC 21 leader/07 (bibliographic level) for language material.
MARC21_LEVELS: dict[str, RecordType] = {
    "m": T.book,
    "c": T.book,
    "d": T.book,
    "a": T.chapter,
    "b": T.article,
    "s": T.other,
    "i": T.other,
}
# MARC 21 008/24-27 (books: nature of contents) codes that decide the type.
MARC21_CONTENTS: dict[str, RecordType] = {"m": T.thesis, "t": T.report, "j": T.patent}
# UNIMARC leader/06 (type of record): a, b printed and manuscript text; l electronic resource.
UNIMARC_RECORD_TYPES: dict[str, RecordType | None] = {
    "a": None,
    "b": None,
    "l": None,
    "c": T.other,
    "d": T.other,
    "e": T.other,
    "f": T.other,
    "g": T.other,
    "i": T.other,
    "j": T.other,
    "k": T.other,
    "m": T.other,
    "r": T.other,
}
# UNIMARC leader/07 (bibliographic level).
UNIMARC_LEVELS: dict[str, RecordType] = {"m": T.book, "c": T.book, "a": T.article, "s": T.other, "i": T.other}
# UNIMARC 105$a/4-7 (form of contents) codes that decide the type.
UNIMARC_CONTENTS: dict[str, RecordType] = {"m": T.dissertation, "v": T.dissertation, "k": T.report, "j": T.patent}


@lru_cache(maxsize=20_000)
def degree_type(note: str) -> RecordType:
    """A dissertation note (MARC 502, UNIMARC 328): candidate/doctoral degrees are dissertations."""
    key = _key(note)
    if re.search(r"master|bachelor|магистр|бакалавр|диплом|m ?a\b|m ?sc?\b|b ?a\b", key):
        return T.thesis
    return T.dissertation


# ------------------------------------------------------------------ access

_OPEN = re.compile(
    r"openaccess|open access|открытый доступ|ачык жеткиликт|эркин жеткиликт|creativecommons|creative commons"
    r"|(?<![a-z])cc[ _-]?(by|0|zero)(?![a-z])|public ?domain|publicdomain|общественное достояние"
    r"|apache\.org/licenses|apache licen|opensource\.org|gnu\.org/licenses|\bgnu (a?gpl|lgpl|general)"
    r"|\bmit licen|\bbsd\b.*licen|\bodc[- ]?(by|odbl|pddl)|opendatacommons|etalab|\bogl\b|open government licen"
)
_RESTRICTED = re.compile(
    r"restrictedaccess|closedaccess|embargoedaccess|metadataonlyaccess|restricted access|closed access"
    r"|embargo|ограниченн\w* доступ|закрыт\w* доступ|чектелген|доступ ограничен|для служебного пользования|дсп\b"
    r"|only available to|campus only|authorized users"
)
_FREE = re.compile(r"free to read|freely available|free access|свободн\w* доступ|бесплатн|бекер|эркин окуу")

ACCESS_ORDER = (Access.open, Access.free, Access.restricted, Access.unknown)


@lru_cache(maxsize=20_000)
def access_from_rights(statement: str | None) -> Access | None:
    """What one rights statement (licence, URI, free text) says about access; None if nothing."""
    if not statement:
        return None
    text = statement.lower()
    if _RESTRICTED.search(text):
        return Access.restricted
    if _OPEN.search(text):
        return Access.open
    if _FREE.search(text):
        return Access.free
    return None


def best_access(values: list[Access]) -> Access:
    """The most open of several (a merged record is as open as its most open copy)."""
    for level in ACCESS_ORDER:
        if level in values:
            return level
    return Access.unknown


# ------------------------------------------------------------------ roles

# Relator codes and words -> our role; None means "author".
ROLES: dict[str, str | None] = {
    "aut": None,
    "cre": None,
    "автор": None,
    "авт": None,
    "070": None,
    "author": None,
    "creator": None,
    "edt": "editor",
    "ed": "editor",
    "eds": "editor",
    "editor": "editor",
    "ред": "editor",
    "редактор": "editor",
    "отв ред": "editor",
    "под ред": "editor",
    "340": "editor",
    "гл ред": "editor",
    "pbd": "editor",
    "trl": "translator",
    "translator": "translator",
    "пер": "translator",
    "переводчик": "translator",
    "730": "translator",
    "ths": "supervisor",
    "dgs": "supervisor",
    "727": "supervisor",
    "науч рук": "supervisor",
    "научный руководитель": "supervisor",
    "supervisor": "supervisor",
    "advisor": "supervisor",
    "адвизор": "supervisor",
    "илимий жетекчи": "supervisor",
    "opn": "opponent",
    "оппонент": "opponent",
    "офиц оппонент": "opponent",
    "555": "opponent",
    "com": "compiler",
    "comp": "compiler",
    "compiler": "compiler",
    "сост": "compiler",
    "составитель": "compiler",
    "220": "compiler",
    "ill": "illustrator",
    "ил": "illustrator",
    "440": "illustrator",
    "ctb": "contributor",
    "contributor": "contributor",
    "205": "contributor",
    "rev": "reviewer",
    "рец": "reviewer",
    "рецензент": "reviewer",
    "inv": "inventor",
    "изобретатель": "inventor",
    "584": "inventor",
    "pta": "applicant",
    "патентообладатель": "applicant",
}
ROLES = {_key(k): v for k, v in ROLES.items()}
# Roles that still make someone an author of the work.
AUTHOR_ROLES = {None, "inventor"}


@lru_cache(maxsize=20_000)
def role(value: str | None) -> str | None:
    """Our role name for a relator code or term; None for an author; unknown terms pass through folded."""
    if not value:
        return None
    key = _key(value)
    if key in ROLES:
        return ROLES[key]
    return key or None


# ------------------------------------------------------------------ classifications

CLASSIFICATION_SCHEMES: dict[str, str] = {
    "udc": "udc",
    "udk": "udc",
    "удк": "udc",
    "udc4": "udc",
    "mrf": "udc",
    "grnti": "grnti",
    "грнти": "grnti",
    "rugasnti": "grnti",
    "ргнти": "grnti",
    "гаснти": "grnti",
    "rubbk": "bbk",
    "bbk": "bbk",
    "ббк": "bbk",
    "rubbks": "bbk",
    "rubbkn": "bbk",
    "rubbko": "bbk",
    "rubbkd": "bbk",
    "ddc": "ddc",
    "dewey": "ddc",
    "lcc": "lcc",
    "ipc": "ipc",
    "мпк": "ipc",
    "mpk": "ipc",
    "cpc": "ipc",
    "vak": "vak",
    "вак": "vak",
    "nsnr": "vak",
    "шифр специальности": "vak",
    "специальность": "vak",
    "oksvnk": "vak",
}


@lru_cache(maxsize=20_000)
def classification_scheme(value: str | None, default: str = "other") -> str:
    if not value:
        return default
    key = _key(value)
    return CLASSIFICATION_SCHEMES.get(key) or CLASSIFICATION_SCHEMES.get(key.replace(" ", ""), default)
