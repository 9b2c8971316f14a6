"""Facet counts kept between searches that ask the same thing of the same index state.

The search page's first view (no words, maybe a filter or two clicked) asks for the
same five facets over most of the index, request after request: the costliest part of
such a search, and its answer only changes when the index does. Entries are keyed by
the query's filters and facets and tagged with the index state they were counted on
(the engine's generation and commit stamp): a commit or a rebuild makes every entry
stale at once, so a cached count is never older than the hits beside it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

DEFAULT_ENTRIES = 512


def facet_key(
    filters: Mapping[str, Sequence[str]],
    year_from: int | None,
    year_to: int | None,
    facets: Sequence[str],
    facet_size: int,
) -> Hashable:
    """What facet counts of a query without words depend on, beside the index state."""
    chosen = tuple(sorted((name, tuple(sorted(set(values)))) for name, values in filters.items() if values))
    return chosen, year_from, year_to, tuple(facets), facet_size


class FacetCache:
    """A bounded LRU of facet counts, emptied whenever the index state it is asked about changes."""

    def __init__(self, entries: int = DEFAULT_ENTRIES):
        self.entries = entries
        self._state: Hashable = None
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, state: Hashable, key: Hashable) -> Any | None:
        with self._lock:
            if state != self._state:
                self._state = state
                self._data.clear()
            found = self._data.get(key)
            if found is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found

    def put(self, state: Hashable, key: Hashable, value: Any) -> None:
        with self._lock:
            if state != self._state:  # counted on a state that is no longer current: keep nothing
                return
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
