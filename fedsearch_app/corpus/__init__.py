"""A reproducible synthetic corpus of Kyrgyzstan's scientific output, in partners' raw formats.

`generate(out_dir, size, seed)` writes `size` records, shared among four
partners, each in the format that partner really publishes:

    oai/records.xml              the repository: one OAI <record> (oai_dc) per line
    catalogue/records.marcxml    the library catalogue: a MARCXML <collection>, one <record> per line
    dissertations/register.csv   the dissertation register: CSV with Russian column names
    patents/patents.jsonl        the patent register: one JSON object per line
    truth/duplicates.csv         the works held by both the repository and the catalogue
    manifest.json                seed, counts per partner, type and language, files

It streams (constant memory) and is deterministic for a seed; a smaller
corpus is a prefix of a larger one. The demo (fedsearch_app/demo) serves these
files; bench/ ingests them; bench/dedup_eval.py scores dedup against the truth.

    python -m fedsearch_app.corpus --size 100000 --out /tmp/corpus-100k
"""

from __future__ import annotations

import csv
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fedsearch.record import make_record_id
from fedsearch_app.corpus import formats
from fedsearch_app.corpus.works import AS_OF, CSV, OAI, PATENTS, SRU, Work, works

# Bump when the output for a seed changes, so saved corpora are written again.
VERSION = 3
DEFAULT_SEED = 20251
DEFAULT_DUP_RATE = 0.08
# The source ids the demo's configuration gives the four partners; the truth file uses them.
SOURCE_IDS = {OAI: "demo-repository", SRU: "demo-library", CSV: "demo-dissertations", PATENTS: "demo-patents"}
FILES = {
    OAI: "oai/records.xml",
    SRU: "catalogue/records.marcxml",
    CSV: "dissertations/register.csv",
    PATENTS: "patents/patents.jsonl",
    "truth": "truth/duplicates.csv",
    "manifest": "manifest.json",
}
TRUTH_COLUMNS = (
    "work",
    "type",
    "source_a",
    "local_id_a",
    "record_id_a",
    "source_b",
    "local_id_b",
    "record_id_b",
    "variations",
)

Progress = Callable[[int, int], None]


class CorpusWriter:
    """Open files for the four partners; `add(work)` writes a work wherever it is held."""

    def __init__(self, out_dir: Path, source_ids: dict[str, str]):
        self.out = Path(out_dir)
        self.ids = source_ids
        for rel in FILES.values():
            (self.out / rel).parent.mkdir(parents=True, exist_ok=True)
        self.oai = open(self.out / FILES[OAI], "w", encoding="utf-8")
        self.oai.write('<?xml version="1.0" encoding="UTF-8"?>\n<records>\n')
        self.marc = open(self.out / FILES[SRU], "w", encoding="utf-8")
        self.marc.write('<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n')
        self.csv_file = open(self.out / FILES[CSV], "w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.csv_file)
        self.csv.writerow(formats.CSV_COLUMNS)
        self.patents = open(self.out / FILES[PATENTS], "w", encoding="utf-8")
        self.truth_file = open(self.out / FILES["truth"], "w", encoding="utf-8", newline="")
        self.truth = csv.writer(self.truth_file)
        self.truth.writerow(TRUTH_COLUMNS)
        self.counters = Counter()  # per partner: records written; "books": ISBNs issued
        self.records = 0
        self.works = 0
        self.pairs = 0
        self.by_partner_lang: Counter[tuple[str, str]] = Counter()
        self.by_type: Counter[str] = Counter()

    def add(self, work: Work) -> int:
        """Write the work's records; returns how many were written."""
        r = random.Random(work.rng_state ^ 0x5EED)
        isbn = None
        if work.type == "book":
            isbn = formats.isbn13(self.counters["books"])
            self.counters["books"] += 1
        local_ids = {}
        for partner in work.partners:
            self.counters[partner] += 1
            n = self.counters[partner]
            if partner == OAI:
                shared = "shared_id" in work.variations if work.variations else r.random() < 0.6
                self.oai.write(formats.oai_record(work, n, isbn if shared else None) + "\n")
                local_ids[partner] = formats.oai_identifier(n)
            elif partner == SRU:
                control = 1_000_000 + n
                has_isbn = "shared_id" in work.variations if work.variations else r.random() < 0.85
                self.marc.write(formats.marc_record(work, control, isbn if has_isbn else None) + "\n")
                local_ids[partner] = str(control)
            elif partner == CSV:
                self.csv.writerow(formats.csv_row(work, n))
                local_ids[partner] = formats.csv_reg_number(work, n)
            else:
                self.patents.write(formats.patent_json(work, n) + "\n")
                local_ids[partner] = formats.patent_number(n)
            self.by_partner_lang[(partner, work.lang)] += 1
            self.by_type[work.type] += 1
        if len(work.partners) == 2:
            a, b = work.partners
            self.truth.writerow(
                (
                    work.index,
                    work.type,
                    self.ids[a],
                    local_ids[a],
                    make_record_id(self.ids[a], local_ids[a]),
                    self.ids[b],
                    local_ids[b],
                    make_record_id(self.ids[b], local_ids[b]),
                    "+".join(work.variations),
                )
            )
            self.pairs += 1
        self.works += 1
        self.records += len(work.partners)
        return len(work.partners)

    def close(self) -> None:
        self.oai.write("</records>\n")
        self.marc.write("</collection>\n")
        for f in (self.oai, self.marc, self.csv_file, self.patents, self.truth_file):
            f.close()


def generate(
    out_dir: str | Path,
    size: int,
    *,
    seed: int = DEFAULT_SEED,
    dup_rate: float = DEFAULT_DUP_RATE,
    source_ids: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write a corpus of exactly `size` records into `out_dir`; returns the manifest."""
    if size < 1:
        raise ValueError("size must be at least 1")
    ids = {**SOURCE_IDS, **(source_ids or {})}
    out = Path(out_dir)
    started = time.perf_counter()
    # Until the new manifest is written, nothing here may pass for a complete corpus.
    (out / FILES["manifest"]).unlink(missing_ok=True)
    writer = CorpusWriter(out, ids)
    try:
        step = max(1000, size // 100)
        next_report = step
        for work in works(seed, dup_rate):
            remaining = size - writer.records
            if remaining <= 0:
                break
            if len(work.partners) > remaining:
                continue  # the last slot can't take a pair; the next single work fills it
            writer.add(work)
            if progress and writer.records >= next_report:
                progress(writer.records, size)
                next_report += step
    finally:
        writer.close()
    if progress:
        progress(writer.records, size)
    manifest = {
        "generator": "fedsearch_app.corpus",
        "version": VERSION,
        "seed": seed,
        "size": size,
        "records": writer.records,
        "works": writer.works,
        "dup_rate": dup_rate,
        "duplicate_pairs": writer.pairs,
        "as_of": AS_OF,
        "source_ids": ids,
        "files": {k: v for k, v in FILES.items()},
        "records_by_partner": {
            p: sum(c for (q, _), c in writer.by_partner_lang.items() if q == p) for p in (OAI, SRU, CSV, PATENTS)
        },
        "records_by_language": _by_lang(writer.by_partner_lang),
        "records_by_partner_language": {f"{p}:{lang}": c for (p, lang), c in sorted(writer.by_partner_lang.items())},
        "records_by_type": dict(sorted(writer.by_type.items())),
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / FILES["manifest"]).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _by_lang(counter: Counter[tuple[str, str]]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for (_, lang), c in counter.items():
        out[lang] += c
    return dict(sorted(out.items()))


def load_manifest(out_dir: str | Path) -> dict[str, Any] | None:
    path = Path(out_dir) / FILES["manifest"]
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def is_current(manifest: dict[str, Any] | None, size: int, seed: int) -> bool:
    """True when a saved corpus is what `generate(size, seed)` would write now."""
    return (
        bool(manifest)
        and manifest.get("version") == VERSION
        and manifest.get("size") == size
        and manifest.get("seed") == seed
    )
