"""docs/record.schema.json is the Record model's JSON Schema, kept in step with the code."""

from __future__ import annotations

import json

from indexers.schema import SCHEMA_PATH, main, render


def test_the_published_schema_is_current():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), "run `python -m indexers.schema`"
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["title"] == "Record"
    assert {"id", "source", "title", "holdings", "identifiers"} <= set(schema["properties"])
    assert schema["$defs"]["RecordType"]["enum"][:2] == ["article", "book"]


def test_check_mode_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "record.schema.json"
    stale.write_text("{}", encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert main(["--output", str(stale)]) == 0
    assert main(["--check", "--output", str(stale)]) == 0
