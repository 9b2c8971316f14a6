"""Pages in order on the embedded index: every sort breaks ties by id (ascending), like
the Elasticsearch engine.

- newest / oldest / title order by one composite text key per document (keys.py). The
  cursor is that key; the next page is "key > cursor", a range query.
- relevance fetches the top hits by score and orders each group of equal scores by id,
  read from the idkey* columns (no stored document is loaded). The cursor is
  (score, id, position); the position only says where to start looking.
- a query that scores every hit the same (no words) is ordered by id directly.

Ordering by a text fast field costs tantivy ~10 µs per hit up to offset + limit, so a
deep page (page=N) first skips ahead on numeric columns that order like the key
(coarse_*, then idkey*): the value at the offset, the count below it, and so on, then
orders only what is left.
"""

from __future__ import annotations

import heapq
import json
import os
from bisect import bisect_left, bisect_right
from typing import Any

import tantivy
from tantivy import Order
from tantivy import Query as TQ

from fedsearch.engines.embedded.keys import ID_KEY_CHARS, ID_KEY_FIELDS, LEVELS, id_key
from fedsearch.engines.embedded.layout import Generation
from fedsearch.engines.embedded.translate import with_filters
from fedsearch.engines.query import Plan

# Ordering by a text fast field costs ~10 µs for every hit up to offset + limit; past this
# offset a page skips ahead on the numeric columns first.
DIRECT_OFFSET = 200
TIE_MARGIN = 32
GROWTH = 8  # how much more to fetch when a group of equal scores runs past the window


def by_key(
    gen: Generation,
    searcher: tantivy.Searcher,
    main: tantivy.Query,
    field: str,
    plan: Plan,
    after: str | None,
    score: float | None = None,
) -> tuple[list[tuple[float | None, Any, str]], int, int]:
    """Hits ordered by a unique text fast field: offset, or everything after a key."""
    per = plan.per_page
    if after is None:
        before = plan.offset
        if plan.offset <= DIRECT_OFFSET:
            res = searcher.search(main, per, count=True, order_by_field=field, offset=plan.offset, order=Order.Asc)
            return [(score, addr, key) for key, addr in res.hits], res.count, before
        total = searcher.search(main, 1, count=True).count
        rows = _seek(gen, searcher, main, field, plan.offset, per) if plan.offset < total else []
        return [(score, addr, key) for key, addr in rows], total, before
    total = searcher.search(main, 1, count=True).count
    bound = gen.index.parse_query(f"{field}:{{{after} TO *}}")
    res = searcher.search(with_filters(main, [bound]), per, count=True, order_by_field=field, order=Order.Asc)
    before = total - res.count  # those at or before the cursor
    return [(score, addr, key) for key, addr in res.hits], total, before


def _seek(
    gen: Generation, searcher: tantivy.Searcher, main: tantivy.Query, field: str, offset: int, per: int
) -> list[tuple[str, Any]]:
    """Hits [offset, offset + per) in `field` order, skipping ahead on its numeric levels:
    find the level's value at the offset, count the hits below it, keep only that value."""
    scope, remaining = main, offset
    constant = 0  # idkey columns below this are the same for every hit left in scope
    for column in LEVELS[field]:
        if remaining <= DIRECT_OFFSET:
            break
        if column in ID_KEY_FIELDS:
            level = ID_KEY_FIELDS.index(column)
            if level >= constant:
                # Ids in scope all share the prefix of the first and the last one: skip
                # the columns inside it (one source's ids share their first characters).
                lo, hi = (
                    searcher.search(scope, 1, count=False, order_by_field="id", order=o).hits
                    for o in (Order.Asc, Order.Desc)
                )
                if not lo:
                    return []
                constant = len(os.path.commonprefix([lo[0][0], hi[0][0]])) // ID_KEY_CHARS
            if level < constant:
                continue
        hit = searcher.search(scope, 1, count=False, order_by_field=column, offset=remaining, order=Order.Asc).hits
        if not hit:
            return []
        value = hit[0][0]
        if value > 0:
            below = TQ.range_query(
                gen.schema, column, tantivy.FieldType.Unsigned, upper_bound=value, include_upper=False
            )
            remaining -= searcher.search(with_filters(scope, [below]), 1, count=True).count
        equal = TQ.range_query(gen.schema, column, tantivy.FieldType.Unsigned, lower_bound=value, upper_bound=value)
        scope = with_filters(scope, [equal])
    rows = list(searcher.search(scope, per, count=False, order_by_field=field, offset=remaining, order=Order.Asc).hits)
    if rows and len(rows) < per:  # the page runs on past that value: continue after the last key
        bound = gen.index.parse_query(f"{field}:{{{rows[-1][0]} TO *}}")
        more = searcher.search(
            with_filters(main, [bound]), per - len(rows), count=False, order_by_field=field, order=Order.Asc
        )
        rows += more.hits
    return rows


def by_score(
    searcher: tantivy.Searcher, main: tantivy.Query, plan: Plan, after: tuple[float, str, int] | None
) -> tuple[list[tuple[float | None, Any, str | None]], int, int]:
    """Hits by score descending, equal scores by id ascending."""
    per = plan.per_page
    # The cursor's position is only a hint (the index may have changed): never past the end.
    target = plan.offset if after is None else min(after[2] + 1, searcher.num_docs)
    base = max(0, target - TIE_MARGIN)
    limit = target - base + per + TIE_MARGIN
    total: int | None = None
    step = TIE_MARGIN * 4
    cursor_key = id_key(after[1]) if after is not None else None
    while True:
        res = searcher.search(main, limit, count=total is None, offset=base)
        if total is None:
            total = res.count
        hits = res.hits
        exhausted = len(hits) < limit
        if after is None and target >= total:
            return [], total, target
        # The window must begin in a group of scores above the one we start in.
        if base > 0:
            if not hits:
                base, limit, step = 0, limit + base, step * 2
                continue
            if after is None:
                pivot = hits[target - base][0] if target - base < len(hits) else hits[-1][0]
                early = hits[0][0] > pivot
            else:
                early = hits[0][0] > after[0]
            if not early:
                new_base = max(0, base - step)
                limit += base - new_base
                base, step = new_base, step * 2
                continue
        neg = [-h[0] for h in hits]  # ascending: group bounds by bisection
        complete = len(hits) if exhausted else bisect_left(neg, neg[-1])
        # Where the page starts (index into hits), and how many of that group to skip.
        if after is None:
            i = target - base
            if i >= complete and not exhausted:
                limit = min(limit * GROWTH, total - base + 1)
                continue
            i = bisect_left(neg, neg[i])
            skip = target - base - i
            before = target
        else:
            i = bisect_left(neg, -after[0])  # the first hit not above the cursor's score
            skip = 0
            before = base + i
        out: list[tuple[float | None, Any, str | None]] = []
        while i < complete and len(out) < per:
            j = bisect_right(neg, neg[i])
            cursor = (cursor_key, after[1]) if after is not None and cursor_key and hits[i][0] == after[0] else None
            take = skip + per - len(out)
            picked, n_after = _in_id_order(searcher, [a for _, a in hits[i:j]], take, cursor)
            before += (j - i) - n_after
            out.extend((hits[i][0], hits[i + n][1], None) for n in picked[skip:])
            skip = 0
            i = j
        if len(out) < per and not exhausted:
            limit = min(limit * GROWTH, total - base + 1)
            continue
        return out, total, before


def _in_id_order(
    searcher: tantivy.Searcher, addrs: list[Any], take: int, cursor: tuple[tuple[int, ...], str] | None
) -> tuple[list[int], int]:
    """Of hits with equal scores: the indexes of the first `take` in id order after `cursor`
    (its id key and id), and how many come after the cursor.

    Ids are compared one idkey column at a time, reading a column only for the hits
    still tied on the columns before it, so a group of thousands costs one column
    read and an integer sort.
    """
    n = len(addrs)
    if n == 1 and cursor is None:
        return [0], 1
    first = [v or 0 for v in searcher.fast_field_values(ID_KEY_FIELDS[0], addrs)]
    deeper: list[dict[int, int]] = [{} for _ in ID_KEY_FIELDS]
    exact: dict[int, str] = {}

    def column(c: int, idx: list[int]) -> list[int]:
        if c == 0:
            return [first[i] for i in idx]
        known = deeper[c]
        missing = [i for i in idx if i not in known]
        if missing:
            values = searcher.fast_field_values(ID_KEY_FIELDS[c], [addrs[i] for i in missing])
            known.update(zip(missing, (v or 0 for v in values)))
        return [known[i] for i in idx]

    def stored_id(i: int) -> str:
        if i not in exact:  # an id beyond 80 characters: read it from the record
            exact[i] = json.loads(searcher.doc(addrs[i]).get_first("record"))["id"]
        return exact[i]

    def smallest(idx: list[int], c: int, k: int) -> list[int]:
        """The `k` smallest ids of `idx`, in order; they agree on the columns before `c`."""
        if len(idx) <= 1:
            return idx[:k]
        if c == len(ID_KEY_FIELDS):
            return sorted(idx, key=stored_id)[:k]
        values = column(c, idx)
        pairs = list(zip(values, idx, strict=True))
        if len(pairs) > k:
            cut = heapq.nsmallest(k, values)[-1] if k < 64 else sorted(values)[k - 1]
            pairs = [p for p in pairs if p[0] <= cut]
        pairs.sort()
        out: list[int] = []
        start = 0
        while start < len(pairs) and len(out) < k:
            stop = start + 1
            while stop < len(pairs) and pairs[stop][0] == pairs[start][0]:
                stop += 1
            same = [i for _, i in pairs[start:stop]]
            out += same if len(same) == 1 else smallest(same, c + 1, k - len(out))
            start = stop
        return out[:k]

    if cursor is None:
        after = list(range(n))
    else:
        ckey, cid = cursor
        after, undecided, c = [], list(range(n)), 0
        while undecided:
            if c == len(ID_KEY_FIELDS):
                after += [i for i in undecided if stored_id(i) > cid]
                break
            values = column(c, undecided)
            after += [i for i, v in zip(undecided, values, strict=True) if v > ckey[c]]
            undecided = [i for i, v in zip(undecided, values, strict=True) if v == ckey[c]]
            c += 1
    return smallest(after, 0, take), len(after)
