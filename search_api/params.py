"""The search parameters shared by the API and the HTML pages (`SearchParams`), and their errors as problems."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fedsearch.engines.query import FACET_NAMES, MAX_PER_PAGE, MAX_WINDOW, SearchQuery, Sort
from fedsearch.engines.query_syntax import MAX_QUERY_CHARS, QUERY_TOO_LONG
from fedsearch.record import Access, RecordType
from search_api.problems import BadParameter, BadParameters

FILTER_PARAMS: tuple[str, ...] = ("source", "type", "year", "language", "subject", "access", "institution")
MAX_FACET_SIZE = 100

_FilterValues = Annotated[list[Annotated[str, Field(max_length=500)]], Field(default_factory=list)]
# Blank values are allowed and mean "no filter" (an HTML form sends its empty fields).
YEAR_PATTERN = r"\s*([0-9]{1,4})?\s*"
LANGUAGE_PATTERN = r"\s*([a-z]{2,3})?\s*"


def _items(extra: dict[str, Any]) -> dict[str, Any]:
    return {"items": {"type": "string", "maxLength": 500, **extra}}


class SearchParams(BaseModel):
    """The search parameters of /api/v1/search and of the HTML search page.

    Filters are repeatable (`source=a&source=b`): values of one filter are ORed,
    different filters are ANDed.
    """

    model_config = ConfigDict(extra="ignore")

    q: Annotated[
        str,
        Field(
            max_length=MAX_QUERY_CHARS,
            description=(
                'The query: words, "phrases", AND/OR/NOT, -word, prefix*, field:value '
                "(title:, author:, subject:, year:, type:, doi:, isbn:, udc:, ...). Cyrillic or Latin."
            ),
        ),
    ] = ""
    source: _FilterValues = Field(description="Source id (repeatable; see /api/v1/sources).")
    # The schema lists exactly what the validators below accept (schemathesis checks both ways).
    type: _FilterValues = Field(
        description="Record type: " + ", ".join(t.value for t in RecordType) + " (repeatable).",
        json_schema_extra=_items({"enum": [t.value for t in RecordType]}),
    )
    year: _FilterValues = Field(
        description="Exact publication year (repeatable).", json_schema_extra=_items({"pattern": f"^{YEAR_PATTERN}$"})
    )
    language: _FilterValues = Field(
        description="ISO 639 language code, like ky, ru, en (repeatable).",
        json_schema_extra=_items({"pattern": f"^{LANGUAGE_PATTERN}$"}),
    )
    subject: _FilterValues = Field(description="Subject heading or keyword, exactly as in the facet (repeatable).")
    access: _FilterValues = Field(
        description="Access: " + ", ".join(a.value for a in Access) + " (repeatable).",
        json_schema_extra=_items({"enum": [a.value for a in Access]}),
    )
    institution: _FilterValues = Field(description="Institution, exactly as in the facet (repeatable).")
    year_from: Annotated[int | None, Field(ge=0, le=9999, description="Earliest publication year, inclusive.")] = None
    year_to: Annotated[int | None, Field(ge=0, le=9999, description="Latest publication year, inclusive.")] = None
    facets: Annotated[
        list[str],
        Field(
            default_factory=list,
            description=(
                "Facets to count: " + ", ".join(FACET_NAMES) + ". Repeat the parameter or separate names with commas."
            ),
        ),
    ]
    facet_size: Annotated[int, Field(ge=1, le=MAX_FACET_SIZE, description="Values per facet.")] = 10
    sort: Annotated[Sort, Field(description="Result order.")] = Sort.relevance
    page: Annotated[
        int, Field(ge=1, description=f"Page number; page × per_page may not pass {MAX_WINDOW} (use cursor).")
    ] = 1
    per_page: Annotated[
        int, Field(ge=1, description=f"Hits per page; values above {MAX_PER_PAGE} are treated as {MAX_PER_PAGE}.")
    ] = 20
    cursor: Annotated[
        str | None,
        Field(
            max_length=2000,
            description=(
                "next_cursor from a previous response (same query and sort): continues after its last hit; replaces page."
            ),
        ),
    ] = None

    @field_validator("facets", mode="after")
    @classmethod
    def _facet_names(cls, v: list[str]) -> list[str]:
        names: list[str] = []
        for item in v:
            for name in item.split(","):
                name = name.strip()
                if not name:
                    continue
                if name not in FACET_NAMES:
                    raise ValueError(f"unknown facet {name!r}; valid facets: {', '.join(FACET_NAMES)}")
                if name not in names:
                    names.append(name)
        return names

    @field_validator(*FILTER_PARAMS, mode="after")
    @classmethod
    def _filter_values(cls, v: list[str], info: Any) -> list[str]:
        values = list(dict.fromkeys(s.strip() for s in v if s.strip()))
        name = info.field_name
        valid: Sequence[str] | None = None
        if name == "type":
            valid = [t.value for t in RecordType]
        elif name == "access":
            valid = [a.value for a in Access]
        if valid is not None:
            bad = [x for x in v if x not in valid]  # exactly as listed in the schema's enum, no blanks
            if bad:
                raise ValueError(f"{bad[0]!r} is not a valid {name}; valid values: {', '.join(valid)}")
        if name == "year" and any(not re.fullmatch(YEAR_PATTERN, x) for x in v):
            raise ValueError("a year is a number of up to four digits, like 2019")
        if name == "language" and any(not re.fullmatch(LANGUAGE_PATTERN, x) for x in v):
            raise ValueError("a language is a two- or three-letter ISO 639 code in lower case, like ky, ru or en")
        return values

    @field_validator("per_page", mode="after")
    @classmethod
    def _cap_per_page(cls, v: int) -> int:
        return min(v, MAX_PER_PAGE)

    @classmethod
    def from_query_string(cls, params: Any) -> SearchParams:
        """From a Starlette QueryParams (or any multi-dict with getlist); raises BadParameters."""
        data: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            # An HTML form sends its empty fields too (year_from=): they mean "not given".
            values = [v for v in params.getlist(name) if v.strip()]
            if not values:
                continue
            data[name] = values if _is_list_field(field.annotation) else values[0]
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise bad_parameters_from(err) from None

    @property
    def filters(self) -> dict[str, list[str]]:
        return {name: getattr(self, name) for name in FILTER_PARAMS if getattr(self, name)}

    def to_query(
        self, *, highlight: bool = True, facets: Sequence[str] | None = None, facet_size: int | None = None
    ) -> SearchQuery:
        problems: list[BadParameter] = []
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            problems.append(
                BadParameter("year_from", f"year_from ({self.year_from}) is after year_to ({self.year_to}); swap them")
            )
        if self.cursor is None and self.page * self.per_page > MAX_WINDOW:
            problems.append(
                BadParameter(
                    "page",
                    f"page {self.page} with per_page {self.per_page} goes past result {MAX_WINDOW}; "
                    f"page at most {MAX_WINDOW // self.per_page}, or follow next_cursor to go deeper",
                )
            )
        if problems:
            raise BadParameters(problems)
        try:
            return SearchQuery(
                q=self.q,
                filters=self.filters,  # type: ignore[arg-type]
                year_from=self.year_from,
                year_to=self.year_to,
                facets=list(self.facets if facets is None else facets),  # type: ignore[arg-type]
                facet_size=facet_size or self.facet_size,
                sort=self.sort,
                page=self.page,
                per_page=self.per_page,
                cursor=self.cursor or None,
                highlight=highlight,
            )
        except ValidationError as err:
            raise bad_parameters_from(err) from None

    def echo(self) -> dict[str, Any]:
        """The query as understood, for responses: defaults included, empty filters left out."""
        return {
            "q": self.q,
            "filters": self.filters,
            "year_from": self.year_from,
            "year_to": self.year_to,
            "facets": self.facets,
            "facet_size": self.facet_size,
            "sort": self.sort.value,
            "page": self.page,
            "per_page": self.per_page,
            "cursor": self.cursor,
        }

    def query_items(self, **changes: Any) -> list[tuple[str, str]]:
        """The parameters as (name, value) pairs for a URL, with `changes` applied; defaults left out."""
        data = self.model_dump()
        data.update(changes)
        items: list[tuple[str, str]] = []
        for name, default in _defaults(type(self)).items():
            value = data.get(name)
            if value is None or value == default:
                continue
            if isinstance(value, list):
                items += [(name, str(v)) for v in value]
            else:
                items.append((name, value.value if isinstance(value, Sort) else str(value)))
        return items


@functools.cache
def _defaults(cls: type[SearchParams]) -> dict[str, Any]:
    """Each field's default, computed once per class: pydantic's get_default inspects the factory on every call."""
    return {name: field.get_default(call_default_factory=True) for name, field in cls.model_fields.items()}


class ApiSearchParams(SearchParams):
    format: Annotated[
        Literal["json", "bibtex", "ris", "csl", "atom"],
        Field(description=("Response format: json (default), bibtex, ris, csl (CSL-JSON) or atom (Atom feed).")),
    ] = "json"


def _is_list_field(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list


def bad_parameters_from(err: ValidationError) -> BadParameters:
    problems = []
    for e in err.errors():
        loc = [p for p in e["loc"] if p not in ("query", "path", "body")]
        param = str(loc[0]) if loc else "query"
        msg = e["msg"].removeprefix("Value error, ")
        if param == "q" and e["type"] == "string_too_long":
            msg = QUERY_TOO_LONG
        elif e["type"] in ("int_parsing", "int_type"):
            msg = f"must be a whole number (got {e.get('input')!r})"
        elif e["type"] == "enum" or e["type"] == "literal_error":
            msg = f"{msg} (got {e.get('input')!r})"
        problems.append(BadParameter(param, msg))
    return BadParameters(problems)
