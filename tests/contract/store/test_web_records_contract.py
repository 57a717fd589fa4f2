"""Contract: API tokens (hashed, unique names, revocation) and webhook signal receipts (idempotent)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.contract.store.builders import T0
from trader.core.errors import StoreError
from trader.ports.store import UnitOfWorkFactory
from trader.ports.web_records import ApiTokenRecord, SignalReceipt


async def test_tokens_are_found_by_hash_and_name_and_names_are_unique(uow_factory: UnitOfWorkFactory) -> None:
    token = ApiTokenRecord("ci", "viewer", "a" * 64, T0)
    async with uow_factory() as uow:
        token_id = await uow.api_tokens.add(token)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.api_tokens.by_hash("a" * 64) == replace(token, id=token_id)
        assert await uow.api_tokens.by_name("ci") == replace(token, id=token_id)
        assert await uow.api_tokens.by_hash("b" * 64) is None
        with pytest.raises(StoreError):
            await uow.api_tokens.add(ApiTokenRecord("ci", "admin", "c" * 64, T0))


async def test_revoke_marks_the_token_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.api_tokens.add(ApiTokenRecord("ops", "admin", "d" * 64, T0))
        await uow.api_tokens.add(ApiTokenRecord("view", "viewer", "e" * 64, T0))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.api_tokens.revoke("ops", T0 + timedelta(hours=1))
        assert not await uow.api_tokens.revoke("ops", T0 + timedelta(hours=2))
        assert not await uow.api_tokens.revoke("nobody", T0)
        await uow.commit()
    async with uow_factory() as uow:
        tokens = await uow.api_tokens.all()
    assert [(t.name, t.active) for t in tokens] == [("ops", False), ("view", True)]
    assert tokens[0].revoked_at == T0 + timedelta(hours=1)


async def test_signal_receipts_are_unique_per_source_and_key(uow_factory: UnitOfWorkFactory) -> None:
    receipt = SignalReceipt("tv", "k1", T0, "BTC/USDT", "buy", "received")
    async with uow_factory() as uow:
        assert await uow.signals.add(receipt)
        assert not await uow.signals.add(replace(receipt, pair="ETH/USDT"))
        assert await uow.signals.add(replace(receipt, source="other"))
        await uow.commit()
    done = replace(receipt, outcome="accepted", position_ids=("p1",))
    async with uow_factory() as uow:
        await uow.signals.update(done)
        with pytest.raises(StoreError):
            await uow.signals.update(replace(done, key="never"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.signals.get("tv", "k1") == done
        assert await uow.signals.get("tv", "k2") is None
