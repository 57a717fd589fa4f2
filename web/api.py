"""``api_extension``: mount the versioned API (/api/v1) over a ``WebServices`` bundle."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from trader.services.web_api import WebServices
from web import control_api, portfolio_api, read_api, signals_api
from web.app import Extension

API_PREFIX = "/api/v1"
DASHBOARD_PATH = "/app"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def api_extension(web: WebServices) -> Extension:
    """Return what adds the API routes and keeps ``web`` on the app's state for them."""

    def extend(app: FastAPI) -> None:
        app.state.web = web
        app.state.tokens = web.tokens
        app.include_router(read_api.router, prefix=API_PREFIX)
        app.include_router(control_api.router, prefix=API_PREFIX)
        app.include_router(signals_api.router, prefix=API_PREFIX)
        app.include_router(portfolio_api.router, prefix=API_PREFIX)
        # The dashboard: static files shipped in the package; they call the API with the caller's token.
        app.mount(DASHBOARD_PATH, StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse(f"{DASHBOARD_PATH}/")

    return extend
