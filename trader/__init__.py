"""Telegram-controlled crypto trading service; importing this package has no side effects."""

__version__ = "0.1.0"
