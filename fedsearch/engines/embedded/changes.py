"""The change feed on the embedded (tantivy) index: works in (updated, id) order after a cursor.

tantivy orders by one fast field and has no search_after, so a page is read in steps whose
cost depends on how many works were written around the cursor, never on the index's size
or the page's depth:
1. the rest of the cursor's second: `updated == s AND id > cursor id`, ordered by id;
2. then windows of seconds after it, [lo, lo + w], w doubling from 1 s while the page is short:
   the window's first hits by `updated` (an inverted-index range query, so only the window's
   documents are visited). Hits in seconds before the last one taken are complete and are
   sorted by id in Python; the last second is read again, ordered by id (step 1's query).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import tantivy
from tantivy import Occur, Order
from tantivy import Query as TQ

from fedsearch.engines.changes import Change, ChangeQuery
from fedsearch.record import Record

if TYPE_CHECKING:
    from fedsearch.engines.embedded.layout import Generation

_I64_MIN = -(2**63)
_MAX_WINDOW = 2**40  # seconds: past this the window is "everything up to until"


def _filtered(q: tantivy.Query, gen: Generation, filters: dict[str, tuple[str, ...]]) -> tantivy.Query:
    parts = [(Occur.Must, q)]
    for name, values in filters.items():
        parts.append((Occur.Must, TQ.const_score_query(TQ.term_set_query(gen.schema, name, list(values)), 0.0)))
    return TQ.boolean_query(parts) if len(parts) > 1 else q


def _stamp_range(gen: Generation, lo: int, hi: int) -> tantivy.Query:
    return TQ.range_query(
        gen.schema, "updated", tantivy.FieldType.Integer, lower_bound=lo, upper_bound=hi, use_inverted_index=True
    )


def _record(searcher: tantivy.Searcher, addr: tantivy.DocAddress) -> Record:
    # Stored as bytes (documents.py); str() of them would be "b'...'", not JSON.
    return Record.model_validate_json(cast(bytes, searcher.doc(addr).get_first("record")))


def _second(
    gen: Generation,
    searcher: tantivy.Searcher,
    stamp: int,
    after_id: str | None,
    filters: dict[str, tuple[str, ...]],
    limit: int,
) -> list[Change]:
    """Works written in second `stamp`, in id order, after `after_id`."""
    q = TQ.term_query(gen.schema, "updated", stamp)
    if after_id:  # "" (a cursor at the start of a second) and None: the whole second
        # Ids are [a-z0-9_-] (checked on write): safe inside the range syntax.
        q = TQ.boolean_query([(Occur.Must, q), (Occur.Must, gen.index.parse_query(f"id:{{{after_id} TO *}}"))])
    hits = searcher.search(_filtered(q, gen, filters), limit, count=False, order_by_field="id", order=Order.Asc).hits
    return [Change(id=r.id, stamp=stamp, record=r) for r in (_record(searcher, a) for _, a in hits)]


def list_live(gen: Generation, searcher: tantivy.Searcher, q: ChangeQuery) -> list[Change]:
    filters = {k: tuple(v) for k, v in q.filters.items() if v}
    out: list[Change] = []
    if q.after is not None:
        stamp, after_id = q.after
        if stamp <= q.until:
            out += _second(gen, searcher, stamp, after_id, filters, q.limit)
        lo = stamp + 1
    else:
        lo = q.since if q.since is not None else _I64_MIN
    if q.since is not None:
        lo = max(lo, q.since)
    if lo == _I64_MIN:  # no lower bound: start at the oldest stamp there is
        first = searcher.search(
            _filtered(_stamp_range(gen, _I64_MIN, q.until), gen, filters),
            1,
            count=False,
            order_by_field="updated",
            order=Order.Asc,
        ).hits
        if not first:
            return out
        lo = int(first[0][0])
    width = 1
    while len(out) < q.limit and lo <= q.until:
        hi = q.until if width >= _MAX_WINDOW else min(q.until, lo + width - 1)
        need = q.limit - len(out)
        hits = searcher.search(
            _filtered(_stamp_range(gen, lo, hi), gen, filters),
            need,
            count=False,
            order_by_field="updated",
            order=Order.Asc,
        ).hits
        if len(hits) < need:  # the whole window fits: take it, and look further
            found = [(int(s), _record(searcher, a)) for s, a in hits]
            out += [Change(id=r.id, stamp=s, record=r) for s, r in sorted(found, key=lambda x: (x[0], x[1].id))]
            lo, width = hi + 1, width * 2
            continue
        last = int(hits[-1][0])
        found = [(int(s), _record(searcher, a)) for s, a in hits if int(s) < last]
        out += [Change(id=r.id, stamp=s, record=r) for s, r in sorted(found, key=lambda x: (x[0], x[1].id))]
        out += _second(gen, searcher, last, None, filters, q.limit - len(out))
        break
    return out[: q.limit]


def count_live(gen: Generation, searcher: tantivy.Searcher, q: ChangeQuery) -> int:
    lo = q.since if q.since is not None else _I64_MIN
    filters = {k: tuple(v) for k, v in q.filters.items() if v}
    result = searcher.search(_filtered(_stamp_range(gen, lo, q.until), gen, filters), 1, count=True)
    return int(result.count)  # type: ignore[attr-defined]  # set when count=True; tantivy's stubs omit it
