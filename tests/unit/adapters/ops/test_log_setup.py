"""Structured logging: a planted secret never reaches any output; JSON lines; rotation."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trader.adapters.ops.log_setup import REDACTED, SecretRedactor, configure_logging, secret_values
from trader.config import LoggingConfig, load_settings

TOKEN = "123456:PLANTED-telegram-token-xyz"
API_SECRET = "planted-api-secret-0b1c2d3e"
STORED = "stored-secret-from-the-store-77"


@pytest.fixture(autouse=True)
def _restore_root_logging(restore_root_logging: None) -> None:
    """Every test here configures the root logger; undo it afterwards."""


def _emit_everything(logger: logging.Logger) -> None:
    logger.info("token is %s", TOKEN)
    logger.warning("inline secret %s and %r", API_SECRET, {"key": API_SECRET})
    logger.info("GET https://api.telegram.org/bot%s/getUpdates", TOKEN)
    logger.info("stored %s", STORED)
    logger.info("extra field", extra={"request": f"Bearer {API_SECRET}", "payload": {"k": STORED}})
    try:
        raise RuntimeError(f"auth failed with key {API_SECRET}")
    except RuntimeError:
        logger.exception("exchange call failed for %s", TOKEN)
    logger.info("with stack %s", STORED, stack_info=True)


@pytest.mark.parametrize("json_format", [False, True])
def test_planted_secrets_never_reach_the_log_file(tmp_path: Path, json_format: bool) -> None:
    settings = load_settings(telegram={"token": TOKEN}, exchange={"api_secret": API_SECRET})
    log_file = tmp_path / "logs" / "trader.log"
    config = LoggingConfig(json_format=json_format, file=str(log_file))
    redactor = configure_logging(config, secret_values(settings))
    redactor.add(STORED)

    _emit_everything(logging.getLogger("trader.test"))
    for h in logging.getLogger().handlers:
        h.flush()

    text = log_file.read_text(encoding="utf-8")
    for secret in (TOKEN, API_SECRET, STORED):
        assert secret not in text
    assert text.count(REDACTED) >= 8
    assert "RuntimeError" in text  # the exception is still there, only the secret is gone
    if json_format:
        records = [json.loads(line) for line in text.splitlines()]
        assert {r["level"] for r in records} == {"INFO", "WARNING", "ERROR"}
        assert any("exc" in r and "Traceback" in r["exc"] for r in records)
        assert any(r.get("request") == f"Bearer {REDACTED}" for r in records)


def test_secret_values_finds_nested_and_tuple_secrets() -> None:
    settings = load_settings(
        telegram={"token": TOKEN}, notify={"apprise_urls": ["mailto://user:pw123456@example.org"]}
    )
    found = secret_values(settings)
    assert TOKEN in found
    assert "mailto://user:pw123456@example.org" in found
    assert "pw123456" in found  # the password alone, as apprise logs URLs in its own spelling
    assert len(found) == 3


def test_database_password_in_a_plain_url_is_treated_as_secret(tmp_path: Path) -> None:
    settings = load_settings(database={"url": "postgresql+asyncpg://trader:s3cr%40t-pg-pass@db:5432/trader"})
    found = secret_values(settings)
    assert "s3cr@t-pg-pass" in found
    assert "s3cr%40t-pg-pass" in found
    log_file = tmp_path / "t.log"
    configure_logging(LoggingConfig(file=str(log_file)), found)
    logging.getLogger("trader.test").warning("cannot connect to %s", settings.database.url)
    text = log_file.read_text()
    assert "s3cr" not in text
    assert "postgresql+asyncpg://trader:[REDACTED]@db:5432/trader" in text


def test_short_values_are_not_registered_so_words_survive() -> None:
    redactor = SecretRedactor(["abc", "", "long-enough-secret"])
    assert redactor.count == 1
    assert redactor.redact("abc long-enough-secret") == f"abc {REDACTED}"


def test_overlapping_secrets_leave_no_fragment() -> None:
    redactor = SecretRedactor(["secret-part", "secret-part-and-more"])
    assert redactor.redact("x secret-part-and-more y") == f"x {REDACTED} y"


def test_stream_handler_redacts_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LoggingConfig(), [API_SECRET])
    logging.getLogger("trader.test").error("oops %s", API_SECRET)
    err = capsys.readouterr().err
    assert API_SECRET not in err
    assert f"oops {REDACTED}" in err


def test_file_rotates_and_keeps_the_configured_backups(tmp_path: Path) -> None:
    log_file = tmp_path / "trader.log"
    configure_logging(LoggingConfig(file=str(log_file), max_bytes=2_000, backups=2))
    logger = logging.getLogger("trader.test")
    for i in range(200):
        logger.info("line %05d %s", i, "x" * 40)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["trader.log", "trader.log.1", "trader.log.2"]
    assert log_file.stat().st_size <= 2_000
    assert "line 00199" in log_file.read_text()


def test_reconfiguring_replaces_our_handler_instead_of_stacking(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging(LoggingConfig())
    configure_logging(LoggingConfig(json_format=True))
    assert len(root.handlers) == before + 1


@given(
    secrets=st.lists(st.text(alphabet="ab[]REDACT", min_size=6, max_size=12), min_size=1, max_size=4),
    text=st.text(alphabet="ab[]REDACT ", max_size=80),
)
def test_no_registered_secret_survives_redaction(secrets: list[str], text: str) -> None:
    redactor = SecretRedactor(secrets)
    planted = text + secrets[0] + text + secrets[-1]
    out = redactor.redact(planted)
    registered = [s for s in secrets if s not in REDACTED]
    assert not any(s in out for s in registered)


def test_marker_fragments_are_not_registered_as_secrets() -> None:
    redactor = SecretRedactor(["REDACT", "EDACTED]"])
    assert redactor.count == 0


# ── every other path that prints: uncaught exceptions, threads, asyncio, the CLI's printer ──────────


def _configured(tmp_path: Path) -> SecretRedactor:
    """Log to a file (so stderr holds only what the hooks print) with TOKEN known; STORED added later."""
    redactor = configure_logging(LoggingConfig(file=str(tmp_path / "t.log")), [TOKEN])
    redactor.add(STORED)  # as the decrypted secret store does after start-up
    return redactor


def _invalid_token_error() -> BaseException:
    from telegram.error import InvalidToken

    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server. (stored: {STORED})")
    except InvalidToken as exc:
        return exc


def test_an_uncaught_exception_is_printed_redacted(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    _configured(tmp_path)
    exc = _invalid_token_error()
    sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "InvalidToken" in err and "was rejected" in err and REDACTED in err
    assert TOKEN not in err and STORED not in err


def test_an_exception_in_a_thread_is_printed_redacted(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    _configured(tmp_path)
    hook = threading.excepthook  # ours, called directly: pytest captures real thread exceptions itself
    thread = threading.Thread(name="poller")
    args = threading.ExceptHookArgs([RuntimeError, RuntimeError(f"key {TOKEN}"), None, thread])
    hook(args)
    err = capsys.readouterr().err
    assert "poller" in err and REDACTED in err and TOKEN not in err


async def test_asyncio_exception_handler_redacts_the_task_exception(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from trader.adapters.ops.log_setup import asyncio_exception_handler

    _configured(tmp_path)
    stream = logging.StreamHandler()  # someone else's handler on stderr: must see no secret either
    logging.getLogger().addHandler(stream)
    try:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(asyncio_exception_handler)
        loop.call_exception_handler({"message": f"Task exception was never retrieved ({STORED})",
                                     "exception": _invalid_token_error()})
    finally:
        logging.getLogger().removeHandler(stream)
        loop.set_exception_handler(None)
    err = capsys.readouterr().err
    log = (tmp_path / "t.log").read_text()
    assert "was rejected" in log and "never retrieved" in log
    for text in (err, log):
        assert TOKEN not in text and STORED not in text


def test_the_cli_error_printer_redacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trader.cli import print_error

    _configured(tmp_path)
    print_error(f"error: the venue refused key {STORED} for bot {TOKEN}")
    err = capsys.readouterr().err
    assert err.startswith("error: the venue refused key") and TOKEN not in err and STORED not in err
