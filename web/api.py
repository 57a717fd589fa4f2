"""``api_extension``: mount the versioned API (/api/v1) over a ``WebServices`` bundle."""

from __future__ import annotations

from fastapi import FastAPI

from trader.services.web_api import WebServices
from web import control_api, read_api, signals_api
from web.app import Extension

API_PREFIX = "/api/v1"


def api_extension(web: WebServices) -> Extension:
    """Return what adds the API routes and keeps ``web`` on the app's state for them."""

    def extend(app: FastAPI) -> None:
        app.state.web = web
        app.state.tokens = web.tokens
        app.include_router(read_api.router, prefix=API_PREFIX)
        app.include_router(control_api.router, prefix=API_PREFIX)
        app.include_router(signals_api.router, prefix=API_PREFIX)

    return extend
