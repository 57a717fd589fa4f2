"""Local RSS/Atom feeds for the news tests: a valid RSS 2.0 feed, a valid Atom feed, garbage, a slow
feed and a failing one, each at its own path of one server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from aiohttp import web

from tests.fakes.fake_exchange.server import ServerThread

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fake Coin News</title><link>https://news.example/</link>
<item><title>Bitcoin tops $100,000 as ETF inflows climb</title><link>https://news.example/btc-100k</link>
<guid>https://news.example/btc-100k</guid><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate>
<description>BTC and ETH both rose.</description></item>
<item><title>Solana network upgrade ships</title><link>https://news.example/sol-upgrade</link>
<pubDate>Mon, 02 Mar 2026 09:30:00 GMT</pubDate></item>
<item><title>A solution for nearly everything</title><link>https://news.example/other</link>
<pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Fake Atom Desk</title>
<entry><title>Ethereum devs set date for next fork</title><link href="https://atom.example/eth-fork"/>
<id>urn:uuid:1</id><updated>2026-03-02T11:00:00Z</updated></entry>
<entry><title>Bitcoin tops $100,000 as ETF inflows climb</title><link href="https://news.example/btc-100k"/>
<id>urn:uuid:2</id><updated>2026-03-02T08:05:00Z</updated></entry>
</feed>"""


async def _text(body: str, content_type: str = "application/rss+xml") -> web.Response:
    return web.Response(text=body, content_type=content_type)


def start_fake_feeds(slow_seconds: float = 3.0) -> ServerThread:
    """Serve /rss, /atom, /garbage, /slow and /broken on an ephemeral port."""
    async def rss(_: web.Request) -> web.Response:
        return await _text(RSS)

    async def atom(_: web.Request) -> web.Response:
        return await _text(ATOM, "application/atom+xml")

    async def garbage(_: web.Request) -> web.Response:
        return await _text("<html><body>not a feed <b>at all</body>", "text/html")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(slow_seconds)
        return await _text(RSS)

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=500, text="oops")

    app = web.Application()
    for path, handler in (("/rss", rss), ("/atom", atom), ("/garbage", garbage), ("/slow", slow),
                          ("/broken", broken)):
        app.router.add_get(path, handler)
    return ServerThread(app).start()


def running_feeds() -> Iterator[ServerThread]:
    """Yield a started feed server and stop it afterwards."""
    server = start_fake_feeds()
    try:
        yield server
    finally:
        server.stop()
