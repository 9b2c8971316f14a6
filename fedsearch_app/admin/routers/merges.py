"""Merged works: list by rule, split, join, forget a decision."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from fedsearch_app.admin.db import stamp
from fedsearch_app.admin.dependencies import (
    NotFound,
    admin_router,
    form_of,
    redirect,
    site_of,
    user_of,
)
from fedsearch_app.admin.rendering import render
from fedsearch_app.scheduler import AlreadyRunning
from indexers.dedup import features, merge
from indexers.dedup.merge import RULE_ORDER
from indexers.dedup.rules import strong_conflict
from indexers.state import IndexState
from web_ui.i18n import gettext_ as _

router = admin_router()


# -- merged works: list by rule, split, join -------------------------------------------------------------

MERGES_SHOWN = 200


def _merge_done(request: Request, state: IndexState, record_id: str, done: str) -> Response:
    """Re-cluster the record's work now (a reindex job of its source); the decision is stored either way."""
    found = state.records([record_id]).get(record_id)
    if found is not None:
        try:
            site_of(request).harvests.reindex(found.source, [found.source_record_id], trigger=user_of(request))
        except AlreadyRunning:
            return redirect("/admin/merges", "merge-busy")
    return redirect("/admin/merges", done)


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
    return render(
        request,
        "admin/merges.html",
        {
            "by_rule": by_rule,
            "rules": rules,
            "decisions": decisions,
            "shown": MERGES_SHOWN,
            "error": error,
            "done": request.query_params.get("done"),
        },
        status_code=status,
    )


@router.post("/merges/split")
def split_merge(request: Request) -> Response:
    """Take one record out of its work: it is kept apart from every other member, now and after rebuilds."""
    form = form_of(request)
    record_id, work = str(form.get("record", "")), str(form.get("work", ""))
    state = IndexState.for_data_dir(site_of(request).settings.data_dir)
    try:
        others = sorted(set(state.members_of([work])) - {record_id})
        if record_id not in state.clusters_of([record_id]) or not others:
            raise NotFound()
        for other in others:
            state.decide(record_id, other, "split", user_of(request), stamp())
        site_of(request).audit.record(user_of(request), "dedup.split", record_id, {"work": work, "apart_from": others})
        return _merge_done(request, state, record_id, "merge-split")
    finally:
        state.close()


@router.post("/merges/join")
def join_records(request: Request) -> Response:
    """Join two records into one work by hand (identifiers of one scheme that differ still keep them apart)."""
    form = form_of(request)
    a, b = str(form.get("a", "")).strip(), str(form.get("b", "")).strip()
    state = IndexState.for_data_dir(site_of(request).settings.data_dir)
    try:
        found = state.records([a, b])
        if a == b or len(found) < 2:
            return merges_page(
                request, _("Give the ids of two different records in the index (as the API shows them)."), 400
            )
        conflict = strong_conflict(features(found[a]), features(found[b]))
        if conflict:
            return merges_page(
                request,
                _(
                    "These records carry different identifiers of one kind (%(kind)s): they can't be one work.",
                    kind=conflict,
                ),
                400,
            )
        state.decide(a, b, "join", user_of(request), stamp())
        site_of(request).audit.record(user_of(request), "dedup.join", a, {"with": b})
        return _merge_done(request, state, a, "merge-joined")
    finally:
        state.close()


@router.post("/merges/forget")
def forget_merge_decision(request: Request) -> Response:
    """Drop a librarian's split or join: the rules decide again."""
    form = form_of(request)
    a, b = str(form.get("a", "")), str(form.get("b", ""))
    state = IndexState.for_data_dir(site_of(request).settings.data_dir)
    try:
        if not state.forget_decision(a, b):
            raise NotFound()
        site_of(request).audit.record(user_of(request), "dedup.forget", a, {"with": b})
        return _merge_done(request, state, a, "merge-forgotten")
    finally:
        state.close()
