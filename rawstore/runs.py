"""The raw store's harvest runs as the search side sees them (fedsearch.harvest_log.HarvestLog)."""

from __future__ import annotations

import logging
from pathlib import Path

from fedsearch.config import Settings
from fedsearch.harvest_log import LastRun
from rawstore.store import FILENAME, RawStore

log = logging.getLogger(__name__)


class RawStoreHarvestLog:
    """Reads the runs lazily and never creates the store: a search-only deployment (or an
    index built elsewhere) has no raw store, and then every source's last run is unknown."""

    def __init__(self, settings: Settings):
        self.path = Path(settings.data_dir) / FILENAME

    def last_runs(self, source_ids: list[str]) -> dict[str, LastRun]:
        if not self.path.exists():
            return {}
        out: dict[str, LastRun] = {}
        try:
            with RawStore(self.path) as store:
                for sid in dict.fromkeys(source_ids + store.sources()):
                    run = store.last_run(sid)
                    held = sum(h.count for h in store.held_sweeps(sid))
                    out[sid] = (
                        LastRun(held_deletions=held)
                        if run is None
                        else LastRun(
                            status=str(run.status),
                            started_at=run.started_at,
                            finished_at=run.ended_at,
                            records=run.records,
                            error=run.error,
                            error_code=run.error_code,
                            held_deletions=held,
                        )
                    )
        except Exception as err:  # noqa: BLE001 - locked, corrupt, older schema: degrade to unknown
            log.warning("could not read harvest runs from %s: %s", self.path, err)
            return {}
        return out
