"""Structured logging: text or JSON lines, size-based rotation, and a filter that redacts secrets.

The redactor runs when a record is created (a LogRecord factory) and again in our handler. It works on
the finished record (message with its arguments merged, exception and stack
text), so a secret passed as a %-argument, inside an exception message or in a third-party URL (the
Telegram token sits in every Bot API URL httpx logs) never reaches a handler. Rotation is the
standard library's ``RotatingFileHandler``.

Logging is not the only way text leaves the process: ``configure_logging`` also installs the redactor
on ``sys.excepthook`` and ``threading.excepthook`` (an uncaught exception, e.g. PTB's ``InvalidToken``
quoting the token), and ``asyncio_exception_handler`` is set on the event loop by ``bot.py``. The CLI's
error printer uses ``redact``. The redactor is process-wide on purpose: so are those hooks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, SecretStr

from trader.config import LoggingConfig

REDACTED: Final = "[REDACTED]"
MIN_SECRET_LENGTH: Final = 6  # shorter values would blank out ordinary words
_MAX_PASSES: Final = 4
_OURS: Final = "_trader_handler"
_TEXT_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else was passed through ``extra=`` and goes into JSON.
_STANDARD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_NOISY_LOGGERS: Final = ("httpx", "httpcore", "apscheduler.executors.default", "aiosqlite", "apprise")


class SecretRedactor(logging.Filter):
    """Replace every registered secret value in a record by ``[REDACTED]``; never drops records."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._ordered: list[str] = []
        self.add(*secrets)

    def add(self, *values: str) -> None:
        """Register secret values (values shorter than MIN_SECRET_LENGTH are ignored)."""
        for value in values:
            if value and len(value) >= MIN_SECRET_LENGTH and value not in REDACTED:
                self._secrets.add(value)
        self._ordered = sorted(self._secrets, key=len, reverse=True)

    @property
    def count(self) -> int:
        """Return how many secret values are registered."""
        return len(self._secrets)

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret replaced; longest first so overlaps vanish."""
        for _ in range(_MAX_PASSES):
            hits = [s for s in self._ordered if s in text]
            if not hits:
                return text
            for secret in hits:
                text = text.replace(secret, REDACTED)
        # A replacement kept forming new matches with the marker: drop the whole text instead.
        return REDACTED if any(s in text for s in self._ordered) else text

    def filter(self, record: logging.LogRecord) -> bool:
        """Merge the arguments into the message, then redact message, exception and stack text."""
        if not self._secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            # ``extra=`` fields reach the JSON output; containers are flattened to text so nothing hides.
            if key not in _STANDARD_ATTRS and not isinstance(value, bool | int | float | None):
                setattr(record, key, self.redact(value if isinstance(value, str) else repr(value)))
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line: ts, level, logger, message, exc, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line for ``record``."""
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        return json.dumps(payload, default=str, ensure_ascii=False)


def secret_values(model: BaseModel) -> list[str]:
    """Return every SecretStr value in ``model`` and every password inside a URL, without repeats."""
    found: list[str] = []
    _collect(model, found)
    return list(dict.fromkeys(found))


def _collect(value: Any, found: list[str]) -> None:
    if isinstance(value, SecretStr):
        if secret := value.get_secret_value():
            found.append(secret)
            found.extend(_url_password(secret))
    elif isinstance(value, str):
        found.extend(_url_password(value))  # e.g. the PostgreSQL password inside database.url
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect(getattr(value, name), found)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)


def _url_password(text: str) -> list[str]:
    if "://" not in text or "@" not in text:
        return []
    try:
        password = urlsplit(text).password
    except ValueError:
        return []
    return [unquote(password), password] if password else []


_active: SecretRedactor | None = None  # the one the hooks use; secrets added later are covered too


def redact(text: str) -> str:
    """Return ``text`` with every secret this process registered replaced (as is before logging is set up)."""
    return _active.redact(text) if _active is not None else text


def _redacted_excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, exc, tb))))
    sys.stderr.flush()


def _redacted_thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    where = f"Exception in thread {args.thread.name if args.thread else '?'}:\n"
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(redact(where + text))
    sys.stderr.flush()


def asyncio_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Log what asyncio reports (a task's unretrieved exception, a callback error) with secrets redacted.

    The exception is formatted here, not passed as ``exc_info``: a handler configured by someone else
    must not format it again from the raw object.
    """
    parts = [str(context.get("message") or "unhandled exception in the event loop")]
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        parts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
    for key in ("task", "future", "handle"):
        if key in context:
            parts.append(f"{key}: {context[key]!r}")
    logging.getLogger("asyncio").error("%s", redact("\n".join(parts)))


def install_redaction(redactor: SecretRedactor) -> None:
    """Make ``redactor`` the process-wide one: ``redact``, ``sys.excepthook`` and ``threading.excepthook``."""
    global _active  # noqa: PLW0603 -- the hooks it feeds are process-wide too
    _active = redactor
    sys.excepthook = _redacted_excepthook
    threading.excepthook = _redacted_thread_hook


def configure_logging(config: LoggingConfig, secrets: Iterable[str] = ()) -> SecretRedactor:
    """Install our handlers on the root logger (replacing earlier ones) and return the redactor.

    Register secrets found later (the decrypted secret store) with ``redactor.add(...)``.
    """
    redactor = SecretRedactor(secrets)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    handler = _build_handler(config)
    handler.setFormatter(JsonFormatter() if config.json_format else logging.Formatter(_TEXT_FORMAT))
    handler.addFilter(redactor)
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    logging.setLogRecordFactory(_RedactingRecordFactory(redactor, logging.getLogRecordFactory()))
    root.setLevel(config.level)
    for name in _NOISY_LOGGERS:  # request lines at INFO would flood the log, one per poll
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Alembic says "Context impl SQLiteImpl" and each step at INFO on every start; the store logs one line
    # when the schema changes. Alembic's own lines remain for a DEBUG run.
    logging.getLogger("alembic").setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)
    logging.captureWarnings(True)
    install_redaction(redactor)
    return redactor


class _RedactingRecordFactory:
    """Redact every record as it is created, so handlers added by others never see a secret either."""

    def __init__(self, redactor: SecretRedactor, current: Callable[..., logging.LogRecord]) -> None:
        self.redactor = redactor
        # Reconfiguring replaces our earlier factory instead of wrapping it again.
        self.base: Callable[..., logging.LogRecord] = (
            current.base if isinstance(current, _RedactingRecordFactory) else current
        )

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        self.redactor.filter(record)
        return record


def _build_handler(config: LoggingConfig) -> logging.Handler:
    if config.file is None:
        return logging.StreamHandler(sys.stderr)
    path = Path(config.file)
    path.parent.mkdir(parents=True, exist_ok=True)
    return RotatingFileHandler(path, maxBytes=config.max_bytes, backupCount=config.backups, encoding="utf-8")
