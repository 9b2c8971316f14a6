"""Adding, editing (with a test harvest) and deleting a source."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from connectors.registry import installed
from fedsearch.config import ConfigError, SourceConfig
from fedsearch_app.admin import forms
from fedsearch_app.admin.dependencies import (
    NotFound,
    admin_router,
    connector_class,
    form_of,
    redirect,
    site_of,
    source_of,
    source_path,
    user_of,
)
from fedsearch_app.admin.preview import preview
from fedsearch_app.admin.rendering import render
from fedsearch_app.managed_sources import source_dict
from web_ui.i18n import gettext_ as _
from web_ui.templating import request_lang

router = admin_router()


# -- add, edit, test ---------------------------------------------------------------------------------


@router.get("/add-source")
def add_source_page(request: Request) -> Response:
    site = site_of(request)
    cls = connector_class(request.query_params.get("connector"))
    if cls is None:
        return render(request, "admin/choose_connector.html", {"connectors": installed()})
    form = forms.source_form(site.settings, cls)
    return render(request, "admin/source_form.html", {"form": form, "action": "/admin/add-source"})


@router.post("/add-source")
def add_source(request: Request) -> Response:
    cls = connector_class(form_of(request).get("connector"))
    if cls is None:
        return redirect("/admin/add-source")
    return _save_or_test(request, cls, None)


@router.get("/sources/{source_id}/edit")
def edit_source_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = source_of(request, source_id)
    cls = connector_class(source.connector)
    if cls is None:
        return render(
            request,
            "admin/message.html",
            {
                "title": _("This connector is not installed"),
                "message": _("The source uses the connector %(name)s, which is not installed on this server.")
                % {"name": source.connector},
            },
            status_code=409,
        )
    form = forms.source_form(site.settings, cls, source_dict(source), editing=True)
    return render(
        request, "admin/source_form.html", {"form": form, "action": f"{source_path(source_id)}/edit", "source": source}
    )


@router.post("/sources/{source_id}/edit")
def edit_source(request: Request, source_id: str) -> Response:
    source = source_of(request, source_id)
    cls = connector_class(source.connector)
    if cls is None:
        raise NotFound()
    return _save_or_test(request, cls, source)


def _save_or_test(request: Request, cls: type, existing: SourceConfig | None) -> Response:
    site = site_of(request)
    data = form_of(request)
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    config, errors, form = forms.parse_source_form(
        site.settings, cls, values, source_id=existing.id if existing else None
    )
    if existing is None and config.get("id") and "id" not in errors:
        if any(s.id == config["id"] for s in site.settings.sources):
            errors["id"] = _("There is already a source with this identifier.")
    if not request.state.admin_session.user.is_admin:
        for key in forms.admin_only_changes(config, existing):
            errors[key] = _("Only an admin can change this.")
    action = "/admin/add-source" if existing is None else f"{source_path(existing.id)}/edit"
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
                site.save_sources([config], user_of(request))
                return redirect(source_path(config["id"]), "saved")
    form.set_errors(errors)
    status = 400 if (errors or form.errors) else 200
    return render(request, "admin/source_form.html", context, status_code=status)


# -- delete ---------------------------------------------------------------------------------------


@router.get("/sources/{source_id}/delete")
def delete_source_page(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source = source_of(request, source_id)
    job = site.harvests.get(source_id)
    return render(
        request,
        "admin/delete.html",
        {
            "source": source,
            "name": source.display_name(request_lang(request)),
            "counts": site.deletion_counts(source_id),
            "running": job is not None and job.running,
            "in_config_file": site.in_config_file(source_id),
            "config_path": site.settings.config_path,
        },
    )


@router.post("/sources/{source_id}/delete")
def delete_source(request: Request, source_id: str) -> Response:
    site = site_of(request)
    source_of(request, source_id)
    job = site.harvests.get(source_id)
    if job is not None and job.running:
        return redirect(f"{source_path(source_id)}/delete")
    site.delete_source(source_id, user_of(request))
    return redirect("/admin", "deleted")
