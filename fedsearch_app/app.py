"""The web application: the JSON API, the web UI and the admin in one process.

The API (search_api/app.py) builds the FastAPI app, its error handlers and its
middleware; here the layers above it are mounted into it: the public pages
(web_ui) and the librarians' admin with its harvest scheduler (fedsearch_app/admin),
and the raw store's harvest runs are handed to the API for /api/v1/sources and /metrics.
"""

from __future__ import annotations

from fastapi import FastAPI

from fedsearch.config import Settings
from fedsearch.engines.base import SearchEngine
from rawstore.runs import RawStoreHarvestLog
from search_api import app as api


def mount_ui(app: FastAPI) -> None:
    from fedsearch_app.admin import mount as mount_admin  # /admin: librarians' pages, scheduler (docs/admin.md)
    from web_ui.routes import mount as mount_web_ui  # the UI sits on top of the API layer

    mount_web_ui(app)
    mount_admin(app)


def create_app(settings: Settings, engine: SearchEngine | None = None) -> FastAPI:
    """The whole site (tests pass an engine they filled)."""
    return api.create_app(settings, engine, mount=mount_ui, harvests=RawStoreHarvestLog(settings))


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> int:
    """Run the whole site with uvicorn (`fedsearch serve`) until SIGINT or SIGTERM."""
    return api.serve(settings, host, port, app=create_app(settings))
