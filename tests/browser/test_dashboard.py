"""The dashboard in headless Chromium (Debian's package, driven by Playwright) against a served replay.

Each page loads and shows the numbers the API returns, charts draw (a canvas with painted pixels), the
trade filter works, and the Mini App signs in with genuine init data and refuses forged, expired and
strangers' init data. Screenshots of every page go to build/screenshots/ (test artefacts).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.fixtures.live_runtime import ADMIN_ACTOR, MakeRuntime
from tests.integration.web.conftest import ApiHarness, serve
from tests.integration.web.test_miniapp_auth import ADMIN_ID, BOT_TOKEN, STRANGER_ID, init_data
from tests.unit.core.engine.test_step_pairs import open_group
from trader.config import StrategyEntry, TelegramConfig, TelegramUser
from trader.core.engine.memory import EngineMemory
from trader.services.dto import Role

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
MATCHING = "document.querySelector(\"[data-kpi='Matching trades']\")?.textContent === '{}'"
PAGES = ("dashboard", "portfolio", "performance", "holdings", "trades")

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright  # noqa: E402 - only with a browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Launch Debian's Chromium headless."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def site(make_runtime: MakeRuntime) -> AsyncIterator[ApiHarness]:
    """Serve a replay with one closed trade and one open position; the bot token signs Mini App users."""
    admin = TelegramUser(id=ADMIN_ID, role="admin")
    telegram = TelegramConfig(token=SecretStr(BOT_TOKEN), allowed_chats=(admin,))
    live = await make_runtime(telegram=telegram)
    first = await live.open_position()
    await live.runtime.services.control.close(first.id, ADMIN_ACTOR)
    await live.advance(30)
    await live.open_position()
    async for harness in serve(live):
        yield harness


async def _open(page: Page, site: ApiHarness, name: str) -> None:
    await page.goto(f"{site.base}/app/#/{name}")
    await page.wait_for_selector(f"body[data-loaded='{name}']", timeout=15_000)


async def _painted(page: Page, selector: str) -> bool:
    # lightweight-charts paints several canvases; one with a non-transparent pixel means it drew
    return bool(await page.eval_on_selector(selector, """el => [...el.querySelectorAll('canvas')].some(c => {
        if (!c.width || !c.height) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
        return false; })"""))


def _money(value: str) -> str:
    return f"{Decimal(value):,.2f}"


def _percent(fraction: str) -> str:
    return f"{Decimal(fraction) * 100:.2f} %"


async def _column(page: Page, table: str, label: str) -> list[str]:
    """Return the texts of one column (found by its header) of the table with id ``table``."""
    return list(await page.eval_on_selector(f"#{table}", """(t, label) => {
        const i = [...t.querySelectorAll('thead th')].findIndex(th => th.textContent === label);
        if (i < 0) throw new Error('no column ' + label);
        return [...t.querySelectorAll('tbody tr')].map(tr => tr.children[i].textContent); }""", label))


async def test_every_page_loads_with_the_api_numbers_and_charts(site: ApiHarness, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # phone first
    await page.goto(f"{site.base}/app/")
    await page.fill("#token", site.tokens[Role.VIEWER])
    await page.click("#login-form button")
    await page.wait_for_selector("body[data-loaded='dashboard']", timeout=15_000)
    balance = (await site.get("/balance")).json()
    assert _money(balance["equity"]) in await page.inner_text("[data-kpi='Total equity']")
    assert _money(balance["free"]) in await page.inner_text("[data-kpi='Cash']")
    assert await _painted(page, "#equity-chart")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in PAGES:
        await _open(page, site, name)
        await page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    kpis = (await site.get("/kpis")).json()
    await _open(page, site, "performance")
    assert await page.inner_text("[data-kpi='Trades']") == str(kpis["trades"])
    months = (await site.get("/performance/periods/month", count=12)).json()["rows"]
    assert await _column(page, "by-month", "Return") == [_percent(r["pnl_fraction"]) for r in months]
    await _open(page, site, "holdings")
    assert await _painted(page, "#candles-chart")
    status = (await site.get("/status")).json()
    assert status["positions"][0]["pair"] in await page.inner_text("#positions")
    shown = await _column(page, "positions", "PnL %")
    assert shown == [_percent(p["pnl_fraction"]) for p in status["positions"]]
    await page.set_viewport_size({"width": 1280, "height": 900})
    await _open(page, site, "dashboard")
    await page.screenshot(path=str(SHOTS / "dashboard-desktop.png"), full_page=True)


async def test_the_trade_filter_shows_what_the_api_returns(site: ApiHarness, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(f"{site.base}/app/")
    await page.evaluate(f"sessionStorage.setItem('token', '{site.tokens[Role.VIEWER]}')")
    await page.reload()
    await _open(page, site, "trades")
    everything = (await site.get("/trades")).json()
    assert everything["total"] >= 1
    assert await page.locator("#trades-table tbody tr").count() == len(everything["trades"])
    pair = everything["trades"][0]["pair"]
    other = "ETH/USDT" if pair != "ETH/USDT" else "BTC/USDT"
    expected = (await site.get("/trades", pair=other)).json()["total"]
    await page.fill("#trade-filters input[name=pair]", other)
    await page.click("#trade-filters button")
    await page.wait_for_function(MATCHING.format(expected))
    assert await page.locator("#trades-table tbody tr").count() == min(expected, 25)
    await page.select_option("#trade-filters select[name=outcome]", "won")
    await page.fill("#trade-filters input[name=pair]", "")
    await page.click("#trade-filters button")
    won = (await site.get("/trades", outcome="won")).json()["total"]
    await page.wait_for_function(MATCHING.format(won))


async def test_the_mini_app_signs_in_with_genuine_init_data_only(site: ApiHarness, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(f"{site.base}/app/#tgWebAppData={_quoted(init_data(ADMIN_ID))}&tgWebAppVersion=7.0")
    await page.wait_for_selector("body[data-loaded='dashboard']", timeout=15_000)
    await page.screenshot(path=str(SHOTS / "miniapp-dashboard.png"), full_page=True)
    for data, words in [(init_data(ADMIN_ID, token="999:other-bot"), "not signed"),
                        (init_data(ADMIN_ID, age=7200), "old"), (init_data(STRANGER_ID), "allow-list")]:
        refused = await browser.new_page()
        await refused.goto(f"{site.base}/app/#tgWebAppData={_quoted(data)}&tgWebAppVersion=7.0")
        await refused.wait_for_selector("#login:not([hidden])", timeout=15_000)
        assert words in await refused.inner_text("#login-error")
        assert await refused.locator("[data-kpi]").count() == 0
        await refused.close()


async def test_holdings_show_a_swap_positions_leverage_liquidation_and_funding(
        make_runtime: MakeRuntime, browser: Browser) -> None:
    live = await make_runtime((StrategyEntry(name="breakout", market="swap", leverage=3),))
    await live.open_position()
    async for site in serve(live):
        page = await browser.new_page()
        await page.goto(f"{site.base}/app/")
        await page.evaluate(f"sessionStorage.setItem('token', '{site.tokens[Role.VIEWER]}')")
        await page.reload()
        await _open(page, site, "holdings")
        await page.screenshot(path=str(SHOTS / "holdings-swap.png"), full_page=True)
        positions = (await site.get("/status")).json()["positions"]
        assert positions and all(Decimal(p["leverage"]) == 3 for p in positions)
        assert await _column(page, "positions", "Leverage") == ["3x"] * len(positions)
        shown = await _column(page, "positions", "Liquidation")
        assert shown == [str(Decimal(p["liquidation_price"]).normalize()) for p in positions]
        assert await _column(page, "positions", "Funding USDT") == [_money(p["funding"]) for p in positions]


async def test_holdings_show_open_pair_groups_leg_by_leg(site: ApiHarness, browser: Browser) -> None:
    group = open_group()
    async with site.live.uow() as uow:  # an open group as the engine keeps it in its memory document
        memory = await uow.engine.get() or EngineMemory()
        await uow.engine.save(replace(memory, groups={group.id: group}), datetime(2024, 1, 1, tzinfo=UTC))
        await uow.commit()
    page = await browser.new_page()
    await page.goto(f"{site.base}/app/")
    await page.evaluate(f"sessionStorage.setItem('token', '{site.tokens[Role.VIEWER]}')")
    await page.reload()
    await _open(page, site, "holdings")
    await page.screenshot(path=str(SHOTS / "holdings-pair-group.png"), full_page=True)
    [body] = (await site.get("/pair-groups")).json()
    assert await _column(page, "pair-groups", "Leg") == [leg["pair"] for leg in body["legs"]]
    assert await _column(page, "pair-groups", "PnL USDT") == [_money(leg["pnl"]) for leg in body["legs"]]
    assert await _column(page, "pair-groups", "Group PnL USDT") == [_money(body["pnl"]), ""]


def _quoted(data: str) -> str:
    from urllib.parse import quote
    return quote(data, safe="")
