"""Incremental clustering of records into works, with a reason on every join.

`Deduplicator.assign(record)` files a record and returns its cluster key: the id
of the merged record (the lowest member id, so a permalink survives a richer
record arriving). `take_changes()` says which merged records to write and which
ids to delete. A cluster never holds two records that `hard_conflict` keeps
apart (different patent numbers, same source without a shared identifier, ...),
however they are chained. Titles shared by GENERIC_AUTHORS or more different
first authors are generic: only an identifier joins records under them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from fedsearch.config import DedupConfig
from fedsearch.record import MatchLink, Record
from indexers.dedup.blocking import file_keys, lookup_keys
from indexers.dedup.features import Features, features
from indexers.dedup.merge import merge
from indexers.dedup.rules import GENERIC_AUTHORS, Decision, compare, hard_conflict, is_generic, strong_conflict


def _is_sparse(f: Features) -> bool:
    """Without authors or a year a record can fit several works; it joins one only if it fits no other."""
    return not f.surnames or f.year is None


def title_use(f: Features) -> tuple[str, int | None]:
    return f.author_key, f.year


def _distinct_people(keys: set[str]) -> int:
    """Surname keys that are not spellings of one another ("dujsonbaeva" / "duisonbaeva" count once)."""
    if len(keys) <= 1:
        return len(keys)
    people: list[str] = []
    for key in sorted(keys):
        if not any(fuzz.ratio(key, p) >= 80 for p in people):
            people.append(key)
    return len(people)


@dataclass
class ClusterChanges:
    """What to write after some assign()/remove() calls: merged records to (re)write, ids to delete."""

    upsert: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)


class Deduplicator:
    """An in-memory, incremental clustering of records into works.

    dedup = Deduplicator(settings.dedup)
    dedup.know_titles(state.title_authors(...))   # generic titles the index state knows of
    for record in changed:
        dedup.assign(record)
    changes = dedup.take_changes()
    for key in changes.upsert:
        engine.upsert(dedup.merged(key))
    engine.delete(changes.delete)
    """

    def __init__(self, config: DedupConfig | None = None, decisions: Iterable[tuple[str, ...]] = ()):
        """`decisions`: librarians' (a, b, "split" | "join", who, ...) from the index state; a split
        keeps two records apart like `never_merge`; a join merges them unless identifiers conflict."""
        self.config = config or DedupConfig()
        self._never: dict[str, set[str]] = {}
        self._joined: dict[str, dict[str, str]] = {}  # record -> record joined by hand -> who
        self._split: set[frozenset[str]] = set()
        for a, b in self.config.never_merge:
            self._never.setdefault(a, set()).add(b)
            self._never.setdefault(b, set()).add(a)
        for a, b, decision, who, *_ in decisions:
            if decision == "split":
                self._split.add(frozenset((a, b)))
                self._never.setdefault(a, set()).add(b)
                self._never.setdefault(b, set()).add(a)
            else:
                self._joined.setdefault(a, {})[b] = who
                self._joined.setdefault(b, {})[a] = who
        self._records: dict[str, Record] = {}
        self._features: dict[str, Features] = {}
        self._keys: dict[str, list[str]] = {}  # the blocking keys each record is filed under
        self._lookups: dict[str, list[str]] = {}  # and those its candidates are looked up by (computed once)
        self._blocks: dict[str, set[str]] = {}
        self._edges: dict[str, dict[str, Decision]] = {}
        self._key_of: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._changed: set[str] = set()
        self._gone: set[str] = set()
        # Generic titles: main title key -> first authors ("-" for none) seen under it, here and in the index state.
        self._title_ids: dict[str, set[str]] = {}
        self._known_authors: dict[str, set[tuple[str, int | None]]] = {}
        # title_authors() per (main title key, year): asked for on most comparisons, changed only when
        # a record under that title comes or goes (the entry is dropped then).
        self._title_counts: dict[tuple[str, int | None], tuple[int, int]] = {}
        self._counted_years: dict[str, set[int | None]] = {}

    # ---- queries
    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._records

    def cluster_key(self, record_id: str) -> str:
        return self._key_of[record_id]

    def members(self, cluster_key: str) -> list[Record]:
        return [self._records[i] for i in sorted(self._members.get(cluster_key, ()))]

    def links(self, cluster_key: str) -> list[MatchLink]:
        """The decisions that joined a cluster's members (one per edge of its match graph)."""
        out = []
        for rid in sorted(self._members.get(cluster_key, ())):
            for other, d in sorted(self._edges[rid].items()):
                if rid > other and d.rule:
                    out.append(MatchLink(record_id=rid, to=other, rule=d.rule, evidence=d.evidence))
        return out

    def merged(self, cluster_key: str) -> Record:
        return merge(self.members(cluster_key), self.links(cluster_key))

    def cluster_keys(self) -> list[str]:
        return sorted(self._members)

    def title_authors(self, f: Features) -> tuple[int, int]:
        """How many different named first authors use f's main title, here and in the index state:
        in any year, and within a year of f's (an author-less copy can't choose among those)."""
        key = f.title_key
        counted = self._title_counts.get((key, f.year))
        if counted is not None:
            return counted
        uses = set(self._known_authors.get(key, ()))
        uses |= {title_use(self._features[i]) for i in self._title_ids.get(key, ())}
        named = [(a, y) for a, y in uses if a != "-"]  # copies without authors say nothing about how common it is
        near = {a for a, y in named if f.year is None or y is None or abs(y - f.year) <= 1}
        counted = _distinct_people({a for a, _ in named}), _distinct_people(near)
        self._title_counts[(key, f.year)] = counted
        self._counted_years.setdefault(key, set()).add(f.year)
        return counted

    def _title_uses_changed(self, key: str) -> None:
        for year in self._counted_years.pop(key, ()):
            self._title_counts.pop((key, year), None)

    def is_generic(self, f: Features) -> bool:
        return is_generic(f, self.title_authors)

    def know_titles(self, authors_by_title: dict[str, set[tuple[str, int | None]]]) -> None:
        """(first author, year) uses of main titles the index state knows of (from its `g:` blocking keys)."""
        for key, authors in authors_by_title.items():
            self._known_authors.setdefault(key, set()).update(authors)
            self._title_uses_changed(key)

    def joined_with(self, record_id: str) -> list[str]:
        """Records a librarian joined this one with (the pipeline loads their works too)."""
        return sorted(self._joined.get(record_id, ()))

    def decide(self, a: Record, b: Record, fa: Features | None = None, fb: Features | None = None) -> Decision:
        """Are a and b the same work? Pass their features when you have them: computing them dominates."""
        return self.decide_features(fa or features(a), fb or features(b))

    def decide_features(self, a: Features, b: Features) -> Decision:
        """decide() for two records known only by their features (as the index state keeps them)."""
        if frozenset((a.id, b.id)) in self._split:
            return Decision(False, 0, "split by a librarian")
        if b.id in self._never.get(a.id, ()):
            return Decision(False, 0, "never_merge in the configuration")
        return self._compare(a, b)

    def worth_deciding(self, a: Features, other_id: str, other_source: str) -> bool:
        """False when decide_features(a, other) is "not the same" whatever other's features say:
        one source's two records are one work only through a shared strong identifier or a
        librarian's join (rules.compare, step 2), and `a` has no strong identifier to share."""
        return a.source != other_source or bool(a.strong) or other_id in self._joined.get(a.id, ())

    def _compare(self, a: Features, b: Features) -> Decision:
        who = self._joined.get(a.id, {}).get(b.id)
        if who is not None and strong_conflict(a, b) is None:
            return Decision(True, 100, "joined by a librarian", "manual", f"joined by {who}")
        return compare(a, b, self.config.fuzzy_threshold, self.title_authors)

    # ---- changes
    def assign(
        self, record: Record, feats: Features | None = None, keys: tuple[list[str], list[str]] | None = None
    ) -> str:
        """Add a record (or replace the one with its id); its cluster key afterwards.
        `feats`: the record's features, if the caller has them already (they must be `features(record)`);
        `keys`: likewise its (file_keys, lookup_keys) of those features."""
        if record.id in self._records:
            self.remove(record.id)
        feats = feats or features(record)
        before = self.title_authors(feats)
        self._add(record, feats, keys)
        self._title_use_changed(feats, before)
        if not _is_sparse(feats):
            # Sparse records it matches decide again, now that they have one more candidate.
            for sparse in self._sparse_matches(record.id):
                if self._key_of[sparse] != self._key_of[record.id]:
                    self._readd(sparse)
        return self._key_of[record.id]

    def _add(
        self, record: Record, feats: Features | None = None, keys: tuple[list[str], list[str] | None] | None = None
    ) -> None:
        rid = record.id
        feats = feats or features(record)
        self._records[rid] = record
        self._features[rid] = feats
        self._title_ids.setdefault(feats.title_key, set()).add(rid)
        self._title_uses_changed(feats.title_key)
        self._keys[rid] = keys[0] if keys else file_keys(feats)
        if keys and keys[1] is not None:
            self._lookups[rid] = keys[1]
        self._edges[rid] = {}
        self._key_of[rid] = rid
        self._members[rid] = {rid}
        for key in self._keys[rid]:
            self._blocks.setdefault(key, set()).add(rid)
        sparse = _is_sparse(feats)
        matches: dict[str, list[tuple[str, Decision]]] = {}  # cluster key -> matching members
        joined = self._joined.get(rid, {})
        for other in self._candidates(rid):
            if not sparse and _is_sparse(self._features[other]) and other not in joined:
                continue  # a sparse record chooses its cluster itself (see _readd)
            if other in self._never.get(rid, ()):
                continue
            d = self._compare(feats, self._features[other])
            if d.same:
                matches.setdefault(self._key_of[other], []).append((other, d))
        if sparse and len(matches) > 1 and self._any_conflict(list(matches)):
            # A record without authors or year that fits several different works
            # ("Информатика" by three authors; a book and its new edition): joining one is a guess.
            # A librarian's join is not.
            matches = {k: ms for k, ms in matches.items() if any(d.rule == "manual" for _, d in ms)}
        for _, others in sorted(matches.items()):
            key = self._key_of[others[0][0]]  # an earlier join may have renamed the cluster
            if key == self._key_of[rid] or self._conflict(self._key_of[rid], key):
                continue
            for other, d in others:
                self._edges[rid][other] = d
                self._edges[other][rid] = d
            self._join(self._key_of[rid], key)
        self._changed.add(self._key_of[rid])

    def _candidates(self, rid: str) -> list[str]:
        found: set[str] = {j for j in self._joined.get(rid, ()) if j in self._records}
        lookups = self._lookups.get(rid)
        if lookups is None:
            lookups = self._lookups[rid] = lookup_keys(self._features[rid])
        for key in lookups:
            found |= self._blocks.get(key, set())
        found.discard(rid)
        return sorted(found)

    def _sparse_matches(self, rid: str) -> list[str]:
        feats = self._features[rid]
        return [
            other
            for other in self._candidates(rid)
            if _is_sparse(self._features[other]) and self._compare(self._features[other], feats).same
        ]

    def _readd(self, rid: str) -> None:
        record, feats, keys = self._records[rid], self._features[rid], (self._keys[rid], self._lookups.get(rid))
        self._remove(rid)
        self._add(record, feats, keys)

    def remove(self, record_id: str) -> None:
        """Forget a record (deleted at its source); its cluster may shrink or split."""
        if record_id not in self._records:
            return
        feats = self._features[record_id]
        sparse = [] if _is_sparse(feats) else self._sparse_matches(record_id)
        before = self.title_authors(feats)
        self._remove(record_id)
        for other in sparse:
            self._readd(other)
        self._title_use_changed(feats, before)

    def _title_use_changed(self, feats: Features, before: tuple[int, int]) -> None:
        """A title just became (or stopped being) generic, or shared by two authors near a year
        (an author-less copy can't choose then): the records under it decide again."""
        after = self.title_authors(feats)
        if (before[1] >= 2) == (after[1] >= 2) and (before[0] >= GENERIC_AUTHORS) == (after[0] >= GENERIC_AUTHORS):
            return
        for other in sorted(self._title_ids.get(feats.title_key, ())):
            if other != feats.id and other in self._records:
                self._readd(other)

    def _remove(self, record_id: str) -> None:
        old_key = self._key_of.pop(record_id)
        self._lookups.pop(record_id, None)
        for key in self._keys.pop(record_id):
            block = self._blocks.get(key)
            if block is not None:
                block.discard(record_id)
                if not block:
                    del self._blocks[key]
        for other in self._edges.pop(record_id):
            self._edges[other].pop(record_id, None)
        title_key = self._features[record_id].title_key
        title_ids = self._title_ids.get(title_key)
        if title_ids is not None:
            title_ids.discard(record_id)
        self._title_uses_changed(title_key)
        del self._records[record_id], self._features[record_id]
        rest = self._members.pop(old_key) - {record_id}
        self._gone.add(old_key)
        while rest:
            component = self._component(next(iter(rest)))
            rest -= component
            new_key = min(component)
            self._members[new_key] = component
            for rid in component:
                self._key_of[rid] = new_key
            self._changed.add(new_key)

    def take_changes(self) -> ClusterChanges:
        upsert = sorted(k for k in self._changed if k in self._members)
        delete = sorted(k for k in self._gone if k not in self._members)
        self._changed, self._gone = set(), set()
        return ClusterChanges(upsert=upsert, delete=delete)

    # ---- batch
    def clusters(self, records: Iterable[Record]) -> list[list[Record]]:
        """Cluster a whole collection from scratch (deterministic: records are added in id order)."""
        fresh = Deduplicator(self.config)
        fresh._never, fresh._joined, fresh._split = self._never, self._joined, self._split
        records = sorted(records, key=lambda r: r.id)
        # Count every title's first authors first, so that a generic title is generic from the start.
        titles: dict[str, set[tuple[str, int | None]]] = {}
        for r in records:
            f = features(r)
            titles.setdefault(f.title_key, set()).add(title_use(f))
        fresh.know_titles(titles)
        for record in records:
            fresh.assign(record)
        fresh.take_changes()
        return [fresh.members(k) for k in fresh.cluster_keys()]

    def merge(self, records: list[Record]) -> Record:
        return merge(records)

    # ---- internals
    def _conflict(self, key_a: str, key_b: str) -> bool:
        """Would joining two clusters put two records together that must stay apart?

        Matching is pairwise, clusters are transitive: A~B and B~C must not join A
        and C when those two disagree (never_merge, different patent numbers or DOIs,
        same source, authors, years, volume numbers). This stops chains through a third record.
        """
        side_b = self._members[key_b]
        for x in self._members[key_a]:
            if self._never.get(x, set()) & side_b:
                return True
            fx = self._features[x]
            joined = self._joined.get(x, {})
            for y in side_b:
                fy = self._features[y]
                # A librarian's join overrides the heuristics, never a conflict of identifiers.
                if strong_conflict(fx, fy) if y in joined else hard_conflict(fx, fy):
                    return True
        return False

    def _any_conflict(self, keys: list[str]) -> bool:
        return any(self._conflict(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :])

    def _join(self, key_a: str, key_b: str) -> None:
        if key_a == key_b:
            return
        merged = self._members.pop(key_a) | self._members.pop(key_b)
        new_key = min(merged)
        for old in (key_a, key_b):
            if old != new_key:
                self._gone.add(old)
        self._members[new_key] = merged
        for rid in merged:
            self._key_of[rid] = new_key
        self._changed.add(new_key)

    def _component(self, start: str) -> set[str]:
        seen, stack = {start}, [start]
        while stack:
            for nxt in self._edges[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen
