"""The page at ``/``, its static files, and ``/docs`` and ``/redoc`` served from the package.

None of these hold data, so they answer without a key: the page asks the API for
everything it shows, with the key the user typed in.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from compliance.web_assets import VENDOR_DIR

__all__ = ["PAGE_POLICY", "STATIC_URL", "VENDOR", "add_web", "router"]

HERE = Path(__file__).resolve().parent
STATIC_URL = "/static"
VENDOR = f"{STATIC_URL}/vendor"

# The page runs only its own files: no inline script, nothing from another origin, so an
# upload's name or a finding's message can never run as code.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


@router.get("/", response_class=HTMLResponse)
async def page(request: Request) -> HTMLResponse:
    """The upload, verdict, map and history page; its views live behind ``#/...``."""
    response = templates.TemplateResponse(request, "index.html", {"static": STATIC_URL})
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@router.get("/docs", response_class=HTMLResponse)
async def swagger_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="mapgate API",
        swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_URL}/favicon.svg",
        # Swagger UI would send the spec to its public validator for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc_docs() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="mapgate API",
        redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{STATIC_URL}/favicon.svg",
        with_google_fonts=False,
    )


def add_web(app: FastAPI) -> None:
    """Serve the page, its static files and the API docs (the app's own docs are off)."""
    app.include_router(router)
    # The third-party files live in the library (the audit report inlines them too); the
    # more specific mount comes first, so they keep their place under the static URL.
    app.mount(VENDOR, StaticFiles(directory=VENDOR_DIR), name="vendor")
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="static")
