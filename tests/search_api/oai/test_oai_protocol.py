"""Every error condition of OAI-PMH 2.0 (section 3.6), answered as the spec says, and safe XML.

Error responses are HTTP 200 with <error code="...">; after badVerb and badArgument the
<request> element carries no attributes (section 3.2). Sickle's named exceptions confirm
that a real harvester reads our errors as meant.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sickle import Sickle, oaiexceptions

from fedsearch.engines.embedded import EmbeddedEngine
from fedsearch.record import Record, make_record_id
from search_api.app import create_app
from search_api.oai.tokens import LIFETIME, ResumptionToken
from tests.search_api.conftest import Served, make_settings

OAI = "{http://www.openarchives.org/OAI/2.0/}"
NASTY = 'Tag <script>alert(1)</script> & "quotes" \x07bell ]]> end'


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("oai-protocol")
    engine = EmbeddedEngine(data_dir / "index", writer=True)
    engine.ensure_index()
    records = [
        Record(
            id=make_record_id("knu", f"r{i}"),
            source="knu",
            source_record_id=f"r{i}",
            title=[{"value": f"Work {i}" if i else NASTY}],
            authors=[{"name": "Осмонова Айгүл"}],
        )
        for i in range(12)
    ]
    engine.upsert(records)
    engine.refresh()
    settings = make_settings("embedded", data_dir, base_url="https://search.example.kg")
    with TestClient(create_app(settings, engine=engine)) as c:
        yield c
    engine.close()


def oai(client: TestClient, **args: str) -> etree._Element:
    r = client.get("/oai", params=args)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    return etree.fromstring(r.content)


def error_of(root: etree._Element) -> str | None:
    err = root.find(f"{OAI}error")
    return None if err is None else err.get("code")


def first_id(client: TestClient) -> str:
    return oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc").findtext(f".//{OAI}identifier")


@pytest.mark.parametrize("args", [{}, {"verb": "Bogus"}, {"verb": "identify"}])
def test_bad_verb(client, args):
    root = oai(client, **args)
    assert error_of(root) == "badVerb"
    assert root.find(f"{OAI}request").attrib == {}


def test_repeated_verb_is_bad_verb(client):
    root = etree.fromstring(client.get("/oai?verb=Identify&verb=ListSets").content)
    assert error_of(root) == "badVerb"


@pytest.mark.parametrize(
    "args",
    [
        {"verb": "Identify", "set": "knu"},  # an argument Identify does not take
        {"verb": "ListRecords"},  # metadataPrefix missing
        {"verb": "ListIdentifiers", "set": "source:knu"},  # metadataPrefix missing
        {"verb": "GetRecord", "metadataPrefix": "oai_dc"},  # identifier missing
        {"verb": "GetRecord", "identifier": "oai:search.example.kg:x"},  # metadataPrefix missing
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-13-01"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01T00:00:00"},  # no Z
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "yesterday"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01", "until": "2024-02-01T00:00:00Z"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-02-01", "until": "2024-01-01"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "colour:blue"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "abc"},  # the token is exclusive
        {"verb": "ListMetadataFormats", "metadataPrefix": "oai_dc"},
    ],
)
def test_bad_argument(client, args):
    root = oai(client, **args)
    assert error_of(root) == "badArgument", etree.tostring(root)
    assert root.find(f"{OAI}request").attrib == {}


def test_repeated_argument_is_bad_argument(client):
    root = etree.fromstring(client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=marcxml").content)
    assert error_of(root) == "badArgument"


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_cannot_disseminate_format_in_lists(client, verb):
    root = oai(client, verb=verb, metadataPrefix="mods")
    assert error_of(root) == "cannotDisseminateFormat"
    assert root.find(f"{OAI}request").get("metadataPrefix") == "mods"  # a valid request: echoed


def test_cannot_disseminate_format_for_a_record(client):
    assert (
        error_of(oai(client, verb="GetRecord", identifier=first_id(client), metadataPrefix="datacite"))
        == "cannotDisseminateFormat"
    )


@pytest.mark.parametrize(
    "identifier",
    [
        "oai:search.example.kg:knu-0000000000000000",
        "oai:elsewhere.org:knu-1",
        "knu-0000000000000000",
        "oai:search.example.kg:",
    ],
)
def test_id_does_not_exist(client, identifier):
    assert error_of(oai(client, verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")) == "idDoesNotExist"
    assert error_of(oai(client, verb="ListMetadataFormats", identifier=identifier)) == "idDoesNotExist"


@pytest.mark.parametrize(
    "args",
    [
        {"from": "2999-01-01"},
        {"until": "1999-01-01T00:00:00Z"},
        {"set": "source:nobody"},
        {"set": "type:patent"},
    ],
)
def test_no_records_match(client, args):
    assert error_of(oai(client, verb="ListRecords", metadataPrefix="oai_dc", **args)) == "noRecordsMatch"
    assert error_of(oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **args)) == "noRecordsMatch"


def test_bad_resumption_tokens(client, monkeypatch):
    monkeypatch.setitem(__import__("search_api.oai.verbs", fromlist=["PAGE"]).PAGE, "ListIdentifiers", 5)
    page = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token_el = page.find(f".//{OAI}resumptionToken")
    token = token_el.text
    assert token_el.get("completeListSize") == "12" and token_el.get("cursor") == "0"
    assert token_el.get("expirationDate").endswith("Z")
    for bad in ["garbage", token[:-4], "e30"]:  # not base64 JSON, cut short, "{}"
        assert error_of(oai(client, verb="ListIdentifiers", resumptionToken=bad)) == "badResumptionToken"
    assert error_of(oai(client, verb="ListRecords", resumptionToken=token)) == "badResumptionToken"  # another verb's
    old = ResumptionToken.decode(token, "ListIdentifiers")
    expired = ResumptionToken(**{**old.__dict__, "issued": int(time.time()) - LIFETIME - 10}).encode()
    assert error_of(oai(client, verb="ListIdentifiers", resumptionToken=expired)) == "badResumptionToken"
    assert error_of(oai(client, verb="ListSets", resumptionToken=token)) == "badResumptionToken"
    # The good token still works, and the list ends with an empty token.
    second = oai(client, verb="ListIdentifiers", resumptionToken=token)
    assert error_of(second) is None and second.find(f".//{OAI}resumptionToken").get("cursor") == "5"


def test_no_set_hierarchy_is_never_needed(client):
    """We have sets, so ListSets lists them rather than answering noSetHierarchy."""
    root = oai(client, verb="ListSets")
    assert error_of(root) is None and root.find(f".//{OAI}setSpec") is not None


def test_post_is_served_like_get(client):
    r = client.post("/oai", data={"verb": "GetRecord", "identifier": first_id(client), "metadataPrefix": "oai_dc"})
    root = etree.fromstring(r.content)
    assert error_of(root) is None and root.find(f".//{OAI}metadata") is not None
    assert client.post("/oai", content=b"{}", headers={"content-type": "application/json"}).status_code == 415


def test_hostile_text_is_escaped_and_cleaned(client):
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc")
    titles = [t.text for t in root.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert NASTY.replace("\x07", "") in titles  # the same text, parsed back; the control character dropped
    assert root.find(f".//{OAI}script") is None and not list(root.iter("script"))
    marc = oai(client, verb="ListRecords", metadataPrefix="marcxml")
    assert NASTY.replace("\x07", "") in [s.text for s in marc.iter("{http://www.loc.gov/MARC21/slim}subfield")]


def test_identify_describes_the_repository(client):
    root = oai(client, verb="Identify")
    ident = root.find(f"{OAI}Identify")
    assert ident.findtext(f"{OAI}baseURL") == "https://search.example.kg/oai"
    assert ident.findtext(f"{OAI}deletedRecord") == "persistent"
    assert ident.findtext(f"{OAI}adminEmail") == "webmaster@search.example.kg"
    assert (
        ident.findtext(".//{http://www.openarchives.org/OAI/2.0/oai-identifier}repositoryIdentifier")
        == "search.example.kg"
    )


def test_sickle_raises_the_named_errors(served: Served):
    sickle = Sickle(served.url)
    with pytest.raises(oaiexceptions.CannotDisseminateFormat):
        sickle.GetRecord(identifier="oai:127.0.0.1:x", metadataPrefix="mods")
    with pytest.raises(oaiexceptions.IdDoesNotExist):
        sickle.GetRecord(identifier="oai:127.0.0.1:knu-0000000000000000", metadataPrefix="oai_dc")
    with pytest.raises(oaiexceptions.NoRecordsMatch):
        list(sickle.ListRecords(metadataPrefix="oai_dc", **{"from": "2999-01-01"}))
    with pytest.raises(oaiexceptions.BadResumptionToken):
        list(sickle.ListRecords(resumptionToken="nonsense"))
    with pytest.raises(oaiexceptions.BadArgument):
        list(sickle.ListRecords(metadataPrefix="oai_dc", set="colour:blue"))
    bad_verb = etree.fromstring(httpx.get(served.url, params={"verb": "Harvest"}).content)
    assert error_of(bad_verb) == "badVerb"
