"""OAI-PMH against captured answers of real repositories, replayed by a local HTTP server.

Each test serves the files of /work/shared/fixtures/real (see SOURCES.md there)
in the order the real server sent them: the first ListRecords answer, then one
answer per resumption token.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from connectors.http import PoliteClient
from connectors.oaipmh import OaiClient
from rawstore.harvest import harvest_source
from tests.connectors.conftest import FAST_POLICY, local_policy, make_settings
from tests.connectors.peers import LocalHTTPServer, Reply, Request

MARC = "{http://www.loc.gov/MARC21/slim}"
DC = "{http://purl.org/dc/elements/1.1/}"


LIST_SIZE = re.compile(rb'\s+completeListSize="\d+"')


class Replay(LocalHTTPServer):
    """First ListRecords request -> `first`; a request with token T -> `by_token[T]`; other verbs -> `verbs`.

    The fixtures are real answers cut down to a few records; their completeListSize still counts
    the original list. `real_list_size=False` serves them without it, for tests about other things.
    """

    def __init__(
        self,
        fixtures: Path,
        first: str | tuple[str, int],
        by_token: dict[str, str | tuple[str, int]] | None = None,
        verbs: dict[str, str] | None = None,
        incremental: str | tuple[str, int] | None = None,
        real_list_size: bool = False,
    ):
        by_token, verbs = by_token or {}, verbs or {}

        def load(entry):
            name, status = (entry, 200) if isinstance(entry, str) else entry
            body = (fixtures / name).read_bytes()
            return Reply(body=body if real_list_size else LIST_SIZE.sub(b"", body), status=status)

        def app(req: Request) -> Reply:
            verb = req.params.get("verb")
            if verb != "ListRecords":
                return load(verbs[verb])
            if "resumptionToken" in req.params:
                return load(by_token[req.params["resumptionToken"]])
            if "from" in req.params and incremental is not None:
                return load(incremental)
            return load(first)

        super().__init__(app)


def token_of(fixtures: Path, name: str) -> str:
    el = etree.parse(str(fixtures / name)).find(".//{*}resumptionToken")
    return el.text.strip()


def run(tmp_path, store, url, **options):
    settings = make_settings(tmp_path, {"id": "repo", "connector": "oai-pmh", "url": url, **options})
    return harvest_source(settings, "repo", store)


def test_bepress_self_closing_token_with_attributes_ends_the_list(real_fixtures, tmp_path, store):
    page1 = "oai-bepress-digitalcommons-calpoly-listrecords-oai_dc-page1-truncated.xml"
    last = "oai-bepress-digitalcommons-calpoly-listrecords-oai_dc-last-page-selfclosing-token.xml"
    with Replay(real_fixtures, page1, {token_of(real_fixtures, page1): last}) as server:
        result = run(tmp_path, store, server.url + "/do/oai/")
        assert result.status == "ok", result.error
        assert (result.records, result.new, result.pages) == (16, 16, 2)
        assert len(server.requests) == 3  # the last page is asked twice: a lost token looks like the end
        assert server.requests[1].params == {
            "verb": "ListRecords",
            "resumptionToken": "374206/oai_dc/100/2015-03-10/2015-03-11",
        }


def test_a_cut_down_list_disagreeing_with_its_real_complete_list_size_is_incomplete(real_fixtures, tmp_path, store):
    page1 = "oai-bepress-digitalcommons-calpoly-listrecords-oai_dc-page1-truncated.xml"
    last = "oai-bepress-digitalcommons-calpoly-listrecords-oai_dc-last-page-selfclosing-token.xml"
    with Replay(real_fixtures, page1, {token_of(real_fixtures, page1): last}, real_list_size=True) as server:
        result = run(tmp_path, store, server.url + "/do/oai/")
        asked_last = sum(1 for r in server.requests if "resumptionToken" in r.params)
    assert result.status == "incomplete"
    assert (
        "page 2" in result.error and "ended after 16 records" in result.error and "completeListSize 208" in result.error
    )
    assert asked_last == 1 + FAST_POLICY.get("damage_retries", 3)
    assert store.counts("repo").live == 8  # page 1 kept; the page that disagrees is not stored


def test_dataverse_deleted_records_and_bare_empty_last_token(real_fixtures, tmp_path, store):
    page1 = "oai-dataverse-dvn3-scholarsportal-listrecords-oai_dc-page1-mostly-deleted.xml"
    page2 = "oai-dataverse-dvn3-scholarsportal-listrecords-oai_dc-page2-last-empty-token.xml"
    with Replay(real_fixtures, page1, {"1429887886829_null:10:null:oai_dc": page2}, real_list_size=True) as server:
        result = run(tmp_path, store, server.url + "/dvn/OAIHandler")
    assert result.status == "ok", result.error
    assert (result.records, result.new, result.deleted) == (19, 4, 15)
    counts = store.counts("repo")
    assert (counts.live, counts.deleted) == (4, 15)
    tombstone = next(r for r in store.iter_all("repo") if r.deleted)
    assert tombstone.local_id.startswith("hdl:10864/") and b'status="deleted"' in tombstone.payload


def test_zenodo_pages_then_a_page_without_token_html_kept_as_sent(real_fixtures, tmp_path, store):
    page1 = "oai-zenodo-listrecords-oai_dc-page1-resumption.xml"
    page2 = "oai-zenodo-listrecords-oai_dc-page2-cursor50.xml"
    final = "oai-zenodo-listrecords-oai_dc-final-page-no-token.xml"
    tokens = {token_of(real_fixtures, page1): page2, token_of(real_fixtures, page2): final}
    with Replay(real_fixtures, page1, tokens) as server:
        result = run(tmp_path, store, server.url + "/oai2d")
    assert result.status == "ok", result.error
    assert (result.records, result.new, result.deleted, result.pages) == (9, 8, 1, 3)
    # Double-escaped HTML in dc:description stays exactly as the partner sent it; escaping is the UI's job.
    rec = store.get("repo", "oai:zenodo.org:8435696")
    assert b"&amp;lt;p&amp;gt;" in rec.payload
    assert etree.fromstring(rec.payload).findtext(f"{DC}description").startswith("&lt;p&gt;")


def test_zenodo_no_records_match_with_http_422_is_an_empty_incremental_run(real_fixtures, tmp_path, store):
    with Replay(
        real_fixtures,
        "oai-zenodo-listrecords-oai_dc-final-page-no-token.xml",
        incremental=("oai-zenodo-error-noRecordsMatch-http422.xml", 422),
        verbs={"Identify": "oai-zenodo-identify.xml"},
    ) as server:
        first = run(tmp_path, store, server.url + "/oai2d")
        second = run(tmp_path, store, server.url + "/oai2d")
    assert first.ok and first.records == 3
    assert second.status == "ok", second.error
    assert second.mode == "incremental" and second.records == 0
    assert store.counts("repo").live == 3


def test_zenodo_expired_token_restarts_the_list_once_then_fails_with_the_reason(real_fixtures, tmp_path, store):
    page1 = "oai-zenodo-listrecords-oai_dc-page1-resumption.xml"
    bad = ("oai-zenodo-error-badResumptionToken-http422.xml", 422)
    with Replay(real_fixtures, page1, {token_of(real_fixtures, page1): bad}) as server:
        result = run(tmp_path, store, server.url + "/oai2d")
        asked = ["token" if "resumptionToken" in r.params else "start" for r in server.requests]
    # Page 1 is asked again for a fresh token (a token cut in transfer comes back whole; damage_retries
    # times), then the list restarts once; the same again after the restart.
    fresh = ["start"] * FAST_POLICY.get("damage_retries", 3)
    assert asked == ["start", "token", *fresh, "start", "token", *fresh]
    assert result.status == "incomplete"
    assert "badResumptionToken" in result.error and "again after a restart" in result.error
    assert store.counts("repo").live == 3  # page 1 was stored and stays


def test_an_expired_token_restart_that_works_completes_the_harvest(real_fixtures, tmp_path, store):
    page1 = "oai-zenodo-listrecords-oai_dc-page1-resumption.xml"
    final = "oai-zenodo-listrecords-oai_dc-final-page-no-token.xml"
    token = token_of(real_fixtures, page1)
    # The token is refused the first time only (say the repository restarted in between).
    answers = iter([("oai-zenodo-error-badResumptionToken-http422.xml", 422), (final, 200)])

    def app(req: Request) -> Reply:
        name, status = next(answers, (final, 200)) if req.params.get("resumptionToken") == token else (page1, 200)
        return Reply(body=LIST_SIZE.sub(b"", (real_fixtures / name).read_bytes()), status=status)

    with LocalHTTPServer(app) as server:
        result = run(tmp_path, store, server.url + "/oai2d")
    assert result.status == "ok", result.error
    assert (result.records, result.new, result.unchanged) == (9, 6, 3)  # page 1 twice: the second time unchanged


@pytest.mark.parametrize(
    "fixture,code,words",
    [
        (
            "oai-zenodo-error-badArgument-unknown-metadataPrefix-http422.xml",
            "badArgument",
            "metadataPrefix does not exist",
        ),
        ("oai-nsdl-error-badVerb.xml", "badVerb", "check the base URL"),
        ("oai-spec-example-error-cannotDisseminateFormat.xml", "cannotDisseminateFormat", "ListMetadataFormats"),
    ],
)
def test_oai_errors_fail_the_run_with_the_code_and_advice(real_fixtures, tmp_path, store, fixture, code, words):
    status = 422 if "http422" in fixture else 200
    with Replay(real_fixtures, (fixture, status)) as server:
        result = run(tmp_path, store, server.url + "/oai")
    assert result.status == "failed"
    assert code in result.error and words in result.error and server.url in result.error


@pytest.mark.parametrize("fixture", ["oai-arxiv-error-noRecordsMatch.xml", "oai-cdl-listrecords-empty-no-error.xml"])
def test_no_records_is_an_empty_successful_run(real_fixtures, tmp_path, store, fixture):
    with Replay(real_fixtures, fixture) as server:
        result = run(tmp_path, store, server.url + "/oai")
    assert result.status == "ok", result.error
    assert result.records == 0


@pytest.mark.parametrize(
    "fixture,records,deleted",
    [
        ("oai-eprints-lshtm-listrecords-oai_dc-with-deleted-truncated.xml", 10, 1),
        ("oai-cdl-listrecords-oai_dc-with-deleted.xml", 8, 5),
        ("oai-dspace-2004-erasmus-listrecords-oai_dc-with-deleted-truncated.xml", 6, 2),
        ("oai-librecat-ugent-listrecords-oai_dc-complete-list-token-truncated.xml", 5, 0),
        ("oai-zenodo-invenio1-2015-listrecords-oai_dc.xml", 7, 0),
    ],
)
def test_single_page_lists_with_their_deletions(real_fixtures, tmp_path, store, fixture, records, deleted):
    with Replay(real_fixtures, fixture) as server:
        result = run(tmp_path, store, server.url + "/oai")
        assert len(server.requests) == 2  # asked twice: a lost token looks like the end of the list
    assert result.status == "ok", result.error
    assert (result.records, result.deleted) == (records, deleted)
    assert store.counts("repo").live == records - deleted


def test_dspace_xoai_cursor_as_page_index_does_not_matter(real_fixtures, tmp_path, store):
    page1 = "oai-dspace-xoai-colostate-listrecords-oai_dc-page1-truncated.xml"
    page3 = "oai-dspace-xoai-colostate-listrecords-oai_dc-page3-cursor-is-page-index-truncated.xml"
    tokens = {
        token_of(real_fixtures, page1): page3,
        token_of(real_fixtures, page3): "oai-cdl-listrecords-empty-no-error.xml",
    }
    with Replay(real_fixtures, page1, tokens) as server:
        result = run(tmp_path, store, server.url + "/oai/request")
    assert result.status == "ok", result.error
    assert result.records == 13


def test_pubmed_central_url_encoded_token_is_sent_back_verbatim(real_fixtures, tmp_path, store):
    page1 = "oai-pmc-listrecords-oai_dc-token-no-attrs-truncated.xml"
    token = "oai%3Apubmedcentral.nih.gov%3A4078828!2014-12-24!2014-12-25!oai_dc!"
    with Replay(real_fixtures, page1, {token: "oai-cdl-listrecords-empty-no-error.xml"}) as server:
        result = run(tmp_path, store, server.url + "/oai")
        assert server.requests[1].params["resumptionToken"] == token
    assert result.status == "ok", result.error
    assert result.records == 8


def test_cyrillic_oai_dc_from_cyberleninka(real_fixtures, tmp_path, store):
    with Replay(real_fixtures, "oai-cyberleninka-listrecords-oai_dc-russian-truncated.xml") as server:
        result = run(tmp_path, store, server.url + "/oai")
    assert result.ok and result.records == 15
    titles = {etree.fromstring(r.payload).findtext(f"{DC}title") for r in store.iter_all("repo")}
    assert "ХИРУРГИЧЕСКАЯ ТАКТИКА ЛЕЧЕНИЯ ГЛУБОКИХ ОЖОГОВ ПЕРЕДНЕЙ ПОВЕРХНОСТИ ГОЛЕНИ" in titles


@pytest.mark.parametrize(
    "fixture,first_id",
    [
        ("oai-tind-berkeley-listrecords-marcxml-resumption-cursor.xml", "53877"),
        ("oai-invenio-inspirehep-listrecords-marcxml.xml", "972855"),
    ],
)
def test_marcxml_payload_is_the_marc_record(real_fixtures, tmp_path, store, fixture, first_id):
    tokens = {}
    if "tind" in fixture:
        tokens = {token_of(real_fixtures, fixture): "oai-cdl-listrecords-empty-no-error.xml"}
    with Replay(real_fixtures, fixture, tokens) as server:
        result = run(tmp_path, store, server.url + "/oai2d", metadata_prefix="marcxml")
    assert result.status == "ok", result.error
    payloads = [etree.fromstring(r.payload) for r in store.iter_all("repo")]
    assert all(p.tag == f"{MARC}record" and r.format == "marcxml" for p, r in zip(payloads, store.iter_all("repo")))
    assert first_id in {p.findtext(f"{MARC}controlfield[@tag='001']") for p in payloads}


def test_whole_record_payload_keeps_the_header(real_fixtures, tmp_path, store):
    with Replay(real_fixtures, "oai-zenodo-invenio1-2015-listrecords-oai_dc.xml") as server:
        result = run(tmp_path, store, server.url + "/oai", payload="record")
    assert result.ok
    rec = next(iter(store.iter_all("repo")))
    root = etree.fromstring(rec.payload)
    assert etree.QName(root).localname == "record" and root.find("{*}header/{*}identifier") is not None


def test_an_html_page_instead_of_oai_fails_clearly(tmp_path, store):
    html = b"<html><head><title>Repository</title></head><body>Welcome</body></html>"
    with LocalHTTPServer(lambda req: Reply(body=html, headers={"Content-Type": "text/html"})) as server:
        result = run(tmp_path, store, server.url + "/")
    assert result.status == "failed"
    assert "not an OAI-PMH response" in result.error and "<html>" in result.error


def test_client_reads_captured_identify_formats_and_sets(real_fixtures):
    verbs = {
        "Identify": "oai-dspace-2003-erasmus-identify.xml",
        "ListMetadataFormats": "oai-zenodo-listmetadataformats.xml",
        "ListSets": "oai-dspace-2003-erasmus-listsets.xml",
    }
    with (
        Replay(real_fixtures, "oai-cdl-listrecords-empty-no-error.xml", verbs=verbs) as server,
        PoliteClient("repo", local_policy()) as http,
    ):
        client = OaiClient(server.url + "/oai", http)
        info = client.identify()
        assert (info.granularity, info.deleted_record) == ("YYYY-MM-DDThh:mm:ssZ", "no")
        prefixes = [f.prefix for f in client.list_metadata_formats()]
        assert {"oai_dc", "marc21", "datacite"} <= set(prefixes)
        specs = [s.spec for s in client.list_sets()]
        assert "3" in specs and "3:5" in specs
