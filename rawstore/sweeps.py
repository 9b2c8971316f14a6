"""The raw store's deletion sweeps: after a full listing, records the partner no longer lists.

A sweep over the safety brake (harvest.sweep_max_share) is held for a librarian to
confirm or discard.
"""

from __future__ import annotations

import json

from rawstore.connection import StoreFile
from rawstore.models import HeldSweep, RunSummary, SweepResult, SweepStatus, utcnow
from rawstore.schema import held_from_row


class Sweeps(StoreFile):
    """Deletion sweeps and the held ones."""

    def sweep_unlisted(self, run: RunSummary, *, max_share: float = 1.0, confirmed: bool = False) -> SweepResult:
        """After a complete, trusted full listing: records the partner no longer lists become deletions.

        Nothing changes when the listing was empty but live records are stored (an empty answer
        is more often a partner's fault than the end of its collection). A sweep that would mark
        more than `max_share` of the live records deleted is held for a librarian
        (`confirm_held_sweep`), unless `confirmed`. Older held sweeps of the source are superseded.
        """
        now = utcnow()
        with self.transaction() as conn:
            live = conn.execute(
                "SELECT COUNT(*) FROM records WHERE source = ? AND deleted = 0", (run.source,)
            ).fetchone()[0]
            listed = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM records WHERE source = ? AND seen_window = ?)",
                (run.source, run.window_id),
            ).fetchone()[0]
            if live and not listed:
                return SweepResult(live=live, empty_listing=True)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT local_id FROM records WHERE source = ? AND deleted = 0 AND seen_window IS NOT ? "
                    "ORDER BY local_id",
                    (run.source, run.window_id),
                )
            ]
            result = SweepResult(unlisted=len(ids), live=live)
            conn.execute(
                "UPDATE held_sweeps SET status = 'superseded', decided_at = ? WHERE source = ? AND status = 'held'",
                (now, run.source),
            )
            if not ids:
                return result
            if not confirmed and len(ids) > max_share * live:
                cur = conn.execute(
                    "INSERT INTO held_sweeps (source, run_id, created, live, local_ids) VALUES (?, ?, ?, ?, ?)",
                    (run.source, run.id, now, live, json.dumps(ids, ensure_ascii=False)),
                )
                assert cur.lastrowid is not None and run.id is not None  # a stored run's insert
                result.held = HeldSweep(
                    id=cur.lastrowid,
                    source=run.source,
                    run_id=run.id,
                    created=now,
                    live=live,
                    local_ids=ids,
                    status="held",
                )
                return result
            result.deleted = conn.execute(
                "UPDATE records SET deleted = 1, changed_at = ?, run_id = ? "
                "WHERE source = ? AND deleted = 0 AND seen_window IS NOT ?",
                (now, run.id, run.source, run.window_id),
            ).rowcount
            run.deleted += result.deleted
            conn.execute("UPDATE runs SET deleted = ? WHERE id = ?", (run.deleted, run.id))
        return result

    def held_sweeps(self, source: str | None = None, status: SweepStatus | None = "held") -> list[HeldSweep]:
        """Held (or, with status None, all) sweeps, newest first."""
        conds, params = [], []
        if source:
            conds.append("source = ?")
            params.append(source)
        if status:
            conds.append("status = ?")
            params.append(status)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return [
            held_from_row(r) for r in self._conn().execute(f"SELECT * FROM held_sweeps{where} ORDER BY id DESC", params)
        ]

    def held_sweep(self, sweep_id: int) -> HeldSweep | None:
        row = self._conn().execute("SELECT * FROM held_sweeps WHERE id = ?", (sweep_id,)).fetchone()
        return held_from_row(row) if row else None

    def confirm_held_sweep(self, sweep_id: int, by: str) -> int:
        """Apply a held sweep: its records become deletions, except any a harvest has listed since."""
        now = utcnow()
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM held_sweeps WHERE id = ? AND status = 'held'", (sweep_id,)).fetchone()
            if row is None:
                raise KeyError(f"no held deletion sweep {sweep_id} (already decided, or superseded by a newer harvest)")
            held = held_from_row(row)
            n = 0
            for i in range(0, len(held.local_ids), 500):
                chunk = held.local_ids[i : i + 500]
                n += conn.execute(
                    f"UPDATE records SET deleted = 1, changed_at = ?, run_id = ? WHERE source = ? AND deleted = 0 "
                    f"AND last_seen < ? AND local_id IN ({','.join('?' * len(chunk))})",
                    (now, held.run_id, held.source, held.created, *chunk),
                ).rowcount
            conn.execute(
                "UPDATE held_sweeps SET status = 'confirmed', decided_at = ?, decided_by = ?, applied = ? WHERE id = ?",
                (now, by, n, sweep_id),
            )
        return n

    def discard_held_sweep(self, sweep_id: int, by: str) -> None:
        """Keep the records a held sweep would have marked deleted."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE held_sweeps SET status = 'discarded', decided_at = ?, decided_by = ? "
                "WHERE id = ? AND status = 'held'",
                (utcnow(), by, sweep_id),
            )
            if not cur.rowcount:
                raise KeyError(f"no held deletion sweep {sweep_id} (already decided, or superseded by a newer harvest)")
