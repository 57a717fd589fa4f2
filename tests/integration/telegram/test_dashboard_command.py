"""/dashboard answers with a Mini App (web_app) button and the chats' menu buttons open the dashboard."""

from __future__ import annotations

from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import ADMIN, VIEWER, running_bot
from tests.fakes.memory_services import memory_services
from tests.fakes.memory_services.state import MemoryState

URL = "https://bot.example.org"


async def test_dashboard_sends_a_web_app_button_and_sets_the_menu_button(
        fake_botapi: FakeBotApiCore, memory_state: MemoryState) -> None:
    async with running_bot(fake_botapi, memory_services(memory_state), dashboard_url=URL) as bot:
        reply = await bot.send("/dashboard", chat_id=VIEWER)
        [[button]] = reply.params["reply_markup"]["inline_keyboard"]
        assert button["web_app"] == {"url": f"{URL}/app/"}
        menus = {c.params["chat_id"]: c.params["menu_button"] for c in bot.fake.calls
                 if c.method == "setChatMenuButton"}
        assert menus[ADMIN] == {"type": "web_app", "text": "Dashboard", "web_app": {"url": f"{URL}/app/"}}
        assert VIEWER in menus


async def test_dashboard_without_a_public_url_says_how_to_publish_it(
        fake_botapi: FakeBotApiCore, memory_state: MemoryState) -> None:
    async with running_bot(fake_botapi, memory_services(memory_state)) as bot:
        reply = await bot.send("/dashboard", chat_id=ADMIN)
        assert "TRADER_WEB__PUBLIC_URL" in reply.shown and not reply.buttons
        assert not [c for c in bot.fake.calls if c.method == "setChatMenuButton"]
