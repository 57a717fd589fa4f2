"""Transports for the fake Bot API: a real aiohttp HTTP server, and an in-process PTB request.

The HTTP server is what end-to-end tests and the benchmark point PTB's ``base_url`` at. The
in-process ``CoreRequest`` (a ``telegram.request.BaseRequest``) feeds the very same core without
sockets; the fuzz test uses it for volume.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from telegram.request import BaseRequest, RequestData

from tests.fakes.fake_botapi.core import FakeBotApiCore, UploadedFile


class FakeBotApiServer:
    """aiohttp server on 127.0.0.1 serving ``POST /bot<token>/<method>``."""

    def __init__(self, core: FakeBotApiCore, port: int = 0) -> None:
        self.core = core
        self._runner: web.AppRunner | None = None
        self.port = port  # 0: an ephemeral one; a fixed port lets a test bring an "outage" back up

    @property
    def base_url(self) -> str:
        """Return the ``base_url`` to give PTB (the token is appended by PTB)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Bind an ephemeral port and serve."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("POST", "/bot{token}/{method}", self._serve)
        app.router.add_route("GET", "/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]
        self.core.base_url = self.base_url

    async def stop(self) -> None:
        """Stop serving and close connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve(self, request: web.Request) -> web.Response:
        token, method = unquote(request.match_info["token"]), request.match_info["method"]
        form: dict[str, str] = {}
        files: dict[str, UploadedFile] = {}
        if request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
                else:
                    form[key] = str(value)
        form.update({k: v for k, v in request.query.items() if k not in form})
        status, body = await self.core.handle(token, method, form, files)
        return web.json_response(body, status=status)


class CoreRequest(BaseRequest):
    """A PTB request object that calls the fake's core directly (no sockets, same behaviour)."""

    def __init__(self, core: FakeBotApiCore) -> None:
        self.core = core

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout PTB adds to long polls."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        """Route ``.../bot<token>/<method>`` to the core and return (status, JSON bytes)."""
        path = url.rsplit("/bot", 1)[1]
        token, _, api_method = path.rpartition("/")
        form: dict[str, str] = {}
        files: dict[str, UploadedFile] = {}
        if request_data is not None:
            form = {k: str(v) for k, v in request_data.json_parameters.items()}
            for name, part in request_data.multipart_data.items():
                filename, content = part[0], part[1]
                mime = part[2] if len(part) > 2 else "application/octet-stream"
                data = content if isinstance(content, bytes) else content.read()
                files[name] = UploadedFile(str(filename), data, str(mime))
                form.pop(name, None)
        status, body = await self.core.handle(unquote(token), api_method, form, files)
        return status, json.dumps(body).encode()
