"""What the engine's commit per batch costs: index a data directory's raw store from scratch, timing commit().

    FEDSEARCH_INDEX_BATCH=2000 python -m bench.commit_cadence path/to/fedsearch.yaml

Empties the configuration's embedded index and index state (the raw store is kept, every
record marked unindexed), runs `index_changes`, and prints the time spent in
`EmbeddedEngine.commit`. See docs/benchmarks.md, "Commit per batch".
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time
from pathlib import Path

from fedsearch.config import load_config
from fedsearch.engines.embedded import EmbeddedEngine
from indexers.pipeline import index_changes
from indexers.state import IndexState
from rawstore.store import FILENAME, RawStore


def main(config: str) -> None:
    settings = load_config(Path(config))
    data = settings.data_dir
    shutil.rmtree(data / "index", ignore_errors=True)
    for f in data.glob("index-state.sqlite*"):
        f.unlink()
    conn = sqlite3.connect(data / FILENAME)
    conn.execute("UPDATE records SET indexed_hash = NULL")
    conn.commit()
    conn.close()
    spent: list[float] = []
    commit = EmbeddedEngine.commit

    def timed(self: EmbeddedEngine) -> None:
        started = time.perf_counter()
        commit(self)
        spent.append(time.perf_counter() - started)

    EmbeddedEngine.commit = timed  # type: ignore[method-assign]
    engine = EmbeddedEngine(data / "index", writer=True)
    engine.ensure_index()
    state = IndexState.for_data_dir(data)
    try:
        with RawStore.for_settings(settings) as store:
            started = time.perf_counter()
            summary = index_changes(settings, store, engine, state)
            total = time.perf_counter() - started
    finally:
        state.close()
        engine.close()
    spent.sort()
    print(
        f"{summary.seen} records in {total:.1f} s; {len(spent)} commits took {sum(spent):.2f} s "
        f"(median {spent[len(spent) // 2] * 1000:.0f} ms, max {spent[-1] * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main(sys.argv[1])
