"""Telegram handlers: thin functions that parse arguments, call a service and format the answer."""
