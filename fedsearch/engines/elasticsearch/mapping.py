"""The Elasticsearch index's mapping and settings, derived from fedsearch/engines/document.py.

Text arrives pre-analyzed (fedsearch/analysis.py), so text fields use the built-in
`whitespace` analyzer and queries are term, phrase and prefix queries on those terms.
"""

from __future__ import annotations

from typing import Any

from fedsearch.config import ElasticsearchConfig
from fedsearch.engines.document import FIELDS
from fedsearch.engines.query import MAX_PER_PAGE, MAX_WINDOW

# Text fields hold terms our own chain produced; Elasticsearch only splits on spaces.
# (The integration-test distribution has no analysis-common module, so no custom
# analyzer could do more here: its only tokenizer is `standard`, which splits
# code terms like `udc:551_5`. See docs/engines.md.)
TERMS_ANALYZER = "whitespace"
# A keyword longer than this (in characters; 4 bytes each at worst) would exceed
# Lucene's 32766-byte term limit and reject the whole record; it is left out of
# the facet instead, as tantivy drops overlong terms.
KEYWORD_IGNORE_ABOVE = 8191
TEMPLATE_PRIORITY = 200  # above the built-in templates (100), so no pattern clash


def mappings() -> dict[str, Any]:
    """The index mapping, one property per field of the index document."""
    kinds: dict[str, dict[str, Any]] = {
        "text": {"type": "text", "analyzer": TERMS_ANALYZER},  # positions kept: phrases work
        "keyword": {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE},
        "int": {"type": "long"},  # `updated` is epoch seconds: past 2038 in an integer
        "stored": {"type": "keyword", "index": False, "doc_values": False},  # in _source only
    }
    # strict: a document with a field the template doesn't know is rejected, not guessed at.
    return {"dynamic": "strict", "properties": {name: dict(kinds[kind]) for name, kind in FIELDS.items()}}


def index_settings(config: ElasticsearchConfig) -> dict[str, Any]:
    return {
        "number_of_shards": config.shards,
        "number_of_replicas": config.replicas,
        "refresh_interval": config.refresh_interval,
        # Page `MAX_WINDOW / per_page` asks for from + per_page + 1 hits (the +1 tells has_more).
        "max_result_window": MAX_WINDOW + MAX_PER_PAGE + 1,
        # Elasticsearch's default, stated because `commit` relies on it: a write is acknowledged
        # only once its translog entry is fsynced, so an acknowledged bulk survives a crash.
        "translog": {"durability": "request"},
    }
