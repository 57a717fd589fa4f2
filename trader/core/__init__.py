"""The core: domain model, indicators, strategies, risk, positions, ``engine.step``, the simulator,
backtests, analytics and optimisation. Pure: no I/O, no clock, no vendor library (import-linter)."""
