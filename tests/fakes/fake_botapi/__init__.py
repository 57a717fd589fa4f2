"""Fake Telegram Bot API: inject updates and button presses, read what the bot sent, inject errors."""

from tests.fakes.fake_botapi.core import (
    BOT_ID,
    BOT_USERNAME,
    TOKEN,
    BotApiError,
    BotCall,
    FakeBotApiCore,
    UploadedFile,
)
from tests.fakes.fake_botapi.server import CoreRequest, FakeBotApiServer

__all__ = ["BOT_ID", "BOT_USERNAME", "TOKEN", "BotApiError", "BotCall", "CoreRequest", "FakeBotApiCore",
           "FakeBotApiServer", "UploadedFile"]
