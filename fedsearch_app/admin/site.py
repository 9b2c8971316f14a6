"""The admin's state in a running app: settings, accounts, sessions, audit, sources, harvests, scheduler."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fedsearch.config import ConfigError, Settings, SourceConfig
from fedsearch_app.admin.audit import AuditLog, changes
from fedsearch_app.admin.db import AdminDB
from fedsearch_app.admin.sessions import LoginThrottle, Sessions, secret_key
from fedsearch_app.admin.users import UserStore
from fedsearch_app.managed_sources import ManagedSource, ManagedSources, source_dict
from fedsearch_app.scheduler import Harvests, Scheduler, enabled_in_server, remove_source_from_index
from indexers.state import IndexState
from rawstore.models import QuarantineEntry
from rawstore.store import RawStore
from search_api.serving import may_run_scheduler

log = logging.getLogger("fedsearch.admin")


class AdminSite:
    def __init__(self, settings: Settings):
        # `settings` is the app's own object (the search service holds it too): saving a source
        # replaces its `sources`, so names and facets follow at once.
        self.settings = settings
        self.base = settings.model_copy(deep=True)  # the configuration file's settings
        self.managed = ManagedSources.for_settings(settings)
        self.config_problem: ConfigError | None = None
        if self.managed.path.exists():
            try:
                settings.sources = self.managed.apply(self.base).sources
            except ConfigError as err:
                log.error("the web admin's sources are not used: %s", err)
                self.config_problem = err
        self.db = AdminDB.for_data_dir(settings.data_dir)
        self.users = UserStore(self.db)
        self.audit = AuditLog(self.db)
        self.throttle = LoginThrottle(self.db)
        self._sessions: Sessions | None = None
        self._store: RawStore | None = None
        self.harvests = Harvests(lambda: self.settings)
        self.scheduler: Scheduler | None = None

    @property
    def sessions(self) -> Sessions:
        if self._sessions is None:  # the generated key is written on first use, not at import
            self._sessions = Sessions(self.db, secret_key(self.settings), self.settings.server.secure_cookies)
        return self._sessions

    @property
    def store(self) -> RawStore:
        if self._store is None:
            self._store = RawStore.for_settings(self.settings)
        return self._store

    # -- sources -----------------------------------------------------------------------------------

    def source(self, source_id: str) -> SourceConfig:
        return self.settings.source(source_id)  # KeyError when unknown

    def is_managed(self, source_id: str) -> bool:
        return self.managed.get(source_id) is not None

    def in_config_file(self, source_id: str) -> bool:
        return any(s.id == source_id for s in self.base.sources)

    def check_sources(self, configs: list[dict[str, Any]]) -> Settings:
        """The settings these sources would make; ConfigError (check-config's) if not valid."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        pending = [ManagedSource(c["id"], c, now, "") for c in configs]
        return self.managed.apply(self.base, pending)

    def save_sources(self, configs: list[dict[str, Any]], actor: str, action: str | None = None) -> None:
        """Validate the whole configuration with these sources, store them, use them, and audit each.

        `action` for the audit log; default source.create or source.update.
        """
        olds = {c["id"]: self._current(c["id"]) for c in configs}
        merged = self.check_sources(configs)
        self.managed.put(configs, actor)
        self.settings.sources = merged.sources
        for c in configs:
            old = olds[c["id"]]
            self.audit.record(
                actor, action or ("source.update" if old else "source.create"), c["id"], {"changes": changes(old, c)}
            )

    def _current(self, source_id: str) -> dict[str, Any] | None:
        try:
            return source_dict(self.source(source_id))
        except KeyError:
            return None

    def set_enabled(self, source_id: str, enabled: bool, actor: str) -> None:
        config = source_dict(self.source(source_id))
        config.pop("enabled", None)
        if not enabled:
            config["enabled"] = False
        self.save_sources([config], actor, "source.enable" if enabled else "source.disable")

    def quarantine_entry(self, source_id: str, entry_id: int) -> QuarantineEntry | None:
        return self.store.quarantine_entry(source_id, entry_id)

    def quarantine_keys(self, source_id: str) -> list[tuple[int, str | None]]:
        return self.store.quarantine_keys(source_id)

    def deletion_counts(self, source_id: str) -> dict[str, int]:
        counts = self.store.counts(source_id)
        state = IndexState.for_data_dir(self.settings.data_dir)
        try:
            indexed = len(state.record_ids_of_source(source_id))
        finally:
            state.close()
        return {
            "indexed": indexed,
            "live": counts.live,
            "deleted": counts.deleted,
            "quarantined": counts.quarantined,
            "runs": len(self.store.runs(source_id, limit=1_000_000)),
        }

    def delete_source(self, source_id: str, actor: str) -> dict[str, int]:
        """Remove the source's records from the index and the raw store, then the source itself."""
        old = self._current(source_id)
        removed = remove_source_from_index(self.settings, source_id)
        stored = self.store.delete_source(source_id)
        self.managed.delete(source_id, actor)
        self.settings.sources = self.managed.apply(self.base).sources
        detail = {"removed_from_index": removed, **stored, "config": old}
        self.audit.record(actor, "source.delete", source_id, detail)
        return {"indexed": removed, **stored}

    # -- the scheduler -------------------------------------------------------------------------------

    def start_scheduler(self) -> None:
        if not may_run_scheduler(self.settings):
            log.info("another server process runs the scheduler")
        elif enabled_in_server():
            self.scheduler = Scheduler(lambda: self.settings, self.harvests).start()
        else:
            log.info("the scheduler is off in this server (FEDSEARCH_SCHEDULER=off); run `fedsearch scheduler`")

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        self.harvests.shutdown(timeout=5)  # a signal to the server: stop within docker's 10 s
        if self._store is not None:
            self._store.close()
            self._store = None
