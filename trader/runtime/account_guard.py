"""A live database belongs to one venue account: a demo (testnet) and a real account never share one.

The first live start records which venue and which kind of account (demo or real) the database holds;
a later live start with another venue or kind stops with a clear error instead of mixing the books.
"""

from __future__ import annotations

from trader.config import ExchangeConfig
from trader.core.errors import ConfigError
from trader.ports.clock import Clock
from trader.ports.store import OpsUnitOfWorkFactory, VenueAccount


def _kind(demo: bool) -> str:
    return "demo" if demo else "real"


async def claim_account(uow_factory: OpsUnitOfWorkFactory, config: ExchangeConfig, clock: Clock) -> None:
    """Record the live venue account this database holds, or refuse a different one."""
    wanted = VenueAccount(config.name, _kind(config.demo))
    async with uow_factory() as uow:
        held = await uow.venue_account.get()
        if held is None:
            await uow.venue_account.save(wanted, clock.now())
            await uow.commit()
            return
    if held != wanted:
        raise ConfigError([
            f"database: it holds the {held.exchange} {held.kind} account; the {config.name} {wanted.kind} "
            "account needs a database of its own (set TRADER_DATABASE__URL)"])
