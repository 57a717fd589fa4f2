"""``create_app``: the one FastAPI application: ops endpoints, the versioned API, OpenAPI at /api/docs."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from trader import __version__
from web.errors import install_error_handlers
from web.ops import OpsProbe, ops_router

Extension = Callable[[FastAPI], None]
"""Adds routes to the app (the API, the dashboard); built by ``web.api.api_extension``."""


def create_app(probe: OpsProbe, extensions: tuple[Extension, ...] = ()) -> FastAPI:
    """Return the app serving the ops endpoints plus whatever ``extensions`` add."""
    app = FastAPI(title="tradebot", version=__version__, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")
    install_error_handlers(app)
    app.include_router(ops_router(probe))
    for extend in extensions:
        extend(app)
    return app
