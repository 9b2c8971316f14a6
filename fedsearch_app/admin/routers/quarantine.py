"""A source's quarantined records: the list, one entry, retry."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from fedsearch_app.admin.dependencies import (
    NotFound,
    admin_router,
    form_of,
    redirect,
    site_of,
    source_of,
    source_path,
    user_of,
)
from fedsearch_app.admin.plain import plain
from fedsearch_app.admin.preview import raw_text
from fedsearch_app.admin.rendering import render
from fedsearch_app.scheduler import AlreadyRunning
from web_ui.templating import request_lang

QUARANTINE_SHOWN = 200

router = admin_router()


# -- quarantine ---------------------------------------------------------------------------------------


@router.get("/sources/{source_id}/quarantine")
def quarantine_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = source_of(request, source_id)
    entries = site.store.quarantined(source_id, limit=QUARANTINE_SHOWN)
    return render(
        request,
        "admin/quarantine.html",
        {
            "source": source,
            "name": source.display_name(request_lang(request)),
            "entries": entries,
            "total": site.store.counts(source_id).quarantined,
            "plain": plain,
            "done": request.query_params.get("done"),
        },
    )


def _entry(request: Request, source_id: str, entry_id: int):
    entry = site_of(request).quarantine_entry(source_id, entry_id)
    if entry is None:
        raise NotFound()
    return entry


@router.get("/sources/{source_id}/quarantine/{entry_id}")
def quarantine_entry_page(request: Request, source_id: str, entry_id: int) -> Response:
    site = site_of(request)
    source = source_of(request, source_id)
    entry = _entry(request, source_id, entry_id)
    stored = site.store.get(source_id, entry.local_id) if entry.local_id else None
    return render(
        request,
        "admin/quarantine_entry.html",
        {
            "source": source,
            "name": source.display_name(request_lang(request)),
            "entry": entry,
            "reason": plain(entry.reason, entry.code),
            "payload": raw_text(entry.payload) if entry.payload else "",
            "stored": stored is not None,
        },
    )


@router.post("/sources/{source_id}/quarantine/retry")
def retry_quarantined(request: Request, source_id: str) -> Response:
    """Stored records: normalize again from the raw store. Never stored: harvest again (full)."""
    site = site_of(request)
    source_of(request, source_id)
    wanted = {int(v) for v in form_of(request).getlist("entry") if str(v).isdigit()}
    entries = [(i, lid) for i, lid in site.quarantine_keys(source_id) if not wanted or i in wanted]
    stored = [lid for _i, lid in entries if lid and site.store.get(source_id, lid)]
    try:
        if len(stored) < len(entries):
            site.harvests.start(source_id, full=True, trigger=user_of(request))  # re-reads the stored ones too
        elif stored:
            site.harvests.reindex(source_id, stored, trigger=user_of(request))
    except AlreadyRunning:
        return redirect(source_path(source_id), "busy")
    site.store.delete_quarantined(i for i, _lid in entries)  # what fails again is quarantined again
    site.audit.record(
        user_of(request),
        "quarantine.retry",
        source_id,
        {"entries": len(entries), "renormalized": len(stored), "reharvest": len(stored) < len(entries)},
    )
    return redirect(source_path(source_id), "retrying")
