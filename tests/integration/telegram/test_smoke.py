from decimal import Decimal

from tests.fakes.fake_botapi.harness import BotHarness


async def test_status_lists_open_position(telegram_bot: BotHarness, memory_state) -> None:
    memory_state.open_position("BTC/USDT", Decimal("0.01"), Decimal(59_000), stop=Decimal(58_000))
    reply = await telegram_bot.send("/status")
    assert "BTC/USDT" in reply.text
    assert reply.params["parse_mode"] == "HTML"
