"""Web API and dashboard timings with a year of trades in the store.

Run: .venv/bin/python bench/web_api.py [--trades-per-day 8] [--runs 200]

Builds the real runtime (replay mode over a temp SQLite file holding the bundled candles), stores a
year of closed trades (``--trades-per-day`` a day) and hourly equity snapshots, serves the web app on
uvicorn (127.0.0.1, port 0) and measures:
- ``/api/v1/status``, ``/trades``, ``/kpis`` and ``/equity`` latency through httpx (p50/p95/max);
- the dashboard's full load in headless Chromium (Debian's /usr/bin/chromium via Playwright): from
  navigation until the page has rendered its cards, charts and tables (``body[data-loaded]``), for the
  Dashboard and Trades pages (median of 5 loads each).
Targets: /api/v1/status p95 < 100 ms; dashboard load < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

import httpx  # noqa: E402

from tests.contract.store.builders import position  # noqa: E402
from tests.fixtures.live_runtime import runtime_settings  # noqa: E402
from trader.adapters.ops.health import HealthServer, Metrics  # noqa: E402
from trader.adapters.store.migrate import upgrade_async  # noqa: E402
from trader.adapters.store.sql.uow import Database  # noqa: E402
from trader.config import OpsConfig  # noqa: E402
from trader.core.domain.enums import Direction, ExitReason  # noqa: E402
from trader.core.domain.ids import PositionId, Symbol  # noqa: E402
from trader.core.positions.state import PositionStatus  # noqa: E402
from trader.ports.store import EquitySnapshot  # noqa: E402
from trader.runtime.clock import SystemClock  # noqa: E402
from trader.runtime.container import RunOptions, build_runtime  # noqa: E402
from trader.services.api_tokens import ApiTokenService  # noqa: E402
from trader.services.audit import AuditService  # noqa: E402
from trader.services.dto import Role  # noqa: E402
from trader.services.market_data import MarketDataService, sample_files  # noqa: E402
from web.api import api_extension  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def _store(url: str, per_day: int) -> int:
    await upgrade_async(url)
    db = Database.from_url(url)
    try:
        for sample in sample_files():
            if sample.name.endswith("-1h.csv.gz"):
                await MarketDataService(db.uow_factory, SystemClock()).import_csv(sample, "binance")
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=365)
        count = 0
        async with db.uow_factory() as uow:
            for day in range(365):
                for k in range(per_day):
                    opened = start + timedelta(days=day, hours=k * 24 // per_day)
                    pnl = Decimal(30 + k) if (day + k) % 3 else Decimal(-(20 + k))
                    pair = Symbol("BTC/USDT" if k % 2 else "ETH/USDT")
                    await uow.positions.save(replace(
                        position(f"bench-{day}-{k}", PositionStatus.CLOSED), symbol=pair,
                        direction=Direction.LONG, opened_at=opened, closed_at=opened + timedelta(hours=2),
                        created_at=opened, realised_pnl=pnl, exit_price=Decimal(3000) + pnl,
                        exit_reason=ExitReason.TAKE_PROFIT if pnl > 0 else ExitReason.STOP_LOSS,
                        id=PositionId(f"bench-{day}-{k}")))
                    count += 1
            equity = Decimal(10_000)
            for hour in range(365 * 24):
                equity += Decimal((hour * 7919) % 21 - 10)
                await uow.equity.add(EquitySnapshot(start + timedelta(hours=hour), "USDT", equity,
                                                    equity / 2, equity / 2))
            await uow.commit()
        return count
    finally:
        await db.dispose()


async def _latency(client: httpx.AsyncClient, url: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        resp = await client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
    return times


async def _page_loads(base: str, token: str, page_name: str, loads: int) -> list[float]:
    from playwright.async_api import async_playwright

    times = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(loads):
                context = await browser.new_context()
                await context.add_init_script(f"sessionStorage.setItem('token', '{token}')")
                page = await context.new_page()
                started = time.perf_counter()
                await page.goto(f"{base}/app/#/{page_name}")
                await page.wait_for_selector(f"body[data-loaded='{page_name}']", timeout=60_000)
                times.append((time.perf_counter() - started) * 1000)
                await context.close()
        finally:
            await browser.close()
    return times


async def main(per_day: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        trades = await _store(url, per_day)
        settings = runtime_settings(url, Path(tmp), ("breakout",), ops=OpsConfig(health_enabled=False,
                                                                                   data_dir=tmp))
        runtime = await build_runtime(settings, RunOptions(replay=True, speed=1e9))
        assert runtime.web is not None
        clock = SystemClock()
        uow = runtime.lifecycle.parts.uow_factory
        token = (await ApiTokenService(uow, clock, AuditService(uow, clock)).create(
            "bench", Role.VIEWER, "bench")).token
        server = HealthServer(OpsConfig(health_port=0), Metrics(), extensions=(api_extension(runtime.web),))
        await server.start()
        base = f"http://127.0.0.1:{server.port}"
        try:
            print(f"store: {trades} closed trades over 365 days, {365 * 24} hourly equity snapshots (SQLite)")
            print(f"{'endpoint':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                for path, n in (("/api/v1/status", runs), ("/api/v1/trades?page_size=25", max(runs // 10, 5)),
                                ("/api/v1/kpis", max(runs // 20, 5)), ("/api/v1/equity", max(runs // 20, 5))):
                    await client.get(base + path)  # warm caches and imports
                    t = await _latency(client, base + path, n)
                    print(f"{path:<34} {statistics.median(t):8.1f} {percentile(t, 0.95):8.1f} {max(t):8.1f}")
            print(f"{'dashboard page (Chromium)':<34} {'median ms':>9} {'max ms':>8}")
            for name in ("dashboard", "trades"):
                loads = await _page_loads(base, token, name, 5)
                print(f"{'/app/#/' + name:<34} {statistics.median(loads):9.0f} {max(loads):8.0f}")
        finally:
            await server.stop()
            await runtime.lifecycle.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades-per-day", type=int, default=8)
    parser.add_argument("--runs", type=int, default=200)
    ns = parser.parse_args()
    asyncio.run(main(ns.trades_per_day, ns.runs))
