"""The six OAI-PMH verbs over the engine's change feed, and the response envelope.

`respond(args, repo)` takes the request's arguments (name -> every value given) and
returns the XML document. Datestamps are the second a work last changed in our index
(granularity YYYY-MM-DDThh:mm:ssZ; day-granularity from/until are accepted too).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from fedsearch.engines.base import SearchEngine
from fedsearch.engines.changes import Change, ChangeQuery, Departure
from search_api.oai import sets
from search_api.oai.errors import (
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
    OaiError,
)
from search_api.oai.formats import FORMATS, clean
from search_api.oai.tokens import ResumptionToken

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
PAGE = {"ListRecords": 100, "ListIdentifiers": 500}

# verb -> (required, optional) arguments; resumptionToken is exclusive where allowed.
ARGUMENTS: dict[str, tuple[set[str], set[str]]] = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class Repository:
    """What a response needs to know about us."""

    engine: SearchEngine
    base_url: str  # this endpoint, as harvesters call it
    name: str
    admin_email: str
    repository_id: str  # the oai-identifier's repositoryIdentifier: our host name
    landing_url: Callable[[str], str]  # work id -> its page
    source_names: Callable[[], dict[str, str]]
    clock: Callable[[], float] = time.time

    def identifier(self, work_id: str) -> str:
        return f"oai:{self.repository_id}:{work_id}"

    def work_id(self, identifier: str) -> str:
        prefix = f"oai:{self.repository_id}:"
        if not identifier.startswith(prefix) or not identifier[len(prefix) :]:
            raise IdDoesNotExist(
                f"{identifier!r} is not an identifier of this repository (they look like {prefix}<work id>)"
            )
        return identifier[len(prefix) :]


def stamp_text(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(name: str, text: str, end_of_day: bool) -> tuple[int, str]:
    """Epoch seconds and granularity ("day" | "second") of a from/until argument."""
    try:
        if _DAY.match(text):
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return int(day.timestamp()) + (86399 if end_of_day else 0), "day"
        if _SECOND.match(text):
            return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()), "second"
    except ValueError:
        pass
    raise BadArgument(f"{name}={text!r} is not a date in YYYY-MM-DD or {GRANULARITY}")


def _single(args: dict[str, list[str]]) -> dict[str, str]:
    repeated = sorted(k for k, v in args.items() if len(v) != 1)
    if repeated:
        raise BadArgument(f"argument {repeated[0]} is given more than once")
    return {k: v[0] for k, v in args.items()}


def check_arguments(args: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    verbs = args.get("verb", [])
    if len(verbs) != 1:
        raise BadVerb("the verb argument is missing" if not verbs else "the verb argument is given more than once")
    verb = verbs[0]
    if verb not in ARGUMENTS:
        raise BadVerb(
            f"{verb!r} is not an OAI-PMH verb (Identify, ListMetadataFormats, ListSets, ListIdentifiers, "
            "ListRecords, GetRecord)"
        )
    given = _single({k: v for k, v in args.items() if k != "verb"})
    required, optional = ARGUMENTS[verb]
    illegal = sorted(set(given) - required - optional)
    if illegal:
        raise BadArgument(f"{verb} takes no argument {illegal[0]!r}")
    if "resumptionToken" in given:
        others = sorted(set(given) - {"resumptionToken"})
        if others:
            raise BadArgument(f"resumptionToken is exclusive: {verb} with a token takes no {others[0]!r}")
        return verb, given
    missing = sorted(required - set(given))
    if missing:
        raise BadArgument(f"{verb} needs the argument {missing[0]!r}")
    return verb, given


# --- the envelope ------------------------------------------------------------------------


def _el(parent: etree._Element, tag: str, text: object | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{OAI_NS}}}{tag}", {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = clean(text)
    return el


def _envelope(repo: Repository, request_attrs: dict[str, str]) -> etree._Element:
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    _el(root, "responseDate", stamp_text(int(repo.clock())))
    _el(root, "request", repo.base_url, **request_attrs)
    return root


def respond(args: dict[str, list[str]], repo: Repository) -> bytes:
    try:
        verb, given = check_arguments(args)
    except (BadVerb, BadArgument) as err:  # the request element then carries no attributes (spec 3.2)
        root = _envelope(repo, {})
        _el(root, "error", err.message, code=err.code)
        return _serialize(root)
    try:
        body = HANDLERS[verb](repo, given)
    except OaiError as err:
        root = _envelope(repo, {} if isinstance(err, BadArgument) else {"verb": verb, **given})
        _el(root, "error", err.message, code=err.code)
    else:
        root = _envelope(repo, {"verb": verb, **given})
        root.append(body)
    return _serialize(root)


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- verbs -------------------------------------------------------------------------------


def identify(repo: Repository, _: dict[str, str]) -> etree._Element:
    el = etree.Element(f"{{{OAI_NS}}}Identify")
    _el(el, "repositoryName", repo.name)
    _el(el, "baseURL", repo.base_url)
    _el(el, "protocolVersion", "2.0")
    _el(el, "adminEmail", repo.admin_email)
    first = repo.engine.list_changes(ChangeQuery(until=int(repo.clock()) + 1, limit=1))
    _el(el, "earliestDatestamp", stamp_text(first[0].stamp if first else int(repo.clock())))
    _el(el, "deletedRecord", "persistent")
    _el(el, "granularity", GRANULARITY)
    desc = _el(el, "description")
    oid = etree.SubElement(desc, f"{{{ID_NS}}}oai-identifier", nsmap={None: ID_NS})
    oid.set(f"{{{XSI_NS}}}schemaLocation", f"{ID_NS} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd")
    for tag, text in (
        ("scheme", "oai"),
        ("repositoryIdentifier", repo.repository_id),
        ("delimiter", ":"),
        ("sampleIdentifier", repo.identifier("knu-0123456789abcdef")),
    ):
        etree.SubElement(oid, f"{{{ID_NS}}}{tag}").text = text
    return el


def _find(repo: Repository, work_id: str) -> Change:
    """The work as the feed has it: live (with its datestamp) or departed."""
    live = repo.engine.list_live(ChangeQuery(until=2**62, filters={"id": (work_id,)}, limit=1))
    if live:
        return live[0]
    gone = repo.engine.departure_log().get(work_id)
    if gone is not None:
        return Change(id=gone.id, stamp=gone.stamp, departure=gone)
    raise IdDoesNotExist(f"there is no work {work_id!r} in this repository")


def list_metadata_formats(repo: Repository, given: dict[str, str]) -> etree._Element:
    if "identifier" in given:
        _find(repo, repo.work_id(given["identifier"]))  # every work is disseminated in every format
    el = etree.Element(f"{{{OAI_NS}}}ListMetadataFormats")
    for fmt in FORMATS.values():
        mf = _el(el, "metadataFormat")
        _el(mf, "metadataPrefix", fmt.prefix)
        _el(mf, "schema", fmt.schema)
        _el(mf, "metadataNamespace", fmt.namespace)
    return el


def list_sets(repo: Repository, given: dict[str, str]) -> etree._Element:
    if "resumptionToken" in given:
        raise BadResumptionToken("ListSets answers in one response; this repository issued no token for it")
    el = etree.Element(f"{{{OAI_NS}}}ListSets")
    for spec, name in sets.all_sets(repo.source_names()):
        s = _el(el, "set")
        _el(s, "setSpec", spec)
        _el(s, "setName", name)
    return el


def _header(parent: etree._Element, repo: Repository, change: Change) -> None:
    deleted = change.record is None
    h = _el(parent, "header", **({"status": "deleted"} if deleted else {}))
    _el(h, "identifier", repo.identifier(change.id))
    _el(h, "datestamp", stamp_text(change.stamp))
    if change.record is not None:
        specs = sets.record_specs(change.record)
    else:
        specs = sets.departure_specs(change.departure or Departure(change.id, change.stamp))
    for spec in specs:
        _el(h, "setSpec", spec)


def _record(parent: etree._Element, repo: Repository, change: Change, prefix: str) -> None:
    r = _el(parent, "record")
    _header(r, repo, change)
    if change.record is not None:
        _el(r, "metadata").append(FORMATS[prefix].render(change.record, repo.landing_url(change.id)))


def get_record(repo: Repository, given: dict[str, str]) -> etree._Element:
    prefix = given["metadataPrefix"]
    work_id = repo.work_id(given["identifier"])
    if prefix not in FORMATS:
        raise CannotDisseminateFormat(f"metadataPrefix {prefix!r} is not one of {', '.join(FORMATS)}")
    el = etree.Element(f"{{{OAI_NS}}}GetRecord")
    _record(el, repo, _find(repo, work_id), prefix)
    return el


def _first_token(repo: Repository, verb: str, given: dict[str, str], now: int) -> ResumptionToken:
    prefix = given["metadataPrefix"]
    if prefix not in FORMATS:
        raise CannotDisseminateFormat(f"metadataPrefix {prefix!r} is not one of {', '.join(FORMATS)}")
    since = until = None
    grains = set()
    if "from" in given:
        since, g = parse_date("from", given["from"], end_of_day=False)
        grains.add(g)
    if "until" in given:
        until, g = parse_date("until", given["until"], end_of_day=True)
        grains.add(g)
    if len(grains) > 1:
        raise BadArgument("from and until must have the same granularity")
    if since is not None and until is not None and since > until:
        raise BadArgument(f"from ({given['from']}) is later than until ({given['until']})")
    sets.filters_for(given.get("set"))  # badArgument now, for a set we never list
    # The window is pinned now: a work written during the harvest falls after it.
    pinned = now if until is None else min(until, now)
    return ResumptionToken(
        verb=verb,
        prefix=prefix,
        set=given.get("set"),
        since=since,
        until=pinned,
        stamp=0,
        id="",
        total=-1,
        served=0,
        issued=now,
    )


def _list(repo: Repository, given: dict[str, str], verb: str) -> etree._Element:
    now = int(repo.clock())
    if "resumptionToken" in given:
        token = ResumptionToken.decode(given["resumptionToken"], verb, now=now)
        after: tuple[int, str] | None = (token.stamp, token.id)
    else:
        token = _first_token(repo, verb, given, now)
        after = None
    filters = sets.filters_for(token.set)
    size = PAGE[verb]
    q = ChangeQuery(until=token.until, since=token.since, after=after, filters=filters, limit=size + 1)
    page = repo.engine.list_changes(q)
    if not page:
        raise NoRecordsMatch(
            "no works match these arguments"
            if after is None
            else "the rest of this list changed meanwhile; harvest again from this list's start date"
        )
    total = (
        token.total
        if token.total >= 0
        else repo.engine.count_changes(ChangeQuery(until=token.until, since=token.since, filters=filters))
    )
    more = len(page) > size
    page = page[:size]
    el = etree.Element(f"{{{OAI_NS}}}{verb}")
    for change in page:
        if verb == "ListRecords":
            _record(el, repo, change, token.prefix)
        else:
            _header(el, repo, change)
    total = max(total, token.served + len(page) + (1 if more else 0))
    if more:
        last = page[-1]
        nxt = ResumptionToken(
            verb=verb,
            prefix=token.prefix,
            set=token.set,
            since=token.since,
            until=token.until,
            stamp=last.stamp,
            id=last.id,
            total=total,
            served=token.served + len(page),
            issued=token.issued,
        )
        _el(
            el,
            "resumptionToken",
            nxt.encode(),
            expirationDate=stamp_text(nxt.expires),
            completeListSize=str(total),
            cursor=str(token.served),
        )
    elif after is not None:  # the last page of a list: an empty token (spec 3.5)
        _el(el, "resumptionToken", None, completeListSize=str(token.served + len(page)), cursor=str(token.served))
    return el


HANDLERS: dict[str, Callable[[Repository, dict[str, str]], etree._Element]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "ListIdentifiers": lambda repo, given: _list(repo, given, "ListIdentifiers"),
    "ListRecords": lambda repo, given: _list(repo, given, "ListRecords"),
    "GetRecord": get_record,
}
