"""Sources added, changed, disabled or deleted in the web admin, laid over the YAML file's.

They live in SQLite in the data directory (`sources.sqlite3`), one row per
source id: the source's whole configuration, or a tombstone for a deleted
one. The effective list of sources is the YAML file's, each replaced by the
row with its id (a tombstone removes it), then the admin's new sources in the
order they were added. That list is validated by the same code as
`fedsearch check-config` (`fedsearch_app.settings.validate`), so the server, `fedsearch
harvest`, the scheduler and check-config all see the same sources.

Every process reads the rows when it loads its settings (the CLI) or on each
tick (the scheduler); the server updates its own settings when the admin saves.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fedsearch import sqlite
from fedsearch.config import ConfigError, Settings, SourceConfig
from fedsearch_app.settings import validate

FILENAME = "sources.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id          TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,     -- order of the admin's own sources
    config      TEXT,                 -- the source as JSON; NULL: deleted in the admin
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);
"""


@dataclass
class ManagedSource:
    id: str
    config: dict[str, Any] | None  # None: deleted in the admin (hides the YAML file's source too)
    updated_at: str
    updated_by: str

    @property
    def deleted(self) -> bool:
        return self.config is None


def source_dict(source: SourceConfig) -> dict[str, Any]:
    """A source as the YAML file would hold it: set keys only, connector options included."""
    data = source.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return {"id": source.id, "connector": source.connector, **data}


class ManagedSources:
    """The admin's source rows in one SQLite file; nothing is created until the first write."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def for_settings(cls, settings: Settings) -> ManagedSources:
        return cls(Path(settings.data_dir) / FILENAME)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite.connect(self.path, threads=False)
        conn.executescript(_SCHEMA)
        return conn

    def rows(self) -> list[ManagedSource]:
        if not self.path.exists():
            return []
        conn = self._connect()
        try:
            return [
                ManagedSource(
                    r["id"],
                    json.loads(r["config"]) if r["config"] is not None else None,
                    r["updated_at"],
                    r["updated_by"],
                )
                for r in conn.execute("SELECT * FROM sources ORDER BY position, id")
            ]
        finally:
            conn.close()

    def get(self, source_id: str) -> ManagedSource | None:
        return next((r for r in self.rows() if r.id == source_id), None)

    def put(self, configs: Iterable[dict[str, Any]], by: str) -> None:
        """Store sources (new, or replacing the YAML file's or an earlier edit), in one transaction."""
        self._write([(c["id"], c) for c in configs], by)

    def delete(self, source_id: str, by: str) -> None:
        self._write([(source_id, None)], by)

    def _write(self, items: list[tuple[str, dict[str, Any] | None]], by: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for source_id, config in items:
                    position = conn.execute("SELECT position FROM sources WHERE id = ?", (source_id,)).fetchone()
                    if position is None:
                        position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM sources").fetchone()
                    conn.execute(
                        "INSERT OR REPLACE INTO sources (id, position, config, updated_at, updated_by) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (
                            source_id,
                            position[0],
                            json.dumps(config, ensure_ascii=False) if config is not None else None,
                            now,
                            by,
                        ),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def merge(
        self, base: Iterable[SourceConfig | dict[str, Any]], pending: Iterable[ManagedSource] = ()
    ) -> list[dict[str, Any]]:
        """The effective sources: `base` (the YAML file's) with the rows (and `pending` ones) laid over."""
        rows = {r.id: r for r in self.rows()}
        rows.update({r.id: r for r in pending})
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for item in base:
            data = source_dict(item) if isinstance(item, SourceConfig) else dict(item)
            sid = data.get("id")
            seen.add(sid)
            row = rows.get(sid)
            if row is None:
                out.append(data)
            elif not row.deleted:
                out.append(row.config)  # type: ignore[arg-type]
        out.extend(r.config for r in rows.values() if r.id not in seen and not r.deleted)  # type: ignore[misc]
        return out

    def apply(self, settings: Settings, pending: Iterable[ManagedSource] = ()) -> Settings:
        """Validated settings whose sources are `settings`' with the admin's rows laid over.

        Raises ConfigError (like check-config) when the result is not a valid configuration.
        """
        sources = self.merge(settings.sources, pending)
        data = settings.model_dump(mode="json", exclude={"config_path"})
        data["sources"] = sources
        where = f"{settings.config_path or '<configuration>'} with the web admin's sources ({self.path})"
        try:
            merged = validate(data, where)
        except ConfigError as err:
            problems = [(_name_source(key, sources), msg) for key, msg in err.problems]
            raise ConfigError(where, problems, err.codes) from None
        merged.config_path = settings.config_path
        merged.data_dir = settings.data_dir
        return merged


def _name_source(key: str, sources: list[dict[str, Any]]) -> str:
    """'sources[3].url' -> 'sources[3] (id knu).url', so the message says which source."""
    if key.startswith("sources[") and "]" in key:
        index, rest = key[len("sources[") :].split("]", 1)
        if index.isdigit() and int(index) < len(sources):
            return f"sources[{index}] (id {sources[int(index)].get('id')}){rest}"
    return key


def with_managed_sources(settings: Settings) -> Settings:
    """`settings` with the web admin's sources (unchanged when the admin never saved one)."""
    managed = ManagedSources.for_settings(settings)
    if not managed.path.exists():
        return settings
    return managed.apply(settings)
