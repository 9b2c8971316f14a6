"""The JSON API's thin search path (search_api/hitjson.py) writes what the response models write.

Hits come from the records' stored JSON, not validated again (fedsearch/engines/stored.py),
except for queries the engine widens (few hits), which take whole records.

/api/v1/search builds its body as plain dicts, not `SearchResponse`; these tests hold the
two to the same bytes on both engines, over queries that exercise every field: highlights,
facets, filters, cursors and `next`, alternatives, relaxed and corrected queries.
"""

from __future__ import annotations

import orjson
import pytest
from starlette.datastructures import QueryParams

from fedsearch.engines.base import RELAX_BELOW, Hit
from fedsearch.engines.stored import search_stored
from fedsearch.record import Holding, Link, Record
from search_api.hitjson import hit_json, stored_hit_json
from search_api.models import HitOut, SearchResponse, Urls
from search_api.params import ApiSearchParams
from search_api.service import SearchService

QUERIES = [
    "",
    "q=climate",
    "q=Бишкек&facets=source,type,year,language,subject",
    "q=Aitmatov&sort=newest&per_page=2",
    "q=айтм*&type=book&type=article",
    "q=климат OR water&year_from=1990&year_to=2030",
    'q="Ысык-Көл"',
    "q=kyrgyzstan&per_page=1&page=2",
    "q=zzqqxxnothing",  # nothing found
    "q=,bitrtr",  # Бишкек typed on a Latin layout: alternatives
    "q=климатт",  # a typo: corrected
    "q=climate tuberculosis water earthquake",  # few hold every word: relaxed
    "q=бишкек&source=knu&source=nope",
    "facets=type&facet_size=2&per_page=3",
]


def model_path(service: SearchService, params: ApiSearchParams, urls: Urls) -> tuple[dict, bytes]:
    """The body as the models wrote it (before hitjson.py): model_dump, took_ms left out."""
    data = service.search_response(params, urls).model_dump(mode="json")
    data.pop("took_ms")
    return data, orjson.dumps(data)


@pytest.mark.parametrize("query_string", QUERIES)
def test_the_thin_path_writes_the_models_bytes(engine_setup, query_string):
    _, engine, settings = engine_setup
    service = SearchService(settings, engine=engine)
    urls = Urls("http://example.test/base")
    params = ApiSearchParams.from_query_string(QueryParams(query_string))
    want_data, want = model_path(service, params, urls)
    body, stable, next_url = service.search_json(params, urls)
    assert stable == want
    got = orjson.loads(body)
    took = got.pop("took_ms")
    assert isinstance(took, float) and took >= 0
    assert got == want_data
    assert list(orjson.loads(body)) == list(SearchResponse.model_fields)  # the schema's field order
    SearchResponse.model_validate_json(body)  # and it reads back as the documented model
    assert next_url == want_data["next"]
    if params.cursor is None and want_data["next"]:  # the cursor's next page, same bytes again
        follow = ApiSearchParams.from_query_string(QueryParams(want_data["next"].split("?", 1)[1]))
        assert service.search_json(follow, urls)[1] == model_path(service, follow, urls)[1]


def test_the_queries_cover_every_optional_field(engine_setup):
    """The comparison above means something only if some answer sets each optional field."""
    _, engine, settings = engine_setup
    service = SearchService(settings, engine=engine)
    urls = Urls("http://example.test")
    seen: set[str] = set()
    for qs in QUERIES:
        data = orjson.loads(service.search_json(ApiSearchParams.from_query_string(QueryParams(qs)), urls)[0])
        seen |= {k for k in ("next", "next_cursor", "relaxed", "corrected") if data[k] is not None}
        seen |= {"alternatives"} if data["alternatives"] else set()
        for hit in data["hits"]:
            seen |= {"highlights"} if hit["highlights"] else set()
            seen |= {"title_html"} if hit["title_html"] else set()
    assert seen >= {"next", "next_cursor", "alternatives", "highlights", "title_html"}, seen


def test_a_hit_with_links_and_holdings_in_every_shape():
    """Links and holdings with and without their optional parts (the shared corpus has none)."""
    fulltext = Link(url="https://repo.example/1.pdf", kind="fulltext", mime="application/pdf")
    landing = Link(url="http://repo.example/1")
    record = Record(
        id="knu-0123456789abcdef",
        source="knu",
        source_record_id="oai:knu:1",
        source_url="https://repo.example/1",
        type="thesis",
        title=[{"value": "Климат <Ысык-Көл> & water", "lang": "ru"}, {"value": "Climate", "lang": "en"}],
        authors=[{"name": "Айтматов, Ч."}],
        year=2019,
        access="open",
        links=[fulltext, landing],
        holdings=[
            Holding(source="knu", source_record_id="oai:knu:1", record_id="knu-0123456789abcdef", links=[fulltext]),
            Holding(
                source="nlkr",
                source_record_id="42",
                record_id="nlkr-0123456789abcdef",
                source_url="https://lib.example/42",
                links=[landing],
                access="restricted",
            ),
        ],
    )
    highlights = {
        "title": ["Климат &lt;Ысык-Көл&gt; &amp; <mark>water</mark>"],
        "authors": ["<mark>Айтматов</mark>, Ч."],
    }
    for hit in (Hit(id=record.id, record=record, highlights=highlights), Hit(id=record.id, record=record)):
        urls = Urls("https://search.example")
        want = orjson.dumps(HitOut.from_hit(hit, urls).model_dump(mode="json"))
        assert orjson.dumps(hit_json(hit, urls)) == want
        stored = orjson.loads(record.model_dump_json(exclude_none=True))  # as the engines store it
        assert orjson.dumps(stored_hit_json(stored, hit.highlights, urls)) == want
    assert (
        b'"mime":null' in want and b'"source_url":null' in want and b'"title_html":null' in want
    )  # the second hit: no highlights


def test_plain_searches_take_the_stored_records_and_widened_ones_whole_records(engine_setup):
    _, engine, _ = engine_setup
    many = ApiSearchParams.from_query_string(QueryParams("per_page=2")).to_query()
    few = ApiSearchParams.from_query_string(QueryParams("q=zzqqxxnothing")).to_query()
    found = search_stored(engine, many)
    assert found is not None and found.total >= RELAX_BELOW and len(found.hits) == 2
    assert all(isinstance(data, dict) and data["id"] for data, _ in found.hits)
    assert [data["id"] for data, _ in found.hits] == [h.id for h in engine.search(many).hits]
    assert found.next_cursor == engine.search(many).next_cursor
    assert search_stored(engine, few) is None  # SearchEngine.search may relax or correct it
