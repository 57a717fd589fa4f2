"""Run an aiohttp app on 127.0.0.1:<ephemeral> in a background thread with its own event loop.

A thread (not the test's loop) so that synchronous code under test, such as a CLI calling
``asyncio.run``, can talk to the fake as well as async tests can.
"""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class ServerThread:
    """Start/stop an aiohttp application in a daemon thread; ``base_url`` once started."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fake-venue")
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:<port>."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        """Bind the ephemeral port and serve."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, handler_cancellation=True,
                                     shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Shut the server down and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
