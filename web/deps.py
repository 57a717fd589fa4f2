"""The services the routes call, kept on the app's state by ``web.api.api_extension``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from trader.services.api import Services
from trader.services.web_api import WebServices


def _web(request: Request) -> WebServices:
    web: WebServices = request.app.state.web
    return web


def _core(request: Request) -> Services:
    return _web(request).core


Web = Annotated[WebServices, Depends(_web)]
Core = Annotated[Services, Depends(_core)]
