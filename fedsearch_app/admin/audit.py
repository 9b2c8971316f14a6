"""Who changed what, and when: sources, schedules, harvests and accounts. Shown to admins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fedsearch_app.admin.db import AdminDB, stamp


@dataclass
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str  # e.g. source.update, user.create, harvest.start
    target: str
    detail: dict[str, Any]


def changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Keys whose values differ: key -> [old, new] (a schedule change reads schedule: [6h, 1d])."""
    old, new = old or {}, new or {}
    return {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


class AuditLog:
    def __init__(self, db: AdminDB):
        self.db = db

    def record(self, actor: str, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                (stamp(), actor, action, target, json.dumps(detail or {}, ensure_ascii=False, default=str)),
            )

    def entries(self, limit: int = 100, before: int | None = None, target: str | None = None) -> list[AuditEntry]:
        """Newest first; `before` (an entry id) pages back."""
        conds, params = [], []
        if before:
            conds.append("id < ?")
            params.append(before)
        if target:
            conds.append("target = ?")
            params.append(target)
        where = f"WHERE {' AND '.join(conds)}" if conds else ""
        rows = (
            self.db.conn().execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        )
        return [
            AuditEntry(r["id"], r["at"], r["actor"], r["action"], r["target"], json.loads(r["detail"])) for r in rows
        ]
