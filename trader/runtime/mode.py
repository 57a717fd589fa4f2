"""How a run starts: the command-line options, and which mode runs (live, paper, or the replay demo when
the exchange cannot be reached on a fresh install) with the settings the demo uses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.paper_store import DEFAULT_KEY as PAPER_STATE_KEY
from trader.config import Settings
from trader.core.errors import ExchangeUnavailable
from trader.ports.store import UnitOfWorkFactory

logger = logging.getLogger("trader.runtime.container")  # the start-up's messages keep their logger name

RunMode = Literal["live", "paper", "replay"]
REPLAY_DB = "replay.db"


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Command-line choices over the configuration: mode, replay, speed, how many candles to replay."""

    mode: Literal["paper", "live"] | None = None
    replay: bool = False
    speed: float | None = None
    max_candles: int | None = None
    probe_timeout: float = 5.0
    console: TextIO | None = None  # console alert stream (stdout when None)


async def exchange_reachable(settings: Settings, seconds: float) -> str | None:
    """Return None when the venue's public market list loads within ``seconds``, else why not."""
    probe = CcxtExchange(settings.exchange, public_only=True)
    try:
        await asyncio.wait_for(probe.markets(), seconds)
        return None
    except TimeoutError:
        return f"no answer within {seconds:g}s"
    except Exception as exc:  # any failure means "not reachable"; the caller falls back to replay
        return f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        await probe.close()


async def choose_mode(settings: Settings, options: RunOptions, *,
                      holds_account: Callable[[], Awaitable[bool]] | None = None) -> RunMode:
    """Return live, paper or replay; paper falls back to the demo replay when the exchange is unreachable.

    The fallback is for a fresh install: when ``holds_account()`` says the store already trades a paper
    account, a network outage must not turn it into a demo, so ExchangeUnavailable is raised instead.
    """
    mode = options.mode or settings.exchange.mode
    if mode == "live":
        return "live"
    if options.replay or settings.exchange.replay:
        return "replay"
    problem = await exchange_reachable(settings, options.probe_timeout)
    if problem is None:
        return "paper"
    name = settings.exchange.name
    if settings.venues:  # several accounts are never a demo: the replay runs one venue
        raise ExchangeUnavailable(f"exchange {name} is not reachable ({problem}); check the network and "
                                  "start again")
    if holds_account is not None and await holds_account():
        raise ExchangeUnavailable(
            f"exchange {name} is not reachable ({problem}); this database holds a paper account, so the "
            "demo replay is not started instead: check the network and start again, or run "
            "`tradebot run --replay` for the demo")
    logger.warning("exchange %s is not reachable (%s): falling back to REPLAY of the bundled candles "
                   "(demo: simulated clock, paper account, no real prices or orders)", name, problem)
    return "replay"


async def holds_paper_account(uow_factory: UnitOfWorkFactory) -> bool:
    """Return True when the store has a paper account or engine state (it is not a fresh install)."""
    async with uow_factory() as uow:
        return (await uow.paper_account.core(PAPER_STATE_KEY) is not None
                or await uow.engine.get() is not None)


def replay_settings(settings: Settings, *, fallback: bool = False) -> Settings:
    """Return settings for the replay demo: ``exchange.replay`` set (so /config says what runs, also
    for --replay and an automatic fallback) and the demo's own database, always for an automatic
    fallback, otherwise unless a database was configured."""
    settings = settings.model_copy(update={"exchange": settings.exchange.model_copy(update={"replay": True})})
    if "database" in settings.model_fields_set and not fallback:
        return settings
    url = f"sqlite+aiosqlite:///{Path(settings.ops.data_dir) / REPLAY_DB}"
    logger.info("the replay demo uses its own database %s, apart from any paper or live account", url)
    return settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})})
