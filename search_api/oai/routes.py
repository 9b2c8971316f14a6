"""The /oai door: GET or POST (form-encoded), one XML document per request (OAI-PMH 3.1.1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from search_api.oai.verbs import Repository, respond

router = APIRouter()
MEDIA_TYPE = "text/xml; charset=utf-8"


def repository_for(request: Request) -> Repository:
    settings = request.app.state.settings
    service = request.app.state.service
    base = (settings.server.base_url or str(request.base_url)).rstrip("/")
    host = urlsplit(base).hostname or "localhost"

    def source_names() -> dict[str, str]:
        names = {s.id: s.display_name("en") for s in settings.sources}
        for source in service.engine.count_by_source():
            names.setdefault(source, source)
        return names

    return Repository(
        engine=service.engine,
        base_url=f"{base}/oai",
        name=f"{request.app.state.site_name}: Kyrgyzstan's scientific information",
        # The schema wants a dotted domain (emailType): a bare host name gets ".local".
        admin_email=settings.server.admin_email or f"webmaster@{host if '.' in host else host + '.local'}",
        repository_id=host,
        landing_url=lambda work_id: f"{base}/records/{work_id}",
        source_names=source_names,
    )


async def _answer(request: Request, args: dict[str, list[str]]) -> Response:
    repo = repository_for(request)
    # Through the service's engine gate: a failing engine answers 503 with Retry-After, as OAI-PMH expects.
    body = await run_in_threadpool(request.app.state.service._call, respond, args, repo)
    return Response(body, media_type=MEDIA_TYPE)


@router.get("/oai", include_in_schema=False)
async def oai_get(request: Request) -> Response:
    return await _answer(request, parse_qs(request.url.query, keep_blank_values=True))


@router.post("/oai", include_in_schema=False)
async def oai_post(request: Request) -> Response:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return Response(
            "POST to /oai takes application/x-www-form-urlencoded arguments (OAI-PMH 3.1.1.2)\n",
            status_code=415,
            media_type="text/plain",
        )
    body = (await request.body()).decode("utf-8", errors="replace")
    return await _answer(request, parse_qs(body, keep_blank_values=True))
