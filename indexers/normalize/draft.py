"""A record being assembled: every format's normalizer fills a Draft, and `finish` makes the Record.

The format modules only read their format. What is common (date choice,
language codes and guessing, type and access mapping, identifier checks,
de-duplicated lists, warnings) happens once, here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from connectors.base import RawRecord
from fedsearch.config import SourceConfig
from fedsearch.record import (
    Access,
    Classification,
    Container,
    DatePrecision,
    Dissertation,
    Identifiers,
    LangText,
    Link,
    Person,
    Record,
    RecordType,
    make_record_id,
)
from indexers import vocab
from indexers.normalize import identifiers as ids
from indexers.normalize.dates import ParsedDate, choose_date, parse_date
from indexers.normalize.errors import NormalizationError
from indexers.normalize.language import detect, text_language
from indexers.normalize.text import abstract_text, title_text

_EU_REPO_ACCESS = re.compile(r"info:eu-repo/semantics/(open|restricted|embargoed|closed|metadataOnly)Access", re.I)
_FULLTEXT_MIME = (
    "application/pdf",
    "application/epub+zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/djvu",
    "image/vnd.djvu",
)


_NO_IDENTIFIERS: dict[str, list[str]] = {name: [] for name in Identifiers.model_fields}
_DEGREE_NOTE = re.compile(r"\b(кандидат|доктор)(?:а|у)?\s+((?:[а-яё]+-)?[а-яё]+(?:\s+и\s+[а-яё]+)?\s+наук)\b", re.I)


@dataclass
class Draft:
    raw: RawRecord
    source: SourceConfig
    titles: list[tuple[str, str | None]] = field(default_factory=list)
    title_alt: list[tuple[str, str | None]] = field(default_factory=list)
    abstracts: list[tuple[str, str | None]] = field(default_factory=list)
    authors: list[Person] = field(default_factory=list)
    contributors: list[Person] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    classifications: list[tuple[str, str]] = field(default_factory=list)
    dates: list[ParsedDate] = field(default_factory=list)
    date_texts: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # as given
    type: RecordType | None = None  # set by formats that have coded types (MARC)
    type_terms: list[str] = field(default_factory=list)  # free text, looked up in vocab
    rights: list[str] = field(default_factory=list)
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    source_url: str | None = None
    publisher: str | None = None
    institution: str | None = None
    container: dict[str, str] = field(default_factory=dict)
    dissertation: dict[str, str] = field(default_factory=dict)  # Dissertation's fields, as given
    warnings: list[str] = field(default_factory=list)

    # ---- filling
    def add_title(self, text: str | None, lang: str | None = None, *, alt: bool = False) -> None:
        value = title_text(text)
        if value:
            (self.title_alt if alt else self.titles).append((value, vocab.language_code(lang)))

    def add_abstract(self, text: str | None, lang: str | None = None) -> None:
        value = abstract_text(text)
        if value:
            self.abstracts.append((value, vocab.language_code(lang)))

    def add_person(self, person: Person | None) -> None:
        if person is None:
            return
        (self.authors if person.role in vocab.AUTHOR_ROLES else self.contributors).append(person)

    def add_subject(self, value: str | None) -> None:
        value = title_text(value)
        if value:
            self.subjects.append(value)

    def add_classification(self, scheme: str, code: str | None) -> None:
        code = (code or "").strip()
        if code and len(code) <= 100:
            self.classifications.append((scheme, code))

    def set_dissertation(self, name: str, text: str | None) -> None:
        """One detail of a dissertation's defence (fedsearch/record.py Dissertation); the first given wins."""
        value = title_text(text)
        if value and name not in self.dissertation:
            self.dissertation[name] = value

    def add_dissertation_note(self, text: str | None) -> None:
        """The degree from a catalogue's dissertation note (MARC 502, UNIMARC 328):
        "…на соискание ученой степени кандидата технических наук" -> "кандидат технических наук"."""
        m = _DEGREE_NOTE.search(text or "")
        if m:
            self.set_dissertation("degree", f"{m.group(1).lower()} {m.group(2).lower()}")

    def add_date(self, text: str | None) -> None:
        if text and text.strip():
            self.date_texts.append(text.strip())
            parsed = parse_date(text)
            if parsed:
                self.dates.append(parsed)

    def add_identifier(self, kind: str, value: str | None) -> None:
        """A value whose kind the format states (MARC 020 is an ISBN); checked and normalized."""
        if not value or not value.strip():
            return
        value = value.strip()
        norm = {
            "doi": ids.doi,
            "isbn": ids.isbn,
            "issn": ids.issn,
            "handle": ids.handle_or_bare,
            "urn": ids.urn,
            "patent": ids.patent,
            "register_number": ids.register,
        }.get(kind)
        if norm is None:
            self.identifiers.setdefault("other", []).append(value)
            return
        result = norm(value)
        if result:
            self.identifiers.setdefault(kind, []).append(result)
        else:
            self.warnings.append(f"invalid {kind.upper()} {value!r} kept in identifiers.other")
            self.identifiers.setdefault("other", []).append(f"{kind}:{value}")

    def add_any_identifier(self, value: str | None, *, link_kind: str = "landing") -> None:
        """A value of unstated kind (dc:identifier): classified, URLs become links."""
        if not value:
            return
        found = ids.classify(value)
        if found is None:
            return
        kind, norm = found
        if kind == "url":
            self.add_link(norm, link_kind)
        elif kind == "other" and ":" in norm and norm.split(":", 1)[0] in ("isbn", "issn"):
            self.warnings.append(
                f"invalid {norm.split(':', 1)[0].upper()} {norm.split(':', 1)[1]!r} kept in identifiers.other"
            )
            self.identifiers.setdefault("other", []).append(norm)
        else:
            self.identifiers.setdefault(kind, []).append(norm)
            if value.strip().lower().startswith("http") and kind in ("handle", "doi"):
                resolver = "https://hdl.handle.net/" if kind == "handle" else "https://doi.org/"
                self.add_link(resolver + norm, "landing")

    def add_link(self, url: str | None, kind: str = "landing", mime: str | None = None) -> None:
        if not url:
            return
        clean = ids.clean_url(url)
        if not clean:
            return
        if ids.is_doi(clean):
            d = ids.doi(clean)
            if d:
                self.identifiers.setdefault("doi", []).append(d)
        mime = (mime or "").strip().lower() or None
        if kind != "other" and (mime in _FULLTEXT_MIME or re.search(r"\.(pdf|djvu|epub|docx?)(\?|$)", clean, re.I)):
            kind = "fulltext"
        self.links.append(Link(url=clean, kind=kind, mime=mime))

    def set_container(self, **parts: str | None) -> None:
        for key, value in parts.items():
            value = title_text(value)
            if value and not self.container.get(key):
                self.container[key] = value

    def set_container_from_citation(self, text: str | None) -> None:
        """'Vol. 3, no. 2 (2019), p. 10-20' / 'Т. 5, № 2. С. 10-20' -> volume, issue, pages."""
        if not text:
            return
        m = re.search(r"\b(?:vol\.?|v\.|т\.|том|volume)\s*([\w-]+)", text, re.I)
        if m:
            self.set_container(volume=m.group(1))
        m = re.search(r"(?:\bno\.?|\bissue|№|\bвып\.?|\bn\.)\s*([\w-]+)", text, re.I)
        if m:
            self.set_container(issue=m.group(1))
        m = re.search(r"(?:\bp\.|\bpp\.|\bс\.|\bб\.)\s*([\dIVXLC]+(?:\s*[-–]\s*[\dIVXLC]+)?)", text, re.I)
        if m:
            self.set_container(pages=m.group(1).replace(" ", ""))

    # ---- finishing
    def finish(self) -> tuple[Record, list[str]]:
        if not self.titles:
            if self.title_alt:
                self.titles.append(self.title_alt.pop(0))
            else:
                raise NormalizationError("the record has no title")
        warnings = self.warnings
        main, *more = _unique_texts(self.titles)
        title_alt = [t for t in _unique_texts(more + self.title_alt) if t[0] != main[0]]

        chosen = choose_date(self.dates)
        if chosen is None or chosen.year is None:
            given = f" (given: {', '.join(repr(d) for d in self.date_texts[:3])})" if self.date_texts else ""
            warnings.append(f"no year{given}")

        languages, detected = self._languages(main, warnings)
        rtype = self._type(warnings)
        access = self._access()
        links = unique_links(self.links)
        source_url = self.source_url or next((lk.url for lk in links if lk.kind == "landing"), None)
        if not source_url and self.identifiers.get("handle"):
            source_url = f"https://hdl.handle.net/{self.identifiers['handle'][0]}"

        # A guessed record language is no evidence for each text: those are guessed one by one.
        declared = [] if detected else languages

        def lang_texts(items: list[tuple[str, str | None]]) -> list[LangText]:
            return [LangText(value=v, lang=lg or text_language(v, declared)) for v, lg in items]

        container = Container(**self.container) if self.container else None
        dissertation = self._dissertation(warnings)
        if (
            dissertation
            and dissertation.defence_date
            and chosen
            and chosen.date == str(chosen.year)
            and dissertation.defence_date.startswith(str(chosen.year))
        ):
            chosen = parse_date(dissertation.defence_date)  # "Год защиты" 2024 + "Дата защиты" 27.08.2024: keep the day
        try:
            record = Record(
                id=make_record_id(self.source.id, self.raw.local_id),
                source=self.source.id,
                source_record_id=self.raw.local_id,
                source_url=source_url,
                type=rtype,
                title=lang_texts([main]),
                title_alt=lang_texts(title_alt),
                abstract=lang_texts(_unique_texts(self.abstracts)),
                authors=_unique_people(self.authors),
                contributors=_unique_people(self.contributors),
                subjects=unique_folded(self.subjects),
                classifications=[Classification(scheme=s, code=c) for s, c in dict.fromkeys(self.classifications)],
                year=chosen.year if chosen else None,
                date=chosen.date if chosen else None,
                date_precision=chosen.precision if chosen else None,
                languages=languages,
                language_detected=detected,
                publisher=title_text(self.publisher),
                container=container,
                institution=title_text(self.institution) or self.source.institution,
                dissertation=dissertation,
                # Every list given, none left to its default: pydantic deep-copies mutable defaults (~7 a record).
                identifiers=Identifiers(
                    **{**_NO_IDENTIFIERS, **{k: list(dict.fromkeys(v)) for k, v in self.identifiers.items()}}
                ),
                access=access,
                links=links,
                updated_at=_stamp(self.raw.datestamp),
                raw_format=self.raw.format,
                holdings=[],  # the record's own holding is added by Record's validator
            )
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise NormalizationError(f"invalid {where}: {first['msg']}") from None
        return record, warnings

    def _dissertation(self, warnings: list[str]) -> Dissertation | None:
        if not self.dissertation:
            return None
        fields = dict(self.dissertation)
        if "defence_date" in fields:
            parsed = parse_date(fields["defence_date"])
            if parsed is None or parsed.precision not in (DatePrecision.year, DatePrecision.month, DatePrecision.day):
                warnings.append(f"defence date {fields['defence_date']!r} is not a date")
                del fields["defence_date"]
            else:
                fields["defence_date"] = parsed.date or str(parsed.year)
        return Dissertation(**fields) if fields else None

    def _languages(self, main: tuple[str, str | None], warnings: list[str]) -> tuple[list[str], bool]:
        codes: list[str] = []
        for given in self.languages:
            for part in vocab.split_language_codes(given):
                code = vocab.language_code(part)
                if code:
                    codes.append(code)
                elif not vocab.says_no_language(part):
                    warnings.append(f"unknown language {part!r}")
        codes = list(dict.fromkeys(codes))
        if codes:
            return codes, False
        sample = " ".join([main[0]] + [a for a, _ in self.abstracts[:1]])
        guess = detect(sample)
        if guess:
            warnings.append(f"language guessed from the text: {guess}")
            return [guess], True
        warnings.append("no language (none given, and the text is too short to guess)")
        return [], False

    def _type(self, warnings: list[str]) -> RecordType:
        if self.type is not None:
            return self.type
        unknown: list[str] = []
        found: list[RecordType] = []
        for term in self.type_terms:
            if vocab.is_type_noise(term):
                continue
            t = vocab.record_type(term)
            if t is None:
                unknown.append(term)
            else:
                found.append(t)
        specific = [t for t in found if t is not RecordType.other]
        if specific:
            return specific[0]
        default = self.source.options.get("type")
        if default and vocab.record_type(str(default)):
            return vocab.record_type(str(default))  # type: ignore[return-value]
        if not found:
            terms = f": {', '.join(repr(t) for t in unknown[:3])}" if unknown else ""
            warnings.append(f"unknown type{terms}")
        return RecordType.other

    def _access(self) -> Access:
        for statement in self.rights:
            m = _EU_REPO_ACCESS.search(statement)
            if m:
                return Access.open if m.group(1).lower() == "open" else Access.restricted
        found = {vocab.access_from_rights(s) for s in self.rights} - {None}
        for level in (Access.restricted, Access.open, Access.free):
            if level in found:
                return level
        if any(lk.kind == "fulltext" for lk in self.links):
            return Access.free
        return Access.unknown


def _unique_texts(items: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    seen: dict[str, tuple[str, str | None]] = {}
    for value, lang in items:
        key = value.casefold()
        if key not in seen:
            seen[key] = (value, lang)
        elif seen[key][1] is None and lang:
            seen[key] = (seen[key][0], lang)
    return list(seen.values())


def unique_folded(values: Iterable[str]) -> list[str]:
    """Subjects and the like without repeats that differ only in case or ё/е; first spelling kept."""
    seen: dict[str, str] = {}
    for v in values:
        seen.setdefault(v.casefold().replace("ё", "е"), v)
    return list(seen.values())


def _unique_people(people: list[Person]) -> list[Person]:
    out: dict[tuple[str, str | None], Person] = {}
    for p in people:
        key = (p.name.casefold(), p.role)
        if key not in out:
            out[key] = p
        elif p.orcid and not out[key].orcid:
            out[key] = out[key].model_copy(update={"orcid": p.orcid})
    return list(out.values())


def unique_links(links: Iterable[Link]) -> list[Link]:
    out: dict[str, Link] = {}
    for lk in links:
        prev = out.get(lk.url)
        if prev is None or (prev.kind != "fulltext" and lk.kind == "fulltext"):
            out[lk.url] = lk
    # Full text first: the UI offers the first link as "read".
    return sorted(out.values(), key=lambda lk: {"fulltext": 0, "landing": 1}.get(lk.kind, 2))


def _stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
