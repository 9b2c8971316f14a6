"""Write the Record model's JSON Schema to docs/record.schema.json.

python -m indexers.schema            # rewrite the file
python -m indexers.schema --check    # exit 1 if the file is out of date (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fedsearch.record import Record

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "record.schema.json"


def record_schema() -> dict:
    schema = Record.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }


def render() -> str:
    return json.dumps(record_schema(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only check that the file is up to date")
    ap.add_argument("--output", type=Path, default=SCHEMA_PATH)
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `python -m indexers.schema`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
