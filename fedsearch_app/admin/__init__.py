"""The librarians' web admin under /admin: sources, mapping preview, harvests, schedules, accounts, audit.

See docs/admin.md. `mount(app)` is called by fedsearch_app.app.create_app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    from fedsearch_app.admin.routes import (
        mount as mount_routes,  # the CLI imports fedsearch_app.admin.users without FastAPI pages
    )

    mount_routes(app)
