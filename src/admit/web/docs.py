"""The API's reference at /docs: Swagger UI from the project's own vendored files, reading /openapi.json.

FastAPI's own page loads its scripts from a CDN and starts them with an inline script, which the
Content-Security-Policy refuses; this one is a template whose scripts are all files of `static/`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from admit.web.pages import NO_STORE, OFFICE, language_of, templates

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    """Every operation of the HTTP API, its parameters, answers and errors, to read and to try."""
    language = language_of(request, OFFICE)
    values = {"openapi_url": request.app.openapi_url, "lang": language}
    return templates(language).TemplateResponse(request, "docs.html", values, headers=NO_STORE)
