"""What partners really send: each bad thing from a local server, and what the harvest does with it.

The rule: never a crash, never losing records already harvested; a bad record is
quarantined with its reason and the harvest goes on; when the list itself can't
go on, the run fails with a reason a librarian can act on.
"""

from __future__ import annotations

import time

from lxml import etree

from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings
from tests.connectors.peers import HangingServer, LocalHTTPServer, Reply, Request

DC = "{http://purl.org/dc/elements/1.1/}"


def record(n: int, title: str = "", *, extra: str = "") -> str:
    title = title or f"Record {n}"
    return (
        f"<record><header><identifier>oai:bad:{n}</identifier><datestamp>2024-01-0{1 + n % 9}</datestamp>"
        f'</header><metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>{extra}</oai_dc:dc>'
        f"</metadata></record>"
    )


def page(*records: str, token: str | None = None, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    tok = f"<resumptionToken>{token}</resumptionToken>" if token else ""
    return (
        f'{prolog}<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z'
        f'</responseDate><request verb="ListRecords">http://x/oai</request><ListRecords>{"".join(records)}'
        f"{tok}</ListRecords></OAI-PMH>"
    ).encode()


def pages(first: bytes, by_token: dict[str, bytes]):
    def app(req: Request) -> Reply:
        token = req.params.get("resumptionToken")
        return Reply(body=first if token is None else by_token[token])

    return app


def harvest(tmp_path, store, url, policy=None, **options):
    settings = make_settings(tmp_path, {"id": "bad", "connector": "oai-pmh", "url": url, **options}, **(policy or {}))
    return harvest_source(settings, "bad", store)


def test_malformed_record_is_quarantined_and_the_rest_of_the_page_and_list_is_read(tmp_path, store):
    broken = record(2, "Unclosed <dc:subject>oops</dc:subjct>")
    first = page(record(1), broken, record(3), token="t1")
    with LocalHTTPServer(pages(first, {"t1": page(record(4))})) as server:
        run = harvest(tmp_path, store, server.url + "/oai")
    assert run.status == "ok", run.error
    assert (run.new, run.quarantined, run.pages) == (3, 1, 2)
    assert {r.local_id for r in store.iter_all("bad")} == {"oai:bad:1", "oai:bad:3", "oai:bad:4"}
    (q,) = store.quarantined("bad")
    assert q.local_id == "oai:bad:2" and q.location == "page 1, record 2"
    assert "not well-formed" in q.reason and b"</dc:subjct>" in q.payload


def test_a_page_that_is_not_xml_at_all_is_retried_then_the_run_is_incomplete_and_keeps_earlier_pages(tmp_path, store):
    with LocalHTTPServer(pages(page(record(1), token="t1"), {"t1": b"<<<this is not XML"})) as server:
        run = harvest(tmp_path, store, server.url + "/oai", policy={"damage_retries": 2})
        asked_page_2 = sum(1 for r in server.requests if r.params.get("resumptionToken") == "t1")
    assert run.status == "incomplete"
    assert asked_page_2 == 3  # once, then two retries
    assert "page 2" in run.error and "not readable" in run.error and server.url in run.error
    assert store.counts("bad").live == 1


def test_doctype_with_external_entity_is_refused(tmp_path, store):
    xxe = page(
        record(1, "&xxe;"), prolog='<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    )
    with LocalHTTPServer(lambda req: Reply(body=xxe)) as server:
        run = harvest(tmp_path, store, server.url + "/oai")
    assert run.status == "failed" and "DOCTYPE" in run.error
    assert store.counts("bad").live == 0
    assert all(b"root:" not in q.payload for q in store.quarantined("bad"))


def test_billion_laughs_is_refused_fast(tmp_path, store):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">' for i in range(1, 10)
    )
    bomb = page(record(1, "&lol9;"), prolog=f'<?xml version="1.0"?><!DOCTYPE OAI-PMH [{entities}]>')
    with LocalHTTPServer(lambda req: Reply(body=bomb)) as server:
        started = time.monotonic()
        run = harvest(tmp_path, store, server.url + "/oai")
    assert run.status == "failed" and "DOCTYPE" in run.error
    assert time.monotonic() - started < 5


def test_invalid_utf8_in_one_record_quarantines_only_that_record(tmp_path, store):
    body = page(record(1), record(2, "PLACEHOLDER"), record(3)).replace(b"PLACEHOLDER", b"Bad \xff\xfe bytes")
    with LocalHTTPServer(lambda req: Reply(body=body)) as server:
        run = harvest(tmp_path, store, server.url + "/oai")
    assert run.status == "ok", run.error
    assert (run.new, run.quarantined) == (2, 1)
    (q,) = store.quarantined("bad")
    assert q.local_id == "oai:bad:2" and "UTF-8" in q.reason


def test_a_50_mb_record_is_quarantined_and_the_harvest_goes_on(tmp_path, store):
    huge = record(2, "Huge", extra=f"<dc:description>{'x' * (50 * 1024 * 1024)}</dc:description>")
    first = page(record(1), huge, record(3), token="t1")
    with LocalHTTPServer(pages(first, {"t1": page(record(4))})) as server:
        run = harvest(tmp_path, store, server.url + "/oai")  # max_record_bytes: the default 10 MB
    assert run.status == "ok", run.error
    assert (run.new, run.quarantined) == (3, 1)
    (q,) = store.quarantined("bad")
    assert q.local_id == "oai:bad:2" and "over the limit" in q.reason and "max_record_bytes" in q.reason
    assert len(q.payload) <= 1024 * 1024  # the quarantine keeps a sample, not 50 MB


def test_a_record_over_the_limit_that_parses_is_quarantined_by_size(tmp_path, store):
    many = record(2, "Many subjects", extra="".join(f"<dc:subject>s{i}</dc:subject>" for i in range(5000)))
    with LocalHTTPServer(lambda req: Reply(body=page(record(1), many))) as server:
        run = harvest(tmp_path, store, server.url + "/oai", policy={"max_record_bytes": 64 * 1024})
    assert run.status == "ok"
    assert (run.new, run.quarantined) == (1, 1)
    assert "over the limit of 65536" in store.quarantined("bad")[0].reason


def test_html_in_titles_is_kept_exactly_as_sent(tmp_path, store):
    title = "&lt;script&gt;alert(1)&lt;/script&gt; <i>Манас</i> &amp; Семетей"
    with LocalHTTPServer(lambda req: Reply(body=page(record(1, title)))) as server:
        run = harvest(tmp_path, store, server.url + "/oai")
    assert run.ok
    payload = store.get("bad", "oai:bad:1").payload
    assert title.encode("utf-8") in payload


def test_empty_pages_with_a_token_are_counted_then_the_harvest_stops_with_a_reason(tmp_path, store):
    def app(req: Request) -> Reply:
        token = req.params.get("resumptionToken")
        if token is None:
            return Reply(body=page(record(1), record(2), token="e1"))
        n = int(token[1:])
        return Reply(body=page(token=f"e{n + 1}"))

    with LocalHTTPServer(app) as server:
        run = harvest(tmp_path, store, server.url + "/oai", max_empty_pages=3)
        assert len(server.requests) == 4
    assert run.status == "failed"
    assert "3 pages in a row with no records" in run.error
    assert store.counts("bad").live == 2


def test_an_empty_page_then_records_is_fine(tmp_path, store):
    answers = {"a": page(token="b"), "b": page(record(2))}
    with LocalHTTPServer(pages(page(record(1), token="a"), answers)) as server:
        run = harvest(tmp_path, store, server.url + "/oai")
    assert run.status == "ok", run.error
    assert (run.new, run.pages) == (2, 3)


def test_a_looping_resumption_token_stops_the_harvest(tmp_path, store):
    answers = {"A": page(record(2), token="B"), "B": page(record(3), token="A")}
    with LocalHTTPServer(pages(page(record(1), token="A"), answers)) as server:
        run = harvest(tmp_path, store, server.url + "/oai")
        assert len(server.requests) == 3 + 3  # the page giving A again is asked again (damage_retries)
    assert run.status == "failed"
    assert "'A' a second time" in run.error and "never end" in run.error
    assert store.counts("bad").live == 3


def test_a_partner_that_hangs_mid_response_fails_the_run_and_keeps_what_was_harvested(tmp_path, store):
    with HangingServer([page(record(1), record(2), token="t1")]) as server:
        started = time.monotonic()
        run = harvest(tmp_path, store, server.url, policy={"timeout_seconds": 0.5})
        elapsed = time.monotonic() - started
    assert run.status == "failed"
    assert "stopped sending data for 0.5 s" in run.error and "ListRecords page 2" in run.error
    assert server.url in run.error
    assert elapsed < 5
    assert store.counts("bad").live == 2
    assert store.runs("bad")[0].checkpoint["token"] == "t1"  # a later run can go on from here


def test_a_partner_that_trickles_bytes_hits_the_overall_deadline(tmp_path, store):
    with HangingServer(trickle=0.05) as server:
        started = time.monotonic()
        run = harvest(tmp_path, store, server.url, policy={"timeout_seconds": 0.4})
        elapsed = time.monotonic() - started
    assert run.status == "failed"
    assert "took longer than 2 s in total" in run.error
    assert elapsed < 6


def test_sru_answer_with_doctype_is_refused(tmp_path, store):
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/"><numberOfRecords>1</numberOfRecords>'
        b"</searchRetrieveResponse>"
    )
    with LocalHTTPServer(lambda req: Reply(body=body)) as server:
        settings = make_settings(tmp_path, {"id": "cat", "connector": "sru", "url": server.url + "/db"})
        run = harvest_source(settings, "cat", store)
    assert run.status == "failed" and "DOCTYPE" in run.error


def test_quarantined_record_that_later_arrives_readable_leaves_the_quarantine(tmp_path, store):
    bodies = {False: page(record(1), record(2, "<broken>")), True: page(record(1), record(2, "Fixed"))}
    fixed = False

    def app(req: Request) -> Reply:  # the second run is incremental: it asks Identify first
        return Reply(body=bodies[fixed]) if req.params["verb"] == "ListRecords" else Reply(status=404)

    with LocalHTTPServer(app) as server:
        first = harvest(tmp_path, store, server.url + "/oai")
        assert first.quarantined == 1 and len(store.quarantined("bad")) == 1
        fixed = True
        second = harvest(tmp_path, store, server.url + "/oai")
    assert second.ok and second.new == 1
    assert store.quarantined("bad") == []
    assert etree.fromstring(store.get("bad", "oai:bad:2").payload).findtext(f"{DC}title") == "Fixed"
