"""Find strategies by name: the built-ins plus plugins declared under the ``trader.strategies``
entry-point group (``importlib.metadata``), and build them with validated parameters.

A plugin that fails to import, is not a Strategy subclass, or clashes with another name is not
registered; asking for it raises StrategyError with the reason, and the rest keep working.
"""

from __future__ import annotations

import difflib
import functools
import logging
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from trader.core.errors import StrategyError
from trader.core.strategies.base import Param, Strategy
from trader.core.strategies.bollinger_reversion import BollingerReversionStrategy
from trader.core.strategies.breakout import BreakoutStrategy
from trader.core.strategies.momentum import MomentumStrategy

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "trader.strategies"
BUILTINS: tuple[type[Strategy], ...] = (BreakoutStrategy, BollingerReversionStrategy, MomentumStrategy)

StrategyListing = tuple[str, str, Mapping[str, Param]]


class StrategyRegistry:
    """Registered strategy classes by name, and why any discovered plugin was refused."""

    def __init__(self, classes: Mapping[str, type[Strategy]], refused: Mapping[str, str]) -> None:
        self._classes = dict(classes)
        self._refused = dict(refused)

    @classmethod
    def discover(cls, group: str = ENTRY_POINT_GROUP) -> StrategyRegistry:
        """Return a registry of the built-ins plus every loadable plugin in the entry-point group."""
        classes: dict[str, type[Strategy]] = {s.name: s for s in BUILTINS}
        refused: dict[str, str] = {}
        for point in sorted(entry_points(group=group), key=lambda p: (p.name, p.value)):
            problem = _admit(point, classes)
            if problem:
                logger.warning("strategy plugin %s (%s) not registered: %s", point.name, point.value, problem)
                refused.setdefault(point.name, problem)
        return cls(classes, refused)

    def names(self) -> list[str]:
        """Return the registered names, sorted."""
        return sorted(self._classes)

    def refused(self) -> Mapping[str, str]:
        """Return plugin name -> reason for every discovered plugin that was not registered."""
        return dict(self._refused)

    def available(self) -> list[StrategyListing]:
        """Return (name, description, params_spec) for every registered strategy, sorted by name."""
        return [(n, self._classes[n].description, self._classes[n].params_spec) for n in self.names()]

    def get(self, name: str) -> type[Strategy]:
        """Return the class registered as ``name``; raise StrategyError with a hint if unknown."""
        found = self._classes.get(name)
        if found is not None:
            return found
        if name in self._refused:
            raise StrategyError(
                f"strategy {name!r} is installed but could not be loaded: {self._refused[name]}"
            )
        hint = difflib.get_close_matches(name, self.names(), n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        known = ", ".join(self.names())
        raise StrategyError(
            f"unknown strategy {name!r}{suggestion} (available: {known})",
            user_message=f"Unknown strategy {name!r}{suggestion}",
        )

    def create(self, name: str, params: Mapping[str, Any] | None = None) -> Strategy:
        """Return a new ``name`` strategy with ``params`` validated; raise StrategyError if invalid."""
        strategy_class = self.get(name)
        try:
            return strategy_class(**dict(params or {}))
        except StrategyError:
            raise
        except Exception as exc:  # plugin constructors are third-party code
            raise StrategyError(f"strategy {name!r} failed to start: {type(exc).__name__}: {exc}") from exc


def _admit(point: EntryPoint, classes: dict[str, type[Strategy]]) -> str | None:
    """Register the entry point's class into ``classes``, or return why it was refused."""
    if point.name in classes:
        return f"the name {point.name!r} is already taken by {classes[point.name].__module__}"
    try:
        loaded = point.load()
    except Exception as exc:  # a broken plugin must not stop the others
        return f"import failed: {type(exc).__name__}: {exc}"
    if not (isinstance(loaded, type) and issubclass(loaded, Strategy)):
        return f"{point.value} is not a trader.core.strategies.base.Strategy subclass"
    if getattr(loaded, "name", None) != point.name:
        return (
            f"entry point name {point.name!r} differs from the class's name {getattr(loaded, 'name', None)!r}"
        )
    classes[point.name] = loaded
    return None


@functools.cache
def default_registry() -> StrategyRegistry:
    """Return the registry discovered once per process (``reload`` after installing a plugin)."""
    return StrategyRegistry.discover()


def reload() -> StrategyRegistry:
    """Discover the entry points again and return the fresh default registry."""
    default_registry.cache_clear()
    return default_registry()


def available() -> list[StrategyListing]:
    """Return (name, description, params_spec) for every registered strategy."""
    return default_registry().available()


def create(name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """Return a new strategy by registered name with validated parameters (StrategyError if not)."""
    return default_registry().create(name, params)
