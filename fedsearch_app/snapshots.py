"""`fedsearch snapshot` and `fedsearch restore-snapshot`: the Elasticsearch index in a
filesystem snapshot repository (docs/operations.md, "Snapshots").

The repository is `elasticsearch.snapshot_repository`, a shared folder
(`elasticsearch.snapshot_path`) that every node lists in its `path.repo`; it is
registered on first use. A snapshot holds the one index the alias serves, named
`<alias>-<UTC time>`, without the cluster's global state.

Restoring copies the snapshot's index under a new name beside the served one,
waits for its replicas, then moves the alias in one step (as `reindex` does), so
searches keep answering throughout, also on a fresh, empty cluster.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from elasticsearch import ApiError, NotFoundError

from fedsearch.config import Settings
from fedsearch.engines.base import EngineError
from fedsearch.engines.elasticsearch import ElasticsearchEngine
from fedsearch.errors import FedsearchError

SNAPSHOT_TIMEOUT = 3600.0  # seconds: creating or restoring waits until done


class SnapshotError(FedsearchError):
    """A snapshot that can't be taken or restored; the message says why and what to set."""

    error_code = "engine.snapshot_failed"


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    index: str
    documents: int | None = None


class Snapshots:
    """The snapshots of one deployment's index, in its configured repository."""

    def __init__(self, engine: ElasticsearchEngine):
        self.engine = engine
        self.config = engine.config
        self.repository = engine.config.snapshot_repository
        self.client = engine.client.options(request_timeout=SNAPSHOT_TIMEOUT)

    def ensure_repository(self) -> None:
        """Register the repository at `snapshot_path`, or check an already registered one."""
        path = self.config.snapshot_path
        with self.engine._calling(f"registering the snapshot repository {self.repository}"):
            if path is None:
                try:
                    self.client.snapshot.get_repository(name=self.repository)
                    return
                except NotFoundError:
                    raise SnapshotError(
                        f"no snapshot repository {self.repository!r} on {self.engine.hosts}: set elasticsearch.snapshot_path "
                        "to a folder every node lists in path.repo (scripts/es-cluster.sh: ES_CLUSTER_REPO)"
                    ) from None
            try:
                self.client.snapshot.create_repository(
                    name=self.repository, repository={"type": "fs", "settings": {"location": path}}
                )
            except ApiError as err:
                raise SnapshotError(
                    f"Elasticsearch at {self.engine.hosts} refused the snapshot repository at {path} "
                    f"(is it listed in every node's path.repo, and writable by them?): {err}"
                ) from None

    def create(self, name: str | None = None) -> SnapshotInfo:
        self.ensure_repository()
        served = self.engine.generation()
        if not served:
            raise SnapshotError(
                f"there is no index behind {self.engine.alias} to snapshot yet; run `fedsearch harvest` first"
            )
        name = name or f"{self.engine.alias}-{datetime.now(UTC):%Y%m%d%H%M%S}"
        with self.engine._calling(f"taking snapshot {name} of {served}"):
            resp = self.client.snapshot.create(
                repository=self.repository,
                snapshot=name,
                indices=served,
                include_global_state=False,
                wait_for_completion=True,
            )
        snap = resp["snapshot"]
        if snap.get("state") != "SUCCESS" or snap.get("shards", {}).get("failed"):
            raise SnapshotError(f"snapshot {name} ended {snap.get('state')} with failures: {snap.get('failures')}")
        return SnapshotInfo(name=name, index=served)

    def names(self) -> list[str]:
        """This alias's snapshots in the repository, oldest first."""
        self.ensure_repository()
        with self.engine._calling(f"listing snapshots in {self.repository}"):
            resp = self.client.snapshot.get(
                repository=self.repository,
                snapshot=f"{self.engine.alias}-*",
                sort="start_time",
                ignore_unavailable=True,
            )
        return [s["snapshot"] for s in resp["snapshots"] if s.get("state") == "SUCCESS"]

    def restore(self, name: str | None = None) -> SnapshotInfo:
        """Restore snapshot `name` (default: the newest) and serve it behind the alias."""
        if name is None:
            names = self.names()
            if not names:
                raise SnapshotError(f"no snapshot of {self.engine.alias} in repository {self.repository}")
            name = names[-1]
        else:
            self.ensure_repository()
        with self.engine._calling(f"reading snapshot {name}"):
            try:
                found = self.client.snapshot.get(repository=self.repository, snapshot=name)["snapshots"]
            except NotFoundError:
                raise SnapshotError(f"no snapshot {name!r} in repository {self.repository}") from None
        indices = [i for i in found[0]["indices"] if i.startswith(f"{self.engine.alias}-")]
        if len(indices) != 1:
            raise SnapshotError(
                f"snapshot {name} holds {len(indices)} indices of {self.engine.alias}, not one: {indices}"
            )
        target = self.engine.new_index_name()
        with self.engine._calling(f"restoring snapshot {name} into {target}"):
            resp = self.client.snapshot.restore(
                repository=self.repository,
                snapshot=name,
                indices=indices[0],
                rename_pattern=indices[0],
                rename_replacement=target,
                include_aliases=False,
                include_global_state=False,
                # This cluster's replica count and refresh interval, not the snapshotted cluster's.
                index_settings={
                    "index.number_of_replicas": self.config.replicas,
                    "index.refresh_interval": self.config.refresh_interval,
                },
                wait_for_completion=True,
            )
        shards = resp.get("snapshot", {}).get("shards", {})
        if shards.get("failed"):
            self.engine._drop_quietly(target)
            raise SnapshotError(f"restoring {name}: {shards['failed']} of {shards.get('total')} shards failed")
        self.engine.serve_index(target)
        with self.engine._calling(f"counting {target}"):
            count = self.engine._writer.count(index=target)["count"]
        return SnapshotInfo(name=name, index=target, documents=count)


def _engine(settings: Settings, command: str) -> ElasticsearchEngine:
    if settings.engine != "elasticsearch":
        raise SnapshotError(
            f"`fedsearch {command}` is for the Elasticsearch engine; this configuration uses "
            f"{settings.engine!r} (use `fedsearch backup` for the embedded index)"
        )
    return ElasticsearchEngine(settings.elasticsearch)


def snapshot_cli(settings: Settings, name: str | None) -> int:
    return _command(
        settings,
        "snapshot",
        lambda snaps: snaps.create(name),
        lambda info: (
            f"snapshot {info.name} of {info.index} taken in repository {settings.elasticsearch.snapshot_repository}"
        ),
    )


def restore_snapshot_cli(settings: Settings, name: str | None) -> int:
    return _command(
        settings,
        "restore-snapshot",
        lambda snaps: snaps.restore(name),
        lambda info: (
            f"restored snapshot {info.name} into {info.index} ({info.documents} documents); the alias now serves it"
        ),
    )


def _command(
    settings: Settings, command: str, act: Callable[[Snapshots], SnapshotInfo], report: Callable[[SnapshotInfo], str]
) -> int:
    """Run one snapshot command: 0 and a line on stdout, or 1 and the reason on stderr."""
    try:
        engine = _engine(settings, command)
    except SnapshotError as err:
        print(f"fedsearch {command}: {err}", file=sys.stderr)
        return 1
    try:
        info = act(Snapshots(engine))
    except (SnapshotError, EngineError) as err:
        print(f"fedsearch {command}: {err}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    print(report(info))
    return 0


__all__ = ["SnapshotError", "SnapshotInfo", "Snapshots", "restore_snapshot_cli", "snapshot_cli"]
