"""Deletions after a complete full listing: records the partner no longer lists, and the held sweeps.

The harvest runner calls `sweep_after_full_listing` when a full run ends well; the
raw store does the work (rawstore/sweeps.py). This module decides whether the listing
can back deletions, and says what happened in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from connectors.base import UNTRUSTED
from rawstore.models import RunSummary
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.harvest")


def sweep_after_full_listing(
    store: RawStore, run: RunSummary, extra: dict[str, Any], *, max_share: float, confirmed: bool
) -> None:
    untrusted = (run.checkpoint or {}).get(UNTRUSTED)
    if untrusted:
        log.warning(
            "the full listing cannot back deletions (%s); no record was marked deleted",
            "; ".join(untrusted[:3]),
            extra=extra,
        )
        return
    result = store.sweep_unlisted(run, max_share=max_share, confirmed=confirmed)
    if result.empty_listing:
        log.warning(
            "the full listing was empty; keeping the stored records rather than marking them all deleted", extra=extra
        )
    elif result.held is not None:
        held = result.held
        log.warning(
            "%s of %s records (%.0f%%) are no longer listed by the partner, over the safety brake of "
            "%.0f%%; the deletions are held (sweep %s): confirm them in the admin or with "
            "`fedsearch harvest --source %s --confirm-deletions`, or discard them in the admin",
            held.count,
            held.live,
            100 * held.share,
            100 * max_share,
            held.id,
            run.source,
            extra=extra,
        )
    elif result.deleted:
        log.info("%s records are no longer listed by the partner: marked deleted", result.deleted, extra=extra)


def confirm_held_sweeps(store: RawStore, source_ids: Iterable[str], by: str) -> int:
    """Apply the held deletion sweeps of these sources (`fedsearch harvest --confirm-deletions`)."""
    total = 0
    for sid in source_ids:
        for held in store.held_sweeps(sid):
            n = store.confirm_held_sweep(held.id, by=by)
            log.warning(
                "held deletion sweep %s confirmed by %s: %s records marked deleted",
                held.id,
                by,
                n,
                extra={"source": sid},
            )
            total += n
    return total
