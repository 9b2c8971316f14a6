"""What the conformance suite's tests share."""

from __future__ import annotations

import time
from typing import Any

from fedsearch.engines import SearchEngine, SearchQuery

IMPORTED_AT = time.time()  # before any engine of the suite is filled (the health test's lower bound)


def ids(engine: SearchEngine, q: str = "", **kw: Any) -> set[str]:
    result = engine.search(SearchQuery(q=q, per_page=100, **kw))
    assert result.total == len(result.hits), "the corpus fits one page"
    return {h.id for h in result.hits}
