"""OAI sets: per source, per type, and open access, each a filter on the change feed.

setSpecs (":" makes a hierarchy, as the spec says):
- `source`, `source:<id>`: works held by a source (a merged work is in every holder's set);
- `type`, `type:<type>`: works of a type (article, book, dissertation, ...);
- `openaccess`: works whose full text is free to read (access open or free).
"""

from __future__ import annotations

from fedsearch.engines.changes import Departure
from fedsearch.record import Access, Record, RecordType
from search_api.oai.errors import BadArgument

OPEN_ACCESS = "openaccess"
OPEN_VALUES = (Access.open.value, Access.free.value)


def filters_for(spec: str | None) -> dict[str, tuple[str, ...]]:
    """The change-feed filters a setSpec means; badArgument for one we never list."""
    if spec is None or spec in ("source", "type"):
        return {}
    if spec == OPEN_ACCESS:
        return {"access": OPEN_VALUES}
    head, _, value = spec.partition(":")
    if head == "source" and value:
        return {"source": (value,)}
    if head == "type" and value in {t.value for t in RecordType}:
        return {"type": (value,)}
    raise BadArgument(f"set {spec!r} is not one of this repository's sets (see verb=ListSets)")


def specs_of(sources: list[str] | tuple[str, ...], type_: str | None, access: str | None) -> list[str]:
    out = [f"source:{s}" for s in sources]
    if type_:
        out.append(f"type:{type_}")
    if access in OPEN_VALUES:
        out.append(OPEN_ACCESS)
    return out


def record_specs(record: Record) -> list[str]:
    return specs_of(record.sources, record.type.value, record.access.value)


def departure_specs(departure: Departure) -> list[str]:
    return specs_of(departure.sources, departure.type, departure.access)


def all_sets(source_names: dict[str, str]) -> list[tuple[str, str]]:
    """(setSpec, setName) of every set: sources from the index and configuration, every type."""
    out = [("source", "By source"), *((f"source:{s}", name) for s, name in sorted(source_names.items()))]
    out += [("type", "By type"), *((f"type:{t.value}", t.value.replace("_", " ").capitalize()) for t in RecordType)]
    out.append((OPEN_ACCESS, "Open access: the full text is free to read"))
    return out
