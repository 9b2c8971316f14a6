"""The admin's pages and JSON endpoints under /admin.

Two routers: `public` holds only the login form and the admin's static files;
everything else is on `router`, whose one dependency (`require_session`)
refuses any request without a valid session and any POST without the
session's CSRF token, so no route can forget either. Admin-only routes add
`require_admin`.

Pages are thin: the work is in site.py (sources, deletion), forms.py,
preview.py, status.py and fedsearch_app/scheduler.py (harvests).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

import yaml
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, RedirectResponse, Response

from connectors.registry import UnknownConnector, get_connector, installed
from fedsearch.config import ConfigError, SourceConfig
from fedsearch_app.managed_sources import source_dict
from indexers.dedup import features, merge
from indexers.dedup.merge import RULE_ORDER
from indexers.dedup.rules import strong_conflict
from fedsearch_app.scheduler import AlreadyRunning
from indexers.state import IndexState
from fedsearch_app.admin import forms
from fedsearch_app.admin.db import stamp
from fedsearch_app.admin.plain import plain
from fedsearch_app.admin.preview import preview, raw_text, stored_titles
from fedsearch_app.admin.rendering import local_time, render, static_response, zone_of
from fedsearch_app.admin.sessions import COOKIE, LOGIN_COOKIE, same_token
from fedsearch_app.admin.site import AdminSite
from fedsearch_app.admin.status import (RUN_STATUS_LABELS, STATE_LABELS, planned_mode, records_chart, records_over_time,
                                  source_row)
from fedsearch_app.admin.users import ROLES, AccountError
from web_ui.i18n import gettext_ as _
from web_ui.templating import request_lang

log = logging.getLogger("fedsearch.admin")

HISTORY = 30  # runs shown on a source's page
SWEEP_SAMPLE = 10  # records named, with their titles, for a held deletion sweep
QUARANTINE_SHOWN = 200
AUDIT_PAGE = 100
IMPORT_MAX_BYTES = 1024 * 1024


class LoginRequired(Exception):
    pass


class CsrfRejected(Exception):
    pass


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


def site_of(request: Request) -> AdminSite:
    return request.app.state.admin


async def require_session(request: Request) -> None:
    """Every /admin route but login: a valid session; on POST, the session's CSRF token too."""
    request_lang(request)
    session = site_of(request).sessions.load(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired()
    request.state.admin_session = session
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        form = await request.form(max_part_size=IMPORT_MAX_BYTES)
        request.state.form = form
        token = form.get("csrf") or request.headers.get("x-csrf-token")
        if not same_token(session.csrf, token if isinstance(token, str) else None):
            raise CsrfRejected()


def require_admin(request: Request) -> None:
    if not request.state.admin_session.user.is_admin:
        raise Forbidden()


public = APIRouter(prefix="/admin", include_in_schema=False)
router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(require_session)])
ADMIN_ONLY = [Depends(require_admin)]


def _user(request: Request) -> str:
    return request.state.admin_session.user.username


def _form(request: Request) -> Any:
    return request.state.form


def _redirect(path: str, done: str | None = None, **params: str) -> RedirectResponse:
    items = {**({"done": done} if done else {}), **params}
    return RedirectResponse(path + (f"?{urlencode(items)}" if items else ""), status_code=303)


def _source(request: Request, source_id: str) -> SourceConfig:
    try:
        return site_of(request).source(source_id)
    except KeyError:
        raise NotFound() from None


def _source_path(source_id: str) -> str:
    return f"/admin/sources/{quote(source_id)}"


# -- login ----------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


def _login_page(request: Request, *, error: str | None = None, status: int = 200, username: str = "") -> Response:
    site = site_of(request)
    token = site.sessions.new_login_token()
    request.state.login_token = token
    response = render(request, "admin/login.html", {
        "error": error, "username": username, "next": _safe_next(request.query_params.get("next")),
        "no_users": not site.users.all(),
        # The command must reach this server's data_dir: name the configuration it was started with.
        "config_path": config.resolve() if (config := request.app.state.settings.config_path) else None,
    }, status_code=status)
    site.sessions.set_login_cookie(response, token)
    return response


@public.get("/login")
def login_form(request: Request) -> Response:
    site = site_of(request)
    if site.sessions.load(request.cookies.get(COOKIE)) is not None:
        return _redirect(_safe_next(request.query_params.get("next")))
    return _login_page(request)


def _locked_message(request: Request, until: datetime) -> str:
    minutes = max(1, int((until - datetime.now(timezone.utc)).total_seconds() + 59) // 60)
    return _("Too many failed attempts. Logging in with this name is locked until %(time)s (in %(minutes)s "
             "min).") % {"time": local_time(until, zone_of(request)), "minutes": minutes}


@public.post("/login")
async def login(request: Request) -> Response:
    request_lang(request)
    site = site_of(request)
    form = await request.form()
    if not site.sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        raise CsrfRejected()
    username = str(form.get("username", ""))[:100]
    password = str(form.get("password", ""))
    address = request.client.host if request.client else None
    until = site.throttle.locked_until(username, address)
    if until is not None:
        return _login_page(request, error=_locked_message(request, until), status=429, username=username)
    user = site.users.verify(username, password)
    if user is None:
        until = site.throttle.failed(username, address)
        log.warning("failed admin login for %r from %s", username, address)
        if until is not None:
            return _login_page(request, error=_locked_message(request, until), status=429, username=username)
        return _login_page(request, error=_("Wrong username or password."), status=401, username=username)
    site.throttle.succeeded(user.username)
    cookie, _session = site.sessions.create(user)
    log.info("admin login: %s", user.username)
    response = _redirect(_safe_next(str(form.get("next", ""))))
    site.sessions.set_cookie(response, cookie)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@public.get("/static/{name}")
async def admin_static(request: Request, name: str) -> Response:  # on the event loop: never waits for a thread
    return static_response(request, name)


@router.post("/logout")
def logout(request: Request) -> Response:
    site = site_of(request)
    site.sessions.end(request.state.admin_session)
    response = _redirect("/admin/login", "logged-out")
    site.sessions.clear_cookie(response)
    return response


# -- sources -------------------------------------------------------------------------------------


def _rows(request: Request):
    site = site_of(request)
    lang = request_lang(request)
    managed = {r.id for r in site.managed.rows()}
    return [source_row(s, site.store, site.harvests.get(s.id), lang, s.id in managed) for s in site.settings.sources]


@router.get("")
def sources_page(request: Request) -> Response:
    site = site_of(request)
    return render(request, "admin/sources.html", {
        "rows": _rows(request), "done": request.query_params.get("done"), "STATE_LABELS": STATE_LABELS,
        "RUN_STATUS_LABELS": RUN_STATUS_LABELS, "config_problem": site.config_problem,
        "scheduler": site.scheduler,
    })


@router.get("/api/sources")
def sources_json(request: Request) -> Response:
    return JSONResponse({"sources": [r.as_dict() for r in _rows(request)]}, headers={"Cache-Control": "no-store"})


@router.get("/api/sources/{source_id}/progress")
def progress_json(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = _source(request, source_id)
    row = source_row(source, site.store, site.harvests.get(source_id), request_lang(request),
                     site.is_managed(source_id))
    return JSONResponse(row.as_dict(), headers={"Cache-Control": "no-store"})


@router.get("/sources/{source_id}")
def source_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = _source(request, source_id)
    row = source_row(source, site.store, site.harvests.get(source_id), request_lang(request),
                     site.is_managed(source_id))
    runs = site.store.runs(source_id, limit=HISTORY)
    finished = [r for r in runs if r.status != "running"]
    points = records_over_time(finished, row.counts.live)
    chart = records_chart(points, _("Records of %(source)s over time") % {"source": row.name},
                          _("Live records after each of the last %(n)s runs, from %(first)s to %(last)s.") % {
                              "n": len(points), "first": points[0][1] if points else 0,
                              "last": points[-1][1] if points else 0})
    held = site.store.held_sweeps(source_id)
    sweeps = [(h, stored_titles(site.store, source, h.local_ids[:SWEEP_SAMPLE])) for h in held]
    return render(request, "admin/source.html", {
        "row": row, "source": source, "runs": runs, "chart": chart, "sweeps": sweeps,
        "done": request.query_params.get("done"), "plain": plain, "RUN_STATUS_LABELS": RUN_STATUS_LABELS,
        "STATE_LABELS": STATE_LABELS, "in_config_file": site.in_config_file(source_id),
        "next_mode": planned_mode(site.settings, source, site.store, full=False),
        "config_yaml": yaml.safe_dump(source_dict(source), allow_unicode=True, sort_keys=False),
    })


@router.post("/sources/{source_id}/harvest")
def start_harvest(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = _source(request, source_id)
    full = _form(request).get("mode") == "full"
    mode = planned_mode(site.settings, source, site.store, full=full)  # what the run will record, not what was asked
    try:
        site.harvests.start(source_id, full=full, trigger=_user(request))
    except AlreadyRunning:
        return _redirect(_source_path(source_id), "busy")
    site.audit.record(_user(request), "harvest.start", source_id, {"mode": mode})
    return _redirect(_source_path(source_id), f"started-{mode}")


@router.post("/sources/{source_id}/sweeps/{sweep_id}/{decision}")
def decide_sweep(request: Request, source_id: str, sweep_id: int, decision: str) -> Response:
    """A librarian confirms (records become deletions, then are indexed) or discards a held sweep."""
    site = site_of(request)
    _source(request, source_id)
    held = site.store.held_sweep(sweep_id)
    if decision not in ("confirm", "discard") or held is None or held.source != source_id:
        raise NotFound()
    try:
        if decision == "confirm":
            applied = site.store.confirm_held_sweep(sweep_id, by=_user(request))
        else:
            site.store.discard_held_sweep(sweep_id, by=_user(request))
            applied = 0
    except KeyError:
        return _redirect(_source_path(source_id), "sweep-gone")
    site.audit.record(_user(request), f"sweep.{decision}", source_id,
                      {"sweep": sweep_id, "run": held.run_id, "held": held.count, "live": held.live,
                       "deleted": applied})
    if applied:
        try:
            site.harvests.reindex(source_id, [], trigger=_user(request))  # the index drops them
        except AlreadyRunning:
            pass  # the running job indexes them when it ends
    return _redirect(_source_path(source_id), f"sweep-{decision}ed")


@router.post("/sources/{source_id}/stop")
def stop_harvest(request: Request, source_id: str) -> Response:
    site = site_of(request)
    _source(request, source_id)
    if site.harvests.stop(source_id):
        site.audit.record(_user(request), "harvest.stop", source_id)
        return _redirect(_source_path(source_id), "stopping")
    return _redirect(_source_path(source_id), "not-running")


@router.post("/sources/{source_id}/enable")
def enable_source(request: Request, source_id: str) -> Response:
    return _set_enabled(request, source_id, True)


@router.post("/sources/{source_id}/disable")
def disable_source(request: Request, source_id: str) -> Response:
    return _set_enabled(request, source_id, False)


def _set_enabled(request: Request, source_id: str, enabled: bool) -> Response:
    _source(request, source_id)
    try:
        site_of(request).set_enabled(source_id, enabled, _user(request))
    except ConfigError as err:
        return _config_error_page(request, err)
    return _redirect(_source_path(source_id), "enabled" if enabled else "disabled")


def _config_error_page(request: Request, err: ConfigError) -> Response:
    return render(request, "admin/message.html", {
        "title": _("The configuration would not be valid"),
        "message": _("Nothing was changed. Correct these problems first:"),
        "problems": [f"{key}: {msg}" for key, msg in err.problems],
    }, status_code=400)


# -- add, edit, test ---------------------------------------------------------------------------------


def _connector(name: str | None):
    try:
        return get_connector(name or "")
    except UnknownConnector:
        return None


@router.get("/add-source")
def add_source_page(request: Request) -> Response:
    site = site_of(request)
    cls = _connector(request.query_params.get("connector"))
    if cls is None:
        return render(request, "admin/choose_connector.html", {"connectors": installed()})
    form = forms.source_form(site.settings, cls)
    return render(request, "admin/source_form.html", {"form": form, "action": "/admin/add-source"})


@router.post("/add-source")
def add_source(request: Request) -> Response:
    cls = _connector(_form(request).get("connector"))
    if cls is None:
        return _redirect("/admin/add-source")
    return _save_or_test(request, cls, None)


@router.get("/sources/{source_id}/edit")
def edit_source_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = _source(request, source_id)
    cls = _connector(source.connector)
    if cls is None:
        return render(request, "admin/message.html", {
            "title": _("This connector is not installed"),
            "message": _("The source uses the connector %(name)s, which is not installed on this server.") % {
                "name": source.connector}}, status_code=409)
    form = forms.source_form(site.settings, cls, source_dict(source), editing=True)
    return render(request, "admin/source_form.html", {"form": form, "action": f"{_source_path(source_id)}/edit",
                                                      "source": source})


@router.post("/sources/{source_id}/edit")
def edit_source(request: Request, source_id: str) -> Response:
    source = _source(request, source_id)
    cls = _connector(source.connector)
    if cls is None:
        raise NotFound()
    return _save_or_test(request, cls, source)


def _save_or_test(request: Request, cls: type, existing: SourceConfig | None) -> Response:
    site = site_of(request)
    data = _form(request)
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    config, errors, form = forms.parse_source_form(site.settings, cls, values,
                                                   source_id=existing.id if existing else None)
    if existing is None and config.get("id") and "id" not in errors:
        if any(s.id == config["id"] for s in site.settings.sources):
            errors["id"] = _("There is already a source with this identifier.")
    if not request.state.admin_session.user.is_admin:
        for key in forms.admin_only_changes(config, existing):
            errors[key] = _("Only an admin can change this.")
    action = "/admin/add-source" if existing is None else f"{_source_path(existing.id)}/edit"
    context: dict[str, Any] = {"form": form, "action": action, "source": existing}
    testing = data.get("action") == "test"
    if not errors:
        try:
            merged = site.check_sources([config])
        except ConfigError as err:
            for key, msg in err.problems:
                name = forms.config_problem_field(key, config["id"])
                if name:
                    errors.setdefault(name, msg)
                else:
                    form.errors.append(f"{key}: {msg}")
        else:
            errors.update(forms.reach_problems(merged, merged.source(config["id"])))  # before anything is read
            if not errors and testing:
                context["preview"] = preview(merged, merged.source(config["id"]))
            elif not errors:
                site.save_sources([config], _user(request))
                return _redirect(_source_path(config["id"]), "saved")
    form.set_errors(errors)
    status = 400 if (errors or form.errors) else 200
    return render(request, "admin/source_form.html", context, status_code=status)


# -- delete ---------------------------------------------------------------------------------------


@router.get("/sources/{source_id}/delete")
def delete_source_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = _source(request, source_id)
    job = site.harvests.get(source_id)
    return render(request, "admin/delete.html", {
        "source": source, "name": source.display_name(request_lang(request)),
        "counts": site.deletion_counts(source_id), "running": job is not None and job.running,
        "in_config_file": site.in_config_file(source_id), "config_path": site.settings.config_path,
    })


@router.post("/sources/{source_id}/delete")
def delete_source(request: Request, source_id: str) -> Response:
    site = site_of(request)
    _source(request, source_id)
    job = site.harvests.get(source_id)
    if job is not None and job.running:
        return _redirect(f"{_source_path(source_id)}/delete")
    site.delete_source(source_id, _user(request))
    return _redirect("/admin", "deleted")


# -- quarantine ---------------------------------------------------------------------------------------


@router.get("/sources/{source_id}/quarantine")
def quarantine_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = _source(request, source_id)
    entries = site.store.quarantined(source_id, limit=QUARANTINE_SHOWN)
    return render(request, "admin/quarantine.html", {
        "source": source, "name": source.display_name(request_lang(request)), "entries": entries,
        "total": site.store.counts(source_id).quarantined, "plain": plain, "done": request.query_params.get("done"),
    })


def _entry(request: Request, source_id: str, entry_id: int):
    entry = site_of(request).quarantine_entry(source_id, entry_id)
    if entry is None:
        raise NotFound()
    return entry


@router.get("/sources/{source_id}/quarantine/{entry_id}")
def quarantine_entry_page(request: Request, source_id: str, entry_id: int) -> Response:
    site = site_of(request)
    source = _source(request, source_id)
    entry = _entry(request, source_id, entry_id)
    stored = site.store.get(source_id, entry.local_id) if entry.local_id else None
    return render(request, "admin/quarantine_entry.html", {
        "source": source, "name": source.display_name(request_lang(request)), "entry": entry,
        "reason": plain(entry.reason), "payload": raw_text(entry.payload) if entry.payload else "",
        "stored": stored is not None,
    })


@router.post("/sources/{source_id}/quarantine/retry")
def retry_quarantined(request: Request, source_id: str) -> Response:
    """Stored records: normalize again from the raw store. Never stored: harvest again (full)."""
    site = site_of(request)
    _source(request, source_id)
    wanted = {int(v) for v in _form(request).getlist("entry") if str(v).isdigit()}
    entries = [(i, lid) for i, lid in site.quarantine_keys(source_id) if not wanted or i in wanted]
    stored = [lid for _i, lid in entries if lid and site.store.get(source_id, lid)]
    try:
        if len(stored) < len(entries):
            site.harvests.start(source_id, full=True, trigger=_user(request))  # re-reads the stored ones too
        elif stored:
            site.harvests.reindex(source_id, stored, trigger=_user(request))
    except AlreadyRunning:
        return _redirect(_source_path(source_id), "busy")
    site.store.delete_quarantined(i for i, _lid in entries)  # what fails again is quarantined again
    site.audit.record(_user(request), "quarantine.retry", source_id,
                      {"entries": len(entries), "renormalized": len(stored), "reharvest": len(stored) < len(entries)})
    return _redirect(_source_path(source_id), "retrying")


# -- merged works: list by rule, split, join -------------------------------------------------------------

MERGES_SHOWN = 200


def _merge_done(request: Request, state: IndexState, record_id: str, done: str) -> Response:
    """Re-cluster the record's work now (a reindex job of its source); the decision is stored either way."""
    found = state.records([record_id]).get(record_id)
    if found is not None:
        try:
            site_of(request).harvests.reindex(found.source, [found.source_record_id], trigger=_user(request))
        except AlreadyRunning:
            return _redirect("/admin/merges", "merge-busy")
    return _redirect("/admin/merges", done)


@router.get("/merges")
def merges_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    """Works merged from several records, by the rule that joined them, and the librarians' decisions."""
    state = IndexState.for_data_dir(site_of(request).settings.data_dir)
    try:
        works = [merge(members) for members in state.merged_clusters(MERGES_SHOWN).values()]
        decisions = state.decisions()
    finally:
        state.close()
    by_rule: dict[str, list[Any]] = {}
    for work in works:
        by_rule.setdefault(work.match.rule if work.match else "manual", []).append(work)
    rules = [r for r in RULE_ORDER if r in by_rule]
    return render(request, "admin/merges.html", {
        "by_rule": by_rule, "rules": rules, "decisions": decisions, "shown": MERGES_SHOWN, "error": error,
        "done": request.query_params.get("done"),
    }, status_code=status)


@router.post("/merges/split")
def split_merge(request: Request) -> Response:
    """Take one record out of its work: it is kept apart from every other member, now and after rebuilds."""
    form = _form(request)
    record_id, work = str(form.get("record", "")), str(form.get("work", ""))
    state = IndexState.for_data_dir(site_of(request).settings.data_dir)
    try:
        others = sorted(set(state.members_of([work])) - {record_id})
        if record_id not in state.clusters_of([record_id]) or not others:
            raise NotFound()
        for other in others:
            state.decide(record_id, other, "split", _user(request), stamp())
        site_of(request).audit.record(_user(request), "dedup.split", record_id, {"work": work, "apart_from": others})
        return _merge_done(request, state, record_id, "merge-split")
    finally:
        state.close()


@router.post("/merges/join")
def join_records(request: Request) -> Response:
    """Join two records into one work by hand (identifiers of one scheme that differ still keep them apart)."""
    form = _form(request)
    a, b = str(form.get("a", "")).strip(), str(form.get("b", "")).strip()
    state = IndexState.for_data_dir(site_of(request).settings.data_dir)
    try:
        found = state.records([a, b])
        if a == b or len(found) < 2:
            return merges_page(request, _("Give the ids of two different records in the index (as the API shows them)."), 400)
        conflict = strong_conflict(features(found[a]), features(found[b]))
        if conflict:
            return merges_page(request, _("These records carry different identifiers of one kind (%(kind)s): "
                                          "they can't be one work.", kind=conflict), 400)
        state.decide(a, b, "join", _user(request), stamp())
        site_of(request).audit.record(_user(request), "dedup.join", a, {"with": b})
        return _merge_done(request, state, a, "merge-joined")
    finally:
        state.close()


@router.post("/merges/forget")
def forget_merge_decision(request: Request) -> Response:
    """Drop a librarian's split or join: the rules decide again."""
    form = _form(request)
    a, b = str(form.get("a", "")), str(form.get("b", ""))
    state = IndexState.for_data_dir(site_of(request).settings.data_dir)
    try:
        if not state.forget_decision(a, b):
            raise NotFound()
        site_of(request).audit.record(_user(request), "dedup.forget", a, {"with": b})
        return _merge_done(request, state, a, "merge-forgotten")
    finally:
        state.close()


# -- YAML export and import -----------------------------------------------------------------------------


@router.get("/export.yaml")
def export_yaml(request: Request) -> Response:
    site = site_of(request)
    body = yaml.safe_dump({"sources": [source_dict(s) for s in site.settings.sources]}, allow_unicode=True,
                          sort_keys=False)
    head = ("# fedsearch sources, exported from the web admin on "
            f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}\n"
            "# Paste under `sources:` in the configuration file, or import in the admin.\n")
    return Response(head + body, media_type="application/yaml; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="fedsearch-sources.yaml"', "Cache-Control": "no-store"})


@router.get("/import")
def import_page(request: Request) -> Response:
    return render(request, "admin/import.html", {})


def _import_problems(data: Any) -> tuple[list[dict[str, Any]], list[str]]:
    items = data.get("sources") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [], [_("The file must hold a list of sources, or a mapping with a sources: list.")]
    configs, problems = [], []
    for i, item in enumerate(items):
        label = f"sources[{i}]" + (f" ({item.get('id')})" if isinstance(item, dict) and item.get("id") else "")
        if not isinstance(item, dict):
            problems.append(f"{label}: " + _("each source must be a mapping of keys to values"))
            continue
        cls = _connector(item.get("connector"))
        if cls is None:
            problems.append(f"{label}.connector: " + _("unknown connector %(name)s") % {"name": item.get("connector")})
            continue
        errors = forms.validate_source(cls, item)
        problems.extend(f"{label}.{name.removeprefix(forms.OPTION)}: {msg}" for name, msg in errors.items())
        if not errors:
            configs.append(forms.canonical_source(cls, item))
    ids = [c["id"] for c in configs]
    problems.extend(f"{sid}: " + _("this identifier appears twice in the file") for sid in
                    sorted({i for i in ids if ids.count(i) > 1}))
    return configs, problems


@router.post("/import")
async def import_sources(request: Request) -> Response:
    site = site_of(request)
    form = _form(request)
    upload = form.get("file")
    text = ""
    if isinstance(upload, UploadFile):
        raw = await upload.read(IMPORT_MAX_BYTES + 1)
        text = raw.decode("utf-8", errors="replace") if len(raw) <= IMPORT_MAX_BYTES else ""
    text = text.strip() or str(form.get("text", "")).strip()
    problems: list[str] = []
    configs: list[dict[str, Any]] = []
    if not text:
        problems = [_("Choose a YAML file, or paste its text.")]
    else:
        try:
            configs, problems = _import_problems(yaml.safe_load(text))
        except yaml.YAMLError as err:
            problems = [_("Not valid YAML: %(error)s") % {"error": getattr(err, "problem", err)}]
    if not problems and not configs:
        problems = [_("The file holds no sources.")]
    if not request.state.admin_session.user.is_admin:
        current = {s.id: s for s in site.settings.sources}
        problems += [f"{c['id']}.{key}: " + _("Only an admin can change this.")
                     for c in configs for key in forms.admin_only_changes(c, current.get(c["id"]))]
    for c in configs if not problems else []:  # paths and URLs within reach (docs/security.md)
        found = forms.reach_problems(site.settings, SourceConfig.model_validate(c))
        problems += [f"{c['id']}.{name.removeprefix(forms.OPTION)}: {msg}" for name, msg in found.items()]
    if not problems:
        try:
            site.save_sources(configs, _user(request), "source.import")
        except ConfigError as err:
            problems = [f"{key}: {msg}" for key, msg in err.problems]
    if problems:
        return render(request, "admin/import.html", {"problems": problems, "text": text[:200_000]}, status_code=400)
    return _redirect("/admin", "imported", n=str(len(configs)))


# -- accounts -------------------------------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request) -> Response:
    return render(request, "admin/account.html", {"done": request.query_params.get("done")})


@router.post("/account/password")
def change_own_password(request: Request) -> Response:
    site = site_of(request)
    form = _form(request)
    session = request.state.admin_session
    error = None
    if site.users.verify(session.user.username, str(form.get("current", ""))) is None:
        error = _("The current password is not right.")
    elif form.get("new") != form.get("again"):
        error = _("The two new passwords are not the same.")
    else:
        try:
            site.users.set_password(session.user.username, str(form.get("new", "")))
        except AccountError:
            error = _("The password is too short: at least %(n)s characters.") % {"n": 10}
    if error:
        return render(request, "admin/account.html", {"error": error}, status_code=400)
    site.audit.record(session.user.username, "user.password", session.user.username)
    cookie, _session = site.sessions.create(session.user)  # changing the password ended every session
    response = _redirect("/admin/account", "password")
    site.sessions.set_cookie(response, cookie)
    return response


@router.get("/users", dependencies=ADMIN_ONLY)
def users_page(request: Request) -> Response:
    return _users_page(request)


def _users_page(request: Request, error: str | None = None, status: int = 200, form: Any = None) -> Response:
    return render(request, "admin/users.html", {
        "users": site_of(request).users.all(), "roles": ROLES, "error": error, "form": form or {},
        "done": request.query_params.get("done"),
    }, status_code=status)


def _account_error(err: AccountError) -> str:
    text = str(err)
    if "already an account" in text:
        return _("There is already an account with this name.")
    if "too short" in text:
        return _("The password is too short: at least %(n)s characters.") % {"n": 10}
    if "last admin" in text:
        return _("This is the last admin account; make another account admin first.")
    if "username" in text:
        return _("A username has 2 to 63 characters: Latin letters, digits and . _ @ -.")
    return text


@router.post("/users", dependencies=ADMIN_ONLY)
def create_user(request: Request) -> Response:
    site = site_of(request)
    form = _form(request)
    if form.get("password") != form.get("again"):
        return _users_page(request, _("The two passwords are not the same."), 400, form)
    try:
        user = site.users.create(str(form.get("username", "")), str(form.get("password", "")),
                                 str(form.get("role", "librarian")))
    except AccountError as err:
        return _users_page(request, _account_error(err), 400, form)
    site.audit.record(_user(request), "user.create", user.username, {"role": user.role})
    return _redirect("/admin/users", "user-created")


def _account(request: Request, username: str):
    user = site_of(request).users.get(username)
    if user is None:
        raise NotFound()
    return user


@router.post("/users/{username}/role", dependencies=ADMIN_ONLY)
def change_role(request: Request, username: str) -> Response:
    site = site_of(request)
    user = _account(request, username)
    role = str(_form(request).get("role", ""))
    try:
        site.users.set_role(user.username, role)
    except AccountError as err:
        return _users_page(request, _account_error(err), 400)
    site.audit.record(_user(request), "user.role", user.username, {"changes": {"role": [user.role, role]}})
    return _redirect("/admin/users", "user-updated")


@router.post("/users/{username}/password", dependencies=ADMIN_ONLY)
def reset_password(request: Request, username: str) -> Response:
    site = site_of(request)
    user = _account(request, username)
    try:
        site.users.set_password(user.username, str(_form(request).get("password", "")))
    except AccountError as err:
        return _users_page(request, _account_error(err), 400)
    site.audit.record(_user(request), "user.password", user.username)
    return _redirect("/admin/users", "user-updated")


@router.post("/users/{username}/delete", dependencies=ADMIN_ONLY)
def delete_user(request: Request, username: str) -> Response:
    site = site_of(request)
    user = _account(request, username)
    if user.username == _user(request):
        return _users_page(request, _("You can't delete your own account."), 400)
    try:
        site.users.delete(user.username)
    except AccountError as err:
        return _users_page(request, _account_error(err), 400)
    site.audit.record(_user(request), "user.delete", user.username, {"role": user.role})
    return _redirect("/admin/users", "user-deleted")


@router.get("/audit", dependencies=ADMIN_ONLY)
def audit_page(request: Request) -> Response:
    before = request.query_params.get("before")
    entries = site_of(request).audit.entries(AUDIT_PAGE + 1, before=int(before) if before and before.isdigit() else None)
    return render(request, "admin/audit.html", {"entries": entries[:AUDIT_PAGE],
                                                "older": entries[AUDIT_PAGE - 1].id if len(entries) > AUDIT_PAGE else None})


# -- errors and mounting ------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/admin/api/") or "application/json" in request.headers.get("accept", "")


async def _login_required(request: Request, exc: Exception) -> Response:
    browser_form = "text/html" in request.headers.get("accept", "")  # e.g. a form sent after the session ended
    if _wants_json(request) or (request.method not in ("GET", "HEAD") and not browser_form):
        return JSONResponse({"error": "login required", "login": "/admin/login"}, status_code=401,
                            headers={"Cache-Control": "no-store"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _redirect("/admin/login", next=target if request.method in ("GET", "HEAD") else "/admin")


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    return render(request, "admin/message.html", {
        "title": _("This form has expired"),
        "message": _("The form was not sent from a current admin page (its security token is missing or old). "
                     "Go back, reload the page and try again."),
    }, status_code=403)


async def _forbidden(request: Request, exc: Exception) -> Response:
    return render(request, "admin/message.html", {
        "title": _("Not allowed"),
        "message": _("Only admins can manage accounts and see the audit log."),
    }, status_code=403)


async def _not_found(request: Request, exc: Exception) -> Response:
    return render(request, "admin/message.html", {
        "title": _("Not found"), "message": _("There is no such source, record or account (any more)."),
    }, status_code=404)


def mount(app: FastAPI) -> None:
    """Add the admin to the app: its routes, its error pages, and its scheduler in the app's lifespan."""
    site = app.state.admin = AdminSite(app.state.settings)
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with outer(app_) as state:
            site.start_scheduler()
            try:
                yield state
            finally:
                site.close()

    app.router.lifespan_context = lifespan
    app.include_router(public)
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(NotFound, _not_found)
