"""Schema and responses agree: stamps carry a time zone (issue 12)."""

from __future__ import annotations

from datetime import datetime

from fedsearch.record import Record


def test_stamps_without_a_zone_are_utc():
    r = Record(
        id="knu-0123456789abcdef",
        source="knu",
        source_record_id="oai:knu:1",
        title=[{"value": "Манас"}],
        updated_at="2024-03-01T10:00:00",
        harvested_at=datetime(2026, 11, 1, 8),
    )
    data = r.model_dump(mode="json")
    assert data["updated_at"] == "2024-03-01T10:00:00Z" and data["harvested_at"] == "2026-11-01T08:00:00Z"
    # Stored records read back from an index built before the fix are fixed on the way out too.
    assert Record.model_validate_json(r.model_dump_json()).updated_at.utcoffset().total_seconds() == 0
