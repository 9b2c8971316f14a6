"""Incremental re-harvest of an unchanged source against its full harvest.

The repository partner (pyoai over the corpus's oai/records.xml, in its own
process) holds about `records` records. With the real pipeline: one full
harvest into a fresh data directory, then `repeat` incremental harvests of the
unchanged repository (OAI-PMH `from` = the last run's newest datestamp minus the one-day overlap, so the partner
lists that day's records again, compared by hash; nothing is re-indexed). Ratio = median incremental / full.
"""

from __future__ import annotations

import math
import shutil
from typing import Any

from bench.common import (
    WORK,
    background,
    drop_es_indices,
    ensure_corpus,
    median,
    progress,
    run_child,
    settings_dict,
    write_settings,
)

OAI_SHARE = 0.475  # of corpus records held by the repository (see manifest records_by_partner)


def measure(records: int = 100_000, engine: str = "embedded", repeat: int = 3, timeout: float = 7200) -> dict[str, Any]:
    size = int(math.ceil(records / OAI_SHARE / 1000) * 1000)
    corpus, manifest = ensure_corpus(size)
    held = manifest["records_by_partner"]["oai"]
    data = WORK / f"reharvest-{held}-{engine}"
    shutil.rmtree(data, ignore_errors=True)
    prefix = "fsbench-reharvest"
    if engine == "elasticsearch":
        drop_es_indices(prefix)
    with background("bench.partners", "--corpus", str(corpus), "--only", "oai") as partners:
        cfg = data / "reharvest.yaml"
        write_settings(cfg, settings_dict(data, engine, partners.info["sources"], prefix))
        progress(f"full harvest of the repository ({held:,} records, OAI-PMH) into {engine}")
        full = run_child("bench.children", "harvest", "--config", str(cfg), timeout=timeout)
        progress(f"  {full['searchable']:,} searchable in {full['seconds']:.1f}s")
        again = []
        for i in range(repeat):
            inc = run_child("bench.children", "harvest", "--config", str(cfg), timeout=timeout)
            again.append(inc)
            progress(
                f"  incremental re-harvest {i + 1}/{repeat}: {inc['seconds']:.2f}s, {inc['searchable']:,} searchable"
            )
    if engine == "elasticsearch":
        drop_es_indices(prefix)
    inc_seconds = median([r["seconds"] for r in again])
    return {
        "engine": engine,
        "records": held,
        "corpus_size": size,
        "full": full,
        "incremental": again,
        "full_seconds": full["seconds"],
        "incremental_seconds": inc_seconds,
        "ratio": inc_seconds / full["seconds"],
        "same_count": all(r["searchable"] == full["searchable"] for r in again),
    }
