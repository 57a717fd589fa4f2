"""Every service implementation handed to the bot has the methods and parameters of trader.services.api.

Add the real implementations to IMPLEMENTATIONS when they land; the check is structural (names,
parameters, async), the behaviour is covered by the Telegram end-to-end tests.
"""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest

from tests.fakes.memory_services import MemoryState, memory_services
from trader.services import api
from trader.services.api import Services

PROTOCOLS = {f.name: f.type for f in fields(Services)}
IMPLEMENTATIONS = {"memory test double": memory_services(MemoryState())}


def _protocol(name: str) -> type:
    return getattr(api, str(PROTOCOLS[name]))


@pytest.mark.parametrize("label", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("service", list(PROTOCOLS))
def test_implementation_matches_the_protocol(label: str, service: str) -> None:
    protocol = _protocol(service)
    impl = getattr(IMPLEMENTATIONS[label], service)
    for name, member in inspect.getmembers(protocol, inspect.isfunction):
        if name.startswith("_"):
            continue
        method = getattr(impl, name, None)
        assert method is not None, f"{label}.{service} lacks {name}"
        assert inspect.iscoroutinefunction(method), f"{label}.{service}.{name} must be async"
        wanted = [(p.name, p.kind) for p in inspect.signature(member).parameters.values()][1:]
        have = [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]
        assert have == wanted, f"{label}.{service}.{name}: {have} != {wanted}"
