"""orjson for the Elasticsearch client's request and response bodies.

elasticsearch-py encodes request bodies and decodes responses with the standard json
module, and asks for the compatibility media type (application/vnd.elasticsearch+json),
whose decoder is json too. A search with five facets spent about 1 ms of CPU there,
a third of the engine call's own CPU (docs/benchmarks.md, "Search"); orjson does the
same work many times faster and writes the same JSON.
"""

from __future__ import annotations

from typing import ClassVar

from elasticsearch.serializer import OrjsonSerializer


class CompatibilityModeOrjsonSerializer(OrjsonSerializer):
    mimetype: ClassVar[str] = "application/vnd.elasticsearch+json"


def orjson_serializers() -> dict[str, OrjsonSerializer]:
    """The client's `serializers=`: orjson for plain JSON and for the compatibility media type."""
    return {
        OrjsonSerializer.mimetype: OrjsonSerializer(),
        CompatibilityModeOrjsonSerializer.mimetype: CompatibilityModeOrjsonSerializer(),
    }
