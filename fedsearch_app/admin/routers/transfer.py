"""The sources as YAML: export and import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from fedsearch.config import ConfigError, SourceConfig
from fedsearch_app.admin import forms
from fedsearch_app.admin.dependencies import (
    IMPORT_MAX_BYTES,
    admin_router,
    connector_class,
    form_of,
    redirect,
    site_of,
    user_of,
)
from fedsearch_app.admin.rendering import render
from fedsearch_app.managed_sources import source_dict
from web_ui.i18n import gettext_ as _

router = admin_router()


# -- YAML export and import -----------------------------------------------------------------------------


@router.get("/export.yaml")
def export_yaml(request: Request) -> Response:
    site = site_of(request)
    body = yaml.safe_dump(
        {"sources": [source_dict(s) for s in site.settings.sources]}, allow_unicode=True, sort_keys=False
    )
    head = (
        "# fedsearch sources, exported from the web admin on "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}\n"
        "# Paste under `sources:` in the configuration file, or import in the admin.\n"
    )
    return Response(
        head + body,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="fedsearch-sources.yaml"', "Cache-Control": "no-store"},
    )


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
        cls = connector_class(item.get("connector"))
        if cls is None:
            problems.append(f"{label}.connector: " + _("unknown connector %(name)s") % {"name": item.get("connector")})
            continue
        errors = forms.validate_source(cls, item)
        problems.extend(f"{label}.{name.removeprefix(forms.OPTION)}: {msg}" for name, msg in errors.items())
        if not errors:
            configs.append(forms.canonical_source(cls, item))
    ids = [c["id"] for c in configs]
    problems.extend(
        f"{sid}: " + _("this identifier appears twice in the file")
        for sid in sorted({i for i in ids if ids.count(i) > 1})
    )
    return configs, problems


@router.post("/import")
async def import_sources(request: Request) -> Response:
    site = site_of(request)
    form = form_of(request)
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
        problems += [
            f"{c['id']}.{key}: " + _("Only an admin can change this.")
            for c in configs
            for key in forms.admin_only_changes(c, current.get(c["id"]))
        ]
    for c in configs if not problems else []:  # paths and URLs within reach (docs/security.md)
        found = forms.reach_problems(site.settings, SourceConfig.model_validate(c))
        problems += [f"{c['id']}.{name.removeprefix(forms.OPTION)}: {msg}" for name, msg in found.items()]
    if not problems:
        try:
            site.save_sources(configs, user_of(request), "source.import")
        except ConfigError as err:
            problems = [f"{key}: {msg}" for key, msg in err.problems]
    if problems:
        return render(request, "admin/import.html", {"problems": problems, "text": text[:200_000]}, status_code=400)
    return redirect("/admin", "imported", n=str(len(configs)))
