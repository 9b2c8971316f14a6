"""`fedsearch sources`: each source's last run, its counts and its last error."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from fedsearch.config import Settings
from rawstore.models import RunSummary, SourceStatus
from rawstore.store import RawStore


def sources_status(settings: Settings, store: RawStore) -> list[dict[str, Any]]:
    """Configured sources first (in configuration order), then any the store still holds."""
    configured = {s.id: s for s in settings.sources}
    ids = list(configured) + [s for s in store.sources() if s not in configured]
    out = []
    for status in store.list_sources_status(ids):
        source = configured.get(status.source)
        entry = status.as_dict()
        entry.update(
            held_deletions=[h.as_dict() for h in store.held_sweeps(status.source)],
            name=source.display_name() if source else None,
            connector=source.connector if source else None,
            enabled=source.enabled if source else None,
            configured=source is not None,
        )
        out.append(entry)
    return out


def _when(run: RunSummary | None) -> str:
    if run is None:
        return "never"
    stamp = (run.ended_at or run.started_at)[:19].replace("T", " ")
    return f"{stamp} UTC"


def _line(status: SourceStatus, entry: dict[str, Any]) -> list[str]:
    c = status.counts
    run = status.last_run
    lines = [
        f"{status.source}"
        + (f"  ({entry['connector']})" if entry["connector"] else "  (not in the configuration)")
        + ("" if entry["enabled"] in (None, True) else "  [disabled]")
    ]
    if run is None:
        lines.append("    last run: never")
    else:
        rate = f", {run.rate:.0f} records/s" if run.rate else ""
        lines.append(
            f"    last run: #{run.id} {run.status} {run.mode} at {_when(run)}: {run.records} records "
            f"({run.new} new, {run.changed} changed, {run.deleted} deleted, {run.unchanged} unchanged, "
            f"{run.quarantined} quarantined){rate}"
        )
        if status.last_success and status.last_success.id != run.id:
            lines.append(f"    last success: #{status.last_success.id} at {_when(status.last_success)}")
    lines.append(
        f"    records: {c.live} live, {c.deleted} deleted, {c.quarantined} quarantined, "
        f"{c.unindexed} waiting to be indexed"
    )
    if status.last_error:
        code = f" [{status.last_error_code}]" if status.last_error_code else ""
        lines.append(f"    last error: {status.last_error}{code}")
    for held in entry.get("held_deletions") or []:
        lines.append(
            f"    held deletions: {held['count']} of {held['live']} records no longer listed (full run "
            f"#{held['run_id']}); confirm with `fedsearch harvest --source {status.source} --confirm-deletions` "
            "or in the admin, or discard them in the admin"
        )
    return lines


def print_sources(settings: Settings, as_json: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    with RawStore.for_settings(settings) as store:
        entries = sources_status(settings, store)
        if as_json:
            print(json.dumps(entries, indent=2, ensure_ascii=False), file=out)
            return 0
        if not entries:
            print("no sources configured and nothing harvested yet", file=out)
            return 0
        statuses = store.list_sources_status([e["source"] for e in entries])
        for status, entry in zip(statuses, entries):
            print("\n".join(_line(status, entry)), file=out)
    return 0
