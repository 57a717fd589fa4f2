"""Strategy plugin API, registry and built-in strategies.

``registry.create(name, params)`` builds a strategy; ``guard.GuardedStrategy`` wraps one so its
failures become StrategyError. Submodules are imported explicitly (``from trader.core.strategies import
registry``) so that importing the base API stays cheap.
"""
