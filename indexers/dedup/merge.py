"""One Record for a cluster of records of one work, with the provenance of the merge (Record.match)."""

from __future__ import annotations

from fedsearch.record import Holding, LangText, Match, MatchLink, Person, Record, RecordType
from indexers import vocab
from indexers.dedup.features import features, surname_key
from indexers.dedup.rules import compare
from indexers.normalize.draft import unique_folded, unique_links

T = RecordType
# Strongest first: the rule a work is shown with is the strongest that joined any member.
RULE_ORDER = ("manual", "patent", "register", "doi", "isbn", "handle", "title")
_EXPLAIN_LIMIT = 40  # members compared pairwise to explain a merge when the caller has no links

_RICHNESS_FIELDS = ("abstract", "authors", "subjects", "classifications", "links", "languages", "title_alt")


def richness(record: Record) -> int:
    score = sum(2 for name in _RICHNESS_FIELDS if getattr(record, name))
    score += sum(1 for v in (record.year, record.publisher, record.container, record.institution) if v)
    score += 2 * bool(record.identifiers.all()) + (record.type is not T.other) + (record.date_precision is not None)
    return score


def merge(records: list[Record], links: list[MatchLink] | None = None) -> Record:
    """One Record for a cluster: the lowest id names it, the richest record gives the metadata.

    Lists are unions (titles in other spellings become alternative titles),
    access is the most open copy's, and every source's holding is kept. `match` says
    which records it was made from and by which rule: from `links` (the clusterer's
    decisions) or, without them, worked out again from the members.
    """
    if not records:
        raise ValueError("merge() needs at least one record")
    members = sorted(records, key=lambda r: r.id)
    if len(members) == 1:
        return members[0]
    primary = members[0]
    base = max(members, key=lambda r: (richness(r), [-ord(c) for c in r.id]))
    others = [r for r in members if r is not base]

    title_keys = {t.value.casefold() for t in base.title}
    title_alt: list[LangText] = []
    for r in [base, *others]:
        for t in (r.title if r is not base else []) + r.title_alt:
            if t.value.casefold() not in title_keys:
                title_keys.add(t.value.casefold())
                title_alt.append(t)
    abstracts = list(base.abstract)
    langs_with_abstract = {a.lang for a in abstracts}
    for r in others:
        for a in r.abstract:
            if a.lang not in langs_with_abstract:
                abstracts.append(a)
                langs_with_abstract.add(a.lang)

    authors = _merge_people(base.authors, [r.authors for r in others])
    contributors = _merge_people(base.contributors, [r.contributors for r in others])
    identifiers = {
        kind: list(dict.fromkeys(v for r in [base, *others] for v in getattr(r.identifiers, kind)))
        for kind in type(base.identifiers).model_fields
    }
    holdings: dict[str, Holding] = {}
    for r in members:
        for h in r.holdings:
            holdings.setdefault(h.record_id, h)
    own = holdings.pop(primary.id, None)
    ordered_holdings = ([own] if own else []) + sorted(holdings.values(), key=lambda h: h.record_id)

    def first(attr: str):
        return next((getattr(r, attr) for r in [base, *others] if getattr(r, attr)), None)

    year_source = base if base.year else next((r for r in others if r.year), base)
    rtype = base.type if base.type is not T.other else next((r.type for r in others if r.type is not T.other), T.other)
    languages = list(dict.fromkeys(lg for r in [base, *others] for lg in r.languages))
    stamps = [r.harvested_at for r in members if r.harvested_at]
    updates = [r.updated_at for r in members if r.updated_at]
    return base.model_copy(
        update={
            "id": primary.id,
            "source": primary.source,
            "source_record_id": primary.source_record_id,
            "source_url": primary.source_url,  # each copy's own URL is in its holding
            "type": rtype,
            "title_alt": title_alt,
            "abstract": abstracts,
            "authors": authors,
            "contributors": contributors,
            "subjects": unique_folded(s for r in [base, *others] for s in r.subjects),
            "classifications": list(
                {(c.scheme, c.code): c for r in [base, *others] for c in r.classifications}.values()
            ),
            "year": year_source.year,
            "date": year_source.date,
            "date_precision": year_source.date_precision,
            "languages": languages,
            "language_detected": all(r.language_detected for r in members if r.languages),
            "publisher": first("publisher"),
            "container": first("container"),
            "institution": first("institution"),
            "identifiers": type(base.identifiers)(**identifiers),
            "access": vocab.best_access([h.access for h in ordered_holdings] + [r.access for r in members]),
            "links": unique_links(lk for r in [base, *others] for lk in r.links),
            "holdings": ordered_holdings,
            "harvested_at": max(stamps) if stamps else None,
            "updated_at": max(updates) if updates else None,
            "raw_format": base.raw_format,
            "match": provenance(members, links),
        },
        deep=True,
    )


def _merge_people(base: list[Person], others: list[list[Person]]) -> list[Person]:
    """The richest list, with ORCIDs and affiliations filled in from the other copies."""
    people = list(base) or next((lst for lst in others if lst), [])
    extra = {surname_key(p): p for lst in others for p in lst if p.orcid or p.affiliation}
    out = []
    for p in people:
        other = extra.get(surname_key(p))
        if other is not None and (not p.orcid or not p.affiliation):
            p = p.model_copy(
                update={"orcid": p.orcid or other.orcid, "affiliation": p.affiliation or other.affiliation}
            )
        out.append(p)
    return out


def explain(members: list[Record]) -> list[MatchLink]:
    """Why these records are one work, when the clusterer's own decisions are not at hand (a rebuild).

    A spanning tree of pairwise decisions from the lowest id; a member no decision
    reaches (joined by hand, or over a since-changed rule) is linked as "manual".
    """
    members = sorted(members, key=lambda r: r.id)[:_EXPLAIN_LIMIT]
    feats = {r.id: features(r) for r in members}
    reached, links, frontier = {members[0].id}, [], [members[0].id]
    while frontier:
        current = frontier.pop(0)
        for r in members:
            if r.id in reached:
                continue
            d = compare(feats[current], feats[r.id])
            if d.same and d.rule:
                reached.add(r.id)
                frontier.append(r.id)
                links.append(MatchLink(record_id=r.id, to=current, rule=d.rule, evidence=d.evidence))
    for r in members:
        if r.id not in reached:
            links.append(MatchLink(record_id=r.id, to=members[0].id, rule="manual", evidence="joined in the cluster"))
    return links


def provenance(members: list[Record], links: list[MatchLink] | None = None) -> Match:
    ids = sorted(r.id for r in members)
    links = sorted(links if links is not None else explain(members), key=lambda lk: (lk.record_id, lk.to))
    strongest = min(links, key=lambda lk: RULE_ORDER.index(lk.rule)) if links else None
    return Match(
        members=ids,
        rule=strongest.rule if strongest else "manual",
        evidence=strongest.evidence if strongest else "",
        links=links,
    )
