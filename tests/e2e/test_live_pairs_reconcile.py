"""Start-up reconciliation of an open pair group, live mode through real ccxt and the fake Binance venue
(spot dialect, real SQLite): both legs where the group says are a clean start; a leg whose coins vanished
from the account (or only part of them) is reported in plain words, the group is kept as it was and new
entries stay blocked until an admin acknowledges, as for a single position whose coins vanished."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.e2e.live_harness import T0
from tests.e2e.test_live_pairs import ETH, fake, service  # noqa: F401 - ``fake`` is a fixture
from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.core.engine.events import GroupOpened
from trader.core.positions.pair_group import GroupStatus
from trader.live.reconcile import Reconciler, ReconcileReport
from trader.runtime.clock import SimClock


async def _restart_and_reconcile(venue: FakeExchange,
                                 url: str) -> tuple[ReconcileReport, dict[str, Any], str]:
    """Return a new process's reconciliation report, its groups and its entry block."""
    db = Database.from_url(url)
    trading, exchange = service(venue, db, SimClock(T0))
    try:
        report = await Reconciler(trading.runner, [ETH, "BTC/USDT"]).run()
        state = await trading.engine_state()
        return report, dict(state.groups), state.entries_blocked
    finally:
        await exchange.close()
        await db.dispose()


async def test_a_leg_missing_on_the_venue_is_reported_and_blocks_entries(fake: FakeExchange,  # noqa: F811
                                                                       tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/live.db"
    await upgrade_async(url)
    db = Database.from_url(url)
    trading, exchange = service(fake, db, SimClock(T0))
    try:
        [report] = await trading.run_ticks("pairs", [ETH], "1h")
        [opened] = [e for e in report.events if isinstance(e, GroupOpened)]
        groups = dict((await trading.engine_state()).groups)
    finally:
        await exchange.close()
        await db.dispose()
    group = opened.group
    held = group.group.legs[0].held
    # both legs where the group says: nothing to report
    clean, after, blocked = await _restart_and_reconcile(fake, url)
    assert clean.clean and clean.differences == () and blocked == "" and after == groups

    venue = fake.venue
    with venue.lock:  # part of the ETH leg leaves the account outside the bot
        venue.free["ETH"] = held / 2
    partial, after, blocked = await _restart_and_reconcile(fake, url)
    [difference] = partial.unresolved
    assert difference.kind == "group_leg_mismatch"
    assert difference.detail.startswith(f"pair group {group.id}: its y leg ETH/USDT (long {held}) does not "
                                        f"match the venue: what the bot holds there adds up to {held} but "
                                        f"the account holds {held / 2} ETH")
    assert "new entries stay blocked until an admin acknowledges" in difference.detail
    assert blocked and after == groups and after[group.id].group.status is GroupStatus.OPEN

    with venue.lock:  # all of it
        venue.free["ETH"] = Decimal(0)
    missing, after, blocked = await _restart_and_reconcile(fake, url)
    [difference] = missing.unresolved
    assert difference.detail.startswith(f"pair group {group.id}: its y leg ETH/USDT (long {held}) is missing "
                                        "on the venue (the account holds 0 ETH)")
    assert blocked and after == groups  # the group is left as it is, as a single position would be
    assert "OPEN group_leg_mismatch: pair group" in missing.summary()
    # an admin looks and acknowledges: entries are allowed again
    db = Database.from_url(url)
    trading, exchange = service(fake, db, SimClock(T0))
    try:
        reconciler = Reconciler(trading.runner, [ETH, "BTC/USDT"])
        assert not (await reconciler.run()).clean
        await reconciler.acknowledge("admin")
        assert (await trading.engine_state()).entries_blocked == ""
    finally:
        await exchange.close()
        await db.dispose()
