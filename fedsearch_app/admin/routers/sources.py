"""The list of sources, a source's page, and what a librarian starts from it: harvest, stop, enable, held deletion sweeps."""

from __future__ import annotations

import yaml
from fastapi import Request
from starlette.responses import JSONResponse, Response

from fedsearch.config import ConfigError
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
from fedsearch_app.admin.preview import stored_titles
from fedsearch_app.admin.rendering import render
from fedsearch_app.admin.status import (
    RUN_STATUS_LABELS,
    STATE_LABELS,
    planned_mode,
    records_chart,
    records_over_time,
    source_row,
)
from fedsearch_app.managed_sources import source_dict
from fedsearch_app.scheduler import AlreadyRunning
from web_ui.i18n import gettext_ as _
from web_ui.templating import request_lang

HISTORY = 30  # runs shown on a source's page
SWEEP_SAMPLE = 10  # records named, with their titles, for a held deletion sweep

router = admin_router()


# -- sources -------------------------------------------------------------------------------------


def _rows(request: Request):
    site = site_of(request)
    lang = request_lang(request)
    managed = {r.id for r in site.managed.rows()}
    return [source_row(s, site.store, site.harvests.get(s.id), lang, s.id in managed) for s in site.settings.sources]


@router.get("")
def sources_page(request: Request) -> Response:
    site = site_of(request)
    return render(
        request,
        "admin/sources.html",
        {
            "rows": _rows(request),
            "done": request.query_params.get("done"),
            "STATE_LABELS": STATE_LABELS,
            "RUN_STATUS_LABELS": RUN_STATUS_LABELS,
            "config_problem": site.config_problem,
            "scheduler": site.scheduler,
        },
    )


@router.get("/api/sources")
def sources_json(request: Request) -> Response:
    return JSONResponse({"sources": [r.as_dict() for r in _rows(request)]}, headers={"Cache-Control": "no-store"})


@router.get("/api/sources/{source_id}/progress")
def progress_json(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = source_of(request, source_id)
    row = source_row(
        source, site.store, site.harvests.get(source_id), request_lang(request), site.is_managed(source_id)
    )
    return JSONResponse(row.as_dict(), headers={"Cache-Control": "no-store"})


@router.get("/sources/{source_id}")
def source_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = source_of(request, source_id)
    row = source_row(
        source, site.store, site.harvests.get(source_id), request_lang(request), site.is_managed(source_id)
    )
    runs = site.store.runs(source_id, limit=HISTORY)
    finished = [r for r in runs if r.status != "running"]
    points = records_over_time(finished, row.counts.live)
    chart = records_chart(
        points,
        _("Records of %(source)s over time") % {"source": row.name},
        _("Live records after each of the last %(n)s runs, from %(first)s to %(last)s.")
        % {"n": len(points), "first": points[0][1] if points else 0, "last": points[-1][1] if points else 0},
    )
    held = site.store.held_sweeps(source_id)
    sweeps = [(h, stored_titles(site.store, source, h.local_ids[:SWEEP_SAMPLE])) for h in held]
    return render(
        request,
        "admin/source.html",
        {
            "row": row,
            "source": source,
            "runs": runs,
            "chart": chart,
            "sweeps": sweeps,
            "done": request.query_params.get("done"),
            "plain": plain,
            "RUN_STATUS_LABELS": RUN_STATUS_LABELS,
            "STATE_LABELS": STATE_LABELS,
            "in_config_file": site.in_config_file(source_id),
            "next_mode": planned_mode(site.settings, source, site.store, full=False),
            "config_yaml": yaml.safe_dump(source_dict(source), allow_unicode=True, sort_keys=False),
        },
    )


@router.post("/sources/{source_id}/harvest")
def start_harvest(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = source_of(request, source_id)
    full = form_of(request).get("mode") == "full"
    mode = planned_mode(site.settings, source, site.store, full=full)  # what the run will record, not what was asked
    try:
        site.harvests.start(source_id, full=full, trigger=user_of(request))
    except AlreadyRunning:
        return redirect(source_path(source_id), "busy")
    site.audit.record(user_of(request), "harvest.start", source_id, {"mode": mode})
    return redirect(source_path(source_id), f"started-{mode}")


@router.post("/sources/{source_id}/sweeps/{sweep_id}/{decision}")
def decide_sweep(request: Request, source_id: str, sweep_id: int, decision: str) -> Response:
    """A librarian confirms (records become deletions, then are indexed) or discards a held sweep."""
    site = site_of(request)
    source_of(request, source_id)
    held = site.store.held_sweep(sweep_id)
    if decision not in ("confirm", "discard") or held is None or held.source != source_id:
        raise NotFound()
    try:
        if decision == "confirm":
            applied = site.store.confirm_held_sweep(sweep_id, by=user_of(request))
        else:
            site.store.discard_held_sweep(sweep_id, by=user_of(request))
            applied = 0
    except KeyError:
        return redirect(source_path(source_id), "sweep-gone")
    site.audit.record(
        user_of(request),
        f"sweep.{decision}",
        source_id,
        {"sweep": sweep_id, "run": held.run_id, "held": held.count, "live": held.live, "deleted": applied},
    )
    if applied:
        try:
            site.harvests.reindex(source_id, [], trigger=user_of(request))  # the index drops them
        except AlreadyRunning:
            pass  # the running job indexes them when it ends
    return redirect(source_path(source_id), f"sweep-{decision}ed")


@router.post("/sources/{source_id}/stop")
def stop_harvest(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source_of(request, source_id)
    if site.harvests.stop(source_id):
        site.audit.record(user_of(request), "harvest.stop", source_id)
        return redirect(source_path(source_id), "stopping")
    return redirect(source_path(source_id), "not-running")


@router.post("/sources/{source_id}/enable")
def enable_source(request: Request, source_id: str) -> Response:
    return _set_enabled(request, source_id, True)


@router.post("/sources/{source_id}/disable")
def disable_source(request: Request, source_id: str) -> Response:
    return _set_enabled(request, source_id, False)


def _set_enabled(request: Request, source_id: str, enabled: bool) -> Response:
    source_of(request, source_id)
    try:
        site_of(request).set_enabled(source_id, enabled, user_of(request))
    except ConfigError as err:
        return _config_error_page(request, err)
    return redirect(source_path(source_id), "enabled" if enabled else "disabled")


def _config_error_page(request: Request, err: ConfigError) -> Response:
    return render(
        request,
        "admin/message.html",
        {
            "title": _("The configuration would not be valid"),
            "message": _("Nothing was changed. Correct these problems first:"),
            "problems": [f"{key}: {msg}" for key, msg in err.problems],
        },
        status_code=400,
    )
