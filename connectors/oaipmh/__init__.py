"""OAI-PMH: institutional repositories and journals (DSpace, EPrints, OJS, Zenodo, Dataverse, ...).

`OaiClient` speaks the protocol (Identify, ListMetadataFormats, ListSets,
ListRecords one page at a time) and turns OAI errors into named exceptions.
`OaiPmhConnector` walks the pages: sets one after another, a checkpoint after
every page, and the quirks of real servers (errors served with HTTP 422, bare
or self-closing last tokens, empty pages that still carry a token, expired
tokens, pages that are not well-formed).

It never takes a damaged answer for the end of the list: a page that does not
parse, is cut off, or whose count disagrees with `completeListSize` is fetched
again with backoff, and if it stays damaged the run ends 'incomplete'
(HarvestIncomplete). Endless listings stop (pages bringing no new identifier,
more records than announced, a page cap). Incremental harvests ask `from` the
earlier of the last run's responseDate and newest datestamp, minus an overlap,
so records stamped late are still found.
"""

from connectors.oaipmh.client import OaiClient
from connectors.oaipmh.connector import OaiPmhConnector
from connectors.oaipmh.errors import OAI_ERRORS, OaiError
from connectors.oaipmh.options import OaiPmhOptions

__all__ = ["OAI_ERRORS", "OaiClient", "OaiError", "OaiPmhConnector", "OaiPmhOptions"]

# The plugin keeps the public path its entry point names (`fedsearch connectors` prints it), as httpx does.
OaiPmhConnector.__module__ = __name__
