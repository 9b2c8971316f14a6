"""`OaiClient`: OAI-PMH requests to one repository (Identify, ListMetadataFormats, ListSets,
ListRecords one page at a time), with OAI errors raised as named exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from lxml import etree

from connectors import xmlsafe
from connectors.base import Quarantine
from connectors.http import PartnerHTTPError, PoliteClient
from connectors.oaipmh.errors import OAI_ERRORS, NoSetHierarchy, OaiError, OaiResponseError
from connectors.oaipmh.models import Identify, MetadataFormat, OaiPage, OaiSet
from connectors.oaipmh.pages import local_name, read_record, read_token, salvage_page

log = logging.getLogger("fedsearch.harvest.oai")


class OaiClient:
    """OAI-PMH requests to one repository, over a PoliteClient."""

    def __init__(self, base_url: str, http: PoliteClient, *, max_record_bytes: int | None = None):
        self.base_url = base_url
        self.http = http
        self.max_record_bytes = max_record_bytes or http.policy.max_record_bytes

    def _fetch(self, params: dict[str, str], what: str) -> tuple[bytes, str]:
        try:
            resp = self.http.get(self.base_url, params, what=what)
            return resp.content, resp.url
        except PartnerHTTPError as err:
            # Zenodo and others send OAI errors (noRecordsMatch, badResumptionToken) with HTTP 4xx.
            if 400 <= err.status < 500 and b"OAI-PMH" in err.body[:4096]:
                try:
                    root = xmlsafe.parse(err.body, f"the answer to {what}")
                except xmlsafe.BadXML:
                    raise err from None
                self._raise_errors(root, err.url)
            raise

    def _raise_errors(self, root: etree._Element, url: str) -> None:
        errors = root.findall("{*}error")
        if errors:
            code = errors[0].get("code") or "unknown"
            cls = OAI_ERRORS.get(code, OaiError)
            raise cls(xmlsafe.text_of(errors[0]) or "", url=url, code=None if cls is not OaiError else code)

    def _parse(self, body: bytes, url: str, what: str) -> etree._Element:
        try:
            root = xmlsafe.parse(body, f"the answer to {what}")
        except xmlsafe.BadXML as err:
            raise OaiResponseError(str(err), url=url) from None
        self._check_root(root, url, what)
        return root

    def _check_root(self, root: etree._Element, url: str, what: str) -> None:
        if local_name(root.tag) != "OAI-PMH":
            raise OaiResponseError(
                f"the answer to {what} is not an OAI-PMH response (its root element is <{local_name(root.tag)}>); "
                "check the base URL",
                url=url,
            )
        self._raise_errors(root, url)

    def call(self, verb: str, what: str | None = None, **params: str | None) -> etree._Element:
        """One request; the OAI-PMH root element. Raises the named OaiError the repository answered with."""
        what = what or verb
        query = {"verb": verb, **{k: v for k, v in params.items() if v is not None}}
        body, url = self._fetch(query, what)
        return self._parse(body, url, what)

    def identify(self) -> Identify:
        el = self.call("Identify").find("{*}Identify")
        if el is None:
            raise OaiResponseError("the Identify answer has no <Identify> element", url=self.base_url)

        def get(name: str) -> str | None:
            return xmlsafe.text_of(el.find("{*}" + name))

        return Identify(
            repository_name=get("repositoryName"),
            base_url=get("baseURL"),
            protocol_version=get("protocolVersion"),
            granularity=get("granularity"),
            deleted_record=get("deletedRecord"),
            earliest_datestamp=get("earliestDatestamp"),
        )

    def list_metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        root = self.call("ListMetadataFormats", identifier=identifier)
        return [
            MetadataFormat(
                prefix=xmlsafe.text_of(f.find("{*}metadataPrefix")) or "",
                schema=xmlsafe.text_of(f.find("{*}schema")),
                namespace=xmlsafe.text_of(f.find("{*}metadataNamespace")),
            )
            for f in root.iterfind("{*}ListMetadataFormats/{*}metadataFormat")
        ]

    def list_sets(self) -> Iterator[OaiSet]:
        """Every set, following resumption tokens; nothing if the repository has no sets."""
        token: str | None = None
        seen: set[str] = set()
        page = 0
        while True:
            page += 1
            try:
                root = self.call("ListSets", f"ListSets page {page}", resumptionToken=token)
            except NoSetHierarchy:
                return
            container = root.find("{*}ListSets")
            if container is None:
                return
            for s in container.iterfind("{*}set"):
                spec = xmlsafe.text_of(s.find("{*}setSpec"))
                if spec:
                    yield OaiSet(spec=spec, name=xmlsafe.text_of(s.find("{*}setName")))
            tok = read_token(container.find("{*}resumptionToken"))
            token = tok.value if tok else None
            if not token or token in seen:
                return
            seen.add(token)

    def list_records(
        self,
        *,
        metadata_prefix: str | None = None,
        set_spec: str | None = None,
        from_: str | None = None,
        until: str | None = None,
        resumption_token: str | None = None,
        page: int = 1,
    ) -> OaiPage:
        """One page of ListRecords. A page that is not well-formed is read record by record."""
        what = f"ListRecords page {page}"
        if resumption_token:
            params = {"verb": "ListRecords", "resumptionToken": resumption_token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix or "oai_dc"}
            for key, value in (("set", set_spec), ("from", from_), ("until", until)):
                if value:
                    params[key] = value
        body, url = self._fetch(params, what)
        try:
            root = xmlsafe.parse(body, f"the answer to {what}")
        except xmlsafe.UnsafeXML as err:
            raise OaiResponseError(str(err), url=url) from None
        except xmlsafe.BadXML as err:
            log.warning("%s; reading its records one by one", err, extra={"url": url, "page": page})
            return salvage_page(body, page, url, self.max_record_bytes, str(err))
        self._check_root(root, url, what)
        result = OaiPage(number=page, url=url, response_date=xmlsafe.text_of(root.find("{*}responseDate")))
        container = root.find("{*}ListRecords")
        if container is None:
            return result  # some servers answer an empty list this way instead of noRecordsMatch
        for i, el in enumerate(container.iterfind("{*}record"), 1):
            item = read_record(el, f"page {page}, record {i}")
            (result.problems if isinstance(item, Quarantine) else result.records).append(item)
        result.token = read_token(container.find("{*}resumptionToken"))
        return result
