"""The `tradebot` console script (argparse): one module per command group, listed in COMMAND_MODULES.

A command function takes the parsed args and returns an exit code (or a coroutine returning one).
TraderError becomes a plain message on stderr; ConfigError exits with code 2; a closed stdout (piped
into ``head``) ends the command quietly with the shell's SIGPIPE code 141. Every message printed
here passes the secret redactor (an error text may quote a token or a key).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import os
import sys
from collections.abc import Sequence

from trader import __version__
from trader.core.errors import ConfigError, RetryableError, StoreError, TraderError
from trader.runtime.offline import explain_store_failure, redact

# Each module exposes register(subparsers). Add new command groups here, one line each.
COMMAND_MODULES: tuple[str, ...] = (
    "trader.cli.config_cmd",
    "trader.cli.exchanges_cmd",
    "trader.cli.secrets_cmd",
    "trader.cli.audit_cmd",
    "trader.cli.report_cmd",
    "trader.cli.db_cmd",
    "trader.cli.data_cmd",
    "trader.cli.backtest_cmd",
    "trader.cli.backtests_cmd",
    "trader.cli.drift_cmd",
    "trader.cli.strategies_cmd",
    "trader.cli.optimise_cmd",
    "trader.cli.bias_cmd",
    "trader.cli.pairs_cmd",
    "trader.cli.run_cmd",
    "trader.cli.api_cmd",
    "trader.cli.ctl_cmd",
    "trader.cli.portfolio_cmd",
)


def build_parser(only: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Return the top-level parser with every command group (or only the modules in ``only``) registered."""
    parser = argparse.ArgumentParser(prog="tradebot", description="Telegram-controlled crypto trader")
    parser.add_argument("--version", action="version", version=f"tradebot {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (env vars override it)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if only is None or name in only:
            importlib.import_module(name).register(sub)
    return parser


def _command_module(argv: Sequence[str]) -> str | None:
    """Return the module of the command named in ``argv`` when it follows the <command>_cmd naming.

    Importing only that module keeps every command's start-up free of the others' heavy imports
    (ccxt alone takes seconds); anything unusual falls back to registering every module.
    """
    args = iter(argv)
    for arg in args:
        if arg == "--config":
            next(args, None)
        elif not arg.startswith("-"):
            module = f"trader.cli.{arg}_cmd"
            return module if module in COMMAND_MODULES else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    try:
        return _main(argv)
    except BrokenPipeError:  # any command, --help included, piped into `head`
        return _reader_went_away()


def _main(argv: Sequence[str] | None) -> int:
    from trader.runtime.loading import modules_loading
    from trader.runtime.numba_cache import ensure_numba_cache

    ensure_numba_cache()  # before any command imports the backtest kernels (numba decorates on import)
    module = _command_module(sys.argv[1:] if argv is None else argv)
    with modules_loading():  # the command's module and its imports: no garbage to collect yet
        parser = build_parser(only=None if module is None else (module,))
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help and usage errors print, then exit: flush while we can catch
        sys.stdout.flush()
        raise done from None
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        sys.stdout.flush()
        return 2
    try:
        result = func(args)
        if inspect.isawaitable(result):
            result = asyncio.run(result)  # type: ignore[arg-type]
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return int(result or 0)
    except ConfigError as exc:
        print_error(str(exc))
        return 2
    except RetryableError:  # its user message promises a retry; the command has ended
        print_error(f"error: {NOT_ANSWERING}")
        return 1
    except TraderError as exc:
        explained = _store_failure(exc) if isinstance(exc, StoreError) else None
        print_error(f"error: {(explained or exc).user_message}")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        explained = _store_failure(exc)
        if explained is None:
            raise
        print_error(f"error: {explained.user_message}")
        return 1


NOT_ANSWERING = ("the exchange did not answer (network down, venue unreachable or rate-limited): check the "
                 "connection and run the command again")


def _store_failure(exc: BaseException) -> TraderError | None:
    """Return the one-line explanation of a database failure (read-only, full, corrupt, unreachable)."""
    return explain_store_failure(exc)


SIGPIPE_EXIT = 128 + 13  # what a shell reports for a process ended by SIGPIPE, like `head`'s writers


def _reader_went_away() -> int:
    """End quietly when the reader of stdout closed it (``tradebot data list | head``).

    Python would report the pending output again while flushing at exit, so stdout is pointed at
    /dev/null first (the recipe of the Python signal module docs).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return SIGPIPE_EXIT


def print_error(text: str) -> None:
    """Print ``text`` on stderr with every known secret redacted."""
    print(redact(text), file=sys.stderr)
