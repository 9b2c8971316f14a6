"""The web application: the JSON API, the web UI and the admin in one process.

The API (search_api/app.py) builds the FastAPI app, its error handlers and its
middleware; here the layers above it are mounted into it: the public pages
(web_ui) and the librarians' admin with its harvest scheduler (fedsearch_app/admin),
and the raw store's harvest runs are handed to the API for /api/v1/sources and /metrics.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from fedsearch.config import ENV_VAR, Settings
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


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each server worker process: the whole site for the configuration file
    the parent serves (FEDSEARCH_CONFIG), with the sources librarians added in the admin."""
    from fedsearch_app.managed_sources import with_managed_sources
    from fedsearch_app.settings import load_settings

    return create_app(with_managed_sources(load_settings(os.environ[ENV_VAR])))


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    *,
    workers: int | None = None,
    access_log: bool = True,
) -> int:
    """Run the whole site with uvicorn (`fedsearch serve`) until SIGINT or SIGTERM."""
    return api.serve(
        settings,
        host,
        port,
        site=create_app,
        worker_factory="fedsearch_app.app:app_from_environment",
        workers=workers,
        access_log=access_log,
    )
