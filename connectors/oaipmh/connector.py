"""`OaiPmhConnector`: walks the ListRecords pages of every set, with a checkpoint after every page,
retries of damaged pages, incremental windows and the quirks of real servers (see the package doc).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors import xmlsafe
from connectors.base import (
    UNTRUSTED,
    Checkpoint,
    Connector,
    HarvestFailed,
    HarvestIncomplete,
    HarvestItem,
    Quarantine,
    RawRecord,
)
from connectors.http import PartnerError, PoliteClient
from connectors.oaipmh.client import OaiClient
from connectors.oaipmh.errors import BadResumptionToken, DamagedPage, NoRecordsMatch, OaiError, OaiResponseError
from connectors.oaipmh.models import SECONDS, OaiPage, OaiRecord, parse_datestamp
from connectors.oaipmh.options import FORMATS, OaiPmhOptions
from connectors.oaipmh.pages import local_name
from connectors.prefetch import PagePrefetch

log = logging.getLogger("fedsearch.harvest.oai")


class OaiPmhConnector(Connector):
    name = "oai-pmh"
    Options = OaiPmhOptions
    description = (
        "OAI-PMH repositories (DSpace, EPrints, OJS, Zenodo, Dataverse): ListRecords, incremental by datestamp"
    )
    options: OaiPmhOptions

    @property
    def payload_format(self) -> str:
        return self.options.format or FORMATS.get(self.options.metadata_prefix.lower(), self.options.metadata_prefix)

    _prefetch: PagePrefetch[OaiPage] | None = None
    prefetched = 0  # pages of the last harvest that were ready when asked for

    def harvest(self, *, since: datetime | None, checkpoint: dict[str, Any] | None) -> Iterator[HarvestItem]:
        with PoliteClient(self.source.id, self.policy, stop=self.stop) as http:
            # A partner that sets no delay between requests gets the next one while we store a page.
            self._prefetch = PagePrefetch() if self.policy.delay_seconds == 0 else None
            ended_well = False
            try:
                yield from self._harvest(OaiClient(self.options.url, http), since, checkpoint)
                ended_well = True
            finally:
                if self._prefetch is not None:
                    self._prefetch.close(wait=ended_well)  # a stop must not wait for a hanging partner
                    self.prefetched = self._prefetch.hits
                    self._prefetch = None

    def _harvest(
        self, client: OaiClient, since: datetime | None, checkpoint: dict[str, Any] | None
    ) -> Iterator[HarvestItem]:
        if checkpoint and "set_index" in checkpoint:
            state = dict(checkpoint)
        else:
            state = {"set_index": 0, "token": None, "from": self._from(client, since), "page": 0, "restarted": False}
        # The next incremental window: the server's clock at our first page, the newest datestamp seen.
        state.setdefault("response_date", None)
        # A checkpoint from before counts were kept: the count for this list is unknown.
        state.setdefault("listed", None if state.get("token") else 0)
        state.setdefault("newest", (self.previous_state or {}).get("newest"))
        sets: list[str | None] = list(self.options.sets) or [None]
        while state["set_index"] < len(sets):
            yield from self._harvest_set(client, sets[state["set_index"]], state)
            state.update(
                set_index=state["set_index"] + 1, token=None, prev_token=None, restarted=False, listed=0, size=None
            )
            yield Checkpoint(dict(state))

    def _fail(self, message: str) -> HarvestFailed:
        return HarvestFailed(self.source.id, message)

    def _from(self, client: OaiClient, since: datetime | None) -> str | None:
        """The `from` argument: the earliest of `since`, the last run's responseDate and its newest
        datestamp, minus the overlap (at least one unit of the repository's granularity)."""
        if since is None:
            return None
        granularity = self.options.granularity
        if granularity == "auto":
            try:
                info = client.identify()
                granularity = "seconds" if info.granularity == SECONDS else "day"
                log.info(
                    "repository %r: granularity %s, deleted records %s",
                    info.repository_name,
                    info.granularity,
                    info.deleted_record,
                    extra={"source": self.source.id},
                )
            except (OaiError, OaiResponseError, PartnerError) as err:  # ListRecords will say if it is worse
                log.warning("Identify failed (%s); using day granularity", err, extra={"source": self.source.id})
                granularity = "day"
        start = since.astimezone(UTC)
        previous = self.previous_state or {}
        for key in ("response_date", "newest"):
            stamp = parse_datestamp(previous.get(key))
            if stamp is not None and stamp < start:
                start = stamp
        unit = timedelta(seconds=1) if granularity == "seconds" else timedelta(days=1)
        start -= max(unit, timedelta(seconds=self.policy.incremental_overlap_seconds))
        if granularity == "seconds":
            return start.strftime("%Y-%m-%dT%H:%M:%SZ")
        return start.strftime("%Y-%m-%d")

    def _request(
        self, client: OaiClient, set_spec: str | None, state: dict[str, Any], token: str | None, number: int
    ) -> OaiPage:
        if token:
            args: dict[str, str | None] = {"resumption_token": token}
        else:
            args = {"metadata_prefix": self.options.metadata_prefix, "set_spec": set_spec, "from_": state["from"]}
        if self._prefetch is None:
            return self._page(client, args, number)
        return self._prefetch.get((tuple(args.items()), number), lambda: self._page(client, args, number))

    def _page(self, client: OaiClient, args: dict[str, str | None], number: int) -> OaiPage:
        """One page, fetched and read, its payloads cut out (in the prefetch thread when there is one)."""
        page = client.list_records(**args, page=number)
        page.items = [self._raw(rec, number) for rec in page.records]
        return page

    def _prefetch_next(self, client: OaiClient, page: OaiPage, number: int, seen_tokens: set[str]) -> None:
        token = page.next_token
        if self._prefetch is None or token is None or token in seen_tokens:
            return
        args: dict[str, str | None] = {"resumption_token": token}
        self._prefetch.ahead((tuple(args.items()), number + 1), lambda: self._page(client, args, number + 1))

    def _damage(self, page: OaiPage, state: dict[str, Any]) -> str | None:
        """Why this page cannot be trusted as it is, or None."""
        if page.cut:
            return f"the answer was cut off ({page.error})"
        size = page.token.complete_list_size if page.token else None
        size = size if size is not None else state.get("size")
        if state.get("listed") is None:
            return None
        listed = state["listed"] + len(page.records) + len(page.problems)
        if page.next_token is None and size is not None and listed != size and not page.salvaged:
            return (
                f"the list ended after {listed} records but the server announced completeListSize {size} "
                "(a resumption token missing or cut, or records left out)"
            )
        return None

    def _fetch(
        self,
        client: OaiClient,
        set_spec: str | None,
        state: dict[str, Any],
        number: int,
        where: str,
        seen_tokens: set[str],
    ) -> OaiPage:
        """One page, fetched again with backoff while it is damaged. HarvestIncomplete if it stays damaged.

        A page that is not well-formed but whole, and comes back byte for byte the same, is a
        broken record at the partner, not a damaged transfer: its records are read one by one.
        """
        retries = self.policy.damage_retries
        previous_digest = None
        for attempt in range(retries + 1):
            try:
                page = self._request(client, set_spec, state, state["token"], number)
                damage = self._damage(page, state)
            except DamagedPage as err:
                page, damage = None, err.message
            if damage is None and page is not None and page.next_token in seen_tokens and attempt < retries:
                # A token cut short in transfer can equal one seen before; a real loop repeats when asked again.
                damage = f"its resumption token {page.next_token!r} was already used in this list"
            if damage is None and page is not None and page.salvaged and not page.cut:
                if page.digest == previous_digest:
                    return page
                damage = f"the page is not well-formed ({page.error})"
                previous_digest = page.digest
            elif damage is None:
                return page
            if attempt < retries:
                pause = client.http._backoff(attempt)
                log.warning(
                    "page %s%s is damaged (%s); fetching it again in %.1f s (%s of %s)",
                    number,
                    where,
                    damage,
                    pause,
                    attempt + 1,
                    retries,
                    extra={"source": self.source.id, "page": number},
                )
                client.http._sleep(pause)
        raise HarvestIncomplete(
            self.source.id, (f"page {number}{where} stayed damaged after {retries} retries: {damage}")
        )

    def _end_confirmed(
        self, client: OaiClient, set_spec: str | None, state: dict[str, Any], page: OaiPage, number: int
    ) -> OaiPage:
        """A list that ends without a completeListSize to check: ask for the last page once more.

        A token lost in transfer looks exactly like the end of the list; a second answer with the
        same records and a token shows it was not.
        """
        if self.policy.damage_retries == 0 or page.salvaged:
            return page
        try:
            again = self._request(client, set_spec, state, state["token"], number)
        except (OaiResponseError, OaiError, PartnerError):
            return page  # the first answer was whole; a failing second one proves nothing
        if (
            again.next_token
            and not again.salvaged
            and [r.identifier for r in again.records] == [r.identifier for r in page.records]
        ):
            log.warning(
                "page %s first came without a resumption token, then with one; going on",
                number,
                extra={"source": self.source.id, "page": number},
            )
            return again
        return page

    def _harvest_set(self, client: OaiClient, set_spec: str | None, state: dict[str, Any]) -> Iterator[HarvestItem]:
        where = f" in set {set_spec!r}" if set_spec else ""
        seen_tokens: set[str] = {state["token"]} if state["token"] else set()
        seen_ids: set[int] = set()  # hashes of identifiers listed in this run (since a resume)
        empty_pages = stale_pages = 0
        state.setdefault("size", None)
        while True:
            number = state["page"] + 1
            if number > self.policy.max_pages:
                raise self._fail(
                    f"the listing{where} reached max_pages ({self.policy.max_pages}) without ending; "
                    "stopping (raise harvest.max_pages if the repository is really this large)"
                )
            try:
                page = self._fetch(client, set_spec, state, number, where, seen_tokens)
                if (
                    page.next_token is None
                    and state.get("size") is None
                    and (page.token is None or page.token.complete_list_size is None)
                ):
                    page = self._end_confirmed(client, set_spec, state, page, number)
            except NoRecordsMatch:
                return
            except BadResumptionToken as err:
                fresh = self._fresh_token(client, set_spec, state, number - 1)
                if fresh is not None and fresh != state["token"]:
                    log.warning(
                        "resumption token %r rejected (%s); page %s gave %r when asked again",
                        state["token"],
                        err.message,
                        number - 1,
                        fresh,
                        extra={"source": self.source.id},
                    )
                    state["token"] = fresh
                    seen_tokens.add(fresh)
                    continue
                if state["restarted"]:  # a token expired or cut, asked again and again: the list is broken
                    raise HarvestIncomplete(
                        self.source.id,
                        (
                            f"page {number}{where}: the repository rejected its own resumption token again after a "
                            f"restart: {err.describe()}"
                        ),
                    ) from None
                log.warning(
                    "resumption token rejected (%s); restarting the list%s from %s once",
                    err.message,
                    where,
                    state["from"] or "the beginning",
                    extra={"source": self.source.id},
                )
                state.update(token=None, prev_token=None, restarted=True, listed=0, size=None)
                seen_tokens.clear()
                seen_ids.clear()
                empty_pages = stale_pages = 0
                continue
            except OaiError as err:
                raise self._fail(err.describe()) from None
            except OaiResponseError as err:
                raise self._fail(err.message) from None
            state["page"] = number
            if page.response_date and not state.get("response_date"):
                state["response_date"] = page.response_date
            new_ids = 0
            for rec in page.records:
                key = hash(rec.identifier)
                if key not in seen_ids:
                    seen_ids.add(key)
                    new_ids += 1
                if rec.datestamp and (state.get("newest") is None or rec.datestamp > state["newest"]):
                    state["newest"] = rec.datestamp
            if new_ids:  # a page that cannot end the run early (empty, stale) has the next one fetched now
                self._prefetch_next(client, page, number, seen_tokens)
            yield from page.items if page.items is not None else (self._raw(rec, number) for rec in page.records)
            yield from page.problems
            if page.salvaged and any(not q.local_id for q in page.problems):
                state[UNTRUSTED] = [
                    *state.get(UNTRUSTED, [])[:9],
                    f"page {number}{where} had records without a readable identifier",
                ]
            if state["listed"] is not None:
                state["listed"] += len(page.records) + len(page.problems)
            if page.token and page.token.complete_list_size is not None:
                state["size"] = page.token.complete_list_size
            self._check_overrun(state, number, where)
            token = page.next_token
            if token is None:
                return
            if not page.records and not page.problems:
                empty_pages += 1
                log.info(
                    "page %s has no records but a resumption token (%s in a row)",
                    number,
                    empty_pages,
                    extra={"source": self.source.id, "page": number},
                )
                if empty_pages >= self.options.max_empty_pages:
                    raise self._fail(
                        f"the repository sent {empty_pages} pages in a row with no records but a resumption "
                        f"token{where}; stopping (last token {token!r}, page {number})"
                    )
            else:
                empty_pages = 0
            stale_pages = 0 if new_ids else stale_pages + 1
            if stale_pages >= self.policy.max_pages_without_new:
                raise self._fail(
                    f"the repository sent {stale_pages} pages in a row{where} with no record not already listed "
                    f"in this run (up to page {number}); its resumption tokens go round in a circle, so the "
                    "harvest stops here"
                )
            if token in seen_tokens:
                raise self._fail(
                    f"the repository sent the resumption token {token!r} a second time{where} (page {number}); "
                    "the list would never end, so the harvest stops here"
                )
            seen_tokens.add(token)
            state["prev_token"] = state["token"]
            state["token"] = token
            yield Checkpoint(dict(state))

    def _check_overrun(self, state: dict[str, Any], number: int, where: str) -> None:
        size = state.get("size")
        if size is None or state.get("listed") is None:
            return
        allowed = size + max(10, int(size * self.policy.list_size_margin))
        if state["listed"] > allowed:
            raise self._fail(
                f"the repository sent {state['listed']} records{where} by page {number}, more than its "
                f"completeListSize of {size} allows (list_size_margin {self.policy.list_size_margin:g}); "
                "the list would not end, so the harvest stops here"
            )

    def _fresh_token(self, client: OaiClient, set_spec: str | None, state: dict[str, Any], number: int) -> str | None:
        """Ask again for the page that gave a rejected token: a token cut in transfer comes back whole."""
        for attempt in range(self.policy.damage_retries if number >= 1 else 0):
            try:
                page = self._request(client, set_spec, state, state.get("prev_token"), number)
            except (OaiResponseError, OaiError, PartnerError):
                page = None
            if page is not None and not page.salvaged and page.next_token and page.next_token != state["token"]:
                return page.next_token
            client.http._sleep(client.http._backoff(attempt))
        return None

    def _raw(self, rec: OaiRecord, page: int) -> RawRecord | Quarantine:
        fmt = self.payload_format
        if rec.deleted:
            return RawRecord(
                local_id=rec.identifier,
                format=fmt,
                payload=xmlsafe.serialize(rec.header),
                datestamp=rec.datestamp,
                deleted=True,
                sets=rec.sets,
            )
        if self.options.payload == "record":
            payload = xmlsafe.serialize(rec.element)
        else:
            meta = rec.metadata
            if meta is None:
                return Quarantine(
                    reason="the record has no metadata (and is not marked deleted)",
                    local_id=rec.identifier,
                    payload=xmlsafe.serialize(rec.element),
                    location=f"page {page}",
                )
            if fmt == "marcxml" and local_name(meta.tag) == "collection":
                inner = [c for c in meta if local_name(c.tag) == "record"]
                if len(inner) == 1:
                    meta = inner[0]
            payload = xmlsafe.serialize(meta)
        return RawRecord(local_id=rec.identifier, format=fmt, payload=payload, datestamp=rec.datestamp, sets=rec.sets)
